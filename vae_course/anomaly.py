"""Per-image anomaly scores from a model trained on normal data only (notebook 06 and the bench).

Higher score = more anomalous. Both are in nats per image (summed over pixels), one per image:

    reconstruction error   −log p(x | z = μ(x))        (the code itself for an autoencoder)
    −ELBO                  E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I))

The reconstruction error asks "can the model redraw this image?"; −ELBO also charges for how far
the image's code sits from where the prior expects codes, so it is an upper bound on −log p(x).
Use either with ``vae_course.metrics.auroc`` (labels: 1 = anomaly, 0 = normal).

Further down: the input-complexity correction of Serrà et al. (2020) (−ELBO minus a PNG or zlib
code length), the two baselines a practitioner tries first (PCA reconstruction error and
nearest-neighbour distance, with scikit-learn), and ``all_scores``, which computes every one of
them, so notebook 06 and ``vae-course bench`` use one implementation.
"""

import torch

from .argcheck import check_int, check_module, check_tensor
from .losses import kl_divergence, reconstruction_loss
from .models import is_vae


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
    samples = check_int("samples", samples, low=1)
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


# --- Corrections for input complexity, and the baselines a practitioner tries first ------------
#
# A likelihood score mixes two things: how familiar an image is and how simple it is. Serrà et
# al. (2020) subtract the length of the image under a generic lossless compressor (PNG, zlib):
# what remains is how much *better* the model codes the image than a model that knows nothing
# about digits. Both lengths are in nats here. The raw difference weighs the compressor's
# length, measured on 8-bit pixels, as heavily as the model's Bernoulli likelihood on grey
# pixels, which is not a code length of the same images; ``fitted_slope`` gives the weight
# that the normal *training* images alone suggest (a one-class method still).

def png_code_length(x):
    """Bytes of each image saved as an 8-bit greyscale PNG (Pillow, best compression), in nats.
    Shape (N,). The PNG signature and fixed chunks are included: a constant for every image."""
    import io
    import math

    from PIL import Image

    _check(x)
    pixels = (x.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    out = []
    for image in pixels:
        buffer = io.BytesIO()
        Image.fromarray(image.reshape(image.shape[-2], image.shape[-1])).save(
            buffer, format="PNG", optimize=True)
        out.append(8 * len(buffer.getvalue()) * math.log(2))
    return torch.tensor(out)


def zlib_code_length(x):
    """Bytes of each image's 8-bit pixels compressed with zlib (level 9), in nats. Shape (N,)."""
    import math
    import zlib

    _check(x)
    pixels = (x.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return torch.tensor([8 * len(zlib.compress(image.tobytes(), 9)) * math.log(2)
                         for image in pixels])


def fitted_slope(scores, covariate):
    """Least-squares slope of ``scores`` on ``covariate`` (both shape (N,)), e.g. of the
    −ELBO of the normal training images on their PNG length."""
    scores, covariate = torch.as_tensor(scores).double(), torch.as_tensor(covariate).double()
    design = torch.stack([torch.ones_like(covariate), covariate], dim=1)
    return torch.linalg.lstsq(design, scores.unsqueeze(1)).solution[1, 0].item()


def complexity_corrected(scores, code_length, weight=1.0):
    """Serrà et al.'s score: the model's code length minus ``weight`` × a compressor's."""
    return torch.as_tensor(scores) - weight * torch.as_tensor(code_length)


def pca_error(x_normal, x, components=16):
    """Baseline: squared error of each image after projection on the first ``components``
    principal components of the normal images (scikit-learn's PCA). Shape (N,)."""
    from sklearn.decomposition import PCA

    _check(x_normal)
    _check(x)
    check_int("components", components, low=1)
    a, b = x_normal.flatten(1).double().numpy(), x.flatten(1).double().numpy()
    pca = PCA(n_components=min(components, len(a), a.shape[1])).fit(a)
    rebuilt = pca.inverse_transform(pca.transform(b))
    return torch.from_numpy(((b - rebuilt) ** 2).sum(1))


def knn_distance(x_normal, x, k=1, exclude_self=False):
    """Baseline: mean Euclidean pixel distance from each image to its ``k`` nearest normal images
    (scikit-learn). ``exclude_self``: ``x`` is ``x_normal`` itself, so skip the zero distance of
    each image to itself. Shape (N,)."""
    from sklearn.neighbors import NearestNeighbors

    _check(x_normal)
    _check(x)
    check_int("k", k, low=1)
    index = NearestNeighbors(n_neighbors=k + int(exclude_self)).fit(x_normal.flatten(1).numpy())
    distances, _ = index.kneighbors(x.flatten(1).numpy())
    return torch.from_numpy(distances[:, int(exclude_self):].mean(1))


SCORES = ("reconstruction error", "−ELBO", "−ELBO − PNG", "−ELBO − w·PNG", "PCA error",
          "kNN distance")


def all_scores(model, x_normal, x, samples=8, components=16, k=1, seed=0):
    """Every anomaly score the course compares, for images ``x`` (higher = more anomalous).

    ``model`` is a VAE trained on the normal images ``x_normal`` only; the weight w of the
    complexity correction and the baselines (PCA with as many components as the VAE has latent
    dimensions, nearest-neighbour distance) use ``x_normal`` only too. Returns
    ``(scores, w)``: a dict from the names in ``SCORES`` to tensors of shape (N,), and w."""
    nelbo = negative_elbo(model, x, samples=samples, seed=seed)
    png = png_code_length(x)
    weight = fitted_slope(negative_elbo(model, x_normal, samples=samples, seed=seed),
                          png_code_length(x_normal))
    scores = {"reconstruction error": reconstruction_error(model, x),
              "−ELBO": nelbo,
              "−ELBO − PNG": complexity_corrected(nelbo, png),
              "−ELBO − w·PNG": complexity_corrected(nelbo, png, weight),
              "PCA error": pca_error(x_normal, x, components),
              "kNN distance": knn_distance(x_normal, x, k)}
    return scores, weight
