"""Run lecture notebooks under several seeds and print each asserted claim's value and margin.

    python scripts/seed_margins.py [--seeds 0 1 2] [--out build/seed_margins] [NOTEBOOK ...]

Each notebook is executed headlessly once per seed with ``VAE_COURSE_SEED`` set (the notebooks
take every seed from ``seed_everything()``, which reads it) and ``VAE_COURSE_CLAIMS`` naming a
file where every ``claim(...)`` call appends its value, bounds and margin. The table printed at
the end has one row per claim: its value under each seed and the smallest margin, the relative
distance to the bound it must stay on the right side of (negative = the claim failed).
A notebook that fails stops at the failing claim; the table says which. Writes the table to
OUT/seed_margins.md as well. ``--table`` prints the table from the logs already in OUT without
running anything (for runs made one notebook and seed at a time). Models trained under seeds other than 0 land in the model cache
like any other, so a second run is quick.

Default notebooks: the lecture notebooks 01-07 and 09 (08 is a widget explorer).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat

from vae_course.execute import execute_notebook

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["01_autoencoder", "02_reparameterisation", "03_elbo", "04_annealing", "05_beta_vae",
           "06_applications", "07_common_mistakes", "09_what_next"]


def run(notebook, seed, log):
    """Execute one notebook under one seed; return (seconds, error text or None)."""
    nb = nbformat.read(notebook, as_version=4)
    os.environ["VAE_COURSE_SEED"] = str(seed)
    os.environ["VAE_COURSE_CLAIMS"] = str(log)
    start = time.perf_counter()
    try:
        execute_notebook(nb, notebook.parent, timeout=1800)
        error = None
    except Exception as err:  # report and go on with the next run
        lines = str(err).strip().splitlines() or [type(err).__name__]
        error = lines[-1][:300]
    return time.perf_counter() - start, error


def read_log(log):
    """The claims one run logged (none when it logged nothing)."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def table(rows_by_run, seeds):
    """Markdown table: notebook, claim, value per seed, bounds, smallest margin."""
    claims = {}
    for (name, seed), rows in rows_by_run.items():
        for row in rows:
            entry = claims.setdefault((name, row["claim"]), {"bounds": (row["above"],
                                                                        row["below"])})
            entry[seed] = row
    head = ("| notebook | claim | " + " | ".join(f"seed {s}" for s in seeds)
            + " | bound | min margin |")
    lines = [head, "|" + "---|" * (len(seeds) + 4)]
    for (name, text), entry in claims.items():
        values = [f"{entry[s]['value']:.4g}" if s in entry else "—" for s in seeds]
        margins = [entry[s]["margin"] for s in seeds if s in entry and entry[s]["margin"]
                   is not None]
        above, below = entry["bounds"]
        bound = " and ".join(f"{w} {b:g}" for w, b in (("> ", above), ("< ", below))
                             if b is not None)
        worst = f"{min(margins):+.0%}" if margins else "—"
        if len(margins) < len(seeds):
            worst += " (not all seeds reached it)"
        lines.append(f"| {name[:2]} | {text} | " + " | ".join(values)
                     + f" | {bound} | {worst} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=DEFAULT)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "seed_margins")
    parser.add_argument("--table", action="store_true",
                        help="only print the table from the logs already in OUT")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows_by_run, failures = {}, []
    if args.table:
        for name in args.notebooks:
            for seed in args.seeds:
                log = args.out / f"{Path(name).stem}-seed{seed}.jsonl"
                if log.exists():
                    rows_by_run[(Path(name).stem, seed)] = read_log(log)
        print(table(rows_by_run, args.seeds))
        return 0
    for name in args.notebooks:
        notebook = ROOT / "notebooks" / f"{Path(name).stem}.ipynb"
        for seed in args.seeds:
            log = args.out / f"{notebook.stem}-seed{seed}.jsonl"
            log.unlink(missing_ok=True)
            seconds, error = run(notebook, seed, log)
            rows = read_log(log)
            rows_by_run[(notebook.stem, seed)] = rows
            status = "ok" if error is None else f"FAILED: {error}"
            print(f"{notebook.stem} seed {seed}: {len(rows)} claims, {seconds:.0f} s, {status}",
                  flush=True)
            if error is not None:
                failures.append((notebook.stem, seed, error))
    text = table(rows_by_run, args.seeds)
    (args.out / "seed_margins.md").write_text(text + "\n", encoding="utf-8")
    print()
    print(text)
    for name, seed, error in failures:
        print(f"\n{name}, seed {seed}: {error}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
