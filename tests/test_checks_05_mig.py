"""Exercise 05's new checks: binning a code and the mutual information of two discrete
variables (the steps of ``vae_course.metrics.mutual_information_matrix``). Solutions pass, stubs
are "not implemented", each wrong implementation gets its own diagnosis, alternatives pass."""

import math
from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.metrics import (adjusted_mutual_info_score, mutual_info_score,
                             normalized_mutual_info_score)

from exercise_loader import each_alternative_passes, each_mistake_is_named, run

# --------------------------------------------------------------------------- discretize


def _floor_bins(codes, n_bins, clip=True):
    low, high = codes.min(0).values, codes.max(0).values
    index = torch.floor((codes - low) / (high - low) * n_bins).long()
    return index.clamp(max=n_bins - 1) if clip else index


def _columns(codes, edges_of):
    c = np.asarray(codes, dtype=float)
    return np.stack([np.digitize(c[:, j], edges_of(c[:, j])) for j in range(c.shape[1])], 1)


DISCRETIZE_WRONG = {
    "disc.max_own_bin": lambda codes, n_bins=20: _floor_bins(codes, n_bins, clip=False),
    "disc.counts_from_one": lambda codes, n_bins=20: _columns(
        codes, lambda col: np.histogram_bin_edges(col, n_bins)),
    "disc.global_range": lambda codes, n_bins=20: torch.floor(
        (codes - codes.min()) / (codes.max() - codes.min()) * n_bins).clamp(max=n_bins - 1),
    "disc.per_row": lambda codes, n_bins=20: _floor_bins(codes.T, n_bins).T,
    "disc.quantile_bins": lambda codes, n_bins=20: codes.argsort(0).argsort(0) * n_bins
    // len(codes),
    "disc.rounded": lambda codes, n_bins=20: codes.round(),
    "disc.n_bins_ignored": lambda codes, n_bins=20: _floor_bins(codes, 20),
    "disc.transposed": lambda codes, n_bins=20: _floor_bins(codes, n_bins).T,
}


test_discretize_mistakes_are_named = each_mistake_is_named("discretize", DISCRETIZE_WRONG)


DISCRETIZE_RIGHT = {
    "torch floor and clamp": _floor_bins,
    "numpy linspace edges": lambda codes, n_bins=20: _columns(
        codes, lambda col: np.linspace(col.min(), col.max(), n_bins + 1)[1:-1]),
    "numpy histogram edges": lambda codes, n_bins=20: _columns(
        codes, lambda col: np.histogram_bin_edges(col, n_bins)[1:-1]),
    "torch.bucketize": lambda codes, n_bins=20: torch.stack([torch.bucketize(
        col, torch.linspace(float(col.min()), float(col.max()), n_bins + 1)[1:-1], right=True)
        for col in codes.double().T.contiguous()], 1),
}


test_discretize_alternatives_pass = each_alternative_passes("discretize", DISCRETIZE_RIGHT)


def test_discretize_generic_failure_shows_an_entry():
    def one_entry_off(codes, n_bins=20):
        bins = _floor_bins(codes, n_bins)
        bins[0, 0] = (bins[0, 0] + 1) % n_bins
        return bins

    result = run("discretize", one_entry_off)
    assert result.status == "fail" and "1 of 2000 entries" in result.message
    assert "belongs in bin" in result.message


# --------------------------------------------------------------------------- mutual information


def _loop_mi(a, b, log=math.log):
    a, b = np.asarray(a).tolist(), np.asarray(b).tolist()
    n, ca, cb = len(a), Counter(a), Counter(b)
    return sum(c / n * log((c / n) / (ca[x] / n * cb[y] / n))
               for (x, y), c in Counter(zip(a, b)).items())


def _entropy(a):
    _, counts = np.unique(np.asarray(a), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def _joint_entropy(a, b):
    pairs = np.stack([np.asarray(a), np.asarray(b)])
    _, counts = np.unique(pairs, axis=1, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


MI_WRONG = {
    "mi.bits": lambda a, b: _loop_mi(a, b, math.log2),
    "mi.log10": lambda a, b: _loop_mi(a, b, math.log10),
    "mi.wrong_sign": lambda a, b: -_loop_mi(a, b),
    "mi.counts_not_probabilities": lambda a, b: _loop_mi(a, b) - math.log(len(a)),
    "mi.unweighted": lambda a, b: (lambda a, b, n: sum(
        math.log((c / n) / ((a == x).mean() * (b == y).mean()))
        for (x, y), c in Counter(zip(a.tolist(), b.tolist())).items()))(
            np.asarray(a), np.asarray(b), len(a)),
    "mi.entropy_of_first": lambda a, b: _entropy(a),
    "mi.entropy_of_second": lambda a, b: _entropy(b),
    "mi.joint_entropy": _joint_entropy,
    "mi.conditional_entropy": lambda a, b: _joint_entropy(a, b) - _entropy(b),
    "mi.normalised": lambda a, b: normalized_mutual_info_score(a, b),
    "mi.adjusted": lambda a, b: adjusted_mutual_info_score(a, b),
}


test_mutual_information_mistakes_are_named = each_mistake_is_named("mutual_information", MI_WRONG)


def _torch_mi(a, b):
    _, ia = torch.unique(a, return_inverse=True)
    _, ib = torch.unique(b, return_inverse=True)
    joint = torch.zeros(int(ia.max()) + 1, int(ib.max()) + 1, dtype=torch.float64)
    joint.index_put_((ia, ib), torch.ones(len(a), dtype=torch.float64), accumulate=True)
    joint /= joint.sum()
    outer = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
    seen = joint > 0
    return (joint[seen] * torch.log(joint[seen] / outer[seen])).sum()


MI_RIGHT = {
    "scikit-learn": mutual_info_score,
    "a loop over pairs": _loop_mi,
    "torch, returning a 0-dim tensor": _torch_mi,
    "H(a) + H(b) - H(a, b)": lambda a, b: _entropy(a) + _entropy(b) - _joint_entropy(a, b),
}


test_mutual_information_alternatives_pass = each_alternative_passes("mutual_information", MI_RIGHT)


def test_mutual_information_generic_failure_gives_both_numbers():
    result = run("mutual_information", lambda a, b: 1.01 * _loop_mi(a, b))
    assert result.status == "fail" and "should be" in result.message and "yours is" in \
        result.message


def test_mutual_information_nan_is_feedback():
    result = run("mutual_information", lambda a, b: float("nan"))
    assert result.status == "fail" and "finite" in result.message


def test_every_named_mistake_is_exercised():
    import re

    from vae_course.paths import COURSE_ROOT

    source = (COURSE_ROOT / "vae_course" / "checks" / "information.py").read_text()
    named = set(re.findall(r'"((?:disc|mi)\.[a-z_]+)"', source))
    tested = set(DISCRETIZE_WRONG) | set(MI_WRONG)
    assert named - tested == set(), f"no wrong implementation triggers {named - tested}"


@pytest.mark.parametrize("name", ["discretize", "mutual_information"])
def test_learner_exit_becomes_feedback(name):
    def exits(*args):
        exit()

    result = run(name, exits)
    assert result.status == "fail" and "SystemExit" in result.message


# Per check: the codes of the wrong implementations and the labels of the correct alternatives
# above (counted by scripts/exercise_table.py).
TABLES = {"discretize": (list(DISCRETIZE_WRONG), list(DISCRETIZE_RIGHT)),
          "mutual_information": (list(MI_WRONG), list(MI_RIGHT))}
