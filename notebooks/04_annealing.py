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
# # 04 · Training, KL annealing and posterior collapse
#
# Notebook 03 took the loss apart. This one trains with it and asks a question the loss alone
# does not answer: **does the model actually use its latent code?**
#
# A VAE can drive the KL term to zero by making q(z|x) equal to the prior for every image. Then z
# says nothing about x, and the decoder has to produce the image on its own. This is called
# *posterior collapse*. Two standard remedies change how the KL term is weighted during training:
#
# * **KL annealing** (β warm-up): multiply the KL by β(t) that grows from 0 to 1, linearly or in
#   repeated cycles;
# * **free bits**: do not penalise a latent dimension whose KL is below a floor λ.
#
# Plan: write the training loop out once; define the two measurements (per-dimension KL and
# active units); run four recipes on a plain MLP decoder, then on a decoder that can draw pixels
# without z; compare.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Start with the question on the slide: "the loss went down — does the model use z?" The loss
#   alone cannot answer it; the point of this lecture is to measure it.
# - The whole notebook trains eight small models of 600 steps each (about a minute on a laptop).
#   Everything is measured live; nothing comes from a cache.
# - Spoiler for you, not for the room: with the plain MLP decoder nothing dramatic happens. The
#   dramatic part comes with the second decoder. Let the class guess first which recipe "wins".

# %% slideshow={"slide_type": "skip"}
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch

from vae_course.autoregressive import MaskedConv2d, PixelVAE
from vae_course.claims import claim
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.losses import kl_divergence, kl_per_dimension, reconstruction_loss
from vae_course.metrics import active_units, encode_all
from vae_course.models import VAE
from vae_course.plots import show_images
from vae_course.schedules import Constant, Cyclical, LinearWarmup
from vae_course.train import evaluate, fit

SEED = seed_everything()  # 0, or $VAE_COURSE_SEED
device = get_device()
data = load_mnist()
x_eval = data.x_test[:2000]  # held-out digits; the same cost with either MNIST

