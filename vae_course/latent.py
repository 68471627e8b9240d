"""Walking around a latent space: interpolation and attribute vectors (notebook 06).

Codes are rows of a (N, D) tensor — the posterior means μ of a VAE, or an autoencoder's codes.

    lerp(a, b, t)  = (1 − t)·a + t·b
    slerp(a, b, t) = sin((1 − t)·Ω)/sin Ω · a + sin(t·Ω)/sin Ω · b,   cos Ω = a·b / (|a| |b|)

Linear interpolation cuts the chord between two codes; spherical interpolation follows the great
circle, so when |a| = |b| every point on the path keeps that norm. Under a N(0, I) prior in D
dimensions almost all the mass sits near the sphere of radius √D, which is why slerp is often
recommended for prior samples; notebook 06 measures whether it matters for encoded digits.

    attribute vector v = mean(codes with the attribute) − mean(codes without it)
    edited code        = z + α·v
"""

import torch

from .metrics import encode_all
from .argcheck import check_module, check_values, fail


def _as_codes(z, name):
    z = torch.as_tensor(z)
    if not z.is_floating_point():
        z = z.float()
    if z.ndim != 1:
        raise ValueError(f"{name}: expected one code of shape (D,), got {tuple(z.shape)}")
    if z.numel() == 0:
        fail(name, "a code with at least one dimension", "shape (0,)")
    check_values(finite={name: z})
    return z


def _as_steps(t, like):
    """``t`` as a 1-D tensor of interpolation weights, or ``steps`` points from 0 to 1."""
    if isinstance(t, int) and not isinstance(t, bool):
        if t < 2:
            raise ValueError(f"steps: expected at least 2 points (the two ends), got {t}")
        return torch.linspace(0, 1, t, dtype=like.dtype, device=like.device)
    try:
        t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    except (TypeError, ValueError, RuntimeError):
        fail("t", "an int (a number of points) or a sequence of weights", repr(t)[:60],
             TypeError)
    t = t.reshape(-1)
    if t.numel() == 0:
        fail("t", "at least one interpolation weight", "an empty sequence")
    check_values(finite={"t": t})
    return t


def lerp(a, b, t):
    """Points on the straight line from code ``a`` (t = 0) to code ``b`` (t = 1).

    Args:
        a, b: codes of shape (D,).
        t: an int (that many evenly spaced points, ends included) or a sequence of weights.
    Returns:
        (len(t), D) tensor.
    """
    a, b = _as_codes(a, "a"), _as_codes(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    t = _as_steps(t, a).unsqueeze(1)
    return (1 - t) * a + t * b


def slerp(a, b, t, eps=1e-7):
    """Points on the great-circle arc from code ``a`` (t = 0) to code ``b`` (t = 1).

    The arc is taken around the origin; when ``a`` and ``b`` point the same way (Ω ≈ 0) it is
    the straight line. When ``|a| ≠ |b|`` the formula still runs from ``a`` to ``b`` and the
    norm along the way moves smoothly between the two. Same arguments and shape as ``lerp``.
    """
    a, b = _as_codes(a, "a"), _as_codes(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    t = _as_steps(t, a).unsqueeze(1)
    na, nb = a.norm(), b.norm()
    if na < eps or nb < eps:  # no direction to rotate from
        return (1 - t) * a + t * b
    cos_omega = (a @ b / (na * nb)).clamp(-1.0, 1.0)
    omega = torch.arccos(cos_omega)
    if omega < 1e-4:  # nearly parallel: the arc is the chord
        return (1 - t) * a + t * b
    if torch.pi - omega < 1e-4:
        raise ValueError("a and b point in opposite directions: the great circle between them "
                         "is not unique; use lerp, or nudge one of them")
    sin_omega = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / sin_omega) * a + (torch.sin(t * omega) / sin_omega) * b


def interpolate(a, b, steps=10, method="linear"):
    """``lerp`` (method="linear") or ``slerp`` (method="spherical") with ``steps`` points."""
    if method == "linear":
        return lerp(a, b, steps)
    if method == "spherical":
        return slerp(a, b, steps)
    raise ValueError(f"method: expected 'linear' or 'spherical', got {method!r}")


@torch.no_grad()
def interpolate_images(model, x0, x1, steps=10, method="linear"):
    """Encode two images, interpolate between their codes, decode every point.

    Uses the posterior mean μ for a VAE (the code itself for an autoencoder).
    Returns images in [0, 1] of shape (steps, C, H, W).
    """
    check_module("model", model, methods=("encode", "decode"))
    x0, x1 = torch.as_tensor(x0), torch.as_tensor(x1)
    if x0.shape != x1.shape:
        fail("x1", f"an image of the same shape as x0 {tuple(x0.shape)}",
             f"shape {tuple(x1.shape)}")
    x = torch.stack([x0, x1])
    codes = encode_all(model, x)
    codes = codes[0] if isinstance(codes, tuple) else codes
    path = interpolate(codes[0], codes[1], steps, method)
    device = next(model.parameters()).device
    return torch.sigmoid(model.decode(path.to(device))).cpu()


def attribute_vector(codes, has_attribute):
    """Mean code of the rows with the attribute minus mean code of the rows without it.

    Args:
        codes: (N, D) codes.
        has_attribute: (N,) booleans (or 0/1), True where the image shows the attribute.
    Returns:
        (D,) tensor.
    """
    codes = torch.as_tensor(codes)
    mask = torch.as_tensor(has_attribute)
    if codes.ndim != 2:
        raise ValueError(f"codes: expected shape (N, D), got {tuple(codes.shape)}")
    if codes.is_floating_point():
        check_values(finite={"codes": codes})
    if mask.shape != (len(codes),):
        raise ValueError(f"has_attribute: expected shape ({len(codes)},), got {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        if not torch.all((mask == 0) | (mask == 1)):
            raise ValueError(f"has_attribute: expected booleans or 0/1 values, got the values "
                             f"{torch.unique(mask)[:5].tolist()}")
        mask = mask.bool()
    n_with = int(mask.sum())
    if n_with == 0 or n_with == len(mask):
        raise ValueError(f"has_attribute: need rows with and without the attribute, got "
                         f"{n_with} with and {len(mask) - n_with} without")
    return codes[mask].mean(dim=0) - codes[~mask].mean(dim=0)


def apply_attribute(codes, vector, strengths):
    """Add ``α·vector`` to every code, for each strength α.

    Args:
        codes: (N, D) or (D,) codes.
        vector: (D,) attribute vector.
        strengths: a number, or a sequence of numbers.
    Returns:
        (N, D) for a single number; (len(strengths), N, D) for a sequence.
    """
    codes = torch.as_tensor(codes)
    vector = torch.as_tensor(vector, dtype=codes.dtype, device=codes.device)
    if vector.shape != codes.shape[-1:]:
        raise ValueError(f"vector: expected shape ({codes.shape[-1]},) to match the codes, "
                         f"got {tuple(vector.shape)}")
    if codes.is_floating_point():
        check_values(finite={"codes": codes, "vector": vector})
    if isinstance(strengths, (int, float)) and not isinstance(strengths, bool):
        if strengths != strengths or abs(strengths) == float("inf"):
            fail("strengths", "finite numbers", repr(strengths))
        return codes + strengths * vector
    alphas = torch.as_tensor(strengths, dtype=codes.dtype, device=codes.device).reshape(-1)
    return codes.unsqueeze(0) + alphas.view(-1, *([1] * codes.ndim)) * vector
