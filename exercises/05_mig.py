# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# <!-- Generated from solutions/05_mig.py by `vae-course build`: edit the solution, not this file. -->

# %% [markdown]
# # Exercise 5 — The mutual information gap (MIG)
#
# Goes with the lecture **`notebooks/05_beta_vae.ipynb`**.
#
# MIG (Chen et al., 2018) scores how disentangled a code is when the true factors of the data
# are known. It is built in three steps, and you write all three: bin each continuous latent
# into a few discrete values, measure the mutual information between every binned latent and
# every factor, and turn that matrix into one score. At the end your pipeline is compared with
# the course's `vae_course.metrics.mig` on codes for the sprites.
#
# **How to work:** fill in each cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import numpy as np
import torch

from vae_course.checks import check_discretize, check_mig, check_mutual_information
from vae_course.device import seed_everything
from vae_course.exercise import needs
from vae_course.metrics import mig, mutual_information_matrix
from vae_course.sprites import make_sprites

SEED = seed_everything(0)


# %% [markdown]
# ## Task 1: `discretize(codes, n_bins=20)`
#
# Mutual information between a continuous latent and a discrete factor needs a density; the
# usual shortcut (disentanglement_lib, and the course) bins the latent instead.
#
# * `codes`: shape `(N, D)`, one row per image, one column per latent (a tensor).
# * Cut each column's own range, from its minimum to its maximum, into `n_bins` bins of equal
#   width, and return the bin index of every entry: integers `0 … n_bins − 1`, shape `(N, D)`.
#   The maximum of a column belongs to the last bin.
#
# NumPy or torch, either is fine: this is a measurement, no gradient needed.

# %%
def discretize(codes, n_bins=20):
    """Equal-width bin index (0 … n_bins − 1) of every entry, each column over its own range."""
    # YOUR CODE HERE
    raise NotImplementedError(
        "each column's minimum and maximum give its bin width; shift by the minimum, divide by "
        'the width, round down, and mind where the maximum itself lands — stuck? A second hint is'
        ' folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>discretize</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `low, high = codes.min(dim=0).values, codes.max(dim=0).values`;
# `index = torch.floor((codes - low) / (high - low) * n_bins).long()`;
# `return index.clamp(max=n_bins - 1)` (the maximum would land in bin n_bins).
#
# </details>

# %%
check_discretize(discretize)


# %% [markdown]
# ## Task 2: `mutual_information(a, b)`
#
# * `a`, `b`: two integer label vectors of the same length N (e.g. one binned latent and one
#   factor). Their values are labels, not necessarily `0 … K − 1`.
# * Return I(a; b) in **nats**, estimated from the empirical frequencies:
#
# $$I(a; b) = \sum_{(i, j)} p(a{=}i, b{=}j)\,\log\frac{p(a{=}i, b{=}j)}{p(a{=}i)\,p(b{=}j)}$$
#
# summed over the pairs that occur. Loops, NumPy and torch are all fine; so is checking your
# result against a library, but write the formula yourself.

# %%
def mutual_information(a, b):
    """I(a; b) in nats between two discrete label vectors, from their empirical frequencies."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'count how often each pair of labels occurs and divide by N for the joint table; its row '
        'and column sums are the two marginals; add up the formula over the pairs that occur — '
        'stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>mutual_information</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `np.unique(a, return_inverse=True)` turns labels into 0 … K−1; a table `joint`
# filled with `np.add.at(joint, (ia, ib), 1)`, then `joint /= len(a)`;
# `outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)`;
# sum `joint * np.log(joint / outer)` over the entries where `joint > 0`.
#
# </details>

# %%
check_mutual_information(mutual_information)


# %% [markdown]
# ## Task 3: `mig_from_mi(mi, entropy)`
#
# * `mi`: shape `(latent_dim, n_factors)`; `mi[j, k]` is I(z_j; v_k) in nats.
# * `entropy`: shape `(n_factors,)`; `entropy[k]` is H(v_k) in nats (all > 0).
#
# For each factor, find the two latents that know most about it; the gap between them,
# divided by the factor's entropy, is 1 when one latent alone carries the whole factor:
#
# $$\mathrm{MIG} = \frac1K \sum_{k=1}^{K} \frac{I(z_{a_k}; v_k) - I(z_{b_k}; v_k)}{H(v_k)}$$
#
# where $a_k$ and $b_k$ are the latents with the largest and second largest I(z_j; v_k).
# Return one number (a float or a 0-dim tensor).

# %%
def mig_from_mi(mi, entropy):
    """Mean over factors of (largest - second largest MI over latents) / H(factor)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'for each factor, rank the latents by their mutual information with it; the gap between '
        "the best two, relative to the factor's entropy, averaged over factors — stuck? A second "
        'hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>mig_from_mi</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `top = mi.sort(dim=0, descending=True).values`;
# `return ((top[0] - top[1]) / entropy).mean()`
#
# </details>

# %%
check_mig(mig_from_mi)

# %% [markdown]
# ## Use it: three codes for the sprites, scored by your pipeline and by the course's
#
# The sprites have five known factors (shape, scale, rotation, x, y). The cell scores three
# made-up codes: the factors themselves plus a little noise (one factor per latent:
# disentangled), a random rotation of that code (every latent mixes every factor), and pure
# noise. Your three functions build the mutual-information matrix and the score; the course's
# `mutual_information_matrix` and `mig` from `vae_course.metrics` must agree with them.

# %%
if needs(discretize, mutual_information, mig_from_mi):
    sprites = make_sprites()
    factors = sprites.factors.numpy()
    rng = np.random.default_rng(0)
    scaled = (factors - factors.mean(0)) / factors.std(0)
    codes = {
        "factors + noise": scaled + 0.05 * rng.standard_normal(scaled.shape),
        "rotated factors": scaled @ np.linalg.qr(rng.standard_normal((5, 5)))[0],
        "pure noise": rng.standard_normal(scaled.shape),
    }
    entropy = torch.tensor([mutual_information(f, f) for f in factors.T])  # H(v) = I(v; v)
    scores = {}
    for name, code in codes.items():
        binned = np.asarray(discretize(torch.tensor(code), 20))
        mi = torch.tensor([[mutual_information(binned[:, j], factors[:, k])
                            for k in range(factors.shape[1])] for j in range(code.shape[1])])
        course_mi = mutual_information_matrix(code, factors, n_bins=20)
        scores[name] = float(mig_from_mi(mi, entropy))
        course = mig(code, factors)
        print(f"{name:16s} your MIG {scores[name]:.3f}   vae_course.metrics.mig {course:.3f}   "
              f"largest MI difference {np.abs(mi.numpy() - course_mi).max():.1e} nats")
        assert np.allclose(mi.numpy(), course_mi, atol=1e-6) and abs(scores[name] - course) < 1e-6
    assert scores["factors + noise"] > 0.8 > scores["rotated factors"]
    assert scores["pure noise"] < 0.05
