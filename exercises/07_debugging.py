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
# <!-- Generated from solutions/07_debugging.py by `vae-course build`: edit the solution, not this file. -->

# %% [markdown]
# # Exercise 7 — Debugging: five broken training runs
#
# Goes with the lecture **`notebooks/07_common_mistakes.ipynb`**.
#
# Each section below runs a short training with code that has **one** mistake in it, and
# measures what the run looks like. Nothing crashes: the run finishes and prints numbers. Your
# job is the one a practitioner faces every week: read the symptom, find the line, and write the
# fixed function under it. The check then trains with *your* function and measures, with correct
# code only, that the symptom is gone — it does not look at your text.
#
# **How to work:** run the broken cell, read its numbers, fill in the cell marked
# `YOUR CODE HERE` (start by copying the broken function), and run the check cell under it.

# %%
import inspect

import torch
import torch.nn.functional as F

from vae_course.checks import (check_fix_encode, check_fix_kl_loss, check_fix_logits_loss,
                               check_fix_recon_error, check_fix_recon_loss)
from vae_course.checks.debugging import (demo_run, double_sigmoid_floor, measure,
                                         reference_loss, reference_model)
from vae_course.data import load_mnist
from vae_course.device import seed_everything
from vae_course.loss_bench import train_with_loss

SEED = seed_everything(0)
data = load_mnist()

# %% [markdown]
# ## The bench
#
# Every run uses the same loop: a fresh VAE with 8 latent dimensions, 80 Adam steps on batches
# of 128 digits, and a loss function `loss_fn(logits, x, mu, logvar) -> (loss, kl)` — the part
# that differs. It records what the loss function *reports*. `measure` then looks at the trained
# model with correct code: the true KL, the mean posterior σ, the active units, and the
# reconstruction error at μ on the test digits. A run shown here is kept in the course's model
# cache (`demo_run`), so the next Run All reads the same numbers without training again; the
# checks train your fixed functions afresh every time. Here is the loop (`train_briefly` runs
# the course's `vae_course.loss_bench.train_with_loss`, which lecture 07 uses too; bug 5 below
# uses its `encoder_scale` and `encode_fn`, and `logvar_fn` serves the lecture):

# %%
loop = inspect.getsource(train_with_loss).split('"""')[2]
print("\n".join(line for line in loop.strip().splitlines() if "import" not in line))

# %% [markdown]
# The correct loss, for comparison: reconstruction summed over pixels plus KL summed over the
# latent dimensions, both averaged over the batch (`reference_model` trains the bench with it).

# %%
healthy = measure(reference_model(data), data)
print({k: round(v, 2) for k, v in healthy.items()})

# %% [markdown]
# ## Bug 1: a KL that goes negative
#
# The run below finishes, and the loss falls. Look at the KL it reports, and at σ.

# %%
def broken_kl_loss(logits, x, mu, logvar):
    sigma = torch.exp(0.5 * logvar)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + sigma - mu.pow(2) - sigma.pow(2)).sum(1)
    return recon.mean() + kl.mean(), kl.mean()


model, record = demo_run(broken_kl_loss, data=data)
broken = measure(model, data)
print(f"smallest KL reported: {min(record['kl']):.2f} nats; mean posterior σ "
      f"{broken['mean sigma']:.2f} (correct loss: {healthy['mean sigma']:.2f})")
assert min(record["kl"]) < 0 and broken["mean sigma"] < 0.75 * healthy["mean sigma"]

# %% [markdown]
# A KL divergence is never negative, so the formula is wrong; and the encoder, rewarded for
# shrinking σ, turns the VAE back into an autoencoder. Write `fix_kl_loss`: the same loss with
# the mistake fixed, returning `(loss, kl)` like the broken one.

# %%
def fix_kl_loss(logits, x, mu, logvar):
    """Recon summed over pixels + KL summed over latent dims, batch means. Returns (loss, kl)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'compare each term of the broken KL with the closed form of the lecture, term by term: '
        'does the encoder output σ, or log σ²? — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>fix_kl_loss</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# the KL per image is `-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)`;
# the reconstruction stays as in the broken function; return `recon.mean() + kl.mean(), kl.mean()`.
#
# </details>

# %%
check_fix_kl_loss(fix_kl_loss)

# %% [markdown]
# ## Bug 2: a model that ignores its code
#
# This run's loss is tiny. Count the active units.

# %%
def broken_recon_loss(logits, x, mu, logvar):
    recon = F.binary_cross_entropy_with_logits(logits, x)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
    return recon + kl, kl


model, record = demo_run(broken_recon_loss, data=data)
broken = measure(model, data)
print(f"final loss {record['loss'][-1]:.2f}; active units {broken['active units']} of 8 "
      f"(correct loss: {healthy['active units']}); true KL {broken['true KL']:.2f} nats")
assert broken["active units"] <= 1 < healthy["active units"]

# %% [markdown]
# Posterior collapse: every image gets the same code, so the decoder draws the same blur for
# all of them. Something weighs the KL far more than the ELBO does. Write `fix_recon_loss`.

# %%
def fix_recon_loss(logits, x, mu, logvar):
    """Recon summed over pixels + KL summed over latent dims, batch means. Returns (loss, kl)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        "check what PyTorch's loss does by default over the 784 pixels of each image: the ELBO "
        'adds them up, a mean makes the reconstruction 784 times lighter next to the KL — stuck? '
        'A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>fix_recon_loss</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)`;
