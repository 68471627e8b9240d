"""Exercise 07's debugging checks. Solutions pass, stubs are "not implemented", each wrong fix
gets its own diagnosis (the original mistake is called out as still there), correct alternatives
pass — and a function that is right on the check's small batch but still broken in training is
caught by the short training run, which measures the symptom, not the text."""

import re

import numpy as np
import pytest
import torch
import torch.distributions as D
import torch.nn.functional as F

from exercise_loader import each_alternative_passes, each_mistake_is_named, load_functions, run
from vae_course.checks import FAIL, MISTAKE, PASS
from vae_course.paths import COURSE_ROOT

STEM = "07_debugging"
NAMES = ["fix_kl_loss", "fix_recon_loss", "fix_logits_loss", "fix_recon_error", "fix_encode"]
LOSSES = NAMES[:3]


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_and_says_fixed(name):
    result = run(name, load_functions(STEM)[name])
    assert result.status == PASS, result.marker()
    assert "fixed" in result.message


def _bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def _kl(mu, lv):
    return -0.5 * (1 + lv - mu ** 2 - lv.exp())


def _loss(recon=lambda lg, x: _bce(lg, x).mean(), kl=lambda mu, lv: _kl(mu, lv).sum(1).mean()):
    def f(logits, x, mu, logvar):
        k = kl(mu, logvar)
        return recon(logits, x) + k, k
    return f


KL_SIGMA = lambda mu, lv: (-0.5 * (1 + torch.exp(0.5 * lv) - mu ** 2 - lv.exp())).sum(1).mean()  # noqa: E731
RECON_MEAN = lambda lg, x: F.binary_cross_entropy_with_logits(lg, x)  # noqa: E731
DOUBLE_SIGMOID = lambda lg, x: _bce(torch.sigmoid(lg), x).mean()  # noqa: E731

# (check, wrong fix, expected code); "still there" marks the task's own mistake left in place.
LOSS_WRONG = [
    ("fix_kl_loss", _loss(kl=KL_SIGMA), "loss.kl_sigma_for_logvar"),
    ("fix_kl_loss", _loss(kl=lambda mu, lv: _kl(mu, lv).mean()), "loss.kl_mean_over_latent"),
    ("fix_kl_loss", _loss(kl=lambda mu, lv: 2 * _kl(mu, lv).sum(1).mean()),
     "loss.kl_missing_half"),
    ("fix_kl_loss", _loss(kl=lambda mu, lv: -_kl(mu, lv).sum(1).mean()), "loss.kl_wrong_sign"),
    ("fix_kl_loss", _loss(kl=lambda mu, lv: (-0.5 * (1 + lv - mu ** 2 - lv)).sum(1).mean()),
     "loss.kl_logvar_for_variance"),
    ("fix_kl_loss", _loss(kl=lambda mu, lv: _kl(mu.detach(), lv).sum(1).mean()),
     "grad.detached"),
    ("fix_recon_loss", _loss(recon=RECON_MEAN), "loss.recon_mean_over_pixels"),
    ("fix_recon_loss", _loss(recon=lambda lg, x: _bce(lg, x).sum()), "loss.recon_sum_over_batch"),
    ("fix_recon_loss", _loss(recon=lambda lg, x: (torch.sigmoid(lg) - x).pow(2).flatten(1)
                             .sum(1).mean()), "loss.squared_error"),
    ("fix_recon_loss", _loss(recon=RECON_MEAN, kl=lambda mu, lv: _kl(mu, lv).mean()),
     "loss.recon_mean_over_pixels+loss.kl_mean_over_latent"),
    ("fix_recon_loss", lambda lg, x, mu, lv: (_bce(lg, x).mean(), _kl(mu, lv).sum(1).mean()),
     "loss.kl_missing"),
    ("fix_logits_loss", _loss(recon=DOUBLE_SIGMOID), "loss.double_sigmoid"),
    ("fix_logits_loss", _loss(recon=lambda lg, x: (torch.sigmoid(lg) - x).pow(2).flatten(1)
                              .sum(1).mean()), "loss.squared_error"),
    ("fix_logits_loss", _loss(recon=lambda lg, x: _bce(lg, x).mean().detach()),
     "grad.detached"),
    # the sigmoid kept, handed to the probability loss with its default reduction (a mean)
    ("fix_logits_loss", _loss(recon=lambda lg, x: F.binary_cross_entropy(torch.sigmoid(lg), x)),
     "loss.recon_mean_over_pixels"),
    # the loss is right, but the KL it reports (and the bench records) is averaged
    ("fix_logits_loss", lambda lg, x, mu, lv: (_bce(lg, x).mean() + _kl(mu, lv).sum(1).mean(),
                                               _kl(mu, lv).mean()), "loss.kl_mean_over_latent"),
]
STILL_THERE = {"fix_kl_loss": "loss.kl_sigma_for_logvar",
               "fix_recon_loss": "loss.recon_mean_over_pixels",
               "fix_logits_loss": "loss.double_sigmoid"}


