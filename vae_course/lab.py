"""``vae-course lab``: JupyterLab on the learner's workspace, run in this very process.

JupyterLab is started in-process (not as a child), so SIGTERM and Ctrl-C reach the server
itself. Both stop it the orderly way: kernels shut down, and the ``jpserver-<pid>.json`` runtime
file is removed. (A wrapper around a child process could only kill it, leaving kernels and a stale
runtime file; JupyterLab's own Ctrl-C handler asks "Shut down this Jupyter server?" on a terminal
and, without one, exits without cleaning up.)

The first view is the course, nothing else:

* the server's root is the workspace (see ``vae_course.workspace``), so the file browser lists
  ``notebooks/``, ``exercises/`` and ``solutions/``, not the project's internals;
* the URL it prints (and opens) is the overview notebook, not the Launcher;
* no "get notified about official Jupyter news?" prompt and no update check (both would reach
  for the internet): set through JupyterLab's settings overrides, in a settings folder of the
  course's own inside the workspace's hidden state folder.
"""

import json
import os
import shutil
import signal
import sys
from pathlib import Path

from .workspace import STATE_DIR

START = "notebooks/00_overview.ipynb"
# JupyterLab plugin settings the course fixes (a learner can still change them in Settings).
SETTINGS_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}


def app_settings_dir(work):
    """A JupyterLab application-settings folder holding the course's ``overrides.json``, merged
    over whatever the installed JupyterLab ships in its own such folder."""
    from jupyterlab.commands import get_app_dir

    target = Path(work) / STATE_DIR / "lab-settings"
    if target.exists():
        shutil.rmtree(target)
    default = Path(get_app_dir()) / "settings"
    if default.is_dir():
        shutil.copytree(default, target)
    target.mkdir(parents=True, exist_ok=True)
    overrides_path = target / "overrides.json"
    overrides = {}
    if overrides_path.is_file():
        try:
            overrides = json.loads(overrides_path.read_text(encoding="utf-8"))
        except ValueError:
            overrides = {}
    for plugin, values in SETTINGS_OVERRIDES.items():
        overrides.setdefault(plugin, {}).update(values)
    overrides_path.write_text(json.dumps(overrides, indent=1) + "\n", encoding="utf-8")
    return target


def lab_arguments(work, start=START, port=8888, extra=()):
    """Command-line arguments for JupyterLab; ``extra`` (the user's own) come last and win."""
    args = [f"--ServerApp.root_dir={work}",
            f"--LabApp.default_url=/lab/tree/{start}",
            f"--LabApp.app_settings_dir={app_settings_dir(work)}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=None"]
    if not any(a.startswith("--port") for a in extra):
        args.append(f"--port={port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        args.append("--allow-root")  # JupyterLab refuses root otherwise (containers, CI)
    return args + list(extra)


def run(args, work=None):
    """Run JupyterLab with ``args`` in this process until SIGTERM, Ctrl-C or the UI's Shut Down.
    Returns the exit status: 130 after Ctrl-C (SIGINT), as for any interrupted command; 0
    otherwise."""
    from jupyterlab.labapp import LabApp

    stopped_by = []

    def stop(signum, frame):
        if not stopped_by:
            print(f"\nStopping JupyterLab ({signal.Signals(signum).name}): shutting its kernels "
                  "down...", file=sys.stderr, flush=True)
        stopped_by.append(signum)
        server._signal_stop(signum, frame)  # orderly: kernels, runtime file, then the loop

    try:
        server = LabApp.initialize_server(argv=list(args))
        # Ctrl-C stops like SIGTERM does. (JupyterLab itself asks for confirmation on a terminal
        # and, without one, exits without shutting its kernels down.)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        server.start()
    except KeyboardInterrupt:  # before the server was up: nothing of it to clean
        print("\nInterrupted before JupyterLab started.", file=sys.stderr)
        return 130
    where = f"; your work is in {work}" if work else ""
    print(f"JupyterLab stopped, kernels shut down{where}.", file=sys.stderr, flush=True)
    return 130 if signal.SIGINT in stopped_by else 0
