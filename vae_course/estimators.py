"""Two ways to estimate the gradient of an expectation under a Gaussian (notebook 02).

We want the gradient, with respect to ``mu`` and ``sigma``, of

    F(mu, sigma) = E_{z ~ N(mu, sigma²)} [ f(z) ]

from samples. Both estimators below return one gradient *per sample*, so a notebook can look at
their mean (both are unbiased) and at their spread (where they differ):

* reparameterisation ("pathwise"): write z = mu + sigma·eps with eps ~ N(0, 1); then
  dF/dmu = E[f'(z)] and dF/dsigma = E[f'(z)·eps]. Needs f to be differentiable in z.
* score function (REINFORCE, the log-derivative trick): dF/dθ = E[f(z) · d log q(z)/dθ], with
  d log q/dmu = (z − mu)/sigma² and d log q/dsigma = ((z − mu)² − sigma²)/sigma³.
  Needs only the values f(z). Subtracting a constant ``baseline`` from f(z) keeps it unbiased
  (E[d log q/dθ] = 0) and can shrink its variance.

``f`` maps a batch of latent vectors (n, D) to one number per vector (n,); ``mu`` and ``sigma``
are 1-D tensors of length D (a diagonal Gaussian).
"""

import torch

from .argcheck import check_int


def _check(mu, sigma, n):
    mu, sigma = torch.as_tensor(mu, dtype=torch.float32), torch.as_tensor(sigma,
                                                                          dtype=torch.float32)
    if mu.ndim != 1 or sigma.shape != mu.shape:
        raise ValueError(f"mu and sigma: expected two 1-D tensors of the same length, got "
                         f"{tuple(mu.shape)} and {tuple(sigma.shape)}")
    if not bool((sigma > 0).all()):
        raise ValueError("sigma: every standard deviation must be > 0")
    check_int("n", n, low=2)  # a spread needs two samples
    return mu, sigma


def _noise(n, mu, generator):
    return torch.randn(n, len(mu), generator=generator, dtype=mu.dtype).to(mu.device)


def _values(f, z):
    out = f(z)
    if out.shape != (len(z),):
        raise ValueError(f"f: expected one number per sample, shape ({len(z)},), got "
                         f"{tuple(out.shape)}")
    return out


def reparam_grads(f, mu, sigma, n, generator=None):
    """Per-sample pathwise gradients of E[f(z)], z = mu + sigma·eps (autograd does d f/d z).

    Returns ``(g_mu, g_sigma)``, each of shape (n, D); their means estimate dF/dmu and dF/dsigma.
    """
    mu, sigma = _check(mu, sigma, n)
    eps = _noise(n, mu, generator)
    mu_n = mu.detach().expand(n, -1).clone().requires_grad_(True)  # one copy per sample, so
    sigma_n = sigma.detach().expand(n, -1).clone().requires_grad_(True)  # .grad is per sample
    z = mu_n + sigma_n * eps
    _values(f, z).sum().backward()
    return mu_n.grad.detach(), sigma_n.grad.detach()


@torch.no_grad()
def score_function_grads(f, mu, sigma, n, baseline=0.0, generator=None):
    """Per-sample score-function (REINFORCE) gradients of E[f(z)], z ~ N(mu, sigma²).

    Only the values f(z) are used, never their derivative. ``baseline`` is subtracted from f(z).
    Returns ``(g_mu, g_sigma)``, each of shape (n, D).
    """
    mu, sigma = _check(mu, sigma, n)
    z = mu + sigma * _noise(n, mu, generator)
    weight = (_values(f, z) - baseline).unsqueeze(1)          # (n, 1)
    score_mu = (z - mu) / sigma**2                            # d log N(z; mu, sigma²) / d mu
    score_sigma = ((z - mu) ** 2 - sigma**2) / sigma**3       # d log N(z; mu, sigma²) / d sigma
    return weight * score_mu, weight * score_sigma


def summarize(grads):
    """Mean, variance and standard error of the mean of per-sample gradients (n, D).

    Returns a dict of three tensors of shape (D,).
    """
    grads = torch.as_tensor(grads)
    n = len(grads)
    var = grads.var(dim=0)
    return {"mean": grads.mean(dim=0), "var": var, "se": (var / n).sqrt()}
