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
from .train import fit


def digit_ruler(steps=400, seed=0, data=None, device=None):
    """The digit classifier used to score how digit-like generated images are.

    Trained on ``device`` (default ``get_device()``, which follows ``VAE_COURSE_DEVICE``).
    Returns ``(classifier, test_accuracy)``, the classifier on the CPU.
    """
    data = data or load_mnist(quiet=True)
    config = {"steps": steps, "seed": seed, "data": data.source, "n": len(data.x_train),
              "features": 64}

    def train(model):
        trained = train_classifier(data.x_train, data.y_train, steps=steps, seed=seed,
                                   device=device)
        model.load_state_dict(trained.state_dict())
        return {"test_accuracy": accuracy(model, data.x_test, data.y_test)}

    model, extra, _ = train_or_load("ruler", config, make_classifier, train, device=device)
    return model, extra["test_accuracy"]


def autoencoder(latent_dim=2, hidden=400, steps=3000, batch_size=128, lr=1e-3, seed=0,
                data=None, device=None):
    """The plain autoencoder of notebook 01 (MLP, BCE reconstruction), trained on ``device``
    (default ``get_device()``, which follows ``VAE_COURSE_DEVICE``) and returned on the CPU.

    Returns ``(model, extra)``: extra holds the held-out reconstruction loss ("test_recon"),
    the training time ("seconds") and the training history as a dict ("history";
    ``History(**extra["history"])`` rebuilds it for ``plot_history``)."""
    data = data or load_mnist(quiet=True)
    config = {"latent_dim": latent_dim, "hidden": hidden, "steps": steps, "batch": batch_size,
              "lr": lr, "seed": seed, "data": data.source, "n": len(data.x_train), "stored": 2}

    def train(model):
        history = fit(model, data.x_train, data.x_test, steps=steps, batch_size=batch_size,
                      lr=lr, seed=seed, device=device, desc="autoencoder")
        return {"test_recon": history.test_nelbo[-1], "seconds": history.seconds,
                "history": history.as_dict()}

    model, extra, _ = train_or_load(
        "ae", config, lambda: Autoencoder(latent_dim, hidden), train, device=device)
    return model, extra


def vae(latent_dim=2, hidden=400, steps=3000, batch_size=128, lr=1e-3, beta=1.0, arch="mlp",
        seed=0, data=None, device=None):
    """A VAE trained with the course's recipe (constant β; MLP or conv), trained on ``device``
    (default ``get_device()``, which follows ``VAE_COURSE_DEVICE``) and returned on the CPU.

    Returns ``(model, extra)``: extra holds the held-out −ELBO in nats per image
    ("test_nelbo"), the training time ("seconds") and the training history ("history")."""
    data = data or load_mnist(quiet=True)
    config = {"latent_dim": latent_dim, "hidden": hidden, "steps": steps, "batch": batch_size,
              "lr": lr, "beta": beta, "arch": arch, "seed": seed, "data": data.source,
              "n": len(data.x_train), "stored": 2}

    def train(model):
        history = fit(model, data.x_train, data.x_test, steps=steps, batch_size=batch_size,
                      lr=lr, beta=beta, seed=seed, device=device, desc="VAE")
        return {"test_nelbo": history.test_nelbo[-1], "seconds": history.seconds,
                "history": history.as_dict()}

    model, extra, _ = train_or_load(
        "vae", config, lambda: VAE(latent_dim, hidden, arch=arch), train, device=device)
    return model, extra


def vae_without_digit(unseen=7, latent_dim=16, hidden=400, steps=1500, data=None, seed=0):
    """The anomaly detector of notebook 06: a VAE trained on every training digit except
    ``unseen`` (with ``seed``, on the course's device). Returns ``(model, extra)``; extra holds
    the training time ("seconds")."""
    data = data or load_mnist(quiet=True)
    normal = data.x_train[data.y_train != unseen]
    config = {"latent_dim": latent_dim, "hidden": hidden, "steps": steps, "unseen": unseen,
              "seed": seed, "data": data.source, "n": len(normal)}

    def train(model):
        history = fit(model, normal, steps=steps, seed=seed, desc=f"VAE (no {unseen}s)")
        return {"seconds": history.seconds}

    model, extra, _ = train_or_load(
        f"vae-without-{unseen}", config, lambda: VAE(latent_dim, hidden), train)
    return model, extra


