"""Each β schedule has exactly the values its docstring promises."""

import pytest

from vae_course.schedules import Constant, Cyclical, LinearWarmup, as_schedule


def test_constant():
    s = Constant(4.0)
    assert [s(t) for t in (0, 1, 10_000)] == [4.0, 4.0, 4.0]


def test_linear_warmup_starts_at_zero_reaches_max_at_warmup_steps_and_stays():
    s = LinearWarmup(100, beta_max=2.0)
    assert s(0) == 0.0
    assert s(50) == pytest.approx(1.0)
    assert s(99) == pytest.approx(1.98)
    assert s(100) == 2.0
    assert s(101) == 2.0 and s(10_000) == 2.0
    values = [s(t) for t in range(150)]
    assert values == sorted(values)  # never decreases


def test_cyclical_repeats_the_warmup_every_period():
    s = Cyclical(period=100, ratio=0.5, beta_max=1.0)
    assert s(0) == 0.0
    assert s(25) == pytest.approx(0.5)
    assert s(50) == 1.0 and s(99) == 1.0
    assert s(100) == 0.0  # a new cycle starts from zero
    assert s(125) == pytest.approx(0.5)
    assert [s(t) for t in range(100)] == [s(t + 300) for t in range(100)]


@pytest.mark.parametrize("make, error", [
    (lambda: LinearWarmup(0), ValueError), (lambda: LinearWarmup(1.5), TypeError),
    (lambda: Cyclical(10, ratio=0), ValueError), (lambda: Cyclical(10, ratio=2), ValueError),
    (lambda: Constant(-1), ValueError), (lambda: Constant(float("nan")), ValueError),
    (lambda: Constant("1"), TypeError)])
def test_bad_arguments_are_rejected(make, error):
    """A wrong kind of value is a TypeError, a wrong value a ValueError (as in ``argcheck``)."""
    with pytest.raises(error):
        make()


def test_negative_step_is_rejected_with_the_argument_named():
    with pytest.raises(ValueError, match="step"):
        LinearWarmup(10)(-1)


def test_as_schedule_wraps_numbers_and_passes_callables():
    assert as_schedule(3)(7) == 3.0
    warm = LinearWarmup(10)
    assert as_schedule(warm) is warm
