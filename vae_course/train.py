"""The training loop of the course.

``fit`` trains an ``Autoencoder`` or a ``VAE`` on images that are already in memory: each step
takes a random mini-batch by indexing one tensor (no Dataset, no DataLoader, no per-image Python),
so it trains about 2.5 times as many images per second as the usual per-sample pipeline on
an idle 2-core CPU, which is as far as removing the data work can go there (``vae-course
bench``; the README's results).
The budget is a number of steps (optionally capped in seconds), never epochs, so a notebook takes
the same time whichever MNIST is on disk.
"""

import math
import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .argcheck import (check_choice, check_images, check_int, check_module, check_number,
                       describe)
from .device import get_device, seed_everything
from .losses import LIKELIHOODS, elbo_loss, reconstruction_loss
from .models import is_vae
from .schedules import as_schedule


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    """What happened during ``fit``: one entry per step, and one per held-out evaluation."""

    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    recon: list = field(default_factory=list)
    kl: list = field(default_factory=list)
    beta: list = field(default_factory=list)
    eval_step: list = field(default_factory=list)
    test_nelbo: list = field(default_factory=list)  # −ELBO (AE: reconstruction) in nats/image
    seconds: float = 0.0
    images_seen: int = 0
    interrupted: bool = False

    @property
    def images_per_second(self):
        return self.images_seen / self.seconds if self.seconds > 0 else float("nan")

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items()}


@torch.no_grad()
def evaluate(model, x, beta=1.0, likelihood="bernoulli", batch_size=1000, seed=0):
    """Mean held-out loss in nats per image: −ELBO for a VAE (β-weighted if ``beta`` ≠ 1),
    reconstruction loss for an autoencoder. The sampled z are seeded, so the number repeats."""
    check_module("model", model, methods=("encode", "decode"))
    _check_images("x", x)
    _check_image_shape(model, "x", x)
    check_number("beta", beta, low=0)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    batch_size = check_int("batch_size", batch_size, low=1)
    seed = check_int("seed", seed, low=0)
    return _evaluate(model, x, beta, likelihood, batch_size, seed)


@torch.no_grad()
def _evaluate(model, x, beta=1.0, likelihood="bernoulli", batch_size=1000, seed=0):
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, n = 0.0, 0
    # torch.manual_seed reseeds the generator of every device, so fork the one that trains
    # too (CUDA or MPS): evaluating in the middle of fit must not reset its training noise.
    if device.type == "cpu":
        forked = torch.random.fork_rng(devices=[])
    else:
        forked = torch.random.fork_rng(devices=[device.index or 0], device_type=device.type)
    with forked:
        torch.manual_seed(seed)
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device, non_blocking=True)
            if is_vae(model):
                logits, mu, logvar = model(xb)
                loss = elbo_loss(logits, xb, mu, logvar, beta, likelihood, check_inputs=False).loss
            else:
                loss = reconstruction_loss(model(xb), xb, likelihood, check_inputs=False).mean()
            total += loss.item() * len(xb)
            n += len(xb)
    model.train(was_training)
    return total / n


