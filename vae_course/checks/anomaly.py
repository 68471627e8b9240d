"""Checks of exercise 06's anomaly detection: the per-image score ``anomaly_score(model, x)`` and
``auroc(scores, labels)`` (the contract of ``vae_course.metrics.auroc``).

Neither needs a gradient (a score ranks images, nobody trains on it), so the checks compare
values; NumPy, loops and scikit-learn are all fine.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from .compare import fmt, is_close, returned_number
from .framework import exercise_check


# --------------------------------------------------------------------------- anomaly score


def _tiny_model():
    from ..models import VAE

    with torch.random.fork_rng():
        torch.manual_seed(13)
        model = VAE(latent_dim=3, hidden=8, image_shape=(1, 4, 4))
    return model.eval()


def _images():
    g = torch.Generator().manual_seed(14)
    x = (torch.rand(6, 1, 4, 4, generator=g) > 0.5).float()
    x[:, :, 1] = torch.rand(6, 1, 4, generator=g)  # some grey pixels too
    return x


def _terms(model, x):
    with torch.no_grad():
        mu, logvar = model.encode(x)
        logits = model.decode(mu)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
    return logits, bce, kl


def _score_mistakes(model, x):
    logits, bce, kl = _terms(model, x)
    recon, kl_sum = bce.sum(1), kl.sum(1)
    sq = (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)
    double = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x,
                                                reduction="none").flatten(1).sum(1)
    return [
        ("anom.kl_missing", "your score is the reconstruction error alone; add the KL of "
         "q(z|x) from the prior (how far the code sits from where codes usually are)", recon),
        ("anom.recon_missing", "your score is the KL alone; add the reconstruction error "
         "−log p(x | z = μ), summed over the pixels", kl_sum),
        ("anom.recon_mean_over_pixels", "you averaged the reconstruction error over the pixels; "
         "sum it (nats per image), or the KL outweighs it", bce.mean(1) + kl_sum),
        ("anom.kl_mean_over_dims", "you averaged the KL over the latent dimensions; sum it",
         recon + kl.mean(1)),
        ("anom.kl_missing_half", "your KL is twice the right value: the ½ is missing",
         recon + 2 * kl_sum),
        ("anom.double_sigmoid", "you applied a sigmoid to the decoder's logits and then used "
         "a with-logits loss, which applies the sigmoid again", double + kl_sum),
        ("anom.squared_error", "you used a squared error; the score is the Bernoulli negative "
         "log-likelihood, binary cross-entropy on the logits", sq + kl_sum),
        ("anom.wrong_sign", "your score has the wrong sign: it is the ELBO, which is high for "
         "normal images; the anomaly score is −ELBO, high for odd ones", -(recon + kl_sum)),
    ]


@exercise_check("anomaly_score", "anomaly_score(model, x)")
def check_anomaly_score(check, fn):
    """Check ``anomaly_score(model, x) -> (N,)``: −log p(x | z = μ) + KL per image, in nats."""
    model, x = _tiny_model(), _images()
    before = [p.detach().clone() for p in model.parameters()]
    x_in = x.clone()
    first = check.call(fn, model, x_in)
    if not torch.equal(x_in, x):
        check.mistake("inputs.modified_in_place", "anomaly_score changed the images in place; "
                                                  "compute new tensors instead.")
    if any(not torch.equal(p.detach(), b) for p, b in zip(model.parameters(), before)):
        check.fail("anomaly_score changed the model's weights; scoring must leave the model "
                   "as it is (no optimiser step, no training).")
    n = len(x)
    if isinstance(first, torch.Tensor) and first.ndim == 0:
        check.mistake("anom.batch_mean", f"you returned one number for the whole batch; return "
                                         f"one score per image, shape ({n},), to rank images.")
    if isinstance(first, torch.Tensor) and first.shape == (n, 1):
        check.fail(f"the scores have shape ({n}, 1); return shape ({n},) — one number per "
                   f"image (squeeze the extra dimension).")
    got = _tensor_or_array(check, first, n)
    second = _tensor_or_array(check, check.call(fn, model, x.clone()), n)
    if not is_close(got, second, rtol=1e-6, atol=1e-6):
        check.mistake("anom.sampled", "the same images got different scores on two calls: the "
                                      "score uses a sampled z (model(x) samples). Decode the "
                                      "posterior mean μ, so an image always gets the same "
                                      "score.")
    logits, bce, kl = _terms(model, x)
    expected = (bce.sum(1) + kl.sum(1)).double()
    if is_close(got, expected, rtol=1e-4, atol=1e-4):
        return check.passed(f"one score per image: −log p(x | z = μ) summed over the pixels plus "
                            f"the KL summed over the latent dimensions, e.g. {fmt(expected, 3)} "
                            f"nats; deterministic, so rankings repeat.")
    for code, text, value in _score_mistakes(model, x):
        if is_close(got, value, rtol=1e-4, atol=1e-4):
            check.mistake(code, f"{text}. (Got {fmt(got, 3)}, expected {fmt(expected, 3)}.)")
    check.fail(f"for the check's 6 images and small VAE the scores should be "
               f"{fmt(expected)} nats; yours are {fmt(got)}.")


def _tensor_or_array(check, value, n):
    if value is None:
        check.fail("anomaly_score returned None: did you forget the `return` statement? "
                   f"Expected one score per image, shape ({n},).")
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        check.fail(f"anomaly_score returned a {type(value).__name__}; expected a tensor of "
                   f"shape ({n},), one score per image.")
    if tuple(value.shape) != (n,):
        check.fail(f"the scores have shape {tuple(value.shape)}; expected ({n},), one per image.")
    if not torch.isfinite(value.detach()).all():
        check.fail("some scores are NaN or infinite; with these images all should be finite.")
    return value.detach().cpu().double()


# --------------------------------------------------------------------------- AUROC


def _auroc_cases():
    """Scores with ties, in torch and in NumPy, and unbalanced classes."""
    g = torch.Generator().manual_seed(15)
    labels = (torch.rand(60, generator=g) < 0.3).long()
    scores = torch.randn(60, generator=g) + 1.2 * labels
    scores = torch.round(scores * 2) / 2  # ties, across the classes too
    rng = np.random.default_rng(16)
    labels2 = (rng.random(45) < 0.6).astype(int)
    scores2 = rng.standard_normal(45) + 0.4 * labels2
    return [(scores, labels, "torch tensors with ties"), (scores2, labels2, "NumPy arrays")]


def _pairs(scores, labels, tie):
    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    return float(((pos > neg) + tie * (pos == neg)).mean())


def _auroc_mistakes(scores, labels):
    from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score

    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    auc = roc_auc_score(y, s)
    out = [
        ("auroc.inverted", "your value is 1 − AUROC: either the labels are flipped (1 must mean "
         "anomaly) or the scores are negated (higher must mean more anomalous)", 1 - auc),
        ("auroc.ties_ignored", "a tie between an anomaly and a normal image counted as a loss; "
         "ties count one half", _pairs(s, y, 0.0)),
        ("auroc.ties_as_wins", "a tie between an anomaly and a normal image counted as a win; "
         "ties count one half", _pairs(s, y, 1.0)),
        ("auroc.average_precision", "you computed the average precision (area under the "
         "precision-recall curve); AUROC is the area under the ROC curve",
         average_precision_score(y, s)),
    ]
    for cut in (np.median(s), s.mean(), 0.5, 0.0):
        out.append(("auroc.thresholded", "you turned the scores into yes/no predictions before "
                    "the AUROC; it needs the scores themselves, to rank every pair",
                    roc_auc_score(y, s > cut) if len(set(s > cut)) > 1 else math.nan))
        out.append(("auroc.accuracy", "you computed an accuracy at one threshold; AUROC sums "
                    "over all thresholds: the probability that an anomaly outscores a normal "
                    "image", accuracy_score(y, s > cut)))
    return out


def _explain_auroc_error(err):
    if "continuous" in str(err) and "format" in str(err):
        return ("auroc.arguments_swapped", "roc_auc_score complains about continuous labels: "
                "the arguments are swapped. It takes the true labels first and the scores "
                "second: roc_auc_score(labels, scores).")
    return None


@exercise_check("auroc", "auroc(scores, labels)", explain=_explain_auroc_error)
def check_auroc(check, fn):
    """Check ``auroc(scores, labels) -> float`` (the contract of ``vae_course.metrics.auroc``)."""
    got_all = []
    for scores, labels, what in _auroc_cases():
        value = check.call(fn, scores, labels)
        if isinstance(value, tuple):
            check.mistake("auroc.curve_not_area", f"you returned a tuple of "
                                                  f"{len(value)} items (the ROC curve?); "
                                                  f"return the area under it, one number.")
        got_all.append(returned_number(check, value, f"the AUROC for {what}"))
    from sklearn.metrics import roc_auc_score  # only now: a stub's check needs no scikit-learn

    refs = [float(roc_auc_score(np.asarray(labels), np.asarray(scores)))
            for scores, labels, _ in _auroc_cases()]
    if all(math.isclose(g, r, abs_tol=1e-6) for g, r in zip(got_all, refs)):
        return check.passed(f"AUROC {refs[0]:.4f} and {refs[1]:.4f}: the probability that an "
                            f"anomaly outscores a normal image, ties counting one half — as "
                            f"vae_course.metrics.auroc (scikit-learn).")
    tables = [_auroc_mistakes(s, y) for s, y, _ in _auroc_cases()]
    for index, (code, text, _) in enumerate(tables[0]):
        if all(math.isclose(g, table[index][2], abs_tol=1e-6) or
               any(c == code and math.isclose(g, v, abs_tol=1e-6) for c, _, v in table)
               for g, table in zip(got_all, tables)):
            check.mistake(code, f"{text}. (Got {got_all[0]:.4f}, expected {refs[0]:.4f}.)")
    for g, r, (_, _, what) in zip(got_all, refs, _auroc_cases()):
        if not math.isclose(g, r, abs_tol=1e-6):
            check.fail(f"for {what} the AUROC should be {r:.4f}; yours is {g:.4f}.")
    check.fail("the AUROC is wrong.")  # unreachable
