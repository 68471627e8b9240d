"""β schedules: how much weight the KL term gets at each training step.

Each schedule is a small callable object: ``beta = schedule(step)`` with ``step`` counted from 0.
(Free bits, the other cure for posterior collapse, is a change to the KL term itself; see
``vae_course.losses.free_bits_kl``.)
"""

import math
import numbers


def _check_number(name, value, low=0.0, strict=False):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value
            or math.isinf(value)):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if value < low or (strict and value == low):
        raise ValueError(f"{name}: expected a number {'>' if strict else '>='} {low}, "
                         f"got {value!r}")


def _check_step(step):
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ValueError(f"step: expected a non-negative int, got {step!r}")


class Constant:
    """β is the same at every step."""

    def __init__(self, beta=1.0):
        _check_number("beta", beta)
        self.beta = float(beta)

    def __call__(self, step):
        _check_step(step)
        return self.beta

    def __repr__(self):
        return f"Constant(beta={self.beta:g})"


class LinearWarmup:
    """β rises linearly from 0 at step 0 to ``beta_max`` at step ``warmup_steps``, then stays.

    beta(step) = beta_max · min(1, step / warmup_steps)
    """

    def __init__(self, warmup_steps, beta_max=1.0):
        if (isinstance(warmup_steps, bool) or not isinstance(warmup_steps, numbers.Integral)
                or warmup_steps < 1):
            raise ValueError(f"warmup_steps: expected a positive int, got {warmup_steps!r}")
        _check_number("beta_max", beta_max)
        self.warmup_steps, self.beta_max = int(warmup_steps), float(beta_max)

    def __call__(self, step):
        _check_step(step)
        return self.beta_max * min(1.0, step / self.warmup_steps)

    def __repr__(self):
        return f"LinearWarmup(warmup_steps={self.warmup_steps}, beta_max={self.beta_max:g})"


class Cyclical:
    """Cyclical annealing (Fu et al., 2019): the warm-up repeats every ``period`` steps.

    Within each cycle β rises linearly from 0 to ``beta_max`` over the first ``ratio`` of the
    cycle and stays at ``beta_max`` for the rest:

    beta(step) = beta_max · min(1, (step mod period) / (ratio · period))
    """

    def __init__(self, period, ratio=0.5, beta_max=1.0):
        if isinstance(period, bool) or not isinstance(period, numbers.Integral) or period < 1:
            raise ValueError(f"period: expected a positive int, got {period!r}")
        _check_number("ratio", ratio, 0.0, strict=True)
        if ratio > 1:
            raise ValueError(f"ratio: expected a number in (0, 1], got {ratio!r}")
        _check_number("beta_max", beta_max)
        self.period, self.ratio, self.beta_max = int(period), float(ratio), float(beta_max)

    def __call__(self, step):
        _check_step(step)
        position = (step % self.period) / (self.ratio * self.period)
        return self.beta_max * min(1.0, position)

    def __repr__(self):
        return (f"Cyclical(period={self.period}, ratio={self.ratio:g}, "
                f"beta_max={self.beta_max:g})")


def as_schedule(beta):
    """Turn a number into ``Constant(beta)``; pass a schedule (any callable) through."""
    if callable(beta):
        return beta
    if isinstance(beta, str) or not isinstance(beta, numbers.Real):
        raise ValueError(f"beta: expected a number or a schedule (a function of the step), "
                         f"got {beta!r}")
    return Constant(beta)
