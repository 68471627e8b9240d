"""A small digit classifier used as a ruler: how digit-like is a generated image?

The score of a batch of images is the classifier's mean confidence (its largest softmax
probability): real test digits score near 1, noise and blurry in-between blobs score lower.
It is a simple, defensible measure — not a perfect one, since a classifier can be confidently
wrong — and the same ruler is used for the autoencoder (notebook 01) and the VAE (notebook 06).
"""

import torch
from torch import nn

from .device import get_device, seed_everything


def make_classifier():
    """A small CNN: two conv layers and a linear head, for 28×28 digits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def train_classifier(x, y, steps=400, batch_size=128, lr=2e-3, seed=0, device=None):
    """Train the ruler on labelled digits for ``steps`` Adam steps; returns it in eval mode."""
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
    device = next(classifier.parameters()).device
    return (classifier(x.to(device)).argmax(1).cpu() == y.cpu()).float().mean().item()


@torch.no_grad()
def digit_confidence(classifier, images):
    """Per-image confidence of the ruler: the largest softmax probability. Shape (N,)."""
    device = next(classifier.parameters()).device
    probs = torch.softmax(classifier(images.to(device)), dim=1)
    return probs.max(dim=1).values.cpu()


def digit_likeness(classifier, images):
    """Mean confidence of the ruler over ``images`` (in [0.1, 1]; higher = more digit-like)."""
    return digit_confidence(classifier, images).mean().item()
