"""Checks of exercise 04: the linear β warm-up, one training step with it, and the count of active
units."""

import math

import torch

from .compare import inputs_unchanged, is_close, returned_number
from .framework import exercise_check


def _warmup_reference(step, warmup_steps, beta_max):
    return beta_max * min(1.0, step / warmup_steps)


_WARMUP_MISTAKES = [
    ("warmup.off_by_one_late", "β reaches beta_max one step late: divide by warmup_steps, not "
     "warmup_steps + 1, so that β(warmup_steps) = beta_max",
     lambda s, w, m: m * min(1.0, s / (w + 1))),
    ("warmup.off_by_one_early", "β reaches beta_max one step early: β(warmup_steps − 1) should "
     "still be below beta_max; divide by warmup_steps", lambda s, w, m: m * min(1.0, s / (w - 1))),
    ("warmup.starts_above_zero", "β is already above 0 at step 0 (you used step + 1): the "
     "warm-up starts at β(0) = 0 and reaches beta_max at step warmup_steps",
     lambda s, w, m: m * min(1.0, (s + 1) / w)),
    ("warmup.not_clamped", "β keeps growing after the warm-up; it must stay at beta_max "
     "(clamp with min)", lambda s, w, m: m * s / w),
    ("warmup.clamped_at_one", "β is clamped at 1 instead of at beta_max",
     lambda s, w, m: min(1.0, m * s / w)),
    ("warmup.slope_ignores_beta_max", "β is clamped at beta_max but rises with slope "
     "1/warmup_steps, so it reaches beta_max at the wrong step; scale the ramp: "
     "beta_max · min(1, step / warmup_steps)", lambda s, w, m: min(m, s / w)),
    ("warmup.ignores_beta_max", "β ends at 1 whatever beta_max is; multiply by beta_max",
     lambda s, w, m: min(1.0, s / w)),
    ("warmup.integer_division", "β jumps from 0 to beta_max instead of rising linearly "
     "(integer division step // warmup_steps?); use true division",
     lambda s, w, m: m * min(1, s // w)),
    ("warmup.decreasing", "β goes down during the warm-up; it must rise from 0 to beta_max",
     lambda s, w, m: m * max(0.0, 1 - s / w)),
]


@exercise_check("linear_warmup", "linear_warmup(step, warmup_steps, beta_max)")
def check_linear_warmup(check, fn):
    """Check ``linear_warmup(step, warmup_steps, beta_max=1.0) -> float``."""
    configs = [(10, 0.8), (4, 2.0)]
    got_all, ref_all = [], []
    for w, m in configs:
        steps = list(range(0, 3 * w + 2))
        got = [returned_number(check, check.call(fn, s, w, m), f"β at step {s}") for s in steps]
        ref = [_warmup_reference(s, w, m) for s in steps]
        got_all.append(got)
        ref_all.append(ref)
    if all(is_close(g, r) for g, r in zip(got_all, ref_all)):
        return check.passed("β rises linearly from 0 at step 0 to beta_max at step "
                            "warmup_steps and stays there.")
    for code, text, f in _WARMUP_MISTAKES:
        if all(is_close(g, [f(s, w, m) for s in range(len(g))])
               for g, (w, m) in zip(got_all, configs)):
            check.mistake(code, text + ".")
    for got, ref, (w, m) in zip(got_all, ref_all, configs):
        for s, (g, r) in enumerate(zip(got, ref)):
            if not math.isclose(g, r, rel_tol=1e-4, abs_tol=1e-6):
                check.fail(f"with warmup_steps = {w} and beta_max = {m}: at step {s} β should "
                           f"be {r:.4g}, yours is {g:.4g}.")
    check.fail("the schedule is wrong.")  # unreachable


# --------------------------------------------------------------------------- one training step


def _tiny_vae():
    """A small VAE whose noise is fixed, so one training step is exactly reproducible."""
    from ..models import VAE

    class FixedNoiseVAE(VAE):
        def reparameterize(self, mu, logvar):
            return mu + torch.exp(0.5 * logvar) * self.eps[: len(mu)]

    torch.manual_seed(3)
    model = FixedNoiseVAE(latent_dim=3, hidden=8, image_shape=(1, 4, 4))
    model.register_buffer("eps", torch.randn(5, 3))
    return model


# The known mistake behind an error the learner's train_step raises, by a text of its message.
_TRAIN_ERRORS = {
    "modified by an inplace operation": (
        "train.step_before_backward",
        "optimizer.step() ran before loss.backward(): the step changed the weights that the "
        "backward pass still needed. Order: zero_grad, forward, backward, step."),
}


@exercise_check("train_step", "train_step(model, optimizer, x, step, warmup_steps)",
                explain=_TRAIN_ERRORS)
def check_train_step(check, fn):
    """Check ``train_step(model, optimizer, x, step, warmup_steps) -> (loss, beta)``."""
    from ..losses import elbo_loss as ref_elbo

    step, warmup, lr = 3, 10, 0.1
    beta = _warmup_reference(step, warmup, 1.0)
    g = torch.Generator().manual_seed(4)
    x = (torch.rand(5, 1, 4, 4, generator=g) > 0.5).float()
    model = _tiny_vae()
    params = list(model.parameters())
    before = [p.detach().clone() for p in params]

    # Reference gradients of each term at the starting point.
    logits, mu, logvar = model(x)
    terms = ref_elbo(logits, x, mu, logvar, beta)
    g_recon = torch.autograd.grad(terms.recon, params, retain_graph=True, allow_unused=True)
    g_kl = torch.autograd.grad(terms.kl, params, allow_unused=True)
    g_recon = [torch.zeros_like(p) if g is None else g for p, g in zip(params, g_recon)]
    g_kl = [torch.zeros_like(p) if g is None else g for p, g in zip(params, g_kl)]
    ref_loss = terms.loss.item()

    stale = [torch.full_like(p, 0.37) for p in params]  # left over from an earlier step
    for p, s in zip(params, stale):
        p.grad = s.clone()
    optimizer = torch.optim.SGD(params, lr=lr)
    model.train()
    out = check.call(fn, model, optimizer, x, step, warmup)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        check.fail(f"{check.signature} should return (loss, beta) as two numbers; got "
                   f"{type(out).__name__}.")
    loss_value, beta_used = out
    if isinstance(loss_value, torch.Tensor) and loss_value.requires_grad:
        check.mistake("train.returns_tensor", "return loss.item(), not the loss tensor: a "
                                              "tensor keeps the whole graph of the step alive, "
                                              "and memory grows over a training run.")
    loss_value = returned_number(check, loss_value, "the returned loss")
    beta_used = returned_number(check, beta_used, "the returned beta")

    flat = lambda ts: torch.cat([t.detach().reshape(-1).double() for t in ts])  # noqa: E731
    delta = (flat(params) - flat(before)) / -lr
    if delta.abs().max() < 1e-9:
        check.mistake("train.no_update", "the parameters did not change: call "
                                         "optimizer.step() after loss.backward() (and "
                                         "optimizer.zero_grad() before the backward pass, not "
                                         "between backward and step).")
    basis = torch.stack([flat(stale), flat(g_recon), flat(g_kl)], dim=1)
    coef = torch.linalg.lstsq(basis, delta.unsqueeze(1)).solution.squeeze(1)
    residual = (basis @ coef - delta).norm() / delta.norm()
    a, c, b = coef.tolist()
    if residual > 1e-3:
        check.fail("the parameters moved, but not by one optimiser step on recon + β·kl of the "
                   "batch (did you call backward on something else, or step twice?).")
    if abs(a - 1) < 1e-3 and abs(c) < 1e-3 and abs(b) < 1e-3:
        check.mistake("train.step_before_backward",
                      "the update used the gradients left over from an earlier step: "
                      "optimizer.step() ran before loss.backward() (order: zero_grad, forward, "
                      "backward, step).")
    if abs(a - 1) < 1e-3:
        check.mistake("train.no_zero_grad",
                      "the update added this step's gradient to the one left over from the "
                      "previous step: call optimizer.zero_grad() before loss.backward().")
    if abs(a) > 1e-3:
        check.fail(f"the update is mixed with gradients left over from an earlier step "
                   f"(weight {a:.3g}); call optimizer.zero_grad() before loss.backward().")
    if abs(c - 1) < 1e-3 and abs(b - beta) < 1e-3:
        pass
    elif abs(c - beta) < 1e-3 and abs(b - 1) < 1e-3:
        check.mistake("train.beta_on_recon", "β weighted the reconstruction instead of the KL.")
    elif abs(c - 1) < 1e-3 and abs(b - 1) < 1e-3:
        check.mistake("train.beta_ignored",
                      f"the step used β = 1: the warm-up was not applied (at step {step} of a "
                      f"{warmup}-step warm-up β should be {beta:g}).")
    elif abs(c - 1) < 1e-3 and abs(b - _warmup_reference(step + 1, warmup, 1.0)) < 1e-3:
        check.mistake("train.beta_next_step",
                      f"the step used β(step + 1) = {b:.3g}; use β(step) = {beta:g}.")
    elif abs(c - 1) < 1e-3 and abs(b) < 1e-3:
        check.mistake("train.kl_missing", "only the reconstruction was back-propagated; the "
                                          "loss is recon + β·kl.")
    elif abs(c - 1) < 1e-3:
        check.fail(f"the step used β ≈ {b:.4g}; at step {step} of a {warmup}-step warm-up it "
                   f"should be {beta:g} (does linear_warmup pass its check?).")
    else:
        check.fail(f"the update corresponds to {c:.3g}·recon + {b:.3g}·kl; expected "
                   f"recon + {beta:g}·kl.")
    if not math.isclose(beta_used, beta, rel_tol=1e-4, abs_tol=1e-6):
        check.fail(f"the update used β = {beta:g} but you returned beta = {beta_used:.4g}.")
    if not math.isclose(loss_value, ref_loss, rel_tol=1e-4, abs_tol=1e-4):
        check.fail(f"the update is right, but the returned loss {loss_value:.4f} is not the "
                   f"loss of this batch before the step, recon + β·kl = {ref_loss:.4f}.")
    return check.passed(f"one step: zero_grad, forward, loss = recon + β·kl with β = {beta:g} "
                        f"at step {step} of the warm-up, backward, optimizer step; it returned "
                        f"the loss as a number.")


# --------------------------------------------------------------------------- active units


def _au_inputs():
    """Posterior means of 400 images, 6 latent dims with chosen spreads.

    Var over the data of mu per dimension: 1.0, 0.3, 0.05, 0.004, 0, 0.02 -> 4 active at 0.01,
    2 at 0.1. No variance lies near a threshold, so the unbiased (torch) and the biased (NumPy's
    default) variance give the same counts.
    """
    g = torch.Generator().manual_seed(5)
    n = 400
    spread = torch.tensor([1.0, 0.3, 0.05, 0.004, 0.0, 0.02])
    noise = torch.randn(n, 6, generator=g)
    noise = (noise - noise.mean(0)) / noise.std(0)  # exactly unit variance per column
    return noise * spread.sqrt() + torch.tensor([0.0, 0.5, -0.2, 0.0, 2.0, 0.0])


_AU_CANDIDATES = [
    (None, "", lambda mu, t: int((mu.var(0) > t).sum())),
    ("au.wrong_axis", "you took the variance across the latent dimensions of each image "
     "(dim=1); activity is the variance over the data of each dimension (dim=0)",
     lambda mu, t: int((mu.var(1) > t).sum())),
    ("au.std_not_variance", "you thresholded the standard deviation; the criterion is the "
     "variance, Var_x(mu_u) > threshold", lambda mu, t: int((mu.std(0) > t).sum())),
    ("au.mean_not_variance", "you thresholded the mean of mu; the criterion is its variance "
     "over the data", lambda mu, t: int((mu.mean(0).abs() > t).sum())),
    ("au.second_moment", "you thresholded the mean of mu² (the second moment); a unit whose mu "
     "sits far from 0 but never moves is not active: subtract the mean first, i.e. take the "
     "variance", lambda mu, t: int((mu.pow(2).mean(0) > t).sum())),
    ("au.counted_inactive", "you counted the inactive units (variance below the threshold)",
     lambda mu, t: int((mu.var(0) <= t).sum())),
]


@exercise_check("active_units", "active_units(mu, threshold)")
def check_active_units(check, fn):
    """Check ``active_units(mu, threshold=0.01) -> int`` (the contract of
    ``vae_course.metrics.active_units``)."""
    mu = _au_inputs()
    d = mu.shape[1]
    got = []
    for t in (0.01, 0.1):
        mu_in = mu.clone()
        value = check.call(fn, mu_in, t)
        inputs_unchanged(check, (mu_in,), (mu,))
        if isinstance(value, torch.Tensor) and value.numel() > 1 or \
                type(value).__module__.startswith("numpy") and getattr(value, "size", 1) > 1:
            check.mistake("au.returns_mask", f"you returned an array of shape "
                                             f"{tuple(value.shape)}; return the number of "
                                             f"active units as an int (sum the mask).")
        number = returned_number(check, value, "the number of active units")
        if number != int(number):
            if 0 <= number <= 1:
                check.mistake("au.fraction", f"you returned {number:.3g}, a fraction; return "
                                             f"the count of active units.")
            check.fail(f"the number of active units must be a whole number; got {number:.4g}.")
        got.append(int(number))
    expected = [_AU_CANDIDATES[0][2](mu, t) for t in (0.01, 0.1)]
    if got == expected:
        return check.passed(f"{expected[0]} of {d} units are active at threshold 0.01 and "
                            f"{expected[1]} at 0.1: Var over the data of each dimension's mu "
                            f"(the same contract as vae_course.metrics.active_units).")
    for code, text, f in _AU_CANDIDATES[1:]:
        if got == [f(mu, t) for t in (0.01, 0.1)]:
            check.mistake(code, f"{text}. (Got {got[0]} and {got[1]} active units at thresholds "
                                f"0.01 and 0.1; expected {expected[0]} and {expected[1]}.)")
    if got[0] == got[1] and expected[0] != expected[1]:
        check.mistake("au.threshold_ignored", f"you got {got[0]} active units at both "
                                              f"thresholds 0.01 and 0.1: use the threshold "
                                              f"argument instead of a fixed number.")
    check.fail(f"expected {expected[0]} active units at threshold 0.01 and {expected[1]} at "
               f"0.1 on the check's data ({d} dimensions); got {got[0]} and {got[1]}.")


# --------------------------------------------------------------------------- cyclical schedule


def _cyclical_reference(step, period, ratio, beta_max):
    """The contract of ``vae_course.schedules.Cyclical``."""
    return beta_max * min(1.0, (step % period) / (ratio * period))


# (code, explanation, f(step, period, ratio, beta_max)); checked in this order.
_CYCLICAL_MISTAKES = [
    ("cyc.no_restart", "β never starts a new cycle: it rises once and stays at beta_max. Use the "
     "position inside the current cycle, step % period",
     lambda s, p, r, m: m * min(1.0, s / (r * p))),
    ("cyc.cycle_late", "each cycle is one step too long (step % (period + 1)); a cycle is "
     "`period` steps, so β is back at 0 at step period, 2·period, …",
     lambda s, p, r, m: m * min(1.0, (s % (p + 1)) / (r * p))),
    ("cyc.cycle_early", "each cycle is one step too short (step % (period − 1)); β must be back "
     "at 0 exactly at step period, 2·period, …",
     lambda s, p, r, m: m * min(1.0, (s % (p - 1)) / (r * p))),
    ("cyc.starts_above_zero", "β is already above 0 at the start of each cycle (you counted "
     "from step + 1): β(0) = β(period) = 0",
     lambda s, p, r, m: m * min(1.0, ((s + 1) % p) / (r * p))),
    ("cyc.counts_from_one", "β is at beta_max at step 0 ((step − 1) % period wraps round to the "
     "end of a cycle): steps are counted from 0, and β(0) = 0",
     lambda s, p, r, m: m * min(1.0, ((s - 1) % p) / (r * p))),
    ("cyc.ramp_late", "β reaches beta_max one step late in each cycle: divide by ratio · period, "
     "not ratio · period + 1",
     lambda s, p, r, m: m * min(1.0, (s % p) / (r * p + 1))),
    ("cyc.ramp_early", "β reaches beta_max one step early in each cycle: divide by ratio · "
     "period, not ratio · period − 1",
     lambda s, p, r, m: m * min(1.0, (s % p) / (r * p - 1))),
    ("cyc.ratio_ignored", "β ramps up over the whole cycle; it should reach beta_max after the "
     "first `ratio` of it (ratio · period steps) and stay there",
     lambda s, p, r, m: m * (s % p) / p),
    ("cyc.ratio_inverted", "β ramps up over (1 − ratio) of the cycle; `ratio` is the part spent "
     "rising", lambda s, p, r, m: m * min(1.0, (s % p) / ((1 - r) * p)) if r < 1 else None),
    ("cyc.not_clamped", "β keeps rising past beta_max within a cycle; cap it with min(1, …)",
     lambda s, p, r, m: m * (s % p) / (r * p)),
    ("cyc.clamped_at_one", "β is capped at 1 instead of at beta_max",
     lambda s, p, r, m: min(1.0, m * (s % p) / (r * p))),
    ("cyc.ignores_beta_max", "β ends each cycle at 1 whatever beta_max is; multiply by beta_max",
     lambda s, p, r, m: min(1.0, (s % p) / (r * p))),
    ("cyc.cycle_index", "you used the number of the cycle (step // period) where the position "
     "inside it (step % period) belongs", lambda s, p, r, m: m * min(1.0, (s // p) / (r * p))),
    ("cyc.integer_division", "β jumps instead of rising linearly (integer division?); use true "
     "division", lambda s, p, r, m: m * min(1, (s % p) // (r * p))),
]
_CYCLICAL_CONFIGS = [(8, 0.5, 1.0), (10, 0.3, 2.0), (6, 1.0, 0.5)]


@exercise_check("cyclical_beta", "cyclical_beta(step, period, ratio, beta_max)")
def check_cyclical_beta(check, fn):
    """Check ``cyclical_beta(step, period, ratio=0.5, beta_max=1.0) -> float`` (the contract of
    ``vae_course.schedules.Cyclical``)."""
    got_all, ref_all = [], []
    for p, r, m in _CYCLICAL_CONFIGS:
        steps = range(3 * p + 2)
        got_all.append([returned_number(check, check.call(fn, s, p, r, m), f"β at step {s}")
                        for s in steps])
        ref_all.append([_cyclical_reference(s, p, r, m) for s in steps])
    if all(is_close(g, e) for g, e in zip(got_all, ref_all)):
        return check.passed("β restarts at 0 every `period` steps, rises linearly to beta_max "
                            "over the first `ratio` of each cycle and stays there until the next "
                            "one, as vae_course.schedules.Cyclical does.")
    for code, text, f in _CYCLICAL_MISTAKES:
        matches = []
        for got, (p, r, m) in zip(got_all, _CYCLICAL_CONFIGS):
            want = [f(s, p, r, m) for s in range(len(got))]
            matches.append(None in want or is_close(got, want))
        if all(matches):
            check.mistake(code, text + ".")
    for got, ref, (p, r, m) in zip(got_all, ref_all, _CYCLICAL_CONFIGS):
        for s, (g, e) in enumerate(zip(got, ref)):
            if not math.isclose(g, e, rel_tol=1e-4, abs_tol=1e-6):
                check.fail(f"with period = {p}, ratio = {r} and beta_max = {m}: at step {s} "
                           f"(step {s % p} of cycle {s // p}) β should be {e:.4g}, yours is "
                           f"{g:.4g}.")
    check.fail("the schedule is wrong.")  # unreachable: some step differs
