"""What the checks of the learners' ``nn.Module`` classes share (exercises 01 and 03): build the
class with given sizes, call its methods with messages that name the method, test a part for
being affine (no activation), count parameters against the course's model, and run a short
training from the learner's module next to the course's."""

import inspect
import math

import torch
import torch.nn.functional as F
from torch import nn

from .compare import returned_tensor


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


def explain_module_error(err):
    """The known mistake behind an error a learner's module raised, as ``(code, explanation)``."""
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
    """``value``, what the call ``what`` returned, as a tensor of ``shape``; otherwise a failure
    saying what came back (``compare.returned_tensor``, which also wants finite values)."""
    if isinstance(value, (tuple, list)):
        check.fail(f"{what} returned a {type(value).__name__} of {len(value)} items; expected "
                   f"one tensor of shape {tuple(shape)}.")
    returned_tensor(check, value, shape, f"the output of {what}", caller=what)
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


def diagnose_count(check, model, cls_name, course_cls, prefix, latent, hidden):
    """Compare the parameter count with the course's model of the same sizes; name the
    structural mistakes every MLP module of the course can make by the count each gives
    (``prefix`` is the exercise's, "ae" or "vae"): ``hidden`` ignored (400 units), no biases,
    one or two extra hidden-to-hidden layers. Returns the course's count."""
    course = course_cls(latent_dim=latent, hidden=hidden)
    expected, got = count(course), count(model)
    if got == expected:
        return expected
    sizes = f"latent_dim={latent}, hidden={hidden}"
    biases = sum(m.bias.numel() for m in course.modules()
                 if isinstance(m, nn.Linear) and m.bias is not None)
    layer = hidden * hidden + hidden  # one more nn.Linear(hidden, hidden)
    extra = ("your model has {} hidden-to-hidden layer{}; the encoder and the decoder each have "
             "exactly two linear layers")
    variants = [
        ((f"{prefix}.hidden_ignored", "your layers have 400 hidden units whatever `hidden` "
          "says: use the argument"), count(course_cls(latent_dim=latent, hidden=400))),
        ((f"{prefix}.no_bias", "your linear layers have no bias (bias=False); the course's "
          "layers have one"), expected - biases),
        ((f"{prefix}.extra_layer", extra.format("an extra", "")), expected + layer),
        ((f"{prefix}.extra_layer", extra.format("extra", "s")), expected + 2 * layer),
    ]
    for (code, text), value in variants:
        if got == value:
            check.mistake(code, f"{text} ({cls_name}({sizes}) has {got:,} parameters; the "
                                f"lecture's model has {expected:,}.)")
    check.fail(f"{cls_name}({sizes}) has {got:,} parameters; a model with exactly the layers "
               f"described has {expected:,}. Yours: {parameter_shapes(model)}.")


# How far above the course's model (same sizes, seed and batches) the learner's may end after the
# short training run, in nats per image: both land within a few nats of each other whatever the
# initialisation; a model that does not learn stays hundreds of nats above.
TRAINING_MARGIN = 25.0


def train_next_to_course(check, cls, course_cls, loss_fn):
    """Build the learner's class and the course's with the same seed and sizes (latent_dim=8,
    hidden=128), train both the same way (``train_briefly`` with ``loss_fn(model, x)``), and
    fail with the numbers unless the learner's ends within ``TRAINING_MARGIN`` of the course's.
    Returns both final losses, in nats per image."""
    torch.manual_seed(0)
    mine = build(check, cls, latent_dim=8, hidden=128)
    torch.manual_seed(0)
    course = course_cls(latent_dim=8, hidden=128)
    got, start = train_briefly(mine, loss_fn)
    ref, _ = train_briefly(course, loss_fn)
    if not got < ref + TRAINING_MARGIN:
        name = course_cls.__name__
        check.fail(f"trained for 300 steps (Adam, learning rate 1e-3, batches of 64 MNIST "
                   f"digits, the course's loss), your {name}(latent_dim=8, hidden=128) ends at "
                   f"a loss of {got:.1f} nats/image (it started at {start:.1f}); the course's "
                   f"{name}, trained the same way, reaches {ref:.1f}. Expected below "
                   f"{ref + TRAINING_MARGIN:.1f}.")
    return got, ref


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
