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
# # 01 · The plain autoencoder
#
# An autoencoder squeezes each image through a narrow code and tries to rebuild it:
#
# $$x \xrightarrow{\text{encoder } f} z = f(x) \xrightarrow{\text{decoder } g} \hat x = g(z)$$
#
# Here $x$ is a 28×28 MNIST digit (784 numbers) and $z$ has just **2** numbers, so we can draw
# every code on a plane. By the end of this notebook you will have
#
# 1. trained an autoencoder and looked at its reconstructions,
# 2. seen how it arranges the digits in its 2-D code space,
# 3. measured what happens when you decode a code that did not come from an image —
#    the weakness that the VAE of the next notebooks is built to fix.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: open with the question "if I hand you two numbers, can you draw me a digit?".
# The whole course is about making that question answerable. Keep this lecture brisk (about
# 15 minutes); its job is to create the tension (codes with holes) that notebooks 02-06 resolve.

# %% slideshow={"slide_type": "skip"}
import torch

from vae_course import course_models
from vae_course.claims import claim
from vae_course.classifier import digit_likeness
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.frechet import frechet_digit_distance
from vae_course.metrics import encode_all
from vae_course.models import Autoencoder
from vae_course.plots import plot_history, plot_latent_map, show_images
from vae_course.train import History

SEED = seed_everything()  # 0, or $VAE_COURSE_SEED: every seed below derives from it
print("device:", get_device(), " seed:", SEED)
data = load_mnist()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data
#
# Images are float tensors in $[0, 1]$ of shape (N, 1, 28, 28), already in memory — no
# `DataLoader`, no per-image conversion. The line above says which MNIST you have: the
# 5,000-digit subset that ships with the course's dependencies, or full MNIST if you ran
# `vae-course data`.

# %%
print("train:", tuple(data.x_train.shape), " test:", tuple(data.x_test.shape),
      " pixel range:", data.x_train.min().item(), "to", data.x_train.max().item())
show_images(data.x_test[:20], nrow=20, title="Twenty test digits");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The model
#
# Encoder: 784 → 400 (ReLU) → 2. Decoder: 2 → 400 (ReLU) → 784. The decoder outputs **logits**
# $\ell$; the pixel intensities are $\hat x = \sigma(\ell)$.
#
# The loss treats each pixel as a coin that lands "ink" with probability $\hat x_i$ and sums the
# binary cross-entropy over the 784 pixels (nats per image, averaged over the batch):
#
# $$\mathcal L(x) = -\sum_{i=1}^{784} \big[x_i \log \hat x_i + (1 - x_i) \log(1 - \hat x_i)\big]$$

# %%
model = Autoencoder(latent_dim=2, hidden=400)
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Training
#
# `vae_course.train.fit` runs Adam on random mini-batches of 128 for a fixed number of **steps**
# (3,000 here, about 15 s on two CPU cores), so the notebook takes the same time whichever MNIST
# you have. `course_models.autoencoder()` trains with exactly that recipe and keeps the result
# in the course's model cache, so notebook 06 can reuse this very model. Run it a second time
# and it loads instantly.

# %%
model, info = course_models.autoencoder(latent_dim=2, steps=3000, seed=SEED, data=data)
history = History(**info["history"])
print(f"training took {info['seconds']:.1f} s on the run that first trained it (later runs "
      f"load it from the cache); held-out reconstruction loss {info['test_recon']:.1f} nats "
      f"per image")
plot_history(history, title="Autoencoder, 2-D code");

# %% [markdown] slideshow={"slide_type": "fragment"}
# The held-out loss falls steeply for a few hundred steps and then slowly. For scale: a model
# that predicted every pixel's average intensity, ignoring the code, would pay the number below.

# %%
mean_image = data.x_train.mean(0, keepdim=True).clamp(1e-4, 1 - 1e-4)
baseline = torch.nn.functional.binary_cross_entropy(
    mean_image.expand_as(data.x_test), data.x_test, reduction="sum").item() / len(data.x_test)
