"""Per-image anomaly scores from a model trained on normal data only (notebook 06).

Higher score = more anomalous. Both are in nats per image (summed over pixels), one per image:

    reconstruction error   −log p(x | z = μ(x))        (the code itself for an autoencoder)
    −ELBO                  E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I))

The reconstruction error asks "can the model redraw this image?"; −ELBO also charges for how far
the image's code sits from where the prior expects codes, so it is an upper bound on −log p(x).
Use either with ``vae_course.metrics.auroc`` (labels: 1 = anomaly, 0 = normal).
"""

import torch

from .losses import kl_divergence, reconstruction_loss
from .train import is_vae
from .argcheck import check_int, check_module, check_tensor


def _batches(model, x, batch_size):
    device = next(model.parameters()).device
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size].to(device)


def _check(x, model=None, batch_size=1):
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x: expected an image tensor (N, C, H, W), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    check_tensor("x", x, ndim=4, layout="(N, C, H, W): an image tensor")  # float, not empty
    if model is not None:
        check_module("model", model, methods=("encode", "decode"))
    check_int("batch_size", batch_size, low=1)


@torch.no_grad()
def reconstruction_error(model, x, likelihood="bernoulli", batch_size=1000):
    """−log p(x | z) per image with z = μ(x) (a VAE) or the code (an autoencoder). Shape (N,).

    Deterministic: no sampling, so the same image always gets the same score.
    """
    _check(x, model, batch_size)
    was_training = model.training
    model.eval()
    out = []
    for xb in _batches(model, x, batch_size):
        if is_vae(model):
            mu, _ = model.encode(xb)
            logits = model.decode(mu)
        else:
            logits = model(xb)
        out.append(reconstruction_loss(logits, xb, likelihood).cpu())
    model.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def negative_elbo(model, x, samples=1, likelihood="bernoulli", batch_size=1000, seed=0):
    """−ELBO per image, in nats: reconstruction with z ~ q(z|x), averaged over ``samples``
    draws, plus the closed-form KL. Shape (N,). Seeded, so the scores repeat.
    """
    _check(x, model, batch_size)
    if not is_vae(model):
        raise TypeError("negative_elbo needs a VAE (a model with encode -> (mu, logvar)); for an "
                        "autoencoder use reconstruction_error")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples: expected a positive int, got {samples!r}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    out = []
    for xb in _batches(model, x, batch_size):
        mu, logvar = model.encode(xb)
        std = torch.exp(0.5 * logvar)
        recon = torch.zeros(len(xb), device=device)
        for _ in range(samples):
            eps = torch.randn(mu.shape, generator=generator).to(device)
            recon += reconstruction_loss(model.decode(mu + std * eps), xb, likelihood)
        out.append((recon / samples + kl_divergence(mu, logvar)).cpu())
    model.train(was_training)
    return torch.cat(out)
