"""``vae-course bench``: how fast and how good the course is, measured on this machine.

    vae-course bench                     the full benchmark (about 20 minutes on 2 idle cores)
    vae-course bench --quick             a small version of every section (under 3 minutes)
    vae-course bench --json build/bench.json     also save the numbers (and a .md table beside)
    vae-course bench --table build/bench.json    print the README results table of a saved run

Sections (``--only NAME`` runs some of them):

throughput   images per second of ``fit`` against the standard per-sample pipeline (torchvision's
             MNIST ``Dataset`` with ``ToTensor`` behind a ``DataLoader``), same 784-400-20 MLP VAE,
             batch 128, Adam 1e-3. Both run in turns, several times; the medians are compared.
equal_budget the standard pipeline trains for 10 epochs; the course's best recipe then trains for
             the same wall time. Held-out −ELBO of both, in nats per image.
likelihood   importance-weighted NLL estimate (k = 1000) of that best model beside its −ELBO.
notebooks    wall time of every lecture notebook, each in a fresh kernel (nbclient), in course
             order from an empty model cache, as on a fresh clone (``--notebook-cache``).
sprites      MIG on the sprites for β = 1 and β = 4 over several seeds (notebook 05's recipe), and
             the best MIG of any sprites model whose training took at most 3 minutes.
anomaly      one-class MNIST: a VAE trained on one digit scores the whole held-out split by −ELBO;
             AUROC per digit (label 1 = any other digit) and the mean.

Every budget is in seconds or steps, so the benchmark takes the same time whichever MNIST is on
disk, and it runs unchanged on a GPU (``get_device()``). Wall times depend on what else the
machine is doing: the load average before and after is saved with the numbers.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .device import get_device, seed_everything
from .losses import elbo_loss, iwae_bound, kl_divergence, reconstruction_loss
from .models import VAE
from .paths import COURSE_ROOT, MODELS_ENV
from .train import evaluate, fit

SECTIONS = ("throughput", "equal_budget", "likelihood", "notebooks", "sprites", "anomaly")

# The standard pipeline (pytorch/examples vae/main.py): 784-400-20 MLP VAE, batch 128, Adam 1e-3.
STANDARD = {"latent_dim": 20, "hidden": 400, "arch": "mlp", "batch_size": 128, "lr": 1e-3}
# The course's best MNIST recipe for a short wall-time budget on a CPU. A narrower hidden layer
# makes each step about twice as cheap, and a 3x larger learning rate gets further per step; at
# these budgets the model is far from converged, so both matter more than capacity.
BEST_MNIST = {"latent_dim": 20, "hidden": 200, "arch": "mlp", "batch_size": 128, "lr": 3e-3}
# One-class anomaly detection: a VAE per digit, trained on that digit only.
ANOMALY = {"latent_dim": 16, "hidden": 400, "arch": "mlp", "batch_size": 64, "lr": 1e-3,
           "steps": 500, "score_samples": 8}

TARGETS = {
    "throughput_ratio": 4.0,          # at least 4x the standard pipeline's images per second
    "equal_budget_gain": 20.0,        # ours at least 20 nats per image better at equal time
    "notebook_max_seconds": 90.0,     # every lecture notebook
    "notebook_total_seconds": 360.0,  # all of them together
    "mig_best": 0.3,
    "auroc_mean": 0.95,               # one-class Deep SVDD on full MNIST reports 0.948
}


@dataclass
class Settings:
    """How much work each section does. ``FULL`` is the benchmark; ``QUICK`` checks it runs."""

    throughput_repeats: int = 7
    throughput_steps: int = 60
    baseline_epochs: int = 10
    notebooks: str = "all"           # "all", or "first" (only the first lecture notebook)
    notebook_timeout: int = 900
    sprites_steps: int = 0           # per β-sweep run; 0 = notebook 05's recipe
    sprites_best_seconds: float = 180.0
    sprites_seeds: int = 3
    anomaly_steps: int = ANOMALY["steps"]
    iwae_k: int = 1000
    iwae_images: int = 0             # 0 = the whole held-out split


FULL = Settings()
QUICK = Settings(throughput_repeats=3, throughput_steps=20, baseline_epochs=1, notebooks="first",
                 sprites_steps=150, sprites_seeds=1,
                 anomaly_steps=60, iwae_k=1000, iwae_images=100)


# ----------------------------------------------------------------------------------------------
# The standard per-sample pipeline
# ----------------------------------------------------------------------------------------------

def to_uint8(x):
    """Images in [0, 1], shape (N, 1, H, W) -> uint8 (N, H, W), the way MNIST is stored."""
    return (x[:, 0] * 255).round().clamp(0, 255).to(torch.uint8)


def standard_dataset(images_uint8, targets):
    """torchvision's own MNIST ``Dataset`` holding the given uint8 images, with ``ToTensor``.

    Every item goes through torchvision's ``MNIST.__getitem__``: one uint8 array becomes a PIL
    image, which ``ToTensor`` turns into a float tensor. That per-image Python work is what the
    standard pipeline repeats for every image of every epoch.
    """
    from torchvision import transforms
    from torchvision.datasets import MNIST as TorchvisionMNIST

    class InMemoryMNIST(TorchvisionMNIST):
        def __init__(self, data, labels, transform):  # no files: the arrays are given
            self.data, self.targets = data, labels
            self.transform, self.target_transform = transform, None

    return InMemoryMNIST(images_uint8, targets, transforms.ToTensor())


def standard_loader(data, batch_size=128, seed=0):
    """``DataLoader(MNIST(transform=ToTensor()), batch_size, shuffle=True)``, as in
    pytorch/examples (no worker processes on a CPU)."""
    from torch.utils.data import DataLoader

    dataset = standard_dataset(to_uint8(data.x_train), data.y_train)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def train_standard(model, loader, steps, lr=1e-3, device=None):
    """The pytorch/examples training loop: for each batch, move it to the device, take one Adam
    step on the −ELBO, read the loss. Returns the wall seconds of ``steps`` steps."""
    device = get_device(device)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    done, total = 0, 0.0
    start = time.perf_counter()
    while done < steps:
        for x, _ in loader:
            x = x.to(device)
            logits, mu, logvar = model(x)
            loss = elbo_loss(logits, x, mu, logvar).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            done += 1
            if done == steps:
                break
    seconds = time.perf_counter() - start
    model.eval()
    if not math.isfinite(total):
        raise FloatingPointError("the standard pipeline's loss became NaN or infinite")
    return seconds


def _model(recipe, device, seed=0, image_shape=(1, 28, 28)):
    seed_everything(seed)
    return VAE(recipe["latent_dim"], recipe["hidden"], image_shape=image_shape,
               arch=recipe["arch"]).to(device)


# ----------------------------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------------------------

def throughput(data, repeats=7, steps=60, device=None):
    """Images per second of ``fit`` and of the standard pipeline, measured in turns.

    Each repeat trains a fresh standard model for ``steps`` steps both ways (which goes first
    alternates), so a load spike hits both. Returns medians and the median per-repeat ratio.
    """
    device = get_device(device)
    bs, lr = STANDARD["batch_size"], STANDARD["lr"]
    loader = standard_loader(data, bs)

    def ours():
        model = _model(STANDARD, device)
        history = fit(model, data.x_train, steps=steps, batch_size=bs, lr=lr, device=device,
                      progress=False)
        return history.images_seen / history.seconds

    def standard():
        model = _model(STANDARD, device)
        return steps * bs / train_standard(model, loader, steps, lr, device)

    ours(), standard()  # warm-up: first-call allocations and lazy imports
    ours_ips, standard_ips, ratios = [], [], []
    for r in range(repeats):
        if r % 2 == 0:
            a = ours()
            b = standard()
        else:
            b = standard()
            a = ours()
        ours_ips.append(a)
        standard_ips.append(b)
        ratios.append(a / b)

    # The data path alone: forming one batch, without any training.
    x = data.x_train.to(device)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(steps):
        x[torch.randint(len(x), (bs,), generator=gen).to(device)].sum().item()
    ours_batch = (time.perf_counter() - start) / steps
    start = time.perf_counter()
    batches = iter(loader)
    for _ in range(min(steps, len(loader))):
        next(batches)[0].to(device).sum().item()
    standard_batch = (time.perf_counter() - start) / min(steps, len(loader))
    step_ms = 1000 * bs / statistics.median(ours_ips)
    return {
        "throughput_ratio": statistics.median(ratios),
        # Both pipelines do the same model arithmetic; ours only removes the per-image data
        # work, so the ratio should be about (data + step) / step (measured apart, so noisier):
        "throughput_ratio_ceiling": (1000 * standard_batch + step_ms) / step_ms,
        "step_ms_ours": step_ms,
        "throughput_ours_ips": statistics.median(ours_ips),
        "throughput_baseline_ips": statistics.median(standard_ips),
        "throughput_ratios": ratios,
        "batch_ms_ours": 1000 * ours_batch,
        "batch_ms_baseline": 1000 * standard_batch,
    }


def equal_budget(data, epochs=10, device=None):
    """The standard pipeline trains ``epochs`` epochs; ours trains for the same wall time.

    Returns the numbers and the trained best model (used again by ``likelihood``).
    """
    device = get_device(device)
    loader = standard_loader(data, STANDARD["batch_size"])
    steps = epochs * len(loader)
    baseline = _model(STANDARD, device)
    seconds = train_standard(baseline, loader, steps, STANDARD["lr"], device)
    nelbo_baseline = evaluate(baseline, data.x_test)

    ours = _model(BEST_MNIST, device)
    history = fit(ours, data.x_train, steps=10**9, seconds=seconds,
                  batch_size=BEST_MNIST["batch_size"], lr=BEST_MNIST["lr"], device=device,
                  progress=False)
    nelbo_ours = evaluate(ours, data.x_test)
    return {
        "equal_budget_seconds": seconds,
        "equal_budget_steps_baseline": steps,
        "equal_budget_steps_ours": len(history.step),
        "equal_budget_seconds_ours": history.seconds,
        "equal_budget_nelbo_baseline": nelbo_baseline,
        "equal_budget_nelbo_ours": nelbo_ours,
        "equal_budget_gain": nelbo_baseline - nelbo_ours,
        "equal_budget_recipe": dict(BEST_MNIST),
    }, ours


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


def lecture_notebooks(root=None):
    """The lecture notebooks, in course order."""
    root = Path(root) if root is not None else COURSE_ROOT
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))


@contextmanager
def _environment(**values):
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


# The notebook section's model-cache modes (see ``notebooks``), as the results table words them.
CACHE_WORDS = {"fresh": "in order from an empty model cache", "off": "no model cache",
               "on": "warm model cache"}
NOTEBOOK_CACHE_MODES = tuple(CACHE_WORDS)


def time_notebook(path, timeout=900, use_cache=False):
    """Execute one notebook in a fresh kernel; returns ``(seconds, error or None)``.

    With ``use_cache=False`` the notebook trains every model it needs itself; with ``True`` it
    may load models from the model cache (``$VAE_COURSE_MODELS`` or the data folder's).
    """
    import nbformat

    from .execute import execute_notebook

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    error = None
    with _environment(VAE_COURSE_NO_CACHE=None if use_cache else "1"):
        start = time.perf_counter()
        try:
            execute_notebook(nb, path.parent, timeout)
        except Exception as err:  # report it with the time; one notebook must not stop the rest
            text = str(err).strip().splitlines()
            error = f"{type(err).__name__}: {text[-1][:300] if text else ''}"
        seconds = time.perf_counter() - start
    return seconds, error


def notebooks(paths, timeout=900, cache="fresh", progress=True):
    """Wall seconds of each notebook (fresh kernel each, in the order given) and their total.

    ``cache`` says which trained models a notebook may load:

    - ``"fresh"``: an empty model cache, shared by the notebooks in order. This is a newcomer
      on a fresh clone going through the course: a model is trained by the first notebook that
      needs it and loaded by the later ones.
    - ``"off"``: nothing is loaded; every notebook trains every model it needs (the worst case:
      a learner who opens each notebook first, each on a fresh clone).
    - ``"on"``: the existing model cache (after ``vae-course prepare``, as in a lecture).
    """
    import tempfile

    from tqdm.auto import tqdm

    if cache not in NOTEBOOK_CACHE_MODES:
        raise ValueError(f"cache: expected one of {NOTEBOOK_CACHE_MODES}, got {cache!r}")
    seconds, errors = {}, {}
    with tempfile.TemporaryDirectory(prefix="vae-course-models-") as empty:
        with _environment(**({MODELS_ENV: empty} if cache == "fresh" else {})):
            for path in tqdm(paths, desc="notebooks", disable=not progress, leave=False):
                s, error = time_notebook(path, timeout, use_cache=cache != "off")
                seconds[Path(path).stem] = s
                if error:
                    errors[Path(path).stem] = error
    return {"notebook_seconds": seconds, "notebook_total_seconds": sum(seconds.values()),
            "notebook_errors": errors, "notebook_cache": cache}


def _train_sprites_vae(data, beta, seed, steps, device):
    """Train one sprites β-VAE with notebook 05's recipe (``course_models.sprites_vae``, never
    from its cache, so the training time is measured here). Returns ``(model, seconds)``."""
    from . import course_models

    with _environment(VAE_COURSE_NO_CACHE="1"):
        model, extra = course_models.sprites_vae(beta, seed=seed, steps=steps, sprites=data,
                                                 device=device, progress=False)
    return model.to(device), float(extra["seconds"])


def sprites_recipe():
    """Notebook 05's sprites recipe (``course_models.sprites_recipe``), the one place it lives."""
    from . import course_models

    return course_models.sprites_recipe()


