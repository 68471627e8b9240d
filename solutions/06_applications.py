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
# # Exercise 6 — What a trained VAE is good for: interpolation, anomalies, attributes
#
# Goes with the lecture **`notebooks/06_applications.ipynb`**.
#
# Four functions, each the working part of one application: a walk between two codes (straight
# or along the sphere), an anomaly score for one image, the area under the ROC curve that judges
# such a score, and an attribute vector that edits a code. `interpolate`, `auroc` and
# `attribute_vector` have the same contracts as their twins in `vae_course.latent` and
# `vae_course.metrics`.
#
# **How to work:** fill in each cell marked `YOUR CODE HERE` and run the check cell under it.
# Green: done. Orange: not implemented yet. Red: the box says what is wrong.

# %%
import torch
import torch.nn.functional as F

from vae_course.checks import (check_anomaly_score, check_attribute_vector, check_auroc,
                               check_interpolate)
from vae_course.data import load_mnist
from vae_course.device import get_device, seed_everything
from vae_course.exercise import needs, needs_any
from vae_course.metrics import encode_all
from vae_course.models import VAE
from vae_course.plots import show_images
from vae_course.train import fit

SEED = seed_everything(0)


# %% [markdown]
# ## Task 1: `interpolate(a, b, steps=10, method="linear")`
#
# * `a`, `b`: two codes, shape `(D,)`; `steps` ≥ 2 points, both ends included.
# * `method="linear"`: the straight line, $z_i = (1 - t_i)\,a + t_i\,b$ with
#   $t_i = i / (\text{steps} - 1)$.
# * `method="spherical"`: the great-circle arc around the origin (slerp),
#
# $$z_i = \frac{\sin\big((1 - t_i)\,\Omega\big)}{\sin\Omega}\,a + \frac{\sin(t_i\,\Omega)}{\sin\Omega}\,b,
# \qquad \cos\Omega = \frac{a\cdot b}{\lVert a\rVert\,\lVert b\rVert}$$
#
# Return shape `(steps, D)`; the first row is exactly `a`, the last exactly `b`. Keep it in
# torch: the check also follows gradients back to `a` and `b`.

# %%
def interpolate(a, b, steps=10, method="linear"):
    """`steps` codes from a to b, ends included: a straight line or a great-circle arc."""
    ### BEGIN SOLUTION
    ### HINT: `steps` evenly spaced weights from 0 to 1, one per row, each mixing the two end codes; the two methods differ only in how a weight mixes a and b (straight line, or the sines of the angle between the codes)
    ### HINT2: `t = torch.linspace(0, 1, steps, dtype=a.dtype, device=a.device).unsqueeze(1)` (a column);
    ### HINT2: linear: `return (1 - t) * a + t * b`;
    ### HINT2: spherical: `omega = torch.arccos((a @ b / (a.norm() * b.norm())).clamp(-1, 1))`,
    ### HINT2: `return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)`
    t = torch.linspace(0, 1, steps, dtype=a.dtype, device=a.device).unsqueeze(1)
    if method == "linear":
        return (1 - t) * a + t * b
    omega = torch.arccos((a @ b / (a.norm() * b.norm())).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    ### END SOLUTION


# %%
check_interpolate(interpolate)


# %% [markdown]
# ## Task 2: `anomaly_score(model, x)`
#
# A model trained on normal images only finds an odd image hard to explain. Score each image by
# the negative ELBO with the code fixed at the posterior mean, so the same image always gets the
# same score:
#
# $$s(x) = \underbrace{-\log p\big(x \mid z = \mu(x)\big)}_{\text{BCE on the logits, summed over pixels}}
# \;+\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big)}_{\text{summed over latent dims}}$$
#
# * `model`: a `VAE` (`model.encode(x)` → `(mu, logvar)`, `model.decode(z)` → logits).
# * `x`: images `(N, 1, 28, 28)` in [0, 1]. Return one score per image, shape `(N,)`, in nats;
#   higher = more anomalous.

# %%
@torch.no_grad()
def anomaly_score(model, x):
    """Per-image −ELBO with z = μ(x): reconstruction NLL plus KL, in nats. Shape (N,)."""
    ### BEGIN SOLUTION
    ### HINT: encode, decode the mean code instead of a sample, then the pixel cross-entropy and the closed-form KL, each added up within an image and not averaged over the batch
    ### HINT2: `mu, logvar = model.encode(x)`; `logits = model.decode(mu)`;
    ### HINT2: `recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)`;
    ### HINT2: `kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)`; `return recon + kl`
    mu, logvar = model.encode(x)
    logits = model.decode(mu)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return recon + kl
    ### END SOLUTION


# %%
check_anomaly_score(anomaly_score)


# %% [markdown]
# ## Task 3: `auroc(scores, labels)`
#
# The area under the ROC curve is the probability that a randomly chosen anomaly scores higher
# than a randomly chosen normal image (ties count one half). 1 is perfect, 0.5 is chance.
#
# * `scores`: shape `(N,)`, higher = more anomalous; `labels`: shape `(N,)`, 1 = anomaly,
#   0 = normal. Return a Python float.
#
# Use scikit-learn's `sklearn.metrics.roc_auc_score` (mind the order of its arguments) or count
# the pairs yourself.

# %%
def auroc(scores, labels):
    """Area under the ROC curve of anomaly scores (higher = more anomalous) vs 0/1 labels."""
    ### BEGIN SOLUTION
    ### HINT: scikit-learn's ROC-AUC takes the true labels first, the scores second; return a plain float
    ### HINT2: `from sklearn.metrics import roc_auc_score`;
    ### HINT2: `return float(roc_auc_score(labels, scores))`
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))
    ### END SOLUTION


