"""Section ``likelihood``: importance-weighted NLL of the equal-budget section's best model."""

import time

import torch

from ...device import seed_everything
from ...losses import iwae_bound
from ...train import evaluate

NAME = "likelihood"
HELP = """importance-weighted NLL estimate (k = 1000) of that best model beside its −ELBO."""
FULL = {"iwae_k": 1000, "iwae_images": 0}  # 0 images = the whole held-out split
QUICK = {"iwae_k": 1000, "iwae_images": 100}
NEEDS = ("equal_budget",)  # it scores the model that section trains


def likelihood(model, x_test, k=1000, n_images=0, batch_size=50, seed=0):
    """Importance-weighted NLL estimate −L_k and the −ELBO of ``model`` on held-out images."""
    device = next(model.parameters()).device
    x = x_test[:n_images] if n_images else x_test
    seed_everything(seed)
    start = time.perf_counter()
    bounds = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(device)
            bounds.append(iwae_bound(model.eval(), xb, k=k, chunk=max(1, 5000 // len(xb))).cpu())
    nll = -torch.cat(bounds).mean().item()
    return {"nll_iwae": nll, "nelbo_test": evaluate(model, x), "iwae_k": k,
            "iwae_images": len(x), "iwae_seconds": time.perf_counter() - start}


def run(ctx):
    return likelihood(ctx.shared["best_model"], ctx.data.x_test, ctx.settings["iwae_k"],
                      ctx.settings["iwae_images"])


def rows(r):
    if "nll_iwae" not in r:
        return []
    return [(f"Likelihood of that model on {r['iwae_images']:,} held-out digits: IWAE NLL "
             f"(k = {r['iwae_k']:,}) and −ELBO",
             f"{r['nll_iwae']:.1f} and {r['nelbo_test']:.1f} nats", "–", "–")]
