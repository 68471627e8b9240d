"""Checks of exercise 05's first two tasks: binning a code, and the mutual information between
two discrete variables — the two steps ``vae_course.metrics.mutual_information_matrix`` takes
before MIG.

Neither result needs a gradient (MIG is a score, not a loss), so NumPy, torch, loops and
scikit-learn are all fine; the checks compare values only.
"""

import math

import numpy as np
import torch

from .compare import fmt
from .framework import exercise_check


def _as_array(check, value, shape, what):
    """What the learner returned, as a NumPy array of the expected shape (any numeric type)."""
    if value is None:
        check.fail(f"{check.signature} returned None: did you forget the `return` statement? "
                   f"Expected an array of shape {shape}.")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything that is not array-like
        check.fail(f"{what} is a {type(value).__name__}; expected an array of shape {shape}.")
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        check.fail(f"{what} is a {type(value).__name__} of {array.dtype}; expected integer bin "
                   f"indices, shape {shape}.")
    if array.shape != tuple(shape):
        if array.shape == tuple(shape)[::-1]:
            check.mistake("disc.transposed", f"{what} has shape {array.shape}: one row per "
                                             f"image and one column per latent is expected, "
                                             f"shape {tuple(shape)}.")
        check.fail(f"{what} has shape {array.shape}; expected {tuple(shape)} (one bin index "
                   f"per entry of codes).")
    return array


# --------------------------------------------------------------------------- discretize


