"""Figures used across the course: image grids, 2-D latent maps, training curves.

Every function draws into a matplotlib Figure and returns it, so a notebook shows it inline and a
script can save it with ``fig.savefig(...)``.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from .argcheck import check_int, describe, fail


def _as_numpy_images(images):
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    try:
        images = np.asarray(images, dtype=float)
    except (TypeError, ValueError):
        fail("images", "a tensor or array of images", describe(images), TypeError)
    if images.ndim == 4:  # (N, C, H, W) -> (N, H, W) for one channel
        if images.shape[1] != 1:
            raise ValueError(f"images: expected one channel, got shape {images.shape}")
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"images: expected (N, 1, H, W) or (N, H, W), got shape {images.shape}")
    if len(images) == 0 or images.size == 0:
        fail("images", "at least one image", f"shape {images.shape}")
    if not np.isfinite(images).all():
        fail("images", "finite pixel values (a diverged model gives NaN)",
             f"{int(np.isnan(images).sum())} NaN and {int(np.isinf(images).sum())} infinite")
    return images


def show_images(images, nrow=10, title=None, row_labels=None, scale=0.9, ax=None):
    """Show images in [0, 1] as a grid with ``nrow`` images per row (white = 1).

    Values outside [0, 1] are shown clipped to black or white."""
    images = _as_numpy_images(images)
    nrow = check_int("nrow", nrow, low=1)
    n, h, w = images.shape
    ncols = min(nrow, n)
    nrows = -(-n // ncols)
    if row_labels is not None and len(row_labels) > nrows:
        fail("row_labels", f"at most one label per row ({nrows} rows)",
             f"{len(row_labels)} labels")
    canvas = np.ones((nrows * (h + 1) + 1, ncols * (w + 1) + 1)) * 0.5
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = img
    if ax is None:
        fig, ax = plt.subplots(figsize=(scale * ncols * w / 28 + 0.8, scale * nrows * h / 28))
    else:
        fig = ax.figure
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    if row_labels is not None:
        ax.set_yticks([1 + r * (h + 1) + h / 2 for r in range(len(row_labels))])
        ax.set_yticklabels(row_labels)
        ax.tick_params(length=0)
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_latent_map(z, labels, title="Latent codes", ax=None, max_points=5000):
    """Scatter 2-D latent codes coloured by their digit label, with a legend."""
    z = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
    labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z: expected shape (N, 2), got {z.shape}; project to 2-D first")
    if labels.ndim != 1 or len(z) != len(labels):
        raise ValueError(f"labels: expected one label per code ({len(z)}), got shape "
                         f"{labels.shape}")
    if len(z) == 0:
        fail("z", "at least one code", f"shape {z.shape}")
    if not np.issubdtype(z.dtype, np.number) or not np.isfinite(z).all():
        fail("z", "finite numbers (a diverged model gives NaN)", describe(z))
    max_points = check_int("max_points", max_points, low=1)
    z, labels = z[:max_points], labels[:max_points]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    cmap = plt.get_cmap("tab10")
    for digit in np.unique(labels):
        pts = z[labels == digit]
        ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.7, color=cmap(int(digit) % 10),
                   label=str(digit))
    ax.legend(markerscale=4, fontsize=8, title="digit", loc="center left",
              bbox_to_anchor=(1.0, 0.5))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_history(history, title=None, smooth=25):
    """Training curves: reconstruction and KL per step (smoothed), β, and held-out loss."""
    missing = [a for a in ("recon", "kl", "beta", "eval_step", "test_nelbo")
               if not hasattr(history, a)]
    if missing:
        fail("history", "the History returned by fit()",
             f"{describe(history)} without {', '.join(missing)}", TypeError)
    if not len(history.recon):
        fail("history", "at least one training step", "an empty history")
    smooth = check_int("smooth", smooth, low=1)
    has_kl = any(k != 0 for k in history.kl)
    ncols = 3 if has_kl else 1
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.2))
    axes = np.atleast_1d(axes)

    def smoothed(values):
        v = np.asarray(values, dtype=float)
        if len(v) < smooth * 2:
            return v
        return np.convolve(v, np.ones(smooth) / smooth, mode="valid")

    ax = axes[0]
    ax.plot(np.arange(len(smoothed(history.recon))) + (len(history.recon) -
            len(smoothed(history.recon))), smoothed(history.recon), label="train recon")
    if history.test_nelbo:
        label = "held-out −ELBO" if has_kl else "held-out recon"
        ax.plot(history.eval_step, history.test_nelbo, "o-", label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("nats per image")
    ax.legend()
    if has_kl:
        axes[1].plot(smoothed(history.kl), color="C2")
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("KL (nats per image)")
        axes[2].plot(history.beta, color="C3")
        axes[2].set_xlabel("step")
        axes[2].set_ylabel("β")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
