"""Ending a process and everything it started, whatever session each child moved into.

The grader's worker starts a kernel in a session of its own; JupyterHub starts a proxy and one
server per learner, each leading its own process group. Killing the parent's group leaves
those running, so both end their trees the same way: note every descendant and its process
group while they are still there, then kill group by group (never this process's own), then
each process still alive, then wait for them all.
"""

import os
import signal


def process_groups(processes):
    """The process groups of ``processes`` (psutil processes; those already gone are skipped)."""
    groups = set()
    for p in processes:
        try:
            groups.add(os.getpgid(p.pid))
        except OSError:
            pass
    return groups


def kill_everything(proc, family, groups):
    """SIGKILL every process group in ``groups`` except this process's own, then each process
    of ``family`` (psutil processes), then ``proc`` (a ``subprocess.Popen``); wait for all."""
    import psutil

    for group in groups - {os.getpgid(0)}:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    psutil.wait_procs(family, timeout=5)
