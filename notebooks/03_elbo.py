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
# # 03 · The ELBO
#
# A VAE is trained by maximising the **evidence lower bound**:
#
# $$\log p(x) \;\ge\; \text{ELBO}(x) = \underbrace{\mathbb E_{q(z|x)}\big[\log p(x|z)\big]}_{\text{reconstruction}}
#  \;-\; \underbrace{\mathrm{KL}\big(q(z|x)\,\|\,p(z)\big)}_{\text{stay close to the prior}}$$
#
# with q(z|x) = N(μ(x), σ²(x)) from the encoder, p(x|z) from the decoder and p(z) = N(0, I).
# The training loss is −ELBO. This notebook takes it apart term by term and checks each piece
# with numbers:
#
# 1. the reconstruction term — Bernoulli (binary cross-entropy) or Gaussian (squared error), and
#    what that choice does;
# 2. the KL term in closed form, checked two independent ways;
# 3. that the ELBO really is a *lower* bound: an importance-weighted bound climbs above it.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Write the ELBO on the board before running anything; point at the two terms and ask which
#   one would alone give a plain autoencoder (the first) and which alone would ignore the data
#   (the second).
# - The model is the course's standard VAE (`course_models.vae()`, 2-D latent): trained once,
#   cached in `data/models/`, so the first run of the course pays ~20 s for it and later runs
#   load it.

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence as torch_kl

from vae_course import course_models
from vae_course.claims import claim
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.losses import elbo_loss, iwae_bound, kl_divergence, log_normal, reconstruction_loss
from vae_course.models import VAE
from vae_course.plots import show_images
from vae_course.train import fit

SEED = seed_everything()  # 0, or $VAE_COURSE_SEED
device = get_device()
data = load_mnist()
# latent_dim=2, 3,000 steps; loaded from the cache after the first time
model, info = course_models.vae(seed=SEED)
model = model.to(device)
x = data.x_test[:500].to(device)  # a fixed held-out batch: same cost with either MNIST
print(f"device: {device}; held-out batch: {tuple(x.shape)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The loss convention (stated once, used everywhere)
#
# Every loss in this course is **summed over pixels and over latent dimensions, and averaged over
# the images of the batch**: the unit is *nats per image*. `elbo_loss` returns the loss and its two
# terms in that unit. A per-pixel average would be 784 times smaller and would silently change
# the balance between the two terms (notebook 07 shows what that does).

# %% slideshow={"slide_type": "fragment"}
seed_everything(SEED)
with torch.no_grad():
    logits, mu, logvar = model(x)  # one z ~ q(z|x) per image
    terms = elbo_loss(logits, x, mu, logvar)
    per_pixel = F.binary_cross_entropy_with_logits(logits, x)  # mean over pixels AND images
print(f"-ELBO = {terms.loss.item():.2f} nats/image = reconstruction {terms.recon.item():.2f} "
      f"+ KL {terms.kl.item():.2f}")
print(f"the same reconstruction averaged per pixel: {per_pixel.item():.4f} nats/pixel "
      f"(x 784 = {784 * per_pixel.item():.2f})")
# the same two terms written out independently: BCE summed over pixels, KL over dimensions
recon_sum = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
kl_sum = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum() / len(x)
assert math.isclose(terms.loss.item(), recon_sum.item() + kl_sum.item(), rel_tol=1e-5)
assert math.isclose(784 * per_pixel.item(), terms.recon.item(), rel_tol=1e-4)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1a. Reconstruction with a Bernoulli decoder
#
# Treat each pixel as a coin that lands "ink" with probability p_i = sigmoid(logit_i):
#
# $$-\log p(x|z) = -\sum_{i=1}^{784} \big[x_i \log p_i + (1-x_i)\log(1-p_i)\big]$$
#
# — the binary cross-entropy, summed over pixels. The decoder outputs logits and the loss uses
# `binary_cross_entropy_with_logits`, which computes the same thing without taking the log of a
# probability that has rounded to 0.

# %% slideshow={"slide_type": "fragment"}
p = torch.sigmoid(logits)
by_hand = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)  # the formula
course = reconstruction_loss(logits, x, "bernoulli")
print(f"by hand: {by_hand.mean().item():.4f}   reconstruction_loss: {course.mean().item():.4f}")
assert torch.allclose(by_hand, course, rtol=1e-4, atol=1e-3)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### MNIST is not black and white
#
# A Bernoulli models pixels that are exactly 0 or 1, but MNIST's strokes have grey, anti-aliased
# edges. BCE still works — for a grey x_i it is smallest at p_i = x_i — but its minimum is not 0:
# it is the entropy H(x_i) = −x_i log x_i − (1−x_i) log(1−x_i). Summed over an image, that is a
# floor no decoder can go below.

