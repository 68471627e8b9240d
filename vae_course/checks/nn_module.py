"""What the checks of the learners' ``nn.Module`` classes share (exercises 01 and 03): build the
class with given sizes, call its methods with messages that name the method, test a part for
being affine (no activation), count parameters against the course's model, and run a short
training from the learner's module next to the course's."""

import inspect
import math

import torch
import torch.nn.functional as F
from torch import nn

from .framework import Check

IMAGE = (1, 28, 28)
PIXELS = math.prod(IMAGE)


def images(n, seed=0):
    """``n`` images in [0, 1] with strokes (not uniform noise), shape (n, 1, 28, 28)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *IMAGE, generator=g) ** 3
    return x


def call(check, what, fn, *args):
    """``check.call`` with ``what`` (e.g. "Autoencoder.encode(x)") named in its messages."""
    signature, check.signature = check.signature, what
    try:
        return check.call(fn, *args)
    finally:
        check.signature = signature


def _explain_module_error(err):
    text = str(err)
    if "before Module.__init__() call" in text:
        return ("module.no_super_init",
                "your __init__ assigns a layer before calling super().__init__(): start "
                "__init__ with super().__init__(), so that nn.Module can register the layers.")
    if "mat1 and mat2 shapes cannot be multiplied" in text:
        return ("module.layer_sizes",
                f"a linear layer got inputs of the wrong width ({text.strip().splitlines()[0]}). "
                f"Check each nn.Linear(in, out): the encoder's first layer takes the "
                f"{PIXELS} pixels of a flattened image (flatten each image, keep the batch: "
                f"nn.Flatten() or x.view(len(x), -1)), and each layer's `in` is the previous "
                f"layer's `out`.")
    return None


def new_check(name, signature):
    return Check(name, signature, explain=_explain_module_error)


def build(check, cls, **sizes):
    """An instance of the learner's class, or a named mistake saying why there is none."""
    if inspect.isclass(cls) and not issubclass(cls, nn.Module):
        check.mistake("module.not_a_module",
                      f"{cls.__name__} must derive from nn.Module: write `class {cls.__name__}"
                      f"(nn.Module):` so that PyTorch finds its layers and their parameters.")

    def __init__():  # named like the method, so a stub reads "<class>.__init__ is not ..."
        return cls(**sizes)

    args = ", ".join(f"{k}={v}" for k, v in sizes.items())
    name = getattr(cls, "__name__", check.signature.split("(")[0])
    model = call(check, f"{name}.__init__({args})", __init__)
    if model is None:
        check.fail(f"{name}({args}) returned None: pass the class itself, e.g. "
                   f"check_{check.name}({check.signature.split('(')[0]}).")
    if not isinstance(model, nn.Module):
        check.fail(f"{name}({args}) gave a {type(model).__name__}, not an nn.Module: pass the "
                   f"class, written as `class {check.signature.split('(')[0]}(nn.Module):`.")
    registered = {id(p) for p in model.parameters()}
    for key, value in vars(model).items():
        items = value.values() if isinstance(value, dict) else value
        if isinstance(value, (list, tuple, dict)) and any(
                isinstance(v, nn.Module) and any(id(p) not in registered for p in v.parameters())
                for v in items):
            check.mistake("module.unregistered_layers",
                          f"the layers in `self.{key}` sit in a plain Python "
                          f"{type(value).__name__}, so PyTorch does not see their parameters: "
                          f"the optimiser would never train them. Use nn.Sequential or "
                          f"nn.ModuleList.")
    if not list(model.parameters()):
        check.mistake("module.no_parameters",
                      f"{cls.__name__}({args}) has no parameters at all: create the layers in "
                      f"__init__ and keep them as attributes (self.encoder = ...), not inside "
                      f"forward.")
    return model


def tensor_of_shape(check, value, shape, what):
    """``value`` as a tensor of ``shape``; otherwise a failure saying what came back."""
    if isinstance(value, (tuple, list)):
        check.fail(f"{what} returned a {type(value).__name__} of {len(value)} items; expected "
                   f"one tensor of shape {tuple(shape)}.")
    if not isinstance(value, torch.Tensor):
        check.fail(f"{what} returned {type(value).__name__}; expected a tensor of shape "
                   f"{tuple(shape)}.")
    if tuple(value.shape) != tuple(shape):
        check.fail(f"{what} returned shape {tuple(value.shape)}; expected {tuple(shape)}.")
    if not torch.isfinite(value.detach()).all():
        check.fail(f"{what} returned NaN or infinite values for ordinary images.")
    return value


def is_affine(fn, a, b):
    """Whether ``fn`` maps the midpoint of ``a`` and ``b`` to the midpoint of their images and
    scales differences linearly: true of a network without any activation."""
    with torch.no_grad():
        fa, fb, fm = fn(a), fn(b), fn(0.5 * a + 0.5 * b)
        f3 = fn(2 * a - b)  # extrapolation: also on the line
    scale = max(fa.abs().max().item(), fb.abs().max().item(), 1e-6)
    return (torch.allclose(fm, 0.5 * fa + 0.5 * fb, atol=1e-4 * scale)
            and torch.allclose(f3, 2 * fa - fb, atol=1e-3 * scale))


def count(model):
    return sum(p.numel() for p in model.parameters())


def parameter_shapes(model, n=6):
    shapes = [f"{name} {tuple(p.shape)}" for name, p in model.named_parameters()]
    return ", ".join(shapes[:n]) + (", …" if len(shapes) > n else "")


def diagnose_count(check, model, cls_name, sizes, expected, variants):
    """Compare the parameter count with the course's model; ``variants`` maps a mistake's
    (code, text) to the count that mistake would give."""
    got = count(model)
    if got == expected:
        return
    for (code, text), value in variants:
        if got == value:
            check.mistake(code, f"{text} ({cls_name}({sizes}) has {got:,} parameters; the "
                                f"lecture's model has {expected:,}.)")
    check.fail(f"{cls_name}({sizes}) has {got:,} parameters; a model with exactly the layers "
               f"described has {expected:,}. Yours: {parameter_shapes(model)}.")


def train_briefly(model, loss_fn, steps=300, batch=64, seed=0):
    """Adam (lr 1e-3) on MNIST batches; the mean loss of the last 20 steps, in nats/image."""
    from ..data import load_mnist

    x = load_mnist(quiet=True).x_train
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        xb = x[torch.randint(len(x), (batch,), generator=g)]
        loss = loss_fn(model, xb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    tail = losses[-20:]
    return sum(tail) / len(tail), losses[0]


def bce(logits, x):
    """Binary cross-entropy from logits, summed over pixels, mean over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
