"""Checks of ``kl_divergence`` and ``elbo_loss`` (exercise 03): each value is compared with every
combination of the known mistakes, so that two mistakes at once are also named."""

from itertools import product

import torch
import torch.nn.functional as F

from .compare import (diagnose_value, inputs_unchanged, is_close, returned_number,
                      returned_tensor)
from .framework import Check, finish, run_check


# Each element-wise formula is (code, explanation, f(mu, logvar)); the reductions and the factor
# in front are combined with them below, so that two mistakes at once are also named.
_KL_FORMULAS = [
    (None, "", lambda m, lv: 1 + lv - m ** 2 - lv.exp()),
    ("kl.sigma_for_logvar", "you used sigma = exp(½·logvar) where log sigma² belongs; the "
     "second term of 1 + log sigma² − mu² − sigma² is logvar itself",
     lambda m, lv: 1 + torch.exp(0.5 * lv) - m ** 2 - lv.exp()),
    ("kl.logvar_for_variance", "you used logvar where sigma² belongs; the last term is "
     "sigma² = exp(logvar)", lambda m, lv: 1 + lv - m ** 2 - lv),
    ("kl.sigma_for_variance", "you used sigma = exp(½·logvar) where sigma² = exp(logvar) "
     "belongs (last term)", lambda m, lv: 1 + lv - m ** 2 - torch.exp(0.5 * lv)),
    ("kl.mu_not_squared", "mu must be squared: the term is mu²",
     lambda m, lv: 1 + lv - m - lv.exp()),
    ("kl.missing_one", "the 1 inside the bracket is missing: −½·Σ(1 + log sigma² − mu² − "
     "sigma²)", lambda m, lv: lv - m ** 2 - lv.exp()),
]
_KL_FACTORS = [
    (None, "", -0.5),
    ("kl.missing_half", "your KL is exactly twice the right value: the ½ in front of the sum "
     "is missing", -1.0),
    ("kl.wrong_sign", "your KL has the wrong sign (a KL divergence is never negative): the "
     "factor in front is −½, not +½", 0.5),
]
_KL_REDUCTIONS = [
    (None, "", lambda t: t.sum(1).mean()),
    ("kl.mean_over_latent", "you averaged over the latent dimensions; the course sums them "
     "(the KL of the whole code) and averages only over the batch", lambda t: t.mean()),
    ("kl.sum_over_batch", "you summed over the batch; the course averages over it, so the "
     "result is in nats per image", lambda t: t.sum()),
    ("kl.mean_over_latent+kl.sum_over_batch", "you averaged over the latent dimensions and "
     "summed over the batch; the course does the opposite: sum over latent dimensions, mean "
     "over the batch",
     lambda t: t.mean(1).sum()),
]


def _kl_candidates(mu, logvar):
    """Every (codes, explanation, value) from combining up to three known KL mistakes."""
    out = []
    for (c1, t1, f), (c2, t2, k), (c3, t3, r) in product(_KL_FORMULAS, _KL_FACTORS,
                                                         _KL_REDUCTIONS):
        codes = [c for c in (c1, c2, c3) if c]
        texts = [t for t in (t1, t2, t3) if t]
        value = r(k * f(mu.double(), logvar.double()))
        out.append((codes, texts, value))
    out.sort(key=lambda item: len(item[0]))
    return out



def _kl_inputs():
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(6, 4, generator=g)
    logvar = torch.rand(6, 4, generator=g) * 3 - 2
    return mu, logvar


def _check_kl_value(check, got, mu, logvar, what):
    candidates = _kl_candidates(mu, logvar)
    expected = candidates[0][2]
    if not is_close(got, expected):
        diagnose_value(check, got, candidates, expected, what)