print(f"code-free baseline: {baseline:.1f} nats per image;  autoencoder: "
      f"{info['test_recon']:.1f}  ({baseline - info['test_recon']:.0f} nats better)")
claim("2-D code beats the code-free baseline (nats)", baseline - info["test_recon"], above=30)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Reconstructions
#
# Top row: held-out digits. Bottom row: what the decoder rebuilds from their two-number codes.

# %%
with torch.no_grad():
    recon = torch.sigmoid(model(data.x_test[:12]))
show_images(torch.cat([data.x_test[:12], recon]), nrow=12,
            row_labels=["input", "rebuilt"], title="Reconstructions through a 2-D code");

# %% [markdown] slideshow={"slide_type": "fragment"}
# Two numbers are not much. Do the reconstructions at least keep the digit's class? Ask the
# course's ruler — a small digit classifier, introduced properly below, that labels about 19 in
# 20 real test digits correctly — to read the label of each rebuilt test digit.

# %%
ruler, ruler_accuracy = course_models.digit_ruler(data=data)
with torch.no_grad():
    recon_all = torch.sigmoid(model(data.x_test))
    read_as = ruler(recon_all).argmax(1)
kept = (read_as == data.y_test).float().mean().item()
print(f"ruler reads the true class on {ruler_accuracy:.1%} of real test digits and on "
      f"{kept:.1%} of their 2-D reconstructions")
print("the twelve digits above:  true label", " ".join(map(str, data.y_test[:12].tolist())))
print("                     read after 2-D  ", " ".join(map(str, read_as[:12].tolist())))
claim("2-D reconstructions that keep their class", kept, above=0.45, below=0.7)
claim("real digits read correctly minus reconstructions", ruler_accuracy - kept, above=0.1)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Only about half of them do (between 45% and 70%, asserted below the printed number): the
# ruler, right on 97% of real digits, reads some other digit in close to half of the
# reconstructions. The two printed rows name the changes in the figure above (with seed 0:
# a 7 read as an 8, a 4 and a 5 as 9s, a 2 as a 6, a 1 as a 7). Two numbers hold a rough shape and lose the details of the stroke, and
# those details are often what tells a 4 from a 9. The reconstructions also come out blurred because, for an
# uncertain pixel, the loss is lowest when the decoder predicts a grey in-between value.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The code space
#
# Every held-out digit becomes one point $z = f(x)$ on the plane, coloured here by its label
# (the autoencoder never saw the labels).

# %%
z_train = encode_all(model, data.x_train)
z_test = encode_all(model, data.x_test)
plot_latent_map(z_test, data.y_test, title="2-D codes of held-out digits");

# %% [markdown] slideshow={"slide_type": "fragment"}
# The digits form clusters, but look at the *shape* of the cloud: arms of different lengths
# running out from a crowded centre, and empty gaps between them. Nothing in the loss asked the
# codes to fill the plane evenly, or to stay near the origin — the encoder put them wherever
# reconstruction was easiest.

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask the class: "which point would you decode to get a brand-new 7?" There is no principled
# answer — we do not know which region is populated, or how densely. That is the question the
# next section measures.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The weakness: decoding codes that no image produced
#
# To *generate* a digit we need a code to decode. The autoencoder gives us no distribution to
# draw from, so we try the obvious guesses:
#
# * **fitted Gaussian** — a Gaussian with the mean and covariance of the training codes;
# * **midpoints** — halfway between the codes of two random training digits;
# * **bounding box** — uniform over the rectangle that holds all training codes.
#
# Below, the decoder's picture of the whole code plane, then samples from each guess.