def sprites(seeds=3, steps=None, best_seconds=180.0, device=None, progress=True):
    """MIG on the sprites for β = 1 and β = 4 (``seeds`` runs each, notebook 05's recipe), and
    the best MIG of any run whose training took at most ``best_seconds``: besides the sweep,
    one run at β = 8 and one β = 4 run trained up to 3 times longer, if that fits the budget."""
    from tqdm.auto import tqdm

    from .metrics import encode_all, mig
    from .sprites import make_sprites

    device = get_device(device)
    data = make_sprites()
    steps = steps or sprites_recipe()["steps"]
    details = []

    def one(beta, seed, n_steps):
        model, seconds = _train_sprites_vae(data, beta, seed, n_steps, device)
        mu, _ = encode_all(model, data.images)
        score, gaps = mig(mu, data.factors, return_per_factor=True)
        details.append({"beta": beta, "seed": seed, "steps": n_steps, "seconds": seconds,
                        "mig": score, "mig_per_factor": [float(g) for g in gaps]})
        return score

    runs = [(beta, seed) for beta in (1.0, 4.0) for seed in range(seeds)]
    bar = tqdm(total=len(runs) + 2, desc="sprites", disable=not progress, leave=False)
    scores = {1.0: [], 4.0: []}
    for beta, seed in runs:
        scores[beta].append(one(beta, seed, steps))
        bar.update(1)
    one(8.0, 0, steps)
    bar.update(1)
    per_step = max(d["seconds"] for d in details) / steps
    longer = min(3 * steps, int(0.9 * best_seconds / per_step))
    if longer > steps:
        one(4.0, 0, longer)
    bar.update(1)
    bar.close()

    def summary(values):
        return {"mean": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else 0.0, "values": values}

    # the best MIG of any run that trained within the budget (a few seconds of slack)
    within = [d["mig"] for d in details if d["seconds"] <= best_seconds + 5]
    return {"mig_best": max(within) if within else float("nan"),
            "mig_beta1": summary(scores[1.0]), "mig_beta4": summary(scores[4.0]),
            "sprites_runs": details, "sprites_recipe": sprites_recipe()}


