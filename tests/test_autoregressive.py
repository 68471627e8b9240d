"""The autoregressive decoder of notebook 04: each pixel's logit may depend only on earlier pixels."""

import pytest
import torch

from vae_course.autoregressive import MaskedConv2d, PixelVAE
from vae_course.models import VAE
from vae_course.train import evaluate, fit


def _jacobian(fn, x):
    """d fn(x)[i] / d x[j] for flattened single images: shape (pixels, pixels)."""
    return torch.autograd.functional.jacobian(lambda v: fn(v.view_as(x)).flatten(),
                                              x.flatten())


@pytest.mark.parametrize("kernel_size", [3, 5, 7])
@pytest.mark.parametrize("include_centre", [False, True])
def test_masked_conv_sees_only_pixels_before_it(kernel_size, include_centre):
    torch.manual_seed(0)
    conv = MaskedConv2d(1, 1, kernel_size, include_centre=include_centre)
    with torch.no_grad():
        conv.weight.normal_()  # no weight exactly zero, so a nonzero mask shows up in J
    x = torch.rand(1, 1, 6, 6)
    jac = _jacobian(conv, x)
    n = jac.shape[0]
    later = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=0 if not include_centre else 1)
    assert torch.all(jac[later] == 0), "an output pixel depends on itself or a later pixel"
    # ... and it does see its left neighbour and the pixel above it
    i = 2 * 6 + 3  # row 2, column 3
    assert jac[i, i - 1] != 0 and jac[i, i - 6] != 0
    assert (jac[i, i] != 0) == include_centre


def test_masked_conv_rejects_even_kernels():
    with pytest.raises(ValueError, match="kernel_size"):
        MaskedConv2d(1, 4, 4)


def test_pixel_vae_decoder_is_autoregressive_and_uses_z():
    torch.manual_seed(0)
    model = PixelVAE(latent_dim=3, hidden=16, image_shape=(1, 8, 8), context_channels=4)
    x = torch.rand(1, 1, 8, 8)
    z = torch.randn(1, 3)
    jac = _jacobian(lambda v: model.decode(z, v), x)
    assert torch.all(jac[torch.triu(torch.ones(64, 64, dtype=torch.bool))] == 0)
    assert jac.abs().sum() > 0
    # the logits change with z: the decoder has a path from the latent code
    assert not torch.allclose(model.decode(z, x), model.decode(z + 1.0, x))


def test_pixel_vae_shapes_and_no_sampling():
    model = PixelVAE(latent_dim=4, hidden=32)
    x = torch.rand(5, 1, 28, 28)
    logits, mu, logvar = model(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (5, 4)
    with pytest.raises(NotImplementedError, match="pixel"):
        model.sample(2)


def test_fit_trains_the_pixel_path_where_a_plain_vae_cannot_follow():
    # Each row of an image is one random bit repeated 8 times. A decoder that sees the pixels to
    # the left predicts 7 of every 8 pixels, so it needs only about 8 · log 2 ≈ 5.5 nats per
    # image; the plain VAE must squeeze 8 random bits through 2 latent dimensions and stays far
    # above that with the same budget.
    torch.manual_seed(0)
    x = (torch.rand(512, 1, 8, 1) < 0.5).float().expand(512, 1, 8, 8).contiguous()
    losses = {}
    for model in (PixelVAE(latent_dim=2, hidden=16, image_shape=(1, 8, 8), kernel_size=3,
                           context_channels=4),
                  VAE(latent_dim=2, hidden=16, image_shape=(1, 8, 8))):
        fit(model, x, steps=200, batch_size=64, lr=1e-2, progress=False, device="cpu")
        losses[type(model).__name__] = evaluate(model, x)
    assert losses["PixelVAE"] < 12, losses
    assert losses["VAE"] > losses["PixelVAE"] + 10, losses
