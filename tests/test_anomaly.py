"""Known answers for vae_course.anomaly, using tiny models whose outputs we control."""

import math

import pytest
import torch
from torch import nn

from vae_course import anomaly
from vae_course.anomaly import negative_elbo, reconstruction_error
from vae_course.models import VAE, Autoencoder


class FixedVAE(nn.Module):
    """q(z|x) = N(mu0, exp(logvar0)) for every image; the decoder ignores z except through
    ``slope`` (0 = constant logits)."""

    def __init__(self, mu0, logvar0, logit=0.0, slope=0.0, pixels=4):
        super().__init__()
        self.mu0, self.logvar0 = torch.tensor(mu0), torch.tensor(logvar0)
        self.logit, self.slope, self.pixels = logit, slope, pixels
        self.dummy = nn.Parameter(torch.zeros(()))  # gives the model a device

    def encode(self, x):
        n = len(x)
        return self.mu0.expand(n, -1), self.logvar0.expand(n, -1)

    @staticmethod
    def reparameterize(mu, logvar):  # marks it as a VAE
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decode(self, z):
        logits = self.logit + self.slope * z.sum(1, keepdim=True)
        return logits.view(-1, 1, 1, 1).expand(-1, 1, 1, self.pixels)


def test_reconstruction_error_known_answer():
    # logit 0 -> every pixel has probability 1/2 -> log 2 nats per pixel whatever x is
    model = FixedVAE([0.0], [0.0], logit=0.0, pixels=4)
    x = torch.tensor([[[[0.0, 1.0, 1.0, 0.0]]], [[[0.3, 0.3, 0.3, 0.3]]]])
    assert torch.allclose(reconstruction_error(model, x), torch.full((2,), 4 * math.log(2)))


def test_reconstruction_error_ranks_the_badly_drawn_image_higher():
    model = FixedVAE([0.0], [0.0], logit=-5.0, pixels=4)  # always draws a dark image
    dark, bright = torch.zeros(1, 1, 1, 4), torch.ones(1, 1, 1, 4)
    scores = reconstruction_error(model, torch.cat([dark, bright]))
    assert scores[1] > scores[0] + 10


def test_negative_elbo_is_recon_plus_kl_when_decoder_ignores_z():
    mu, logvar = [1.0, -2.0], [0.5, -1.0]
    model = FixedVAE(mu, logvar, logit=0.0, pixels=4)
    kl = -0.5 * sum(1 + lv - m * m - math.exp(lv) for m, lv in zip(mu, logvar))
    x = torch.rand(3, 1, 1, 4)
    expected = 4 * math.log(2) + kl
    assert torch.allclose(negative_elbo(model, x, samples=3), torch.full((3,), expected),
                          atol=1e-5)


def test_negative_elbo_samples_z_and_is_seeded():
    model = FixedVAE([0.0], [0.0], logit=0.0, slope=3.0, pixels=4)  # decoder depends on z
    x = torch.ones(50, 1, 1, 4)
    a, b = negative_elbo(model, x, seed=1), negative_elbo(model, x, seed=1)
    assert torch.equal(a, b)
    assert not torch.equal(a, negative_elbo(model, x, seed=2))
    assert a.std() > 0.1  # one sample of z per image: scores vary between images
    # more samples average the noise away
    assert negative_elbo(model, x, samples=64).std() < a.std() / 3


def test_reconstruction_error_uses_mu_not_a_sample():
    model = FixedVAE([0.0], [4.0], logit=0.0, slope=3.0, pixels=4)  # wide q: samples vary
    x = torch.ones(20, 1, 1, 4)
    scores = reconstruction_error(model, x)
    assert torch.allclose(scores, torch.full((20,), 4 * math.log(2)))