@torch.no_grad()
def nelbo_per_image(model, x, samples=8, batch_size=500, seed=0):
    """−ELBO of each image in nats, its reconstruction term averaged over ``samples`` draws of
    z ~ q(z|x) (plus the closed-form KL). Shape (N,)."""
    device = next(model.parameters()).device
    model.eval()
    seed_everything(seed)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(device)
        mu, logvar = model.encode(xb)
        recon = torch.stack([reconstruction_loss(model.decode(model.reparameterize(mu, logvar)),
                                                 xb) for _ in range(samples)]).mean(0)
        out.append((recon + kl_divergence(mu, logvar)).cpu())
    return torch.cat(out)


def anomaly(data, steps=ANOMALY["steps"], device=None, progress=True):
    """One-class protocol: per digit d, train on the training images of d only, score every
    held-out image by −ELBO, and compute the AUROC of "not d" (label 1) against "d" (label 0).

    Also reported, beside it: the same scores with the part that ink explains removed. −ELBO
    grows with the number of inked pixels (any model pays for each stroke pixel), so sparse
    digits such as 1s look "normal" to every model. The slope of −ELBO on ink is fitted on the
    normal *training* images only, so this stays a one-class method; it is a simple version of
    the complexity correction of Serrà et al. (2020).
    """
    from tqdm.auto import tqdm

    from .metrics import auroc

    device = get_device(device)
    per_digit, corrected, slopes, seconds = {}, {}, {}, 0.0
    ink_test = data.x_test.flatten(1).sum(1)
    for digit in tqdm(range(10), desc="anomaly", disable=not progress, leave=False):
        x = data.x_train[data.y_train == digit]
        model = _model(ANOMALY, device, seed=digit)
        history = fit(model, x, steps=steps, batch_size=ANOMALY["batch_size"], lr=ANOMALY["lr"],
                      seed=digit, device=device, progress=False)
        seconds += history.seconds
        labels = (data.y_test != digit).long()
        scores = nelbo_per_image(model, data.x_test, samples=ANOMALY["score_samples"])
        per_digit[str(digit)] = auroc(scores, labels)
        slope = ink_slope(nelbo_per_image(model, x, samples=ANOMALY["score_samples"]),
                          x.flatten(1).sum(1))
        slopes[str(digit)] = slope
        corrected[str(digit)] = auroc(scores - slope * ink_test, labels)
    return {"auroc_per_digit": per_digit, "auroc_mean": statistics.fmean(per_digit.values()),
            "auroc_per_digit_ink_corrected": corrected,
            "auroc_mean_ink_corrected": statistics.fmean(corrected.values()),
            "anomaly_ink_slopes": slopes,
            "anomaly_train_seconds": seconds, "anomaly_recipe": dict(ANOMALY, steps=steps)}


