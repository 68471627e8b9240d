"""Checks of ``kl_divergence`` and ``elbo_loss`` (exercise 03): each value is compared with every
combination of the known mistakes, so that two mistakes at once are also named."""

from itertools import product

import torch
import torch.nn.functional as F

from .compare import diagnose_value, fmt, inputs_unchanged, is_close, returned_tensor
from .framework import exercise_check
from .gradients import compare_gradients, leaves


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
# Reductions of the (batch, D) terms. The contract (as vae_course.losses.kl_divergence) is one KL
# per image, shape (batch,); the single-number ones are what a learner returns who averages or
# sums over the batch as well.
_KL_REDUCTIONS = [
    (None, "", lambda t: t.sum(1)),
    ("kl.mean_over_latent", "you averaged over the latent dimensions; the KL of an image sums "
     "them (the KL of the whole code)", lambda t: t.mean(1)),
    ("kl.batch_mean", "you averaged over the batch; kl_divergence returns one KL per image, "
     "shape (batch,), like vae_course.losses.kl_divergence (elbo_loss takes the batch mean)",
     lambda t: t.sum(1).mean()),
    ("kl.sum_over_batch", "you summed over the batch; kl_divergence returns one KL per image, "
     "shape (batch,)", lambda t: t.sum()),
    ("kl.mean_over_latent+kl.batch_mean", "you averaged over the latent dimensions and over "
     "the batch; the KL of an image sums its latent dimensions, and kl_divergence returns one "
     "per image", lambda t: t.mean()),
]
# In elbo_loss, ``kl`` is the batch mean of the per-image KL.
_ELBO_KL_REDUCTIONS = [
    (None, "", lambda t: t.sum(1).mean()),
    ("kl.mean_over_latent", "you averaged the KL over the latent dimensions; the KL of an image "
     "sums them", lambda t: t.mean()),
    ("kl.sum_over_batch", "you summed the KL over the batch; the loss averages it (nats per "
     "image)", lambda t: t.sum()),
]


def _kl_candidates(mu, logvar, reductions=None):
    """Every (codes, explanation, value) from combining up to three known KL mistakes."""
    out = []
    for (c1, t1, f), (c2, t2, k), (c3, t3, r) in product(_KL_FORMULAS, _KL_FACTORS,
                                                         reductions or _KL_REDUCTIONS):
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


def _check_kl_value(check, got, mu, logvar, what, reductions=None):
    candidates = _kl_candidates(mu, logvar, reductions)
    expected = candidates[0][2]
    if not is_close(got, expected):
        diagnose_value(check, got, candidates, expected, what)


def _kl_reference(mu, logvar):
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1)


@exercise_check("kl_divergence", "kl_divergence(mu, logvar)")
def check_kl_divergence(check, fn):
    """Check ``kl_divergence(mu, logvar) -> (batch,)``: one KL per image, summed over the latent
    dimensions (the contract of ``vae_course.losses.kl_divergence``)."""
    mu, logvar = _kl_inputs()
    b, d = mu.shape
    mine, ref = leaves(mu=mu, logvar=logvar), leaves(mu=mu, logvar=logvar)
    kl = check.call(fn, mine["mu"], mine["logvar"])
    inputs_unchanged(check, (mine["mu"], mine["logvar"]), (mu, logvar))
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (b, d):
        check.mistake("kl.not_reduced", f"you returned the element-wise terms (shape ({b}, "
                                        f"{d})); add up the latent dimensions of each image "
                                        f"(dim 1): one KL per image, shape ({b},).")
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (d,):
        check.mistake("kl.wrong_axis", f"you returned shape ({d},), one value per latent "
                                       f"dimension: you reduced over the images (dim 0). Add "
                                       f"up the latent dimensions of each image (dim 1): one "
                                       f"KL per image, shape ({b},).")
    if isinstance(kl, torch.Tensor) and kl.ndim == 0 and kl.is_floating_point():
        got = kl.detach().double()
        candidates = [c for c in _kl_candidates(mu, logvar) if c[2].ndim == 0]
        diagnose_value(check, got, candidates, _kl_reference(mu.double(), logvar.double()),
                       f"the KL (one number; expected one per image, shape ({b},))")
    got = returned_tensor(check, kl, (b,), "the KL")
    _check_kl_value(check, got, mu, logvar, "the KL")
    compare_gradients(check, kl, _kl_reference(ref["mu"], ref["logvar"]), mine, ref,
                      what="your KL")
    zero = check.call(fn, torch.zeros(3, 4), torch.zeros(3, 4))
    zero = returned_tensor(check, zero, (3,), "the KL for mu = 0, logvar = 0")
    if zero.abs().max() > 1e-6:
        check.fail(f"for mu = 0 and logvar = 0, q(z|x) is the prior N(0, I) and the KL of every "
                   f"image must be 0; yours is {fmt(zero)}.")
    return check.passed(f"KL = −½·Σ(1 + log σ² − μ² − σ²), summed over the {d} latent "
                        f"dimensions of each of the {b} images ({fmt(got)} nats), 0 when q is "
                        f"the prior, and the gradients reach mu and logvar as they should.")


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


# The known mistake behind an error the learner's elbo_loss raises, by a text of its message.
_ELBO_ERRORS = {
    "between 0 and 1": (
        "elbo.logits_to_probability_loss",
        "binary_cross_entropy (without _with_logits) expects probabilities in [0, 1], but the "
        "decoder gives logits. Use F.binary_cross_entropy_with_logits(logits, x, ...) — it "
        "applies the sigmoid itself, stably."),
}


@exercise_check("elbo_loss", "elbo_loss(logits, x, mu, logvar, beta)",
                explain=_ELBO_ERRORS)
def check_elbo_loss(check, fn):
    """Check ``elbo_loss(logits, x, mu, logvar, beta=1.0) -> (loss, recon, kl)``."""
    logits, x, mu, logvar = _elbo_inputs()
    beta = 0.5
    b, p = len(x), x[0].numel()
    mine, ref = leaves(logits=logits, mu=mu, logvar=logvar), leaves(logits=logits, mu=mu,
                                                                     logvar=logvar)
    args = [mine["logits"], x.clone(), mine["mu"], mine["logvar"]]
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
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (b,):
        check.mistake("elbo.kl_per_image", f"kl has one value per image (shape ({b},)), as "
                                           f"kl_divergence returns it; the loss uses its mean "
                                           f"over the batch.")
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
    _check_kl_value(check, got_kl, mu, logvar, "kl", _ELBO_KL_REDUCTIONS)

    ref_kl = _kl_candidates(mu, logvar, _ELBO_KL_REDUCTIONS)[0][2]
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
    expected = (F.binary_cross_entropy_with_logits(ref["logits"], x, reduction="none")
                .flatten(1).sum(1).mean() + beta * _kl_reference(ref["mu"], ref["logvar"]).mean())
    compare_gradients(check, loss, expected, mine, ref, what="your loss")
    return check.passed(f"loss = recon + β·kl with recon summed over the {p} pixels and both "
                        f"terms averaged over the batch: recon {got_recon.item():.3f}, kl "
                        f"{got_kl.item():.3f}, loss {got_loss.item():.3f} nats per image "
                        f"(β = {beta}).")
