"""Exercise 06's checks: interpolation (now the contract of ``vae_course.latent.interpolate``,
linear and spherical), the anomaly score, AUROC and the attribute vector. Solutions pass, stubs
are "not implemented", each wrong implementation gets its own diagnosis, alternatives pass."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score

from exercise_loader import each_alternative_passes, each_mistake_is_named, run
from vae_course.checks import FAIL
from vae_course.latent import attribute_vector as course_attribute_vector
from vae_course.latent import interpolate as course_interpolate
from vae_course.metrics import auroc as course_auroc

NAMES = ["interpolate", "anomaly_score", "auroc", "attribute_vector"]


# --------------------------------------------------------------------------- interpolate


def _t(a, steps):
    return torch.linspace(0, 1, steps, dtype=a.dtype).unsqueeze(1)


def _slerp(a, b, t, normalise=False, cos_angle=False, divide=True, sines=True):
    if normalise:
        a, b = a / a.norm(), b / b.norm()
    cos = (a @ b / (a.norm() * b.norm())).clamp(-1, 1)
    omega = cos if cos_angle else torch.arccos(cos)
    w = torch.sin if sines else torch.cos
    out = w((1 - t) * omega) * a + w(t * omega) * b
    return out / torch.sin(omega) if divide else out


def _interp(linear=None, spherical=None):
    def f(a, b, steps=10, method="linear"):
        t = _t(a, steps)
        if method == "linear":
            return linear(a, b, t) if linear else (1 - t) * a + t * b
        return spherical(a, b, t) if spherical else _slerp(a, b, t)
    return f


INTERP_WRONG = {
    "interp.endpoints_swapped": _interp(linear=lambda a, b, t: (1 - t) * b + t * a),
    "interp.end_excluded": lambda a, b, steps=10, method="linear": (
        lambda t: (1 - t) * a + t * b)(torch.arange(steps, dtype=a.dtype)[:, None] / steps),
    "interp.start_excluded": lambda a, b, steps=10, method="linear": (
        lambda t: (1 - t) * a + t * b)(torch.arange(1, steps + 1, dtype=a.dtype)[:, None]
                                       / steps),
    "interp.endpoints_excluded": lambda a, b, steps=10, method="linear": (
        lambda t: (1 - t) * a + t * b)(torch.linspace(0, 1, steps + 2, dtype=a.dtype)
                                       [1:-1, None]),
    "interp.weights_not_summing_to_one": _interp(linear=lambda a, b, t: a + t * b),
    "interp.midpoint_only": _interp(linear=lambda a, b, t: ((a + b) / 2).expand(len(t), -1)),
    "interp.transposed": lambda a, b, steps=10, method="linear": _interp()(a, b, steps, method).T,
    "interp.wrong_count": lambda a, b, steps=10, method="linear": _interp()(a, b, steps + 1,
                                                                            method),
    "interp.default_not_linear": lambda a, b, steps=10, method="spherical": _interp()(
        a, b, steps, method),
    "interp.spherical_is_linear": lambda a, b, steps=10, method="linear": _interp()(a, b, steps),
    "interp.slerp_unit_vectors": _interp(spherical=lambda a, b, t: _slerp(a, b, t,
                                                                          normalise=True)),
    "interp.slerp_no_arccos": _interp(spherical=lambda a, b, t: _slerp(a, b, t,
                                                                       cos_angle=True)),
    "interp.slerp_not_divided": _interp(spherical=lambda a, b, t: _slerp(a, b, t, divide=False)),
    "interp.slerp_cos_weights": _interp(spherical=lambda a, b, t: _slerp(a, b, t, sines=False)),
    # right values, gradient cut: a linspace rebuilt from numbers ...
    "grad.no_graph": _interp(linear=lambda a, b, t: torch.tensor(
        ((1 - t) * a + t * b).tolist(), dtype=a.dtype)),
    # ... or one end detached.
    "grad.detached": _interp(linear=lambda a, b, t: (1 - t) * a + t * b.detach()),
}


test_interpolate_mistakes_are_named = each_mistake_is_named("interpolate", INTERP_WRONG)


INTERP_RIGHT = {
    "the course's interpolate": course_interpolate,
    "torch.lerp and a loop": lambda a, b, steps=10, method="linear": torch.stack(
        [torch.lerp(a, b, i / (steps - 1)) if method == "linear" else
         _slerp(a, b, torch.tensor([[i / (steps - 1)]], dtype=a.dtype))[0]
         for i in range(steps)]),
    "a + t (b - a), slerp via atan2": _interp(
        linear=lambda a, b, t: a + t * (b - a),
        spherical=lambda a, b, t: (lambda om: (torch.sin((1 - t) * om) * a
                                               + torch.sin(t * om) * b) / torch.sin(om))(
            torch.atan2(torch.linalg.norm(torch.outer(a, b) - torch.outer(b, a)) / 2 ** 0.5,
                        a @ b))),
}


test_interpolate_alternatives_pass = each_alternative_passes("interpolate", INTERP_RIGHT)


def test_interpolate_generic_failure_names_the_ends():
    result = run("interpolate", _interp(linear=lambda a, b, t: (1 - t) * a + t * b + 0.3))
    assert result.status == FAIL and "the first row should be a" in result.message


# --------------------------------------------------------------------------- anomaly score


def _bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)


def _kl(mu, lv):
    return -0.5 * (1 + lv - mu ** 2 - lv.exp())


def _score(recon=lambda lg, x: _bce(lg, x).sum(1), kl=lambda mu, lv: _kl(mu, lv).sum(1),
           sample=False):
    @torch.no_grad()
    def f(model, x):
        mu, lv = model.encode(x)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu) if sample else mu
        return recon(model.decode(z), x) + kl(mu, lv)
    return f


ANOMALY_WRONG = {
    "anom.sampled": _score(sample=True),
    "anom.kl_missing": _score(kl=lambda mu, lv: 0),
    "anom.recon_missing": _score(recon=lambda lg, x: 0),
    "anom.recon_mean_over_pixels": _score(recon=lambda lg, x: _bce(lg, x).mean(1)),
    "anom.kl_mean_over_dims": _score(kl=lambda mu, lv: _kl(mu, lv).mean(1)),
    "anom.kl_missing_half": _score(kl=lambda mu, lv: 2 * _kl(mu, lv).sum(1)),
    "anom.double_sigmoid": _score(recon=lambda lg, x: _bce(torch.sigmoid(lg), x).sum(1)),
    "anom.squared_error": _score(recon=lambda lg, x: (torch.sigmoid(lg) - x).pow(2)
                                 .flatten(1).sum(1)),
    "anom.wrong_sign": lambda model, x: -_score()(model, x),
    "anom.batch_mean": lambda model, x: _score()(model, x).mean(),
}


test_anomaly_score_mistakes_are_named = each_mistake_is_named("anomaly_score", ANOMALY_WRONG)


def _distributions_score(model, x):
    import torch.distributions as D

    with torch.no_grad():
        mu, lv = model.encode(x)
        q = D.Normal(mu, torch.exp(0.5 * lv))
        prior = D.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        likelihood = D.Bernoulli(logits=model.decode(mu), validate_args=False)  # grey pixels
        return -likelihood.log_prob(x).flatten(1).sum(1) + D.kl_divergence(q, prior).sum(1)


def _numpy_score(model, x):
    with torch.no_grad():
        mu, lv = (t.numpy().astype(np.float64) for t in model.encode(x))
        p = torch.sigmoid(model.decode(torch.from_numpy(mu).float())).numpy().astype(np.float64)
    xs = x.numpy().reshape(len(x), -1).astype(np.float64)
    p = np.clip(p.reshape(len(x), -1), 1e-12, 1 - 1e-12)
    recon = -(xs * np.log(p) + (1 - xs) * np.log(1 - p)).sum(1)
    return recon + 0.5 * (mu ** 2 + np.exp(lv) - 1 - lv).sum(1)


def _loop_score(model, x):
    return torch.stack([_score()(model, x[i:i + 1])[0] for i in range(len(x))])


ANOMALY_RIGHT = {"torch.distributions": _distributions_score, "numpy": _numpy_score,
                 "one image at a time": _loop_score}


test_anomaly_score_alternatives_pass = each_alternative_passes("anomaly_score", ANOMALY_RIGHT)


def test_anomaly_score_generic_failure_gives_both():
    result = run("anomaly_score", lambda model, x: _score()(model, x) + 1.0)
    assert result.status == FAIL and "should be" in result.message and "yours are" in \
        result.message


# --------------------------------------------------------------------------- AUROC


def _pairs(scores, labels, tie):
    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    return float(((pos > neg) + tie * (pos == neg)).mean())


AUROC_WRONG = {
    "auroc.inverted": lambda s, y: roc_auc_score(1 - np.asarray(y), s),
    "auroc.ties_ignored": lambda s, y: _pairs(s, y, 0.0),
    "auroc.ties_as_wins": lambda s, y: _pairs(s, y, 1.0),
    "auroc.average_precision": lambda s, y: average_precision_score(y, s),
    "auroc.thresholded": lambda s, y: roc_auc_score(y, np.asarray(s) > np.median(s)),
    "auroc.accuracy": lambda s, y: accuracy_score(y, np.asarray(s) > np.median(s)),
    "auroc.arguments_swapped": lambda s, y: roc_auc_score(s, y),
    "auroc.curve_not_area": lambda s, y: __import__("sklearn.metrics").metrics.roc_curve(y, s),
}


test_auroc_mistakes_are_named = each_mistake_is_named("auroc", AUROC_WRONG)


def _rank_auroc(scores, labels):
    from scipy.stats import rankdata

    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    ranks = rankdata(s)
    n_pos, n_neg = (y == 1).sum(), (y == 0).sum()
    return (ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


AUROC_RIGHT = {
    "the course's auroc": course_auroc,
    "counting pairs": lambda s, y: _pairs(s, y, 0.5),
    "Mann-Whitney ranks": _rank_auroc,
    "negated normal score, flipped labels": lambda s, y: roc_auc_score(1 - np.asarray(y),
                                                                       -np.asarray(s)),
    "torch": lambda s, y: (lambda s, y: ((s[y == 1][:, None] > s[y == 0][None]).double()
                                         + 0.5 * (s[y == 1][:, None] == s[y == 0][None]))
                           .mean())(torch.as_tensor(s), torch.as_tensor(y)),
}


test_auroc_alternatives_pass = each_alternative_passes("auroc", AUROC_RIGHT)


def test_auroc_generic_failure_gives_both():
    result = run("auroc", lambda s, y: 0.5)
    assert result.status == FAIL and "should be" in result.message and "yours is 0.5" in \
        result.message


# --------------------------------------------------------------------------- attribute vector


def _groups(codes, mask):
    m = torch.as_tensor(mask).bool()
    return codes[m], codes[~m]


ATTRIBUTE_WRONG = {
    "attr.sign_swapped": lambda c, m: (lambda w, wo: wo.mean(0) - w.mean(0))(*_groups(c, m)),
    "attr.sum_not_mean": lambda c, m: (lambda w, wo: w.sum(0) - wo.sum(0))(*_groups(c, m)),
    "attr.minus_overall_mean": lambda c, m: _groups(c, m)[0].mean(0) - c.mean(0),
    "attr.all_minus_without": lambda c, m: c.mean(0) - _groups(c, m)[1].mean(0),
    "attr.no_subtraction": lambda c, m: _groups(c, m)[0].mean(0),
    "attr.normalised": lambda c, m: (lambda v: v / v.norm())(course_attribute_vector(c, m)),
    "attr.int_mask_as_index": lambda c, m: c[m].mean(0) - c[~m if m.dtype == torch.bool
                                                            else 1 - m].mean(0),
}


test_attribute_vector_mistakes_are_named = each_mistake_is_named("attribute_vector", ATTRIBUTE_WRONG)


ATTRIBUTE_RIGHT = {
    "the course's attribute_vector": course_attribute_vector,
    "weighted sums": lambda c, m: (lambda w: (w[:, None] * c).sum(0) / w.sum()
                                   - ((1 - w)[:, None] * c).sum(0) / (1 - w).sum())(
        torch.as_tensor(m).to(c.dtype)),
    "numpy": lambda c, m: torch.from_numpy(
        (lambda c, m: c[m].mean(0) - c[~m].mean(0))(c.numpy(), np.asarray(m).astype(bool))),
}


test_attribute_vector_alternatives_pass = each_alternative_passes("attribute_vector", ATTRIBUTE_RIGHT)


def test_attribute_vector_generic_failure_measures_the_effect():
    result = run("attribute_vector", lambda c, m: course_attribute_vector(c, m) * 0.5)
    assert result.status == FAIL and "carries it" in result.message


def test_every_named_mistake_is_exercised():
    import re

    from vae_course.paths import COURSE_ROOT

    folder = COURSE_ROOT / "vae_course" / "checks"
    source = "".join((folder / f"{m}.py").read_text()
                     for m in ("interpolation", "anomaly", "attribute"))
    named = set(re.findall(r'"((?:interp|anom|auroc|attr)\.[a-z_]+)"', source))
    tested = set(INTERP_WRONG) | set(ANOMALY_WRONG) | set(AUROC_WRONG) | set(ATTRIBUTE_WRONG)
    assert named - tested == set(), f"no wrong implementation triggers {named - tested}"


@pytest.mark.parametrize("name", NAMES)
def test_learner_exit_becomes_feedback(name):
    def exits(*args, **kwargs):
        raise SystemExit(2)

    result = run(name, exits)
    assert result.status == FAIL and "SystemExit" in result.message


# Per check: the codes of the wrong implementations and the labels of the correct alternatives
# above (counted by scripts/exercise_table.py).
TABLES = {"interpolate": (list(INTERP_WRONG), list(INTERP_RIGHT)),
          "anomaly_score": (list(ANOMALY_WRONG), list(ANOMALY_RIGHT)),
          "auroc": (list(AUROC_WRONG), list(AUROC_RIGHT)),
          "attribute_vector": (list(ATTRIBUTE_WRONG), list(ATTRIBUTE_RIGHT))}
