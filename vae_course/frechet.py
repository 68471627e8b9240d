"""Fréchet digit distance (FDD): how much a set of images looks like real digits, as a set.

Fit a Gaussian to the digit ruler's 64 penultimate features (``vae_course.classifier``) of the
generated images and another to those of real test digits, and take the Fréchet distance between
them (the recipe of FID, with a small in-course MNIST classifier in place of Inception). 0 means
indistinguishable from real digits *as a set*: it penalises both strange images and a lack of
variety. Real training digits score about 8 against the test digits, noise well over 1,000.
"""

import torch


@torch.no_grad()
def features(classifier, images, batch_size=1000):
    """The ruler's penultimate-layer features of ``images``, shape (N, 64), on the CPU."""
    device = next(classifier.parameters()).device
    body = classifier[:-1]
    return torch.cat([body(images[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(images), batch_size)])


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (N, D):

        ||m_a − m_b||² + tr(C_a + C_b − 2 (C_a^½ C_b C_a^½)^½)

    computed in float64 with symmetric eigendecompositions (no scipy needed).
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a, b: expected (N, D) feature sets with the same D, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a, b: need at least 2 vectors each to fit a Gaussian")
    a, b = a.double(), b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    value = (mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return max(float(value), 0.0)


def frechet_digit_distance(classifier, images, reference):
    """FDD of ``images`` against ``reference`` real digits (lower = more like real digits)."""
    return frechet_distance(features(classifier, images), features(classifier, reference))
