"""A cache of trained models, so a later notebook or a widget can reuse a model without retraining.

A model is stored under ``<data folder>/models/<name>-<hash>.pt`` (or under
``$VAE_COURSE_MODELS``), where the hash is taken from its configuration (architecture, training
budget, data, seed...) and from the type of device it is trained on (cpu, cuda, mps): the
same seed draws other random numbers on a GPU, so a GPU-trained model is never silently reused on
a CPU, nor the other way round. Change any of those and a new model is trained. Files are written atomically (temporary file, then rename) and loaded with
``torch.load(weights_only=True)``, which cannot run code from a file someone else gave you.
Set ``VAE_COURSE_NO_CACHE=1`` to always retrain.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

from .argcheck import check_callable, describe, fail
from .device import get_device
from .paths import models_dir

NO_CACHE_ENV = "VAE_COURSE_NO_CACHE"


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, corrupt, or not a course checkpoint."""


def config_key(name, config):
    """File stem for a model: its name plus a short hash of its JSON configuration."""
    if not isinstance(name, str) or not name or any(c in name for c in '/\\:') or \
            name.startswith("."):
        fail("name", "a short file-name-safe string such as 'vae-mnist'", repr(name))
    if not isinstance(config, dict):
        fail("config", "a dict of everything that determines the trained weights",
             describe(config), TypeError)
    text = json.dumps(config, sort_keys=True, default=str)
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def model_key(name, config, device=None):
    """The cache file stem of a model trained on ``device`` (default ``get_device()``):
    ``config_key`` of the configuration plus the device type."""
    if not isinstance(config, dict):
        config_key(name, config)  # raises the usual TypeError
    return config_key(name, {**config, "device": get_device(device).type})


def save_checkpoint(model, path, extra=None):
    """Write the model's weights (and optional JSON-able ``extra``) atomically to ``path``."""
    _check_model(model)
    path = _check_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": "vae-course/1", "state_dict": model.state_dict(),
               "extra": json.dumps(extra or {}, default=str)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; every learner of a class must read it
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(model, path):
    """Load weights saved by ``save_checkpoint`` into ``model``; returns the ``extra`` dict.

    Raises ``FileNotFoundError`` for a missing file and ``CheckpointError`` for anything that is
    not a complete checkpoint of this model (truncated, foreign, another architecture); the
    model is left unchanged in every failing case.
    """
    _check_model(model)
    path = _check_path(path)
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
    state, extra = payload.get("state_dict"), payload.get("extra", "{}")
    if not isinstance(state, dict) or not isinstance(extra, str):
        raise CheckpointError(f"{path} is a damaged vae-course checkpoint (no weights or no "
                              f"metadata); delete it to retrain.")
    try:
        extra = json.loads(extra)
    except ValueError:
        raise CheckpointError(f"{path} is a damaged vae-course checkpoint (its metadata is not "
                              f"JSON); delete it to retrain.") from None
    own = model.state_dict()
    wrong = sorted(map(str, set(own) ^ set(state))) or [
        k for k in own
        if not isinstance(state[k], torch.Tensor) or state[k].shape != own[k].shape]
    if wrong:  # checked first: load_state_dict would copy the matching tensors before failing
        raise CheckpointError(f"{path} holds weights for a different model (they differ in "
                              f"{', '.join(wrong[:3])}{'...' if len(wrong) > 3 else ''}); "
                              f"delete it to retrain.")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(f"{path} holds weights for a different model: "
                              f"{str(err).splitlines()[0]}") from None
    return extra


def _check_model(model):
    if not isinstance(model, torch.nn.Module):
        fail("model", "a torch.nn.Module", describe(model), TypeError)


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        fail("path", "a file path (str or pathlib.Path)", describe(path), TypeError)
    return Path(path)


def train_or_load(name, config, make_model, train, folder=None, verbose=True, device=None):
    """Return a trained model, from the cache when one with this configuration exists.

    Args:
        name: a short name, e.g. "ae-mnist".
        config: a JSON-able dict of everything that determines the trained weights.
        make_model: ``() -> nn.Module`` building the untrained model.
        train: ``(model) -> extra`` trains it in place; ``extra`` (JSON-able, e.g. the final
            test loss) is stored beside the weights. May return None.
        device: the device ``train`` trains on (default ``get_device()``). Its type is part of
            the cache key, so pass the one ``train`` really uses.
    Returns:
        ``(model, extra, from_cache)`` with the model in eval mode on the CPU, however it
        was trained (a model loaded from the cache is on the CPU too).
    """
    check_callable("make_model", make_model, "a function that builds the untrained model")
    check_callable("train", train, "a function that trains the model in place")
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        fail("folder", "a folder path or None", describe(folder), TypeError)
    folder = Path(folder) if folder is not None else models_dir()
    path = folder / (model_key(name, config, device) + ".pt")
    model = make_model()
    if not isinstance(model, torch.nn.Module):
        fail("make_model", "a function returning a torch.nn.Module",
             f"one returning {describe(model)}", TypeError)
    if path.is_file() and not os.environ.get(NO_CACHE_ENV):
        try:
            extra = load_checkpoint(model, path)
            if verbose:
                print(f"Loaded the trained model from the cache: {path.name}")
            return model.eval(), extra, True
        except CheckpointError as err:
            print(f"Cached model unusable, retraining: {err}")
    extra = train(model) or {}
    if extra.get("history", {}).get("interrupted"):
        # Ctrl-C (or a timeout) stopped training early: use the model now, but never let a
        # half-trained model stand in for the finished one next time.
        print("Training was interrupted, so this model is not cached; it will be retrained.")
        return model.cpu().eval(), extra, False
    try:
        save_checkpoint(model, path, extra)
    except (OSError, RuntimeError) as err:  # read-only or full disk: keep the trained model
        print(f"Could not cache the model in {folder} ({type(err).__name__}: {err}); it will be "
              f"retrained next time. Set VAE_COURSE_DATA to a writable folder to keep it.")
    return model.cpu().eval(), extra, False
