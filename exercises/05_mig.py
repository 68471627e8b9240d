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
# are known. The expensive part, the mutual information between every latent and every factor,
# is given to you (`vae_course.metrics.mutual_information_matrix`); you write the score itself.
#
# **How to work:** fill in the cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import numpy as np
import torch

from vae_course.checks import check_mig
from vae_course.device import seed_everything
from vae_course.exercise import needs
from vae_course.metrics import mig, mutual_information_matrix
from vae_course.sprites import make_sprites

SEED = seed_everything(0)


# %% [markdown]
# ## Your task: `mig_from_mi(mi, entropy)`
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
# ## Use it: three codes for the sprites
#
# The sprites have five known factors (shape, scale, rotation, x, y). The cell scores three
# made-up codes with your function: the factors themselves plus a little noise (one factor per
# latent: disentangled), a random rotation of that code (every latent mixes every factor), and
# pure noise. It also prints the course's `mig` from `vae_course.metrics`, which should agree.

# %%
if needs(mig_from_mi):
    sprites = make_sprites()
    factors = sprites.factors.numpy()
    rng = np.random.default_rng(0)
    scaled = (factors - factors.mean(0)) / factors.std(0)
    codes = {
        "factors + noise": scaled + 0.05 * rng.standard_normal(scaled.shape),
        "rotated factors": scaled @ np.linalg.qr(rng.standard_normal((5, 5)))[0],
        "pure noise": rng.standard_normal(scaled.shape),
    }
    entropy = torch.tensor([np.log(n) for n in sprites.factor_sizes])  # each factor is uniform
    scores = {}
    for name, code in codes.items():
        mi = torch.tensor(mutual_information_matrix(code, factors))
        scores[name] = float(mig_from_mi(mi, entropy))
        print(f"{name:16s} your MIG {scores[name]:.3f}   vae_course.metrics.mig "
              f"{mig(code, factors):.3f}")
    assert scores["factors + noise"] > 0.8 > scores["rotated factors"]
    assert scores["pure noise"] < 0.05
