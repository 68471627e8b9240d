"""Small fakes shared by the test files (``from fakes import ...``): MNIST's IDX files, a tiny
VAE, and the layers of the wrong modules the tests of exercises 01 and 03 build, one of each for
the whole suite."""

import gzip

import numpy as np
import torch
from torch import nn

from vae_course.data import MNIST_FILES, mnist_raw_dir
from vae_course.models import VAE

IMAGE_PIXELS = 28 * 28


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


def mlp_layers(latent_dim, hidden, code_size, mistakes, decoder_in=None):
    """The layers of the course's MLP module, as lists for ``nn.Sequential``: an encoder
    784 → ``hidden`` → ``code_size`` and a decoder ``decoder_in`` (default ``latent_dim``) →
    ``hidden`` → 784 logits; the wrong autoencoders and VAEs of the exercise 01 and 03 tests
    build on it. ``mistakes`` switches on the structural ones both checks name: fixed_hidden
    (a number used whatever ``hidden`` says), no_bias, no_activation, extra_layer (one more
    hidden-to-hidden layer), code_is_hidden (the encoder stops at the hidden layer),
    relu_on_code, sigmoid (after the logits). Layers are made in the same order whatever is on,
    so a seed gives the same weights."""
    hidden = mistakes.get("fixed_hidden", hidden)
    bias = not mistakes.get("no_bias")
    act = nn.Identity if mistakes.get("no_activation") else nn.ReLU
    encoder = [nn.Flatten(), nn.Linear(IMAGE_PIXELS, hidden, bias=bias), act()]
    if mistakes.get("extra_layer"):
        encoder += [nn.Linear(hidden, hidden), act()]
    if not mistakes.get("code_is_hidden"):
        encoder += [nn.Linear(hidden, code_size, bias=bias)]
    if mistakes.get("relu_on_code"):
        encoder += [nn.ReLU()]
    decoder = [nn.Linear(latent_dim if decoder_in is None else decoder_in, hidden, bias=bias),
               act(), nn.Linear(hidden, IMAGE_PIXELS, bias=bias)]
    if mistakes.get("sigmoid"):
        decoder += [nn.Sigmoid()]
    return encoder, decoder


def wrong_module_rows(factory, prefix):
    """Rows (label, class, mistake code) of the structural mistakes an autoencoder and a VAE
    share, built with ``factory(**mistakes)``; ``prefix`` is the exercise's ("ae" or "vae").
    The checks name them with one shared function too (``checks.nn_module.diagnose_count``)."""
    return [
        ("decode not reshaped", factory(no_reshape=True), f"{prefix}.decode_not_reshaped"),
        ("sigmoid in decode", factory(sigmoid=True), f"{prefix}.sigmoid_in_model"),
        ("no activation", factory(no_activation=True), f"{prefix}.no_activation"),
        ("an unused layer", factory(unused_layer=True), "grad.unused_parameter"),
        ("hidden hard-coded", factory(fixed_hidden=400), f"{prefix}.hidden_ignored"),
        ("no bias", factory(no_bias=True), f"{prefix}.no_bias"),
        ("an extra layer", factory(extra_layer=True), f"{prefix}.extra_layer"),
    ]
