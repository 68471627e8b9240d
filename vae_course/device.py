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

import numpy as np
import torch

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
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed
