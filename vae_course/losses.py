"""The VAE objective, term by term.

Loss convention of the whole course: **sum** over pixels and over latent dimensions, **mean** over
the batch. Every number is therefore in *nats per image*.

    −ELBO(x) = E_q[−log p(x|z)]  +  KL(q(z|x) ‖ N(0, I))
               reconstruction       closed form: −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
"""

import math
from collections import namedtuple

import torch
import torch.nn.functional as F

from .argcheck import (check_choice, check_int, check_module, check_number, check_same_device,
                       check_same_shape, check_tensor, check_values)

LossTerms = namedtuple("LossTerms", "loss recon kl")
LossTerms.__doc__ = "Batch means in nats per image: loss = recon + beta * kl (or free-bits kl)."

LIKELIHOODS = ("bernoulli", "gaussian")


def reconstruction_loss(logits, x, likelihood="bernoulli", sigma=1.0):
    """−log p(x|z) per image, summed over pixels. Returns shape (batch,).

    bernoulli: each pixel is a coin with probability sigmoid(logit); the loss is binary
        cross-entropy on logits (stable even for large logits). Needs x in [0, 1].
    gaussian: each pixel is N(sigmoid(logit), sigma²); the loss is the squared error / (2σ²)
        plus the constant log(σ·√(2π)) per pixel, so it is a true negative log-density.
    """
    _check_recon_inputs(logits, x, likelihood, sigma)
    return _reconstruction(logits, x, likelihood, sigma)


def _check_recon_inputs(logits, x, likelihood, sigma=1.0):
    check_tensor("logits", logits, min_ndim=2, layout="(batch, ...)")
    check_tensor("x", x, min_ndim=2, layout="(batch, ...)")
    if logits.shape != x.shape:  # the wording older callers match on: "same shape"
        raise ValueError(f"logits and x: expected the same shape, got logits "
                         f"{tuple(logits.shape)} and x {tuple(x.shape)}")
    check_same_device("logits", logits, "x", x)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    if likelihood == "bernoulli":
        check_values(finite={"logits": logits}, unit={"x": x},
                     hints={"x": " (the Bernoulli likelihood treats each pixel as a "
                                 "probability; rescale the data or use likelihood='gaussian')"})
    else:
        check_number("sigma", sigma, low=0, strict_low=True)
        check_values(finite={"logits": logits, "x": x})


def _check_gaussian_params(mu, logvar):
    check_tensor("mu", mu, ndim=2, layout="(batch, latent_dim)")
    check_tensor("logvar", logvar, ndim=2, layout="(batch, latent_dim)")
    check_same_shape("mu", mu, "logvar", logvar)
    check_same_device("mu", mu, "logvar", logvar)


def _reconstruction(logits, x, likelihood, sigma=1.0):
    if likelihood == "bernoulli":
        per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif likelihood == "gaussian":
        mean = torch.sigmoid(logits)
        per_pixel = 0.5 * ((x - mean) / sigma) ** 2 + math.log(sigma * math.sqrt(2 * math.pi))
    else:
        raise ValueError(f"likelihood: expected one of {LIKELIHOODS}, got {likelihood!r}")
    return per_pixel.flatten(1).sum(dim=1)


def kl_divergence(mu, logvar):
    """KL(N(mu, exp(logvar)) ‖ N(0, I)) per image, summed over latent dims. Shape (batch,)."""
    _check_gaussian_params(mu, logvar)
    check_values(finite={"mu": mu, "logvar": logvar})
    return _kl(mu, logvar)


def _kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)


def kl_per_dimension(mu, logvar):
    """Mean over the batch of each latent dimension's KL term. Shape (latent_dim,)."""
    _check_gaussian_params(mu, logvar)
    check_values(finite={"mu": mu, "logvar": logvar})
    return _kl_per_dimension(mu, logvar)


def _kl_per_dimension(mu, logvar):
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(dim=0)


def free_bits_kl(mu, logvar, free_bits):
    """KL with "free bits" (Kingma et al., 2016): each dimension's batch-mean KL counts as at
    least ``free_bits`` nats, so the optimiser gains nothing by pushing a dimension below it.
    Returns a scalar (nats per image)."""
    _check_gaussian_params(mu, logvar)
    free_bits = check_number("free_bits", free_bits, low=0)
    check_values(finite={"mu": mu, "logvar": logvar})
    return _free_bits_kl(mu, logvar, free_bits)


def _free_bits_kl(mu, logvar, free_bits):
    return _kl_per_dimension(mu, logvar).clamp(min=free_bits).sum()


