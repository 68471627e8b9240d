"""The exercise checks can fail: solutions pass, stubs are "not implemented", and each known
mistake gets its own diagnosis. Also: malformed learner code gets a clear message, never a raise.
"""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from exercise_loader import SOLUTIONS, load_functions, run
from vae_course import checks
from vae_course.checks import CHECKS, FAIL, MISTAKE, PASS, TODO
from vae_course.checks import elbo as elbo_checks
from vae_course.losses import elbo_loss as course_elbo
from vae_course.paths import COURSE_ROOT
from vae_course.schedules import LinearWarmup

# check name -> (solution notebook, function name in it)
EXERCISES = {
    "reparameterize": ("02_reparameterise", "reparameterize"),
    "kl_divergence": ("03_elbo", "kl_divergence"),
    "elbo_loss": ("03_elbo", "elbo_loss"),
    "linear_warmup": ("04_annealing", "linear_warmup"),
    "train_step": ("04_annealing", "train_step"),
    "active_units": ("04_annealing", "active_units"),
    "mig": ("05_mig", "mig_from_mi"),
    "interpolate": ("06_applications", "interpolate"),
    # exercises 04-07: their wrong-implementation tables are in tests/test_checks_0N_*.py
    "cyclical_beta": ("04_annealing", "cyclical_beta"),
    "free_bits_kl": ("04_annealing", "free_bits_kl"),
    "discretize": ("05_mig", "discretize"),
    "mutual_information": ("05_mig", "mutual_information"),
    "anomaly_score": ("06_applications", "anomaly_score"),
    "auroc": ("06_applications", "auroc"),
    "attribute_vector": ("06_applications", "attribute_vector"),
    "fix_kl_loss": ("07_debugging", "fix_kl_loss"),
    "fix_recon_loss": ("07_debugging", "fix_recon_loss"),
    "fix_logits_loss": ("07_debugging", "fix_logits_loss"),
    "fix_recon_error": ("07_debugging", "fix_recon_error"),
    "fix_encode": ("07_debugging", "fix_encode"),
    # exercises 01-03 (their tables of wrong implementations: tests/test_checks_0*.py)
    "autoencoder": ("01_autoencoder", "Autoencoder"),
    "vae_module": ("03_elbo", "VAE"),
    "iwae_from_log_weights": ("03_elbo", "iwae_from_log_weights"),
}


def test_every_check_has_an_exercise_that_calls_it():
    assert set(EXERCISES) == set(CHECKS)
    for name, (stem, _) in EXERCISES.items():
        source = (SOLUTIONS / f"{stem}.py").read_text()
        assert f"check_{name}(" in source, f"{stem} does not call check_{name}"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_solution_passes(name):
    stem, func = EXERCISES[name]
    result = run(name, load_functions(stem)[func])
    assert result.status == PASS, result.marker()


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_stub_is_not_implemented(name):
    stem, func = EXERCISES[name]
    result = run(name, load_functions(stem, stub=True)[func])
    assert result.status == TODO, result.marker()
    assert "not implemented" in result.message


def test_train_step_with_stubbed_warmup_names_the_missing_function():
    ns = load_functions("04_annealing")
    stubs = load_functions("04_annealing", stub=True)
    ns["train_step"].__globals__["linear_warmup"] = stubs["linear_warmup"]
    result = run("train_step", ns["train_step"])
    assert result.status == TODO
    assert "calls linear_warmup" in result.message


# ------------------------------------------------------------------ wrong implementations

def _std(lv):
    return torch.exp(0.5 * lv)


def _seeded(mu, lv):
    torch.manual_seed(0)
    return mu + _std(lv) * torch.randn_like(mu)


