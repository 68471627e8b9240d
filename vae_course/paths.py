"""Where the course keeps its data and trained models.

Everything the course writes (full MNIST if you download it, cached models) goes to one folder:

1. ``$VAE_COURSE_DATA`` if it is set;
2. otherwise ``data/`` at the top of the course checkout (beside ``pyproject.toml``);
3. otherwise, for an installation without a checkout, ``~/.cache/vae-course``.

Trained models go to ``<data folder>/models``, or to ``$VAE_COURSE_MODELS`` if that is set (the
benchmark uses it to time the notebooks against an empty model cache without hiding MNIST).
"""

import errno
import os
from pathlib import Path

DATA_ENV = "VAE_COURSE_DATA"
MODELS_ENV = "VAE_COURSE_MODELS"
COURSE_ROOT = Path(__file__).resolve().parent.parent


def is_checkout():
    """True when the package sits inside the course repository (an editable install)."""
    return (COURSE_ROOT / "pyproject.toml").is_file() and (COURSE_ROOT / "notebooks").is_dir()


def folder_from_env(name):
    """The folder an environment variable names, or None when it is unset or empty.

    Raises ValueError naming the variable when its value cannot be a folder: a symbolic link
    loop (which would otherwise surface later as a bare "Symlink loop" RuntimeError) or a path
    the system refuses to look up."""
    value = os.environ.get(name, "")
    if not value.strip():
        return None
    path = Path(value).expanduser()
    try:
        path.resolve()
    except (RuntimeError, OSError) as err:  # RuntimeError: symlink loop (Python < 3.13)
        loop = isinstance(err, RuntimeError) or getattr(err, "errno", None) == errno.ELOOP
        why = "is a symbolic link loop" if loop else f"cannot be used ({err})"
        raise ValueError(f"{name}={value!r} {why}; point {name} at a real folder, or unset it "
                         f"to use the default") from None
    return path


def data_dir():
    """The course data folder (it may not exist yet)."""
    folder = folder_from_env(DATA_ENV)
    if folder is not None:
        return folder
    if is_checkout():
        return COURSE_ROOT / "data"
    return Path.home() / ".cache" / "vae-course"


def models_dir():
    """Where trained models are cached (it may not exist yet)."""
    folder = folder_from_env(MODELS_ENV)
    if folder is not None:
        return folder
    return data_dir() / "models"


def lecture_notebooks(root=None):
    """The lecture notebooks (``notebooks/[0-9]*.ipynb``), in course order; the bench times
    them and the slides turn each into a deck."""
    root = Path(root) if root is not None else COURSE_ROOT
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))