def _kl_body(check, fn):
    mu, logvar = _kl_inputs()
    b, d = mu.shape
    mu_in, lv_in = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    kl = check.call(fn, mu_in, lv_in)
    inputs_unchanged(check, (mu_in, lv_in), (mu, logvar))
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (b,):
        check.mistake("kl.per_image", f"you returned one KL per image (shape ({b},)); the "
                                      f"contract is one number: the mean over the batch of "
                                      f"the per-image KL (nats per image).")
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (b, d):
        check.mistake("kl.not_reduced", f"you returned the element-wise terms (shape ({b}, "
                                        f"{d})); sum over the latent dimensions, then average "
                                        f"over the batch.")
    got = returned_tensor(check, kl, (), "the KL")
    _check_kl_value(check, got, mu, logvar, "the KL")
    if not kl.requires_grad:
        check.mistake("kl.detached", "the KL value is right but carries no gradient (did you "
                                     "use .item(), .detach(), NumPy or torch.no_grad()?). The "
                                     "loss must be differentiable in mu and logvar.")
    zero = check.call(fn, torch.zeros(3, 4), torch.zeros(3, 4))
    if abs(returned_number(check, zero, "the KL for mu = 0, logvar = 0")) > 1e-6:
        check.fail(f"for mu = 0 and logvar = 0, q(z|x) is the prior N(0, I) and the KL must be "
                   f"0; yours is {returned_number(check, zero):.4g}.")
    return check.passed(f"KL = −½·Σ(1 + log σ² − μ² − σ²), summed over the {d} latent "
                        f"dimensions and averaged over the batch of {b}: {got.item():.4f} nats "
                        f"per image, as expected.")


def check_kl_divergence(fn, show=True):
    """Check ``kl_divergence(mu, logvar) -> 0-dim tensor`` (sum over dims, mean over batch)."""
    check = Check("kl_divergence", "kl_divergence(mu, logvar)")
    return finish(run_check(check, _kl_body, fn), show)


# --------------------------------------------------------------------------- ELBO loss

_RECON_FORMULAS = [
    (None, "", lambda lg, x: F.binary_cross_entropy_with_logits(lg, x, reduction="none")),
    ("elbo.sigmoid_before_logits_loss", "you applied a sigmoid to the logits and then used a "
     "with-logits loss, which applies the sigmoid again; pass the logits themselves",
     lambda lg, x: F.binary_cross_entropy_with_logits(torch.sigmoid(lg), x, reduction="none")),
    ("elbo.mse_not_bce", "you used a squared error; this exercise uses the Bernoulli "
     "likelihood, i.e. binary cross-entropy on the logits",
     lambda lg, x: (torch.sigmoid(lg) - x) ** 2),
    ("elbo.mse_not_bce", "you used a squared error between logits and pixels; this exercise "
     "uses binary cross-entropy on the logits", lambda lg, x: (lg - x) ** 2),
    ("elbo.swapped_arguments", "the arguments of the cross-entropy are swapped: "
     "binary_cross_entropy_with_logits(logits, x), prediction first, target second",
     lambda lg, x: F.binary_cross_entropy_with_logits(x, lg, reduction="none")),
    ("elbo.recon_wrong_sign", "the reconstruction term has the wrong sign: the loss is the "
     "negative log-likelihood, which is positive",
     lambda lg, x: -F.binary_cross_entropy_with_logits(lg, x, reduction="none")),
]
_RECON_REDUCTIONS = [
    (None, "", lambda t: t.flatten(1).sum(1).mean()),
    ("elbo.recon_mean_over_pixels", "you averaged the reconstruction over the pixels; the "
     "course sums it (log-likelihood of the whole image). Averaging silently makes the KL "
     "weigh as much as β times the number of pixels", lambda t: t.mean()),
    ("elbo.recon_sum_over_batch", "you summed the reconstruction over the batch; the course "
     "averages over it (nats per image)", lambda t: t.sum()),
]


def _elbo_inputs():
    g = torch.Generator().manual_seed(2)
    x = (torch.rand(4, 1, 5, 5, generator=g) > 0.5).float()
    x[:, :, 2] = torch.rand(4, 1, 5, generator=g)  # some grey pixels too
    logits = torch.randn(4, 1, 5, 5, generator=g) * 2
    mu = torch.randn(4, 3, generator=g)
    logvar = torch.rand(4, 3, generator=g) * 2 - 1
    return logits, x, mu, logvar


def _explain_elbo_error(err):
    text = str(err)
    if "between 0 and 1" in text:
        return ("elbo.logits_to_probability_loss",
                "binary_cross_entropy (without _with_logits) expects probabilities in [0, 1], "
                "but the decoder gives logits. Use F.binary_cross_entropy_with_logits(logits, "
                "x, ...) — it applies the sigmoid itself, stably.")
    return None


