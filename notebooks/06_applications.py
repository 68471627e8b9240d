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
# # 06 · What a trained VAE is good for
#
# Five notebooks built the model; this one uses it. Four applications, each measured rather than
# only shown:
#
# 1. **interpolation** — walk from one encoded digit to another, in a straight line and along a
#    great circle;
# 2. **generation** — decode draws from the prior and score them with the ruler of notebook 01
#    (FDD), next to the 16-D autoencoder of notebook 01;
# 3. **anomaly detection** — train on normal digits only, score new images by reconstruction
#    error and by −ELBO, read the ROC curves;
# 4. **attribute editing** — find a "thicker stroke" direction in latent space, add it to new
#    codes, and measure how much thicker the decoded digits get.
#
# Two of the four end at least partly differently from what the folklore promises. The numbers
# are below.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - This is the payoff lecture: everything runs on models that train in seconds (or come from
#   the cache), so every cell can be re-run live.
# - Announce up front that two results contradict common claims (VAE samples beat AE samples
#   — only when both sample from N(0, I); likelihood flags anything unusual). Ask the room to predict each before revealing it.
# - Budget: about a minute on a laptop CPU when the models are cached, a little more on the very
#   first run, when the models are trained.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from vae_course import course_models as zoo
from vae_course.anomaly import negative_elbo, reconstruction_error
from vae_course.cache import train_or_load
from vae_course.classifier import digit_likeness
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.frechet import frechet_digit_distance
from vae_course.latent import apply_attribute, attribute_vector, interpolate_images, slerp
from vae_course.metrics import auroc, encode_all, roc_curve
from vae_course.models import VAE
from vae_course.plots import show_images
from vae_course.sprites import make_sprites
from vae_course.train import fit

