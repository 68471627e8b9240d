"""Exercise 04's new and realigned checks: the cyclical schedule, free bits, and active units
(now with the contract of ``vae_course.metrics.active_units``). Solutions pass, stubs are "not
implemented", each wrong implementation gets its own diagnosis, correct alternatives pass."""

import numpy as np
import torch
import torch.distributions as D

from exercise_loader import each_alternative_passes, each_mistake_is_named, run
from vae_course.losses import free_bits_kl as course_free_bits_kl
from vae_course.metrics import active_units as course_active_units
from vae_course.schedules import Cyclical

# --------------------------------------------------------------------------- cyclical


def _cyc(position, clamp=True):
    def f(step, period, ratio=0.5, beta_max=1.0):
        value = position(step, period, ratio, beta_max)
        return beta_max * (min(1.0, value) if clamp else value)
    return f


CYCLICAL_WRONG = {
    "cyc.no_restart": _cyc(lambda s, p, r, m: s / (r * p)),
    "cyc.cycle_late": _cyc(lambda s, p, r, m: (s % (p + 1)) / (r * p)),
    "cyc.cycle_early": _cyc(lambda s, p, r, m: (s % (p - 1)) / (r * p)),
    "cyc.starts_above_zero": _cyc(lambda s, p, r, m: ((s + 1) % p) / (r * p)),
    "cyc.counts_from_one": _cyc(lambda s, p, r, m: ((s - 1) % p) / (r * p)),
    "cyc.ramp_late": _cyc(lambda s, p, r, m: (s % p) / (r * p + 1)),
    "cyc.ramp_early": _cyc(lambda s, p, r, m: (s % p) / (r * p - 1)),
    "cyc.ratio_ignored": _cyc(lambda s, p, r, m: (s % p) / p),
    "cyc.ratio_inverted": _cyc(lambda s, p, r, m: (s % p) / ((1 - r) * p) if r < 1 else (s % p) / p),
    "cyc.not_clamped": _cyc(lambda s, p, r, m: (s % p) / (r * p), clamp=False),
    "cyc.clamped_at_one": lambda s, p, r=0.5, m=1.0: min(1.0, m * (s % p) / (r * p)),
    "cyc.ignores_beta_max": lambda s, p, r=0.5, m=1.0: min(1.0, (s % p) / (r * p)),
    "cyc.cycle_index": _cyc(lambda s, p, r, m: (s // p) / (r * p)),
    "cyc.integer_division": _cyc(lambda s, p, r, m: (s % p) // (r * p)),
}


test_cyclical_mistakes_are_named = each_mistake_is_named("cyclical_beta", CYCLICAL_WRONG)


CYCLICAL_RIGHT = {
    "the course's schedule": lambda s, p, r=0.5, m=1.0: Cyclical(p, r, m)(s),
    "a loop that counts the cycle": lambda s, p, r=0.5, m=1.0: (
        lambda t: m * min(1.0, t / (r * p)))(s - p * (s // p)),
    "numpy": lambda s, p, r=0.5, m=1.0: float(m * np.clip(np.mod(s, p) / (r * p), 0, 1)),
    "a tensor": lambda s, p, r=0.5, m=1.0: torch.tensor(m * min(1.0, (s % p) / (r * p))),
}


test_cyclical_alternatives_pass = each_alternative_passes("cyclical_beta", CYCLICAL_RIGHT)


def test_cyclical_generic_failure_says_where_and_what():
    result = run("cyclical_beta", lambda s, p, r=0.5, m=1.0: 0.3)
    assert result.status == "fail"
    assert "should be" in result.message and "yours is 0.3" in result.message


# --------------------------------------------------------------------------- free bits


def _kl(mu, lv):
    return -0.5 * (1 + lv - mu ** 2 - lv.exp())


FREE_BITS_WRONG = {
    "fb.ignored": lambda mu, lv, fb: _kl(mu, lv).sum(1).mean(),
    "fb.clamp_total": lambda mu, lv, fb: _kl(mu, lv).sum(1).mean().clamp(min=fb),
    "fb.clamp_total_times_d": lambda mu, lv, fb: _kl(mu, lv).sum(1).mean().clamp(
        min=fb * mu.shape[1]),
    "fb.clamp_per_image": lambda mu, lv, fb: _kl(mu, lv).clamp(min=fb).sum(1).mean(),
    "fb.clamp_image_total": lambda mu, lv, fb: _kl(mu, lv).sum(1).clamp(min=fb).mean(),
    "fb.clamp_max": lambda mu, lv, fb: _kl(mu, lv).mean(0).clamp(max=fb).sum(),
    "fb.hinge": lambda mu, lv, fb: torch.relu(_kl(mu, lv).mean(0) - fb).sum(),
    "fb.mean_over_dims": lambda mu, lv, fb: _kl(mu, lv).mean(0).clamp(min=fb).mean(),
    "fb.sum_over_batch": lambda mu, lv, fb: _kl(mu, lv).sum(0).clamp(min=fb).sum(),
    "fb.missing_half": lambda mu, lv, fb: (2 * _kl(mu, lv).mean(0)).clamp(min=fb).sum(),
    "fb.bits_not_nats": lambda mu, lv, fb: _kl(mu, lv).mean(0).clamp(min=fb * np.log(2)).sum(),
    "fb.not_summed": lambda mu, lv, fb: _kl(mu, lv).mean(0).clamp(min=fb),
    "fb.not_a_tensor": lambda mu, lv, fb: sum(max(k.item(), fb) for k in _kl(mu, lv).mean(0)),
    # The gradient-free value clamped: right numbers, no gradient at all ...
    "fb.detached": lambda mu, lv, fb: _kl(mu, lv).mean(0).detach().clamp(min=fb).sum(),
    # ... or the clamp done on a detached copy and added back: dims below the floor still pushed.
    "fb.gradient_not_clamped": lambda mu, lv, fb: (lambda k: (k + (k.clamp(min=fb) - k).detach())
                                                   .sum())(_kl(mu, lv).mean(0)),
    "grad.detached": lambda mu, lv, fb: _kl(mu.detach(), lv).mean(0).clamp(min=fb).sum(),
}


test_free_bits_mistakes_are_named = each_mistake_is_named("free_bits_kl", FREE_BITS_WRONG)


def _normal_kl(mu, lv):
    q = D.Normal(mu, torch.exp(0.5 * lv))
    return D.kl_divergence(q, D.Normal(torch.zeros_like(mu), torch.ones_like(mu)))


FREE_BITS_RIGHT = {
    "the course's free_bits_kl": course_free_bits_kl,
    "torch.distributions": lambda mu, lv, fb: _normal_kl(mu, lv).mean(0).clamp(min=fb).sum(),
    "torch.where with a detached test": lambda mu, lv, fb: (lambda k: torch.where(
        k.detach() < fb, torch.full_like(k, fb), k).sum())(_kl(mu, lv).mean(0)),
    "relu(kl - fb) + fb": lambda mu, lv, fb: (torch.relu(_kl(mu, lv).mean(0) - fb) + fb).sum(),
    "a loop with torch.maximum": lambda mu, lv, fb: sum(
        torch.maximum(_kl(mu, lv)[:, j].mean(), torch.tensor(fb)) for j in range(mu.shape[1])),
    "sigma instead of logvar, rearranged": lambda mu, lv, fb: (
        0.5 * (mu ** 2 + lv.exp() - 1 - torch.log(torch.exp(0.5 * lv) ** 2))).mean(0)
    .clamp(min=fb).sum(),
}


test_free_bits_alternatives_pass = each_alternative_passes("free_bits_kl", FREE_BITS_RIGHT)


def test_free_bits_generic_failure_says_what_was_expected():
    result = run("free_bits_kl", lambda mu, lv, fb: 1.1 * _kl(mu, lv).mean(0).clamp(min=fb).sum())
    assert result.status == "fail" and "should be" in result.message and "yours is" in \
        result.message


def test_free_bits_learner_exit_becomes_feedback():
    def leaves(mu, lv, fb):
        raise SystemExit(1)

    result = run("free_bits_kl", leaves)
    assert result.status == "fail" and "SystemExit" in result.message


# --------------------------------------------------------------------------- active units


ACTIVE_WRONG = {
    "au.wrong_axis": lambda mu, t=0.01: int((mu.var(1) > t).sum()),
    "au.std_not_variance": lambda mu, t=0.01: int((mu.std(0) > t).sum()),
    "au.mean_not_variance": lambda mu, t=0.01: int((mu.mean(0).abs() > t).sum()),
    "au.second_moment": lambda mu, t=0.01: int((mu.pow(2).mean(0) > t).sum()),
    "au.counted_inactive": lambda mu, t=0.01: int((mu.var(0) <= t).sum()),
    "au.threshold_ignored": lambda mu, t=0.01: int((mu.var(0) > 0.01).sum()),
    "au.returns_mask": lambda mu, t=0.01: mu.var(0) > t,
    "au.fraction": lambda mu, t=0.01: float((mu.var(0) > t).float().mean()),
}


test_active_units_mistakes_are_named = each_mistake_is_named("active_units", ACTIVE_WRONG)


ACTIVE_RIGHT = {
    "the course's active_units": course_active_units,
    "numpy, biased variance": lambda mu, t=0.01: int((np.var(np.asarray(mu), axis=0) > t).sum()),
    "a loop over dimensions": lambda mu, t=0.01: sum(
        1 for j in range(mu.shape[1]) if ((mu[:, j] - mu[:, j].mean()) ** 2).mean() > t),
    "a 0-dim tensor": lambda mu, t=0.01: (mu.var(0) > t).sum(),
}


test_active_units_alternatives_pass = each_alternative_passes("active_units", ACTIVE_RIGHT)


def test_every_named_mistake_is_exercised():
    import re

    from vae_course.paths import COURSE_ROOT

    folder = COURSE_ROOT / "vae_course" / "checks"
    source = (folder / "annealing.py").read_text() + (folder / "free_bits.py").read_text()
    named = set(re.findall(r'"((?:cyc|fb|au)\.[a-z_]+)"', source))
    tested = set(CYCLICAL_WRONG) | set(FREE_BITS_WRONG) | set(ACTIVE_WRONG)
    assert named - tested == set(), f"no wrong implementation triggers {named - tested}"


# Per check: the codes of the wrong implementations and the labels of the correct alternatives
# above (counted by scripts/exercise_table.py).
TABLES = {"cyclical_beta": (list(CYCLICAL_WRONG), list(CYCLICAL_RIGHT)),
          "free_bits_kl": (list(FREE_BITS_WRONG), list(FREE_BITS_RIGHT)),
          "active_units": (list(ACTIVE_WRONG), list(ACTIVE_RIGHT))}
