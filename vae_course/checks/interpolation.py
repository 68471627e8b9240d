"""Check of ``interpolate(a, b, steps=10, method="linear")`` (exercise 06): the contract of
``vae_course.latent.interpolate`` — a straight line (lerp) or a great-circle arc (slerp) between
two codes, ends included, with gradients reaching both codes."""

import torch

from .compare import fmt, inputs_unchanged, is_close, returned_tensor
from .framework import exercise_check
from .gradients import compare_gradients, leaves


def _lerp(a, b, t):
    return (1 - t) * a + t * b


def _slerp(a, b, t):
    omega = torch.arccos((a @ b / (a.norm() * b.norm())).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def _weights(n, dtype=torch.float64):
    return torch.linspace(0, 1, n, dtype=dtype).unsqueeze(1)


def _linear_mistakes(z0, z1, n):
    t = _weights(n)
    expected = _lerp(z0, z1, t)
    steps = lambda s: _lerp(z0, z1, s)  # noqa: E731
    return [
        ("interp.endpoints_swapped", "the path runs from b to a; the first row must be a",
         expected.flip(0)),
        ("interp.endpoints_excluded", "the path leaves out both ends; include them (the first "
         "row is a, the last b)", steps(torch.linspace(0, 1, n + 2, dtype=torch.float64)
                                        [1:-1, None])),
        ("interp.end_excluded", "the last row is not b (weights i/steps instead of i/(steps − "
         "1)); include the end point", steps(torch.arange(n, dtype=torch.float64)[:, None] / n)),
        ("interp.start_excluded", "the first row is not a; include the start point",
         steps(torch.arange(1, n + 1, dtype=torch.float64)[:, None] / n)),
        ("interp.weights_not_summing_to_one", "the two weights must add up to 1: "
         "(1 − t)·a + t·b", z0 + t * z1),
        ("interp.midpoint_only", "every row is the midpoint (a + b) / 2; the weight t must "
         "change from row to row", ((z0 + z1) / 2).expand(n, -1)),
    ]


def _spherical_mistakes(z0, z1, n):
    t = _weights(n)
    u0, u1 = z0 / z0.norm(), z1 / z1.norm()
    omega = torch.arccos((z0 @ z1 / (z0.norm() * z1.norm())).clamp(-1, 1))
    return [
        ("interp.spherical_is_linear", "with method=\"spherical\" you returned the straight "
         "line; slerp follows the great circle: sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b",
         _lerp(z0, z1, t)),
        ("interp.slerp_unit_vectors", "your arc runs between the unit vectors a/|a| and b/|b|, "
         "so its ends are not a and b: use the angle of the normalised codes, but weight the "
         "codes themselves", _slerp(u0, u1, t)),
        ("interp.slerp_no_arccos", "you used cos Ω itself where the angle Ω belongs: Ω = "
         "arccos(a·b / (|a| |b|))",
         (lambda w: (torch.sin((1 - t) * w) * z0 + torch.sin(t * w) * z1) / torch.sin(w))(
             torch.cos(omega))),
        ("interp.slerp_not_divided", "the weights are not divided by sin Ω, so the ends are "
         "not a and b", torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1),
        ("interp.slerp_cos_weights", "you used cosines where slerp has sines: the weights are "
         "sin((1 − t)Ω)/sin Ω and sin(tΩ)/sin Ω",
         (torch.cos((1 - t) * omega) * z0 + torch.cos(t * omega) * z1) / torch.sin(omega)),
    ]


def _path(check, fn, a, b, n, method, what):
    mine = leaves(a=a, b=b)
    args = (mine["a"], mine["b"], n)
    kwargs = {} if method is None else {"method": method}
    path = check.call(fn, *args, **kwargs)
    inputs_unchanged(check, (mine["a"], mine["b"]), (a, b))
    d = len(a)
    if isinstance(path, (list, tuple)):
        check.fail(f"{what}: you returned a {type(path).__name__}; return one tensor of shape "
                   f"({n}, {d}) — torch.stack the rows.")
    if isinstance(path, torch.Tensor) and tuple(path.shape) == (d, n):
        check.mistake("interp.transposed", f"the result has shape {tuple(path.shape)}: one row "
                                           f"per step is expected, shape ({n}, {d}).")
    if isinstance(path, torch.Tensor) and path.ndim == 2 and path.shape[1] == d \
            and len(path) in (n - 1, n + 1):
        check.mistake("interp.wrong_count", f"you returned {len(path)} codes for steps = {n}; "
                                            f"return exactly `steps`, both ends included.")
    got = returned_tensor(check, path, (n, d), what)
    return got, path, mine


def _diagnose(check, got, mistakes, expected, what):
    for code, text, value in mistakes:
        if is_close(got, value, rtol=1e-5, atol=1e-5):
            check.mistake(code, f"{text}. ({what})")
    a, b = expected[0], expected[-1]
    if is_close(got[0], a, atol=1e-5) and is_close(got[-1], b, atol=1e-5):
        check.fail(f"{what}: the ends are right but the codes in between are not where they "
                   f"should be: row 1 should be {fmt(expected[1])}, yours is {fmt(got[1])}.")
    check.fail(f"{what}: the first row should be a = {fmt(a)} and the last b = {fmt(b)}; yours "
               f"are {fmt(got[0])} and {fmt(got[-1])}.")


@exercise_check("interpolate", "interpolate(a, b, steps, method)")
def check_interpolate(check, fn):
    """Check ``interpolate(a, b, steps=10, method="linear") -> (steps, D)`` (the contract of
    ``vae_course.latent.interpolate``)."""
    z0 = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    z1 = torch.tensor([-1.0, 0.0, 2.5, 1.0], dtype=torch.float64)
    n = 5
    # Linear, once with the default method and once by name.
    for method in (None, "linear"):
        what = "the linear path" if method else "the path with the default method"
        got, path, mine = _path(check, fn, z0, z1, n, method, what)
        expected = _lerp(z0, z1, _weights(n))
        if not is_close(got, expected, rtol=1e-5, atol=1e-5):
            if method is None and is_close(got, _slerp(z0, z1, _weights(n)), 1e-5, 1e-5):
                check.mistake("interp.default_not_linear", "with no method given you returned "
                                                           "the spherical path; the default is "
                                                           "method=\"linear\".")
            _diagnose(check, got, _linear_mistakes(z0, z1, n), expected, what)
        ref = leaves(a=z0, b=z1)
        compare_gradients(check, path, _lerp(ref["a"], ref["b"], _weights(n)), mine, ref,
                          what="your linear path")
    two, _, _ = _path(check, fn, z0.float(), z1.float(), 2, "linear", "the path for steps = 2")
    if not is_close(two, torch.stack([z0, z1]), rtol=1e-5, atol=1e-5):
        check.fail("with steps = 2 the linear path must be exactly [a, b].")
    # Spherical.
    got, path, mine = _path(check, fn, z0, z1, 7, "spherical", "the spherical path")
    expected = _slerp(z0, z1, _weights(7))
    if not is_close(got, expected, rtol=1e-5, atol=1e-5):
        _diagnose(check, got, _spherical_mistakes(z0, z1, 7), expected, "the spherical path")
    ref = leaves(a=z0, b=z1)
    compare_gradients(check, path, _slerp(ref["a"], ref["b"], _weights(7)), mine, ref,
                      what="your spherical path")
    # Equal norms: every point of the arc keeps that norm (what slerp is for).
    u = torch.tensor([3.0, 0.0, 4.0, 0.0], dtype=torch.float64)
    w = torch.tensor([0.0, 5.0, 0.0, 0.0], dtype=torch.float64)
    arc, _, _ = _path(check, fn, u, w, 5, "spherical", "the spherical path between two codes "
                                                       "of norm 5")
    if not is_close(arc.norm(dim=1), torch.full((5,), 5.0, dtype=torch.float64), 1e-5, 1e-5):
        check.fail(f"between two codes of norm 5 every point of the arc should have norm 5; "
                   f"yours have {fmt(arc.norm(dim=1))}.")
    return check.passed(f"linear: {n} evenly spaced codes on the line, ends included; "
                        f"spherical: the great-circle arc (norm kept between codes of equal "
                        f"norm); gradients reach both codes — as vae_course.latent.interpolate.")