def _elbo_body(check, fn):
    logits, x, mu, logvar = _elbo_inputs()
    beta = 0.5
    b, p = len(x), x[0].numel()
    args = [t.clone().requires_grad_() if i != 1 else t.clone()
            for i, t in enumerate((logits, x, mu, logvar))]
    out = check.call(fn, *args, beta=beta)
    inputs_unchanged(check, args, (logits, x, mu, logvar))
    if isinstance(out, torch.Tensor) or not isinstance(out, (tuple, list)) or len(out) != 3:
        check.fail(f"{check.signature} should return three scalar tensors (loss, recon, kl); "
                   f"got {type(out).__name__}"
                   f"{' of length ' + str(len(out)) if isinstance(out, (tuple, list)) else ''}.")
    loss, recon, kl = out
    if isinstance(recon, torch.Tensor) and tuple(recon.shape) == (b,):
        check.mistake("elbo.recon_per_image", f"recon has one value per image (shape ({b},)); "
                                              f"average it over the batch.")
    got_recon = returned_tensor(check, recon, (), "recon")
    got_kl = returned_tensor(check, kl, (), "kl")
    got_loss = returned_tensor(check, loss, (), "loss")

    candidates = []
    for (c1, t1, f), (c2, t2, r) in product(_RECON_FORMULAS, _RECON_REDUCTIONS):
        candidates.append(([c for c in (c1, c2) if c], [t for t in (t1, t2) if t],
                           r(f(logits.double(), x.double()))))
    candidates.sort(key=lambda item: len(item[0]))
    ref_recon = candidates[0][2]
    if not is_close(got_recon, ref_recon):
        diagnose_value(check, got_recon, candidates, ref_recon, "recon")
    _check_kl_value(check, got_kl, mu, logvar, "kl")

    ref_kl = _kl_candidates(mu, logvar)[0][2]
    ref_loss = ref_recon + beta * ref_kl
    if not is_close(got_loss, ref_loss):
        r, k = ref_recon, ref_kl
        compositions = [
            (["elbo.beta_on_recon"], ["β multiplies the reconstruction; it belongs on the KL "
                                      "term: loss = recon + β·kl"], beta * r + k),
            (["elbo.beta_ignored"], ["β is not used: loss = recon + β·kl"], r + k),
            (["elbo.beta_on_both"], ["β multiplies both terms; only the KL is weighted: "
                                     "loss = recon + β·kl"], beta * (r + k)),
            (["elbo.beta_divides"], ["you divided the KL by β; multiply: loss = recon + β·kl"],
             r + k / beta),
            (["elbo.kl_subtracted"], ["the KL is subtracted; the loss (negative ELBO) adds it: "
                                      "loss = recon + β·kl"], r - beta * k),
            (["elbo.returns_elbo"], ["you returned the ELBO itself; the loss to minimise is the "
                                     "negative ELBO, recon + β·kl"], -(r + beta * k)),
        ]
        diagnose_value(check, got_loss, compositions, ref_loss, f"loss (with beta = {beta})")
    if not loss.requires_grad:
        check.mistake("elbo.detached", "the loss value is right but carries no gradient; keep "
                                       "it a tensor (no .item(), .detach() or NumPy).")
    grads = torch.autograd.grad(loss, [args[0], args[2], args[3]], allow_unused=True)
    for name, grad in zip(("logits", "mu", "logvar"), grads):
        if grad is None or not grad.abs().sum() > 0:
            check.mistake("elbo.detached", f"no gradient flows from the loss to {name}; every "
                                           f"term must be computed with torch operations on the "
                                           f"inputs.")
    return check.passed(f"loss = recon + β·kl with recon summed over the {p} pixels and both "
                        f"terms averaged over the batch: recon {got_recon.item():.3f}, kl "
                        f"{got_kl.item():.3f}, loss {got_loss.item():.3f} nats per image "
                        f"(β = {beta}).")


def check_elbo_loss(fn, show=True):
    """Check ``elbo_loss(logits, x, mu, logvar, beta=1.0) -> (loss, recon, kl)``."""
    check = Check("elbo_loss", "elbo_loss(logits, x, mu, logvar, beta)",
                   explain=_explain_elbo_error)
    return finish(run_check(check, _elbo_body, fn), show)
