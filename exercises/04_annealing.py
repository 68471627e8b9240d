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
# <!-- Generated from solutions/04_annealing.py by `vae-course build`: edit the solution, not this file. -->

# %% [markdown]
# # Exercise 4 — β warm-up, one training step, and active units
#
# Goes with the lecture **`notebooks/04_annealing.ipynb`**.
#
# Three small functions: the β warm-up schedule, one optimisation step that uses it, and the
# active-units count that tells you how many latent dimensions the model actually uses.
#
# **How to work:** fill in each cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import torch
from tqdm.auto import tqdm

from vae_course.checks import check_active_units, check_linear_warmup, check_train_step
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.exercise import needs
from vae_course.losses import elbo_loss
from vae_course.metrics import encode_all
from vae_course.models import VAE

SEED = seed_everything(0)


# %% [markdown]
# ## Task 1: `linear_warmup(step, warmup_steps, beta_max=1.0)`
#
# Steps are counted from 0. β starts at 0, grows linearly, reaches `beta_max` exactly at step
# `warmup_steps`, and stays there:
#
# $$\beta(t) = \beta_{\max}\cdot\min\left(1, \frac{t}{T_{\text{warm-up}}}\right)$$
#
# Return a Python float.

# %%
def linear_warmup(step, warmup_steps, beta_max=1.0):
    """β at a training step: 0 at step 0, beta_max from step warmup_steps on."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'the share of the warm-up done so far, never more than all of it, scaled to beta_max — '
        'stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>linear_warmup</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `return beta_max * min(1.0, step / warmup_steps)`
#
# </details>

# %%
check_linear_warmup(linear_warmup)


# %% [markdown]
# ## Task 2: `train_step(model, optimizer, x, step, warmup_steps)`
#
# One optimisation step of a `VAE` on the batch `x`, with β from your warm-up (with
# `beta_max = 1`):
#
# 1. clear the old gradients;
# 2. `logits, mu, logvar = model(x)` and the loss `recon + β·kl` — `elbo_loss(logits, x, mu,
#    logvar, beta)` from `vae_course.losses` (imported above) returns `(loss, recon, kl)`;
# 3. back-propagate and take the optimiser step.
#
# Return `(loss, beta)` as two Python floats: the loss of this batch before the update, and the
# β you used.

# %%
def train_step(model, optimizer, x, step, warmup_steps):
    """One step on batch x with β = linear_warmup(step, warmup_steps). Returns (loss, beta)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'the four moves of every PyTorch step, in order: clear the old gradients, compute the '
        "loss with this step's beta, back-propagate, update; report the loss as a plain number — "
        'stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>train_step</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `beta = linear_warmup(step, warmup_steps)`; `optimizer.zero_grad()`;
# `logits, mu, logvar = model(x)`; `loss, recon, kl = elbo_loss(logits, x, mu, logvar, beta)`;
# `loss.backward()`; `optimizer.step()`; `return loss.item(), beta`.
#
# </details>

# %%
check_train_step(train_step)


# %% [markdown]
# ## Task 3: `active_units(mu, logvar, threshold=0.01)`
#
# A latent dimension u is *active* (Burda et al., 2016) when its posterior mean changes with the
# input:
#
# $$A_u = \operatorname{Var}_{x}\big(\mathbb E_{q(z\mid x)}[z_u]\big) > 0.01$$
#
# * `mu`, `logvar`: the encoder's outputs for N images, shape `(N, D)`. Decide which of the two
#   the definition needs.
# * Return the number of active dimensions as an `int`.

# %%
def active_units(mu, logvar, threshold=0.01):
    """How many latent dimensions have Var over the data of their posterior mean > threshold."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'one variance per latent dimension, computed over the images (which dim is that?), then '
        'count those above the threshold — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>active_units</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `activity = mu.var(dim=0)`; `return int((activity > threshold).sum())`
#
# </details>

# %%
check_active_units(active_units)

# %% [markdown]
# ## Use it: a short run with warm-up
#
# The cell trains a VAE with 16 latent dimensions for 400 steps with your `train_step` (β warms
# up over the first 200), then counts its active units on the test digits with your
# `active_units`. The plot shows the loss next to the schedule. Each loss value uses the β of its
# own step, so numbers from the warm-up and after it measure slightly different objectives.

# %%
import matplotlib.pyplot as plt

if needs(train_step, active_units):
    seed_everything(0)
    device = get_device()
    data = load_mnist()
    x_train = data.x_train.to(device)
    model = VAE(latent_dim=16, hidden=256).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses, betas = [], []
    for step in tqdm(range(400), desc="training"):
        xb = x_train[torch.randint(len(x_train), (128,), device=device)]
        loss, beta = train_step(model, optimizer, xb, step, warmup_steps=200)
        losses.append(loss)
        betas.append(beta)

    mu, logvar = encode_all(model, data.x_test)
    n_active = active_units(mu, logvar)
    print(f"active units after 400 steps: {n_active} of {mu.shape[1]}")
    assert betas[0] == 0 and betas[200] == 1 and betas[-1] == 1
    assert 1 <= n_active <= mu.shape[1]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(losses)
    axes[0].set(xlabel="step", ylabel="loss (nats per image)")
    axes[1].plot(betas, color="C3")
    axes[1].set(xlabel="step", ylabel="β")
    fig.tight_layout()
    plt.show()
