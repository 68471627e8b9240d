"""The test bench of lecture 07 and exercise 07: train a fresh VAE with *any* loss function and
record what that loss function reports.

Most VAE mistakes live in the loss and do not crash: the run finishes and the loss falls. So the
bench keeps what the loss function says (its loss and its KL) apart from what the trained model
is (measured afterwards with correct code), and stops at the first loss that is not a finite
number. Lecture 07 runs its eight mistakes on it (a 16-D VAE, 400 steps); the checks of exercise
07 run the learner's fixed functions on it (an 8-D VAE, 80 steps), so the learner sees the same
measurement before and after the fix.
"""

import math

import torch
from tqdm.auto import tqdm

from .models import VAE


def train_with_loss(loss_fn, x, *, latent_dim, hidden, steps, batch_size=128, seed=0,
                    device="cpu", encoder_scale=1.0, encode_fn=None, logvar_fn=None,
                    progress=False, desc="run"):
    """Train a fresh ``VAE(latent_dim, hidden)`` with Adam (lr 1e-3) for ``steps`` steps on
    random batches of ``x``, with ``loss_fn(logits, x, mu, logvar) -> (loss, reported_kl)``.

    The caller seeds torch first (the initial weights and the sampled z follow from it);
    ``seed`` fixes the batches. ``encoder_scale`` multiplies the encoder's input (lecture 07's
    mistake 5 and exercise 07's bug 5: data outside [0, 1]); ``encode_fn(model, x) -> (mu,
    logvar)`` replaces ``model.encode`` (exercise 07's fix of bug 5); ``logvar_fn``
    post-processes log σ² (the lecture's fix).

    Returns the model (in eval mode) and a record of the run: the losses and KLs the loss
    function reported, the largest log σ² the encoder gave, and the step at which the loss was
    first not a finite number (None if never).
    """
    model = VAE(latent_dim, hidden=hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    record = {"loss": [], "kl": [], "max_logvar": -math.inf, "stopped_at": None}
    for step in tqdm(range(steps), desc=desc, leave=False, disable=not progress):
        xb = x[torch.randint(len(x), (batch_size,), generator=g)].to(device)
        pixels = xb * encoder_scale
        mu, logvar = model.encode(pixels) if encode_fn is None else encode_fn(model, pixels)
        if logvar_fn is not None:
            logvar = logvar_fn(logvar)
        record["max_logvar"] = max(record["max_logvar"], logvar.max().item())
        logits = model.decode(model.reparameterize(mu, logvar))
        try:
            loss, kl = loss_fn(logits, xb, mu, logvar)
        except ValueError as err:  # the course's losses refuse NaN/inf inputs
            if "finite" not in str(err):
                raise
            loss = torch.tensor(math.inf)
        if not torch.isfinite(loss):
            record["stopped_at"] = step
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        record["loss"].append(loss.item())
        record["kl"].append(kl.item())
    return model.eval(), record
