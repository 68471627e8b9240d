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
# <!-- Generated from solutions/06_interpolation.py by `vae-course build`: edit the solution, not this file. -->

# %% [markdown]
# # Exercise 6 — Interpolating in latent space
#
# Goes with the lecture **`notebooks/06_applications.ipynb`**.
#
# Encode two digits, walk along the straight line between their codes, and decode every point
# on the way. You write the walk.
#
# **How to work:** fill in the cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import torch

from vae_course.checks import check_interpolate
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.exercise import needs
from vae_course.models import VAE
from vae_course.plots import show_images
from vae_course.train import fit

SEED = seed_everything(0)


# %% [markdown]
# ## Your task: `interpolate(z_start, z_end, n_steps)`
#
# * `z_start`, `z_end`: two codes, shape `(latent_dim,)`.
# * Return a tensor of shape `(n_steps, latent_dim)` whose row i is
#
# $$z_i = (1 - t_i)\, z_{\text{start}} + t_i\, z_{\text{end}}, \qquad t_i = \frac{i}{n_{\text{steps}} - 1}$$
#
# so the first row is exactly `z_start` and the last exactly `z_end` (n_steps ≥ 2).

# %%
def interpolate(z_start, z_end, n_steps):
    """n_steps evenly spaced codes on the line from z_start to z_end, endpoints included."""
    # YOUR CODE HERE
    raise NotImplementedError(
        'n_steps evenly spaced weights from 0 to 1, one per row, each mixing the two end codes — '
        'stuck? A second hint is folded under this cell')


# %% [markdown]
# <details><summary><b>Second hint for <code>interpolate</code></b> (the formula; open it only if the first hint was not enough)</summary>
#
# `t = torch.linspace(0, 1, n_steps).unsqueeze(1)` (a column);
# `return (1 - t) * z_start + t * z_end`
#
# </details>

# %%
check_interpolate(interpolate)

# %% [markdown]
# ## Use it: from one digit to another
#
# First a small VAE, trained for 600 steps (a few seconds), once your `interpolate` is written.

# %%
if needs(interpolate):
    seed_everything(0)
    device = get_device()
    data = load_mnist()
    model = VAE(latent_dim=8, hidden=256)
    history = fit(model, data.x_train, steps=600, device=device, desc="small VAE")

# %% [markdown]
# Now encode a test "1" and a test "7" by their posterior means, interpolate between the two
# codes with your function and decode each point. The first and last decoded images are the
# model's reconstructions of the two digits.

# %%
if needs(interpolate):
    one = data.x_test[data.y_test == 1][:1].to(device)
    seven = data.x_test[data.y_test == 7][:1].to(device)
    with torch.no_grad():
        z_one, z_seven = model.encode(one)[0][0], model.encode(seven)[0][0]
        path = interpolate(z_one, z_seven, 10)
        images = torch.sigmoid(model.decode(path)).cpu()
    assert torch.allclose(path[0], z_one) and torch.allclose(path[-1], z_seven)
    show_images(torch.cat([one.cpu(), images, seven.cpu()]), nrow=12,
                title="input 1 | ten decoded codes from 1 to 7 | input 7");
