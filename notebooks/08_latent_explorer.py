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
# # 08 · Exploring a latent space by hand
#
# Seven notebooks measured latent spaces with numbers. This one lets you *touch* them, with
# three widgets from `vae_course.widgets`:
#
# 1. **latent explorer** — one slider per latent dimension, the decoder draws the code you set;
# 2. **interpolation explorer** — pick two images, slide from one code to the other;
# 3. **β explorer** — switch between sprite VAEs trained with β = 1, 4 and 10 and watch their
#    latent traversals change.
#
# Each widget remembers what it drew last (`last_image`, `last_grid`), so everything you see by
# dragging is also measured below, by moving the same sliders from Python.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - This is the "play" lecture: plan for half the time to be live dragging and questions.
# - Run `vae-course prepare` before class so every model below loads from the cache in a second;
#   otherwise the first run trains them (progress bars show how long it will take).
# - Widgets need a live kernel: in the slide deck they show as a one-line placeholder, so demo
#   them from JupyterLab (`vae-course lab`), not from the HTML slides.

# %% slideshow={"slide_type": "skip"}
import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from vae_course import course_models
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.plots import plot_latent_map, show_images
from vae_course.sprites import make_sprites
from vae_course.widgets import (BetaExplorer, InterpolationExplorer, LatentExplorer,
                                decode_images, encode_means, to_png)

seed_everything(0)
device = get_device()
data = load_mnist()
vae, vae_info = course_models.vae()  # 2-D latent VAE shared with notebooks 02 and 03 (cached)
# a small digit classifier that reads decoded images
ruler, ruler_accuracy = course_models.digit_ruler()


@torch.no_grad()
def read_digits(images):
    """The ruler's reading of each image in [0, 1]: (predicted digit, its probability)."""
    probs = torch.softmax(ruler(images.to(next(ruler.parameters()).device)), dim=1).cpu()
    confidence, digit = probs.max(dim=1)
    return digit, confidence