REPARAM_WRONG = [
    ("variance as scale", lambda m, lv: m + lv.exp() * torch.randn_like(m),
     "reparam.variance_as_scale"),
    ("logvar as scale", lambda m, lv: m + lv * torch.randn_like(m), "reparam.logvar_as_scale"),
    ("half logvar", lambda m, lv: m + 0.5 * lv * torch.randn_like(m), "reparam.logvar_as_scale"),
    ("1/sigma", lambda m, lv: m + torch.exp(-0.5 * lv) * torch.randn_like(m),
     "reparam.inverse_scale"),
    ("torch.normal", lambda m, lv: torch.normal(m, _std(lv)), "reparam.not_differentiable"),
    ("Normal.sample", lambda m, lv: torch.distributions.Normal(m, _std(lv)).sample(),
     "reparam.not_differentiable"),
    ("detached", lambda m, lv: (m + _std(lv) * torch.randn_like(m)).detach(),
     "reparam.not_differentiable"),
    ("logvar detached", lambda m, lv: m + _std(lv.detach()) * torch.randn_like(m),
     "grad.detached"),
    ("numpy detour", lambda m, lv: torch.from_numpy(
        (m + _std(lv) * torch.randn_like(m)).detach().numpy()), "reparam.not_differentiable"),
    ("sigma from a detached copy, mu kept", lambda m, lv: m + (_std(lv) * torch.randn_like(m))
     .detach() + 0 * lv, "grad.detached"),
    ("uniform noise", lambda m, lv: m + _std(lv) * torch.rand_like(m), "reparam.uniform_noise"),
    ("shared over batch", lambda m, lv: m + _std(lv) * torch.randn(m.shape[1]),
     "reparam.noise_shared_across_batch"),
    ("shared over dims", lambda m, lv: m + _std(lv) * torch.randn(m.shape[0], 1),
     "reparam.noise_shared_across_dims"),
    ("seeded inside", _seeded, "reparam.fixed_noise"),
    ("no noise", lambda m, lv: m, "reparam.no_noise"),
    ("mu not added", lambda m, lv: _std(lv) * torch.randn_like(m), "reparam.mu_not_added"),
]


def _kl_terms(m, lv):
    return -0.5 * (1 + lv - m ** 2 - lv.exp())


def _recon(lg, x):
    return F.binary_cross_entropy_with_logits(lg, x, reduction="none").flatten(1).sum(1).mean()


def _kl(m, lv):
    return _kl_terms(m, lv).sum(1).mean()


def _elbo(recon_fn=_recon, kl_fn=_kl, combine=lambda r, k, b: r + b * k):
    def elbo_loss(logits, x, mu, logvar, beta=1.0):
        r, k = recon_fn(logits, x), kl_fn(mu, logvar)
        return combine(r, k, beta), r, k
    return elbo_loss


