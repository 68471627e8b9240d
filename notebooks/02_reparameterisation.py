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
# # 02 · From points to distributions: the reparameterisation trick
#
# The autoencoder of notebook 01 maps an image to **one point** z. A VAE's encoder maps it to a
# **distribution** q(z|x) = N(μ, σ²) and the decoder sees a *sample* from it.
#
# That raises a question that has nothing to do with images: how do you take the gradient of
# something that went through a random draw? This notebook answers it in four steps:
#
# 1. the encoder outputs μ and log σ²;
# 2. a plain random draw cuts the gradient; writing z = μ + σ·ε restores it;
# 3. the Monte-Carlo gradient agrees with a gradient computed by hand;
# 4. the trick is not the only unbiased estimator: we measure its variance against the
#    score-function (REINFORCE) estimator, and find a case where the folklore fails.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Start from the picture of notebook 01: codes are isolated points, the decoder never learned
#   what lies between them. Spreading each code into a small cloud is the fix; this notebook is
#   the plumbing that makes the cloud trainable.
# - Ask the room before step 2: "if I call `torch.randn` inside my forward pass, what is
#   d(output)/d(mean)?" Most people have never thought about it.
# - Everything here runs in a few seconds; it is fine to re-run cells live with other values.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import torch
from torch.distributions import Normal

from vae_course import course_models
from vae_course.data import load_mnist
from vae_course.claims import claim
from vae_course.device import get_device, seed_everything
from vae_course.estimators import reparam_grads, score_function_grads, summarize
from vae_course.losses import reconstruction_loss
from vae_course.models import VAE

SEED = seed_everything()  # 0, or $VAE_COURSE_SEED
device = get_device()
data = load_mnist()
print("device:", device)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The encoder outputs μ and log σ²
#
# `VAE.encode` returns two vectors per image. The network's last layer has 2·d outputs; the first
# d are the mean μ, the other d are **log σ²**. Predicting the logarithm means the network may
# output any real number and σ = exp(½·log σ²) is still positive — no clamping, no `softplus`.

# %% slideshow={"slide_type": "fragment"}
model = VAE(latent_dim=2).to(device)  # untrained: we only look at shapes and gradients
x = data.x_test[:4].to(device)
mu, logvar = model.encode(x)
sigma = torch.exp(0.5 * logvar)  # σ = exp(½ · log σ²) > 0 whatever the network outputs
print("x:", tuple(x.shape), " mu:", tuple(mu.shape), " logvar:", tuple(logvar.shape))
print("sigma > 0 everywhere:", bool((sigma > 0).all()))
assert mu.shape == logvar.shape == (4, 2) and bool((sigma > 0).all())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Sampling directly: no gradient reaches μ and σ
#
# `Normal(mu, sigma).sample()` draws z ~ N(μ, σ²) inside `torch.no_grad()`. The draw is a new leaf
# tensor: it has no `grad_fn`, so autograd has no path from z back to μ and σ.

# %% slideshow={"slide_type": "fragment"}
mu_leaf = torch.tensor([0.5, -1.0], requires_grad=True)
sigma_leaf = torch.tensor([0.8, 0.3], requires_grad=True)

z = Normal(mu_leaf, sigma_leaf).sample()
print("z =", z, "| grad_fn:", z.grad_fn, "| requires_grad:", z.requires_grad)
try:
    (z**2).sum().backward()
    message = "backward() ran"
except RuntimeError as err:
    message = f"RuntimeError: {err}"
print(message)
print("mu.grad:", mu_leaf.grad, " sigma.grad:", sigma_leaf.grad)
assert z.grad_fn is None and mu_leaf.grad is None and sigma_leaf.grad is None

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The trick: move the randomness into ε
#
# $$z = \mu + \sigma \cdot \varepsilon, \qquad \varepsilon \sim \mathcal N(0, 1)$$
#
# z has exactly the same distribution N(μ, σ²), but now it is a *deterministic, differentiable*
# function of μ and σ; the random part ε does not depend on anything we train.
# ∂z/∂μ = 1 and ∂z/∂σ = ε. `Normal(...).rsample()` ("reparameterised sample") does the same.

# %% slideshow={"slide_type": "fragment"}
eps = torch.randn(2)
z = mu_leaf + sigma_leaf * eps  # z = μ + σ·ε
print("grad_fn:", z.grad_fn)
(z**2).sum().backward()  # d(z²)/dμ = 2z,  d(z²)/dσ = 2z·ε
print("mu.grad:", mu_leaf.grad, " expected 2z:", (2 * z).detach())
print("sigma.grad:", sigma_leaf.grad, " expected 2z·eps:", (2 * z * eps).detach())
assert torch.allclose(mu_leaf.grad, 2 * z.detach())
assert torch.allclose(sigma_leaf.grad, 2 * z.detach() * eps)

