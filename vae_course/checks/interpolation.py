"""Check of ``interpolate(z_start, z_end, n_steps)`` (exercise 06): evenly spaced codes on the
straight line between two latent codes, both endpoints included."""

import torch

from .compare import fmt, inputs_unchanged, is_close, returned_tensor
from .framework import Check, finish, run_check


def _interp_body(check, fn):
    z0 = torch.tensor([1.0, -2.0, 0.5, 3.0])
    z1 = torch.tensor([-1.0, 0.0, 2.5, 1.0])
    n = 5
    a, b = z0.clone(), z1.clone()
    path = check.call(fn, a, b, n)
    inputs_unchanged(check, (a, b), (z0, z1))
    if isinstance(path, (list, tuple)):
        check.fail(f"you returned a {type(path).__name__}; return one tensor of shape "
                   f"({n}, {len(z0)}) — torch.stack the rows.")
    if isinstance(path, torch.Tensor) and tuple(path.shape) == (len(z0), n):
        check.mistake("interp.transposed", f"the result has shape {tuple(path.shape)}: one row "
                                           f"per step is expected, shape ({n}, {len(z0)}).")
    if isinstance(path, torch.Tensor) and path.ndim == 2 and path.shape[1] == len(z0) \
            and len(path) in (n - 1, n + 1):
        check.mistake("interp.wrong_count", f"you returned {len(path)} codes for n_steps = {n}; "
                                            f"return exactly n_steps, endpoints included.")
    got = returned_tensor(check, path, (n, len(z0)), "the path")
    t = torch.linspace(0, 1, n, dtype=torch.float64).unsqueeze(1)
    z0d, z1d = z0.double(), z1.double()
    expected = (1 - t) * z0d + t * z1d
    if is_close(got, expected, rtol=1e-5, atol=1e-5):
        two = returned_tensor(check, check.call(fn, z0.clone(), z1.clone(), 2), (2, len(z0)),
                      "the path for n_steps = 2")
        if not is_close(two, torch.stack([z0d, z1d]), rtol=1e-5, atol=1e-5):
            check.fail("with n_steps = 2 the path must be exactly [z_start, z_end].")
        return check.passed(f"{n} evenly spaced codes from z_start to z_end, both endpoints "
                            f"included.")
    mistakes = [
        ("interp.endpoints_swapped", "the path runs from z_end to z_start; the first row "
         "must be z_start", expected.flip(0)),
        ("interp.endpoints_excluded", "the path leaves out both endpoints; include them "
         "(the first row is z_start, the last z_end)",
         (lambda s: (1 - s) * z0d + s * z1d)(torch.linspace(0, 1, n + 2,
                                                           dtype=torch.float64)[1:-1, None])),
        ("interp.end_excluded", "the last row is not z_end (steps i/n_steps instead of "
         "i/(n_steps − 1)); include the end point",
         (lambda s: (1 - s) * z0d + s * z1d)(torch.arange(n, dtype=torch.float64)[:, None] / n)),
        ("interp.start_excluded", "the first row is not z_start; include the start point",
         (lambda s: (1 - s) * z0d + s * z1d)(torch.arange(1, n + 1,
                                                          dtype=torch.float64)[:, None] / n)),
        ("interp.weights_not_summing_to_one", "the two weights must add up to 1: "
         "(1 − t)·z_start + t·z_end", z0d + t * z1d),
    ]
    for code, text, value in mistakes:
        if is_close(got, value, rtol=1e-5, atol=1e-5):
            check.mistake(code, text + ".")
    if is_close(got[0], z0d, atol=1e-5) and is_close(got[-1], z1d, atol=1e-5):
        check.fail("the endpoints are right but the codes in between are not evenly spaced on "
                   "the straight line (1 − t)·z_start + t·z_end.")
    check.fail(f"the first row should be z_start = {fmt(z0)} and the last z_end = {fmt(z1)}; "
               f"yours are {fmt(got[0])} and {fmt(got[-1])}.")


def check_interpolate(fn, show=True):
    """Check ``interpolate(z_start, z_end, n_steps) -> (n_steps, latent_dim)``."""
    check = Check("interpolate", "interpolate(z_start, z_end, n_steps)")
    return finish(run_check(check, _interp_body, fn), show)