# %% slideshow={"slide_type": "fragment"}
ink = x > 0
grey_share = ((x > 0) & (x < 1)).sum().item() / ink.sum().item()
xc = x.clamp(1e-6, 1 - 1e-6)
floor = -(xc * xc.log() + (1 - xc) * (1 - xc).log()).flatten(1).sum(1)  # Σ_i H(x_i) per image
print(f"share of inked pixels that are grey (strictly between 0 and 1): {grey_share:.0%}")
print(f"BCE floor (perfect reconstruction): {floor.mean().item():.1f} nats/image; "
      f"the trained VAE: {course.mean().item():.1f} nats/image")
claim("share of inked pixels that are grey", grey_share, above=0.1)
claim("BCE floor of grey MNIST (nats/image)", floor.mean(), above=30)
claim("trained VAE's BCE above the floor (nats/image)", course.mean() - floor.mean(), above=0)

# %% [markdown] slideshow={"slide_type": "notes"}
# - The floor explains a common confusion: "why does my BCE never go below ~40–50 nats even on
#   the training set?" Only the part above the floor is reconstruction error.
# - Dynamic binarisation removes the floor (next slide); so do papers, which is why their nats
#   are not comparable with these.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why our nats cannot sit beside published ones
#
# On grey pixels the Bernoulli "likelihood" is not a probability of anything: it is a
# probability of black-and-white images, evaluated at grey ones, and it never reaches 1 (the
# floor above). So a −ELBO or an importance-weighted NLL measured on grey MNIST — this course's
# usual numbers, around a hundred nats — is not comparable with the likelihoods of the
# literature: 86.76 nats (Burda et al.'s IWAE) or 89.78 nats (pythae's VAE benchmark), both on
# **dynamically binarised** MNIST. That protocol samples every training batch afresh to black
# and white (pixel i is 1 with probability x_i) and tests on a binarised test set; then the
# Bernoulli likelihood is a true probability of the data, and its NLL in nats can be compared.
# The course has it as an option: `load_mnist(binarize=True)` and `fit(..., binarize=True)`;
# `vae-course bench` reports the k = 5,000 importance-weighted NLL of a model trained and
# tested that way (on the 5,000-digit subset a 4,000-digit training set, so expect a worse
# number than the papers' 60,000).
#
# For grey pixels the principled fix is a different likelihood: the *continuous Bernoulli*
# (Loaiza-Ganem & Cunningham, 2019) adds the normalising constant that makes the Bernoulli
# formula a density on [0, 1]. The course keeps the plain Bernoulli for its lectures, because
# the lectures compare models with one another, never with papers.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1b. Reconstruction with a Gaussian decoder
#
# The alternative treats each pixel as a real number around the decoder's output m_i:
# p(x_i|z) = N(x_i; m_i, σ²). Then
#
# $$-\log p(x|z) = \frac{1}{2\sigma^2}\sum_i (x_i - m_i)^2 \;+\; 784\,\log\big(\sigma\sqrt{2\pi}\big)$$
#
# — the squared error, scaled by 1/(2σ²), plus a constant. "Training a VAE with MSE" is this,
# usually with σ chosen without anyone noticing.