# %%
check_auroc(auroc)


# %% [markdown]
# ## Task 4: `attribute_vector(codes, has_attribute)`
#
# An attribute direction in latent space: the mean code of the images that show the attribute
# minus the mean code of those that do not,
#
# $$v = \frac{1}{|A|}\sum_{i \in A} z_i \;-\; \frac{1}{|\bar A|}\sum_{i \notin A} z_i$$
#
# * `codes`: shape `(N, D)`; `has_attribute`: shape `(N,)`, booleans **or 0/1 integers**.
# * Return `v`, shape `(D,)`. Adding α·v to a code should add the attribute — the check
#   measures that on codes where it knows the answer.

# %%
def attribute_vector(codes, has_attribute):
    """Mean code with the attribute minus mean code without it. Shape (D,)."""
    ### BEGIN SOLUTION
    ### HINT: split the rows into two groups by the attribute (0/1 labels work as a yes/no mask once made boolean) and subtract the average code without it from the average code with it
    ### HINT2: `mask = torch.as_tensor(has_attribute).bool()`;
    ### HINT2: `return codes[mask].mean(dim=0) - codes[~mask].mean(dim=0)`
    mask = torch.as_tensor(has_attribute).bool()
    return codes[mask].mean(dim=0) - codes[~mask].mean(dim=0)
    ### END SOLUTION


# %%
check_attribute_vector(attribute_vector)

# %% [markdown]
# ## Use it: one small VAE, three applications
#
# A small VAE, trained for 600 steps on normal MNIST digits (a few seconds). The training does
# not use your code, but it waits until at least one of your four functions is written: before
# that, no cell below has a use for the model.

# %%
if needs_any(interpolate, anomaly_score, auroc, attribute_vector):
    seed_everything(0)
    device = get_device()
    data = load_mnist()
    model = VAE(latent_dim=8, hidden=256)
    history = fit(model, data.x_train, steps=600, device=device, desc="small VAE")
    model.eval()

# %% [markdown]
# **Interpolation.** Encode a test "1" and a test "7" by their posterior means and decode the
# ten codes of each path between them. The first and last decoded images are the model's
# reconstructions of the two digits.

# %%
if needs(interpolate):
    one = data.x_test[data.y_test == 1][:1].to(device)
    seven = data.x_test[data.y_test == 7][:1].to(device)
    with torch.no_grad():
        z_one, z_seven = model.encode(one)[0][0], model.encode(seven)[0][0]
        paths = {m: interpolate(z_one, z_seven, 10, method=m) for m in ("linear", "spherical")}
        images = {m: torch.sigmoid(model.decode(p)).cpu() for m, p in paths.items()}
    for p in paths.values():
        assert torch.allclose(p[0], z_one, atol=1e-5) and torch.allclose(p[-1], z_seven, atol=1e-5)
    show_images(torch.cat([images["linear"], images["spherical"]]), nrow=10,
                row_labels=["linear", "spherical"], title="from a 1 to a 7");

# %% [markdown]
# **Anomalies.** Normal test digits against the same digits with a 6×6 white blot pasted in —
# a defect the model never saw in training. Your score and your AUROC: well above chance (0.5),
# and far from perfect for so small a model — the lecture shows what limits it.

# %%
if needs(anomaly_score, auroc):
    normal = data.x_test[:500]
    blotted = normal.clone()
    g = torch.Generator().manual_seed(0)
    for image in blotted:
        r, c = torch.randint(4, 18, (2,), generator=g).tolist()
        image[:, r:r + 6, c:c + 6] = 1.0
    x_all = torch.cat([normal, blotted])
    labels = torch.cat([torch.zeros(len(normal)), torch.ones(len(blotted))]).long()
    scores = anomaly_score(model, x_all.to(device)).cpu()
    area = auroc(scores, labels)
    print(f"mean score: normal {scores[labels == 0].mean():.1f} nats, blotted "
          f"{scores[labels == 1].mean():.1f} nats; AUROC {area:.3f}")
    assert area > 0.65

# %% [markdown]
# **Attributes.** Ink (the sum of pixel values) measures stroke thickness. Among the training
# digits, the top quarter by ink is "thick" and the bottom quarter "thin"; your attribute vector
# between the two, added to the codes of 300 test digits, should make their decoded images
# thicker. The cell measures the mean ink of the decoded images for α = 0 and α = 1.

# %%
if needs(attribute_vector):
    mu_train, _ = encode_all(model, data.x_train)
    ink = data.x_train.flatten(1).sum(1)
    low, high = ink.quantile(0.25), ink.quantile(0.75)
    chosen = (ink <= low) | (ink >= high)
    v = attribute_vector(mu_train[chosen], (ink >= high)[chosen])
    mu_test, _ = encode_all(model, data.x_test[:300])
    with torch.no_grad():
        inks = [torch.sigmoid(model.decode((mu_test + alpha * v).to(device))).flatten(1).sum(1)
                .mean().item() for alpha in (0.0, 1.0)]
    print(f"mean ink of the decoded test digits: {inks[0]:.1f} with α = 0, {inks[1]:.1f} with "
          f"α = 1 (the thick quarter of the training digits averages {ink[ink >= high].mean():.1f})")
    assert inks[1] > 1.1 * inks[0]
