"""Small fakes shared by the test files (``from fakes import ...``): MNIST's IDX files and a tiny
VAE, one of each for the whole suite."""

import gzip

import numpy as np
import torch

from vae_course.data import MNIST_FILES, mnist_raw_dir
from vae_course.models import VAE


def idx_bytes(array, magic=None):
    """``array`` (as uint8) in the IDX format MNIST uses; ``magic`` replaces the first four
    header bytes, to fake a file of another kind."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes(magic if magic is not None else [0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path, array, gz=False):
    """Write ``array`` as an IDX file at ``path`` (gzipped at ``path`` + ".gz" with ``gz``);
    returns the path written."""
    blob = idx_bytes(array)
    if gz:
        path, blob = path.with_name(path.name + ".gz"), gzip.compress(blob)
    path.write_bytes(blob)
    return path


def write_fake_mnist(root, n_train=20, n_test=8, gz=False, seed=0):
    """Four valid MNIST IDX files of random digits under ``root``, in torchvision's layout
    (``<root>/MNIST/raw``). Returns ``(arrays, paths)``, both keyed like ``MNIST_FILES``."""
    raw = mnist_raw_dir(root)
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28)),
              "train_labels": rng.integers(0, 10, n_train),
              "test_images": rng.integers(0, 256, (n_test, 28, 28)),
              "test_labels": rng.integers(0, 10, n_test)}
    paths = {key: write_idx(raw / name, arrays[key], gz=gz) for key, name in MNIST_FILES.items()}
    return arrays, paths


def tiny_vae(seed=0, latent_dim=3, image_shape=(1, 6, 6), cls=VAE):
    """A seeded model (a VAE, or ``cls``) small enough to train, save and load in milliseconds."""
    torch.manual_seed(seed)
    return cls(latent_dim=latent_dim, hidden=8, image_shape=image_shape)
