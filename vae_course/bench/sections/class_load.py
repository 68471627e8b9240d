"""Section ``class`` (opt-in: ``vae-course bench --only class``): k learners at once on a hub.

For each k (1, 2, 4, 8) it starts a real trial JupyterHub on this machine (``vae_course.hub``'s
own start and stop, through ``bench.trial_hub``) with k learners, starts every learner's server
through the hub's REST API, starts a kernel in each learner's own server (``POST
/user/NAME/api/kernels`` through the proxy), and then makes all k kernels execute the code cells
of the learner's copy of one lecture notebook at the same moment, over the kernels' websockets,
as k learners pressing Run All would. Per learner it records the wall time, the peak resident
memory of that learner's server + kernel process tree (sampled every 0.2 s with psutil), the
kernel's own peak, and the errors. Then it stops the hub and everything under it and checks that
nothing is left running. INSTRUCTOR.md sizes a class from these numbers ("cores and GiB per 10
learners").

The course models come from the shared model folder (the learners' kernels get
``VAE_COURSE_MODELS``), warm, as in a class prepared with ``vae-course prepare``.
"""

import asyncio
import os
import time

NAME = "class"
HELP = """opt-in (--only class): k = 1, 2, 4, 8 learners on a real trial JupyterHub run one lecture
notebook at the same time, each in a kernel of their own hub-spawned server; wall time, peak
memory (server + kernel) and errors per learner."""
OPT_IN = True  # not part of a plain `vae-course bench`: it loads the machine for minutes
FULL = {"class_learners": [1, 2, 4, 8], "class_notebook": "notebooks/00_overview.ipynb",
        "class_timeout": 1800}
QUICK = {"class_learners": [1, 2], "class_notebook": "notebooks/00_overview.ipynb",
         "class_timeout": 900}
GIB = 1 << 30
SAMPLE_SECONDS = 0.2


def tree_rss(pid):
    """Resident bytes of process ``pid`` and everything below it, and of its kernels alone
    (descendants running ``ipykernel``); (0, 0) once it is gone."""
    import psutil

    total = kernels = 0
    try:
        root = psutil.Process(pid)
        family = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0, 0
    for p in family:
        try:
            rss = p.memory_info().rss
            total += rss
            if p.pid != pid and "ipykernel" in " ".join(p.cmdline()):
                kernels += rss
        except psutil.Error:
            pass
    return total, kernels


async def _sample(pids, peaks, stop):
    """Keep the peak (tree, kernel) bytes of every learner's server tree until ``stop`` is set."""
    while not stop.is_set():
        for i, pid in enumerate(pids):
            total, kernel = tree_rss(pid)
            peaks[i] = (max(peaks[i][0], total), max(peaks[i][1], kernel))
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        except asyncio.TimeoutError:
            pass


async def _run_together(ws_urls, token, cells, pids, timeout):
    """All learners' kernels run ``cells`` at once; returns (per-learner results, peaks)."""
    from ..kernel_ws import connect, run_cells, wait_ready

    sockets = [await connect(url, token) for url in ws_urls]
    try:
        await asyncio.gather(*(wait_ready(ws) for ws in sockets))
        peaks = [(0, 0)] * len(pids)
        stop = asyncio.Event()
        sampler = asyncio.ensure_future(_sample(pids, peaks, stop))
        try:
            runs = await asyncio.gather(*(run_cells(ws, cells, timeout) for ws in sockets))
        finally:
            stop.set()
            await sampler
        return runs, peaks
    finally:
        for ws in sockets:
            ws.close()