z_r = Normal(mu_leaf, sigma_leaf).rsample()
print("rsample grad_fn:", z_r.grad_fn)
assert z_r.grad_fn is not None

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What it means for a VAE
#
# The reconstruction loss is the only part of the objective that tells the encoder *which*
# code is useful for rebuilding the image. Sample z without the trick and the encoder receives no
# gradient from it at all; with the trick, every encoder weight does.

# %% slideshow={"slide_type": "fragment"}
def encoder_grad_from_reconstruction(sampler):
    """Backpropagate the reconstruction loss alone; return the encoder's total gradient norm
    (None when no gradient arrived)."""
    model.zero_grad(set_to_none=True)
    mu, logvar = model.encode(x)
    z = sampler(Normal(mu, torch.exp(0.5 * logvar)))
    loss = reconstruction_loss(model.decode(z), x).mean()  # decoder weights need grad anyway
    loss.backward()
    grads = [p.grad for p in model.encoder.parameters()]
    if all(g is None for g in grads):
        return None
    return torch.sqrt(sum((g**2).sum() for g in grads if g is not None)).item()


no_trick = encoder_grad_from_reconstruction(lambda q: q.sample())
trick = encoder_grad_from_reconstruction(lambda q: q.rsample())
print(f"encoder gradient norm with .sample():  {no_trick}")
print(f"encoder gradient norm with .rsample(): {trick:.3g}")
assert no_trick is None and trick > 0

# %% [markdown] slideshow={"slide_type": "notes"}
# - The `.sample()` version still trains the decoder — that is what makes the bug sneaky: the
#   loss goes down a little, and the encoder only learns from the KL term, which pushes every
#   code to N(0, I). Notebook 07 reproduces such silent mistakes.
# - `VAE.reparameterize` in `vae_course/models.py` is three lines; show it on screen.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Does the Monte-Carlo gradient give the right answer?
#
# Take a function whose Gaussian expectation has a closed form. For f(z) = sin z,
#
# $$F(\mu, \sigma) = \mathbb E_{z\sim\mathcal N(\mu,\sigma^2)}[\sin z] = \sin\mu \; e^{-\sigma^2/2}$$
#
# $$\frac{\partial F}{\partial \mu} = \cos\mu\; e^{-\sigma^2/2}, \qquad
#   \frac{\partial F}{\partial \sigma} = -\sigma \sin\mu\; e^{-\sigma^2/2}.$$
#
# The reparameterised estimate averages, over samples ε, the gradient of f(μ + σε):
# ∂/∂μ = f′(z) and ∂/∂σ = f′(z)·ε. `reparam_grads` returns one gradient per sample.

# %% slideshow={"slide_type": "fragment"}
MU, SIGMA = torch.tensor([0.5]), torch.tensor([0.8])


def f_sin(z):
    return torch.sin(z).sum(dim=1)


mu_a, sigma_a = MU.clone().requires_grad_(), SIGMA.clone().requires_grad_()
F_closed = torch.sin(mu_a) * torch.exp(-sigma_a**2 / 2)  # F = sin μ · exp(−σ²/2)
dF_dmu, dF_dsigma = (g.item() for g in torch.autograd.grad(F_closed.sum(), (mu_a, sigma_a)))
print(f"analytic: dF/dmu = cos(mu) e^(-s^2/2) = {dF_dmu:.4f},  "
      f"dF/dsigma = -s sin(mu) e^(-s^2/2) = {dF_dsigma:.4f}")

N = 100_000
g_mu, g_sigma = reparam_grads(f_sin, MU, SIGMA, N, generator=torch.Generator().manual_seed(SEED))
rep_mu, rep_sigma = summarize(g_mu), summarize(g_sigma)
for name, s, exact in (("dF/dmu", rep_mu, dF_dmu), ("dF/dsigma", rep_sigma, dF_dsigma)):
    err = abs(s["mean"].item() - exact)
    print(f"Monte Carlo ({N:,} samples) {name:9s} = {s['mean'].item():.4f} ± {s['se'].item():.4f}"
          f"  |error| = {err:.4f} = {err / s['se'].item():.1f} standard errors")
    claim(f"reparameterised {name}: |error| in standard errors", err / s["se"].item(), below=4)
    claim(f"reparameterised {name}: |error|", err, below=0.01)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Both Monte-Carlo gradients land within 4 standard errors (and within 0.01) of the formula:
