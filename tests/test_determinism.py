"""Determinism on the CPU: the same seed gives the same numbers, bit for bit, and a different
seed gives different ones (so these tests can fail)."""

import random

import numpy as np
import pytest
import torch

from vae_course.classifier import train_classifier
from vae_course.data import _load_subset, load_mnist
from vae_course.device import seed_everything
from vae_course.models import VAE, Autoencoder
from vae_course.sprites import make_sprites
from vae_course.train import evaluate, fit


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(quiet=True)


def run(make, mnist, seed, **kwargs):
    """Small on purpose (the machine running the tests may be busy): 25 steps of 32 digits,
    cropped to 12x12 for the convolutional model."""
    torch.manual_seed(seed)  # the initial weights
    model = make()
    torch.rand(7)  # global RNG use in between must not matter: fit reseeds
    x_train, x_test = mnist.x_train[:256], mnist.x_test[:64]
    if model.image_shape == (1, 12, 12):
        x_train, x_test = x_train[:, :, 8:20, 8:20], x_test[:, :, 8:20, 8:20]
    history = fit(model, x_train, x_test, steps=25, batch_size=32, seed=seed, device="cpu",
                  progress=False, eval_every=10, **kwargs)
    return history, model


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(),
                                                  b.state_dict().values()))


@pytest.mark.parametrize("make", [lambda: VAE(4, 32), lambda: Autoencoder(2, 32),
                                  lambda: VAE(3, 16, image_shape=(1, 12, 12), arch="conv")],
                         ids=["vae", "autoencoder", "conv-vae"])
def test_fit_twice_with_the_same_seed_is_identical(mnist, make):
    h1, m1 = run(make, mnist, seed=3, beta=0.5)
    h2, m2 = run(make, mnist, seed=3, beta=0.5)
    for name in ("step", "loss", "recon", "kl", "beta", "eval_step", "test_nelbo"):
        assert getattr(h1, name) == getattr(h2, name), name
    assert h1.images_seen == h2.images_seen
    assert same_weights(m1, m2)
    h3, m3 = run(make, mnist, seed=4, beta=0.5)
    assert h3.loss != h1.loss and not same_weights(m1, m3)


def test_evaluate_repeats_and_leaves_the_global_random_state_alone(mnist):
    torch.manual_seed(0)
    model = VAE(4, 32)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = evaluate(model, mnist.x_test[:300])
    assert torch.equal(torch.rand(3), expected_next)  # evaluate forked the RNG
    b = evaluate(model, mnist.x_test[:300])
    assert a == b
    assert evaluate(model, mnist.x_test[:300], seed=1) != a


def test_sprites_are_the_same_every_time():
    a, b = make_sprites(size=16, n_positions=4), make_sprites(size=16, n_positions=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.factors, b.factors)
    c = make_sprites(size=16, n_positions=4, y_span=1.0)  # same grid, y spread wider
    assert c.images.shape == a.images.shape and torch.equal(a.factors, c.factors)
    assert not torch.equal(a.images, c.images)


def test_the_mnist_subset_split_is_fixed(tmp_path):
    first, second = _load_subset(), _load_subset()  # parsed twice, no cache in between
    for x, y in zip(first, second):
        assert torch.equal(x, y)
    x_train, y_train, x_test, y_test = first
    assert len(x_train) == 4000 and len(x_test) == 1000
    # and through the public loader, from two different (empty) data folders
    a = load_mnist(tmp_path / "a", quiet=True)
    assert a.source == "subset"
    assert torch.equal(a.x_train, x_train) and torch.equal(a.y_test, y_test)


def test_the_digit_ruler_trains_the_same_twice(mnist):
    x, y = mnist.x_train[:64], mnist.y_train[:64]
    a = train_classifier(x, y, steps=3, batch_size=16, seed=0, device="cpu")
    b = train_classifier(x, y, steps=3, batch_size=16, seed=0, device="cpu")
    c = train_classifier(x, y, steps=3, batch_size=16, seed=1, device="cpu")
    assert same_weights(a, b) and not same_weights(a, c)


def test_seed_everything_seeds_python_numpy_and_torch():
    seed_everything(11)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(11)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    seed_everything(12)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != first
