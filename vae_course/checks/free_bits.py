"""Check of exercise 04's free bits: the KL term with a floor under each latent dimension.

Contract (that of ``vae_course.losses.free_bits_kl``): for each latent dimension, the KL averaged
over the batch counts as at least ``free_bits`` nats; the clamped values are summed over the
dimensions. The result is a 0-dim tensor that stays differentiable: a dimension above the floor
gets the KL's gradient, a dimension below it gets none (that is the point: the optimiser gains
nothing by squeezing it further).
"""

import torch

from .compare import fmt, inputs_unchanged, is_close, returned_tensor
from .framework import exercise_check
from .gradients import compare_gradients, leaves


def _kl_elements(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def _reference(mu, logvar, free_bits):
    return _kl_elements(mu, logvar).mean(0).clamp(min=free_bits).sum()


def _inputs():
    """Two batches. The first: 5 dimensions whose batch-mean KL lies clearly above or below the
    floors used (0.5, 0.2 and 1.2 nats), with single images on both sides of a floor, so that
    clamping per image, per dimension or the total all give different numbers. The second: a
    nearly collapsed code whose total KL is below one floor."""
    g = torch.Generator().manual_seed(11)
    mu = torch.randn(6, 5, generator=g) * torch.tensor([1.6, 0.9, 0.45, 0.25, 0.1])
    logvar = torch.randn(6, 5, generator=g) * 0.3 + torch.tensor([-1.5, -0.6, -0.2, 0.1, 0.0])
    g2 = torch.Generator().manual_seed(12)
    mu2 = torch.randn(4, 3, generator=g2) * 0.05
    logvar2 = torch.randn(4, 3, generator=g2) * 0.05
    return [(mu, logvar, 0.5), (mu, logvar, 0.2), (mu, logvar, 1.2), (mu2, logvar2, 0.5)]


def _candidates(mu, logvar, fb):
    """(code, explanation, value) for each known mistake, computed in float64."""
    mu, logvar = mu.double(), logvar.double()
    e = _kl_elements(mu, logvar)
    per_dim = e.mean(0)
    d = mu.shape[1]
    return [
        ("fb.ignored", "the floor is not applied: this is the plain KL. Each dimension's "
         "batch-mean KL must count as at least free_bits nats", e.sum(1).mean()),
        ("fb.clamp_total", "you clamped the total KL (summed over dimensions); the floor is per "
         "latent dimension, so that one busy dimension cannot pay for the collapsed ones",
         e.sum(1).mean().clamp(min=fb)),
        ("fb.clamp_total_times_d", "you clamped the total KL at latent_dim · free_bits; the floor "
         "is per dimension: a busy dimension must not pay for the collapsed ones",
         e.sum(1).mean().clamp(min=fb * d)),
        ("fb.clamp_per_image", "you clamped each image's KL in each dimension before averaging "
         "over the batch; the floor applies to each dimension's batch-mean KL",
         e.clamp(min=fb).sum(1).mean()),
        ("fb.clamp_image_total", "you clamped each image's total KL; the floor applies per latent "
         "dimension, to the KL averaged over the batch", e.sum(1).clamp(min=fb).mean()),
        ("fb.clamp_max", "you capped the KL from above (clamp(max=...)); free bits is a floor: "
         "clamp(min=free_bits)", per_dim.clamp(max=fb).sum()),
        ("fb.hinge", "you subtracted the free bits (max(0, KL − free_bits)); the KL counts as "
         "max(KL, free_bits) — the same gradient, but a different value to report",
         (per_dim - fb).clamp(min=0).sum()),
        ("fb.mean_over_dims", "you averaged the clamped values over the latent dimensions; sum "
         "them (the KL of the whole code)", per_dim.clamp(min=fb).mean()),
        ("fb.sum_over_batch", "you summed over the batch; average each dimension's KL over the "
         "batch (nats per image) before the floor", e.sum(0).clamp(min=fb).sum()),
        ("fb.missing_half", "the ½ of the KL is missing: each dimension's KL is "
         "−½·(1 + log σ² − μ² − σ²)", (2 * per_dim).clamp(min=fb).sum()),
        ("fb.bits_not_nats", "you converted the floor to bits (or nats to bits); the course "
         "measures KL and free_bits in nats", per_dim.clamp(min=fb * 0.6931471805599453).sum()),
    ]


@exercise_check("free_bits_kl", "free_bits_kl(mu, logvar, free_bits)")
def check_free_bits_kl(check, fn):
    """Check ``free_bits_kl(mu, logvar, free_bits) -> 0-dim tensor`` (the contract of
    ``vae_course.losses.free_bits_kl``)."""
    cases = _inputs()
    results = []
    for mu, logvar, fb in cases:
        mine = leaves(mu=mu, logvar=logvar)
        ref = leaves(mu=mu, logvar=logvar)
        out = check.call(fn, mine["mu"], mine["logvar"], fb)
        inputs_unchanged(check, (mine["mu"], mine["logvar"]), (mu, logvar))
        if isinstance(out, torch.Tensor) and tuple(out.shape) == (mu.shape[1],):
            check.mistake("fb.not_summed", f"you returned one value per latent dimension (shape "
                                           f"{tuple(out.shape)}); sum the clamped values into "
                                           f"one number.")
        if isinstance(out, (int, float)) and not isinstance(out, bool):
            check.mistake("fb.not_a_tensor", f"you returned a Python number ({out:.4g}): the "
                                             f"KL term must stay a tensor so the loss can be "
                                             f"back-propagated (no .item() or max() of floats).")
        got = returned_tensor(check, out, (), "the free-bits KL")
        results.append((mu, logvar, fb, mine, ref, out, got))
    for mu, logvar, fb, _, _, _, got in results:
        expected = _reference(mu.double(), logvar.double(), fb)
        if is_close(got, expected):
            continue
        for code, text, value in _candidates(mu, logvar, fb):
            if is_close(got, value) and all(
                    is_close(g, dict((c, v) for c, _, v in _candidates(m, lv, f))[code])
                    for m, lv, f, _, _, _, g in results):
                check.mistake(code, f"{text}. (With free_bits = {fb}: got {fmt(got)}, expected "
                                    f"{fmt(expected)}.)")
        per_dim = _kl_elements(mu.double(), logvar.double()).mean(0)
        check.fail(f"with free_bits = {fb} on a batch of {len(mu)} codes whose per-dimension KL "
                   f"(batch mean) is {fmt(per_dim)}, the free-bits KL should be "
                   f"{fmt(expected)}; yours is {fmt(got)}.")
    # Values are right everywhere; now the gradients, where free bits earns its keep.
    for mu, logvar, fb, mine, ref, out, got in results:
        if not isinstance(out, torch.Tensor) or out.grad_fn is None:
            check.mistake("fb.detached", "the value is right but carries no gradient: the floor "
                                         "was applied to a detached copy (.detach(), .item(), "
                                         "NumPy, a Python max()). Clamp the tensor itself: "
                                         "torch.clamp(kl_per_dim, min=free_bits).")
        plain = leaves(mu=mu, logvar=logvar)
        plain_kl = _kl_elements(plain["mu"], plain["logvar"]).sum(1).mean()
        cot = torch.tensor(1.0)
        g_mine = torch.autograd.grad(out, [mine["mu"], mine["logvar"]], cot.to(out.dtype),
                                     retain_graph=True, allow_unused=True)
        g_plain = torch.autograd.grad(plain_kl, [plain["mu"], plain["logvar"]])
        below = int((_kl_elements(mu, logvar).mean(0) < fb).sum())
        if below and all(a is not None and torch.allclose(a.double(), b.double(), atol=1e-6)
                         for a, b in zip(g_mine, g_plain)):
            check.mistake("fb.gradient_not_clamped",
                          f"the value is clamped but the gradient is the plain KL's: the {below} "
                          f"dimension(s) below the floor are still pushed towards 0 (a clamp "
                          f"of a detached value added to the KL, e.g. kl + (kl.clamp(...) − "
                          f"kl).detach()). Clamp the KL tensor itself, so a dimension below the "
                          f"floor gets no gradient.")
        expected = _reference(ref["mu"], ref["logvar"], fb)
        compare_gradients(check, out, expected, mine, ref,
                          what=f"your free-bits KL (free_bits = {fb})")
    return check.passed("each dimension's batch-mean KL is floored at free_bits and the floors "
                        "are summed; dimensions below the floor get no gradient, the others the "
                        "KL's own, as in vae_course.losses.free_bits_kl.")
