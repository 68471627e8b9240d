"""Section ``anomaly``: one-class MNIST anomaly detection, every score of notebook 06.

Per digit d: a VAE trained on the training images of d only scores every held-out image, and
the AUROC of "not d" (label 1) against "d" (label 0) is computed for each score of
``vae_course.anomaly.all_scores`` — reconstruction error, −ELBO, −ELBO minus the PNG length
(Serrà et al. 2020), −ELBO minus the PNG length weighted by its slope on the normal training
images, and the baselines PCA reconstruction error and nearest-neighbour distance (fitted on the
normal training images only). The notebook and the bench share that one function.
"""

import statistics

from ...anomaly import SCORES, all_scores
from ...device import get_device
from ...train import fit
from ..common import make_model, met

NAME = "anomaly"
HELP = """one-class MNIST: per digit, a VAE trained on that digit alone scores the held-out split;
AUROC per digit and mean for −ELBO, reconstruction error, the complexity-corrected −ELBO (PNG),
and the PCA and nearest-neighbour baselines."""
ANOMALY = {"latent_dim": 16, "hidden": 400, "arch": "mlp", "batch_size": 64, "lr": 1e-3,
           "steps": 500, "score_samples": 8}
FULL = {"anomaly_steps": ANOMALY["steps"]}
QUICK = {"anomaly_steps": 60}
TARGETS = {"auroc_mean": 0.95}  # one-class Deep SVDD on full MNIST reports 0.948
VAE_SCORES = SCORES[:4]  # the others are the baselines


def anomaly(data, steps=ANOMALY["steps"], device=None, progress=True):
    """One-class protocol over the ten digits; returns every score's AUROC per digit and mean.

    ``auroc_per_digit`` and ``auroc_mean`` are those of −ELBO (the headline of earlier runs);
    ``anomaly_scores`` holds all of them; ``anomaly_png_weights`` the fitted weight w per digit.
    """
    from tqdm.auto import tqdm

    from ...metrics import auroc

    device = get_device(device)
    per_score = {name: {} for name in SCORES}
    weights, seconds = {}, 0.0
    for digit in tqdm(range(10), desc="anomaly", disable=not progress, leave=False):
        x = data.x_train[data.y_train == digit]
        model = make_model(ANOMALY, device, seed=digit)
        history = fit(model, x, steps=steps, batch_size=ANOMALY["batch_size"], lr=ANOMALY["lr"],
                      seed=digit, device=device, progress=False)
        seconds += history.seconds
        labels = (data.y_test != digit).long()
        scores, weights[str(digit)] = all_scores(model, x, data.x_test,
                                                 samples=ANOMALY["score_samples"],
                                                 components=ANOMALY["latent_dim"])
        for name in SCORES:
            per_score[name][str(digit)] = auroc(scores[name], labels)
    table = {name: {"per_digit": v, "mean": statistics.fmean(v.values())}
             for name, v in per_score.items()}
    best = max(VAE_SCORES, key=lambda name: table[name]["mean"])
    return {"auroc_per_digit": per_score["−ELBO"], "auroc_mean": table["−ELBO"]["mean"],
            "anomaly_scores": table, "anomaly_best_vae_score": best,
            "anomaly_png_weights": weights, "anomaly_train_seconds": seconds,
            "anomaly_recipe": dict(ANOMALY, steps=steps)}


def run(ctx):
    return anomaly(ctx.data, ctx.settings["anomaly_steps"], ctx.device, ctx.progress)


def rows(r):
    if "anomaly_scores" not in r:
        return []
    table, best = r["anomaly_scores"], r["anomaly_best_vae_score"]
    out = [("One-class MNIST anomaly detection: mean AUROC over the 10 digits (per digit in "
            "brackets), best VAE-based score", f"{best}: {table[best]['mean']:.3f}",
            f"≥ {TARGETS['auroc_mean']:g}", met(table[best]["mean"] >= TARGETS["auroc_mean"]))]
    for name, entry in table.items():
        per = ", ".join(f"{d}: {v:.3f}" for d, v in entry["per_digit"].items())
        out.append((f"  {name}", f"{entry['mean']:.3f} ({per})", "–", "–"))
    return out