def fit(model, x_train, x_test=None, *, steps=2000, batch_size=128, lr=1e-3, beta=1.0,
        likelihood="bernoulli", free_bits=0.0, seconds=None, eval_every=None, device=None,
        seed=0, binarize=False, check_every=None, progress=True, desc=None):
    """Train ``model`` with Adam on in-memory images and return a ``History``.

    Args:
        model: an ``Autoencoder`` (loss = reconstruction) or a ``VAE`` (loss = recon + β·KL).
        x_train, x_test: image tensors (N, C, H, W) in [0, 1]; ``x_test`` is evaluated every
            ``eval_every`` steps (default: 10 times per run) and at the end.
        steps: the budget in optimiser steps; ``seconds`` (optional) stops earlier on time.
        beta: a number or a schedule from ``vae_course.schedules`` (called with the step).
        free_bits: nats per latent dimension below which KL is not penalised (0 = off).
        device: where to train; default ``get_device()``. The model is moved there.
        seed: seeds everything (batch order, initial z samples) so a run repeats exactly.
        binarize: the dynamically binarised protocol of the likelihood literature: each batch
            is replaced by a fresh sample, pixel i black or white with probability x_i, so the
            Bernoulli likelihood is a true probability of the (binary) data. Evaluate on a
            test set binarised once (``load_mnist(binarize=True)``).
        check_every: read the losses back from the device every this many steps (one sync
            instead of three per step). Default: every step on the CPU, where reading back
            costs nothing and a NaN is caught before it reaches the weights; every 50 steps on
            a GPU, where a NaN found at a check puts the weights back to those of the
            previous check.

    Stops with ``TrainingDiverged`` on a NaN or infinite loss. Ctrl-C (KeyboardInterrupt) stops
    training cleanly: the history so far is returned with ``interrupted=True``.
    """
    check_module("model", model, methods=("encode", "decode"))
    _check_images("x_train", x_train)
    _check_image_shape(model, "x_train", x_train)
    if x_test is not None:
        _check_images("x_test", x_test)
        _check_image_shape(model, "x_test", x_test)
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_number("lr", lr, low=0, strict_low=True)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    free_bits = check_number("free_bits", free_bits, low=0)
    if seconds is not None:
        check_number("seconds", seconds, low=0, strict_low=True)
    if eval_every is not None:
        check_int("eval_every", eval_every, low=1)
    check_int("seed", seed, low=0)
    if not isinstance(binarize, bool):
        raise TypeError(f"binarize: expected True or False, got {describe(binarize)}")
    if check_every is not None:
        check_int("check_every", check_every, low=1)
    schedule = as_schedule(beta)
    seed_everything(seed)
    device = get_device(device)
    check_every = check_every or (1 if device.type == "cpu" else 50)
    model.to(device).train()
    vae = is_vae(model)
    x_train = x_train.to(device)
    n = len(x_train)
    batch_size = min(batch_size, n)
    eval_every = eval_every or max(1, steps // 10)
    optimizer = _adam(model.parameters(), lr)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    history = History()
    order, cursor = torch.randperm(n, generator=generator).to(device), 0
    pending = []  # (step, β, [loss, recon, kl] on the device) not yet read back
    checked = _Checkpoint(model, 0) if check_every > 1 else None  # weights at the last check

    bar = tqdm(total=steps, desc=desc or ("VAE" if vae else "AE"), disable=not progress,
               leave=False)
    start = time.perf_counter()
    step = 0
    applied = 0  # steps whose update is complete
    try:
        for step in range(steps):
            if cursor + batch_size > n:  # new epoch: reshuffle
                order, cursor = torch.randperm(n, generator=generator).to(device), 0
            xb = x_train[order[cursor:cursor + batch_size]]
            cursor += batch_size
            if binarize:
                xb = torch.bernoulli(xb)

            b = _beta_at(schedule, step)
            if vae:
                logits, mu, logvar = model(xb)
                if step == 0:
                    _check_outputs(model, xb, logits, mu, logvar)
                loss, recon, kl = elbo_loss(logits, xb, mu, logvar, b, likelihood, free_bits,
                                           check_inputs=False)
            else:
                mu = logvar = None
                logits = model(xb)
                if step == 0:
                    _check_outputs(model, xb, logits)
                loss = recon = reconstruction_loss(logits, xb, likelihood, check_inputs=False).mean()
                kl = torch.zeros((), device=loss.device)
            pending.append((step, b, torch.stack([loss.detach(), recon.detach(), kl.detach()])))

            evaluating = x_test is not None and ((step + 1) % eval_every == 0
                                                 or step == steps - 1)
            timed_out = seconds is not None and time.perf_counter() - start > seconds
            if len(pending) >= check_every or evaluating or timed_out or step == steps - 1:
                # Read back before this step's update, so with check_every=1 a diverged step
                # never reaches the weights.
                bad = _read_back(pending, history, len(xb))
                if bad is not None:
                    bad_step, bad_beta, values = bad
                    here = bad_step == step
                    message = _divergence_message(
                        model, bad_step, values, bad_beta, lr,
                        logvar if here else None, logits if here else None)
                    if checked is not None:
                        checked.restore(model)
                        message += (f" Losses are read back every {check_every} steps on "
                                    f"{device.type}: the model is back at its weights at the "
                                    f"start of step {checked.step}, the last check before it "
                                    f"diverged.")
                    raise TrainingDiverged(message)
                if checked is not None:
                    checked = _Checkpoint(model, step)
                bar.set_postfix(loss=f"{history.loss[-1]:.1f}", beta=f"{b:.2f}", refresh=False)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            applied = step + 1

            if evaluating:
                test_value = _evaluate(model, x_test, likelihood=likelihood)
                history.eval_step.append(step + 1)
                history.test_nelbo.append(test_value)
            bar.update(1)
            if timed_out:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        pending.clear()  # steps not read back are dropped
        _trim(history, applied)  # nor a step whose update did not finish, nor ragged lists
        print(f"Training interrupted at step {step}; returning the history so far "
              f"({len(history.step)} steps).")
    finally:
        history.seconds = time.perf_counter() - start
        bar.close()
        model.eval()
    if x_test is not None and (not history.eval_step or history.eval_step[-1] != len(history.step)):
        history.eval_step.append(len(history.step))
        history.test_nelbo.append(_evaluate(model, x_test, likelihood=likelihood))
    return history


class _Checkpoint:
    """A copy of the weights at a step whose loss was read back finite (GPU runs only)."""

    def __init__(self, model, step):
        self.step = step
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def restore(self, model):
        model.load_state_dict(self.state)


def _read_back(pending, history, batch_len):
    """Copy the pending losses to Python in one transfer and append them to ``history``.

    Returns ``(step, β, (loss, recon, kl))`` of the first non-finite step (and records nothing
    from it on), or None when all are finite."""
    values = torch.stack([v for _, _, v in pending]).tolist()
    steps = [(s, b) for s, b, _ in pending]
    pending.clear()
    for (s, b), (loss, recon, kl) in zip(steps, values):
        if not math.isfinite(loss):
            return s, b, (loss, recon, kl)
        history.step.append(s)
        history.loss.append(loss)
        history.recon.append(recon)
        history.kl.append(kl)
        history.beta.append(b)
        history.images_seen += batch_len
    return None


def _adam(params, lr):
    """Adam, with torch's fused kernel where this torch and device have one: the same update
    rule in one pass over the weights (about 10% more images per second on a 2-core CPU);
    the standard implementation otherwise."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def _beta_at(schedule, step):
    """The schedule's β at ``step`` as a float; +inf is let through (the loss diverges and the
    error names the step), NaN and negative values are a broken schedule."""
    value = schedule(step)
    try:
        b = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"beta: expected the schedule to return a number, got "
                        f"{describe(value)} at step {step}") from None
    if not b >= 0:
        raise ValueError(f"beta: expected the schedule to return a number >= 0, got {b!r} at "
                         f"step {step}")
    return b


def _check_outputs(model, xb, logits, mu=None, logvar=None):
    """Once, at the first step: the model's outputs fit the images (cheap shape checks)."""
    if not isinstance(logits, torch.Tensor) or logits.shape != xb.shape:
        raise ValueError(f"model: expected the decoder's logits to have the shape of the images "
                         f"{tuple(xb.shape)}, got {describe(logits)}")
    if mu is not None and (mu.ndim != 2 or len(mu) != len(xb) or logvar.shape != mu.shape):
        raise ValueError(f"model: expected encode(x) to give mu and logvar of shape "
                         f"(batch, latent_dim), got {tuple(mu.shape)} and {tuple(logvar.shape)}")


