"""Section ``binarised``: a likelihood that can sit beside published ones.

The other sections score grey MNIST with a Bernoulli likelihood, which is not a probability of
grey images (notebook 03), so their nats are not comparable with the literature. Here a VAE is
trained and tested on dynamically binarised MNIST — every training batch sampled afresh to black
and white, the test set sampled once — and scored with the importance-weighted bound at
k = 5,000, the protocol of Burda et al. (2016; IWAE NLL 86.76 nats for a one-layer VAE trained
with k = 1 on all 60,000 digits for 3,280 epochs) and of pythae's benchmark (89.78 nats).
"""

from ...data import binarized
from ...train import fit
from ..common import make_model
from .likelihood import likelihood

NAME = "binarised"
HELP = """IWAE NLL (k = 5,000) of a 784-400-20 VAE trained and tested on dynamically binarised
MNIST: the number to set beside published likelihoods (IWAE paper 86.76, pythae 89.78 nats)."""
RECIPE = {"latent_dim": 20, "hidden": 400, "arch": "mlp", "batch_size": 128, "lr": 1e-3}
FULL = {"binarised_steps": 3000, "binarised_k": 5000, "binarised_images": 1000}
QUICK = {"binarised_steps": 60, "binarised_k": 100, "binarised_images": 20}
LITERATURE = {"IWAE paper (Burda et al. 2016), VAE, k = 1 training": 86.76,
              "pythae benchmark, VAE": 89.78}


def binarised_likelihood(data, steps=3000, k=5000, n_images=1000, device=None, progress=True,
                         seed=0):
    """Train ``RECIPE`` for ``steps`` on binarised batches; return its IWAE NLL −L_k and −ELBO
    on the first ``n_images`` of the binarised test set (0 = all), in nats per image."""
    data = binarized(data)
    model = make_model(RECIPE, device, seed=seed)
    history = fit(model, data.x_train, steps=steps, batch_size=RECIPE["batch_size"],
                  lr=RECIPE["lr"], binarize=True, seed=seed, device=device, progress=progress,
                  desc="binarised VAE")
    r = likelihood(model, data.x_test, k, n_images, batch_size=20, seed=seed)
    return {"binarised_nll_iwae": r["nll_iwae"], "binarised_nelbo": r["nelbo_test"],
            "binarised_k": k, "binarised_images": r["iwae_images"],
            "binarised_train_images": len(data.x_train),
            "binarised_train_seconds": history.seconds,
            "binarised_iwae_seconds": r["iwae_seconds"],
            "binarised_recipe": dict(RECIPE, steps=steps)}


def run(ctx):
    s = ctx.settings
    return binarised_likelihood(ctx.data, s["binarised_steps"], s["binarised_k"],
                                s["binarised_images"], ctx.device, ctx.progress)


def rows(r):
    if "binarised_nll_iwae" not in r:
        return []
    papers = ", ".join(f"{name} {value}" for name, value in LITERATURE.items())
    return [(f"Dynamically binarised MNIST ({r['binarised_train_images']:,} training digits, "
             f"{r['binarised_recipe']['steps']:,} steps of 784-400-20): IWAE NLL "
             f"(k = {r['binarised_k']:,}) and −ELBO on {r['binarised_images']:,} binarised "
             f"held-out digits",
             f"{r['binarised_nll_iwae']:.2f} and {r['binarised_nelbo']:.2f} nats "
             f"(published, 60,000 training digits: {papers})", "–", "–")]
