"""Small helpers the bench sections share: an environment override, the model they train, and
the table's number formats."""

import os
from contextlib import contextmanager

from ..device import seed_everything
from ..models import VAE


@contextmanager
def environment(**values):
    """Set (a string) or unset (``None``) environment variables for the ``with`` block, then
    restore them; the kernels the notebooks section starts inherit them."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def make_model(recipe, device, seed=0, image_shape=(1, 28, 28)):
    """A freshly seeded VAE of ``recipe`` (latent_dim, hidden, arch) on ``device``."""
    seed_everything(seed)
    return VAE(recipe["latent_dim"], recipe["hidden"], image_shape=image_shape,
               arch=recipe["arch"]).to(device)


def fmt(value, digits=1):
    """A number for the results table: thousands separated, or a dash when missing."""
    return "–" if value is None else f"{value:,.{digits}f}"


def met(ok):
    """The table's "met" column: yes, **no**, or a dash where there is no target."""
    return "–" if ok is None else ("yes" if ok else "**no**")