def ink_slope(scores, ink):
    """Least-squares slope of ``scores`` against ``ink`` (nats per unit of ink)."""
    design = torch.stack([torch.ones_like(ink), ink], dim=1).double()
    return torch.linalg.lstsq(design, scores.double().unsqueeze(1)).solution[1, 0].item()


# ----------------------------------------------------------------------------------------------
# The whole run, the table, the command line
# ----------------------------------------------------------------------------------------------

def _cpu_name():
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(data=None, device=None):
    device = get_device(device)
    info = {"cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "device": str(device),
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu": _cpu_name(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_before": _load()}
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
    if data is not None:
        info.update(mnist=data.source, mnist_train=len(data.x_train), mnist_test=len(data.x_test))
    return info


def _load():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def run(quick=False, only=None, device=None, notebook_cache="fresh", notebook_paths=None,
        progress=True, on_section=None):
    """Run the benchmark; returns a JSON-able dict. ``on_section(results)`` is called after each
    section (the command line uses it to save partial results)."""
    from .data import load_mnist

    settings = QUICK if quick else FULL
    only = list(only or SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        raise ValueError(f"only: unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    device = get_device(device)
    data = load_mnist(quiet=True)
    results = {"quick": quick, "settings": asdict(settings),
               "machine": machine_info(data, device), "section_seconds": {}, "errors": {}}
    best = None

    def log(text):
        if progress:
            print(text, flush=True)

    def section(name, fn):
        log(f"[bench] {name} ...")
        start = time.perf_counter()
        try:
            out = fn()
        except Exception as err:  # record it and go on with the other sections
            results["errors"][name] = f"{type(err).__name__}: {err}"
            log(f"[bench] {name} failed: {type(err).__name__}: {err}")
            out = None
        results["section_seconds"][name] = time.perf_counter() - start
        if out:
            results.update(out)
        log(f"[bench] {name} done in {results['section_seconds'][name]:.0f} s")
        if on_section:
            on_section(results)

    if "throughput" in only:
        section("throughput", lambda: throughput(
            data, settings.throughput_repeats, settings.throughput_steps, device))
    if "equal_budget" in only or "likelihood" in only:
        def _equal():
            nonlocal best
            out, best = equal_budget(data, settings.baseline_epochs, device)
            return out
        section("equal_budget", _equal)
    if "likelihood" in only and best is not None:
        section("likelihood", lambda: likelihood(best, data.x_test, settings.iwae_k,
                                                 settings.iwae_images))
    if "notebooks" in only:
        paths = notebook_paths if notebook_paths is not None else lecture_notebooks()
        if settings.notebooks == "first":
            paths = paths[:1]
        section("notebooks", lambda: notebooks(paths, settings.notebook_timeout,
                                               notebook_cache, progress))
    if "sprites" in only:
        section("sprites", lambda: sprites(settings.sprites_seeds, settings.sprites_steps,
                                           settings.sprites_best_seconds, device, progress))
    if "anomaly" in only:
        section("anomaly", lambda: anomaly(data, settings.anomaly_steps, device, progress))
    results["machine"]["load_after"] = _load()
    results["total_seconds"] = sum(results["section_seconds"].values())
    return results


def _fmt(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def _met(ok):
    return "–" if ok is None else ("yes" if ok else "**no**")


def render_table(results):
    """The README "Results" table (markdown) of a benchmark run."""
    r, rows = results, []
    if "throughput_ratio" in r:
        rows.append((
            "Training throughput: `fit` vs the per-sample `DataLoader` (784-400-20 MLP VAE, "
            "batch 128, Adam 1e-3)",
            f"{r['throughput_ratio']:.2f}× ({_fmt(r['throughput_ours_ips'], 0)} vs "
            f"{_fmt(r['throughput_baseline_ips'], 0)} images/s; one batch: "
            f"{r['batch_ms_ours']:.2f} vs {r['batch_ms_baseline']:.1f} ms"
            + (f"; (batch + step) / step estimate: {r['throughput_ratio_ceiling']:.1f}×"
               if "throughput_ratio_ceiling" in r else "") + ")",
            f"≥ {TARGETS['throughput_ratio']:g}×",
            _met(r["throughput_ratio"] >= TARGETS["throughput_ratio"])))
    if "equal_budget_gain" in r:
        rec = r.get("equal_budget_recipe", BEST_MNIST)
        rows.append((
            f"Held-out −ELBO at equal wall time ({r['equal_budget_steps_baseline']} standard "
            f"steps = {r['equal_budget_seconds']:.0f} s; ours: {rec['arch'].upper()} "
            f"784-{rec['hidden']}-{rec['latent_dim']}, lr {rec['lr']:g}, "
            f"{r['equal_budget_steps_ours']} steps)",
            f"ours {r['equal_budget_nelbo_ours']:.1f}, standard "
            f"{r['equal_budget_nelbo_baseline']:.1f} nats: {r['equal_budget_gain']:.1f} better",
            f"≥ {TARGETS['equal_budget_gain']:g} nats better",
            _met(r["equal_budget_gain"] >= TARGETS["equal_budget_gain"])))
    if "nll_iwae" in r:
        rows.append((
            f"Likelihood of that model on {r['iwae_images']:,} held-out digits: IWAE NLL "
            f"(k = {r['iwae_k']:,}) and −ELBO",
            f"{r['nll_iwae']:.1f} and {r['nelbo_test']:.1f} nats", "–", "–"))
    if r.get("notebook_seconds"):
        nbs = r["notebook_seconds"]
        slowest = max(nbs, key=nbs.get)
        errors = r.get("notebook_errors", {})
        rows.append((
            f"Lecture notebooks ({len(nbs)}, fresh kernel each, "
            f"{CACHE_WORDS.get(r.get('notebook_cache'), 'model cache ?')}): slowest / total",
            f"{nbs[slowest]:.0f} s ({slowest}) / {r['notebook_total_seconds'] / 60:.1f} min"
            + (f"; {len(errors)} failed: {', '.join(sorted(errors))}" if errors else ""),
            f"≤ {TARGETS['notebook_max_seconds']:.0f} s each / ≤ "
            f"{TARGETS['notebook_total_seconds'] / 60:.0f} min",
            _met(nbs[slowest] <= TARGETS["notebook_max_seconds"]
                 and r["notebook_total_seconds"] <= TARGETS["notebook_total_seconds"]
                 and not errors)))
        for name, s in nbs.items():
            rows.append((f"  `{name}`", f"{s:.0f} s" + (" (failed)" if name in errors else ""),
                         f"≤ {TARGETS['notebook_max_seconds']:.0f} s",
                         _met(s <= TARGETS["notebook_max_seconds"] and name not in errors)))
    if "mig_best" in r:
        b1, b4 = r["mig_beta1"], r["mig_beta4"]
        rows.append(("Sprites: best MIG of a β-VAE trained ≤ 3 min", f"{r['mig_best']:.2f}",
                     f"≥ {TARGETS['mig_best']:g}", _met(r["mig_best"] >= TARGETS["mig_best"])))
        rows.append((
            f"Sprites: MIG at β = 1 and β = 4 ({len(b1['values'])} seeds each, mean ± sd)",
            f"{b1['mean']:.2f} ± {b1['sd']:.2f} and {b4['mean']:.2f} ± {b4['sd']:.2f}",
            "β = 4 above β = 1", _met(b4["mean"] > b1["mean"])))
    if "auroc_mean" in r:
        per = ", ".join(f"{d}: {v:.3f}" for d, v in r["auroc_per_digit"].items())
        rows.append(("One-class MNIST anomaly detection by −ELBO: mean AUROC over the 10 digits",
                     f"{r['auroc_mean']:.3f} ({per})", f"≥ {TARGETS['auroc_mean']:g}",
                     _met(r["auroc_mean"] >= TARGETS["auroc_mean"])))
    if "auroc_mean_ink_corrected" in r:
        rows.append(("  the same scores minus the part ink explains (slope fitted on the normal "
                     "training digits only)", f"{r['auroc_mean_ink_corrected']:.3f}", "–", "–"))
    lines = ["| measure | result | target | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    m = r.get("machine", {})
    if m:
        lines.append("")
        mnist = (f"MNIST {m.get('mnist')} ({m.get('mnist_train', 0):,} train / "
                 f"{m.get('mnist_test', 0):,} test)")
        lines.append(
            f"Measured {'with `--quick` ' if r.get('quick') else ''}"
            + (f"{m['date']} " if m.get("date") else "")
            + (f"on {m['cpu']}, " if m.get("cpu") else "on ") + f"{m.get('cores')} cores "
            f"({m.get('threads')} torch threads), device {m.get('device_name', m.get('device'))}, "
            f"torch {m.get('torch')}, {mnist}; load average {m.get('load_before')} before, "
            f"{m.get('load_after')} after; {r.get('total_seconds', 0) / 60:.1f} min in all.")
    if r.get("errors"):
        lines.append("")
        lines += [f"- section `{k}` failed: {v}" for k, v in r["errors"].items()]
    return "\n".join(lines) + "\n"


def _write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="vae-course bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Sections:\n\n" + __doc__.split("Sections (``--only NAME`` runs some of them):")[1])
    parser.add_argument("--quick", action="store_true",
                        help="a small version of every section, to check that it runs")
    parser.add_argument("--json", metavar="PATH", help="save the numbers as JSON (and the "
                        "markdown table beside it, unless --md says where)")
    parser.add_argument("--md", metavar="PATH", help="save the markdown results table")
    parser.add_argument("--table", metavar="PATH", help="print the results table of a saved "
                        "JSON run and exit (runs nothing)")
    parser.add_argument("--only", action="append", metavar="SECTION",
                        help=f"run only these sections (repeat or comma-separate): "
                             f"{', '.join(SECTIONS)}")
    parser.add_argument("--threads", type=int, help="torch threads in this process "
                        "(default: torch's choice)")
    parser.add_argument("--notebooks", nargs="+", metavar="PATH",
                        help="time these notebooks instead of notebooks/[0-9]*.ipynb")
    parser.add_argument("--notebook-cache", choices=NOTEBOOK_CACHE_MODES, default="fresh",
                        help="models the timed notebooks may load: fresh = an empty cache "
                             "filled in course order, as on a fresh clone (default); off = "
                             "each notebook trains all its models; on = the existing cache")
    args = parser.parse_args(argv)

    if args.table:
        try:
            results = json.loads(Path(args.table).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            print(f"error: cannot read {args.table}: {err}", file=sys.stderr)
            return 2
        print(render_table(results), end="")
        return 0

    only = None
    if args.only:
        only = [s.strip() for item in args.only for s in item.split(",") if s.strip()]
        unknown = [s for s in only if s not in SECTIONS]
        if unknown:
            parser.error(f"--only: unknown section(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(SECTIONS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    md_path = args.md or (str(Path(args.json).with_suffix(".md")) if args.json else None)

    def save(results):
        if args.json:
            _write(args.json, json.dumps(results, indent=2, default=str) + "\n")
        if md_path:
            _write(md_path, render_table(results))

    paths = [Path(p) for p in args.notebooks] if args.notebooks else None
    results = run(quick=args.quick, only=only, notebook_cache=args.notebook_cache,
                  notebook_paths=paths, on_section=save)
    save(results)
    print()
    print(render_table(results), end="")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
