"""Known-answer tests of the VAE objective against torch.distributions."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence as td_kl

from vae_course.losses import (elbo_loss, free_bits_kl, iwae_bound, kl_divergence,
                               kl_per_dimension, reconstruction_loss)
from vae_course.models import VAE


def test_closed_form_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(64, 16, generator=g) * 2
    logvar = torch.randn(64, 16, generator=g) * 1.5
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = td_kl(q, p).sum(dim=1)
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5, rtol=1e-5)
    assert torch.allclose(kl_per_dimension(mu, logvar), td_kl(q, p).mean(0), atol=1e-5)


def test_kl_is_zero_exactly_at_the_prior():
    assert torch.equal(kl_divergence(torch.zeros(3, 5), torch.zeros(3, 5)), torch.zeros(3))


def test_bernoulli_reconstruction_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(8, 1, 28, 28, generator=g) * 3
    x = (torch.rand(8, 1, 28, 28, generator=g) > 0.5).float()
    expected = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(reconstruction_loss(logits, x), expected, atol=1e-4)


def test_gaussian_reconstruction_is_a_true_negative_log_density():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 1, 6, 6, generator=g)
    x = torch.rand(4, 1, 6, 6, generator=g)
    for sigma in (1.0, 0.1):
        expected = -Normal(torch.sigmoid(logits), sigma).log_prob(x).flatten(1).sum(1)
        got = reconstruction_loss(logits, x, "gaussian", sigma=sigma)
        assert torch.allclose(got, expected, atol=1e-4)


def test_unknown_likelihood_and_shape_mismatch_are_rejected():
    with pytest.raises(ValueError, match="likelihood"):
        reconstruction_loss(torch.zeros(2, 4), torch.zeros(2, 4), "poisson")
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_loss(torch.zeros(2, 4), torch.zeros(2, 5))


def test_elbo_loss_follows_the_course_convention():
    """Sum over pixels and latent dims, mean over the batch; beta weights only the KL."""
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(5, 1, 4, 4, generator=g)
    x = torch.rand(5, 1, 4, 4, generator=g)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    terms = elbo_loss(logits, x, mu, logvar, beta=4.0)
    recon = reconstruction_loss(logits, x).mean()
    kl = kl_divergence(mu, logvar).mean()
    assert torch.allclose(terms.recon, recon) and torch.allclose(terms.kl, kl)
    assert torch.allclose(terms.loss, recon + 4.0 * kl)
    # Doubling the batch with copies leaves every term unchanged (mean over the batch)...
    double = elbo_loss(torch.cat([logits] * 2), torch.cat([x] * 2), torch.cat([mu] * 2),
                       torch.cat([logvar] * 2), beta=4.0)
    assert torch.allclose(double.loss, terms.loss)
    # ...while the reconstruction of a 16-pixel image is 16 times its per-pixel mean (sum).
    per_pixel = torch.nn.functional.binary_cross_entropy_with_logits(logits, x)
    assert torch.allclose(terms.recon, per_pixel * 16, rtol=1e-5)


def test_free_bits_only_raises_dimensions_below_the_floor():
    mu = torch.tensor([[3.0, 0.0], [3.0, 0.0]])
    logvar = torch.zeros(2, 2)
    per_dim = kl_per_dimension(mu, logvar)  # [4.5, 0.0]
    assert torch.allclose(per_dim, torch.tensor([4.5, 0.0]))
    assert torch.allclose(free_bits_kl(mu, logvar, 0.5), torch.tensor(5.0))
    terms = elbo_loss(torch.zeros(2, 3), torch.zeros(2, 3), mu, logvar, free_bits=0.5)
    assert torch.allclose(terms.kl, torch.tensor(4.5))  # the reported KL is the true one
    assert torch.allclose(terms.loss - terms.recon, torch.tensor(5.0))


def _small_trained_vae():
    torch.manual_seed(0)
    model = VAE(latent_dim=4, hidden=32, image_shape=(1, 6, 6))
    x = (torch.rand(64, 1, 6, 6) > 0.5).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        logits, mu, logvar = model(x)
        loss = elbo_loss(logits, x, mu, logvar).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), x


def test_iwae_bound_is_above_the_elbo_and_rises_with_k():
    model, x = _small_trained_vae()
    torch.manual_seed(1)
    bounds = {k: torch.stack([iwae_bound(model, x, k=k).mean() for _ in range(20)]).mean()
              for k in (1, 10, 100)}
    with torch.no_grad():
        elbos = []
        for _ in range(20):
            logits, mu, logvar = model(x)
            elbos.append(-elbo_loss(logits, x, mu, logvar).loss)
    elbo = torch.stack(elbos).mean()
    assert abs(bounds[1] - elbo) < 0.5, (bounds[1], elbo)  # L_1 is the ELBO
    assert bounds[10] >= elbo
    assert bounds[1] <= bounds[10] <= bounds[100]


def test_iwae_bound_chunks_give_the_same_distribution():
    model, x = _small_trained_vae()
    torch.manual_seed(2)
    whole = iwae_bound(model, x, k=64).mean()
    torch.manual_seed(2)
    chunked = iwae_bound(model, x, k=64, chunk=16).mean()
    assert math.isclose(whole.item(), chunked.item(), abs_tol=0.5)
