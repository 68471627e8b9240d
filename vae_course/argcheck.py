"""Input checks shared by the public functions of ``vae_course``.

Every check raises with the same kind of message, so a learner always sees which argument is
wrong, what it should have been and what it was:

    mu: expected a 2-D tensor (batch, latent_dim), got a 1-D tensor of shape (20,), dtype float32

``TypeError`` means the wrong kind of object (a list where a tensor belongs, integer pixels);
``ValueError`` means the right kind with a wrong shape, device, range or value.

The checks are cheap enough for a training loop: shapes, dtypes and devices are plain attribute
reads, and the checks on values (NaN, infinity, a range) run one reduction per tensor and read
the result back once per call (one GPU synchronisation), however many tensors are checked.
"""

import math
import numbers

import numpy as np
import torch


def describe(value):
    """A short description of ``value`` for an error message."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).replace("torch.", "")
        where = "" if value.device.type == "cpu" else f" on {value.device}"
        return f"a {value.ndim}-D tensor of shape {tuple(value.shape)}, dtype {dtype}{where}"
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-D array of shape {value.shape}, dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def fail(name, expected, got, error=ValueError):
    """Raise ``error("<name>: expected <expected>, got <got>")``."""
    raise error(f"{name}: expected {expected}, got {got}")


# --- plain Python values ---------------------------------------------------------------------

def check_int(name, value, low=None):
    """An int (not a bool), optionally ``>= low``. Returns it as a Python int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(name, "an int" if low is None else f"an int >= {low}", describe(value), TypeError)
    if low is not None and value < low:
        fail(name, f"an int >= {low}", repr(int(value)))
    return int(value)


def check_number(name, value, low=None, high=None, strict_low=False, allow_inf=False):
    """A finite real number (a 0-d tensor counts) within the given bounds. Returns a float."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_complex():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, "a number", describe(value), TypeError)
    value = float(value)
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if strict_low else '>='} {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    what = "a " + ("" if allow_inf else "finite ") + "number" + (
        " " + " and ".join(bounds) if bounds else "")
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        fail(name, what, repr(value))
    if low is not None and (value < low or (strict_low and value == low)):
        fail(name, what, repr(value))
    if high is not None and value > high:
        fail(name, what, repr(value))
    return value


def check_choice(name, value, choices):
    """``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        fail(name, f"one of {tuple(choices)}", repr(value))
    return value


def check_callable(name, value, what="a function"):
    if not callable(value):
        fail(name, what, describe(value), TypeError)
    return value


def check_module(name, model, methods=()):
    """A ``torch.nn.Module`` with at least one parameter and the given methods."""
    if not isinstance(model, torch.nn.Module):
        fail(name, "a torch.nn.Module", describe(model), TypeError)
    missing = [m for m in methods if not callable(getattr(model, m, None))]
    if missing:
        fail(name, f"a model with {', '.join(m + '()' for m in methods)}",
             f"a {type(model).__name__} without {', '.join(m + '()' for m in missing)}",
             TypeError)
    try:
        next(model.parameters())
    except StopIteration:
        fail(name, "a model with parameters", f"a {type(model).__name__} without any", TypeError)
    return model


def module_device(model):
    """The device of a model's first parameter."""
    return next(model.parameters()).device


# --- tensors ---------------------------------------------------------------------------------

def check_tensor(name, x, ndim=None, layout=None, min_ndim=None, floating=True, nonempty=True):
    """A torch tensor with the given number of dimensions, a float dtype, and at least one row.

    ``layout`` names the dimensions for the message, e.g. "(batch, latent_dim)".
    """
    if not isinstance(x, torch.Tensor):
        fail(name, f"a torch.Tensor{' ' + layout if layout else ''}", describe(x), TypeError)
    if ndim is not None and x.ndim != ndim:
        fail(name, f"a {ndim}-D tensor{' ' + layout if layout else ''}", describe(x))
    if min_ndim is not None and x.ndim < min_ndim:
        fail(name, f"a tensor with at least {min_ndim} dimensions"
             f"{' ' + layout if layout else ''}", describe(x))
    if floating and not x.is_floating_point():
        hint = " (divide uint8 images by 255)" if x.dtype == torch.uint8 else ""
        fail(name, f"a floating-point tensor{hint}", describe(x), TypeError)
    if nonempty and (x.ndim == 0 or x.shape[0] == 0 or x.numel() == 0):
        fail(name, "a non-empty batch (at least one row)", describe(x))
    return x


