"""Where tensors live and how runs are made repeatable.

One helper picks the device (CUDA, then Apple MPS, then CPU) and one helper seeds every random
number generator the course touches. Set ``VAE_COURSE_DEVICE=cpu`` (or ``cuda``, ``cuda:1``,
``mps``) to override the automatic choice, and ``VAE_COURSE_SEED=1`` to run the lecture notebooks
under another seed (``scripts/seed_margins.py`` does that to check each claim's margin).

What repeats: on one device type with the same software (torch version, CPU or GPU model), a
seed gives the same numbers bit for bit. Across devices it does not: CUDA and MPS draw other
random numbers than the CPU for the same seed, and their kernels sum in other orders. TF32
(NVIDIA Ampere and later) would also round matrix products and convolutions to a 10-bit
mantissa; importing this module turns it off, so a GPU computes in full float32 like the CPU.
"""

import os
import random
import re

import numpy as np
import torch

from .argcheck import check_int

DEVICE_ENV = "VAE_COURSE_DEVICE"
SEED_ENV = "VAE_COURSE_SEED"

# Full float32 on NVIDIA GPUs: TF32 would make a GPU run differ from a CPU run by more than
# summation order (about 1e-3 relative per product instead of 1e-7).
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def get_device(override=None):
    """Return the torch.device the course should use.

    Order: the ``override`` argument, then the ``VAE_COURSE_DEVICE`` environment variable, then
    CUDA if available, then Apple MPS, then CPU.
    """
    source = "device" if override else DEVICE_ENV
    wanted = override or os.environ.get(DEVICE_ENV, "").strip()
    if wanted:
        return _checked_device(str(wanted).strip(), source)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


DEVICE_NAME = re.compile(r"(cpu|mps|cuda(:[0-9]+)?)")
VALID_DEVICES = "'cpu', 'cuda', 'cuda:N' (N = 0, 1, ...) or 'mps'"


def _checked_device(wanted, source):
    """``wanted`` as a torch.device if the course can train on it here; otherwise a
    ValueError that names where the value came from (``source``) and the valid values.

    torch knows many more device types (xpu, meta, xla, hpu...) that it accepts here and that
    fail only later, deep inside training; the course supports these three."""
    if not DEVICE_NAME.fullmatch(wanted):
        raise ValueError(f"{source}={wanted!r} is not a device the course can use; set it to "
                         f"{VALID_DEVICES}, or unset it to pick one automatically")
    device = torch.device(wanted)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{source}={wanted!r} asks for CUDA, but CUDA is not available "
                             f"here; set it to 'cpu' or unset it")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"{source}={wanted!r} asks for GPU {device.index}, but this "
                             f"machine has {torch.cuda.device_count()} (cuda:0 to "
                             f"cuda:{torch.cuda.device_count() - 1}); set it to one of those")
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"{source}={wanted!r} asks for Apple MPS, but MPS is not available "
                         f"here; set it to 'cpu' or unset it")
    return device


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def course_seed(default=0):
    """The seed a lecture notebook runs under: ``$VAE_COURSE_SEED`` if set, else ``default``."""
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return default
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(f"{SEED_ENV}: expected a non-negative integer, got {text!r}")
    return seed


def seed_everything(seed=None):
    """Seed Python, NumPy and torch (CPU and every GPU) so a run can be repeated exactly.

    ``seed=None`` takes ``course_seed()`` (``$VAE_COURSE_SEED``, default 0); the seed used is
    returned, so a notebook writes ``SEED = seed_everything()`` and derives every other seed
    from ``SEED``."""
    if seed is None:
        seed = course_seed()
    seed = check_int("seed", seed, low=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed
