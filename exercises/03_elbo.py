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
# # Exercise 3 — The ELBO, the VAE module and the importance-weighted bound
#
# Goes with the lecture **`notebooks/03_elbo.ipynb`**.
#
# You write the two terms of the VAE objective under the course's loss convention — **sum over
# pixels and over latent dimensions, mean over the batch**, so every number is in nats per
# image — then the VAE itself as an `nn.Module`, train it with your loss, and finally tighten
# the ELBO with importance weighting.
#
# **How to work:** fill in each cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet (the box gives a first hint; a second one, with the
# formula, is folded under the task). Red: the box says what is wrong.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from vae_course.checks import (check_elbo_loss, check_iwae_from_log_weights,
                               check_kl_divergence, check_vae_module)
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.exercise import needs, train_with
from vae_course.plots import plot_curves

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
# * Return **one KL per image**, shape `(batch,)` — the same contract as the course's
#   `vae_course.losses.kl_divergence`. The loss below averages it over the batch.
# * Keep it a tensor built from torch operations, so that it can be back-propagated to both
#   `mu` and `logvar`.

# %%
def kl_divergence(mu, logvar):
    """KL(q(z|x) || N(0, I)) of each image, summed over the latent dims: shape (batch,)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'one closed-form term per latent dimension (the bracket of the formula above, times minus'
        ' one half); add them up within each image — stuck? A second hint is folded under this '
        'cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>kl_divergence</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# the terms are `-0.5 * (1 + logvar - mu**2 - logvar.exp())`, of shape (batch, D);
# `.sum(dim=1)` adds up the latent dimensions of each image.
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
#   over pixels and averaged over the batch, `kl` your per-image KL averaged over the batch.

# %%
def elbo_loss(logits, x, mu, logvar, beta=1.0):
    """The β-weighted negative ELBO of a batch: (loss, recon, kl), each in nats per image."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'the cross-entropy of every pixel (no reduction yet), added up within each image, then '
        'averaged over the batch; the same batch average for your KL — stuck? A second hint is '
        'folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>elbo_loss</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `F.binary_cross_entropy_with_logits(logits, x, reduction="none")` gives one value
# per pixel; `.flatten(start_dim=1).sum(dim=1).mean()` makes `recon`;
# `kl = kl_divergence(mu, logvar).mean()`; return `(recon + beta * kl, recon, kl)`.
#
# </details>

# %%
check_elbo_loss(elbo_loss)


# %% [markdown]
# ## Task 3: the VAE as an `nn.Module`
#
# The same network as the course's `vae_course.models.VAE` (MLP version):
#
# * **encoder**: flatten (1×28×28 → 784), linear to `hidden`, ReLU, linear to `2 · latent_dim`
#   numbers; `encode(x)` returns the pair `(mu, logvar)`, the first and second half, each of
#   shape `(batch, latent_dim)`;
# * `reparameterize(mu, logvar)`: one sample z = μ + σ·ε per image (exercise 2);
# * **decoder**: linear from `latent_dim` to `hidden`, ReLU, linear to 784, shaped
#   `(batch, 1, 28, 28)`: logits, no sigmoid;
# * `forward(x)` returns the triple `(logits, mu, logvar)`, decoding a *sample* z.
#
# The check builds it with several sizes, compares the parameter count with the course's model,
# checks that the loss sends a gradient to every parameter and that `forward` samples, and trains
# it for a few hundred steps.