# keep the KL line; return `recon.mean() + kl, kl`.
#
# </details>

# %%
check_fix_recon_loss(fix_recon_loss)

# %% [markdown]
# ## Bug 3: a loss that stops falling
#
# Someone wanted the decoder to output an image, not logits. Compare the loss where this run
# ends with the lowest value this loss could ever reach.

# %%
def broken_logits_loss(logits, x, mu, logvar):
    image = torch.sigmoid(logits)
    recon = F.binary_cross_entropy_with_logits(image, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
    return recon.mean() + kl, kl


model, record = demo_run(broken_logits_loss, data=data)
floor = double_sigmoid_floor(data.x_train)
final = sum(record["loss"][-20:]) / 20
print(f"final loss {final:.1f} nats; no model can go below {floor:.1f} with this loss")
assert final > floor

# %% [markdown]
# Write `fix_logits_loss`: the decoder's output stays logits, and the loss gets what it expects.

# %%
def fix_logits_loss(logits, x, mu, logvar):
    """Recon summed over pixels + KL summed over latent dims, batch means. Returns (loss, kl)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'read the name of the loss function: what kind of input does it expect, and what does the'
        ' broken code hand it instead? — stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>fix_logits_loss</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# pass the logits themselves: `F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)`;
# drop the sigmoid line; the KL and the return stay as they were.
#
# </details>

# %%
check_fix_logits_loss(fix_logits_loss)

# %% [markdown]
# ## Bug 4: scores that change every time
#
# The training is fine this time (the correct loss); the evaluation is not. The same 200 test
# digits, scored twice with the same model:

# %%
@torch.no_grad()
def broken_recon_error(model, x):
    logits, mu, logvar = model(x)
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


model = reference_model(data)  # trained with the correct loss
x_eval = data.x_test[:200]
first, second = broken_recon_error(model, x_eval), broken_recon_error(model, x_eval)
change = (first - second).abs().mean().item()
print(f"the same digits, two calls: the errors differ by {change:.2f} nats per image on average")
assert change > 0.5

# %% [markdown]
# An evaluation that changes from one call to the next cannot rank anything. Write
# `fix_recon_error`: one reconstruction error per image, the same on every call.

# %%
@torch.no_grad()
def fix_recon_error(model, x):
    """−log p(x | z) per image, summed over pixels, with z the posterior mean. Shape (N,)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        "which code does the model's forward pass decode, a sample or the mean? Evaluation wants "
        'the one that does not change from call to call — stuck? A second hint is folded under '
        'this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>fix_recon_error</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `mu, logvar = model.encode(x)`; `logits = model.decode(mu)`;
# then the same per-image cross-entropy as the broken function.
#
# </details>

# %%
check_fix_recon_error(fix_recon_error)


# %% [markdown]
# ## Bug 5: a run that blows up
#
# This time the images arrive as raw pixel values, 0 to 255 (as a PNG file stores them), and
# the code that encodes them was written for something else. The loss compares with the images
# in [0, 1] as before. Watch log σ², the encoder's second output: σ² = exp(log σ²) is infinite
# in float32 from log σ² ≈ 88.7 on.

# %%
def broken_encode(model, pixels):
    """(mu, logvar) of images given as pixel values 0–255, shape (N, 1, 28, 28)."""
    mu, logvar = model.encode(pixels)
    return mu, logvar


model, record = demo_run(reference_loss, data=data, encode_fn=broken_encode)
losses = record["loss"] or [float("inf")]
ending = ("it ran all 80 steps" if record["stopped_at"] is None
          else f"the loss became infinite at step {record['stopped_at']}")
print(f"largest log σ² in the run: {record['max_logvar']:.1f}; loss at the first step "
      f"{losses[0]:.3g} nats, at the last {losses[-1]:.3g}; {ending}")
print(f"the correct run: largest log σ² {demo_run(reference_loss, data)[1]['max_logvar']:.1f}")
assert record["max_logvar"] > 40 and losses[0] > 1e6

# %% [markdown]
# Nothing bounds log σ²: it comes out of a linear layer, and here that layer's inputs are 255
# times larger than anything it was built for. Write `fix_encode`: the same pair
# `(mu, logvar)`, from inputs the model can use. A bound on log σ² (a clamp, or a smooth one
# such as `10 * torch.tanh(logvar / 10)`) is a good guard on top — but a guard alone leaves the
# cause in place.

# %%
def fix_encode(model, pixels):
    """(mu, logvar) of images given as pixel values 0–255, shape (N, 1, 28, 28)."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'what range of input values was the model trained on, and what range does it get here? — '
        'stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>fix_encode</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `mu, logvar = model.encode(pixels / 255)`; as a guard, `logvar = logvar.clamp(-10, 10)`;
# return `mu, logvar`.
#
# </details>

# %%
check_fix_encode(fix_encode)