def test_real_models_give_one_finite_score_per_image():
    torch.manual_seed(0)
    x = torch.rand(7, 1, 28, 28)
    vae, ae = VAE(latent_dim=3, hidden=16), Autoencoder(latent_dim=3, hidden=16)
    for scores in (reconstruction_error(vae, x, batch_size=3), reconstruction_error(ae, x),
                   negative_elbo(vae, x, batch_size=3)):
        assert scores.shape == (7,) and torch.isfinite(scores).all()
    # batching does not change the answer
    assert torch.allclose(reconstruction_error(vae, x, batch_size=3),
                          reconstruction_error(vae, x, batch_size=100), atol=1e-4)


def test_errors():
    ae = Autoencoder(latent_dim=2, hidden=8)
    with pytest.raises(TypeError, match="VAE"):
        negative_elbo(ae, torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="samples"):
        negative_elbo(VAE(latent_dim=2, hidden=8), torch.rand(2, 1, 28, 28), samples=0)
    with pytest.raises(ValueError, match="image tensor"):
        reconstruction_error(ae, torch.rand(2, 784))


def test_negative_elbo_of_a_trained_vae_averages_to_its_elbo():
    """The anomaly score of notebook 06 and of the bench: per image, it averages to the −ELBO
    that ``evaluate`` reports (one-sample evaluate is noisier, not biased)."""
    from vae_course.data import load_mnist
    from vae_course.train import evaluate, fit

    data = load_mnist(quiet=True)
    torch.manual_seed(0)
    model = VAE(8, 64)
    fit(model, data.x_train[:512], steps=50, device="cpu", progress=False)
    x = data.x_test[:300]
    scores = negative_elbo(model, x, samples=16)
    assert scores.shape == (300,) and torch.isfinite(scores).all()
    assert abs(scores.mean().item() - evaluate(model, x)) < 2.0
    assert torch.equal(scores, negative_elbo(model, x, samples=16))  # seeded


# --- complexity correction and baselines ------------------------------------------------------

def test_a_blank_image_is_cheaper_for_png_and_zlib_than_noise():
    g = torch.Generator().manual_seed(0)
    blank, noise = torch.zeros(1, 1, 28, 28), torch.rand(1, 1, 28, 28, generator=g)
    for length in (anomaly.png_code_length, anomaly.zlib_code_length):
        short, long = length(blank).item(), length(noise).item()
        assert 0 < short < 0.2 * long
        # 784 random bytes cannot be compressed below 784 bytes = 784·8·ln 2 nats
        assert long > 784 * 8 * math.log(2) * 0.95


def test_fitted_slope_recovers_a_known_line():
    covariate = torch.arange(10.0)
    assert anomaly.fitted_slope(3.0 + 0.25 * covariate, covariate) == pytest.approx(0.25)


def test_complexity_correction_subtracts_the_weighted_length():
    out = anomaly.complexity_corrected(torch.tensor([10.0, 20.0]), torch.tensor([4.0, 8.0]), 0.5)
    assert torch.equal(out, torch.tensor([8.0, 16.0]))


def test_pca_error_is_zero_inside_the_span_and_positive_outside():
    g = torch.Generator().manual_seed(0)
    basis = torch.randn(3, 16, generator=g)
    normal = (torch.randn(200, 3, generator=g) @ basis).view(200, 1, 4, 4)
    inside = (torch.randn(5, 3, generator=g) @ basis).view(5, 1, 4, 4)
    outside = torch.randn(5, 1, 4, 4, generator=g)
    assert anomaly.pca_error(normal, inside, components=3).max() < 1e-8
    assert anomaly.pca_error(normal, outside, components=3).min() > 1e-3


def test_knn_distance_finds_the_nearest_normal_image():
    normal = torch.tensor([0.0, 1.0, 3.0]).view(3, 1, 1, 1)
    x = torch.tensor([0.5, 2.9]).view(2, 1, 1, 1)
    assert torch.allclose(anomaly.knn_distance(normal, x), torch.tensor([0.5, 0.1]).double())
    assert torch.allclose(anomaly.knn_distance(normal, normal, exclude_self=True),
                          torch.tensor([1.0, 1.0, 2.0]).double())
