"""The pieces of ``vae-course bench --only class`` (the measurement itself is opt-in, not a test).

* its summary and table rows from made-up per-learner numbers;
* ``tree_rss`` on a real process tree;
* ``kernel_ws`` running cells in a kernel of a learner's server that a real trial JupyterHub
  started (``bench.trial_hub``, through the hub's REST API and proxy): the kernel works in the
  notebook's folder of the learner's workspace, an error stops the run as Run All does and is
  counted, the learner's server + kernel are measured, and nothing is left running afterwards.
  Skipped, with the reason, where JupyterHub or the proxy (node/npm) is missing.
"""

import asyncio
import subprocess
import sys
import time

import psutil
import pytest

from vae_course import hub
from vae_course.bench.kernel_ws import connect, run_cells, wait_ready
from vae_course.bench.sections import class_load
from vae_course.bench.sections.class_load import GIB, rows, summary, tree_rss


def learner(seconds, peak, errors=0, error=None):
    return {"seconds": seconds, "cells_run": 5, "cells": 5, "errors": errors, "error": error,
            "peak_gib": peak, "kernel_peak_gib": peak - 0.1, "idle_gib": 0.3}


def test_summary_and_rows_of_each_k():
    ok = summary({"learners": [learner(10.0, 1.0), learner(14.0, 1.2)],
                  "load_before": (0.5, 0.4, 0.3), "load_after": (1.9, 0.8, 0.4),
                  "left_running": []})
    assert ok["wall_seconds_mean"] == pytest.approx(12.0) and ok["wall_seconds_max"] == 14.0
    assert ok["peak_gib_mean"] == pytest.approx(1.1) and ok["peak_gib_max"] == 1.2
    bad = summary({"learners": [learner(3.0, 0.9, 1, "cell 2: ValueError: boom"),
                                learner(20.0, 1.0)],
                   "load_before": (0, 0, 0), "load_after": (2.5, 1, 1),
                   "left_running": ["python -m ipykernel_launcher"]})
    assert bad["wall_seconds_mean"] == 20.0  # a failed learner's time is not a wall time
    table = rows({"class_notebook": "notebooks/00_overview.ipynb", "class_cpus": 2,
                  "class_runs": {"2": ok, "4": bad}})
    assert "00_overview" in table[0][0] and "2 cores" in table[0][0]
    assert table[1] == ("  k = 2", "12 / 14 s; 1.10 / 1.20 GiB; load 1.9", "", "–")
    assert table[2][1].startswith("20 / 20 s; 0.95 / 1.00 GiB; load 2.5; 1 error(s): cell 2")
    assert table[2][1].endswith("; 1 process(es) left running")
    assert rows({}) == []


def test_class_section_is_opt_in():
    assert class_load.OPT_IN  # a plain `vae-course bench` leaves it out (runner.run)


@pytest.mark.parametrize("bad", ["0", "two", ",", "1,-4"])
def test_learners_option_takes_positive_whole_numbers(bad, capsys):
    from vae_course import bench

    with pytest.raises(SystemExit):
        bench.main(["--only", "class", "--learners", bad])
    assert "--learners" in capsys.readouterr().err


def test_class_notebook_option_needs_a_course_notebook(capsys):
    from vae_course import bench

    with pytest.raises(SystemExit):
        bench.main(["--only", "class", "--class-notebook", "notebooks/99_missing.ipynb"])
    assert "99_missing" in capsys.readouterr().err


def test_settings_overrides_must_name_a_setting():
    from vae_course.bench.runner import run

    with pytest.raises(ValueError, match="class_learner"):
        run(only=["class"], overrides={"class_learner": [8]}, progress=False)


def test_tree_rss_counts_a_process_and_its_children():
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, time; "
                               "subprocess.Popen(['sleep', '60']); time.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while not [c for c in psutil.Process(parent.pid).children() if c.name() == "sleep"]:
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.05)
        time.sleep(0.2)  # both settled: the parent sleeps, the child is `sleep`
        child = psutil.Process(parent.pid).children()[0]
        parts = psutil.Process(parent.pid).memory_info().rss + child.memory_info().rss
        total, kernels = tree_rss(parent.pid)
        assert abs(total - parts) < 1 << 20 and total > child.memory_info().rss > 0
        assert kernels == 0  # no ipykernel below it
    finally:
        for p in psutil.Process(parent.pid).children(recursive=True):
            p.kill()
        parent.kill()
        parent.wait()
    assert tree_rss(parent.pid) == (0, 0)


def test_cells_run_in_a_hub_spawned_kernel_and_nothing_is_left(tmp_path):
    if not hub.jupyterhub_installed():
        pytest.skip("jupyterhub is not installed (pip install -e '.[hub]')")
    try:
        hub.install_proxy(quiet=True)
    except hub.HubSetupError as err:
        pytest.skip(f"no configurable-http-proxy: {err}")
    from vae_course.bench.trial_hub import TrialHub

    cells = ["import os\nfrom pathlib import Path\n"  # the notebook's folder in the workspace
             "assert Path.cwd().parts[-2:] == ('vae-course-work', 'notebooks'), Path.cwd()",
             "x = 6 * 7\nassert x == 42", "raise ValueError('boom')", "never = 1"]

    async def drive(url, token):
        ws = await connect(url, token)
        try:
            await wait_ready(ws)
            good = await run_cells(ws, cells[:2], timeout=60)
            bad = await run_cells(ws, cells, timeout=60)
            return good, bad
        finally:
            ws.close()

    with TrialHub(["learner1"], models=tmp_path) as trial:
        pid = trial.start_server("learner1")
        url = trial.start_kernel("learner1", "notebooks/00_overview.ipynb")
        nb = trial.read_notebook("learner1", "notebooks/00_overview.ipynb")
        good, bad = asyncio.run(drive(url, trial.token))
        total, kernel = tree_rss(pid)
        seen = list(trial.seen.values())
    assert any("import torch" in c.source for c in nb.cells)  # the learner's copy, read via API
    assert good["errors"] == 0 and good["cells_run"] == 2 and good["error"] is None
    assert bad["errors"] == 1 and bad["cells_run"] == 3  # stops at the error, as Run All does
    assert bad["error"] == "cell 3: ValueError: boom"
    assert 0 < kernel < total and total > 0.05 * GIB  # a server and its kernel, measured
    assert trial.left_running == []
    assert not [p for p in seen if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not trial.root.exists()
