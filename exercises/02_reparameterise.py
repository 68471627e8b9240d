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
# <!-- Generated from solutions/02_reparameterise.py by `vae-course build`: edit the solution, not this file. -->

# %% [markdown]
# # Exercise 2 — The reparameterisation trick
#
# Goes with the lecture **`notebooks/02_reparameterisation.ipynb`**.
#
# The encoder of a VAE gives, for every image, the mean `mu` and the log-variance `logvar`
# of a Gaussian q(z|x). The decoder needs a *sample* z from that Gaussian, and training needs
# gradients of the loss with respect to `mu` and `logvar`. The trick: draw the randomness
# separately, as standard normal noise ε, and build the sample from it with a differentiable
# formula.
#
# **How to work:** fill in the cell marked `YOUR CODE HERE`, then run the check cell below it.
# A green box means done; an orange one means the function still raises `NotImplementedError`
# (the box gives a first hint; a second one, with the formula, is folded under the task); a red
# one names what went wrong. Change your code and run both cells again.

# %%
import math

import matplotlib.pyplot as plt
import torch

from vae_course.checks import check_reparameterize
from vae_course.device import seed_everything
from vae_course.exercise import needs

SEED = seed_everything(0)


# %% [markdown]
# ## Your task: `reparameterize(mu, logvar)`
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp\left(\tfrac12 \log\sigma^2\right),
# \qquad \varepsilon \sim \mathcal N(0, I)$$
#
# * `mu`, `logvar`: float tensors of shape `(batch, latent_dim)`.
# * Return `z`, same shape. Every entry gets its own fresh noise value, on every call.
# * Gradients must flow from `z` back to both `mu` and `logvar`.

# %%
def reparameterize(mu, logvar):
    """One sample z ~ N(mu, exp(logvar)) per row, differentiable in mu and logvar."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'turn the log-variance into a standard deviation, draw standard normal noise shaped like '
        'mu, then shift and scale it — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>reparameterize</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# $\sigma = \exp(\tfrac12 \log\sigma^2)$ is `torch.exp(0.5 * logvar)`; the noise is
# `eps = torch.randn_like(mu)`; return `mu + sigma * eps`.
#
# </details>

# %%
check_reparameterize(reparameterize)

# %% [markdown]
# ## Use it: a gradient through a random sample
#
# Take one latent dimension with μ = 1 and σ = 0.5, and the objective E[z²]. Its exact value is
# μ² + σ², so its gradient with respect to μ is 2μ = 2. Because your z is a differentiable
# function of μ, back-propagating through the average of z² over many samples estimates that
# gradient. The cell prints the Monte-Carlo estimate next to the exact value and draws the
# samples against the density they should follow.

# %%
if needs(reparameterize):
    n = 20_000
    mu = torch.full((n, 1), 1.0, requires_grad=True)
    logvar = torch.full((n, 1), math.log(0.5 ** 2), requires_grad=True)
    z = reparameterize(mu, logvar)
    (z ** 2).mean().backward()
    grad_mu = mu.grad.sum().item()  # every row shares the same mu: add up their contributions
    print(f"Monte-Carlo d E[z²]/dμ = {grad_mu:.3f}   exact 2μ = 2.000")
    assert abs(grad_mu - 2.0) < 0.05

    grid = torch.linspace(-1, 3, 200)
    density = torch.exp(-0.5 * ((grid - 1.0) / 0.5) ** 2) / (0.5 * math.sqrt(2 * math.pi))
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(z.detach().squeeze(1).numpy(), bins=60, density=True, alpha=0.6, label="your samples")
    ax.plot(grid, density, "k", label="N(1, 0.5²)")
    ax.set_xlabel("z")
    ax.legend()
    plt.show()
