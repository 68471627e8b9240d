"""A VAE whose decoder can model the pixels without z: the setting where posterior collapse is real.

``PixelVAE`` is the course's MLP VAE with one addition to the decoder. Besides the logits that
come from z, every pixel also gets a logit computed from the pixels *above it and to its left* in
the same image (a masked convolution, as in PixelCNN, van den Oord et al., 2016):

    logit_i = f(z)_i + g(x_<i)_i          p(x|z) = Π_i Bernoulli(x_i; sigmoid(logit_i))

Because pixel i never sees itself or anything after it, p(x|z) is still a proper distribution,
and the loss is the same Bernoulli −log p(x|z) + KL as for every other VAE of the course, so
``vae_course.train.fit`` trains it unchanged. Training uses the real image for x_<i ("teacher
forcing"); generating a new image would need one pass per pixel, which this course never does.

The point of the model: g alone already predicts a pixel well from its neighbours, so the
decoder has a way to do well that does not need z, and the KL term pushes z towards the prior.
"""

import torch
from torch import nn

from .models import VAE


class MaskedConv2d(nn.Conv2d):
    """A convolution that only sees pixels above, and to the left in the same row.

    Mask "A" (the first layer of PixelCNN) also hides the centre pixel itself, so the output at
    pixel i depends only on pixels that come before i in raster order.
    """

    def __init__(self, in_channels, out_channels, kernel_size, include_centre=False):
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size: expected an odd int, got {kernel_size!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        mask = torch.zeros(kernel_size, kernel_size)
        centre = kernel_size // 2
        mask[:centre, :] = 1  # every row above
        mask[centre, :centre + (1 if include_centre else 0)] = 1  # left part of the centre row
        self.register_buffer("mask", mask[None, None].expand_as(self.weight).clone())

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class PixelVAE(VAE):
    """The MLP VAE plus an autoregressive path from x_<i to pixel i in the decoder.

    ``context_channels`` and ``kernel_size`` set how strong that path is: one masked
    ``kernel_size``×``kernel_size`` convolution to ``context_channels`` feature maps, a ReLU and a
    1×1 convolution to one logit per pixel.
    """

    def __init__(self, latent_dim=16, hidden=256, image_shape=(1, 28, 28), kernel_size=7,
                 context_channels=16):
        super().__init__(latent_dim, hidden, image_shape, arch="mlp")
        c = image_shape[0]
        self.pixel_context = nn.Sequential(
            MaskedConv2d(c, context_channels, kernel_size), nn.ReLU(),
            nn.Conv2d(context_channels, c, 1))

    def decode(self, z, x):
        """Logits of p(x|z): the MLP decoder's logits plus those predicted from x_<i."""
        return self.decoder(z) + self.pixel_context(x)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z, x), mu, logvar

    def sample(self, n, device=None):
        raise NotImplementedError("PixelVAE.sample: drawing an image needs one decoder pass per "
                                  "pixel (784 for MNIST); this course only trains and scores "
                                  "this model")
