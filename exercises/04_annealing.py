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
# # Exercise 4 — β schedules, free bits, one training step, and active units
#
# Goes with the lecture **`notebooks/04_annealing.ipynb`**.
#
# Five functions: the linear β warm-up, its cyclical cousin, the free-bits KL (the other cure for
# posterior collapse), one optimisation step that uses the warm-up, and the active-units count
# that tells you how many latent dimensions the model actually uses. Each has the same contract
# as its twin in `vae_course` (`schedules.LinearWarmup`, `schedules.Cyclical`,
# `losses.free_bits_kl`, `metrics.active_units`).
#
# **How to work:** fill in each cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import torch

from vae_course.checks import (check_active_units, check_cyclical_beta, check_free_bits_kl,
                               check_linear_warmup, check_train_step)
from vae_course.data import load_mnist
from vae_course.device import seed_everything
from vae_course.exercise import needs, train_with
from vae_course.losses import elbo_loss, kl_per_dimension
from vae_course.metrics import encode_all
from vae_course.models import VAE
from vae_course.plots import plot_curves

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
# ## Task 2: `cyclical_beta(step, period, ratio=0.5, beta_max=1.0)`
#
# Cyclical annealing (Fu et al., 2019) repeats the warm-up: every `period` steps β drops back to
# 0, rises linearly to `beta_max` over the first `ratio` of the cycle, and stays there until the
# cycle ends. With $\tau = t \bmod P$ the step inside the current cycle,
#
# $$\beta(t) = \beta_{\max}\cdot\min\left(1, \frac{\tau}{r\,P}\right)$$
#
# Steps are counted from 0, so β(0) = β(P) = β(2P) = 0. Return a Python float.

# %%
def cyclical_beta(step, period, ratio=0.5, beta_max=1.0):
    """β at a training step under cyclical annealing: a linear warm-up repeated every period."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'find where this step sits inside its own cycle, then ramp as in linear_warmup, over the '
        'rising part of the cycle only — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>cyclical_beta</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `position = step % period`;
# `return beta_max * min(1.0, position / (ratio * period))`
#
# </details>

# %%
check_cyclical_beta(cyclical_beta)


# %% [markdown]
# ## Task 3: `free_bits_kl(mu, logvar, free_bits)`
#
# Free bits (Kingma et al., 2016) changes the KL term instead of its weight: each latent
# dimension's KL, averaged over the batch, counts as **at least** `free_bits` nats,
#
# $$\mathrm{KL}_{\text{free}} = \sum_{j=1}^{D} \max\Big(\lambda,\ \tfrac1B \sum_{i=1}^{B}
# \mathrm{KL}_{ij}\Big), \qquad
# \mathrm{KL}_{ij} = -\tfrac12\left(1 + \log\sigma_{ij}^2 - \mu_{ij}^2 - \sigma_{ij}^2\right)$$
#
# so a dimension whose KL is already below λ gets **no gradient** from the KL term: the optimiser
# gains nothing by squeezing it all the way to the prior, and the dimension stays free to carry
# information.
#
# * `mu`, `logvar`: shape `(B, D)`; `free_bits`: λ in nats.
# * Return a 0-dim tensor that stays differentiable (the check compares your gradients with the
#   reference's, dimension by dimension).

# %%
def free_bits_kl(mu, logvar, free_bits):
    """Sum over latent dims of max(free_bits, batch-mean KL of that dim). A 0-dim tensor."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'one batch-mean KL per latent dimension first; the floor applies to each of those, then '
        'add them up (a floor that keeps the gradient where the KL is above it) — stuck? A second'
        ' hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>free_bits_kl</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `kl_per_dim = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(dim=0)`;
# `return torch.clamp(kl_per_dim, min=free_bits).sum()`
#
# </details>

# %%
check_free_bits_kl(free_bits_kl)


# %% [markdown]
# ## Task 4: `train_step(model, optimizer, x, step, warmup_steps)`
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
# ## Task 5: `active_units(mu, threshold=0.01)`
#
# A latent dimension u is *active* (Burda et al., 2016) when its posterior mean changes with the
# input:
#
# $$A_u = \operatorname{Var}_{x}\big(\mathbb E_{q(z\mid x)}[z_u]\big) > 0.01$$
#
# * `mu`: the posterior means of N images, shape `(N, D)` (the encoder's first output; the
#   definition needs nothing else).
# * Return the number of active dimensions as an `int` — the contract of
#   `vae_course.metrics.active_units`.

# %%
def active_units(mu, threshold=0.01):
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
    data = load_mnist()
    model = VAE(latent_dim=16, hidden=256)
    losses, betas = zip(*train_with(train_step, model, data.x_train, steps=400,
                                    warmup_steps=200))

    mu, logvar = encode_all(model, data.x_test)
    n_active = active_units(mu)
    print(f"active units after 400 steps: {n_active} of {mu.shape[1]}")
    assert betas[0] == 0 and betas[200] == 1 and betas[-1] == 1
    assert 1 <= n_active <= mu.shape[1]
    plot_curves({"loss (nats per image)": losses, "β": betas})
    plt.show()

# %% [markdown]
# ## Use it: the other two cures, on the model you just trained
#
# The cyclical schedule over the same 400 steps (period 100, half of each cycle rising), and
# your free-bits KL of the test codes next to the course's `vae_course.losses.free_bits_kl`.
# With a floor of 1 nat, the dimensions whose KL is below it are the ones free bits would
# stop pushing towards the prior.

# %%
from vae_course.losses import free_bits_kl as course_free_bits_kl
from vae_course.schedules import Cyclical

if needs(cyclical_beta, free_bits_kl, train_step, active_units):
    cyclical = [cyclical_beta(step, period=100) for step in range(400)]
    assert cyclical == [Cyclical(period=100)(step) for step in range(400)]
    kl_dims = kl_per_dimension(mu, logvar)
    floor = 1.0
    yours = float(free_bits_kl(mu, logvar, floor))
    course = float(course_free_bits_kl(mu, logvar, floor))
    below = int((kl_dims < floor).sum())
    print(f"KL of the test codes: {kl_dims.sum():.2f} nats; with free bits at {floor} nats per "
          f"dimension: yours {yours:.2f}, vae_course's {course:.2f}; {below} of {len(kl_dims)} "
          f"dimensions sit below the floor")
    assert abs(yours - course) < 1e-4 * max(1.0, course) and yours >= float(kl_dims.sum()) - 1e-4
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(betas, label="linear warm-up")
    axes[0].plot(cyclical, label="cyclical", color="C2")
    axes[0].set(xlabel="step", ylabel="β")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    axes[1].bar(range(len(kl_dims)), kl_dims.numpy(), color="C0")
    axes[1].axhline(floor, color="C3", linestyle="--", label=f"free bits {floor}")
    axes[1].set(xlabel="latent dimension", ylabel="KL (nats, test mean)")
    axes[1].legend()
    fig.tight_layout()
    plt.show()
