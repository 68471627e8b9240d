"""β schedules: how much weight the KL term gets at each training step.

Each schedule is a small callable object: ``beta = schedule(step)`` with ``step`` counted from 0.
(Free bits, the other cure for posterior collapse, is a change to the KL term itself; see
``vae_course.losses.free_bits_kl``.)
"""

from .argcheck import check_int, check_number, describe, fail


class Constant:
    """β is the same at every step."""

    def __init__(self, beta=1.0):
        self.beta = check_number("beta", beta, low=0)

    def __call__(self, step):
        check_int("step", step, low=0)
        return self.beta

    def __repr__(self):
        return f"Constant(beta={self.beta:g})"


class LinearWarmup:
    """β rises linearly from 0 at step 0 to ``beta_max`` at step ``warmup_steps``, then stays.

    beta(step) = beta_max · min(1, step / warmup_steps)
    """

    def __init__(self, warmup_steps, beta_max=1.0):
        self.warmup_steps = check_int("warmup_steps", warmup_steps, low=1)
        self.beta_max = check_number("beta_max", beta_max, low=0)

    def __call__(self, step):
        check_int("step", step, low=0)
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
        self.period = check_int("period", period, low=1)
        self.ratio = check_number("ratio", ratio, low=0, high=1, strict_low=True)
        self.beta_max = check_number("beta_max", beta_max, low=0)

    def __call__(self, step):
        check_int("step", step, low=0)
        position = (step % self.period) / (self.ratio * self.period)
        return self.beta_max * min(1.0, position)

    def __repr__(self):
        return (f"Cyclical(period={self.period}, ratio={self.ratio:g}, "
                f"beta_max={self.beta_max:g})")


def as_schedule(beta):
    """Turn a number into ``Constant(beta)``; pass a schedule (any callable) through."""
    if callable(beta):
        return beta
    try:
        return Constant(beta)
    except TypeError:
        pass  # not a number: say below that a schedule would do too
    fail("beta", "a number or a schedule (a function of the step)", describe(beta), TypeError)
