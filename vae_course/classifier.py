"""A small digit classifier used as a ruler: how digit-like are generated images?

Two readings of the same ruler, used for the autoencoder (notebook 01) and the VAE (notebook 06):

* **confidence** (here) — the classifier's mean largest softmax probability. Simple, but a
  classifier can be confidently wrong: on pure noise it still says ~0.7 (notebook 01 measures
  this).
* **Fréchet digit distance (FDD)** — the set-level reading, in ``vae_course.frechet``.
"""

import torch
from torch import nn

from .device import get_device, seed_everything
from .argcheck import (check_images, check_int, check_module, check_number, check_tensor,
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