# the estimator is **unbiased**. Its standard error shrinks like 1/√N; with the single sample per
# image that a VAE uses at each training step, one estimate is noisy, and the noise is what the
# next section measures.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Another unbiased estimator: the score function (REINFORCE)
#
# Differentiate the density instead of the sample path (the log-derivative trick):
#
# $$\nabla_\theta\, \mathbb E_{q_\theta}[f(z)] = \mathbb E_{q_\theta}\big[f(z)\,\nabla_\theta \log q_\theta(z)\big],
# \quad \frac{\partial \log q}{\partial\mu} = \frac{z-\mu}{\sigma^2},\quad
# \frac{\partial \log q}{\partial\sigma} = \frac{(z-\mu)^2-\sigma^2}{\sigma^3}.$$
#
# It needs only the *values* of f — it works for discrete z and non-differentiable f, which is
# why reinforcement learning uses it — but each sample's gradient is f(z) times a random sign-
# changing weight. Same expectation, different spread. We draw 100,000 single-sample gradients of
# each kind for the same f = sin and compare their variance.

# %% slideshow={"slide_type": "fragment"}
g_mu_sf, g_sigma_sf = score_function_grads(f_sin, MU, SIGMA, N,
                                           generator=torch.Generator().manual_seed(SEED + 1))
sf_mu, sf_sigma = summarize(g_mu_sf), summarize(g_sigma_sf)

print(f"{'f = sin z, mu=0.5, sigma=0.8':30s} {'mean':>8s} {'variance':>9s}")
rows = [("reparam dF/dmu", rep_mu), ("score fn dF/dmu", sf_mu),
        ("reparam dF/dsigma", rep_sigma), ("score fn dF/dsigma", sf_sigma)]
for name, s in rows:
    print(f"{name:30s} {s['mean'].item():8.4f} {s['var'].item():9.4f}")
ratio_mu = (sf_mu["var"] / rep_mu["var"]).item()
ratio_sigma = (sf_sigma["var"] / rep_sigma["var"]).item()
print(f"variance ratio score-function / reparam: {ratio_mu:.1f}x for mu, "
      f"{ratio_sigma:.1f}x for sigma")
for name, s, exact in (("dF/dmu", sf_mu, dF_dmu), ("dF/dsigma", sf_sigma, dF_dsigma)):
    claim(f"score function {name}: |error| in standard errors (unbiased too)",
          abs(s["mean"].item() - exact) / s["se"].item(), below=4)
claim("variance ratio score function / reparam, mu", ratio_mu, above=2)
claim("variance ratio score function / reparam, sigma", ratio_sigma, above=2)

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, (rep, sf, exact, name) in zip(axes, ((g_mu, g_mu_sf, dF_dmu, "∂F/∂μ"),
                                             (g_sigma, g_sigma_sf, dF_dsigma, "∂F/∂σ"))):
    bins = torch.linspace(-4, 4, 81)
    ax.hist(sf[:, 0].clamp(-4, 4).numpy(), bins=bins, alpha=0.6, density=True,
            label=f"score function (variance {sf[:, 0].var():.2f})")
    ax.hist(rep[:, 0].clamp(-4, 4).numpy(), bins=bins, alpha=0.6, density=True,
            label=f"reparameterisation (variance {rep[:, 0].var():.2f})")
    ax.axvline(exact, color="k", lw=1, label="exact gradient")
    ax.set_xlabel(f"one-sample estimate of {name} (clipped to ±4)")
    ax.legend(fontsize=8)
    ax.set_yscale("log")
axes[0].set_ylabel("density (log scale)")
fig.suptitle("Same mean, different spread: f(z) = sin z, μ = 0.5, σ = 0.8")
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "notes"}
# - Both histograms are centred on the same black line (unbiased); the score-function one has
#   long tails. That spread is what slows training down: more noise per step.
# - The ratios printed above are the numbers to quote; they change with μ, σ and f.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### On a real VAE
#
# Now f is what a VAE actually differentiates: f(z) = log p(x|z) for one held-out digit, through
# the trained decoder of `course_models.vae()` (d = 2), with q(z|x) = N(μ, σ²) from its encoder.
# Score-function gradients are scaled by f(z) itself — a large negative number of nats (its
# average, printed below as the baseline b, is below −50 nats) — so we also try the
# usual fix: subtract a **baseline** b (a constant: the mean of f over 1,000 separate draws),
# which leaves the estimator unbiased because E[∇ log q] = 0.

# %% slideshow={"slide_type": "fragment"}
vae, _ = course_models.vae()
vae = vae.to(device).requires_grad_(False)  # only z needs gradients here
digit = data.x_test[:1].to(device)
with torch.no_grad():
    q_mu, q_logvar = vae.encode(digit)
q_mu, q_sigma = q_mu[0].cpu(), torch.exp(0.5 * q_logvar[0]).cpu()


def log_px_given_z(z):  # f(z) = log p(x|z), one number per sample, in nats
    z = z.to(device)
    return -reconstruction_loss(vae.decode(z), digit.expand(len(z), -1, -1, -1)).cpu()


