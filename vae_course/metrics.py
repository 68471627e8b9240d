"""Numbers the course measures: active units, MIG, AUROC.

Each function has known-answer tests in ``tests/test_metrics.py``.
"""

import numpy as np
import torch

from .argcheck import (check_int, check_module, check_number, check_tensor, check_values,
                       fail, to_numpy_1d)


@torch.no_grad()
def encode_all(model, x, batch_size=1000):
    """Encode images in batches. Returns ``(mu, logvar)`` for a VAE, codes for an autoencoder,
    always on the CPU."""
    check_module("model", model, methods=("encode",))
    check_tensor("x", x, min_ndim=2, layout="(N, C, H, W) of images")
    batch_size = check_int("batch_size", batch_size, low=1)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outs = [model.encode(x[i:i + batch_size].to(device)) for i in range(0, len(x), batch_size)]
    model.train(was_training)
    if isinstance(outs[0], tuple):
        return tuple(torch.cat([o[j] for o in outs]).cpu() for j in range(len(outs[0])))
    return torch.cat(outs).cpu()


def latent_activity(mu):
    """Variance over the data of each dimension's posterior mean, Var_x(E_q[z_u]). Shape (D,)."""
    if isinstance(mu, np.ndarray):
        mu = torch.from_numpy(mu)
    check_tensor("mu", mu, ndim=2, layout="(N, latent_dim) of posterior means")
    if mu.ndim != 2 or len(mu) < 2:
        raise ValueError(f"mu: expected shape (N >= 2, latent_dim), got {tuple(mu.shape)}")
    check_values(finite={"mu": mu}, hints={"mu": " (did training diverge?)"})
    return mu.float().var(dim=0)


def active_units(mu, threshold=0.01):
    """Number of active latent units (Burda et al., 2016): dimensions u whose posterior mean
    varies across the data, Var_x(E_q[z_u]) > ``threshold`` (0.01 in the paper)."""
    check_number("threshold", threshold, low=0)
    return int((latent_activity(mu) > threshold).sum())


def _discretize(codes, n_bins):
    """Bin each column of ``codes`` into ``n_bins`` equal-width bins over that column's own range
    (as disentanglement_lib does). Returns int64 bin indices in [0, n_bins), same shape."""
    out = np.zeros_like(codes, dtype=np.int64)
    for j in range(codes.shape[1]):
        col = codes[:, j]
        edges = np.histogram_bin_edges(col, bins=n_bins)
        out[:, j] = np.digitize(col, edges[1:-1])
    return out


def _entropy(labels):
    """H(v) = −Σ p(v) log p(v) in nats, from the empirical frequencies of ``labels``."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def _as_numpy(name, array, dtype=None):
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array, dtype=dtype)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (N, columns), got shape {array.shape}")
    return array


def mutual_information_matrix(codes, factors, n_bins=20):
    """I(z_j; v_k) in nats for every latent j and factor k, after binning the latents.

    ``codes`` (N, D): one row of latent values per image (use the posterior means μ);
    ``factors`` (N, K): the true factor index of each image. Returns an array (D, K).
    """
    from sklearn.metrics import mutual_info_score

    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins: expected an int >= 2, got {n_bins!r}")
    codes = _as_numpy("codes", codes, dtype=float)
    factors = _as_numpy("factors", factors)
    if len(codes) != len(factors):
        raise ValueError(f"codes (N, D) and factors (N, K) must have the same N, got "
                         f"{codes.shape} and {factors.shape}")
    if not np.isfinite(codes).all():
        raise ValueError("codes: contains NaN or infinite values (did training diverge?)")
    binned = _discretize(codes, n_bins)
    return np.array([[mutual_info_score(factors[:, k], binned[:, j])
                      for k in range(factors.shape[1])] for j in range(codes.shape[1])])


def mig(codes, factors, n_bins=20, return_per_factor=False):
    """Mutual Information Gap (Chen et al., 2018).

    For each factor v_k, take the two latents that carry the most information about it, z_a and
    z_b, and divide the gap between them by the factor's entropy:

        gap_k = (I(z_a; v_k) − I(z_b; v_k)) / H(v_k)          MIG = mean over k of gap_k

    1 = every factor lives in exactly one latent; 0 = no latent is special (none informative,
    or two equally informative). Factors that never vary (entropy 0) are skipped.
    Returns the score, or ``(score, gaps)`` with ``return_per_factor=True``.
    """
    mi = mutual_information_matrix(codes, factors, n_bins)  # (D, K)
    factors = _as_numpy("factors", factors)
    if mi.shape[0] < 2:
        raise ValueError("codes: MIG needs at least 2 latent dimensions")
    gaps = []
    for k in range(factors.shape[1]):
        h = _entropy(factors[:, k])
        if h == 0:
            continue
        top = np.sort(mi[:, k])[::-1]
        gaps.append((top[0] - top[1]) / h)
    gaps = np.array(gaps)
    score = float(gaps.mean()) if len(gaps) else 0.0
    return (score, gaps) if return_per_factor else score


def auroc(scores, labels):
    """Area under the ROC curve for anomaly scores (higher = more anomalous) and labels
    (1 = anomaly, 0 = normal). 0.5 is chance, 1.0 is perfect separation."""
    from sklearn.metrics import roc_auc_score

    scores, labels = _scores_and_labels(scores, labels)
    return float(roc_auc_score(labels, scores))


def _scores_and_labels(scores, labels):
    """1-D finite scores and 1-D labels of 0 (normal) and 1 (anomaly), both present."""
    scores = to_numpy_1d("scores", scores)
    if not np.isfinite(scores).all():
        fail("scores", "finite anomaly scores", f"{int(np.isnan(scores).sum())} NaN and "
             f"{int(np.isinf(scores).sum())} infinite among {len(scores)}")
    labels = to_numpy_1d("labels", labels, dtype=None)
    if len(labels) != len(scores):
        fail("labels", f"one label per score ({len(scores)})", f"{len(labels)} labels")
    values = set(np.unique(labels).tolist())
    if not values <= {0, 1}:
        fail("labels", "0 (normal) and 1 (anomaly)", f"the values {sorted(values)[:5]}")
    if len(values) != 2:
        raise ValueError("labels: expected both normal (0) and anomalous (1) examples (AUROC "
                         f"needs both), got only {int(values.pop())}s")
    return scores, labels.astype(int)


def roc_curve(scores, labels):
    """False-positive and true-positive rates of the ROC curve, for plotting."""
    from sklearn.metrics import roc_curve as _roc

    scores, labels = _scores_and_labels(scores, labels)
    fpr, tpr, _ = _roc(labels, scores)
    return fpr, tpr
