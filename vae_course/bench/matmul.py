"""The machine's own limit for training: how fast it multiplies matrices of the model's shapes.

The throughput ratio against the per-sample ``DataLoader`` is capped near (batch + step) / step,
because both pipelines do the same arithmetic. So the throughput section also says what fraction
of this machine's matrix-multiply rate ``fit`` reaches: the FLOPs of one training step (counted
by torch on a real step) times fit's steps per second, against the same matrix products timed
on their own (same shapes, device and threads, in the same run). 100 % would mean fit spends its
time on nothing but those products.
"""

import time

import torch
from torch import nn

from ..losses import elbo_loss


def training_matmuls(model, x):
    """The matrix products of one training step of ``model`` (a model built from ``nn.Linear``
    layers) on the batch ``x``, as ``(m, k, n)`` shapes of ``(m, k) @ (k, n)``: per layer the
    forward product, the weight gradient and, where the layer's input needs a gradient (every
    layer but the first), the input gradient."""
    if any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules()):
        raise ValueError("model: expected a model of Linear layers (an MLP), got convolutions")
    shapes = []

    def record(layer, inputs, output):
        a = inputs[0]
        rows, i, o = a.numel() // a.shape[-1], layer.in_features, layer.out_features
        shapes.append((rows, i, o))          # forward: (rows, in) @ (in, out)
        shapes.append((o, rows, i))          # weight gradient: (out, rows) @ (rows, in)
        if a.requires_grad:
            shapes.append((rows, o, i))      # input gradient: (rows, out) @ (out, in)

    handles = [m.register_forward_hook(record) for m in model.modules()
               if isinstance(m, nn.Linear)]
    try:
        with torch.enable_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def step_flops(model, x):
    """FLOPs of one training step (forward, −ELBO, backward) of ``model`` on the batch ``x``,
    as torch's ``FlopCounterMode`` counts them (matrix products; 2 FLOPs per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        logits, mu, logvar = model(x)
        elbo_loss(logits, x, mu, logvar).loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(shapes, steps, device):
    """FLOP/s of this machine on the products ``shapes`` (each once per step, for ``steps``
    steps, after one untimed step), with random matrices already on ``device``."""
    pairs = [(torch.randn(m, k, device=device), torch.randn(k, n, device=device))
             for m, k, n in shapes]
    for a, b in pairs:  # warm-up: first-call allocations
        torch.mm(a, b)
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        for a, b in pairs:
            torch.mm(a, b)
    _sync(device)
    return 2 * sum(m * k * n for m, k, n in shapes) * steps / (time.perf_counter() - start)
