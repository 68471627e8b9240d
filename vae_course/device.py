"""Where tensors live and how runs are made repeatable.

One helper picks the device (CUDA, then Apple MPS, then CPU) and one helper seeds every random
number generator the course touches. Set ``VAE_COURSE_DEVICE=cpu`` (or ``cuda``, ``cuda:1``,
``mps``) to override the automatic choice.
"""

import os
import random

import numpy as np
import torch

from .argcheck import check_int

DEVICE_ENV = "VAE_COURSE_DEVICE"


def get_device(override=None):
    """Return the torch.device the course should use.

    Order: the ``override`` argument, then the ``VAE_COURSE_DEVICE`` environment variable, then
    CUDA if available, then Apple MPS, then CPU.
    """
    wanted = override or os.environ.get(DEVICE_ENV, "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as err:
            raise ValueError(
                f"device: {wanted!r} is not a device name; use 'cpu', 'cuda', 'cuda:0' or 'mps' "
                f"(from {'the argument' if override else DEVICE_ENV})"
            ) from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device: {wanted!r} was asked for but CUDA is not available here; "
                             f"unset {DEVICE_ENV} or set it to 'cpu'")
        if device.type == "mps" and not _mps_available():
            raise ValueError(f"device: {wanted!r} was asked for but Apple MPS is not available "
                             f"here; unset {DEVICE_ENV} or set it to 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def seed_everything(seed=0):
    """Seed Python, NumPy and torch (CPU and every GPU) so a run can be repeated exactly."""
    seed = check_int("seed", seed, low=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed
