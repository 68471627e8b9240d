import pytest
import torch

from vae_course.estimators import reparam_grads, score_function_grads, summarize

MU = torch.tensor([0.5, -1.0, 2.0])
SIGMA = torch.tensor([0.3, 1.0, 1.5])


def square(z):
    return (z**2).sum(dim=1)  # E = Σ mu² + sigma², so dF/dmu = 2 mu, dF/dsigma = 2 sigma


@pytest.mark.parametrize("estimator", [reparam_grads, score_function_grads])
def test_both_estimators_are_unbiased_for_a_known_answer(estimator):
    g = torch.Generator().manual_seed(0)
    g_mu, g_sigma = estimator(square, MU, SIGMA, 200_000, generator=g)
    assert g_mu.shape == g_sigma.shape == (200_000, 3)
    for grads, expected in ((g_mu, 2 * MU), (g_sigma, 2 * SIGMA)):
        s = summarize(grads)
        assert ((s["mean"] - expected).abs() < 5 * s["se"] + 1e-4).all(), (s["mean"], expected)


def test_reparam_gradient_of_a_linear_function_is_exact_per_sample():
    a = torch.tensor([1.0, -2.0, 3.0])
    g = torch.Generator().manual_seed(1)
    g_mu, g_sigma = reparam_grads(lambda z: z @ a, MU, SIGMA, 50, generator=g)
    eps = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(g_mu, a.expand(50, 3))  # d(a·z)/dmu = a for every sample
    assert torch.allclose(g_sigma, a * eps, atol=1e-6)  # d(a·z)/dsigma = a·eps


def test_score_is_the_gradient_of_the_log_density():
    # With f = 1 and no baseline, each per-sample gradient is the score d log q(z)/dθ itself.
    g = torch.Generator().manual_seed(2)
    g_mu, g_sigma = score_function_grads(lambda z: torch.ones(len(z)), MU, SIGMA, 20, generator=g)
    z = MU + SIGMA * torch.randn(20, 3, generator=torch.Generator().manual_seed(2))
    mu, sigma = MU.clone().requires_grad_(), SIGMA.clone().requires_grad_()
    for i in range(20):
        d_mu, d_sigma = torch.autograd.grad(
            torch.distributions.Normal(mu, sigma).log_prob(z[i]).sum(), (mu, sigma))
        assert torch.allclose(g_mu[i], d_mu, atol=1e-5)
        assert torch.allclose(g_sigma[i], d_sigma, atol=1e-5)


def test_a_baseline_keeps_the_mean_and_cuts_the_variance():
    def shifted(z):
        return square(z) + 100.0  # a large constant offset: pure noise for REINFORCE

    plain = score_function_grads(shifted, MU, SIGMA, 100_000,
                                 generator=torch.Generator().manual_seed(3))[0]
    based = score_function_grads(shifted, MU, SIGMA, 100_000, baseline=100.0,
                                 generator=torch.Generator().manual_seed(3))[0]
    sp, sb = summarize(plain), summarize(based)
    assert (sb["var"] * 10 < sp["var"]).all()
    assert ((sb["mean"] - 2 * MU).abs() < 5 * sb["se"]).all()


def test_reparam_has_lower_variance_for_a_smooth_function():
    g_r = reparam_grads(square, MU, SIGMA, 20_000, generator=torch.Generator().manual_seed(4))[0]
    g_s = score_function_grads(square, MU, SIGMA, 20_000,
                               generator=torch.Generator().manual_seed(4))[0]
    assert (summarize(g_r)["var"] < summarize(g_s)["var"]).all()


def test_summarize_standard_error():
    grads = torch.tensor([[1.0], [3.0]])
    s = summarize(grads)
    assert s["mean"].item() == 2.0 and s["var"].item() == 2.0
    assert s["se"].item() == pytest.approx(1.0)


@pytest.mark.parametrize("mu, sigma, n, f, match", [
    (torch.zeros(2), torch.ones(3), 10, square, "same length"),
    (torch.zeros(2), torch.tensor([1.0, 0.0]), 10, square, "> 0"),
    (torch.zeros(2), torch.ones(2), 1, square, "n:"),
    (torch.zeros(2), torch.ones(2), 10, lambda z: z, "one number per sample"),
])
def test_bad_inputs_say_what_is_wrong(mu, sigma, n, f, match):
    for estimator in (reparam_grads, score_function_grads):
        with pytest.raises(ValueError, match=match):
            estimator(f, mu, sigma, n)
