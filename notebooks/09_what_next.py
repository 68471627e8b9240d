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
# # 09 · What builds on VAEs
#
# The VAEs of this course are small, and their samples are blurry. Yet the idea sits inside some
# of today's strongest generative models, in two roles:
#
# - as a **compressor**: an encoder that turns an image into far fewer numbers, and a decoder that
#   turns them back;
# - as a **latent space** in which a second, more powerful model does the actual generating.
#
# This closing notebook measures both roles on MNIST in a few seconds, then points to where to go
# next: latent diffusion, VQ-VAE, hierarchical VAEs.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Position this as the "why it matters" lecture: fifteen minutes, mostly discussion.
# - The three VAEs below come from the model cache (`course_models.vae`, 1,000 steps each); the
#   first run of the course trains them, later runs load them.

# %% slideshow={"slide_type": "skip"}
import math

import torch
from sklearn.mixture import GaussianMixture

from vae_course import course_models
from vae_course.claims import claim
from vae_course.classifier import accuracy
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.frechet import frechet_digit_distance
from vae_course.losses import reconstruction_loss
from vae_course.metrics import encode_all
from vae_course.plots import show_images

SEED = seed_everything()  # 0, or $VAE_COURSE_SEED
device = get_device()
data = load_mnist()
x = data.x_test[:1000].to(device)  # a fixed held-out set: the same cost with either MNIST

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A VAE is a compressor
#
# An MNIST digit is 784 numbers. The encoder's mean μ(x) is d numbers, and the decoder rebuilds
# the image from them. We train the same VAE with d = 2, 8 and 32 for the same 1,000 steps and
# measure, on held-out digits, the reconstruction decoded from μ: its BCE in nats per image, its
# root-mean-square pixel error, and whether the course's digit ruler (a small classifier, as in
# notebooks 01 and 06) still reads the right digit in it.

# %% slideshow={"slide_type": "fragment"}
ruler, ruler_accuracy = course_models.digit_ruler()
y = data.y_test[:1000]
print(f"digit ruler: {ruler_accuracy:.1%} accuracy on held-out digits")
dims = (2, 8, 32)
models, table, recon_rows = {}, {}, {}
for d in dims:
    vae, _ = course_models.vae(latent_dim=d, steps=1000, seed=SEED)
    models[d] = vae.to(device)
    with torch.no_grad():
        mu, _ = vae.encode(x)
        logits = vae.decode(mu)  # decode the mean code: no sampling noise
    table[d] = {"ratio": 784 / d,
                "bce": reconstruction_loss(logits, x).mean().item(),
                "rms": torch.sqrt(((torch.sigmoid(logits) - x) ** 2).mean()).item(),
                "read": accuracy(ruler, torch.sigmoid(logits).cpu(), y)}
    recon_rows[d] = torch.sigmoid(logits[:12]).cpu()
print(f"{'d':>3s} {'784/d':>7s} {'BCE (nats/image)':>17s} {'RMS pixel error':>16s} "
      f"{'read correctly':>15s}")
for d, r in table.items():
    print(f"{d:3d} {r['ratio']:6.1f}x {r['bce']:17.1f} {r['rms']:16.3f} {r['read']:15.1%}")
for small, large in ((2, 8), (8, 32)):
    claim(f"BCE, d={small} minus d={large} (nats)", table[small]["bce"] - table[large]["bce"],
          above=0)
    claim(f"RMS error, d={small} minus d={large}", table[small]["rms"] - table[large]["rms"],
          above=0)
claim("read correctly at d=32", table[32]["read"], above=0.85)
claim("read correctly, d=32 minus d=2", table[32]["read"] - table[2]["read"], above=0.1)

# %% slideshow={"slide_type": "subslide"}
fig = show_images(torch.cat([x[:12].cpu(), *recon_rows.values()]), nrow=12,
                  row_labels=["held-out", *[f"d = {d} ({784 / d:g}x)" for d in dims]],
                  title="Reconstructions from d numbers per digit")

# %% [markdown] slideshow={"slide_type": "fragment"}
# More latent dimensions buy a better reconstruction: both error columns fall as d grows from 2
# to 8 to 32. At d = 32 — 24.5 times fewer values than pixels — the ruler still reads more than
# 85% of the reconstructions as the right digit, while at d = 2 it reads at least 10 points fewer
# (the exact shares are in the last column). The code is also *smooth*: nearby codes decode to
# similar images, which is what makes it a good place for another model to work.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Latent diffusion: a second model in the VAE's latent space
#
# Stable Diffusion (Rombach et al., 2022) does not run its diffusion model on pixels. A
# KL-regularised autoencoder — a VAE with a very small weight on the KL term — first maps a
# 512×512 RGB image to a 64×64×4 latent; the diffusion model learns to generate *latents*, and
# the decoder turns them into pixels. That autoencoder is sharp where ours are blurry, and not
# only because it is bigger: besides the pixel reconstruction and the small KL, it is trained
# with a perceptual loss (distances between deep-network features) and an adversarial loss (a
# patch discriminator), which penalise exactly the grey average a likelihood alone accepts.