gen = torch.Generator().manual_seed(SEED + 2)
with torch.no_grad():
    baseline = log_px_given_z(q_mu + q_sigma * torch.randn(1000, 2, generator=gen)).mean().item()
M = 10_000
estimates = {
    "reparameterisation": reparam_grads(log_px_given_z, q_mu, q_sigma, M, generator=gen),
    "score function": score_function_grads(log_px_given_z, q_mu, q_sigma, M, generator=gen),
    "score function + baseline": score_function_grads(log_px_given_z, q_mu, q_sigma, M,
                                                      baseline=baseline, generator=gen),
}
print(f"q(z|x): mu = {q_mu.numpy().round(3)}, sigma = {q_sigma.numpy().round(3)}; "
      f"baseline b = {baseline:.1f} nats")
print(f"{'estimator of dE[log p(x|z)]/dmu':34s} {'mean (mu_1, mu_2)':>22s} {'variance (mu_1, mu_2)':>26s}")
var_vae = {}
for name, (gm, _) in estimates.items():
    s = summarize(gm)
    var_vae[name] = s["var"]
    print(f"{name:34s} {str(s['mean'].numpy().round(1)):>22s} {str(s['var'].numpy().round(0)):>26s}")
ratio_plain = (var_vae["score function"] / var_vae["reparameterisation"]).min().item()
ratio_base = (var_vae["score function + baseline"] / var_vae["reparameterisation"]).min().item()
print(f"score-function variance / reparam variance: at least {ratio_plain:,.0f}x without a "
      f"baseline, at least {ratio_base:,.0f}x with one")
claim("baseline (mean of f)", baseline, below=-50)
claim("VAE: variance ratio without baseline", ratio_plain, above=100)
claim("VAE: variance ratio with baseline", ratio_base, above=3)

# %% [markdown] slideshow={"slide_type": "fragment"}
# On the VAE the gap is dramatic: the plain score-function estimator is more than a hundred
# times noisier than the reparameterised one (the smallest of the two ratios is printed above). A baseline removes
# most of that, yet the reparameterised gradient is still several times less noisy. This is the
# practical reason VAEs are trained with z = μ + σ·ε: one sample per image and per step is enough.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### …but "reparameterisation always has lower variance" is folklore
#
# The pathwise gradient is f′(z); the score-function gradient is f(z)·(z − μ)/σ². If f wiggles
# fast but stays small — f(z) = sin(kz) — then f′ = k cos(kz) is large while f stays in [−1, 1].
# We measure both variances of ∂F/∂μ at μ = 0.5, σ = 1 for growing k.

# %% slideshow={"slide_type": "fragment"}
print(f"{'k':>3s} {'var reparam':>12s} {'var score fn':>13s}  lower variance")
wiggle = {}
for k in (1, 3, 10):
    def f_k(z, k=k):
        return torch.sin(k * z).sum(dim=1)
    gen = torch.Generator().manual_seed(SEED * 100 + 10 + k)
    v_rep = summarize(reparam_grads(f_k, MU, torch.ones(1), 20_000, generator=gen)[0])["var"].item()
    v_sf = summarize(score_function_grads(f_k, MU, torch.ones(1), 20_000,
                                          generator=gen)[0])["var"].item()
    wiggle[k] = (v_rep, v_sf)
    print(f"{k:3d} {v_rep:12.3f} {v_sf:13.3f}  {'reparam' if v_rep < v_sf else 'score function'}")
claim("k=1: variance, score function / reparam", wiggle[1][1] / wiggle[1][0], above=1)
claim("k=10: variance, reparam / score function", wiggle[10][0] / wiggle[10][1], above=10)

# %% [markdown] slideshow={"slide_type": "fragment"}
# For k = 1 the reparameterised gradient is the less noisy one; for k = 10 the score function
# wins by more than a factor of ten (the exact variances are in the table). Neither estimator is
# better for every f. For a VAE's decoder, which is smooth in z, the measurement above favours the
# reparameterisation trick by a wide margin — which is the case that matters for this course.

# %% [markdown] slideshow={"slide_type": "notes"}
# - Good question for the room: "which estimator would you use if z were a discrete category?"
#   (Only the score function applies; relaxations such as Gumbel-softmax are the workaround.)
# - The k = 10 case is not exotic: it is any objective that is rough on the scale of σ.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - The encoder predicts μ and log σ²; σ = exp(½·log σ²) is positive by construction.
# - `sample()` cuts the graph; z = μ + σ·ε (`rsample()`) keeps μ and σ differentiable.
# - The reparameterised Monte-Carlo gradient matches the closed form within its standard error.
# - Both estimators are unbiased; on the VAE the reparameterised one has far lower variance —
#   but that is a property of smooth f, not a law.
#
# Next: notebook 03 puts the sampled z into the objective — the ELBO.