# %%
class VAE(nn.Module):
    """x -> (mu, logvar) -> z = mu + sigma * eps -> logits; forward returns (logits, mu, logvar)."""

    def __init__(self, latent_dim=20, hidden=400):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError(
            "like the autoencoder of exercise 1, but the encoder's last layer gives two numbers "
            'per latent dimension — stuck? A second hint is folded under this cell')

    def encode(self, x):
        # YOUR CODE HERE
        raise NotImplementedError(
            "split the encoder's output into its two halves along the feature dimension — stuck? "
            'A second hint is folded under this cell')

    def reparameterize(self, mu, logvar):
        # YOUR CODE HERE
        raise NotImplementedError(
            'exercise 2: standard normal noise, scaled by the standard deviation and shifted by '
            'the mean — stuck? A second hint is folded under this cell')

    def decode(self, z):
        # YOUR CODE HERE
        raise NotImplementedError(
            "run the decoder and give its output the image's shape — stuck? A second hint is "
            'folded under this cell')

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError(
            'encode, draw a sample of the code, decode the sample; return the logits with the two'
            ' encoder outputs — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>__init__</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))`;
# `self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784))`.
#
# </details>
#
# <details><summary><b>Second hint for <code>encode</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `mu, logvar = self.encoder(x).chunk(2, dim=1)`; return `mu, logvar`.
#
# </details>
#
# <details><summary><b>Second hint for <code>reparameterize</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)`
#
# </details>
#
# <details><summary><b>Second hint for <code>decode</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `return self.decoder(z).view(-1, 1, 28, 28)`
#
# </details>
#
# <details><summary><b>Second hint for <code>forward</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `mu, logvar = self.encode(x)`, `z = self.reparameterize(mu, logvar)`,
# `return self.decode(z), mu, logvar`.
#
# </details>

# %%
check_vae_module(VAE)

# %% [markdown]
# ## Use it: train your VAE with your loss
#
# The cell below trains your VAE with an 8-dimensional latent space for 300 steps, using only
# your `elbo_loss`, and plots both terms. With a correct loss the reconstruction term falls
# quickly and the KL, which starts near zero (an untrained encoder outputs codes close to the
# prior), ends well above it: the encoder puts information about each digit into z and pays for
# it in KL. (On the way the KL often overshoots before it settles.)

# %%
if needs(VAE, elbo_loss):
    seed_everything(0)
    data = load_mnist()
    model = VAE(latent_dim=8, hidden=256)

    def elbo_step(model, optimizer, xb, step):
        """One Adam step on your elbo_loss; returns its two terms in nats per image."""
        logits, mu, logvar = model(xb)
        loss, recon, kl = elbo_loss(logits, xb, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return recon.item(), kl.item()

    recons, kls = zip(*train_with(elbo_step, model, data.x_train, steps=300))
    first, last = sum(recons[:20]) / 20, sum(recons[-20:]) / 20
    kl_last = sum(kls[-20:]) / 20
    print(f"reconstruction: {first:.1f} nats/image over the first 20 steps, "
          f"{last:.1f} over the last 20")
    print(f"KL: {kls[0]:.2f} nats/image at the first step, {kl_last:.1f} over the last 20")
    assert last < 0.6 * first
    assert kls[0] < 1.0 and kl_last > 5 * max(kls[0], 0.2)
    plot_curves({"recon (nats per image)": recons, "KL (nats per image)": kls})
    plt.show()


# %% [markdown]
# ## Task 4: `iwae_from_log_weights(log_w)`
#
# Draw k codes z₁ … z_k from q(z|x). Each has a log importance weight
# log wᵢ = log p(x|zᵢ) + log p(zᵢ) − log q(zᵢ|x). Averaging the weights *inside* the logarithm
# gives the importance-weighted bound of Burda et al. (2016), tighter than the ELBO:
#
# $$\mathcal L_k(x) = \log \frac1k \sum_{i=1}^{k} w_i, \qquad
#   \mathcal L_1 = \text{ELBO} \le \mathcal L_k \le \log p(x) \quad\text{(in expectation)}.$$
#
# * `log_w`: shape `(k, batch)` — row i holds log wᵢ of every image. Log weights of images are
#   large negative numbers (the cell after the check prints them for your model), so the weights
#   themselves underflow to 0 in floating point: work with the logs throughout.
# * Return L_k of each image, shape `(batch,)`, differentiable in `log_w`.

# %%
def iwae_from_log_weights(log_w):
    """L_k = log of the mean over the k samples (dim 0) of exp(log_w): shape (batch,)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'the log of a mean of exponentials, computed without ever leaving log space (PyTorch has '
        'a stable function for the log of a sum of exponentials); mind which axis holds the k '
        'samples — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>iwae_from_log_weights</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# $\log\frac1k\sum_i e^{\ell_i} = \operatorname{logsumexp}_i \ell_i - \log k$:
# `torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])`.
#
# </details>

# %%
check_iwae_from_log_weights(iwae_from_log_weights)

# %% [markdown]
# ## Use it: a tighter bound for your trained VAE
#
# For 200 test digits the cell draws k codes from your model's q(z|x), computes each code's log
# weight (the three log-densities are written out below), and feeds the `(k, batch)` matrix to
# your function. L_k rises with k: the ELBO (k = 1) is a strict lower bound on log p(x).

# %%
if needs(VAE, elbo_loss, iwae_from_log_weights):
    def log_weights(model, x, k):
        """log p(x|z) + log p(z) − log q(z|x) for k codes per image: shape (k, batch)."""
        mu, logvar = model.encode(x)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        z = q.sample((k,))                                    # (k, batch, latent_dim)
        logits = model.decode(z.flatten(0, 1)).view(k, *x.shape)
        log_px_z = -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none").flatten(2).sum(2)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(2)
        log_qz = q.log_prob(z).sum(2)
        return log_px_z + log_pz - log_qz

    x_test = data.x_test[:200].to(get_device())
    ks = (1, 10, 100)
    bounds = {}
    with torch.no_grad():
        for k in ks:
            torch.manual_seed(1)
            log_w = log_weights(model, x_test, k)
            bounds[k] = iwae_from_log_weights(log_w).mean().item()
    print(f"log-weights of these digits: from {log_w.min():.0f} to {log_w.max():.0f} nats; "
          f"exp() of them in float32: from {log_w.exp().min():.3g} to {log_w.exp().max():.3g}")
    assert log_w.max() < 0
    for k in ks:
        print(f"L_{k:<3d} = {bounds[k]:8.2f} nats/image  (gain over the ELBO: "
              f"{bounds[k] - bounds[1]:5.2f})")
    assert bounds[1] < bounds[10] < bounds[100]