seed_everything(0)
device = get_device()
data = load_mnist()
print("device:", device)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The models come from `vae_course.course_models` (imported as `zoo`; trained once, then
# cached): the digit **ruler** of notebook 01 and a **VAE with a 16-D code** and the course's
# standard budget (3,000 steps, the same MLP encoder and decoder as notebook 01's autoencoder).

# %% slideshow={"slide_type": "fragment"}
ruler, ruler_accuracy = zoo.digit_ruler(data=data)
vae16, vae16_info = zoo.vae(latent_dim=16, data=data)
ruler, vae16 = ruler.to(device).eval(), vae16.to(device).eval()
print(f"ruler test accuracy {ruler_accuracy:.3f}")
print(f"held-out -ELBO of the 16-D VAE: {vae16_info['test_nelbo']:.1f} nats/image")


def decode(model, z):
    """Decoded images in [0, 1], on the CPU."""
    with torch.no_grad():
        return torch.sigmoid(model.decode(z.to(device))).cpu()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Interpolation
#
# Encode two test digits to their posterior means a = μ(x₀) and b = μ(x₁), then decode points on
# a path between them:
#
# - linear: z(t) = (1 − t)·a + t·b
# - spherical: z(t) = sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, with cos Ω = a·b / (|a||b|)
#
# The first row is what you get without a model: a cross-fade of the two images' pixels.

# %% slideshow={"slide_type": "fragment"}
def first(digit, start=0):
    return data.x_test[data.y_test == digit][start]


pairs = [(first(4), first(9)), (first(1), first(0)), (first(3), first(7))]
rows, labels = [], []
t = torch.linspace(0, 1, 10).view(-1, 1, 1, 1)
for x0, x1 in pairs:
    rows += [(1 - t) * x0 + t * x1,  # pixel cross-fade
             interpolate_images(vae16, x0, x1, steps=10, method="linear"),
             interpolate_images(vae16, x0, x1, steps=10, method="spherical")]
    labels += ["pixels", "linear", "spherical"]
show_images(torch.cat(rows), nrow=10, row_labels=labels,
            title="From one digit to another: pixel fade vs latent paths");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Do the latent paths pass through digits, or through blends? Score the **midpoint** (t = ½) of
# 400 random pairs of test digits with different labels, using the ruler's confidence. And look
# at the norm of the midpoint code: the straight chord cuts inside the cloud of codes.

# %% slideshow={"slide_type": "fragment"}
g = torch.Generator().manual_seed(0)
idx = torch.randint(len(data.x_test), (2, 1000), generator=g)
idx = idx[:, data.y_test[idx[0]] != data.y_test[idx[1]]][:, :400]
xa, xb = data.x_test[idx[0]], data.x_test[idx[1]]
mu_a, _ = encode_all(vae16, xa)
mu_b, _ = encode_all(vae16, xb)
mid_linear = 0.5 * (mu_a + mu_b)
mid_spherical = torch.stack([slerp(a, b, [0.5])[0] for a, b in zip(mu_a, mu_b)])
end_norm = 0.5 * (mu_a.norm(dim=1) + mu_b.norm(dim=1))
shrink_linear = 1 - (mid_linear.norm(dim=1) / end_norm).mean().item()
shrink_spherical = 1 - (mid_spherical.norm(dim=1) / end_norm).mean().item()
score_pixels = digit_likeness(ruler, 0.5 * (xa + xb))
score_linear = digit_likeness(ruler, decode(vae16, mid_linear))
score_spherical = digit_likeness(ruler, decode(vae16, mid_spherical))
print(f"{len(xa)} pairs. Midpoint norm vs the ends: linear {-100 * shrink_linear:+.0f}%, "
      f"spherical {-100 * shrink_spherical:+.0f}%")
print(f"digit-likeness of the midpoints: pixel fade {score_pixels:.3f}, "
      f"linear {score_linear:.3f}, spherical {score_spherical:.3f}")
assert shrink_linear > 0.10 and abs(shrink_spherical) < 0.05
assert score_spherical > score_pixels and score_spherical > score_linear
assert abs(score_linear - score_pixels) < 0.05

# %% [markdown] slideshow={"slide_type": "fragment"}
# - The linear midpoint is markedly shorter than its ends (printed above: more than 10% shorter),
#   while the spherical one keeps the norm to within 5%.
# - Spherical midpoints are more digit-like than both pixel cross-fades and linear midpoints.
#   Linear midpoints are *not* clearly better than a cross-fade: the two scores are within 0.05
#   of each other. The shrunken chord lands near the origin, where the decoder draws a vague
#   average digit. All gaps are modest: the ruler is fairly confident even on many
#   cross-fades, because one of the two digits often dominates the blend.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Why the chord shrinks: two codes point in different directions, so their average is shorter
#   than either. Short codes sit near the origin, where the decoder draws its "average digit" —
#   blurrier, less confident. Slerp avoids the dip; that is the whole argument for it.
# - Ask: would the argument be stronger for prior samples in 100 dimensions? (Yes: there nearly
#   all the prior's mass lies near radius √d, and the chord's midpoint falls well inside it.)
# - The printed gaps are a few hundredths of confidence. Do not oversell slerp.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Generation: VAE prior samples vs the autoencoder of notebook 01
#
# A VAE generates by decoding z ~ N(0, I), nothing else: the KL term trained its codes to look
# like draws from that distribution. Notebook 01's 16-D autoencoder has no such distribution, so
# we try three ways to pick its codes, as notebook 01 did:
#
# - **N(0, I)** — the VAE's own recipe;
# - a **fitted Gaussian** — mean and covariance of its training codes, estimated after training;
# - **midpoints** — halfway between the codes of two random training digits.
#
# Same 16-D code, same MLP decoder, 1,000 samples each, scored with notebook 01's ruler: the
# Fréchet digit distance (FDD) to the real test digits (0 = indistinguishable as a set). Real
# training digits give the floor.

# %% slideshow={"slide_type": "fragment"}
ae16, ae16_info = zoo.autoencoder(latent_dim=16, steps=2000, data=data)
ae16 = ae16.to(device).eval()
z_ae = encode_all(ae16, data.x_train)
n = 1000
g = torch.Generator().manual_seed(1)


def some_codes():
    return z_ae[torch.randint(len(z_ae), (n,), generator=g)]


samples = {
    "AE, N(0, I) codes": decode(ae16, torch.randn(n, 16, generator=g)),
    "AE, fitted Gaussian": decode(ae16, z_ae.mean(0) + torch.randn(n, 16, generator=g)
                                  @ torch.linalg.cholesky(torch.cov(z_ae.T)).T),
    "AE, midpoints": decode(ae16, 0.5 * (some_codes() + some_codes())),
    "VAE, prior N(0, I)": decode(vae16, torch.randn(n, 16, generator=g)),
    "real training digits": data.x_train[:n],
}


def describe(images):
    """FDD to the test digits, pixel greyness, and how many digit classes the images cover."""
    with torch.no_grad():
        predicted = ruler(images.to(device)).argmax(dim=1).cpu()
    counts = torch.bincount(predicted, minlength=10)
    return {"FDD": frechet_digit_distance(ruler, images, data.x_test),
            # mean of min(p, 1 - p): 0 for pure black/white pixels, 0.5 for pure grey
            "greyness": torch.minimum(images, 1 - images).mean().item(),
            "classes (>= 2%)": int((counts >= 0.02 * len(images)).sum())}


table = {name: describe(images) for name, images in samples.items()}
print(f"{'16-D code':22s}{'FDD':>9s}{'greyness':>10s}{'classes (>= 2%)':>17s}")
for name, row in table.items():
    print(f"{name:22s}{row['FDD']:9.1f}{row['greyness']:10.3f}{row['classes (>= 2%)']:17d}")

# %% slideshow={"slide_type": "subslide"}
panels = ["AE, N(0, I) codes", "AE, fitted Gaussian", "AE, midpoints", "VAE, prior N(0, I)"]
fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
for ax, name in zip(axes, panels):
    show_images(samples[name][:24], nrow=6, ax=ax, title=f"{name}\nFDD {table[name]['FDD']:.0f}")
fig.tight_layout()

# %% slideshow={"slide_type": "fragment"}
fdd_vae = table["VAE, prior N(0, I)"]["FDD"]
fdd_same_recipe = table["AE, N(0, I) codes"]["FDD"]
best_fitted = min(["AE, fitted Gaussian", "AE, midpoints"], key=lambda k: table[k]["FDD"])
fdd_fitted = table[best_fitted]["FDD"]
print(f"same recipe, z ~ N(0, I): VAE FDD {fdd_vae:.0f} vs autoencoder {fdd_same_recipe:.0f} "
      f"-> the VAE is {fdd_same_recipe / fdd_vae:.1f}x closer to real digits")
print(f"autoencoder with codes fitted after training ({best_fitted}): FDD {fdd_fitted:.0f}; "
      f"the VAE's prior samples are {'closer' if fdd_vae < fdd_fitted else 'farther'} "
      f"({fdd_vae / fdd_fitted:.2f}x its FDD)")
print(f"greyness: VAE {table['VAE, prior N(0, I)']['greyness']:.3f} vs {best_fitted} "
      f"{table[best_fitted]['greyness']:.3f}")
assert fdd_vae < fdd_same_recipe / 3, "the VAE generates far better from N(0, I)"
assert table["real training digits"]["FDD"] < 0.2 * min(fdd_vae, fdd_fitted)
assert table["VAE, prior N(0, I)"]["classes (>= 2%)"] >= 9
assert table["VAE, prior N(0, I)"]["greyness"] > table[best_fitted]["greyness"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the table says:
#
# - **From N(0, I), the VAE is far better** — several times closer to real digits than the
#   autoencoder fed the same codes (printed above). The autoencoder's N(0, I) draws land in a
#   small region no image was mapped to and decode to smudges; the VAE's land where its training
#   codes live, and cover (nearly) all ten digits. That is what the KL term buys: a sampling
#   distribution that is part of the model, with nothing to fit afterwards.
# - **Against an autoencoder whose codes were fitted *after* training, the folklore "VAE samples
#   are better" does not hold here.** On the 4,000-digit subset, the fitted Gaussian or the
#   midpoints of the autoencoder score a lower FDD than the VAE's prior samples (the second
#   printed line says which, and by how much, on the MNIST you are using). The VAE's samples
#   are greyer than those of the best autoencoder sampler (third printed line): the KL term
#   makes neighbouring codes overlap, and the decoder answers an ambiguous code with an
#   average of the digits it could be.
#
# Fitting a density to autoencoder codes is easy for 16 numbers and a few thousand images;
# Ghosh et al. (2020) make exactly this case for "regularised autoencoders plus a fitted
# density". The VAE's advantage is that sampling comes with the model, with a likelihood
# bound (notebook 03) that a plain autoencoder does not have.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Ask first: "which generates better digits, the VAE or the autoencoder of notebook 01?" The
#   honest answer is "it depends on how you sample the autoencoder" — both halves are measured.
# - The midpoints sampler cheats a little: it needs the training codes at generation time.
# - FDD rewards sharp strokes and variety; it is one small CNN's view. Notebook 01 calibrated it
#   (real digits near 0, noise far off); the "classes" column shows coverage directly.
# - If learners ask how to get sharper VAE samples: a better decoder (conv), more data and
#   steps, or a learned prior — each is a later-course topic.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Anomaly detection
#
# Train a VAE on **normal data only** — here every digit except 7 — then give each new image a
# score; a high score says "this does not look like what I was trained on":
#
# - reconstruction error: −log p(x | z = μ(x)), summed over pixels;
# - −ELBO: E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)), an upper bound on −log p(x).
#
# Three kinds of anomaly: normal test digits with a 6×6 white **blot** (a defect), the **unseen
# digit** 7, and **sprites** (squares, ellipses and triangles from notebook 05).

# %% slideshow={"slide_type": "fragment"}
UNSEEN = 7
normal_train = data.x_train[data.y_train != UNSEEN]
config = {"latent_dim": 16, "hidden": 400, "steps": 1500, "unseen": UNSEEN,
          "data": data.source, "n": len(normal_train)}
detector, _, _ = train_or_load(
    "vae-without-7", config, lambda: VAE(16, 400),
    lambda m: {"seconds": fit(m, normal_train, steps=1500, seed=0, desc="VAE (no 7s)").seconds})
detector = detector.to(device).eval()

normal = data.x_test[data.y_test != UNSEEN]
g = torch.Generator().manual_seed(2)
blot = normal.clone()
top, left = torch.randint(4, 18, (2, len(blot)), generator=g)  # the blot's corner
for i in range(len(blot)):
    blot[i, 0, top[i]:top[i] + 6, left[i]:left[i] + 6] = 1.0
sprites = make_sprites(size=28).images
sprites = sprites[torch.randperm(len(sprites), generator=g)[:1000]]
anomalies = {"blot": blot, f"unseen digit {UNSEEN}": data.x_test[data.y_test == UNSEEN],
             "sprites": sprites}
show_images(torch.cat([normal[:6]] + [a[:6] for a in anomalies.values()]), nrow=6,
            row_labels=["normal", *anomalies], title="Normal test digits and three anomalies");

# %% slideshow={"slide_type": "subslide"}
scorers = {"reconstruction error": reconstruction_error, "-ELBO": negative_elbo}
normal_scores = {name: f(detector, normal) for name, f in scorers.items()}
results, curves = {}, {}
for kind, x in anomalies.items():
    for name, f in scorers.items():
        s = torch.cat([normal_scores[name], f(detector, x)])
        y = torch.cat([torch.zeros(len(normal)), torch.ones(len(x))])
        results[kind, name] = auroc(s, y)
        curves[kind, name] = roc_curve(s, y)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
for ax, kind in zip(axes, anomalies):
    for name in scorers:
        fpr, tpr = curves[kind, name]
        ax.plot(fpr, tpr, label=f"{name}: AUROC {results[kind, name]:.2f}")
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="chance")
    ax.set(title=kind, xlabel="false-positive rate", ylabel="true-positive rate")
    ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
for (kind, name), value in results.items():
    print(f"{kind:16s} {name:22s} AUROC {value:.3f}")

# %% slideshow={"slide_type": "fragment"}
mean_nelbo = {"normal digits": normal_scores["-ELBO"].mean().item(),
              "sprites": negative_elbo(detector, sprites).mean().item()}
print("mean -ELBO (nats/image):", {k: round(v, 1) for k, v in mean_nelbo.items()})
gap = max(abs(results[kind, "reconstruction error"] - results[kind, "-ELBO"])
          for kind in anomalies)
print(f"largest AUROC difference between the two scores: {gap:.3f}")
for name in scorers:
    assert results["blot", name] > 0.7
    assert 0.3 < results[f"unseen digit {UNSEEN}", name] < 0.7
    assert results["sprites", name] < 0.5
assert mean_nelbo["sprites"] < mean_nelbo["normal digits"]
assert gap < 0.05

# %% [markdown] slideshow={"slide_type": "subslide"}
# Reading the three panels:
#
# - **Blots are caught** (AUROC above 0.7 for both scores): the model cannot redraw a square it
#   never saw, and the error lands exactly where the defect is.
# - **The unseen digit is barely distinguishable from normal digits** (AUROC between 0.3 and
#   0.7): a 7 is made of strokes the model has drawn many times in 1s, 2s and 9s.
# - **Sprites score as *more* normal than real digits** (AUROC below 0.5; their mean −ELBO is
#   lower, printed above). A flat white shape on black is simply easy to compress. A likelihood
#   measures how *simple* an image is as much as how *familiar* it is — Nalisnick et al. (2019)
#   found the same with far bigger models.
# - The two scores rank images almost identically here (AUROCs within 0.05): the KL term is
#   small next to the reconstruction term.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - Before revealing the sprites panel, ask: "a model trained on digits sees a triangle — high
#   or low anomaly score?" Most people say high.
# - Practical takeaways: reconstruction-based detection works for local defects; for semantic
#   novelty (a new class) or simpler inputs it fails silently. Fixes in the literature compare
#   against a complexity estimate (Serrà et al., 2020) or use likelihood ratios (Ren et al.,
#   2019).
# - Reported AUROC depends heavily on what you call an anomaly. Always say which.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Attribute editing: a "thicker stroke" direction
#
# Stroke thickness is easy to measure: **ink** = the sum of pixel values of an image. Among the
# training digits of each class, call the top quarter by ink "thick" and the bottom quarter
# "thin" (per class, so the direction does not also learn "be a 0 rather than a 1"). Then
#
#   v = mean μ of thick digits − mean μ of thin digits,     edited code = μ(x) + α·v.

# %% slideshow={"slide_type": "fragment"}
mu_train, _ = encode_all(vae16, data.x_train)
ink_train = data.x_train.flatten(1).sum(dim=1)
thick = torch.zeros(len(ink_train), dtype=torch.bool)
thin = torch.zeros_like(thick)
for digit in range(10):
    mask = data.y_train == digit
    thick |= mask & (ink_train >= ink_train[mask].quantile(0.75))
    thin |= mask & (ink_train <= ink_train[mask].quantile(0.25))
chosen = thick | thin
v = attribute_vector(mu_train[chosen], thick[chosen])
print(f"|v| = {v.norm():.2f} (spread of the codes, |std of μ| = {mu_train.std(0).norm():.2f})")

alphas = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
mu_test, _ = encode_all(vae16, data.x_test[:400])
with torch.no_grad():
    start_class = ruler(decode(vae16, mu_test).to(device)).argmax(1).cpu()


def effect(direction):
    """Mean ink of the decoded images, and the share whose ruler class is unchanged, per α."""
    ink, kept = [], []
    for codes in apply_attribute(mu_test, direction, alphas):
        images = decode(vae16, codes)
        ink.append(images.flatten(1).sum(1).mean().item())
        with torch.no_grad():
            kept.append((ruler(images.to(device)).argmax(1).cpu() == start_class)
                        .float().mean().item())
    return np.array(ink), np.array(kept)


ink, kept = effect(v)
g = torch.Generator().manual_seed(3)
random_dirs = [d / d.norm() * v.norm() for d in torch.randn(20, 16, generator=g)]
random_ink = np.array([effect(d)[0] for d in random_dirs])
for a, i, k in zip(alphas, ink, kept):
    print(f"alpha {a:+.1f}: mean ink {i:6.1f}   same digit class {k:.2f}")

# %% slideshow={"slide_type": "subslide"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1.6]})
ax1.plot(alphas, ink, "o-", label="thickness direction v")
ax1.plot(alphas, random_ink.mean(0), "s--", color="gray", label="random directions, |d| = |v|")
ax1.fill_between(alphas, random_ink.min(0), random_ink.max(0), color="gray", alpha=0.2)
ax1.set(xlabel="strength α", ylabel="mean ink of decoded images")
ax1.legend(fontsize=8)
strip = apply_attribute(mu_test[:6], v, alphas).transpose(0, 1).reshape(-1, 16)
show_images(decode(vae16, strip), nrow=len(alphas), ax=ax2,
            title="each row: one test digit, α = " + ", ".join(f"{a:g}" for a in alphas))
fig.tight_layout()

# %% slideshow={"slide_type": "fragment"}
at = {a: i for i, a in enumerate(alphas)}
rise = ink[at[1.0]] / ink[at[0.0]] - 1
random_change = np.abs(random_ink[:, at[1.0]] - random_ink[:, at[0.0]]).mean()
print(f"alpha = 1: ink +{100 * rise:.0f}% along v; random directions change it by "
      f"{random_change:.1f} on average vs {ink[at[1.0]] - ink[at[0.0]]:.1f} along v")
print(f"same class: {kept[at[0.5]]:.2f} at alpha 0.5, {kept[at[2.0]]:.2f} at alpha 2")
assert np.all(np.diff(ink) > 0)
assert rise > 0.25
assert random_change < 0.5 * (ink[at[1.0]] - ink[at[0.0]])
assert kept[at[0.5]] > 0.8 and kept[at[-0.5]] > 0.8
assert kept[at[2.0]] < kept[at[0.5]]

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the measurements say:
#
# - Ink rises at every step of α, and α = 1 adds more than a quarter to it (printed above).
# - A random direction of the same length changes ink by less than half as much: the effect
#   belongs to v, not to any shove of that size.
# - Small edits keep the digit: at α = ±½ more than 80% of the decoded digits keep the class the
#   ruler gave them before the edit. Push to α = 2 and the share drops — the direction is not
#   pure thickness; it drags other features along, and far enough out it changes the digit.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes
# - The recipe (mean with − mean without) is the same one used for "smile" or "glasses" vectors
#   on faces. Measuring it is what most demos skip: always report a control direction.
# - Why per-class quartiles: thick digits are disproportionately 0s and 8s; a global split would
#   produce a vector that partly means "turn into a 0". Try it: replace the per-class loop with a
#   global quartile and watch the "same class" column fall.
# - Exercise idea: build a slant direction (measure slant by the principal axis of the ink).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# | application | what we measured |
# |---|---|
# | interpolation | slerp keeps the norm and its midpoints beat pixel fades on the ruler; the linear chord shrinks and scores about the same as a fade |
# | generation | from N(0, I) the VAE's samples are several times closer to real digits (FDD) than the autoencoder's; an autoencoder with codes fitted after training still beats them here, with crisper strokes |
# | anomaly detection | defects are caught; an unseen digit barely; simple shapes look *more* normal than digits |
# | attribute editing | a thickness vector adds ink steadily, far more than a random direction, and keeps the digit for small steps |
#
# Next: notebook 07 breaks the VAE on purpose, eight different ways.