def _bins_reference(codes, n_bins):
    """The contract of ``vae_course.metrics``' binning (as disentanglement_lib): equal-width
    bins over each column's own range, indices 0 … n_bins − 1, the maximum in the last bin."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins=n_bins)
        out[:, j] = np.digitize(codes[:, j], edges[1:-1])
    return out


def _bins_mistakes(codes, n_bins):
    lo, hi = codes.min(0), codes.max(0)
    width = (hi - lo) / n_bins
    raw = np.floor((codes - lo) / width).astype(np.int64)  # max lands in bin n_bins
    glo, ghi = codes.min(), codes.max()
    global_bins = np.clip(np.floor((codes - glo) / ((ghi - glo) / n_bins)), 0, n_bins - 1)
    row_lo, row_hi = codes.min(1, keepdims=True), codes.max(1, keepdims=True)
    row_bins = np.clip(np.floor((codes - row_lo) / ((row_hi - row_lo) / n_bins)), 0, n_bins - 1)
    ranks = codes.argsort(0).argsort(0)
    quantile = (ranks * n_bins) // len(codes)
    digitize_all = np.stack([np.digitize(codes[:, j], np.histogram_bin_edges(codes[:, j],
                                                                             bins=n_bins))
                             for j in range(codes.shape[1])], 1)
    return [
        ("disc.max_own_bin", "the largest value of each column got an index of its own, n_bins: "
         "floor((x − min) / width) puts the maximum one past the last bin. Clip it into bin "
         "n_bins − 1 (the last bin includes its right edge)", raw),
        ("disc.counts_from_one", "your bin indices start at 1 (np.digitize with all the edges); "
         "they run from 0 to n_bins − 1: give np.digitize the inner edges only, edges[1:-1]",
         digitize_all),
        ("disc.global_range", "you used one range for all columns; each latent is binned over "
         "its own range (min to max of that column), so a latent with a small spread still "
         "gets n_bins bins", global_bins),
        ("disc.per_row", "you binned each row (each image) over its own range; bin each column "
         "(each latent) over the range of its values across the images", row_bins),
        ("disc.quantile_bins", "you made equal-count (quantile) bins; the course uses equal-width "
         "bins over each column's range", quantile),
        ("disc.rounded", "you rounded the codes to integers instead of binning them into n_bins "
         "equal-width bins", np.round(codes)),
    ]


def _discretize_inputs():
    rng = np.random.default_rng(21)
    codes = rng.standard_normal((500, 4)) * np.array([1.0, 0.05, 3.0, 0.6]) \
        + np.array([0.0, 2.0, -1.0, 0.3])
    codes[:, 3] = rng.uniform(-0.5, 0.5, 500)
    return codes.astype(np.float32)


@exercise_check("discretize", "discretize(codes, n_bins)")
def check_discretize(check, fn):
    """Check ``discretize(codes, n_bins=20) -> (N, D) integer bin indices``."""
    codes = _discretize_inputs()
    got_all, ref_all = [], []
    for n_bins in (20, 7):
        tensor = torch.from_numpy(codes.copy())
        out = check.call(fn, tensor, n_bins)
        if not torch.equal(tensor, torch.from_numpy(codes)):
            check.mistake("inputs.modified_in_place", f"{check.signature} changed codes in "
                                                      f"place; compute new arrays instead.")
        got = _as_array(check, out, codes.shape, f"the bins for n_bins = {n_bins}")
        got_all.append(got)
        ref_all.append(_bins_reference(codes.astype(np.float64), n_bins))
    if all(np.array_equal(g, r) for g, r in zip(got_all, ref_all)):
        return check.passed("each latent binned into n_bins equal-width bins over its own "
                            "range, indices 0 … n_bins − 1, as vae_course.metrics does before "
                            "it measures mutual information.")
    if all(got.max() == n and np.array_equal(np.minimum(got, n - 1), ref)
           for got, ref, n in zip(got_all, ref_all, (20, 7))):
        check.mistake("disc.max_own_bin", _bins_mistakes(codes.astype(np.float64), 20)[0][1]
                      + ".")
    for code, text, _ in _bins_mistakes(codes.astype(np.float64), 20):
        if all(np.array_equal(g, dict((c, v) for c, _, v in _bins_mistakes(
                codes.astype(np.float64), n))[code]) for g, n in zip(got_all, (20, 7))):
            check.mistake(code, text + ".")
    if np.array_equal(got_all[0], got_all[1]):
        check.mistake("disc.n_bins_ignored", "you get the same bins for n_bins = 20 and "
                                             "n_bins = 7: use the n_bins argument.")
    for got, ref, n_bins in zip(got_all, ref_all, (20, 7)):
        if np.array_equal(got, ref):
            continue
        if got.min() < 0 or got.max() > n_bins - 1:
            check.fail(f"with n_bins = {n_bins} every index must lie in 0 … {n_bins - 1}; yours "
                       f"run from {got.min():g} to {got.max():g}.")
        wrong = np.argwhere(got != ref)
        i, j = wrong[0]
        check.fail(f"with n_bins = {n_bins}, {len(wrong)} of {got.size} entries are in the wrong "
                   f"bin; e.g. codes[{i}, {j}] = {codes[i, j]:.4g} (column range "
                   f"{codes[:, j].min():.4g} … {codes[:, j].max():.4g}) belongs in bin "
                   f"{ref[i, j]}, yours says {got[i, j]:g}.")
    check.fail("the bins are wrong.")  # unreachable


# --------------------------------------------------------------------------- mutual information


def _probabilities(a, b):
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    joint = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(joint, (ia, ib), 1)
    joint /= joint.sum()
    return joint, joint.sum(1), joint.sum(0)


def _h(p):
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _mi_reference(a, b):
    from sklearn.metrics import mutual_info_score

    return float(mutual_info_score(a, b))


def _mi_mistakes(a, b):
    from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

    joint, pa, pb = _probabilities(a, b)
    mi = _mi_reference(a, b)
    nz = joint > 0
    outer = np.outer(pa, pb)
    h_a, h_b, h_ab = _h(pa), _h(pb), _h(joint.ravel())
    return [
        ("mi.bits", "your value is in bits (log base 2); the course measures information in "
         "nats (natural log)", mi / math.log(2)),
        ("mi.log10", "you used log base 10; the course measures information in nats (natural "
         "log)", mi / math.log(10)),
        ("mi.wrong_sign", "your value has the wrong sign: mutual information is never negative "
         "— the ratio inside the log is p(a, b) / (p(a)·p(b))", -mi),
        ("mi.counts_not_probabilities", "you put counts where probabilities belong (the result "
         "is off by log N): divide the joint and the marginal counts by N",
         mi - math.log(len(a))),
        ("mi.unweighted", "you summed log(p(a, b) / (p(a)·p(b))) without weighting each term by "
         "p(a, b)", float(np.log(joint[nz] / outer[nz]).sum())),
        ("mi.entropy_of_first", "you returned the entropy of the first variable, H(a); the "
         "mutual information is H(a) − H(a | b)", h_a),
        ("mi.entropy_of_second", "you returned the entropy of the second variable, H(b); the "
         "mutual information is H(b) − H(b | a)", h_b),
        ("mi.joint_entropy", "you returned the joint entropy H(a, b); the mutual information is "
         "H(a) + H(b) − H(a, b)", h_ab),
        ("mi.conditional_entropy", "you returned a conditional entropy (H(a | b) or H(b | a)); "
         "the mutual information is what is left after subtracting it from H(a) or H(b)",
         h_ab - h_b),
        ("mi.conditional_entropy", "you returned a conditional entropy (H(a | b) or H(b | a)); "
         "the mutual information is what is left after subtracting it from H(a) or H(b)",
         h_ab - h_a),
        ("mi.normalised", "you returned the normalised mutual information (divided by an "
         "average of the entropies, so it lies in [0, 1]); MIG divides by H(factor) itself, "
         "later — return I(a; b) in nats", float(normalized_mutual_info_score(a, b))),
        ("mi.adjusted", "you returned the adjusted (chance-corrected) mutual information; return "
         "the plain I(a; b) in nats", float(adjusted_mutual_info_score(a, b))),
    ]


def _mi_inputs():
    """Three pairs of label vectors: dependent (labels not 0 … K−1), identical, independent."""
    rng = np.random.default_rng(31)
    a = rng.integers(0, 5, 400)
    b = np.where(rng.random(400) < 0.6, a % 3, rng.integers(0, 3, 400))
    b = np.array([2, 5, 9])[b]  # factor values need not be 0 … K−1
    c = rng.integers(0, 4, 300)
    d, e = rng.integers(0, 6, 600), rng.integers(0, 3, 600)
    return [(a, b, "two dependent variables"), (c, c.copy(), "a variable and itself"),
            (d, e, "two independent draws")]


@exercise_check("mutual_information", "mutual_information(a, b)")
def check_mutual_information(check, fn):
    """Check ``mutual_information(a, b) -> float``: I(a; b) in nats of two label vectors."""
    cases = _mi_inputs()
    got_all = []
    for a, b, what in cases:
        value = check.call(fn, torch.from_numpy(a), torch.from_numpy(b))
        if value is None:
            check.fail(f"{check.signature} returned None: did you forget the `return` "
                       f"statement? Expected one number, I(a; b) in nats.")
        size = value.numel() if isinstance(value, torch.Tensor) else \
            value.size if isinstance(value, np.ndarray) else 1
        if size != 1:
            check.fail(f"for {what} you returned an array of shape {tuple(value.shape)}; "
                       f"return one number, I(a; b) in nats.")
        if isinstance(value, torch.Tensor):
            value = value.item()
        if isinstance(value, np.ndarray):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            check.fail(f"for {what} you returned a {type(value).__name__}; return one number, "
                       f"I(a; b) in nats.")
        value = float(value)
        if not math.isfinite(value):
            check.fail(f"for {what} your mutual information is {value}; expected a finite "
                       f"number (log(0)? sum only over the pairs (a, b) that occur).")
        got_all.append(value)
    refs = [_mi_reference(a, b) for a, b, _ in cases]
    if all(math.isclose(g, r, rel_tol=1e-5, abs_tol=1e-7) for g, r in zip(got_all, refs)):
        return check.passed(f"I(a; b) in nats: {refs[0]:.4f} for two dependent variables, H(a) "
                            f"= {refs[1]:.4f} for a variable and itself, and a plug-in value "
                            f"near 0 ({refs[2]:.4f}) for independent draws — as scikit-learn's "
                            f"mutual_info_score, which vae_course.metrics uses.")
    names = [code for code, _, _ in _mi_mistakes(*cases[0][:2])]
    tables = [_mi_mistakes(a, b) for a, b, _ in cases]
    for index, code in enumerate(names):
        if all(math.isclose(g, table[index][2], rel_tol=1e-5, abs_tol=1e-7)
               for g, table in zip(got_all, tables)):
            check.mistake(code, f"{tables[0][index][1]}. (For {cases[0][2]}: got "
                                f"{got_all[0]:.4g}, expected {refs[0]:.4g}.)")
    for g, r, (_, _, what) in zip(got_all, refs, cases):
        if not math.isclose(g, r, rel_tol=1e-5, abs_tol=1e-7):
            check.fail(f"for {what} I(a; b) should be {r:.4g} nats; yours is {g:.4g}.")
    check.fail(f"expected {fmt(torch.tensor(refs))}; got {fmt(torch.tensor(got_all))}.")