# %%
lo, hi = z_train.min(0).values, z_train.max(0).values
steps = 15
grid_x = torch.linspace(lo[0].item(), hi[0].item(), steps)
grid_y = torch.linspace(hi[1].item(), lo[1].item(), steps)
grid = torch.stack(torch.meshgrid(grid_y, grid_x, indexing="ij")[::-1], dim=-1).reshape(-1, 2)
with torch.no_grad():
    plane = torch.sigmoid(model.decode(grid))
show_images(plane, nrow=steps, scale=0.45, title="Decoding an even grid over the code plane");

# %%
n = 1000
g = torch.Generator().manual_seed(SEED)
mean, cov = z_train.mean(0), torch.cov(z_train.T)
guesses = {
    "fitted Gaussian": mean + torch.randn(n, 2, generator=g) @ torch.linalg.cholesky(cov).T,
    "midpoints": 0.5 * (z_train[torch.randint(len(z_train), (n,), generator=g)] +
                        z_train[torch.randint(len(z_train), (n,), generator=g)]),
    "bounding box": lo + (hi - lo) * torch.rand(n, 2, generator=g),
}
with torch.no_grad():
    decoded = {name: torch.sigmoid(model.decode(z)) for name, z in guesses.items()}
show_images(torch.cat([d[:12] for d in decoded.values()]), nrow=12,
            row_labels=list(decoded), title="Decoded random codes");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How digit-like are they? A ruler
#
# Looking is not measuring. The ruler is a small digit classifier trained on the training
# digits (accuracy on the test digits printed below, between 95% and 99%); it is the same
# classifier, trained once with a fixed seed, in every notebook. We use it in two ways:
#
# * **confidence**: its average top softmax probability — the simplest idea;
# * **Fréchet digit distance (FDD)**: fit a Gaussian to the classifier's 64 internal features
#   of a set of images, another to those of the real test digits, and measure the distance
#   between the two Gaussians,
#   $\lVert m_a - m_b\rVert^2 + \operatorname{tr}\big(C_a + C_b - 2(C_a^{1/2} C_b C_a^{1/2})^{1/2}\big)$.
#   This is how FID scores image generators, with our small classifier in place of a large one.
#   0 means "looks like the real digits, as a set"; it punishes odd images and a lack of variety.
#
# First, calibrate the ruler on things we understand: real training digits, the
# autoencoder's own reconstructions, and pure noise.

# %%
noise = torch.rand(n, 1, 28, 28, generator=g)
sets = {"real training digits": data.x_train[:n], "AE reconstructions": recon_all,
        "uniform noise": noise, **{f"random codes: {k}": v for k, v in decoded.items()}}
scores = {name: (digit_likeness(ruler, x), frechet_digit_distance(ruler, x, data.x_test))
          for name, x in sets.items()}
