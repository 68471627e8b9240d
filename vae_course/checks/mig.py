"""Check of ``mig_from_mi(mi, entropy)`` (exercise 05): the mutual information gap, with its
known mistakes named."""

import math

import torch

from .compare import diagnose_value, inputs_unchanged, returned_number
from .framework import Check, finish, run_check


def _mig_inputs():
    """An MI matrix (5 latents x 3 factors) and factor entropies, with distinct answers for
    each known mistake."""
    mi = torch.tensor([[0.10, 0.90, 0.05],
                       [1.20, 0.20, 0.10],
                       [0.30, 0.85, 0.40],
                       [0.05, 0.10, 0.15],
                       [0.70, 0.00, 1.30]], dtype=torch.float64)
    entropy = torch.tensor([2.0, 1.5, 1.8], dtype=torch.float64)
    return mi, entropy


def _mig_ref(mi, h):
    top = mi.sort(dim=0, descending=True).values
    return ((top[0] - top[1]) / h).mean()


_MIG_CANDIDATES = [
    ("mig.not_normalised", "you did not divide each gap by the factor's entropy H(v_k)",
     lambda mi, h: (lambda t: (t[0] - t[1]).mean())(mi.sort(0, descending=True).values)),
    ("mig.no_runner_up", "you used the largest mutual information alone; MIG is the gap "
     "between the largest and the second largest",
     lambda mi, h: (mi.max(0).values / h).mean()),
    ("mig.gap_to_smallest", "you subtracted the smallest mutual information; the gap is to "
     "the second largest", lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean()),
    ("mig.first_two_latents", "you took the gap between latents 0 and 1; sort each factor's "
     "column first, so the gap is between the two most informative latents",
     lambda mi, h: ((mi[0] - mi[1]).abs() / h).mean()),
    ("mig.ascending_sort", "you sorted in ascending order, so the gap is between the two "
     "least informative latents (and negative)",
     lambda mi, h: (lambda t: ((t[0] - t[1]) / h).mean())(mi.sort(0).values)),
    ("mig.sum_over_factors", "you summed the normalised gaps over factors; MIG is their mean",
     lambda mi, h: (lambda t: ((t[0] - t[1]) / h).sum())(mi.sort(0, descending=True).values)),
    ("mig.wrong_axis", "you sorted along the factors (dim=1); for each factor, rank the latents "
     "(dim=0) of its column", lambda mi, h: (lambda t: (t[:, 0] - t[:, 1]).mean())(
         mi.sort(1, descending=True).values)),
]


def _mig_body(check, fn):
    mi, h = _mig_inputs()
    mi_in, h_in = mi.clone(), h.clone()
    value = check.call(fn, mi_in, h_in)
    inputs_unchanged(check, (mi_in, h_in), (mi, h))
    if isinstance(value, torch.Tensor) and value.numel() > 1:
        if tuple(value.shape) == (mi.shape[1],):
            check.mistake("mig.per_factor", f"you returned one gap per factor (shape "
                                            f"{tuple(value.shape)}); MIG is their mean.")
        check.fail(f"expected one number; got a tensor of shape {tuple(value.shape)}.")
    got = returned_number(check, value, "MIG")
    expected = _mig_ref(mi, h).item()
    if not math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6):
        candidates = [([c], [t], f(mi, h)) for c, t, f in _MIG_CANDIDATES]
        diagnose_value(check, torch.tensor(got), candidates, torch.tensor(expected), "MIG")
    ident = torch.eye(3, dtype=torch.float64) * h  # each factor fully in its own latent
    one = returned_number(check, check.call(fn, torch.cat([ident, torch.zeros(2, 3,
                                                   dtype=torch.float64)]), h.clone()),
                  "MIG of a perfectly disentangled code")
    if not math.isclose(one, 1.0, abs_tol=1e-6):
        check.fail(f"a code where each factor lives entirely in its own latent must score 1; "
                   f"yours gives {one:.4g}.")
    return check.passed(f"MIG = mean over factors of (largest − second largest MI) / H(factor)"
                        f" = {got:.4f} on the check's matrix, and 1 for a perfectly "
                        f"disentangled code.")


def check_mig(fn, show=True):
    """Check ``mig_from_mi(mi, entropy) -> float`` (mi: latents x factors)."""
    check = Check("mig", "mig_from_mi(mi, entropy)")
    return finish(run_check(check, _mig_body, fn), show)
