"""The course's standard trained models, cached so that later notebooks and widgets reuse them.

Each function trains its model the first time (seconds on a CPU, with a progress bar) and then
loads it from ``<data folder>/models/`` — keyed by its whole configuration and by which MNIST is
in use, so changing a setting trains a fresh model. Every notebook still runs from a clean clone:
a missing cache just means training now.
"""

from .cache import train_or_load
from .classifier import accuracy, make_classifier, train_classifier
from .data import load_mnist
from .models import VAE, Autoencoder
from .train import evaluate, fit


def digit_ruler(steps=400, seed=0, data=None):
    """The digit classifier used to score how digit-like generated images are.

    Returns ``(classifier, test_accuracy)``.
    """
    data = data or load_mnist(quiet=True)
    config = {"steps": steps, "seed": seed, "data": data.source, "n": len(data.x_train)}

    def train(model):
        trained = train_classifier(data.x_train, data.y_train, steps=steps, seed=seed)
        model.load_state_dict(trained.state_dict())
        return {"test_accuracy": accuracy(model, data.x_test, data.y_test)}

    model, extra, _ = train_or_load("ruler", config, make_classifier, train)
    return model, extra["test_accuracy"]


def autoencoder(latent_dim=2, hidden=400, steps=3000, batch_size=128, lr=1e-3, seed=0,
                data=None):
    """The plain autoencoder of notebook 01 (MLP, BCE reconstruction).

    Returns ``(model, extra)`` where extra holds the held-out reconstruction loss."""
    data = data or load_mnist(quiet=True)
    config = {"latent_dim": latent_dim, "hidden": hidden, "steps": steps, "batch": batch_size,
              "lr": lr, "seed": seed, "data": data.source, "n": len(data.x_train)}

    def train(model):
        history = fit(model, data.x_train, data.x_test, steps=steps, batch_size=batch_size,
                      lr=lr, seed=seed, device="cpu", desc="autoencoder")
        return {"test_recon": history.test_nelbo[-1], "seconds": history.seconds}

    model, extra, _ = train_or_load(
        "ae", config, lambda: Autoencoder(latent_dim, hidden), train)
    return model, extra


def vae(latent_dim=2, hidden=400, steps=3000, batch_size=128, lr=1e-3, beta=1.0, arch="mlp",
        seed=0, data=None):
    """A VAE trained with the course's recipe (constant β; MLP or conv).

    Returns ``(model, extra)`` where extra holds the held-out −ELBO in nats per image."""
    data = data or load_mnist(quiet=True)
    config = {"latent_dim": latent_dim, "hidden": hidden, "steps": steps, "batch": batch_size,
              "lr": lr, "beta": beta, "arch": arch, "seed": seed, "data": data.source,
              "n": len(data.x_train)}

    def train(model):
        history = fit(model, data.x_train, data.x_test, steps=steps, batch_size=batch_size,
                      lr=lr, beta=beta, seed=seed, device="cpu", desc="VAE")
        return {"test_nelbo": evaluate(model, data.x_test), "seconds": history.seconds}

    model, extra, _ = train_or_load(
        "vae", config, lambda: VAE(latent_dim, hidden, arch=arch), train)
    return model, extra
