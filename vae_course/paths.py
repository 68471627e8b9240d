"""Where the course keeps its data and trained models.

Everything the course writes (full MNIST if you download it, cached models) goes to one folder:

1. ``$VAE_COURSE_DATA`` if it is set;
2. otherwise ``data/`` at the top of the course checkout (beside ``pyproject.toml``);
3. otherwise, for an installation without a checkout, ``~/.cache/vae-course``.

Trained models go to ``<data folder>/models``, or to ``$VAE_COURSE_MODELS`` if that is set (the
benchmark uses it to time the notebooks against an empty model cache without hiding MNIST).
"""

import os
from pathlib import Path

DATA_ENV = "VAE_COURSE_DATA"
MODELS_ENV = "VAE_COURSE_MODELS"
COURSE_ROOT = Path(__file__).resolve().parent.parent


def is_checkout():
    """True when the package sits inside the course repository (an editable install)."""
    return (COURSE_ROOT / "pyproject.toml").is_file() and (COURSE_ROOT / "notebooks").is_dir()


def data_dir():
    """The course data folder (it may not exist yet)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    if is_checkout():
        return COURSE_ROOT / "data"
    return Path.home() / ".cache" / "vae-course"


def models_dir():
    """Where trained models are cached (it may not exist yet)."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    return data_dir() / "models"


def lecture_notebooks(root=None):
    """The lecture notebooks (``notebooks/[0-9]*.ipynb``), in course order; the bench times
    them and the slides turn each into a deck."""
    root = Path(root) if root is not None else COURSE_ROOT
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))
