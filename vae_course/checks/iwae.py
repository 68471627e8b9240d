"""Check of ``iwae_from_log_weights(log_w)`` (exercise 03): the importance-weighted bound
L_k = log (1/k) Σ_i exp(log w_i) of each image from a (k, batch) matrix of log-weights — its
value on realistic log-weights (around −100 nats, where the weights themselves underflow), the
axis, the −log k, and its gradient with respect to every log-weight."""

import math

import torch

from .compare import diagnose_value, fmt, inputs_unchanged, is_close
from .framework import exercise_check
from .gradients import compare_gradients, leaves

K, BATCH = 7, 5


def _log_weights(centre=-110.0, spread=6.0, seed=4):
    """Log-weights of K samples for BATCH images, float32, around ``centre`` (realistic: MNIST
    log-likelihoods are around −100 nats, so exp() of them underflows in float32). The images
    lie tens of nats apart, as a simple and a complicated digit do, so that shifting the whole
    matrix by one number is not enough to keep exp() finite."""
    g = torch.Generator().manual_seed(seed)
    rows = centre + spread * torch.randn(K, BATCH, generator=g)
    return rows + torch.tensor([-150.0, -60.0, 0.0, 40.0, 90.0])


def _reference(log_w):
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def _candidates(log_w):
    """(codes, explanations, value) of each known mistake, for ``diagnose_value``."""
    k = log_w.shape[0]
    lse = torch.logsumexp(log_w, dim=0)
    return [
        (["iwae.mean_of_log_weights"], ["you averaged the log-weights, which gives the ELBO "
         "estimate back; L_k averages the weights themselves inside the log: log of the mean "
         "of exp(log_w), computed as logsumexp(log_w) − log k"], log_w.mean(0)),
        (["iwae.missing_log_k"], ["the −log k is missing: logsumexp adds up the k weights, the "
         "bound takes their mean, log((1/k)·Σ w) = logsumexp(log_w) − log k"], lse),
        (["iwae.log_k_added"], ["you added log k; the mean divides by k, so subtract it: "
         "logsumexp(log_w) − log k"], lse + math.log(k)),
        (["iwae.minus_k"], ["you subtracted k; the mean inside the log becomes − log k"],
         lse - k),
        (["iwae.divided_by_k"], ["you divided the logsumexp by k; dividing the weights by k "
         "inside the log subtracts log k outside it"], lse / k),
        (["iwae.max_only"], ["you kept only the largest log-weight; the bound averages all k "
         "weights (the largest dominates, but not alone)"], log_w.max(0).values),
        (["iwae.sum_of_log_weights"], ["you added up the log-weights; L_k is the log of the "
         "mean of the weights: logsumexp(log_w) − log k"], log_w.sum(0)),
        (["iwae.no_log"], ["you averaged the weights exp(log_w) but did not take the log (and "
         "such weights underflow to 0): L_k = log of the mean of the weights = "
         "logsumexp(log_w) − log k"], log_w.exp().mean(0)),
    ]


@exercise_check("iwae_from_log_weights", "iwae_from_log_weights(log_w)")
def check_iwae_from_log_weights(check, fn):
    """Check ``iwae_from_log_weights(log_w) -> (batch,)`` for ``log_w`` of shape (k, batch)."""
    log_w = _log_weights()
    k, b = log_w.shape
    mine, ref = leaves(log_w=log_w), leaves(log_w=log_w)
    got = check.call(fn, mine["log_w"])
    inputs_unchanged(check, (mine["log_w"],), (log_w,))
    if not isinstance(got, torch.Tensor):
        check.fail(f"{check.signature} returned {type(got).__name__}; expected a tensor of shape "
                   f"({b},): one bound per image.")
    if tuple(got.shape) == (k,):
        check.mistake("iwae.wrong_axis",
                      f"you reduced over the images (dim 1) and returned one number per sample, "
                      f"shape ({k},): the k samples of an image sit in a column, dim 0; return "
                      f"one bound per image, shape ({b},).")
    if got.ndim == 0:
        check.mistake("iwae.reduced_over_batch",
                      f"you returned one number for the whole batch; return one bound per "
                      f"image, shape ({b},) (the caller averages over images if it wants to).")
    if tuple(got.shape) == (k, b):
        check.mistake("iwae.not_reduced",
                      f"you returned shape ({k}, {b}), the shape of the input: reduce over the "
                      f"k samples (dim 0).")
    if tuple(got.shape) != (b,):
        check.fail(f"the result has shape {tuple(got.shape)}; expected ({b},), one bound per "
                   f"image, for log_w of shape ({k}, {b}).")
    values = got.detach().double()
    expected = _reference(log_w.double())
    if not bool(torch.isfinite(values).all()):
        mild = log_w - log_w.mean(0)  # each image's log-weights centred on 0: exp() is safe
        again = check.call(fn, mild.clone())
        if isinstance(again, torch.Tensor) and tuple(again.shape) == (b,) and \
                is_close(again.detach().double(), _reference(mild.double()), rtol=1e-4):
            check.mistake("iwae.exp_overflow",
                          f"with log-weights around {log_w.mean():.0f} nats your result is "
                          f"{fmt(values)}: exp() of such numbers is 0 in floating point (and "
                          f"exp of large positive ones is inf), so the log gives ±inf — near 0 "
                          f"your formula is right. Stay in log space: "
                          f"torch.logsumexp subtracts the largest log-weight before "
                          f"exponentiating.")
        check.fail(f"the result contains NaN or infinite values ({fmt(values)}) for finite "
                   f"log-weights; expected {fmt(expected)}.")
    if not is_close(values, expected, rtol=1e-5, atol=1e-4):
        candidates = [(c, t, v.double()) for c, t, v in _candidates(log_w.double())]
        diagnose_value(check, values, candidates, expected, "L_k", rtol=1e-5)
    one = check.call(fn, log_w[:1].clone())
    if not (isinstance(one, torch.Tensor) and is_close(one.detach().double(),
                                                       log_w[0].double(), rtol=1e-5)):
        check.fail(f"with k = 1 the bound is the single log-weight itself (the ELBO estimate): "
                   f"expected {fmt(log_w[0])}, got "
                   f"{fmt(one) if isinstance(one, torch.Tensor) else type(one).__name__}.")
    high = log_w + 220  # around +110 nats: exp() overflows float32 here
    top = check.call(fn, high.clone())
    if not (isinstance(top, torch.Tensor) and bool(torch.isfinite(top.detach()).all())):
        check.mistake("iwae.exp_overflow",
                      "with log-weights around +110 your result is not finite: exp() of them "
                      "overflows to inf. Subtract the largest log-weight of each image before "
                      "exponentiating and add it back after the log — what torch.logsumexp "
                      "does.")
    if not is_close(top.detach().double(), _reference(high.double()), rtol=1e-5):
        check.fail(f"with log-weights around +110 nats expected {fmt(_reference(high))}; got "
                   f"{fmt(top)}.")
    compare_gradients(check, got, _reference(ref["log_w"]), mine, ref, what="L_k")
    return check.passed(f"L_k = logsumexp over the {k} samples − log {k}, one bound per image, "
                        f"finite for log-weights around {log_w.mean():.0f} nats, equal to the "
                        f"log-weight when k = 1, and its gradient reaches every log-weight.")
