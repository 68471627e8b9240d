"""Check of ``reparameterize(mu, logvar)`` (exercise 02): the mean, the spread and the noise of
z = mu + exp(½·logvar)·eps, and that gradients reach mu and logvar."""

import math

import torch

from .compare import fmt, inputs_unchanged, is_close, returned_tensor
from .framework import exercise_check
from .gradients import compare_gradients, leaves


@exercise_check("reparameterize", "reparameterize(mu, logvar)")
def check_reparameterize(check, fn):
    """Check ``reparameterize(mu, logvar) -> z`` (same shape as mu, z = mu + exp(½·logvar)·eps)."""
    mu = torch.tensor([[0.5, -1.0, 2.0], [0.0, 1.5, -0.5]])
    logvar = torch.tensor([[0.2, -1.0, 0.7], [1.2, -0.3, 0.0]])
    mine, ref = leaves(mu=mu, logvar=logvar), leaves(mu=mu, logvar=logvar)
    mu_in, lv_in = mine["mu"], mine["logvar"]
    z = check.call(fn, mu_in, lv_in)
    inputs_unchanged(check, (mu_in, lv_in), (mu, logvar))
    zd = returned_tensor(check, z, mu.shape, "z")
    if is_close(zd, mu):
        check.mistake("reparam.no_noise", "z equals mu exactly: no noise was added. z is a "
                                          "sample, z = mu + sigma * eps with eps ~ N(0, I).")

    # Noise structure, on a bigger batch with mu = 0 and logvar = 0 (so z = eps).
    n, d = 4000, 5
    zeros = torch.zeros(n, d)
    eps = returned_tensor(check, check.call(fn, zeros.clone(), zeros.clone()), (n, d), "z")
    if eps.abs().max() < 1e-7:
        check.mistake("reparam.logvar_as_scale",
                      "with mu = 0 and logvar = 0 your z is exactly 0: the noise was multiplied "
                      "by logvar (or ½·logvar). logvar is log sigma², so the scale is "
                      "sigma = exp(½·logvar), which is 1 here.")
    again = returned_tensor(check, check.call(fn, zeros.clone(), zeros.clone()), (n, d), "z")
    if is_close(eps, again, atol=1e-7):
        check.mistake("reparam.fixed_noise",
                      "two calls with the same mu and logvar gave the same z: the noise does "
                      "not change between calls (do you seed inside the function, or reuse a "
                      "stored eps?). Draw a fresh eps every call.")
    if (eps - eps[:1]).abs().max() < 1e-7:
        check.mistake("reparam.noise_shared_across_batch",
                      "every image in the batch got the same noise vector (e.g. "
                      "torch.randn(latent_dim)). Each image needs its own eps: "
                      "torch.randn_like(mu).")
    if (eps - eps[:, :1]).abs().max() < 1e-7:
        check.mistake("reparam.noise_shared_across_dims",
                      "all latent dimensions of an image got the same noise value (e.g. "
                      "torch.randn(batch, 1)). Each dimension needs its own eps: "
                      "torch.randn_like(mu).")
    mean, std = eps.mean().item(), eps.std().item()
    tail = (eps.abs() > 2).double().mean().item()  # 4.55 % for a standard normal
    if abs(mean - 0.5) < 0.03 and abs(std - 0.2887) < 0.03:
        check.mistake("reparam.uniform_noise",
                      f"with mu = 0 and logvar = 0 your z has mean {mean:.3f} and std {std:.3f}: "
                      f"that is uniform noise on [0, 1) (torch.rand_like). Use standard normal "
                      f"noise: torch.randn_like.")
    if not (abs(mean) < 0.05 and abs(std - 1) < 0.05 and 0.035 < tail < 0.056):
        check.fail(f"with mu = 0 and logvar = 0, z should be standard normal noise (mean 0, "
                   f"std 1, about 4.6 % beyond ±2); yours has mean {mean:.3f}, std {std:.3f} "
                   f"and {100 * tail:.1f} % beyond ±2.")

    # Location and scale, one column per log-variance.
    lv_cols = torch.tensor([math.log(4.0), math.log(0.25), 1.0, -2.0])
    mu_cols = torch.tensor([1.0, -2.0, 0.5, 3.0])
    n = 20000
    big_mu, big_lv = mu_cols.expand(n, 4).clone(), lv_cols.expand(n, 4).clone()
    zs = returned_tensor(check, check.call(fn, big_mu, big_lv), (n, 4), "z")
    got_mean, got_std = zs.mean(0), zs.std(0)
    if not is_close(got_mean, mu_cols.double(), rtol=0, atol=0.1):
        if is_close(got_mean, torch.zeros(4, dtype=torch.float64), rtol=0, atol=0.1):
            check.mistake("reparam.mu_not_added",
                          f"the samples are centred on 0, not on mu (column means "
                          f"{fmt(got_mean)} for mu = {fmt(mu_cols)}): add mu.")
        check.fail(f"the mean of z over many samples should be mu = {fmt(mu_cols)}; yours is "
                   f"{fmt(got_mean)}.")
    sigma = torch.exp(0.5 * lv_cols).double()
    scales = [
        ("reparam.variance_as_scale", torch.exp(lv_cols).double(),
         "you multiplied eps by sigma² = exp(logvar); the scale is the standard deviation "
         "sigma = exp(½·logvar)."),
        ("reparam.logvar_as_scale", lv_cols.abs().double(),
         "you multiplied eps by logvar itself; logvar is log sigma², so the scale is "
         "sigma = exp(½·logvar)."),
        ("reparam.inverse_scale", torch.exp(-0.5 * lv_cols).double(),
         "you multiplied eps by 1/sigma = exp(−½·logvar); the sign in the exponent is wrong."),
    ]
    if not is_close(got_std, sigma, rtol=0.04, atol=0):
        for code, scale, text in scales:
            if is_close(got_std, scale, rtol=0.04, atol=0.02):
                check.mistake(code, f"{text} (for logvar = {fmt(lv_cols)} the spread of z "
                                    f"should be sigma = {fmt(sigma)}; yours is "
                                    f"{fmt(got_std)}.)")
        check.fail(f"the spread (std) of z around mu should be sigma = exp(½·logvar) = "
                   f"{fmt(sigma)} for logvar = {fmt(lv_cols)}; yours is {fmt(got_std)}.")
    # Gradient flow (last: sampling with torch.normal gets the statistics right but no gradient).
    if z.grad_fn is None:
        check.mistake("reparam.not_differentiable",
                      "z carries no gradient at all (it was sampled outside autograd, e.g. with "
                      ".sample(), torch.no_grad(), .detach() or a NumPy round trip), so no "
                      "gradient reaches mu or sigma. Draw eps ~ N(0, I) and compute "
                      "z = mu + sigma * eps.")
    (grad_mu,) = torch.autograd.grad(z.sum(), [mu_in], retain_graph=True, allow_unused=True)
    if grad_mu is None or not grad_mu.abs().sum() > 0:
        check.mistake("reparam.not_differentiable",
                      "no gradient reaches mu: sampling z directly from N(mu, sigma²) (e.g. "
                      "torch.normal(mu, std)) is not differentiable in mu. Draw eps ~ N(0, I) "
                      "and compute z = mu + sigma * eps.")
    # The reference sample uses the learner's own noise, eps = (z − mu) / sigma, so the two
    # gradients can be compared entry by entry without sharing a random stream.
    eps = (z.detach() - mu) / torch.exp(0.5 * logvar)
    expected = ref["mu"] + torch.exp(0.5 * ref["logvar"]) * eps
    compare_gradients(check, z, expected, mine, ref, what="your z")

    return check.passed("z = mu + sigma·eps: the mean, the spread and the noise are right, "
                        "and gradients reach both mu and logvar.")