def vae_one_class(digit, steps=500, seed=0, data=None):
    """One detector of notebook 06's one-class benchmark: a 16-D VAE trained on the training
    images of ``digit`` alone (batch 64, seed ``seed + digit``). Returns the model on the CPU."""
    data = data or load_mnist(quiet=True)
    x_d = data.x_train[data.y_train == digit]
    config = {"digit": digit, "latent_dim": 16, "hidden": 400, "steps": steps, "batch": 64,
              "seed": seed, "data": data.source, "n": len(x_d)}

    def train(model):
        history = fit(model, x_d, steps=steps, batch_size=64, seed=seed + digit, progress=False)
        return {"seconds": history.seconds}

    model, _, _ = train_or_load("vae-one-class", config, lambda: VAE(16, 400), train,
                                verbose=False)
    return model


# --- Notebook 05: β-VAEs on the sprites --------------------------------------------------------

SPRITES_RECIPE = {"latent_dim": 8, "hidden": 256, "arch": "mlp", "batch_size": 128, "lr": 2e-3,
                  "steps": 4000}


SPRITES_BETAS = (1.0, 4.0, 10.0)  # the β of notebook 05's three sprites models (and 08's)


def sprites_recipe():
    """The β-VAE recipe of notebook 05 (a copy): a small MLP VAE, Adam, a budget in steps."""
    return dict(SPRITES_RECIPE)


def sprites_vae(beta, seed=0, steps=None, latent_dim=None, hidden=None, batch_size=None,
                lr=None, sprites=None, device=None, progress=True):
    """A β-VAE trained on the sprites with notebook 05's recipe (``sprites_recipe()``), cached.

    The β explorer widget calls this with the same β and gets the notebook's model back
    without training. Any argument left as None takes the recipe's value.

    Returns ``(model, extra)``, the model on the CPU in eval mode; extra holds, measured on the
    whole sprite set: "recon" and "kl" (nats per image, one z sample per image, seeded), "mig"
    and "mig_per_factor" (on the posterior means), "kl_per_dim", "seconds" (training time) and
    "history" (``History(**extra["history"])`` rebuilds it).
    """
    import torch

    from .device import seed_everything
    from .losses import elbo_loss, kl_per_dimension
    from .metrics import encode_all, mig
    from .sprites import make_sprites

    recipe = sprites_recipe()
    for key, value in (("steps", steps), ("latent_dim", latent_dim), ("hidden", hidden),
                       ("batch_size", batch_size), ("lr", lr)):
        if value is not None:
            recipe[key] = value
    sprites = sprites if sprites is not None else make_sprites()
    x = sprites.images
    config = {**recipe, "beta": float(beta), "seed": seed, "sprites": repr(sprites),
              "sprite_pixels": int(x.sum().item()), "stored": 1}

    def make_model():
        seed_everything(seed)  # the initial weights depend on the seed only
        return VAE(recipe["latent_dim"], recipe["hidden"], image_shape=tuple(x.shape[1:]),
                   arch=recipe["arch"])

    def train(model):
        history = fit(model, x, steps=recipe["steps"], batch_size=recipe["batch_size"],
                      lr=recipe["lr"], beta=beta, seed=seed, device=device, progress=progress,
                      desc=f"β-VAE, β={beta:g}")
        model.cpu().eval()
        mu, logvar = encode_all(model, x)
        with torch.no_grad(), torch.random.fork_rng():
            torch.manual_seed(seed)
            logits = model.decode(model.reparameterize(mu, logvar))
            terms = elbo_loss(logits, x, mu, logvar, beta=1.0)
        score, gaps = mig(mu, sprites.factors, return_per_factor=True)
        return {"recon": terms.recon.item(), "kl": terms.kl.item(), "mig": score,
                "mig_per_factor": [float(g) for g in gaps],
                "kl_per_dim": kl_per_dimension(mu, logvar).tolist(),
                "seconds": history.seconds, "history": history.as_dict()}

    model, extra, _ = train_or_load("sprites-vae", config, make_model, train, device=device)
    return model, extra