@pytest.mark.parametrize("name, fn, code", LOSS_WRONG,
                         ids=[f"{n}-{c}" for n, _, c in LOSS_WRONG])
def test_loss_mistakes_are_named(name, fn, code):
    result = run(name, fn)
    assert (result.status, result.code) == (MISTAKE, code), result.marker()
    if STILL_THERE[name] in code.split("+"):
        assert "still there" in result.message


def _sampled_recon_error(model, x):
    with torch.no_grad():
        logits, _, _ = model(x)
    return _bce(logits, x)


def _at_mu(f):
    @torch.no_grad()
    def error(model, x):
        mu, lv = model.encode(x)
        return f(model.decode(mu), x, mu, lv)
    return error


EVAL_WRONG = {
    "eval.sampled": _sampled_recon_error,
    "eval.mean_over_pixels": _at_mu(lambda lg, x, mu, lv: F.binary_cross_entropy_with_logits(
        lg, x, reduction="none").flatten(1).mean(1)),
    "eval.double_sigmoid": _at_mu(lambda lg, x, mu, lv: _bce(torch.sigmoid(lg), x)),
    "eval.squared_error": _at_mu(lambda lg, x, mu, lv: (torch.sigmoid(lg) - x).pow(2)
                                 .flatten(1).sum(1)),
    "eval.kl_added": _at_mu(lambda lg, x, mu, lv: _bce(lg, x) + _kl(mu, lv).sum(1)),
    "eval.wrong_sign": _at_mu(lambda lg, x, mu, lv: -_bce(lg, x)),
    "eval.batch_mean": _at_mu(lambda lg, x, mu, lv: _bce(lg, x).mean()),
}


test_evaluation_mistakes_are_named = each_mistake_is_named("fix_recon_error", EVAL_WRONG)


def _distributions_loss(logits, x, mu, logvar):
    q = D.Normal(mu, torch.exp(0.5 * logvar))
    prior = D.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    kl = D.kl_divergence(q, prior).sum(1).mean()
    recon = -D.Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)
    return recon.mean() + kl, kl


LOSS_RIGHT = {
    "torch.distributions": _distributions_loss,
    "reduction='sum' divided by the batch": lambda lg, x, mu, lv: (lambda k: (
        F.binary_cross_entropy_with_logits(lg, x, reduction="sum") / len(x) + k, k))(
        0.5 * (mu ** 2 + lv.exp() - 1 - lv).sum() / len(x)),
    "the course's elbo_loss": lambda lg, x, mu, lv: (lambda t: (t.loss, t.kl))(
        __import__("vae_course.losses").losses.elbo_loss(lg, x, mu, lv)),
}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("alternative", sorted(LOSS_RIGHT))
def test_loss_alternatives_pass(name, alternative):
    result = run(name, LOSS_RIGHT[alternative])
    assert result.status == PASS, result.marker()