print(f"device: {device}; 2-D VAE held-out −ELBO {vae_info['test_nelbo']:.1f} nats/image; "
      f"digit ruler test accuracy {ruler_accuracy:.1%}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · A latent space with two dimensions
#
# With d = 2 the whole latent space fits on a page. Each dot is the posterior mean μ of one
# test digit; colours are the true labels. The prior N(0, I) puts 95 % of its mass inside a
# circle of radius about 2.45 around the origin, so that is where the decoder had to learn
# something sensible.

# %% slideshow={"slide_type": "fragment"}
mu_test = encode_means(vae, data.x_test)
fig = plot_latent_map(mu_test, data.y_test, title="Test digits: posterior means μ (2-D VAE)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Explorer 1: one slider per latent dimension
#
# Drag z1 and z2 and the image is `sigmoid(decoder(z))` for the code you set. "image #" plus
# *start from its code* jumps to the code of a test image, so you can begin from a real digit
# and walk away from it.

# %% slideshow={"slide_type": "fragment"}
explorer = LatentExplorer(vae, images=data.x_test)
explorer

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Before touching the sliders, ask: "what digit is at the origin?" Then set both to 0.
#   The answer is whatever digit class sits near the centre of the map above.
# - Drag one slider slowly from −3 to +3: the image morphs, it never jumps. Ask why a VAE gives
#   this and the autoencoder of notebook 01 did not (the KL term packs the codes around the
#   origin, and the noise in z forces nearby codes to decode alike).
# - Push a slider to ±3 with the other far out too: the images get worse. The prior has
#   little mass there, so the decoder was rarely trained there.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What the slider does, measured
#
# Setting `explorer.sliders[0].value` from Python does exactly what dragging does. We sweep
# z1 from −3 to 3 in steps of 0.1 (z2 = 0), keep each `explorer.last_image`, and let the digit
# ruler read every image.

# %% slideshow={"slide_type": "fragment"}
values = torch.linspace(-3, 3, 61)
explorer.set_code(torch.zeros(2))
sweep = []
for v in values:
    explorer.sliders[0].value = float(v)
    sweep.append(explorer.last_image)
sweep = torch.stack(sweep)
explorer.set_code(torch.zeros(2))  # leave the widget at the origin again

digits, confidence = read_digits(sweep)
runs = [int(digits[0])] + [int(d) for prev, d in zip(digits[:-1], digits[1:]) if d != prev]
distinct = len(set(runs))
fig = show_images(sweep[::6], nrow=11, title="z1 = −3 … +3 (every 0.6), z2 = 0", scale=1.4)
plt.show()
print(f"ruler's readings along the sweep, in order: {runs}  ->  {distinct} different digits")
assert distinct >= 3, distinct

# %% [markdown] slideshow={"slide_type": "fragment"}
# One slider crosses several digit classes: in two dimensions every direction has to be shared
# by all ten digits. And the change is gradual. Below, the biggest difference between two
# neighbouring slider positions (Δz1 = 0.1) is compared with the typical difference between
# the decoded images of two independent codes drawn from the prior.

# %% slideshow={"slide_type": "fragment"}
step_change = (sweep[1:] - sweep[:-1]).abs().flatten(1).mean(dim=1)
generator = torch.Generator().manual_seed(0)
z_pairs = torch.randn(2, 500, 2, generator=generator)
pair_change = (decode_images(vae, z_pairs[0]) - decode_images(vae, z_pairs[1])).abs()
pair_change = pair_change.flatten(1).mean(dim=1).mean()
ratio = step_change.max() / pair_change
print(f"largest change between neighbouring positions: {step_change.max():.4f} per pixel")
print(f"mean change between two random prior codes:     {pair_change:.4f} per pixel")
print(f"ratio: {ratio:.2f}  (one slider step changes the image {1 / ratio:.0f}x less)")
assert ratio < 0.3, ratio

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - The sweep list is a good question: "which digits sit next to each other, and why those
#   pairs?" Put the printed order next to the map above and trace the line z2 = 0 across it.
# - The ratio makes "smooth" a number. A learner who retrains with β = 0 (a plain autoencoder
#   with noise) can watch it grow.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Interpolating between two chosen images
#
# Pick two test digits A and B; the code at t is (1 − t)·μ_A + t·μ_B ("linear"), or the
# great-circle path of `vae_course.latent.slerp` ("spherical"). The strip shows A, the
# reconstruction of A, the decoded point at t, the reconstruction of B, and B.
#
# We start from a "4" and a "1" that the ruler recognises after reconstruction, so the two ends
# of the path are unambiguous.

# %% slideshow={"slide_type": "fragment"}
recon_digits, _ = read_digits(decode_images(vae, mu_test))
good = recon_digits == data.y_test
a = int(torch.nonzero(good & (data.y_test == 4))[0])
b = int(torch.nonzero(good & (data.y_test == 1))[0])
interpolation = InterpolationExplorer(vae, data.x_test, a=a, b=b)
interpolation

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What lies on the path, measured
#
# We move `interpolation.t` from 0 to 1 in 21 steps and let the ruler read each decoded image.
# At t = 0 the widget must draw exactly the decoder's output at μ_A (checked below).

# %% slideshow={"slide_type": "fragment"}
ts = torch.linspace(0, 1, 21)
path = []
for t in ts:
    interpolation.t.value = float(t)
    path.append(interpolation.last_image)
path = torch.stack(path)
interpolation.t.value = 0.5

assert torch.allclose(path[0], decode_images(vae, mu_test[a:a + 1])[0], atol=1e-6)
path_digits, path_confidence = read_digits(path)
others = sorted({int(d) for d in path_digits} - {4, 1})
fig = show_images(path, nrow=21, title=f"test #{a} (a 4) → test #{b} (a 1), linear path")
plt.show()
print("ruler along the path:", path_digits.tolist())
print(f"digits other than 4 and 1 met on the way: {others or 'none'}; "
      f"lowest ruler confidence on the path {path_confidence.min():.2f}")
assert path_digits[0] == 4 and path_digits[-1] == 1

# %% [markdown] slideshow={"slide_type": "fragment"}
# The ends read as 4 and 1 (asserted above). Whatever digits appear in between (printed) are
# the classes whose regions the straight line crosses on the map of section 1: a straight line
# in latent space is not a straight line between the two *meanings*.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Let the class choose A and B (type indices into the boxes). Two digits of the same class
#   give the cleanest morphs; classes far apart on the map pass through others.
# - Switch to "spherical": in two dimensions it bends the path around the origin and can take
#   a different set of digits on the way. Notebook 06 measures whether slerp helps in higher
#   dimensions.
# - Common learner mistake: interpolating between *sampled* z instead of μ, so the picture
#   changes even when t does not move.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · The β explorer: same data, three values of β
#
# Sprites (`vae_course.sprites`) are shapes with five known factors: shape, scale, rotation, x and
# y. `course_models.sprites_vae(β)` is the β-VAE of notebook 05 (8 latent dimensions, MLP, trained
# with loss = reconstruction + β·KL); we load it for β = 1, 4 and 10. They come from the cache when
# notebook 05 or `vae-course prepare` already trained them.

# %% slideshow={"slide_type": "fragment"}
sprites = make_sprites()
BETAS = (1.0, 4.0, 10.0)  # the three β of notebook 05, so its cached models are reused
trained = {beta: course_models.sprites_vae(beta, sprites=sprites) for beta in BETAS}
models = {beta: model for beta, (model, _) in trained.items()}
beta_explorer = BetaExplorer(models, sprites.images, index=1000, rows=5, columns=9)
beta_explorer

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Each row moves one latent coordinate from −2.5 to +2.5 around the code of the chosen
#   sprite; rows are the dimensions with the most KL, i.e. the ones the model actually uses.
# - Ask before clicking β = 10: "what do you expect to lose, and what to gain?" Then look: the
#   reconstruction of small details goes first.
# - Ask the class to name, for each row, the factor it moves (shape, size, angle, x, y). Then
#   compare their answers with the MIG column below.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What β changed, measured
#
# For each model, measured on every sprite when it was trained (`extra` of
# `course_models.sprites_vae`): reconstruction −log p(x|z) and KL in nats per image, the number of
# latent dimensions whose KL exceeds 0.1 nats, and MIG (notebook 05's disentanglement score: 0 = no
# factor has a latent of its own, 1 = each factor has exactly one).

# %% slideshow={"slide_type": "fragment"}
rows = []
for beta, (model, extra) in trained.items():
    kl = torch.tensor(extra["kl_per_dim"])
    rows.append({"beta": beta, "recon": extra["recon"], "kl": extra["kl"],
                 "used": int((kl > 0.1).sum()), "mig": extra["mig"]})
print(" β    recon   KL     dims used  MIG")
for r in rows:
    print(f"{r['beta']:>4g}  {r['recon']:6.1f}  {r['kl']:5.2f}  {r['used']:>5}      "
          f"{r['mig']:.3f}")
recons, kls, used = ([r[k] for r in rows] for k in ("recon", "kl", "used"))
assert recons == sorted(recons) and len(set(recons)) == 3, recons  # worse as β grows
assert kls == sorted(kls, reverse=True) and len(set(kls)) == 3, kls  # less information
assert used == sorted(used, reverse=True) and used[-1] < used[0], used  # dimensions switched off

# %% [markdown] slideshow={"slide_type": "fragment"}
# As β grows the KL falls, reconstructions get worse, and the model switches off latent
# dimensions (the table, asserted). Whether the dimensions it keeps line up with single
# factors is what MIG measures; notebook 05 tests that claim properly, with several seeds.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The latent explorer on the largest-β model
#
# The same slider widget, now only for the dimensions the β = 10 model still uses. With few
# dimensions left, each slider has to carry a lot: watch position, size and shape move.

# %% slideshow={"slide_type": "fragment"}
strong = models[BETAS[-1]]
strong_kl = torch.tensor(trained[BETAS[-1]][1]["kl_per_dim"])
used_dims = [d for d in strong_kl.argsort(descending=True).tolist() if strong_kl[d] > 0.1]
sprite_explorer = LatentExplorer(strong, images=sprites.images, dims=used_dims, scale=5)
sprite_explorer.start_from(1000)
print(f"β = {BETAS[-1]:g}: sliders for dimensions {[d + 1 for d in used_dims]} "
      f"(KL > 0.1 nats); the others stay at the chosen sprite's code")
sprite_explorer

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · How a widget like this works
#
# Nothing magic: a slider, an image, and a callback that decodes and encodes PNG bytes. This
# is the whole mechanism of `LatentExplorer`, for z1 only:

# %% slideshow={"slide_type": "fragment"}
slider = widgets.FloatSlider(value=0.0, min=-3, max=3, step=0.05, description="z1")
image = widgets.Image(format="png")


def on_change(change):
    z = torch.tensor([[change["new"], 0.0]])  # the code: the slider's value, z2 = 0
    image.value = to_png(decode_images(vae, z)[0], scale=4)  # decoder -> PNG -> browser


slider.observe(on_change, names="value")
on_change({"new": slider.value})
widgets.VBox([slider, image])

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Worth showing for learners who want to build their own tools: `observe` is the only
#   ipywidgets concept needed.
# - PNG bytes in a `widgets.Image` work in any browser and in JupyterLab without extra
#   extensions for matplotlib; that is why the course widgets use them.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try it
#
# - Start the latent explorer from a "7" and find the smallest move that makes the ruler read
#   a different digit.
# - Interpolate between two images of the *same* digit, then between two far apart on the map.
# - In the β explorer, pick a sprite near the border (other `image #`) and compare which rows
#   change position with β = 1 and β = 10.
#
# Next: notebook 09 looks at what builds on VAEs — latent diffusion works in exactly this kind
# of latent space.