LATENT, HIDDEN = 16, 256  # every model here: 16 latent dimensions, 256 hidden units
STEPS, BATCH, LR = 600, 64, 1e-2  # budget in steps, never epochs
print(f"device: {device}; held-out images used for the measurements: {len(x_eval)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The training loop, written out once
#
# For each mini-batch of images x, at step t:
#
# $$\mathcal L_t = \underbrace{\tfrac1B\textstyle\sum_b -\log p(x_b|z_b)}_{\text{recon}}
#   \;+\; \beta(t)\cdot \underbrace{\tfrac1B\textstyle\sum_b \mathrm{KL}\big(q(z|x_b)\,\|\,N(0,I)\big)}_{\text{KL}},
#   \qquad z_b = \mu(x_b) + \sigma(x_b)\,\varepsilon$$
#
# then one Adam step. That is all `vae_course.train.fit` does, plus bookkeeping (a progress bar,
# a history of the losses, held-out evaluation, a clear error when the loss turns NaN). Below, the
# loop is written by hand for 100 steps, and `fit` is run from the same starting weights and seed.

# %% slideshow={"slide_type": "subslide"}
LOOP_STEPS = 100
schedule = LinearWarmup(warmup_steps=50)

seed_everything(SEED)
model = VAE(LATENT, HIDDEN).to(device)
twin = copy.deepcopy(model)  # identical weights, trained by fit() below

seed_everything(SEED)
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
x_train = data.x_train.to(device)
generator = torch.Generator().manual_seed(SEED)  # the batch order
order, cursor = torch.randperm(len(x_train), generator=generator).to(device), 0
losses = []
for step in range(LOOP_STEPS):
    if cursor + BATCH > len(x_train):  # a pass over the data is done: reshuffle
        order, cursor = torch.randperm(len(x_train), generator=generator).to(device), 0
    xb = x_train[order[cursor:cursor + BATCH]]
    cursor += BATCH

    logits, mu, logvar = model(xb)                   # z = mu + sigma * eps inside the model
    recon = reconstruction_loss(logits, xb).mean()   # -log p(x|z): sum over pixels, mean over batch
    kl = kl_divergence(mu, logvar).mean()            # closed-form KL: sum over dims, mean over batch
    loss = recon + schedule(step) * kl

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

history = fit(twin, data.x_train, steps=LOOP_STEPS, batch_size=BATCH, lr=LR, beta=schedule,
              seed=SEED, progress=False)
gap = max(abs(a - b) for a, b in zip(losses, history.loss))
print(f"hand-written loop: loss {losses[0]:.1f} -> {losses[-1]:.1f} nats/image")
print(f"fit():             loss {history.loss[0]:.1f} -> {history.loss[-1]:.1f} nats/image")
print(f"largest difference over the {LOOP_STEPS} steps: {gap:.2g} nats")
claim("hand-written loop: last loss / first loss", losses[-1] / losses[0], below=0.6)
assert np.allclose(losses, history.loss, rtol=1e-3, atol=1e-3)

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - The two runs agree step by step: same initial weights, same batch order (a seeded
#   `torch.Generator`), same ε (the global seed). That is a useful habit: when you replace a
#   hand-written loop by a library call, check that it computes the same thing.
# - Batches are taken by indexing one in-memory tensor: the whole data set already sits in memory,
#   so there is no `DataLoader` and no per-image Python.
# - Point at `schedule(step)`: annealing is nothing more than that multiplication.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Four recipes for the KL term
#
# | recipe | weight on the KL at step t |
# |---|---|
# | no annealing | β(t) = 1 |
# | linear warm-up | β(t) = min(1, t / T), with T = half the budget |
# | cyclical (Fu et al., 2019) | the warm-up repeated: 4 cycles, each rising over its first half |
# | free bits (Kingma et al., 2016) | β = 1, but the KL term is $\sum_j \max\big(\lambda,\ \overline{\mathrm{KL}}_j\big)$ |
#
# In the last row, $\overline{\mathrm{KL}}_j$ is dimension j's KL averaged over the batch. Below λ
# the gradient of that term is zero, so the optimiser has no reason to push a dimension's KL
# under λ nats. We use λ = 0.5 nats per dimension.

# %% slideshow={"slide_type": "subslide"}
FREE_BITS = 0.5
RECIPES = {
    "no annealing": dict(beta=Constant(1.0), free_bits=0.0),
    "linear warm-up": dict(beta=LinearWarmup(warmup_steps=STEPS // 2), free_bits=0.0),
    "cyclical": dict(beta=Cyclical(period=STEPS // 4, ratio=0.5), free_bits=0.0),
    "free bits": dict(beta=Constant(1.0), free_bits=FREE_BITS),
}
fig, ax = plt.subplots(figsize=(7, 2.6))
steps = np.arange(STEPS)
for i, (name, recipe) in enumerate(RECIPES.items()):
    ax.plot(steps, [recipe["beta"](int(s)) for s in steps], color=f"C{i}", label=name,
            **(dict(ls="--", lw=2) if name == "free bits" else dict(lw=4, alpha=0.6)))
ax.set_xlabel("training step")
ax.set_ylabel("β (weight on the KL)")
ax.set_ylim(-0.05, 1.1)
ax.legend(loc="lower right", fontsize=8)
ax.set_title("β during training (free bits keeps β = 1 and changes the KL term instead)")
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we measure
#
# * **held-out −ELBO** in nats per image (lower is better), always with the true KL at β = 1,
#   whatever recipe was used in training;
# * **KL per dimension**, $\overline{\mathrm{KL}}_j = \frac1N\sum_n -\tfrac12\big(1 + \log\sigma_{nj}^2 - \mu_{nj}^2 - \sigma_{nj}^2\big)$
#   over held-out images, and its sum, the total KL: how many nats the code carries about each
#   image on average;
# * **active units** (Burda et al., 2016): dimension j is active when its posterior mean moves
#   with the input, $\mathrm{Var}_x\big(\mathbb E_{q(z|x)}[z_j]\big) > 0.01$. A collapsed
#   dimension has μ ≈ 0 for every image, hence variance ≈ 0.
#
# The threshold says nothing about *how much* a unit carries, so the tables also count the
# dimensions whose KL exceeds 0.1 nat. That second count is our own choice, not a standard one.

# %% slideshow={"slide_type": "subslide"}
INFORMATIVE = 0.1  # nats: a second count, for dimensions that carry a noticeable amount


def measure(model):
    """Held-out −ELBO, total KL, per-dimension KL and active units of a trained model."""
    mu, logvar = encode_all(model, x_eval)
    kl_dims = kl_per_dimension(mu, logvar)  # (LATENT,), nats
    return {"nelbo": evaluate(model, x_eval), "kl": kl_dims.sum().item(), "kl_dims": kl_dims,
            "au": active_units(mu), "informative": int((kl_dims > INFORMATIVE).sum())}


def train_all(make_model, label):
    """Train one model per recipe from the same initial weights; return their measurements."""
    results = {}
    for name, recipe in RECIPES.items():
        seed_everything(SEED)
        model = make_model()
        history = fit(model, data.x_train, steps=STEPS, batch_size=BATCH, lr=LR, seed=SEED,
                      desc=f"{label}: {name}", **recipe)
        results[name] = {**measure(model), "history": history, "model": model}
    return results


def print_table(results, title):
    print(title)
    print(f"{'recipe':16s} {'held-out -ELBO':>15s} {'total KL':>9s} {'active units':>13s} "
          f"{'units > 0.1 nat':>16s}")
    for name, r in results.items():
        print(f"{name:16s} {r['nelbo']:15.2f} {r['kl']:9.2f} {r['au']:>8d} / {LATENT} "
              f"{r['informative']:>11d} / {LATENT}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Part 1 · A plain MLP decoder
#
# The course's `VAE` with MLP parts: encoder and decoder each have one hidden layer (256 units
# here), and the decoder gets nothing but z. Four runs, one per recipe, 600 steps each.

# %% slideshow={"slide_type": "subslide"}
mlp = train_all(lambda: VAE(LATENT, HIDDEN), "MLP decoder")
print_table(mlp, "Plain MLP decoder (nats per image, held-out digits)")

# %% slideshow={"slide_type": "fragment"}
plain, warm = mlp["no annealing"], mlp["linear warm-up"]
fewest = min(r["au"] for r in mlp.values())
gain = plain["nelbo"] - warm["nelbo"]
print(f"fewest active units in any run: {fewest} of {LATENT}; lowest total KL: "
      f"{min(r['kl'] for r in mlp.values()):.1f} nats")
print(f"no annealing: {plain['au']} active units, {plain['informative']} above 0.1 nat; "
      f"linear warm-up: {warm['au']} active, {warm['informative']} above 0.1 nat")
print(f"linear warm-up lowers the held-out -ELBO by {gain:.1f} nats "
      f"and raises the total KL from {plain['kl']:.1f} to {warm['kl']:.1f} nats")
claim("MLP: fewest active units in any run", fewest, above=LATENT / 2 - 0.5)  # at least 8
claim("MLP: lowest total KL of any run (nats)", min(r["kl"] for r in mlp.values()), above=5)
claim("MLP: fewest units above 0.1 nat in any run",
      min(r["informative"] for r in mlp.values()), above=3.5)
claim("MLP: units above 0.1 nat, warm-up minus none", warm["informative"] - plain["informative"],
      above=0.5)
claim("MLP: total KL, warm-up minus none (nats)", warm["kl"] - plain["kl"], above=0)
claim("MLP: held-out −ELBO gain of warm-up (nats)", gain, above=1.0)

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What happens with a plain MLP decoder:** there is no posterior collapse. In every run, at
# least half of the 16 dimensions pass Burda's threshold, and the code carries more than 5
# nats per image (numbers above). The last column adds a detail. Without annealing,
# some of the "active" dimensions carry almost nothing: the model has switched part of its
# code off and keeps the rest. Linear warm-up keeps more dimensions in use, puts more
# information into z and ends with a lower held-out −ELBO than a constant β = 1. That is a real
# gain, but it is fine-tuning, not a rescue. An MLP decoder cannot draw a digit without being
# told which one, so the ELBO itself rewards using z.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Ask the room before revealing the table: "which recipe collapses?" Many expect the
#   no-annealing run to collapse. It does not. The few units it loses are the dimensions the
#   model could spare at this budget.
# - Folklore check: "without annealing, VAEs collapse". Not for this decoder on MNIST. The
#   folklore comes from text VAEs with LSTM decoders, which can model a sentence with no z at
#   all. Part 2 builds a decoder like that for images.
# - The learning rate (1e-2) is higher than usual so that Part 2 fits in the time budget. Both
#   parts use the same one, so the decoder is the only thing that changes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Part 2 · A decoder that can draw without z
#
# `PixelVAE` (in `vae_course/autoregressive.py`) keeps the same encoder and MLP decoder, and
# adds a second input to each pixel's logit: the pixels **above it and to its left** in the same
# image, read through a *masked* 7×7 convolution (the first layer of a PixelCNN):
#
# $$\text{logit}_i = f(z)_i + g(x_{<i})_i, \qquad p(x|z) = \prod_i \mathrm{Bernoulli}\big(x_i;\ \sigma(\text{logit}_i)\big)$$
#
# Pixel i never sees itself or any later pixel, so this is still a proper distribution over
# images. The loss is the same −ELBO, and `fit` trains it without any change. The difference is
# that g can often guess a pixel from its neighbours ("the stroke continues"), with no help from z.

# %% slideshow={"slide_type": "subslide"}
mask = MaskedConv2d(1, 1, 7).mask[0, 0]
fig, ax = plt.subplots(figsize=(2.6, 2.6))
ax.imshow(mask, cmap="Greens", vmin=0, vmax=1.3)
ax.add_patch(plt.Rectangle((2.5, 2.5), 1, 1, fill=False, ec="C3", lw=2))
ax.set_xticks(np.arange(-0.5, 7), minor=True)
ax.set_yticks(np.arange(-0.5, 7), minor=True)
ax.grid(which="minor", color="0.75", lw=1)
ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
ax.set_title("what pixel ▢ sees (green)", fontsize=9)
fig.tight_layout()
print(f"each pixel's logit reads {int(mask.sum())} earlier pixels (of the 7x7 window) "
      f"and never itself")
assert mask[3, 3] == 0 and mask[:3].all() and mask[3, :3].all() and not mask[3, 3:].any()
assert not mask[4:].any()  # no pixel below either

# %% slideshow={"slide_type": "subslide"}
pixel = train_all(lambda: PixelVAE(LATENT, HIDDEN, kernel_size=7, context_channels=16),
                  "PixelVAE")
print_table(pixel, "Decoder that also sees earlier pixels (nats per image, held-out digits)")

# %% slideshow={"slide_type": "fragment"}
none_, fb = pixel["no annealing"], pixel["free bits"]
lin, cyc = pixel["linear warm-up"], pixel["cyclical"]
print(f"no annealing: {none_['au']} active units, total KL {none_['kl']:.3f} nats")
print(f"free bits:    {fb['au']} active units, total KL {fb['kl']:.2f} nats")
print(f"linear warm-up: {lin['au']} units pass the threshold, total KL {lin['kl']:.2f} nats; "
      f"cyclical: {cyc['au']} units, {cyc['kl']:.2f} nats")
print(f"-ELBO with free bits minus without: {fb['nelbo'] - none_['nelbo']:+.2f} nats")
print(f"-ELBO of the MLP decoder minus this one (no annealing): "
      f"{plain['nelbo'] - none_['nelbo']:+.1f} nats")
claim("pixel, no annealing: active units", none_["au"], below=1.5)       # collapse
claim("pixel, no annealing: total KL (nats)", none_["kl"], below=0.5)
claim("pixel, free bits: active units", fb["au"], above=LATENT - 2.5)      # free bits repairs it
claim("pixel, free bits: total KL / (λ·16)", fb["kl"] / (LATENT * FREE_BITS), above=0.5)
for name, r in (("warm-up", lin), ("cyclical", cyc)):                     # annealing does not
    claim(f"pixel, {name}: active units minus no annealing", r["au"] - none_["au"], above=0)
    claim(f"pixel, {name}: total KL (nats)", r["kl"], below=min(1.0, 0.2 * fb["kl"]))
    claim(f"pixel, {name}: units above 0.1 nat", r["informative"], below=2.5)
claim("pixel: −ELBO, free bits minus collapsed (nats)", fb["nelbo"] - none_["nelbo"],
      above=1, below=15)
claim("−ELBO, MLP decoder minus pixel decoder (nats)", plain["nelbo"] - none_["nelbo"], above=20)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Here collapse is real, and the table measures it:
#
# * **No annealing:** at most one dimension passes Burda's threshold, and the whole code carries
#   a fraction of a nat per image. The encoder output is practically the prior for every digit.
# * **Free bits repairs it:** (almost) every dimension is active, and the code carries several
#   nats, about λ per dimension, because that is what free bits gives away for free.
# * **Annealing does not repair it, only slows it down:** at the end of the budget several
#   dimensions still pass Burda's 0.01 threshold, but all of them together carry less than a
#   nat, and hardly any single one gets above 0.1 nat (last column). Here "active" by Burda's
#   count and "informative" are not the same thing, so read the total KL too.
# * **An honest surprise:** the held-out −ELBO is *better* for the collapsed model than for the
#   free-bits one, by a few nats. Careful with what that shows. The free-bits model was trained
#   on another objective, so this does not prove that the best ELBO a PixelVAE can reach has z
#   switched off: He et al. (2019) train the encoder more aggressively and find non-collapsed
#   solutions with an equal or better ELBO. What it does show is narrower: plain ELBO training
#   from this start settles into collapse, and the model it finds is not worse by the ELBO than
#   the one free bits forces to use z. Free bits trades those few nats for a code that says
#   something about the image.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Compare the −ELBO with Part 1: the pixel path alone buys tens of nats, so z has little left
#   to offer, and its KL price is no longer worth paying.
# - Someone will ask whether the high learning rate causes the collapse. Part 1 used the same
#   rate without collapse, so the decoder is what changed. How fast the collapse comes does
#   depend on the rate. Take-home experiment: lr = 2e-3 and a few thousand steps. Does it still
#   come, and when?
# - Question to ask: "free bits gives a worse ELBO. Why would anyone use it?" Because the ELBO
#   is not the only thing we want. Notebook 06 needs a latent space that encodes the image
#   (interpolation, attributes, anomaly scores).
# - Ask how to check whether "active" units carry information: Burda's count only looks at the
#   variance of μ; the KL per dimension (next slide) says how many nats each carries.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## KL per dimension
#
# Each bar is one latent dimension's $\overline{\mathrm{KL}}_j$ on held-out digits, sorted from
# largest to smallest within each run (log scale). The dashed line is the free-bits floor λ,
# the dotted one the 0.1-nat line of the "units > 0.1 nat" column.

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
width = 0.2
for ax, (title, results) in zip(axes, [("plain MLP decoder", mlp),
                                       ("decoder that also sees earlier pixels", pixel)]):
    for i, (name, r) in enumerate(results.items()):
        kl_sorted = r["kl_dims"].sort(descending=True).values.clamp(min=1e-4).numpy()
        ax.bar(np.arange(LATENT) + (i - 1.5) * width, kl_sorted, width, color=f"C{i}",
               label=f"{name} ({r['au']} active)")
    ax.axhline(FREE_BITS, color="k", ls="--", lw=1)
    ax.axhline(INFORMATIVE, color="gray", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 30)
    ax.set_xlabel("latent dimension (sorted by KL)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right", ncol=2)
axes[0].set_ylabel("KL per dimension (nats)")
fig.tight_layout()

fb_min, fb_max = fb["kl_dims"].min().item(), fb["kl_dims"].max().item()
none_max = none_["kl_dims"].max().item()
sticking_out = int((none_["kl_dims"] > 0.1 * FREE_BITS).sum())
print(f"pixel decoder, free bits: per-dimension KL from {fb_min:.2f} to {fb_max:.2f} nats, "
      f"{fb_min / FREE_BITS:.2f} λ to {fb_max / FREE_BITS:.2f} λ (floor λ = {FREE_BITS})")
print(f"pixel decoder, no annealing: largest per-dimension KL {none_max:.3f} nats; "
      f"dimensions above {0.1 * FREE_BITS:.2f} nats: {sticking_out}")
claim("pixel, free bits: smallest per-dimension KL / λ", fb_min / FREE_BITS, above=0.4)
claim("pixel, free bits: largest per-dimension KL / λ", fb_max / FREE_BITS, below=1.5)
claim("pixel, no annealing: dimensions above 0.05 nat", sticking_out, below=1.5)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Right panel: free bits keeps every dimension's KL between 0.4 λ and 1.5 λ (the printed
# range; asserted), most of them just under λ. The floor is applied to the batch average, so a
# dimension can sit below it on held-out data. The no-annealing run is flat near zero, with at most one dimension sticking out. The
# annealed runs sit in between, almost all below the 0.1-nat line, even where Burda's count
# calls them active.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The KL during training
#
# The KL of each mini-batch over training, smoothed over 25 steps. On the left, with the MLP
# decoder, each run settles at its own level. On the right is the pixel decoder. There, linear
# warm-up does **not** keep z alive until β reaches 1: its KL falls during the warm-up too,
# just more slowly than at β = 1. Each restart of the cyclical schedule (β back to 0) brings a
# burst of KL, which decays again as β climbs.

# %% slideshow={"slide_type": "subslide"}
def smooth(values, n=25):
    return np.convolve(np.asarray(values, dtype=float), np.ones(n) / n, mode="valid")


fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
for ax, (title, results) in zip(axes, [("plain MLP decoder", mlp),
                                       ("decoder that also sees earlier pixels", pixel)]):
    for i, (name, r) in enumerate(results.items()):
        kl_curve = smooth(r["history"].kl)
        ax.plot(np.arange(len(kl_curve)) + 12, kl_curve, color=f"C{i}", label=name)
    ax.axvline(STEPS // 2, color="gray", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("training step (dotted: end of the linear warm-up)")
    ax.set_title(title)
axes[0].set_ylabel("KL of the batch (nats per image)")
axes[1].legend(fontsize=8)
fig.tight_layout()


def window(history, start, stop):
    """Mean batch KL over training steps [start, stop)."""
    return float(np.mean(history.kl[start:stop]))


h = lin["history"]
early, warm_end, last = window(h, 50, 100), window(h, STEPS // 2 - 25, STEPS // 2), window(
    h, STEPS - 25, STEPS)
none_warm_end = window(none_["history"], STEPS // 2 - 25, STEPS // 2)
print(f"pixel decoder, linear warm-up: mean batch KL {early:.2f} nats at steps 50-99, "
      f"{warm_end:.2f} at the end of the warm-up, {last:.2f} at the end")
print(f"pixel decoder, no annealing: {none_warm_end:.2f} nats at the same point")
claim("pixel, warm-up: KL at its end / KL at steps 50-99", warm_end / early, below=0.5)
claim("pixel, warm-up: KL at the end / at the end of warm-up", last / warm_end, below=1)
claim("pixel: KL at the end of warm-up, warm-up minus none (nats)", warm_end - none_warm_end,
      above=0)
h, period = cyc["history"], STEPS // 4
for restart in range(period, STEPS, period):
    before = window(h, restart - 25, restart)
    burst = max(h.kl[restart:restart + period // 2])
    print(f"cyclical restart at step {restart}: KL {before:.2f} nats before, "
          f"up to {burst:.2f} after")
    claim(f"cyclical restart at {restart}: KL burst / before", burst / before, above=2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A longer warm-up?
#
# Our warm-up lasts 300 steps, about 5 passes over the 4,000 training digits of the subset.
# Tutorials often advise 10–20 epochs. Does a longer one keep z alive? One more pixel-decoder
# run: β rises over 640 steps (10 epochs of the subset; with full MNIST it would be 0.7 of an
# epoch, so the budget stays the same whichever data you have), then 320 more steps at β = 1.

# %% slideshow={"slide_type": "subslide"}
LONG = 640
seed_everything(SEED)
long_model = PixelVAE(LATENT, HIDDEN, kernel_size=7, context_channels=16)
long_history = fit(long_model, data.x_train, steps=LONG + LONG // 2, batch_size=BATCH, lr=LR,
                   seed=SEED, beta=LinearWarmup(warmup_steps=LONG), desc="PixelVAE: long warm-up")
long = measure(long_model)
long_peak = max(smooth(long_history.kl))
long_end_warm = window(long_history, LONG - 25, LONG)
print(f"long warm-up: KL peaks at {long_peak:.2f} nats (25-step mean), {long_end_warm:.2f} at "
      f"the end of the warm-up; after {LONG // 2} steps at β = 1: {long['kl']:.2f} nats on "
      f"held-out digits, {long['au']} active units, {long['informative']} above 0.1 nat")
claim("pixel, long warm-up: KL at its end / peak", long_end_warm / long_peak, below=0.5)
claim("pixel, long warm-up: held-out total KL at the end (nats)", long["kl"],
      below=0.2 * fb["kl"])

# %% [markdown] slideshow={"slide_type": "fragment"}
# Twice as long a warm-up ends the same way: the KL falls while β is still rising, and after
# the warm-up the code carries a small fraction of what free bits keeps (claims above). With
# this decoder, a longer warm-up postpones the collapse; it does not prevent it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What does z say about the image?
#
# In the pixel decoder, $f(z)$ is the part of each logit that comes from the code. We feed it
# the posterior mean μ of ten held-out digits and show σ(f(μ)): a picture of what z contributes
# before the pixel context adds its part.

# %% slideshow={"slide_type": "subslide"}
digits = x_eval[:10]
rows, spread = [digits], {}
for name in ("no annealing", "free bits"):
    model = pixel[name]["model"]
    with torch.no_grad():
        mu, _ = model.encode(digits.to(device))
        z_part = torch.sigmoid(model.decoder(mu)).cpu()
    rows.append(z_part)
    spread[name] = z_part.std(dim=0).mean().item()  # how much it changes from digit to digit
show_images(torch.cat(rows), nrow=10,
            row_labels=["input", "z part,\nno annealing", "z part,\nfree bits"])
print(f"pixel-wise spread of the z part across the ten digits: no annealing "
      f"{spread['no annealing']:.4f}, free bits {spread['free bits']:.4f}")
claim("z part spread, free bits / no annealing", spread["free bits"] / spread["no annealing"],
      above=5)

# %% [markdown] slideshow={"slide_type": "fragment"}
# After collapse, z contributes the same picture whatever the digit: one fixed bias map, and the
# pixel context does all the work. With free bits, the z part changes from digit to digit and
# shows a rough outline of the input. The code tells the decoder the coarse shape, and the pixel
# context fills in the strokes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Take-aways
#
# 1. The training loop is short: sample z with the reparameterisation trick, add recon and
#    β(t)·KL, take an optimiser step. `fit` is that loop with bookkeeping.
# 2. Measure collapse. Do not guess it: per-dimension KL and active units (Var of μ > 0.01).
#    Read them together, because a unit can pass the threshold while carrying almost nothing.
# 3. With a plain MLP decoder on MNIST, the code never collapses as a whole. Annealing is a
#    mild improvement: more dimensions in use and a better held-out ELBO.
# 4. Give the decoder a way to model pixels without z, and the ELBO itself prefers to ignore z.
#    Warm-up, over 5 epochs or 10, only postpones collapse here. Free bits keeps the code
#    informative, at a small cost in ELBO (which does not mean the ELBO's best model ignores
#    z; better-trained encoders find informative codes with as good an ELBO).
#
# The exercise for this lecture (`exercises/04_annealing.ipynb`) has you write the warm-up, the
# cyclical schedule, the free-bits KL, a training step, and the active-units count.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - If time allows, try live: free bits with λ = 0.1 or 1.0 on the pixel decoder, and watch how
#   the total KL and the ELBO cost move with λ.
# - Cyclical annealing was proposed for text VAEs, where each new cycle starts from an encoder
#   that learned something in the previous one. Here, with 4 short cycles, it ends like linear
#   warm-up. Ask the class what they would change (more steps, a long final plateau at β < 1).