def _eval_distributions(model, x):
    with torch.no_grad():
        mu, _ = model.encode(x)
        return -D.Bernoulli(logits=model.decode(mu), validate_args=False).log_prob(x) \
            .flatten(1).sum(1)


def _eval_numpy(model, x):
    """No gradient is needed in an evaluation, so NumPy may do the arithmetic."""
    with torch.no_grad():
        logits = model.decode(model.encode(x)[0]).flatten(1).double().numpy()
    pixels = x.flatten(1).double().numpy()
    return torch.from_numpy(np.logaddexp(0, logits) - pixels * logits).sum(1)


def _eval_one_by_one(model, x):
    out = []
    with torch.no_grad():
        for image in x:
            mu, _ = model.encode(image[None])
            p = torch.sigmoid(model.decode(mu))[0]
            out.append(F.binary_cross_entropy(p, image, reduction="sum"))
    return torch.stack(out)


EVAL_RIGHT = {"torch.distributions": _eval_distributions, "numpy": _eval_numpy,
              "one image at a time, probabilities": _eval_one_by_one}


test_evaluation_alternatives_pass = each_alternative_passes("fix_recon_error", EVAL_RIGHT)


# A "fix" that is right on the check's batch of 5 but still broken on real training batches:
# only the training run can tell, by measuring the symptom.
def _only_small_batches(broken):
    def f(logits, x, mu, logvar):
        return _loss()(logits, x, mu, logvar) if len(x) < 10 else broken(logits, x, mu, logvar)
    return f


@pytest.mark.parametrize("name, broken, symptom", [
    ("fix_kl_loss", _loss(kl=KL_SIGMA), "symptom is still there"),
    ("fix_recon_loss", _loss(recon=RECON_MEAN), "still collapses"),
    ("fix_logits_loss", _loss(recon=DOUBLE_SIGMOID), "symptom is still there"),
])
def test_training_run_measures_the_symptom(name, broken, symptom):
    result = run(name, _only_small_batches(broken))
    assert result.status == FAIL and symptom in result.message, result.marker()


def test_evaluation_that_trains_the_model_is_refused_and_undone():
    from vae_course.checks.debugging import reference_model

    before = [p.detach().clone() for p in reference_model().parameters()]

    def trains(model, x):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01)
        return _at_mu(lambda lg, x, mu, lv: _bce(lg, x))(model, x)

    result = run("fix_recon_error", trains)
    assert result.status == FAIL and "weights" in result.message
    after = list(reference_model().parameters())
    assert all(torch.equal(b, a.detach()) for b, a in zip(before, after))


@pytest.mark.parametrize("name", NAMES)
def test_learner_exit_becomes_feedback(name):
    def exits(*args):
        raise SystemExit("bye")

    result = run(name, exits)
    assert result.status == FAIL and "SystemExit" in result.message


# --------------------------------------------------------------------------- bug 5: the encoder


def _scaled(transform=lambda p: p / 255, bound=lambda lv: lv, out=lambda mu, lv: (mu, lv)):
    def fix_encode(model, pixels):
        mu, logvar = model.encode(transform(pixels))
        return out(mu, bound(logvar))
    return fix_encode


def _scales_in_place(model, pixels):
    pixels /= 255
    return model.encode(pixels)


ENCODE_WRONG = {
    "encode.not_scaled": _scaled(transform=lambda p: p),
    "encode.guard_only": _scaled(transform=lambda p: p, bound=lambda lv: lv.clamp(-10, 10)),
    "encode.scaled_twice": _scaled(transform=lambda p: p / 255 / 255),
    "encode.multiplied": _scaled(transform=lambda p: p * 255),
    "encode.batch_max": _scaled(transform=lambda p: p / p.max()),
    "encode.standardised": _scaled(transform=lambda p: (p - p.mean()) / p.std()),
    "encode.variance_returned": _scaled(out=lambda mu, lv: (mu, lv.exp())),
    "encode.sigma_returned": _scaled(out=lambda mu, lv: (mu, torch.exp(0.5 * lv))),
    "encode.swapped": _scaled(out=lambda mu, lv: (lv, mu)),
    "grad.detached": _scaled(bound=lambda lv: lv.detach()),
    "inputs.modified_in_place": _scales_in_place,
}


