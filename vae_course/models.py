"""The networks of the course: a plain autoencoder and a VAE, with MLP or convolutional parts.

Conventions used everywhere in the course:

* images are (N, C, H, W) float tensors in [0, 1];
* ``encode(x)`` of a VAE returns ``(mu, logvar)``, the mean and log-variance of q(z|x);
* ``decode(z)`` returns *logits* of the pixel probabilities (apply ``torch.sigmoid`` to see an
  image); the losses take logits because that is numerically safer than probabilities.
"""

import math

import torch
from torch import nn

from .argcheck import check_int, check_tensor, describe, fail


class MLPEncoder(nn.Module):
    """Flatten the image, one hidden ReLU layer, then a linear layer to ``out_dim`` numbers."""

    def __init__(self, image_shape, hidden, out_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(image_shape), hidden),
                                 nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x):
        return self.net(x)


class MLPDecoder(nn.Module):
    """Latent code -> one hidden ReLU layer -> one logit per pixel, shaped like the image."""

    def __init__(self, image_shape, hidden, latent_dim):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, math.prod(image_shape)))

    def forward(self, z):
        return self.net(z).view(-1, *self.image_shape)


class ConvEncoder(nn.Module):
    """Two stride-2 convolutions (H -> H/4), then a linear layer to ``out_dim`` numbers."""

    def __init__(self, image_shape, hidden, out_dim, channels=32):
        super().__init__()
        c, h, w = image_shape
        _check_divisible_by_4(h, w)
        self.net = nn.Sequential(
            nn.Conv2d(c, channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * channels * (h // 4) * (w // 4), hidden), nn.ReLU(),
            nn.Linear(hidden, out_dim))

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    """Linear layer to a (2·channels, H/4, W/4) map, then two stride-2 transposed convolutions."""

    def __init__(self, image_shape, hidden, latent_dim, channels=32):
        super().__init__()
        c, h, w = image_shape
        _check_divisible_by_4(h, w)
        self.start = (2 * channels, h // 4, w // 4)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, math.prod(self.start)), nn.ReLU(),
            nn.Unflatten(1, self.start),
            nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(channels, c, 4, stride=2, padding=1))

    def forward(self, z):
        return self.net(z)


def _check_divisible_by_4(h, w):
    if h % 4 or w % 4:
        raise ValueError(f"image_shape: the convolutional parts need height and width divisible "
                         f"by 4, got {h}x{w}; use arch='mlp' or pad the images")


def _parts(arch, image_shape, hidden, out_dim, latent_dim):
    if arch == "mlp":
        return (MLPEncoder(image_shape, hidden, out_dim),
                MLPDecoder(image_shape, hidden, latent_dim))
    if arch == "conv":
        return (ConvEncoder(image_shape, hidden, out_dim),
                ConvDecoder(image_shape, hidden, latent_dim))
    raise ValueError(f"arch: expected 'mlp' or 'conv', got {arch!r}")


def _check_shape(image_shape, latent_dim, hidden):
    if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 3
            and all(isinstance(s, int) and s > 0 for s in image_shape)):
        raise ValueError(f"image_shape: expected (channels, height, width) of positive ints, "
                         f"got {image_shape!r}")
    for name, value in (("latent_dim", latent_dim), ("hidden", hidden)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")


def _check_input_images(model, x):
    """encode(x): a float batch (N, C, H, W) shaped like the model's images, on its device.
    Shape, dtype and device only (attribute reads): cheap enough for every forward pass."""
    check_tensor("x", x, ndim=4, layout="(N, C, H, W); for one image use x[i:i+1]")
    if tuple(x.shape[1:]) != model.image_shape:
        fail("x", f"images of shape (C, H, W) = {model.image_shape}", describe(x))
    _check_device(model, "x", x)


def _check_codes(model, z):
    """decode(z): float latent codes whose last dimension is latent_dim, on the model's device."""
    check_tensor("z", z, min_ndim=1, layout="(batch, latent_dim)")
    if z.shape[-1] != model.latent_dim:
        fail("z", f"codes with latent_dim = {model.latent_dim} in the last dimension",
             describe(z))
    _check_device(model, "z", z)


def _check_device(model, name, t):
    for p in model.parameters():
        if p.device != t.device:
            fail(name, f"a tensor on the model's device {p.device} (move it with "
                 f".to({str(p.device)!r}))", describe(t) + f" on {t.device}")
        return


class Autoencoder(nn.Module):
    """A deterministic autoencoder: x -> z (a point) -> logits of x̂."""

    def __init__(self, latent_dim=2, hidden=400, image_shape=(1, 28, 28), arch="mlp"):
        super().__init__()
        _check_shape(image_shape, latent_dim, hidden)
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        self.encoder, self.decoder = _parts(arch, image_shape, hidden, latent_dim, latent_dim)

    def encode(self, x):
        _check_input_images(self, x)
        return self.encoder(x)

    def decode(self, z):
        _check_codes(self, z)
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """A variational autoencoder with a diagonal Gaussian q(z|x) and a N(0, I) prior.

    The encoder outputs 2·latent_dim numbers: the first half is mu, the second log sigma².
    ``forward`` samples one z per image with the reparameterisation trick and returns
    ``(logits, mu, logvar)``.
    """

    def __init__(self, latent_dim=20, hidden=400, image_shape=(1, 28, 28), arch="mlp"):
        super().__init__()
        _check_shape(image_shape, latent_dim, hidden)
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        self.encoder, self.decoder = _parts(arch, image_shape, hidden, 2 * latent_dim,
                                            latent_dim)

    def encode(self, x):
        _check_input_images(self, x)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    @staticmethod
    def reparameterize(mu, logvar):
        # z = mu + sigma * eps with eps ~ N(0, I): the randomness sits in eps, so gradients flow
        # to mu and sigma.
        if not (isinstance(mu, torch.Tensor) and isinstance(logvar, torch.Tensor)
                and mu.shape == logvar.shape):
            raise ValueError(f"mu and logvar: expected two tensors of the same shape, got "
                             f"{describe(mu)} and {describe(logvar)}")
        eps = torch.randn_like(mu)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z):
        _check_codes(self, z)
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n, device=None):
        """Decode ``n`` draws from the prior N(0, I); returns images in [0, 1]."""
        n = check_int("n", n, low=1)
        device = device or next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, device=device)
        return torch.sigmoid(self.decode(z))
