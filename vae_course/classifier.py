"""A small digit classifier used as a ruler: how digit-like are generated images?

Two readings of the same ruler, used for the autoencoder (notebook 01) and the VAE (notebook 06):

* **confidence** — the classifier's mean largest softmax probability. Simple, but a classifier
  can be confidently wrong: on pure noise it still says ~0.7 (notebook 01 measures this).
* **Fréchet digit distance (FDD)** — fit a Gaussian to the classifier's 64 penultimate features
  of the generated images and another to those of real test digits, and take the Fréchet
  distance between them (the recipe of FID, with a small in-course MNIST classifier in place of
  Inception). 0 means indistinguishable from real digits *as a set*: it penalises both strange
  images and a lack of variety. Real training digits score about 8 against the test digits,
  noise well over 1,000.
"""

import torch
from torch import nn

from .device import get_device, seed_everything
from .validate import (check_images, check_int, check_module, check_number, check_tensor,
                       check_values, fail)


def _check_digits(name, images):
    """28x28 one-channel images in [0, 1] (a hair of rounding allowed), as the ruler expects."""
    check_tensor(name, images, ndim=4, layout="(N, 1, 28, 28)")
    if tuple(images.shape[1:]) != (1, 28, 28):
        fail(name, "digit images of shape (N, 1, 28, 28)", f"shape {tuple(images.shape)}")
    check_values(unit={name: images}, tol=1e-4,
                 hints={name: " (images, not logits: apply torch.sigmoid to decoder outputs)"})


def _check_labels(x, y):
    check_tensor("y", y, ndim=1, layout="(N,) of digit labels", floating=False)
    if y.is_floating_point() or y.dtype == torch.bool:
        fail("y", "integer digit labels 0-9", f"dtype {y.dtype}", TypeError)
    if len(y) != len(x):
        fail("y", f"one label per image ({len(x)})", f"{len(y)} labels")
    lo, hi = torch.aminmax(y)
    if lo.item() < 0 or hi.item() > 9:
        fail("y", "digit labels 0-9", f"labels from {lo.item()} to {hi.item()}")


FEATURES = 64  # width of the penultimate layer the Fréchet distance is computed on


def make_classifier():
    """A small CNN for 28×28 digits: two conv layers, a 64-unit feature layer, a linear head."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, FEATURES), nn.ReLU(), nn.Linear(FEATURES, 10))


def train_classifier(x, y, steps=400, batch_size=128, lr=2e-3, seed=0, device=None):
    """Train the ruler on labelled digits for ``steps`` Adam steps; returns it in eval mode."""
    check_images("x", x, image_shape=(1, 28, 28))
    _check_labels(x, y)
    check_int("steps", steps, low=1)
    check_int("batch_size", batch_size, low=1)
    check_number("lr", lr, low=0, strict_low=True)
    seed_everything(seed)
    device = get_device(device)
    model = make_classifier().to(device)
    x, y = x.to(device), y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=g).to(device)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(classifier, x, y):
    """Fraction of ``x`` the classifier labels as ``y``."""
    check_module("classifier", classifier)
    _check_digits("x", x)
    _check_labels(x, y)
    device = next(classifier.parameters()).device
    return (classifier(x.to(device)).argmax(1).cpu() == y.cpu()).float().mean().item()


@torch.no_grad()
def digit_confidence(classifier, images):
    """Per-image confidence of the ruler: the largest softmax probability. Shape (N,)."""
    check_module("classifier", classifier)
    _check_digits("images", images)
    device = next(classifier.parameters()).device
    probs = torch.softmax(classifier(images.to(device)), dim=1)
    return probs.max(dim=1).values.cpu()


def digit_likeness(classifier, images):
    """Mean confidence of the ruler over ``images`` (in [0.1, 1]; higher = more digit-like)."""
    return digit_confidence(classifier, images).mean().item()


@torch.no_grad()
def features(classifier, images, batch_size=1000):
    """The ruler's penultimate-layer features of ``images``, shape (N, 64), on the CPU."""
    device = next(classifier.parameters()).device
    body = classifier[:-1]
    return torch.cat([body(images[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(images), batch_size)])


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (N, D):

        ||m_a − m_b||² + tr(C_a + C_b − 2 (C_a^½ C_b C_a^½)^½)

    computed in float64 with symmetric eigendecompositions (no scipy needed).
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a, b: expected (N, D) feature sets with the same D, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a, b: need at least 2 vectors each to fit a Gaussian")
    a, b = a.double(), b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    value = (mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return max(float(value), 0.0)


def frechet_digit_distance(classifier, images, reference):
    """FDD of ``images`` against ``reference`` real digits (lower = more like real digits)."""
    return frechet_distance(features(classifier, images), features(classifier, reference))