@pytest.mark.parametrize("code", sorted(ENCODE_WRONG))
def test_encode_mistakes_are_named(code):
    result = run("fix_encode", ENCODE_WRONG[code])
    assert (result.status, result.code) == (MISTAKE, code), result.marker()
    if code == "encode.not_scaled":
        assert "still there" in result.message


def _encode_one_by_one(model, pixels):
    pairs = [model.encode(image[None] / 255.0) for image in pixels]
    mu, logvar = (torch.cat(parts) for parts in zip(*pairs))
    return mu, F.hardtanh(logvar, -10.0, 10.0)


ENCODE_RIGHT = {
    "/ 255, no guard": _scaled(),
    "/ 255, clamp(-10, 10)": _scaled(bound=lambda lv: lv.clamp(-10, 10)),
    "torch.div, smooth 10·tanh(logvar / 10) bound": _scaled(
        transform=lambda p: torch.div(p, 255.0), bound=lambda lv: 10 * torch.tanh(lv / 10)),
    "one image at a time, hardtanh": _encode_one_by_one,
}


test_encode_alternatives_pass = each_alternative_passes("fix_encode", ENCODE_RIGHT)


def test_encode_that_is_right_on_the_check_s_batch_but_not_in_training_fails():
    """Right on the check's dim digits (brightest 204), raw on the training batches (which
    reach 255): only the training run sees the symptom."""
    def only_dim_batches(model, pixels):
        return model.encode(pixels / 255 if pixels.max() < 250 else pixels)

    result = run("fix_encode", only_dim_batches)
    assert result.status == FAIL and "symptom is still there" in result.message, \
        result.marker()


def test_every_named_mistake_is_exercised():
    source = (COURSE_ROOT / "vae_course" / "checks" / "debugging.py").read_text()
    named = set(re.findall(r'"((?:loss|eval|encode)\.[a-z_]+)"', source))
    tested = ({part for _, _, code in LOSS_WRONG for part in code.split("+")} | set(EVAL_WRONG)
              | set(ENCODE_WRONG))
    assert named - tested == set(), f"no wrong implementation triggers {named - tested}"


# Per check: the codes of the wrong implementations and the labels of the correct alternatives
# above (counted by scripts/exercise_table.py).
TABLES = {**{name: ([code for n, _, code in LOSS_WRONG if n == name], list(LOSS_RIGHT))
             for name in LOSSES},
          "fix_recon_error": (list(EVAL_WRONG), list(EVAL_RIGHT)),
          "fix_encode": (list(ENCODE_WRONG), list(ENCODE_RIGHT))}


def test_demo_runs_are_cached_with_the_numbers_of_the_training(tmp_path, monkeypatch):
    """The notebook's demonstration runs come from the model cache on a second Run All: the same
    weights and record as training, one file per loss function's source."""
    from vae_course.checks.debugging import demo_run, reference_loss, train_briefly
    from vae_course.data import load_mnist
    from vae_course.paths import MODELS_ENV

    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    data = load_mnist(quiet=True)
    model, record = demo_run(reference_loss, data)
    assert len(list(tmp_path.glob("debug-run-*.pt"))) == 1
    assert record == train_briefly(reference_loss, data=data)[1]
    again, record_again = demo_run(reference_loss, data)  # loaded, not trained
    assert record_again == record
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 again.state_dict().values()))
    demo_run(_double_sigmoid_loss, data)
    assert len(list(tmp_path.glob("debug-run-*.pt"))) == 2
    demo_run(_loss(recon=DOUBLE_SIGMOID), data)  # a closure: its source is not all of it
    assert len(list(tmp_path.glob("debug-run-*.pt"))) == 2


def _double_sigmoid_loss(logits, x, mu, logvar):
    return _loss(recon=DOUBLE_SIGMOID)(logits, x, mu, logvar)
