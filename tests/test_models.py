"""Shapes and conventions of the course's models."""

import pytest
import torch

from vae_course.models import VAE, Autoencoder


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32)])
def test_vae_shapes(arch, shape):
    model = VAE(latent_dim=6, hidden=64, image_shape=shape, arch=arch)
    x = torch.rand(5, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 6)
    logits, mu2, _ = model(x)
    assert logits.shape == x.shape
    assert model.decode(mu).shape == x.shape
    assert model.sample(3).shape == (3, *shape)
    assert 0 <= model.sample(3).min() and model.sample(3).max() <= 1


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_autoencoder_shapes(arch):
    model = Autoencoder(latent_dim=2, hidden=32, arch=arch)
    x = torch.rand(4, 1, 28, 28)
    assert model.encode(x).shape == (4, 2)
    assert model(x).shape == x.shape


def test_reparameterisation_lets_gradients_reach_mu_and_logvar():
    mu = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.zeros(3, 2, requires_grad=True)
    VAE.reparameterize(mu, logvar).sum().backward()
    assert mu.grad is not None and logvar.grad is not None
    assert torch.all(mu.grad == 1)


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="arch"):
        VAE(arch="transformer")
    with pytest.raises(ValueError, match="divisible by 4"):
        VAE(image_shape=(1, 30, 30), arch="conv")
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(latent_dim=0)
