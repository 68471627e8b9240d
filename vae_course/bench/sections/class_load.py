"""Section ``class`` (opt-in: ``vae-course bench --only class``): k learners at once.

k = 1, 2, 4, 8 learners run the same lecture notebook at the same moment, each in a kernel of
their own — the kernels a class's single-user servers start on one machine. For each k it
records every learner's wall time and the peak memory (resident set) of every learner's kernel,
from which INSTRUCTOR.md sizes a class ("cores and GiB per 10 learners").

Each learner is a worker process (``python -m vae_course.bench.sections.class_load NOTEBOOK``)
that runs the notebook with nbclient, from a warm model cache (the class's shared, pre-trained
models); memory is sampled every 0.2 s from the worker's kernel process tree. The JupyterLab
server of each learner (~0.1 GiB, idle while the kernel computes) is not in these numbers.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

NAME = "class"
HELP = """opt-in (--only class): k = 1, 2, 4, 8 learners run one lecture notebook at the same time,
each in their own kernel, as on a class server; wall time and peak kernel memory per learner."""
OPT_IN = True  # not part of a plain `vae-course bench`: it loads the machine for minutes
FULL = {"class_learners": [1, 2, 4, 8], "class_notebook": "notebooks/00_overview.ipynb",
        "class_timeout": 1800}
QUICK = {"class_learners": [1, 2], "class_notebook": "notebooks/00_overview.ipynb",
         "class_timeout": 900}
GIB = 1 << 30


def _kernel_rss(worker):
    """Resident bytes of everything the worker started (its kernel and the kernel's children)."""
    import psutil

    total = 0
    try:
        for p in psutil.Process(worker.pid).children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def learners_at_once(notebook, k, timeout=1800):
    """Run ``notebook`` in k kernels at once; returns one dict per learner (seconds, peak GiB,
    error)."""
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    workers = [subprocess.Popen([sys.executable, "-m", "vae_course.bench.sections.class_load",
                                 str(notebook), str(timeout)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
               for _ in range(k)]
    peaks = [0] * k
    deadline = time.monotonic() + timeout + 60
    try:
        while any(w.poll() is None for w in workers) and time.monotonic() < deadline:
            for i, w in enumerate(workers):
                if w.poll() is None:
                    peaks[i] = max(peaks[i], _kernel_rss(w))
            time.sleep(0.2)
    finally:
        import psutil

        for w in workers:
            if w.poll() is None:  # past the deadline: the worker and its kernel go
                try:
                    for p in psutil.Process(w.pid).children(recursive=True):
                        p.kill()
                except psutil.Error:
                    pass
                os.killpg(w.pid, 9)
    out = []
    for w, peak in zip(workers, peaks):
        text = w.communicate()[0].strip().splitlines()
        one = json.loads(text[-1]) if text else {"seconds": None, "error": "worker died"}
        out.append({**one, "peak_gib": peak / GIB})
    return out


def run(ctx):
    from ...paths import COURSE_ROOT

    notebook = COURSE_ROOT / ctx.settings["class_notebook"]
    results = {}
    for k in ctx.settings["class_learners"]:
        runs = learners_at_once(notebook, k, ctx.settings["class_timeout"])
        seconds = [r["seconds"] for r in runs if r["seconds"] is not None]
        results[str(k)] = {
            "wall_seconds_mean": sum(seconds) / len(seconds) if seconds else None,
            "wall_seconds_max": max(seconds) if seconds else None,
            "peak_gib_mean": sum(r["peak_gib"] for r in runs) / k,
            "peak_gib_max": max(r["peak_gib"] for r in runs),
            "errors": [r["error"] for r in runs if r.get("error")]}
        if ctx.progress:
            print(f"  {k} learner(s) at once: {results[str(k)]}", flush=True)
    return {"class_notebook": notebook.name, "class_cpus": os.cpu_count(),
            "class_runs": results}


def rows(r):
    if not r.get("class_runs"):
        return []
    out = [(f"Class: k learners run `{r['class_notebook']}` at once on {r['class_cpus']} cores "
            f"(wall s mean / max; peak kernel GiB mean / max)", "", "", "–")]
    for k, v in r["class_runs"].items():
        wall = (f"{v['wall_seconds_mean']:.0f} / {v['wall_seconds_max']:.0f} s"
                if v["wall_seconds_mean"] is not None else "failed")
        out.append((f"  k = {k}", f"{wall}; {v['peak_gib_mean']:.2f} / {v['peak_gib_max']:.2f} GiB"
                    + (f"; {len(v['errors'])} failed" if v["errors"] else ""), "", "–"))
    return out


def _one(notebook, timeout):
    """The worker: run the notebook once from its folder, print one JSON line."""
    import nbformat

    from ...execute import execute_notebook

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = None
    try:
        execute_notebook(nb, path.parent, timeout=timeout)
    except Exception as err:
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:200]}"
    print(json.dumps({"seconds": time.perf_counter() - start, "error": error}))


if __name__ == "__main__":
    _one(sys.argv[1], float(sys.argv[2]))
