"""The standard per-sample pipeline the course's ``fit`` is compared with (pytorch/examples
vae/main.py): torchvision's MNIST ``Dataset`` with ``ToTensor`` behind a ``DataLoader``, one Adam
step per batch."""

import math
import time

import torch

from ..device import get_device
from ..losses import elbo_loss

# The standard recipe: 784-400-20 MLP VAE, batch 128, Adam 1e-3.
STANDARD = {"latent_dim": 20, "hidden": 400, "arch": "mlp", "batch_size": 128, "lr": 1e-3}


def to_uint8(x):
    """Images in [0, 1], shape (N, 1, H, W) -> uint8 (N, H, W), the way MNIST is stored."""
    return (x[:, 0] * 255).round().clamp(0, 255).to(torch.uint8)


def standard_dataset(images_uint8, targets):
    """torchvision's own MNIST ``Dataset`` holding the given uint8 images, with ``ToTensor``.

    Every item goes through torchvision's ``MNIST.__getitem__``: one uint8 array becomes a PIL
    image, which ``ToTensor`` turns into a float tensor. That per-image Python work is what the
    standard pipeline repeats for every image of every epoch.
    """
    from torchvision import transforms
    from torchvision.datasets import MNIST as TorchvisionMNIST

    class InMemoryMNIST(TorchvisionMNIST):
        def __init__(self, data, labels, transform):  # no files: the arrays are given
            self.data, self.targets = data, labels
            self.transform, self.target_transform = transform, None

    return InMemoryMNIST(images_uint8, targets, transforms.ToTensor())


def standard_loader(data, batch_size=128, seed=0):
    """``DataLoader(MNIST(transform=ToTensor()), batch_size, shuffle=True)``, as in
    pytorch/examples (no worker processes on a CPU)."""
    from torch.utils.data import DataLoader

    dataset = standard_dataset(to_uint8(data.x_train), data.y_train)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def train_standard(model, loader, steps, lr=1e-3, device=None):
    """The pytorch/examples training loop: for each batch, move it to the device, take one Adam
    step on the −ELBO, read the loss. Returns the wall seconds of ``steps`` steps."""
    device = get_device(device)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    done, total = 0, 0.0
    start = time.perf_counter()
    while done < steps:
        for x, _ in loader:
            x = x.to(device)
            logits, mu, logvar = model(x)
            loss = elbo_loss(logits, x, mu, logvar).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            done += 1
            if done == steps:
                break
    seconds = time.perf_counter() - start
    model.eval()
    if not math.isfinite(total):
        raise FloatingPointError("the standard pipeline's loss became NaN or infinite")
    return seconds
