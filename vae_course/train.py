"""The training loop of the course.

``fit`` trains an ``Autoencoder`` or a ``VAE`` on images that are already in memory: each step
takes a random mini-batch by indexing one tensor (no Dataset, no DataLoader, no per-image Python),
which is what makes it several times faster than the usual per-sample pipeline on a CPU.
The budget is a number of steps (optionally capped in seconds), never epochs, so a notebook takes
the same time whichever MNIST is on disk.
"""

import math
import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .device import get_device, seed_everything
from .losses import elbo_loss, reconstruction_loss
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


def is_vae(model):
    return hasattr(model, "reparameterize")


@torch.no_grad()
def evaluate(model, x, beta=1.0, likelihood="bernoulli", batch_size=1000, seed=0):
    """Mean held-out loss in nats per image: −ELBO for a VAE (β-weighted if ``beta`` ≠ 1),
    reconstruction loss for an autoencoder. The sampled z are seeded, so the number repeats."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, n = 0.0, 0
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device, non_blocking=True)
            if is_vae(model):
                logits, mu, logvar = model(xb)
                loss = elbo_loss(logits, xb, mu, logvar, beta, likelihood).loss
            else:
                loss = reconstruction_loss(model(xb), xb, likelihood).mean()
            total += loss.item() * len(xb)
            n += len(xb)
    model.train(was_training)
    return total / n


def fit(model, x_train, x_test=None, *, steps=2000, batch_size=128, lr=1e-3, beta=1.0,
        likelihood="bernoulli", free_bits=0.0, seconds=None, eval_every=None, device=None,
        seed=0, progress=True, desc=None):
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

    Stops with ``TrainingDiverged`` on a NaN or infinite loss. Ctrl-C (KeyboardInterrupt) stops
    training cleanly: the history so far is returned with ``interrupted=True``.
    """
    _check_images("x_train", x_train)
    if x_test is not None:
        _check_images("x_test", x_test)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive int, got {steps!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    schedule = as_schedule(beta)
    seed_everything(seed)
    device = get_device(device)
    model.to(device).train()
    vae = is_vae(model)
    x_train = x_train.to(device)
    n = len(x_train)
    batch_size = min(batch_size, n)
    eval_every = eval_every or max(1, steps // 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    history = History()
    order, cursor = torch.randperm(n, generator=generator).to(device), 0

    bar = tqdm(total=steps, desc=desc or ("VAE" if vae else "AE"), disable=not progress,
               leave=False)
    start = time.perf_counter()
    step = 0
    try:
        for step in range(steps):
            if cursor + batch_size > n:  # new epoch: reshuffle
                order, cursor = torch.randperm(n, generator=generator).to(device), 0
            xb = x_train[order[cursor:cursor + batch_size]]
            cursor += batch_size

            b = float(schedule(step))
            if vae:
                logits, mu, logvar = model(xb)
                loss, recon, kl = elbo_loss(logits, xb, mu, logvar, b, likelihood, free_bits)
            else:
                loss = recon = reconstruction_loss(model(xb), xb, likelihood).mean()
                kl = torch.zeros(())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise TrainingDiverged(
                    f"the loss became {loss_value} at step {step} (recon={recon.item():.4g}, "
                    f"kl={kl.item():.4g}, beta={b:g}). Likely cause: a learning rate too high "
                    f"for this model (lr={lr:g}; try {lr / 10:g}) or log-variance overflowing "
                    f"in exp(); check the data is in [0, 1].")
            history.step.append(step)
            history.loss.append(loss_value)
            history.recon.append(recon.item())
            history.kl.append(kl.item())
            history.beta.append(b)
            history.images_seen += len(xb)

            if x_test is not None and ((step + 1) % eval_every == 0 or step == steps - 1):
                history.eval_step.append(step + 1)
                history.test_nelbo.append(evaluate(model, x_test, likelihood=likelihood))
            if step % 25 == 0:
                bar.set_postfix(loss=f"{loss_value:.1f}", beta=f"{b:.2f}", refresh=False)
            bar.update(1)
            if seconds is not None and time.perf_counter() - start > seconds:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Training interrupted at step {step}; returning the history so far.")
    finally:
        history.seconds = time.perf_counter() - start
        bar.close()
        model.eval()
    if x_test is not None and (not history.eval_step or history.eval_step[-1] != len(history.step)):
        history.eval_step.append(len(history.step))
        history.test_nelbo.append(evaluate(model, x_test, likelihood=likelihood))
    return history


def _check_images(name, x):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of images, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name}: expected shape (N, C, H, W), got {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError(f"{name}: is empty (shape {tuple(x.shape)}); pass at least one image")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a float tensor in [0, 1], got dtype {x.dtype}; "
                        f"divide uint8 images by 255")
    lo, hi = x.min().item(), x.max().item()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    if lo < 0 or hi > 1:
        raise ValueError(f"{name}: expected values in [0, 1], got min {lo:.3g}, max {hi:.3g}")
