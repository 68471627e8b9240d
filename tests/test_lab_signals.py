"""``vae-course lab`` stops completely on SIGTERM and on Ctrl-C (SIGINT).

Each test starts the real command in a subprocess on a free port, opens a notebook session the
way JupyterLab does (a kernel starts), has the kernel start a child process of its own, signals
the lab, and then asserts that the lab, the kernel and the kernel's child are all gone, that
no ``jpserver-<pid>.json`` is left in the runtime folder, and that the lab said so in one line
(no traceback) and exited 130 after Ctrl-C, 0 after SIGTERM. The SIGTERM test first puts the kernel
in a long C call that holds the GIL, so it cannot answer the polite shutdown request. On a
terminal (a pseudo-terminal here) JupyterLab would ask "Shut down this Jupyter server (y/[n])?";
the course's lab stops at the first Ctrl-C.
"""

import signal
import time

import psutil
import pytest
from jupyter_client import BlockingKernelClient

from labtools import Lab


def start_busy_kernel(lab, hold_the_gil):
    """Open notebooks/00_overview.ipynb as JupyterLab would and start ``sleep`` in its kernel;
    returns the sleep's pid."""
    session = lab.get("/api/sessions", "POST", {"path": "notebooks/00_overview.ipynb",
                                                 "type": "notebook", "name": "",
                                                 "kernel": {"name": "python3"}})
    kernel_id = session["kernel"]["id"]
    client = BlockingKernelClient(connection_file=str(lab.runtime / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.start_channels(hb=False)  # a heartbeat misses its 1 s deadline on a busy machine
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(
            "import subprocess\nchild = subprocess.Popen(['sleep', '333'])\n"
            "print('child', child.pid)", timeout=60, output_hook=lambda msg: None,
            user_expressions={"pid": "child.pid"})
        pid = int(reply["content"]["user_expressions"]["pid"]["data"]["text/plain"])
        if hold_the_gil:
            client.execute("sum(range(10**12))")  # minutes of C code, no reply awaited
            time.sleep(1)
    finally:
        client.stop_channels()
    return pid


@pytest.mark.parametrize("signum, hold_the_gil, terminal", [
    (signal.SIGTERM, True, False), (signal.SIGINT, False, False), (signal.SIGINT, False, True)],
    ids=["SIGTERM-kernel-in-a-C-call", "SIGINT-from-a-script", "Ctrl-C-on-a-terminal"])
def test_a_signal_stops_lab_kernels_and_their_children(tmp_path, signum, hold_the_gil,
                                                       terminal):
    lab = Lab(tmp_path).start(terminal=terminal)
    try:
        sleep_pid = start_busy_kernel(lab, hold_the_gil)
        lab.note_processes()
        kernels = [pid for pid, command in lab.commands() if "ipykernel" in command]
        assert kernels, "no kernel process was found below the lab"
        assert sleep_pid in lab.started, "the kernel's child was not found below the lab"
        assert lab.runtime_files(), "the running server wrote no jpserver-*.json"

        start = time.perf_counter()
        status = lab.stop(signum, group=terminal)  # a terminal signals the foreground group
        deadline = time.monotonic() + 15  # kernels are reaped just after the server exits
        while lab.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [(pid, command[:80]) for pid, command in lab.commands(lab.alive())]
        print(f"{signal.Signals(signum).name}: stopped in {time.perf_counter() - start:.1f} s, "
              f"{len(lab.started)} processes accounted for")
        assert left == [], f"still running after {signal.Signals(signum).name}: {left}"
        assert status == (130 if signum == signal.SIGINT else 0), lab.log_text()[-2000:]
        assert "JupyterLab stopped, kernels shut down" in lab.log_text()
        assert "Traceback" not in lab.log_text()
        assert lab.runtime_files() == [], "stale runtime files"
        assert not psutil.pid_exists(sleep_pid) or \
            psutil.Process(sleep_pid).status() == psutil.STATUS_ZOMBIE
    finally:
        lab.kill_leftovers()