print(f"ruler accuracy on test digits: {ruler_accuracy:.3f}\n")
print(f"{'images':<32}{'confidence':>11}{'FDD':>10}")
for name, (conf, fdd) in scores.items():
    print(f"{name:<32}{conf:>11.3f}{fdd:>10.1f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Two lessons from the calibration rows:
#
# * **Confidence is a poor ruler.** The classifier is fairly sure of itself even on uniform noise
#   (above 0.5), and it is about as sure of images decoded from random codes as of the
#   reconstructions of real digits (within 0.1 of each other). A classifier only has to pick
#   one of ten answers; nothing made it say "none of these".
# * **FDD separates the cases.** Real training digits sit near 0, noise is off the scale.
#
# So FDD is the number this course uses to compare generators; the `claim` lines below guard each
# claim.

# %%
conf = {k: v[0] for k, v in scores.items()}
fdd = {k: v[1] for k, v in scores.items()}
claim("ruler accuracy on test digits", ruler_accuracy, above=0.95, below=0.99)
claim("confidence on uniform noise", conf["uniform noise"], above=0.5)
claim("confidence gap, random codes vs reconstructions",
      max(abs(conf[f"random codes: {k}"] - conf["AE reconstructions"]) for k in decoded),
      below=0.1)
claim("FDD real digits / reconstructions", fdd["real training digits"] / fdd["AE reconstructions"],
      below=0.1)
claim("FDD noise / worst random-code guess",
      fdd["uniform noise"] / max(fdd[f"random codes: {k}"] for k in decoded), above=1.3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A surprise in two dimensions
#
# With a 2-D code, the random codes score about as well as the reconstructions of real digits:

# %%
best_2d = min(decoded, key=lambda k: fdd[f"random codes: {k}"])
print(f"2-D code: reconstructions FDD {fdd['AE reconstructions']:.0f}; best random-code guess "
      f"({best_2d}) FDD {fdd[f'random codes: {best_2d}']:.0f}")
claim("FDD best 2-D guess / reconstructions",
      fdd[f"random codes: {best_2d}"] / fdd["AE reconstructions"], below=1.5)

# %% [markdown] slideshow={"slide_type": "fragment"}
# That is not the autoencoder being a good generator; it is the 2-D decoder being a poor
# *re*constructor. The grid above shows why: a decoder with only two inputs has to cover the
# plane with smooth, blurry digit-ish shapes (garbage appears only in the empty corners), so
# "any code" and "the code of a real digit" decode to similar blobs. Give the autoencoder room
# to reconstruct well and the picture changes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A 16-D code: a better compressor, a worse generator
#
# Same recipe, 16 numbers per image (2,000 steps, cached as well). We score its reconstructions,
# the same three guesses in 16 dimensions, and one more: codes drawn from a standard normal
# $\mathcal N(0, I)$ — exactly how a VAE will generate in notebook 06.

# %%
model16, info16 = course_models.autoencoder(latent_dim=16, steps=2000, seed=SEED, data=data)
z16 = encode_all(model16, data.x_train)
z16_test = encode_all(model16, data.x_test)
lo16, hi16 = z16.min(0).values, z16.max(0).values
guesses16 = {
    "fitted Gaussian": z16.mean(0) + torch.randn(n, 16, generator=g) @ torch.linalg.cholesky(
        torch.cov(z16.T)).T,
    "midpoints": 0.5 * (z16[torch.randint(len(z16), (n,), generator=g)] +
                        z16[torch.randint(len(z16), (n,), generator=g)]),
    "bounding box": lo16 + (hi16 - lo16) * torch.rand(n, 16, generator=g),
    "standard normal": torch.randn(n, 16, generator=g),
}
with torch.no_grad():
    recon16 = torch.sigmoid(model16(data.x_test))
    decoded16 = {name: torch.sigmoid(model16.decode(z)) for name, z in guesses16.items()}
fdd16 = {"AE reconstructions": frechet_digit_distance(ruler, recon16, data.x_test)}
fdd16.update({f"random codes: {k}": frechet_digit_distance(ruler, x, data.x_test)
              for k, x in decoded16.items()})
print(f"held-out reconstruction loss: 2-D {info['test_recon']:.1f}, 16-D "
      f"{info16['test_recon']:.1f} nats per image\n")
print(f"{'images (16-D code)':<34}{'FDD':>8}")
for name, value in fdd16.items():
    print(f"{name:<34}{value:>8.1f}")
show_images(torch.cat([recon16[:12]] + [d[:12] for d in decoded16.values()]), nrow=12,
            row_labels=["rebuilt", *decoded16], title="16-D autoencoder");

# %%
best_16 = min(decoded16, key=lambda k: fdd16[f"random codes: {k}"])
ae_fdd = fdd16[f"random codes: {best_16}"]
ratio = ae_fdd / fdd16["AE reconstructions"]
print(f"best guess ({best_16}) is {ratio:.1f}x as far from real digits as the reconstructions; "
      f"standard-normal codes are {fdd16['random codes: standard normal'] / ae_fdd:.1f}x "
      f"further still")
claim("16-D reconstructs better than 2-D (nats)", info["test_recon"] - info16["test_recon"],
      above=30)
claim("FDD reconstructions, 16-D / 2-D", fdd16["AE reconstructions"] / fdd["AE reconstructions"],
      below=0.3)
claim("FDD best 16-D guess / reconstructions", ratio, above=3)
claim("FDD standard-normal codes / best 16-D guess",
      fdd16["random codes: standard normal"] / ae_fdd, above=3)
three = [fdd16[f"random codes: {k}"] for k in ("fitted Gaussian", "midpoints", "bounding box")]
claim("FDD of the three guesses, worst / best", max(three) / min(three), below=1.3)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Why? For each guess, measure how far its codes land from the nearest code of a real training
# image, compared with how far the codes of *test* digits land from it — and how long the codes
# are compared with the codes of real images.

# %%
test_gap = torch.cdist(z16_test, z16).min(1).values
far = test_gap.quantile(0.95)
gaps = {name: torch.cdist(z, z16).min(1).values for name, z in guesses16.items()}
print(f"{'codes':<17}{'median gap':>11}{'beyond 95% of test':>20}{'median length':>15}")
print(f"{'test digits':<17}{test_gap.median():>11.2f}{'5%':>20}"
      f"{z16_test.norm(dim=1).median():>15.2f}")
for name, gap in gaps.items():
    print(f"{name:<17}{gap.median():>11.2f}{(gap > far).float().mean():>20.0%}"
          f"{guesses16[name].norm(dim=1).median():>15.2f}")
for name in ("fitted Gaussian", "bounding box"):
    claim(f"{name} codes beyond 95% of test digits' gaps", (gaps[name] > far).float().mean(),
          above=0.5)
claim("midpoint codes beyond 95% of test digits' gaps", (gaps["midpoints"] > far).float().mean(),
      below=min((gaps[k] > far).float().mean() for k in ("fitted Gaussian", "bounding box")))
claim("standard-normal code length / real code length",
      guesses16["standard normal"].norm(dim=1).median() / z16.norm(dim=1).median(), below=0.5)

# %% [markdown] slideshow={"slide_type": "fragment"}
# The fitted Gaussian and the box put most of their codes in empty space: more than half of
# them land farther from any training code than 95% of the test digits do. Midpoints stay
# closer to the training codes, yet they decode no better: the three guesses' FDDs are within
# 30% of one another (table above). Being near the codes of real digits, as the crow flies, is
# not the same as being where the decoder was trained.
#
# Standard-normal codes are a different failure: they are far *shorter* than the codes the
# encoder actually uses (less than half as long), so they all fall in one small region near the
# origin that no image was mapped to, and the decoder draws faint smudges there.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we learned
#
# * An autoencoder compresses well: two numbers rebuild a recognisable digit, sixteen rebuild
#   most of its stroke.
# * Its code space has no known shape. Nothing in the loss says where codes should live, so
#   random codes land where no real code lies, and the decoder was never trained there.
# * The better the autoencoder reconstructs, the worse this gets: in 16-D the best random guess
#   is several times further from real digits than the reconstructions, and codes drawn from
#   $\mathcal N(0, I)$ decode to faint smudges, further still. Notebook 06 puts a VAE with the same 16-D code
#   against both numbers: the $\mathcal N(0, I)$ one, and the best guess printed above.
#
# **Next (02):** make the encoder output a *distribution* over codes instead of a point, and
# learn how to backpropagate through sampling from it.

# %% [markdown] slideshow={"slide_type": "notes"}
# Mistakes learners make here: reading the 2-D map as if distances between clusters meant
# something (they do not — the loss never constrained them); judging generated images by
# classifier confidence alone (the calibration table shows why that fails); concluding from the
# 2-D case that autoencoders generate well (the 16-D case shows why not). Question to ask:
# "what would you add to the loss so that codes drawn from N(0, I) decode well?" (answer: make
# the codes follow that distribution — the KL term of notebook 03).
