"""Known-answer tests for the Mutual Information Gap (MIG) and the pieces it is built from.

The expected values are not numbers copied from a run: each follows from the definition
(an exact copy of a factor carries all of its entropy, a constant carries none, two equal latents
leave no gap), in the spirit of disentanglement_lib's metric tests.
"""

import math

import numpy as np
import pytest
import torch

from vae_course.metrics import _discretize, _entropy, mig, mutual_information_matrix


def factor_grid(sizes=(3, 4, 5, 6, 8)):
    """Every combination of factor values once, like the sprites: (N, K) int64."""
    grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], axis=1)


FACTORS = factor_grid()


# --- the pieces ---------------------------------------------------------------------------

def test_entropy_of_uniform_labels_is_log_n():
    for n in (1, 2, 3, 8):
        assert _entropy(np.repeat(np.arange(n), 5)) == pytest.approx(math.log(n))


def test_entropy_of_a_skewed_distribution():
    labels = np.array([0, 0, 0, 1])  # p = (3/4, 1/4)
    assert _entropy(labels) == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))


def test_discretize_puts_each_column_into_n_bins():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(1000, 3)) * np.array([1.0, 10.0, 0.01])  # different scales
    binned = _discretize(codes, 7)
    assert binned.shape == codes.shape and binned.dtype == np.int64
    for j in range(3):  # equal-width bins over each column's own range: all 7 are used
        assert binned[:, j].min() == 0 and binned[:, j].max() == 6
        assert len(np.unique(binned[:, j])) == 7
    # binning keeps the order of the values
    order = np.argsort(codes[:, 1])
    assert np.all(np.diff(binned[order, 1]) >= 0)


def test_discretize_keeps_distinct_factor_values_apart():
    col = np.arange(8, dtype=float)[:, None]
    assert len(np.unique(_discretize(col, 20))) == 8


def test_discretize_a_constant_column_gives_one_bin():
    assert len(np.unique(_discretize(np.full((50, 1), 3.0), 20))) == 1


def test_mutual_information_of_a_copy_is_the_entropy_and_of_noise_about_zero():
    rng = np.random.default_rng(0)
    codes = np.stack([FACTORS[:, 3].astype(float), rng.normal(size=len(FACTORS))], axis=1)
    mi = mutual_information_matrix(codes, FACTORS)
    assert mi.shape == (2, FACTORS.shape[1])
    assert mi[0, 3] == pytest.approx(math.log(6), rel=1e-6)  # I(v; v) = H(v)
    assert np.all(np.delete(mi[0], 3) < 1e-9)  # the copy says nothing about other factors
    assert np.all(mi[1] < 0.05)  # noise: only the small positive bias of a binned estimate
    assert np.all(mi >= -1e-12)


def test_mutual_information_accepts_tensors():
    codes = torch.tensor(FACTORS[:, :2], dtype=torch.float32)
    mi = mutual_information_matrix(codes, torch.from_numpy(FACTORS))
    assert mi[0, 0] == pytest.approx(math.log(3), rel=1e-6)


# --- MIG known answers --------------------------------------------------------------------

def test_identity_representation_scores_near_one():
    codes = FACTORS.astype(float)
    score, gaps = mig(codes, FACTORS, return_per_factor=True)
    assert score >= 0.9
    assert gaps.shape == (FACTORS.shape[1],)
    assert np.all(gaps > 0.9)


def test_mig_ignores_latent_order_monotone_warping_and_extra_noise_dims():
    rng = np.random.default_rng(1)
    noise = 0.01 * rng.normal(size=FACTORS.shape)
    warped = np.exp((FACTORS + noise) / 4.0)[:, ::-1]  # reversed order, monotone warp
    codes = np.concatenate([warped, rng.normal(size=(len(FACTORS), 3))], axis=1)
    assert mig(codes, FACTORS) >= 0.9


def test_constant_representation_scores_zero():
    assert mig(np.zeros((len(FACTORS), 6)), FACTORS) == pytest.approx(0.0, abs=1e-9)


def test_noise_representation_scores_near_zero():
    rng = np.random.default_rng(2)
    assert mig(rng.normal(size=(len(FACTORS), 8)), FACTORS) < 0.05


def test_duplicated_latents_score_low():
    # every factor is stored perfectly, but twice: the gap between the two best latents is 0
    codes = np.repeat(FACTORS.astype(float), 2, axis=1)
    assert mig(codes, FACTORS) < 0.05


def test_one_duplicated_factor_lowers_the_score_by_its_share():
    codes = np.concatenate([FACTORS, FACTORS[:, :1]], axis=1).astype(float)
    score, gaps = mig(codes, FACTORS, return_per_factor=True)
    assert gaps[0] < 0.05 and np.all(gaps[1:] > 0.9)
    assert score == pytest.approx(gaps.mean())
    assert 0.7 < score < 0.85  # 4 of 5 factors are clean


def test_mixing_two_factors_lowers_their_gaps():
    # rotate (x, y) by 45 degrees: each latent now carries half of each factor
    codes = FACTORS.astype(float)
    x, y = codes[:, 3].copy(), codes[:, 4].copy()
    codes[:, 3], codes[:, 4] = x + y, x - y
    _, gaps = mig(codes, FACTORS, return_per_factor=True)
    assert np.all(gaps[:3] > 0.9)
    assert np.all(gaps[3:] < 0.5)


def test_constant_factors_are_skipped():
    factors = np.concatenate([FACTORS, np.zeros((len(FACTORS), 1), dtype=np.int64)], axis=1)
    score, gaps = mig(FACTORS.astype(float), factors, return_per_factor=True)
    assert len(gaps) == FACTORS.shape[1]
    assert score >= 0.9


def test_mig_is_between_zero_and_one_for_random_codes():
    rng = np.random.default_rng(3)
    for _ in range(5):
        mixing = rng.normal(size=(5, 4))
        codes = FACTORS @ mixing + 0.5 * rng.normal(size=(len(FACTORS), 4))
        score = mig(codes, FACTORS)
        assert 0.0 <= score <= 1.0


# --- bad inputs ---------------------------------------------------------------------------

def test_mig_needs_two_latents():
    with pytest.raises(ValueError, match="at least 2"):
        mig(FACTORS[:, :1].astype(float), FACTORS)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="same N"):
        mig(np.zeros((10, 3)), FACTORS)


@pytest.mark.parametrize("n_bins, error", [(0, ValueError), (1, ValueError), (2.5, TypeError),
                                           (True, TypeError)])
def test_bad_n_bins_is_refused(n_bins, error):
    with pytest.raises(error, match="n_bins"):
        mig(FACTORS.astype(float), FACTORS, n_bins=n_bins)


def test_non_finite_codes_are_refused():
    codes = FACTORS.astype(float)
    codes[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        mig(codes, FACTORS)