# %% slideshow={"slide_type": "fragment"}
sigma_x = 0.1
m = torch.sigmoid(logits)
sse = ((x - m) ** 2).flatten(1).sum(1)
by_hand = sse / (2 * sigma_x**2) + 784 * math.log(sigma_x * math.sqrt(2 * math.pi))
course = reconstruction_loss(logits, x, "gaussian", sigma=sigma_x)
print(f"sigma = {sigma_x}: by hand {by_hand.mean().item():.3f}, reconstruction_loss "
      f"{course.mean().item():.3f} nats/image")
assert torch.allclose(by_hand, course, rtol=1e-4, atol=1e-2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### σ is a β in disguise
#
# Multiply the Gaussian −ELBO by σ² and drop the constant:
#
# $$\sigma^2\big[\tfrac{1}{2\sigma^2}\,\mathrm{SSE} + \mathrm{KL}\big] = \tfrac12\,\mathrm{SSE} + \sigma^2\cdot\mathrm{KL}.$$
#
# A positive factor does not move the minimum, so a Gaussian decoder with noise σ optimises the
# same thing as the σ = 1 Gaussian loss with **β = σ²** on the KL. A small σ says "reconstruct
# precisely" (small β); σ = 1 says "pixel errors hardly matter" (β = 1 on a loss where a whole
# image's squared error is a few dozen). We check the identity on gradients, with the same z.

# %% slideshow={"slide_type": "fragment"}
def gaussian_grads(sigma, beta):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(SEED + 1)  # the same ε, hence the same z, in both calls
    logits, mu, logvar = model(x[:64])
    recon = reconstruction_loss(logits, x[:64], "gaussian", sigma=sigma).mean()
    (recon + beta * kl_divergence(mu, logvar).mean()).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


g_sigma = gaussian_grads(sigma=sigma_x, beta=1.0)  # Gaussian with σ = 0.1, plain ELBO
g_beta = gaussian_grads(sigma=1.0, beta=sigma_x**2) / sigma_x**2  # σ = 1, β = σ², rescaled
rel = ((g_sigma - g_beta).norm() / g_sigma.norm()).item()
print(f"relative difference between the two gradients: {rel:.1e}")
assert rel < 1e-4
model.zero_grad(set_to_none=True)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What the choice does, measured
#
# Three VAEs with a 16-dimensional latent, each trained for the same 800 steps: Bernoulli; Gaussian
# with σ = 1; Gaussian with σ = 0.1 (trained as σ = 1 with β = 0.01, which the identity above
# shows is the same objective). We compare them on held-out digits by what they *do* — the KL
# they pay and the squared error of the reconstruction decoded from μ — because their −ELBO values are
# not comparable: a Bernoulli gives probabilities, a Gaussian densities, which can exceed 1.

# %% slideshow={"slide_type": "fragment"}
runs = {"Bernoulli": ("bernoulli", 1.0), "Gaussian σ=1": ("gaussian", 1.0),
        "Gaussian σ=0.1": ("gaussian", 0.1**2)}
results, recons = {}, {}
for name, (likelihood, beta) in runs.items():
    vae = VAE(latent_dim=16)
    fit(vae, data.x_train, steps=800, likelihood=likelihood, beta=beta, seed=SEED, desc=name)
    with torch.no_grad():
        q_mu, q_logvar = vae.encode(x)
        mean_image = torch.sigmoid(vae.decode(q_mu))
    results[name] = {"KL": kl_divergence(q_mu, q_logvar).mean().item(),
                     "SSE": ((mean_image - x) ** 2).flatten(1).sum(1).mean().item()}
    recons[name] = mean_image[:10].cpu()
print(f"{'decoder':16s} {'KL (nats/image)':>16s} {'squared error/image':>20s}")
for name, r in results.items():
    print(f"{name:16s} {r['KL']:16.1f} {r['SSE']:20.1f}")
g1, g01, bern = results["Gaussian σ=1"], results["Gaussian σ=0.1"], results["Bernoulli"]
rms = math.sqrt(g01["SSE"] / 784)
print(f"typical pixel error of the σ=0.1 model: {rms:.3f} (root mean square over pixels)")
claim("KL, σ=0.1 / σ=1", g01["KL"] / g1["KL"], above=3)
claim("squared error, σ=1 / σ=0.1", g1["SSE"] / g01["SSE"], above=1.5)
claim("squared error, σ=0.1 / Bernoulli", g01["SSE"] / bern["SSE"], above=0.75, below=1.33)
claim("KL, σ=0.1 / Bernoulli", g01["KL"] / bern["KL"], above=1)

# %% slideshow={"slide_type": "subslide"}
fig = show_images(torch.cat([x[:10].cpu(), *recons.values()]), nrow=10,
                  row_labels=["held-out", *recons], title="Reconstructions from μ")

# %% [markdown] slideshow={"slide_type": "fragment"}
# With σ = 1 the KL term dominates: the model pays far less KL, so its codes carry less about
# each digit, and it reconstructs blurrily (more than 1.5× the squared error of σ = 0.1, and at most a third of its KL
# — the exact numbers are in the table). σ = 0.1 reconstructs about as well as the Bernoulli
# decoder (squared errors within a third of each other), while paying more KL than it (the
# last claim above). So "MSE or
# BCE?" is partly the wrong question: with a Gaussian, the real question is **which σ**, because
# that choice is a β.

# %% [markdown] slideshow={"slide_type": "notes"}
# - If learners copied a VAE that uses `F.mse_loss(..., reduction="mean")`, that is a Gaussian
#   with a per-pixel average — effectively a huge β. Notebook 07 returns to this.
# - Question: "what σ would make sense for MNIST?" One answer: the typical pixel error of a good
#   model, printed above for the σ = 0.1 run; σ can also be learned with the rest of the model.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The KL term in closed form
#
# For q = N(μ, σ²) per dimension and p = N(0, 1), the KL has a closed form, summed over the d
# latent dimensions:
#
# $$\mathrm{KL}\big(q\,\|\,p\big) = -\tfrac12 \sum_{j=1}^{d}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big)$$
#
# We check it against `torch.distributions.kl_divergence` and against a Monte-Carlo estimate of
# its definition, KL = E_q[log q(z) − log p(z)], with 2,000 samples per image.

# %% slideshow={"slide_type": "fragment"}
with torch.no_grad():
    mu, logvar = model.encode(x)
closed = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)  # the formula above
std = torch.exp(0.5 * logvar)
reference = torch_kl(Normal(mu, std), Normal(torch.zeros_like(mu), torch.ones_like(std))).sum(1)
print(f"closed form {closed.mean().item():.4f} | torch.distributions {reference.mean().item():.4f}"
      f" | vae_course.losses.kl_divergence {kl_divergence(mu, logvar).mean().item():.4f}")