WARMUP_WRONG = [
    ("divides by T+1", lambda s, w, m=1.0: m * min(1.0, s / (w + 1)), "warmup.off_by_one_late"),
    ("divides by T-1", lambda s, w, m=1.0: m * min(1.0, s / (w - 1)), "warmup.off_by_one_early"),
    ("step + 1", lambda s, w, m=1.0: m * min(1.0, (s + 1) / w), "warmup.starts_above_zero"),
    ("not clamped", lambda s, w, m=1.0: m * s / w, "warmup.not_clamped"),
    ("clamped at 1", lambda s, w, m=1.0: min(1.0, m * s / w), "warmup.clamped_at_one"),
    ("clamp only", lambda s, w, m=1.0: min(m, s / w), "warmup.slope_ignores_beta_max"),
    ("no beta_max", lambda s, w, m=1.0: min(1.0, s / w), "warmup.ignores_beta_max"),
    ("integer division", lambda s, w, m=1.0: m * min(1, s // w), "warmup.integer_division"),
    ("decreasing", lambda s, w, m=1.0: m * max(0.0, 1 - s / w), "warmup.decreasing"),
]


def _warmup(s, w, m=1.0):
    return m * min(1.0, s / w)


def _train_step(beta_fn=_warmup, order="normal", combine=None, returns="item"):
    def train_step(model, optimizer, x, step, warmup_steps):
        beta = beta_fn(step, warmup_steps)
        if order not in ("no_zero_grad", "stale_step_first"):
            optimizer.zero_grad()
        logits, mu, logvar = model(x)
        terms = course_elbo(logits, x, mu, logvar, beta)
        loss = combine(terms, beta) if combine else terms.loss
        if order in ("step_first", "stale_step_first"):
            optimizer.step()
            optimizer.zero_grad()
            loss.backward()
        else:
            loss.backward()
            if order != "no_step":
                optimizer.step()
        return (loss if returns == "tensor" else loss.item()), beta
    return train_step


TRAIN_WRONG = [
    ("no zero_grad", _train_step(order="no_zero_grad"), "train.no_zero_grad"),
    ("no optimizer.step", _train_step(order="no_step"), "train.no_update"),
    ("step before backward", _train_step(order="step_first"), "train.no_update"),
    ("stale step before backward", _train_step(order="stale_step_first"),
     "train.step_before_backward"),
    ("beta = 1", _train_step(beta_fn=lambda s, w: 1.0), "train.beta_ignored"),
    ("beta of the next step", _train_step(beta_fn=lambda s, w: _warmup(s + 1, w)),
     "train.beta_next_step"),
    ("beta on recon", _train_step(combine=lambda t, b: b * t.recon + t.kl),
     "train.beta_on_recon"),
    ("recon only", _train_step(combine=lambda t, b: t.recon), "train.kl_missing"),
    ("returns the tensor", _train_step(returns="tensor"), "train.returns_tensor"),
]


def _count(values, t):
    return int((values > t).sum())


# active_units (exercise 04) and interpolate (06): see tests/test_checks_04_annealing.py and
# tests/test_checks_06_applications.py.


def _top2(mi, dim=0, descending=True):
    return mi.sort(dim=dim, descending=descending).values


MIG_WRONG = [
    ("no entropy", lambda mi, h: (_top2(mi)[0] - _top2(mi)[1]).mean(), "mig.not_normalised"),
    ("largest only", lambda mi, h: (mi.max(0).values / h).mean(), "mig.no_runner_up"),
    ("gap to smallest", lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean(),
     "mig.gap_to_smallest"),
    ("first two latents", lambda mi, h: ((mi[0] - mi[1]).abs() / h).mean(),
     "mig.first_two_latents"),
    ("ascending", lambda mi, h: ((_top2(mi, descending=False)[0]
                                  - _top2(mi, descending=False)[1]) / h).mean(),
     "mig.ascending_sort"),
    ("sum", lambda mi, h: ((_top2(mi)[0] - _top2(mi)[1]) / h).sum(), "mig.sum_over_factors"),
    ("wrong axis", lambda mi, h: (_top2(mi, 1)[:, 0] - _top2(mi, 1)[:, 1]).mean(),
     "mig.wrong_axis"),
    ("per factor", lambda mi, h: (_top2(mi)[0] - _top2(mi)[1]) / h, "mig.per_factor"),
]


def _line(a, b, t):
    return (1 - t[:, None]) * a + t[:, None] * b



WRONG = ([("reparameterize", *w) for w in REPARAM_WRONG]
         + [("linear_warmup", *w) for w in WARMUP_WRONG]
         + [("train_step", *w) for w in TRAIN_WRONG]
         + [("mig", *w) for w in MIG_WRONG])


@pytest.mark.parametrize("name, label, fn, code", WRONG,
                         ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_known_mistake_gets_its_diagnosis(name, label, fn, code):
    result = run(name, fn)
    assert (result.status, result.code) == (MISTAKE, code), result.marker()
    assert len(result.message) > 30  # an explanation, not just a code


def test_every_named_mistake_is_exercised_by_a_wrong_implementation():
    source = "".join(path.read_text()
                     for path in sorted((COURSE_ROOT / "vae_course" / "checks").glob("*.py")))
    # kl.*, elbo.*, au.*, interp.* are exercised in tests/test_checks_0N_*.py
    named = set(re.findall(r'"((?:reparam|warmup|train|mig)\.[a-z_]+)"', source))
    tested = {part for *_, code in WRONG for part in code.split("+")}
    assert named - tested == set(), f"no wrong implementation triggers {named - tested}"


# ------------------------------------------------------------------ other correct answers

_NOISE = torch.Generator().manual_seed(11)  # a learner's own generator, made once
_NUMPY_NOISE = np.random.default_rng(11)


def _reparam_numpy_noise(m, lv):
    """The noise needs no gradient, so NumPy may draw it; the formula stays in torch."""
    eps = torch.from_numpy(_NUMPY_NOISE.standard_normal(tuple(m.shape))).to(m.dtype)
    return torch.addcmul(m, _std(lv), eps)


def _reparam_rows(m, lv):
    return torch.stack([m[i] + torch.sqrt(torch.exp(lv[i])) * torch.randn(m.shape[1])
                        for i in range(len(m))])


def _train_step_two_backwards(model, optimizer, x, step, warmup_steps):
    """Each term back-propagated on its own: the gradients add up in .grad."""
    beta = LinearWarmup(warmup_steps)(step)
    model.zero_grad()
    logits, mu, logvar = model(x)
    terms = course_elbo(logits, x, mu, logvar, beta)
    terms.recon.backward(retain_graph=True)
    (beta * terms.kl).backward()
    optimizer.step()
    return (terms.recon + beta * terms.kl).item(), beta


def _train_step_by_hand(model, optimizer, x, step, warmup_steps):
    """The loss written out, gradients from torch.autograd.grad put into .grad by hand."""
    beta = min(1.0, step / warmup_steps)
    logits, mu, logvar = model(x)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum() / len(x)
    loss = recon + beta * kl
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for p, g in zip(params, torch.autograd.grad(loss, params)):
        p.grad = g
    optimizer.step()
    return loss.detach().item(), beta


def _train_step_distributions(model, optimizer, x, step, warmup_steps):
    """torch.distributions for both terms; zero_grad(set_to_none=False)."""
    beta = float(np.interp(step, [0, warmup_steps], [0.0, 1.0]))
    optimizer.zero_grad(set_to_none=False)
    logits, mu, logvar = model(x)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    recon = -torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1).mean()
    loss = recon + beta * torch.distributions.kl_divergence(q, prior).sum(1).mean()
    loss.backward()
    optimizer.step()
    return float(loss.detach()), beta


def _mig_loop(mi, h):
    gaps = []
    for k in range(mi.shape[1]):
        column = sorted(mi[:, k].tolist(), reverse=True)
        gaps.append((column[0] - column[1]) / float(h[k]))
    return sum(gaps) / len(gaps)


ALSO_CORRECT = [
    ("reparameterize", "torch.distributions rsample",
     lambda m, lv: torch.distributions.Normal(m, _std(lv)).rsample()),
    ("reparameterize", "sqrt(exp(logvar)), torch.randn with the learner's own generator",
     lambda m, lv: m + torch.sqrt(torch.exp(lv)) * torch.randn(m.shape, generator=_NOISE,
                                                               dtype=m.dtype)),
    ("reparameterize", "noise from NumPy, torch.addcmul", _reparam_numpy_noise),
    ("reparameterize", "MultivariateNormal with a diagonal scale",
     lambda m, lv: torch.distributions.MultivariateNormal(
         m, scale_tril=torch.diag_embed(_std(lv))).rsample()),
    ("reparameterize", "one row at a time", _reparam_rows),
    ("linear_warmup", "a 0-dim tensor", lambda s, w, m=1.0: torch.tensor(m * min(1.0, s / w))),
    ("linear_warmup", "an if/else", lambda s, w, m=1.0: m if s >= w else m * s / w),
    ("linear_warmup", "numpy.interp", lambda s, w, m=1.0: float(np.interp(s, [0, w], [0, m]))),
    ("linear_warmup", "the course's LinearWarmup", lambda s, w, m=1.0: LinearWarmup(w, m)(s)),
    ("train_step", "two backward passes, one per term", _train_step_two_backwards),
    ("train_step", "the loss by hand, torch.autograd.grad into .grad", _train_step_by_hand),
    ("train_step", "torch.distributions, zero_grad(set_to_none=False)",
     _train_step_distributions),
    ("active_units", "a 0-dim tensor", lambda mu, t=0.01: (mu.var(0) > t).sum()),
    ("mig", "a Python float", lambda mi, h: float(((_top2(mi)[0] - _top2(mi)[1]) / h).mean())),
    ("mig", "topk", lambda mi, h: (lambda t: ((t[0] - t[1]) / h).mean())(
        mi.topk(2, dim=0).values)),
    ("mig", "a loop over factors with sorted()", _mig_loop),
    ("mig", "numpy, on the transposed matrix", lambda mi, h: float(np.mean(
        -np.diff(-np.sort(-mi.numpy().T, axis=1)[:, :2], axis=1)[:, 0] / h.numpy()))),
    ("interpolate", "a loop, slerp from vae_course.latent",
     lambda a, b, n=10, method="linear": torch.stack(
         [a + (b - a) * i / (n - 1) for i in range(n)]) if method == "linear" else
     __import__("vae_course.latent").latent.slerp(a, b, n)),
]


@pytest.mark.parametrize("name, label, fn", ALSO_CORRECT,
                         ids=[f"{c[0]}-{c[1]}" for c in ALSO_CORRECT])
def test_other_correct_implementations_pass(name, label, fn):
    result = run(name, fn)
    assert result.status == PASS, result.marker()


# ------------------------------------------------------------------ malformed learner code

def _returns_none(*args, **kwargs):
    return None


def _raises(*args, **kwargs):
    raise ValueError("something odd")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_none_gets_a_clear_message(name):
    result = run(name, _returns_none)
    assert result.status == FAIL
    assert "None" in result.message


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_an_exception_becomes_feedback(name):
    result = run(name, _raises)
    assert result.status == FAIL
    assert "raised ValueError: something odd" in result.message
    assert "_raises" in result.message  # where it happened


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_not_a_function(name):
    result = run(name, 42)
    assert result.status == FAIL and "pass the function itself" in result.message


MALFORMED = [
    ("reparameterize", lambda m, lv: (m + _std(lv) * torch.randn_like(m)).sum(1), "shape"),
    ("reparameterize", lambda m, lv: (m + _std(lv) * torch.randn_like(m)).long(), "dtype"),
    ("reparameterize", lambda m, lv: (m + _std(lv) * torch.randn_like(m)).detach().numpy(),
     "NumPy"),
    ("reparameterize", lambda m, lv: m + torch.exp(1000 * lv) * torch.randn_like(m), "NaN"),
    ("kl_divergence", lambda m, lv: _kl(m, lv).item(), "Python float"),
    ("kl_divergence", lambda m, lv: _kl_terms(m, lv).sum(1, keepdim=True), "shape"),
    ("elbo_loss", lambda lg, x, m, lv, beta=1.0: _recon(lg, x) + beta * _kl(m, lv), "three"),
    ("linear_warmup", lambda s, w, m=1.0: "0.5", "number"),
    ("train_step", lambda model, opt, x, s, w: 0.0, "(loss, beta)"),
    ("active_units", lambda mu, t=0.01: 2.5, "whole number"),
    ("mig", lambda mi, h: torch.zeros(7), "shape"),
    ("interpolate", lambda a, b, n: [a, b], "torch.stack"),
    ("interpolate", lambda a, b, n: _line(a, b, torch.linspace(0, 1, n)).int(), "dtype"),
]


@pytest.mark.parametrize("name, fn, expected", MALFORMED,
                         ids=[f"{m[0]}-{m[2]}" for m in MALFORMED])
def test_malformed_results_say_what_was_expected(name, fn, expected):
    result = run(name, fn)
    assert result.status == FAIL, result.marker()
    assert expected in result.message


def test_torch_not_implemented_is_not_mistaken_for_a_stub():
    def uses_unsupported(m, lv):
        raise NotImplementedError  # stands in for a learner stub

    assert run("reparameterize", uses_unsupported).status == TODO

    def torch_raises(m, lv):
        return torch.nn.Module()(m)  # a module without forward: PyTorch raises it

    result = run("reparameterize", torch_raises)
    assert result.status == FAIL


# ------------------------------------------------------------------ rendering


def test_rendering_marker_and_html():
    ok = run("linear_warmup", _warmup)
    todo = run("linear_warmup", load_functions("04_annealing", stub=True)["linear_warmup"])
    bad = run("linear_warmup", WARMUP_WRONG[0][1])
    assert ok.marker().startswith("[check] linear_warmup: PASS — ")
    assert todo.marker().startswith("[check] linear_warmup: NOT IMPLEMENTED — ")
    assert bad.marker().startswith("[check] linear_warmup: MISTAKE (warmup.off_by_one_late) — ")
    assert "#2e7d32" in ok._repr_html_()  # green
    assert "#ef6c00" in todo._repr_html_()  # orange
    assert "#c62828" in bad._repr_html_()  # red
    # the message is shown, and it is escaped
    assert "&lt;" in checks.CheckResult("x", FAIL, "a < b")._repr_html_()
    # the box leads with a sentence, not with the internal code; the code is a small tag
    headline = re.search(r"<b[^>]*>(.*?)</b>", bad._repr_html_()).group(1)
    assert headline == "✘ linear_warmup: not right yet — a known mistake."
    assert "warmup.off_by_one_late" in bad._repr_html_().split("</b>")[1].split("font-size")[-1]
    assert "not written yet" in todo._repr_html_() and "passes" in ok._repr_html_()


def test_reference_code_is_not_shown():
    """Whatever a learner gets back contains no line of the course's reference code."""
    import inspect

    from vae_course import losses, schedules

    reference = {line.strip() for mod in (losses, schedules)
                 for line in inspect.getsource(mod).splitlines()
                 if "return" in line and len(line.strip()) > 15}
    for name, label, fn, code in WRONG:
        result = run(name, fn)
        for line in reference:
            assert line not in result.message


def test_show_prints_the_marker_outside_a_notebook(capsys):
    result = checks.check_interpolate(_returns_none)  # show=True by default
    out = capsys.readouterr().out
    assert out.strip() == result.marker()
    assert result._shown


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run("reparameterize", lambda m, lv: m + _std(lv) * torch.randn_like(m))
    assert torch.equal(torch.rand(3), expected)


def test_kl_mistake_factors_are_exact():
    """The candidates behind the diagnoses really are what their names say."""
    mu, logvar = elbo_checks._kl_inputs()
    candidates = {"+".join(c): v for c, _, v in elbo_checks._kl_candidates(mu, logvar)}
    ref = candidates[""]  # one KL per image
    assert torch.allclose(candidates["kl.missing_half"], 2 * ref, rtol=1e-12)
    assert torch.allclose(candidates["kl.wrong_sign"], -ref, rtol=1e-12)
    assert torch.allclose(candidates["kl.mean_over_latent"], ref / mu.shape[1], rtol=1e-12)
    assert math.isclose(candidates["kl.batch_mean"], ref.mean(), rel_tol=1e-12)
    assert math.isclose(candidates["kl.sum_over_batch"], ref.sum(), rel_tol=1e-12)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu.double(), torch.exp(0.5 * logvar.double())),
        torch.distributions.Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(ref, expected, rtol=1e-10)


# ------------------------------------------------------------------ for scripts/exercise_table.py

# Per check: the codes its wrong implementations above must get, and the labels of its correct
# alternatives (counted by scripts/exercise_table.py, run by the tests above).
TABLES = {name: ([code for n, _, _, code in WRONG if n == name],
                 [label for n, label, _ in ALSO_CORRECT if n == name])
          for name in sorted({w[0] for w in WRONG} | {c[0] for c in ALSO_CORRECT})}