def _divergence_message(model, step, values, b, lr, logvar=None, logits=None):
    """Say where the non-finite loss came from: the weights, the encoder's log-variance, the
    decoder's logits, or β; then the likely cause and what to try. ``logvar`` and ``logits``
    are those of the diverged step when it is the current one (None otherwise)."""
    loss_value, recon, kl = values
    bad_params = [name for name, p in model.named_parameters()
                  if not bool(torch.isfinite(p).all())]
    lines = [f"the loss became {loss_value} at step {step} (recon={recon:.4g}, "
             f"kl={kl:.4g}, beta={b:g})."]
    if bad_params:
        lines.append(f"The weights are no longer finite ({', '.join(bad_params[:3])}"
                     f"{'...' if len(bad_params) > 3 else ''}): the previous update blew up.")
    if logvar is not None and bool(torch.isfinite(logvar).all()):
        lines.append(f"The encoder's log-variance reaches {logvar.abs().max().item():.3g}; "
                     f"exp() of it overflows above about 88 in float32.")
    elif logvar is not None:
        lines.append("The encoder's log-variance is not finite.")
    if logits is not None and not bool(torch.isfinite(logits).all()):
        lines.append("The decoder's logits are not finite.")
    if math.isinf(b):
        lines.append("β is infinite at this step: check the schedule.")
    lines.append(f"Likely cause: a learning rate too high for this model (lr={lr:g}; try "
                 f"{lr / 10:g}) or an unbounded log-variance overflowing in exp(); check the data "
                 f"is in [0, 1]. The model keeps the weights of the last finite step.")
    return " ".join(lines)


def _trim(history, applied):
    n = min(len(history.step), len(history.loss), len(history.recon), len(history.kl),
            len(history.beta), applied)
    if history.step:
        history.images_seen = history.images_seen * n // len(history.step)  # equal batches
    for name in ("step", "loss", "recon", "kl", "beta"):
        del getattr(history, name)[n:]
    m = min(len(history.eval_step), len(history.test_nelbo))
    del history.eval_step[m:]
    del history.test_nelbo[m:]


def _check_image_shape(model, name, x):
    shape = getattr(model, "image_shape", None)
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(f"{name}: expected images of shape (C, H, W) = {tuple(shape)} for this "
                         f"model, got shape {tuple(x.shape)}")


def _check_images(name, x):
    check_images(name, x)
