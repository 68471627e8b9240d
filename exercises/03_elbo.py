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
# <!-- Generated from solutions/03_elbo.py by `vae-course build`: edit the solution, not this file. -->

# %% [markdown]
# # Exercise 3 — The KL term and the ELBO loss
#
# Goes with the lecture **`notebooks/03_elbo.ipynb`**.
#
# You write the two terms of the VAE objective and put them together under the course's loss
# convention: **sum over pixels and over latent dimensions, mean over the batch**, so every
# number is in nats per image.
#
# **How to work:** fill in each cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from vae_course.checks import check_elbo_loss, check_kl_divergence
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.exercise import needs
from vae_course.models import VAE

SEED = seed_everything(0)


# %% [markdown]
# ## Task 1: `kl_divergence(mu, logvar)`
#
# For a diagonal Gaussian q(z|x) = N(μ, σ²) and the prior N(0, I), the KL divergence has a
# closed form per image:
#
# $$\mathrm{KL} = -\tfrac12 \sum_{j=1}^{D} \left(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\right)$$
#
# * `mu`, `logvar`: shape `(batch, D)`; `logvar` is log σ².
# * Return **one number** (a 0-dim tensor): the per-image KL above, averaged over the batch.
# * Keep it a tensor built from torch operations, so that it can be back-propagated.

# %%
def kl_divergence(mu, logvar):
    """KL(q(z|x) || N(0, I)): summed over latent dims, averaged over the batch (0-dim)."""
    # YOUR CODE HERE
    raise NotImplementedError('one closed-form term per latent dimension (the bracket of the formula above, times minus one half); add them up within each image, then average over the batch (stuck? a second hint is folded under this cell)')


# %% [markdown]
# <details><summary><b>Second hint for `kl_divergence`</b> (the formula; open it only if the first hint was not enough)</summary>
#
# the terms are `-0.5 * (1 + logvar - mu**2 - logvar.exp())`, of shape (batch, D);
# `.sum(dim=1).mean()` adds up each image's dimensions and averages over the batch.
#
# </details>

# %%
check_kl_divergence(kl_divergence)


# %% [markdown]
# ## Task 2: `elbo_loss(logits, x, mu, logvar, beta=1.0)`
#
# The decoder returns **logits**; each pixel is a Bernoulli variable with probability
# sigmoid(logit). The reconstruction term is the binary cross-entropy, computed from the logits
# (PyTorch's `F.binary_cross_entropy_with_logits` does the sigmoid itself, stably):
#
# $$\text{loss} = \underbrace{\mathbb E_q[-\log p(x\mid z)]}_{\texttt{recon}}
#   + \beta \cdot \underbrace{\mathrm{KL}(q(z\mid x)\,\|\,p(z))}_{\texttt{kl}}$$
#
# * `logits`, `x`: shape `(batch, 1, H, W)`, `x` in [0, 1]; `mu`, `logvar`: `(batch, D)`.
# * Return the tuple `(loss, recon, kl)`, three 0-dim tensors in nats per image: `recon` summed
#   over pixels and averaged over the batch, `kl` from your function above.

# %%
def elbo_loss(logits, x, mu, logvar, beta=1.0):
    """The β-weighted negative ELBO of a batch: (loss, recon, kl), each in nats per image."""
    # YOUR CODE HERE
    raise NotImplementedError('the cross-entropy of every pixel (no reduction yet), added up within each image, then averaged over the batch (stuck? a second hint is folded under this cell)')


# %% [markdown]
# <details><summary><b>Second hint for `elbo_loss`</b> (the formula; open it only if the first hint was not enough)</summary>
#
# `F.binary_cross_entropy_with_logits(logits, x, reduction="none")` gives one value
# per pixel; `.flatten(start_dim=1).sum(dim=1).mean()` makes `recon`;
# return `(recon + beta * kl, recon, kl)` with `kl = kl_divergence(mu, logvar)`.
#
# </details>

# %%
check_elbo_loss(elbo_loss)

# %% [markdown]
# ## Use it: train a small VAE with your loss
#
# The cell below trains a VAE with an 8-dimensional latent space for 300 steps, using only your
# `elbo_loss`, and plots both terms. With a correct loss the reconstruction term falls quickly
# and the KL, which starts near zero (an untrained encoder outputs codes close to the prior),
# ends well above it: the encoder puts information about each digit into z and pays for it in
# KL. (On the way the KL often overshoots before it settles.)

# %%
import matplotlib.pyplot as plt

if needs(elbo_loss):
    seed_everything(0)
    device = get_device()
    x_train = load_mnist().x_train.to(device)
    model = VAE(latent_dim=8, hidden=256).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    recons, kls = [], []
    for step in tqdm(range(300), desc="training"):
        xb = x_train[torch.randint(len(x_train), (128,), device=device)]
        logits, mu, logvar = model(xb)
        loss, recon, kl = elbo_loss(logits, xb, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        recons.append(recon.item())
        kls.append(kl.item())

    first, last = sum(recons[:20]) / 20, sum(recons[-20:]) / 20
    kl_last = sum(kls[-20:]) / 20
    print(f"reconstruction: {first:.1f} nats/image over the first 20 steps, "
          f"{last:.1f} over the last 20")
    print(f"KL: {kls[0]:.2f} nats/image at the first step, {kl_last:.1f} over the last 20")
    assert last < 0.6 * first
    assert kls[0] < 1.0 and kl_last > 5 * max(kls[0], 0.2)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(recons)
    axes[0].set(xlabel="step", ylabel="recon (nats per image)")
    axes[1].plot(kls, color="C2")
    axes[1].set(xlabel="step", ylabel="KL (nats per image)")
    fig.tight_layout()
    plt.show()