def elbo_loss(logits, x, mu, logvar, beta=1.0, likelihood="bernoulli", free_bits=0.0):
    """The β-weighted negative ELBO of a batch, with its terms returned separately.

    Returns LossTerms(loss, recon, kl), each a scalar mean over the batch in nats per image.
    ``kl`` is always the true KL; with ``free_bits > 0`` the *loss* uses the clamped KL.
    """
    check_tensor("logits", logits, min_ndim=2, layout="(batch, ...)")
    check_tensor("x", x, min_ndim=2, layout="(batch, ...)")
    if logits.shape != x.shape:
        raise ValueError(f"logits and x: expected the same shape, got logits "
                         f"{tuple(logits.shape)} and x {tuple(x.shape)}")
    _check_gaussian_params(mu, logvar)
    if len(mu) != len(x):
        raise ValueError(f"mu and x: expected the same batch size, got mu {tuple(mu.shape)} "
                         f"and x {tuple(x.shape)}")
    check_same_device("logits", logits, "x", x)
    check_same_device("mu", mu, "x", x)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    check_number("beta", beta, low=0)
    check_number("free_bits", free_bits, low=0)
    finite = {"logits": logits, "mu": mu, "logvar": logvar}
    if likelihood == "bernoulli":
        check_values(finite=finite, unit={"x": x},
                     hints={"x": " (the Bernoulli likelihood treats each pixel as a "
                                 "probability; rescale the data or use likelihood='gaussian')"})
    else:
        check_values(finite={**finite, "x": x})
    return _elbo(logits, x, mu, logvar, beta, likelihood, free_bits)


def _elbo(logits, x, mu, logvar, beta=1.0, likelihood="bernoulli", free_bits=0.0):
    """``elbo_loss`` without the input checks, for loops whose inputs are already checked."""
    recon = _reconstruction(logits, x, likelihood).mean()
    kl = _kl(mu, logvar).mean()
    kl_in_loss = _free_bits_kl(mu, logvar, free_bits) if free_bits > 0 else kl
    return LossTerms(recon + beta * kl_in_loss, recon, kl)


def log_normal(z, mu, logvar):
    """log N(z; mu, exp(logvar)) summed over the last dimension."""
    for name, t in (("z", z), ("mu", mu), ("logvar", logvar)):
        check_tensor(name, t, min_ndim=1, nonempty=False)
    try:
        torch.broadcast_shapes(z.shape, mu.shape, logvar.shape)
    except RuntimeError:
        raise ValueError(f"z, mu and logvar: expected shapes that broadcast together, got "
                         f"{tuple(z.shape)}, {tuple(mu.shape)} and {tuple(logvar.shape)}"
                         ) from None
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


@torch.no_grad()
def iwae_bound(model, x, k=50, likelihood="bernoulli", chunk=None):
    """Importance-weighted lower bound on log p(x) with ``k`` samples (Burda et al., 2016).

        L_k(x) = log (1/k) Σ_i p(x, z_i) / q(z_i|x),   z_i ~ q(z|x)

    L_1 is the ELBO; L_k never decreases in expectation as k grows and tends to log p(x).
    Returns shape (batch,), in nats (higher is better; −L_k is an NLL estimate).
    ``chunk`` limits how many samples go through the decoder at once (memory).
    """
    check_module("model", model, methods=("encode", "decode"))
    check_tensor("x", x, min_ndim=2, layout="(batch, ...)")
    k = check_int("k", k, low=1)
    chunk = k if chunk is None else check_int("chunk", chunk, low=1)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    encoded = model.encode(x)
    if not (isinstance(encoded, tuple) and len(encoded) == 2):
        raise TypeError(f"model: expected a VAE whose encode(x) returns (mu, logvar), got a "
                        f"{type(model).__name__} whose encode returns "
                        f"{type(encoded).__name__}")
    mu, logvar = encoded
    log_w = []
    for start in range(0, k, chunk):
        n = min(chunk, k - start)
        std = torch.exp(0.5 * logvar)
        z = mu.unsqueeze(0) + std.unsqueeze(0) * torch.randn(n, *mu.shape, device=mu.device)
        logits = model.decode(z.reshape(-1, mu.shape[1]))
        x_rep = x.unsqueeze(0).expand(n, *x.shape).reshape(-1, *x.shape[1:])
        log_px_z = -reconstruction_loss(logits, x_rep, likelihood).view(n, -1)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_qz = log_normal(z, mu.unsqueeze(0), logvar.unsqueeze(0))
        log_w.append(log_px_z + log_pz - log_qz)
    log_w = torch.cat(log_w, dim=0)  # (k, batch)
    return torch.logsumexp(log_w, dim=0) - math.log(k)
