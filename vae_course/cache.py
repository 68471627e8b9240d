"""A cache of trained models, so a later notebook or a widget can reuse a model without retraining.

A model is stored under ``<data folder>/models/<name>-<hash>.pt``, where the hash is taken from
its configuration (architecture, training budget, data, seed...). Change any of those and a new
model is trained. Files are written atomically (temporary file, then rename) and loaded with
``torch.load(weights_only=True)``, which cannot run code from a file someone else gave you.
Set ``VAE_COURSE_NO_CACHE=1`` to always retrain.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

from .paths import data_dir

NO_CACHE_ENV = "VAE_COURSE_NO_CACHE"


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, corrupt, or not a course checkpoint."""


def config_key(name, config):
    """File stem for a model: its name plus a short hash of its JSON configuration."""
    text = json.dumps(config, sort_keys=True, default=str)
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def save_checkpoint(model, path, extra=None):
    """Write the model's weights (and optional JSON-able ``extra``) atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": "vae-course/1", "state_dict": model.state_dict(),
               "extra": json.dumps(extra or {}, default=str)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(model, path):
    """Load weights saved by ``save_checkpoint`` into ``model``; returns the ``extra`` dict."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}: "
                              f"{str(err).splitlines()[0][:200] if str(err) else ''}). It may be "
                              f"truncated or come from another program; delete it to retrain."
                              ) from None
    if not isinstance(payload, dict) or payload.get("format") != "vae-course/1":
        raise CheckpointError(f"{path} is not a vae-course checkpoint; delete it to retrain.")
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"{path} holds weights for a different model: "
                              f"{str(err).splitlines()[0]}") from None
    return json.loads(payload["extra"])


def train_or_load(name, config, make_model, train, folder=None, verbose=True):
    """Return a trained model, from the cache when one with this configuration exists.

    Args:
        name: a short name, e.g. "ae-mnist".
        config: a JSON-able dict of everything that determines the trained weights.
        make_model: ``() -> nn.Module`` building the untrained model.
        train: ``(model) -> extra`` trains it in place; ``extra`` (JSON-able, e.g. the final
            test loss) is stored beside the weights. May return None.
    Returns:
        ``(model, extra, from_cache)`` with the model in eval mode on the CPU... or wherever
        ``train`` left it.
    """
    folder = Path(folder) if folder is not None else data_dir() / "models"
    path = folder / (config_key(name, config) + ".pt")
    model = make_model()
    if path.is_file() and not os.environ.get(NO_CACHE_ENV):
        try:
            extra = load_checkpoint(model, path)
            if verbose:
                print(f"Loaded the trained model from the cache: {path.name}")
            return model.eval(), extra, True
        except CheckpointError as err:
            print(f"Cached model unusable, retraining: {err}")
    extra = train(model) or {}
    try:
        save_checkpoint(model, path, extra)
    except OSError as err:
        print(f"Could not cache the model in {folder} ({err}); it will be retrained next time.")
    return model.eval(), extra, False
