"""Helpers that exercise notebooks call besides the checks: ``needs`` and ``train_with``.

``needs`` guards a cell that uses the learner's functions ("use it: train a small VAE with your
loss"). Before the tasks are done such a cell would stop Run All with a ``NotImplementedError``
traceback; instead it is written as

    if needs(elbo_loss):
        ...  # the cell's work

and, while ``elbo_loss`` (or a function it calls, such as ``kl_divergence``) is still the
exercise's stub, prints one line saying which task to finish and skips the work. A cell that
only prepares what later cells share (a model several of them use) is guarded by ``needs_any``:
it runs as soon as one of those tasks is done.

A function counts as unfinished while its own code still raises ``NotImplementedError`` — what
``vae-course build`` puts in place of each solution block. Functions and classes it uses from
the same notebook are followed too, so ``needs(elbo_loss)`` also waits for ``kl_divergence``.

``train_with`` is the short training run of those cells: the learner's training step (or a few
lines that call the learner's loss) on random batches of MNIST, with a progress bar.
"""

import inspect
import types

import torch
from tqdm.auto import tqdm

from .device import get_device


def _own_functions(obj):
    """The plain functions that make up ``obj``: itself, or every method of a class."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if callable(obj) and hasattr(obj, "__wrapped__"):
        obj = inspect.unwrap(obj)  # e.g. under @torch.no_grad(): the learner's own function
    if isinstance(obj, types.FunctionType):
        return [obj]
    if inspect.isclass(obj):
        out = []
        for value in vars(obj).values():
            out.extend(_own_functions(value) if isinstance(
                value, (types.FunctionType, staticmethod, classmethod)) else [])
        return out
    return []


def _codes(code):
    """A code object and every code object nested in it (inner functions, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _raises_not_implemented(fn):
    return any("NotImplementedError" in code.co_names for code in _codes(fn.__code__))


def _label(obj):
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))


def unfinished(*things):
    """Names of the given functions/classes, and of those they use from the same notebook, that
    still raise ``NotImplementedError``; in the order met, without repeats."""
    missing, seen = [], set()

    def visit(obj):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        functions = _own_functions(obj)
        if any(_raises_not_implemented(fn) for fn in functions):
            name = getattr(obj, "__name__", _label(obj))
            if name not in missing:
                missing.append(name)
        for fn in functions:
            home = fn.__globals__
            for code in _codes(fn.__code__):
                for name in code.co_names:
                    used = home.get(name)
                    if used is not None and _defined_in(used, home):
                        visit(used)

    for thing in things:
        visit(thing)
    return missing


def _defined_in(obj, namespace):
    """Whether ``obj`` is a function or class written in the notebook that owns ``namespace``
    (not one imported from a library)."""
    functions = _own_functions(obj)
    return bool(functions) and all(fn.__globals__ is namespace for fn in functions)


def _check_things(caller, things):
    bad = [t for t in things if not (callable(t) or isinstance(t, (staticmethod, classmethod)))]
    if bad:
        raise TypeError(f"{caller}() takes the functions or classes a cell uses, e.g. "
                        f"{caller}(elbo_loss); got {type(bad[0]).__name__}")


def needs(*things):
    """True when every given function (and what it uses) is implemented; otherwise print one
    line naming what to finish first and return False."""
    _check_things("needs", things)
    missing = unfinished(*things)
    if not missing:
        return True
    names = ", ".join(f"`{name}`" for name in missing)
    one = len(missing) == 1
    print(f"⏸ Skipped: this cell uses {names}, which {'is' if one else 'are'} not implemented "
          f"yet. Finish {'it' if one else 'them'} above, then run this cell again.")
    return False


def train_with(train_step, model, x_train, steps, batch_size=128, lr=1e-3, desc="training",
               **step_options):
    """Train ``model`` for ``steps`` Adam steps (learning rate ``lr``) on random batches of
    ``x_train``, each step done by ``train_step(model, optimizer, x, step, **step_options)``
    (the contract of exercise 04's ``train_step``); return what it returned at each step.

    The model and the images move to ``get_device()``. Seed before building the model: its
    initial weights and then the batches follow from the seed, so the run repeats."""
    device = get_device()
    model.to(device)
    x_train = x_train.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    results = []
    for step in tqdm(range(steps), desc=desc):
        xb = x_train[torch.randint(len(x_train), (batch_size,), device=device)]
        results.append(train_step(model, optimizer, xb, step, **step_options))
    return results


def needs_any(*things):
    """For a cell that prepares what several later cells share (e.g. trains the model they all
    use): True as soon as one of the given functions is implemented; while every one of them is
    still a stub, print one line and return False, so Run All does not spend the time for
    nothing. The cells that use the functions keep their own ``needs``."""
    _check_things("needs_any", things)
    if not things or any(not unfinished(thing) for thing in things):
        return True
    names = ", ".join(f"`{_label(thing)}`" for thing in things)
    print(f"⏸ Skipped: this cell prepares the work of the cells below that use {names}, and "
          f"none of them is implemented yet. Finish one above, then run this cell again.")
    return False
