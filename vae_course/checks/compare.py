"""Comparison helpers shared by the exercise checks: validate what a learner's function returned
(type, shape, dtype, finite values, inputs left alone), compare numbers, and name the known
mistake that reproduces a wrong value."""

import math

import torch


def returned_tensor(check, value, shape, what="the result", caller=None):
    """Validate a returned tensor: type, shape, floating dtype, finite values. ``what`` names
    the value in messages, ``caller`` the call that returned it (default: the checked function).
    Returns a detached float64 copy on the CPU."""
    shape = tuple(shape)
    if value is None:
        check.fail(f"{caller or check.signature} returned None: did you forget the `return` "
                   f"statement? Expected a tensor of shape {shape}.")
    if type(value).__module__.startswith("numpy"):
        check.fail(f"{what} is a NumPy array; return a torch tensor (stay in torch so gradients "
                   f"can flow). Expected shape {shape}.")
    if isinstance(value, (int, float)):
        check.fail(f"{what} is a Python {type(value).__name__} ({value!r}); return a torch tensor "
                   f"of shape {shape} (no .item(): the loss must stay differentiable).")
    if not isinstance(value, torch.Tensor):
        check.fail(f"{what} is a {type(value).__name__}; expected a torch tensor of shape "
                   f"{shape}.")
    if tuple(value.shape) != shape:
        check.fail(f"{what} has shape {tuple(value.shape)}; expected {shape}.")
    if not value.is_floating_point():
        check.fail(f"{what} has dtype {value.dtype}; expected a floating-point tensor "
                   f"(e.g. torch.float32).")
    if not torch.isfinite(value.detach()).all():
        check.fail(f"{what} contains NaN or infinite values; with these finite inputs every "
                   f"entry should be finite (look for exp() of a large number or log(0)).")
    return value.detach().cpu().double()


def returned_number(check, value, what="the result"):
    """A Python number (or a one-element tensor) as a float."""
    if value is None:
        check.fail(f"{check.signature} returned None: did you forget the `return` statement?")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            check.fail(f"{what} is a tensor of shape {tuple(value.shape)}; expected one number.")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)) and \
            not type(value).__module__.startswith("numpy"):
        check.fail(f"{what} is a {type(value).__name__}; expected a number.")
    value = float(value)
    if not math.isfinite(value):
        check.fail(f"{what} is {value}; expected a finite number.")
    return value


def is_close(a, b, rtol=1e-4, atol=1e-6):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def inputs_unchanged(check, originals, copies):
    for name, (orig, copy) in zip(("first", "second", "third", "fourth"),
                                  zip(originals, copies)):
        if isinstance(orig, torch.Tensor) and not torch.equal(orig.detach(), copy):
            check.mistake("inputs.modified_in_place",
                          f"{check.signature} changed its {name} argument in place (an "
                          f"operation ending in _ such as add_ or mul_, or `x[...] = ...`). "
                          f"Compute new tensors instead: the caller still needs its inputs.")


def fmt(values, n=6):
    flat = torch.as_tensor(values).detach().flatten()
    if flat.numel() == 1:
        return f"{flat.item():.4g}"
    text = ", ".join(f"{float(v):.4g}" for v in flat[:n])
    return f"[{text}{', …' if flat.numel() > n else ''}]"


def diagnose_value(check, got, candidates, expected, what, rtol=1e-4):
    """Name the first candidate mistake that reproduces ``got``; else a generic failure."""
    for codes, texts, value in candidates:
        if codes and is_close(got, value, rtol=rtol):
            dedup = list(dict.fromkeys(codes))
            text = "; ".join(texts)
            # "your KL is twice …" names its subject already; "the KL: your KL is …" would
            # say it twice. Other explanations ("the ½ is missing") get the subject in front.
            says_subject = text.split(" ", 1)[0].lower() in ("you", "your")
            lead = f"{text[0].upper()}{text[1:]}" if says_subject else f"{what}: {text}"
            check.mistake("+".join(dedup), f"{lead}. (Got {fmt(got)}, expected "
                                           f"{fmt(expected)}.)")
    check.fail(f"{what} is {fmt(got)}; expected {fmt(expected)}.")