def learners_at_once(notebook, k, timeout=1800, models=None, progress=False):
    """k learners on a fresh trial hub run ``notebook`` (a path in their workspace, e.g.
    ``notebooks/00_overview.ipynb``) at once; returns
    ``{"learners": [per learner: seconds, cells_run, cells, errors, error, peak_gib (server +
    kernel), kernel_peak_gib, idle_gib (server + kernel before the run), server_gib (the server
    before its kernel started)], "load_before", "load_after", "hub_gib" (JupyterHub and its
    proxy), "left_running"}``."""
    from ...hub import trial_logins
    from ..kernel_ws import code_cells
    from ..trial_hub import TrialHub

    def say(text):
        if progress:
            print(f"    k={k}: {text}", flush=True)

    users = trial_logins(k)
    with TrialHub(users, models=models) as hub:
        say("hub up; starting the learners' servers through the hub's API")
        pids = [hub.start_server(user) for user in users]
        servers = [tree_rss(pid)[0] for pid in pids]  # a learner's server alone, idle
        hub_only = tree_rss(hub.proc.pid)[0] - sum(servers)  # JupyterHub and its proxy
        cells = code_cells(hub.read_notebook(users[0], notebook))
        urls = [hub.start_kernel(user, notebook) for user in users]
        idle = [tree_rss(pid)[0] for pid in pids]
        load_before = os.getloadavg()
        say(f"{k} kernel(s) started; running {len(cells)} code cells in each at once")
        runs, peaks = asyncio.run(_run_together(urls, hub.token, cells, pids, timeout))
        load_after = os.getloadavg()
        hub.watch()
    learners = [{**run, "cells": len(cells), "peak_gib": peak / GIB,
                 "kernel_peak_gib": kernel / GIB, "idle_gib": before / GIB,
                 "server_gib": server / GIB}
                for run, (peak, kernel), before, server in zip(runs, peaks, idle, servers)]
    return {"learners": learners, "load_before": load_before, "load_after": load_after,
            "hub_gib": hub_only / GIB, "left_running": hub.left_running}


def summary(one):
    """The numbers of one k for the results: means and maxima over its learners."""
    learners = one["learners"]
    seconds = [r["seconds"] for r in learners if not r["errors"]]
    return {"wall_seconds_mean": sum(seconds) / len(seconds) if seconds else None,
            "wall_seconds_max": max(seconds) if seconds else None,
            "peak_gib_mean": sum(r["peak_gib"] for r in learners) / len(learners),
            "peak_gib_max": max(r["peak_gib"] for r in learners),
            "kernel_peak_gib_max": max(r["kernel_peak_gib"] for r in learners),
            "server_gib_max": max(r.get("server_gib", 0) for r in learners),
            "errors": sum(r["errors"] for r in learners),
            "first_errors": [r["error"] for r in learners if r["error"]],
            "hub_gib": one.get("hub_gib"), "load_before": list(one["load_before"]), "load_after": list(one["load_after"]),
            "left_running": one["left_running"], "learners": learners}


def run(ctx):
    from ...paths import models_dir

    notebook = ctx.settings["class_notebook"]
    results = {}
    for k in ctx.settings["class_learners"]:
        start = time.perf_counter()
        results[str(k)] = summary(learners_at_once(notebook, k, ctx.settings["class_timeout"],
                                                   models=models_dir(), progress=ctx.progress))
        if ctx.progress:
            line = rows({"class_runs": {str(k): results[str(k)]}, "class_notebook": notebook,
                         "class_cpus": os.cpu_count()})[1][1]
            print(f"  k = {k} ({time.perf_counter() - start:.0f} s with the hub): {line}",
                  flush=True)
    return {"class_notebook": notebook, "class_cpus": os.cpu_count(), "class_runs": results}


def rows(r):
    if not r.get("class_runs"):
        return []
    out = [(f"Class on a trial JupyterHub: k learners run `{r['class_notebook']}` at once in "
            f"their hub-spawned kernels, {r['class_cpus']} cores (wall s mean / max; peak GiB "
            f"of server + kernel, mean / max; load average 1 min after)", "", "", "–")]
    for k, v in r["class_runs"].items():
        wall = (f"{v['wall_seconds_mean']:.0f} / {v['wall_seconds_max']:.0f} s"
                if v["wall_seconds_mean"] is not None else "failed")
        text = (f"{wall}; {v['peak_gib_mean']:.2f} / {v['peak_gib_max']:.2f} GiB; "
                f"load {v['load_after'][0]:.1f}")
        if v["errors"]:
            text += f"; {v['errors']} error(s): {v['first_errors'][0][:80]}"
        if v["left_running"]:
            text += f"; {len(v['left_running'])} process(es) left running"
        out.append((f"  k = {k}", text, "", "–"))
    return out
