"""Gradient judging for the checks: does the learner's result stay differentiable, correctly?

A loss term with the right value and no gradient trains nothing, silently: ``mu.detach()`` in a
KL, a ``.item()`` round trip, a NumPy detour or a ``torch.tensor(...)`` rebuild all give the right
number and cut the graph. So a check that judges a differentiable result calls, after its value
checks::

    mine, ref = leaves(mu=mu, logvar=logvar), leaves(mu=mu, logvar=logvar)
    got = check.call(fn, mine["mu"], mine["logvar"])
    expected = reference(ref["mu"], ref["logvar"])
    ...                                               # value checks
    compare_gradients(check, got, expected, mine, ref, what="your KL")

The same random weights are back-propagated through both results (a vector-Jacobian product, so
every entry of a non-scalar result counts), and the gradients that reach each input are compared.
"""

import torch

_WAYS_TO_CUT = ("`.detach()`, `.item()` or `float(...)`, a NumPy round trip, "
                "`torch.tensor(...)` around a tensor, or `with torch.no_grad()`")


def leaves(**tensors):
    """Fresh leaf copies of the given tensors that record gradients (same dtype and values)."""
    return {name: t.detach().clone().requires_grad_(True) for name, t in tensors.items()}


def _weights(expected):
    generator = torch.Generator().manual_seed(1234)
    w = torch.rand(expected.shape, generator=generator, dtype=torch.float64) + 0.5
    return w.to(dtype=expected.dtype, device=expected.device)


def _grads(output, inputs, weights):
    grads = torch.autograd.grad(output, inputs, grad_outputs=weights.to(output.dtype),
                                allow_unused=True, retain_graph=True)
    return [None if g is None else g.detach().double().cpu() for g in grads]


def compare_gradients(check, got, expected, mine, ref, what="the result", only=None,
                      rtol=1e-3, atol=1e-6):
    """End the check with a named mistake unless ``got`` back-propagates like ``expected``.

    ``mine``/``ref`` map input names to the leaf tensors the learner's function and the reference
    received; ``only`` limits the comparison to the inputs that must receive a gradient.
    """
    names = [n for n in (only if only is not None else mine) if ref[n].requires_grad]
    if not names:
        return None
    if not isinstance(got, torch.Tensor) or got.grad_fn is None:
        check.mistake("grad.no_graph",
                      f"{what} has the right value but carries no gradient: it is cut off from "
                      f"the computation graph, so training with it would change nothing. "
                      f"Something turned a tensor into a plain number or a new tensor on the "
                      f"way ({_WAYS_TO_CUT}). Keep every step a torch operation on the inputs.")
    weights = _weights(expected)
    try:
        got_grads = _grads(got, [mine[n] for n in names], weights)
    except RuntimeError as err:
        check.fail(f"back-propagating through {what} failed: {str(err).splitlines()[0][:200]}. "
                   f"The result must stay differentiable with respect to "
                   f"{', '.join(f'`{n}`' for n in names)}.")
    ref_grads = _grads(expected, [ref[n] for n in names], weights)
    for name, g_got, g_ref in zip(names, got_grads, ref_grads):
        if g_ref is None or not g_ref.abs().sum() > 0:
            continue
        if g_got is None or not g_got.abs().sum() > 0:
            check.mistake("grad.detached",
                          f"{what} has the right value, but no gradient reaches `{name}`: "
                          f"something detaches it ({_WAYS_TO_CUT}). Training would never "
                          f"update whatever produces `{name}`.")
        if g_got.shape != g_ref.shape or not torch.allclose(g_got, g_ref, rtol=rtol,
                                                             atol=atol):
            worst = (g_got - g_ref).abs().max().item() if g_got.shape == g_ref.shape \
                else float("nan")
            check.mistake("grad.wrong",
                          f"{what} has the right value, but its gradient with respect to "
                          f"`{name}` is wrong (largest difference {worst:.3g}). A value that "
                          f"is right while its gradient is not usually means part of the "
                          f"formula was computed on a detached copy or as a constant.")
    return None


def compare_module_gradients(check, module, loss, what="your model"):
    """End the check unless ``loss.backward()`` gives every parameter of ``module`` a gradient."""
    if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
        check.mistake("grad.no_graph",
                      f"the loss computed from {what} carries no gradient ({_WAYS_TO_CUT} "
                      f"somewhere in forward). Keep forward a chain of torch operations.")
    module.zero_grad(set_to_none=True)
    try:
        loss.backward()
    except RuntimeError as err:
        check.fail(f"back-propagating through {what} failed: {str(err).splitlines()[0][:200]}.")
    unused = [name for name, p in module.named_parameters()
              if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    if unused:
        listed = ", ".join(f"`{n}`" for n in unused[:4]) + (" …" if len(unused) > 4 else "")
        check.mistake("grad.unused_parameter",
                      f"no gradient reaches {len(unused)} parameter(s) of {what}: {listed}. "
                      f"A layer that is created but not used in forward, or whose output is "
                      f"detached, never learns.")
    return None