# %% slideshow={"slide_type": "fragment"}
pixels, latents = 512 * 512 * 3, 64 * 64 * 4
print(f"{pixels:,} pixel values -> {latents:,} latent values: {pixels / latents:.0f}x fewer")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A miniature of the same idea
#
# Our VAE generates by decoding z ~ N(0, I). But the codes of real digits do not fill N(0, I)
# evenly; decoding from the gaps ("holes") gives blurry non-digits. Replace the prior by a second
# model fitted to the codes of the training digits — here a 10-component Gaussian mixture instead
# of a diffusion model — and decode samples from *it*. We score 1,000 samples of each kind from
# the d = 8 VAE with the course's ruler for generators, the Fréchet digit distance to held-out
# digits of notebooks 01 and 06 (0 = indistinguishable as a set; real training digits give the
# floor).

# %% slideshow={"slide_type": "fragment"}
vae8 = models[8]
codes, _ = encode_all(vae8, data.x_train[:4000])  # μ of up to 4,000 training digits (CPU)
mixture = GaussianMixture(n_components=10, covariance_type="full",
                          random_state=SEED).fit(codes.numpy())

torch.manual_seed(SEED)
with torch.no_grad():
    from_prior = vae8.sample(1000).cpu()  # decode z ~ N(0, I)
    z_mix = torch.from_numpy(mixture.sample(1000)[0]).float()  # sklearn groups by component,
    z_mix = z_mix[torch.randperm(len(z_mix))].to(device)        # so shuffle before showing
    from_mixture = torch.sigmoid(vae8.decode(z_mix)).cpu()  # decode z ~ mixture fitted to codes
reference = x.cpu()
scores = {"real training digits": frechet_digit_distance(ruler, data.x_train[:1000], reference),
          "decoded from N(0, I)": frechet_digit_distance(ruler, from_prior, reference),
          "decoded from the fitted mixture": frechet_digit_distance(ruler, from_mixture, reference)}
for name, s in scores.items():
    print(f"  {name:32s} FDD {s:7.1f}")
ratio = scores["decoded from N(0, I)"] / scores["decoded from the fitted mixture"]
print(f"a second model in latent space brings the samples {ratio:.1f}x closer to real digits")
claim("FDD, prior samples / mixture samples", ratio, above=1.5)
claim("FDD, real digits / mixture samples",
      scores["real training digits"] / scores["decoded from the fitted mixture"], below=1)

# %% slideshow={"slide_type": "subslide"}
fig = show_images(torch.cat([from_prior[:12], from_mixture[:12]]), nrow=12,
                  row_labels=["N(0, I)", "mixture"], title="Samples of the d = 8 VAE")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The samples decoded from the fitted mixture are closer to real digits than those decoded from
# the N(0, I) prior (the factor is printed above), yet still far from the real-digit floor. The decoder did not
# change at all: only *where in latent space* we sample did. Latent diffusion takes this to its
# conclusion with a far stronger second model, and keeps the VAE's decoder for the last step.

# %% [markdown] slideshow={"slide_type": "notes"}
# - Ask: "why not run diffusion on pixels directly?" (It can be done, but each step would cost
#   ~48× more at 512×512; the autoencoder removes detail that the eye barely notices.)
# - The same two-stage trick was proposed for VAEs themselves (e.g. "Diagnosing and enhancing VAE
#   models", Dai & Wipf, 2019): fit a second VAE to the first one's codes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Where to go next
#
# - **VQ-VAE** (van den Oord et al., 2017): the latent is a grid of *discrete* codes, each the
#   index of the nearest vector in a learned codebook. There is no KL term (with a uniform prior
#   over codes it is a constant), but there is still a weight to balance: the commitment loss,
#   β·‖z_e − sg[e]‖², keeps the encoder's outputs near their codebook vectors, and β (0.25 in the
#   paper) trades that against reconstruction. A separate autoregressive model (PixelCNN, later
#   a transformer) learns the prior over codes.
#   The same "tokenise images, then model the tokens" pattern is behind many text-to-image and
#   video models.
# - **Hierarchical VAEs** (Ladder VAE, 2016; NVAE, 2020; Very Deep VAE, 2021): many layers of
#   latent variables, coarse to fine, each conditioned on the ones above. With enough depth they
#   reach likelihoods competitive with autoregressive models and produce sharp samples — the
#   blurriness of our VAEs is a property of small models with one Gaussian layer, not of VAEs.
# - **Latent diffusion** (Rombach et al., 2022): section 2 above.
# - **Better posteriors and bounds**: normalising flows for q(z|x) and the importance-weighted
#   bound of notebook 03 make the ELBO tighter.

# %% [markdown] slideshow={"slide_type": "notes"}
# - A good closing exercise: change `dims` in section 1 to (2, 4, 8, 16, 32, 64) and plot the
#   BCE against d — where does adding dimensions stop helping with 1,000 steps?
# - Point to notebook 08 (latent explorer) to see the smoothness of the latent space live.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A VAE is a learned compressor: fewer latent numbers, more reconstruction error — measured
#   above for d = 2, 8 and 32.
# - Its latent space is where a second generative model can work: even a Gaussian mixture fitted
#   to the codes gives more digit-like samples than the N(0, I) prior; latent diffusion does the
#   same with a diffusion model.
# - VQ-VAEs and hierarchical VAEs are the two main lines that grew from the model of this course.