assert torch.allclose(closed, reference, rtol=1e-4, atol=1e-4)
assert torch.allclose(closed, kl_divergence(mu, logvar), rtol=1e-5, atol=1e-5)

S = 2000
torch.manual_seed(SEED + 2)
z = mu + std * torch.randn(S, *mu.shape, device=device)  # (S, images, d), z ~ q(z|x)
log_ratio = log_normal(z, mu, logvar) - log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
mc, mc_se = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(S)  # per image
z_scores = ((mc - closed) / mc_se).abs()
print(f"Monte Carlo {mc.mean().item():.4f}; per image, |MC − closed form| is at most "
      f"{z_scores.max().item():.1f} standard errors (median {z_scores.median().item():.2f})")
claim("largest |MC − closed form| in standard errors", z_scores.max(), below=5)
claim("median |MC − closed form| in standard errors", z_scores.median(), below=1.5)

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.errorbar(closed.cpu(), mc.cpu(), yerr=2 * mc_se.cpu(), fmt="o", ms=2, alpha=0.5, elinewidth=0.5)
lim = [0, closed.max().item() * 1.05]
ax.plot(lim, lim, "k--", lw=1, label="y = x")
ax.set_xlabel("closed-form KL (nats)")
ax.set_ylabel(f"Monte-Carlo KL, {S} samples (±2 SE)")
ax.set_title("KL per held-out image")
ax.legend()
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "notes"}
# - The closed form is exact and cheap; the Monte-Carlo version is what you fall back on for a
#   posterior or prior without one (e.g. a mixture prior). The three numbers agree.
# - Worth asking: why is the KL of some images much larger than others? (Unusual digits need a
#   code far from the origin, or a narrow posterior.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The ELBO is a lower bound: importance weighting tightens it
#
# Draw k codes z_1…z_k from q(z|x) and average the importance weights p(x, z)/q(z|x) *inside* the
# logarithm (Burda et al., 2016):
#
# $$\mathcal L_k(x) = \log \frac1k \sum_{i=1}^{k} \frac{p(x|z_i)\,p(z_i)}{q(z_i|x)}, \qquad
#   \mathcal L_1 = \text{ELBO} \le \mathcal L_5 \le \mathcal L_{50} \le \dots \le \log p(x)
#   \quad\text{(in expectation)}.$$
#
# `iwae_bound` computes L_k. If the ELBO were not a strict lower bound, L_k could not rise above it.

