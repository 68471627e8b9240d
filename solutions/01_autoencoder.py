# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 1 — An autoencoder as an `nn.Module`
#
# Goes with the lecture **`notebooks/01_autoencoder.ipynb`**.
#
# You write the model of the lecture yourself: an encoder that squeezes a 28×28 digit into a
# short code z, and a decoder that turns the code back into an image. In PyTorch a model is a
# class derived from `nn.Module`: its layers are created in `__init__`, and `forward` says how
# an input flows through them.
#
# **How to work:** fill in the cell marked `YOUR CODE HERE`, then run the check cell below it.
# A green box means done; an orange one means the code still raises `NotImplementedError` (its
# first hint is in the box; a second hint, with the code, is folded under the task); a red one
# says what went wrong. Change your code and run both cells again.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from vae_course.checks import check_autoencoder
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.exercise import needs, train_with
from vae_course.plots import show_images

SEED = seed_everything(0)


# %% [markdown]
# ## Your task: `Autoencoder(latent_dim=2, hidden=400)`
#
# The same network as the lecture's `vae_course.models.Autoencoder`:
#
# * **encoder**: flatten the image (1×28×28 → 784), a linear layer to `hidden` units, ReLU, a
#   linear layer to `latent_dim` numbers: the code z;
# * **decoder**: a linear layer from `latent_dim` to `hidden` units, ReLU, a linear layer to 784
#   numbers, shaped back into `(batch, 1, 28, 28)`. These are **logits**: the image is
#   `torch.sigmoid(logits)`, but the loss takes the logits themselves, so no sigmoid in the model;
# * methods `encode(x) -> z` of shape `(batch, latent_dim)`, `decode(z) -> logits` of shape
#   `(batch, 1, 28, 28)`, and `forward(x) = decode(encode(x))`.
#
# The check builds your model with other sizes too, compares its parameter count with the
# lecture's model, makes sure the loss sends a gradient to every parameter, and trains it for a
# few hundred steps.

# %%
class Autoencoder(nn.Module):
    """x (batch, 1, 28, 28) -> code z (batch, latent_dim) -> logits (batch, 1, 28, 28)."""

    def __init__(self, latent_dim=2, hidden=400):
        super().__init__()
        ### BEGIN SOLUTION
        ### HINT: two small stacks of layers, each built with nn.Sequential: 784 to hidden to latent_dim for the encoder, the mirror image for the decoder
        ### HINT2: `self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, latent_dim))`
        ### HINT2: and `self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784))`
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(),
                                     nn.Linear(hidden, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 28 * 28))
        ### END SOLUTION

    def encode(self, x):
        ### BEGIN SOLUTION
        ### HINT: run the encoder on the images
        ### HINT2: `return self.encoder(x)`
        return self.encoder(x)
        ### END SOLUTION

    def decode(self, z):
        ### BEGIN SOLUTION
        ### HINT: run the decoder, then give its 784 numbers per image the image's shape back
        ### HINT2: `return self.decoder(z).view(-1, 1, 28, 28)`
        return self.decoder(z).view(-1, 1, 28, 28)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        ### HINT: encode, then decode what came out
        ### HINT2: `return self.decode(self.encode(x))`
        return self.decode(self.encode(x))
        ### END SOLUTION


# %%
check_autoencoder(Autoencoder)

# %% [markdown]
# ## Use it: train your autoencoder on MNIST
#
# The loss is the lecture's: binary cross-entropy between the logits and the pixels, summed
# over the 784 pixels and averaged over the batch (nats per image). An untrained decoder outputs
# logits near 0, i.e. grey pixels of probability ½, which costs 784 · log 2 nats per image (the
# cell prints it next to your model's first loss); with a 2-number code the loss falls to less
# than half of that within a few hundred steps. The cell then shows test digits above their
# reconstructions.

# %%
if needs(Autoencoder):
    seed_everything(0)
    data = load_mnist()
    model = Autoencoder(latent_dim=2, hidden=400)

    def reconstruction_step(model, optimizer, xb, step):
        """One Adam step on the lecture's loss; returns it in nats per image."""
        loss = F.binary_cross_entropy_with_logits(model(xb), xb, reduction="none")
        loss = loss.flatten(1).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    losses = train_with(reconstruction_step, model, data.x_train, steps=600)
    grey = 28 * 28 * math.log(2)  # every pixel predicted as a fair coin
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    print(f"all-grey guess: {grey:.0f} nats/image; your model's first step: {losses[0]:.0f}")
    print(f"loss: {first:.0f} nats/image over the first 20 steps, {last:.0f} over the last 20")
    assert abs(losses[0] - grey) < 0.05 * grey
    assert last < 0.5 * grey

    with torch.no_grad():
        x_test = data.x_test[:10].to(get_device())
        recon = torch.sigmoid(model(x_test))
    show_images(torch.cat([x_test, recon]).cpu(), nrow=10,
                title="Test digits (top) and their reconstructions from 2 numbers (bottom)")
    plt.show()