def check_same_shape(name_a, a, name_b, b):
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b}: expected the same shape, got {name_a} "
                         f"{tuple(a.shape)} and {name_b} {tuple(b.shape)}")


def check_same_device(name_a, a, name_b, b):
    """Two tensors (or a tensor and a device) on the same device."""
    da = a if isinstance(a, torch.device) else a.device
    db = b if isinstance(b, torch.device) else b.device
    if da != db:
        raise ValueError(f"{name_a} and {name_b}: expected the same device, got {name_a} on "
                         f"{da} and {name_b} on {db}; move one with .to(...)")


def check_values(finite=None, unit=None, hints=None, tol=0.0):
    """Values checks with one read-back: every tensor in ``finite`` (a dict name -> tensor) is
    free of NaN and infinity; every tensor in ``unit`` is within [0, 1] (NaN fails too), give or
    take ``tol`` (for images computed in floating point, e.g. blends of two images).

    The fast path reduces each tensor to one or two numbers on its own device and reads them
    all back together; only when something is wrong do we look closer to write the message.
    """
    finite, unit, hints = finite or {}, unit or {}, hints or {}
    # One number per finite-tensor (its sum: NaN or ±inf anywhere makes it non-finite, in one
    # pass and without a temporary mask) and two per unit-tensor (min, max); all read back in a
    # single .tolist(). A sum can also overflow on huge finite values: the slow path below then
    # finds nothing wrong and the input is accepted.
    stats = [t.detach().sum(dtype=torch.float64 if t.dtype == torch.float64 else torch.float32)
             for t in finite.values()]
    for t in unit.values():
        stats.extend(torch.aminmax(t.detach()) if t.numel() else (t.new_zeros(()),) * 2)
    if not stats:
        return
    device = stats[0].device
    values = torch.stack([v.to(device, torch.float32) if v.device != device else v.float()
                          for v in stats]).tolist()
    sums, bounds = values[:len(finite)], values[len(finite):]
    if all(math.isfinite(v) for v in sums) and all(
            bounds[i] >= -tol and bounds[i + 1] <= 1 + tol for i in range(0, len(bounds), 2)):
        return
    for name, t in list(finite.items()) + list(unit.items()):
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            n_nan = int(torch.isnan(t).sum())
            fail(name, "finite values" + hints.get(name, ""),
                 f"{n_nan} NaN and {int(bad.sum()) - n_nan} infinite among {t.numel()} values")
    for name, t in unit.items():
        lo, hi = torch.aminmax(t.detach())
        if not (lo >= -tol and hi <= 1 + tol):
            fail(name, "values in [0, 1]" + hints.get(name, ""),
                 f"min {lo.item():.4g} and max {hi.item():.4g}")


def check_images(name, x, image_shape=None):
    """A batch of images: float tensor (N, C, H, W), N >= 1, values in [0, 1], no NaN."""
    check_tensor(name, x, ndim=4, layout="(N, C, H, W) of images")
    if image_shape is not None and tuple(x.shape[1:]) != tuple(image_shape):
        fail(name, f"images of shape (C, H, W) = {tuple(image_shape)}", describe(x))
    check_values(unit={name: x}, hints={name: " (pixel values from 0-255 divided by 255)"})
    return x


def to_numpy_1d(name, values, dtype=float):
    """A 1-D array from a tensor, array or list; rejects other shapes and empty input."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        fail(name, "a 1-D sequence of numbers", describe(values), TypeError)
    if array.ndim != 1:
        fail(name, "a 1-D array (one value per example)", describe(array))
    if len(array) == 0:
        fail(name, "at least one value", "an empty array")
    return array