# %% slideshow={"slide_type": "fragment"}
ks = (1, 5, 50, 500)
bounds = {}
for k in ks:
    torch.manual_seed(SEED + 3)
    bounds[k] = iwae_bound(model, x, k=k, chunk=50).mean().item()  # nats, mean over images
torch.manual_seed(SEED + 4)
with torch.no_grad():
    logits, mu, logvar = model(x)
    elbo = -elbo_loss(logits, x, mu, logvar).loss.item()  # closed-form KL, one z per image
print(f"ELBO (one sample, closed-form KL): {elbo:.2f} nats/image")
print(f"{'k':>4s} {'L_k (nats/image)':>17s} {'gain over L_1':>14s}")
for k in ks:
    print(f"{k:4d} {bounds[k]:17.2f} {bounds[k] - bounds[1]:14.2f}")
claim("smallest rise of L_k from one k to the next (nats)",
      min(bounds[b] - bounds[a] for a, b in zip(ks, ks[1:])), above=0)
claim("|L_1 − ELBO|: the same number estimated twice (nats)", abs(bounds[1] - elbo), below=1.5)
gap = bounds[500] - bounds[1]
print(f"so log p(x) is at least {gap:.2f} nats/image above the ELBO for this model")
claim("L_500 − L_1 (nats)", gap, above=0.5)
claim("gain 50→500 / gain 5→50", (bounds[500] - bounds[50]) / (bounds[50] - bounds[5]), below=1)

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(5, 3.3))
ax.plot(ks, [bounds[k] for k in ks], "o-", label="importance-weighted bound $\\mathcal{L}_k$")
ax.axhline(elbo, color="C3", ls="--", label="ELBO")
ax.set_xscale("log")
ax.set_xlabel("k (samples per image)")
ax.set_ylabel("nats per image (higher is better)")
ax.set_title("The bound rises with k")
ax.legend()
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "fragment"}
# The bound rises at every step of k (table above), and by k = 500 it sits the printed number of
# nats above the ELBO. That distance is a *lower* estimate of how loose the ELBO is here, i.e. of
# the KL between q(z|x) and the true posterior p(z|x), averaged over images. It is also why papers
# report −L_5000 rather than −ELBO as "the" negative log-likelihood.

# %% [markdown] slideshow={"slide_type": "notes"}
# - Each tenfold increase of k gains less than the previous one (asserted above): most of the
#   improvement comes early, and log p(x) itself is out of reach of any finite k.
# - L_k with k > 1 can also be *trained* (the IWAE); it gives a better likelihood but, famously,
#   a worse encoder signal — a good pointer for curious learners.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - −ELBO = reconstruction + KL, in nats per image (sum over pixels and latent dims, mean over
#   the batch).
# - Bernoulli/BCE fits pixels in [0, 1] but has a floor on grey MNIST; a Gaussian decoder's σ acts
#   as β = σ², and σ = 1 over-regularises measurably.
# - The closed-form KL matches `torch.distributions` exactly and Monte Carlo within its error.
# - The importance-weighted bound rises with k: the ELBO is a lower bound, and we measured its
#   looseness for our model.
#
# Next: notebook 04 trains the full objective and watches the KL term at work.
