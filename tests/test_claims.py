"""The claim helper of the lecture notebooks and the seed they run under."""

import json

import pytest

from vae_course.claims import CLAIMS_ENV, claim, margin
from vae_course.device import SEED_ENV, course_seed, seed_everything


def test_a_claim_inside_its_bounds_returns_the_value():
    assert claim("x", 3, above=2) == 3.0
    assert claim("x", 3, above=2, below=4) == 3.0


@pytest.mark.parametrize("value, bounds", [(2, {"above": 2}), (5, {"below": 4}),
                                           (float("nan"), {"above": 0}),
                                           (1, {"above": 2, "below": 4})])
def test_a_claim_outside_its_bounds_fails_like_an_assert_and_names_itself(value, bounds):
    with pytest.raises(AssertionError, match="claim failed: ratio"):
        claim("ratio", value, **bounds)


def test_a_claim_needs_a_bound():
    with pytest.raises(ValueError):
        claim("x", 1)


def test_margin_is_the_relative_distance_to_the_nearest_bound():
    assert margin(3, above=2) == pytest.approx(0.5)
    assert margin(0.9, above=0.5, below=1.0) == pytest.approx(0.1)
    assert margin(0.5, above=0) == pytest.approx(0.5)  # a bound of 0 counts as 1
    assert margin(1, above=2) < 0


def test_claims_are_recorded_with_the_seed_when_asked(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(CLAIMS_ENV, str(log))
    monkeypatch.setenv(SEED_ENV, "2")
    claim("first", 3, above=2)
    with pytest.raises(AssertionError):
        claim("second", 1, above=2)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["claim"], r["ok"], r["seed"]) for r in rows] == [("first", True, "2"),
                                                               ("second", False, "2")]
    assert rows[0]["margin"] == pytest.approx(0.5)


def test_the_notebook_seed_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(SEED_ENV, raising=False)
    assert course_seed() == 0 and seed_everything() == 0
    monkeypatch.setenv(SEED_ENV, "7")
    assert course_seed() == 7 and seed_everything() == 7
    assert seed_everything(3) == 3  # an explicit seed wins
    for bad in ("-1", "one", "1.5"):
        monkeypatch.setenv(SEED_ENV, bad)
        with pytest.raises(ValueError, match=SEED_ENV):
            course_seed()
