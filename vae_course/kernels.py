"""Kernels that always end: the lifetime of the kernel behind every headless notebook run.

nbclient shuts a kernel down only when it created the kernel manager itself, only on the paths
it expects, and it never touches what the kernel started: a kernel stuck in a C call (which
ignores interrupts), a ``subprocess.Popen`` in a notebook, or a SIGTERM to the command outlived
``vae-course check`` and kept its stdout open. Here one context manager owns the kernel for the
whole run and, however the run ends (normally, an error, a timeout, Ctrl-C, SIGTERM), shuts it
down, kills every process left in the kernel's process group (the kernel runs in a session of
its own, so the group is exactly the kernel and what it started), and removes its connection
file. ``run_all_cells`` replaces ``NotebookClient.execute``, whose own signal handlers swallow
Ctrl-C and SIGTERM.
"""

import os
import signal
from contextlib import contextmanager
from pathlib import Path

from .stopping import signals_held, stop_on_signals

GRACE_SECONDS = 3  # how long a healthy kernel gets to shut down by itself before it is killed


@contextmanager
def kernel_session(client, **start_options):
    """Start ``client``'s kernel (an nbclient ``NotebookClient``) for the block and end it, and
    everything it started, when the block ends, whichever way. Within the block Ctrl-C and
    SIGTERM raise ``stopping.Stopped``. ``start_options`` go to the kernel manager's
    ``start_kernel`` (e.g. ``stderr=subprocess.DEVNULL``)."""
    with stop_on_signals():
        if client.km is None:
            client.create_kernel_manager()
        finished = False
        try:
            with client.setup_kernel(cleanup_kc=False, **start_options):  # the end is ours
                yield client
            finished = True
        finally:
            end_kernel(client, graceful=finished and client.shutdown_kernel != "immediate")


def run_all_cells(client):
    """Run every code cell of ``client.nb`` in order in a ``kernel_session``; returns the
    notebook. Like ``NotebookClient.execute`` (an error stops the run unless the client allows
    errors), but stoppable, and the kernel always ends."""
    client.reset_execution_trackers()
    with kernel_session(client):
        info = client.wait_for_reply(client.kc.kernel_info())
        if info and "language_info" in info.get("content", {}):
            client.nb.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(client.nb.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        client.set_widgets_metadata()
    return client.nb


def end_kernel(client, graceful=True):
    """Shut the client's kernel down (politely first if ``graceful``), SIGKILL whatever is
    left in its process group, close the client's channels and delete the connection file."""
    km = client.km
    provisioner = getattr(km, "provisioner", None) if km is not None else None
    process = getattr(provisioner, "process", None)
    pgid = getattr(provisioner, "pgid", None)
    connection_file = getattr(km, "connection_file", "") if km is not None else ""
    stop = None
    if graceful and process is not None and process.poll() is None:
        try:
            km.shutdown_wait_time = GRACE_SECONDS
            _run(km.shutdown_kernel, now=False)
        except KeyboardInterrupt as err:  # a stop while waiting: finish the job below first
            stop = err
        except Exception:  # noqa: BLE001 - whatever went wrong, the kill below still runs
            pass
    with signals_held():
        if pgid and hasattr(os, "killpg"):
            try:
                os.killpg(pgid, signal.SIGKILL)  # the kernel and every child it started
            except (ProcessLookupError, PermissionError):
                pass  # the whole group has already gone
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream:
                    stream.close()
        if getattr(client, "kc", None) is not None:
            try:
                client.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
            client.kc = None
        if connection_file:
            Path(connection_file).unlink(missing_ok=True)
        _cancel_pending_tasks()
    if stop is not None:
        raise stop


def _run(coroutine_function, **kwargs):
    """Run an async kernel-manager method to completion from synchronous code."""
    from jupyter_core.utils import run_sync

    return run_sync(coroutine_function)(**kwargs)


def _cancel_pending_tasks():
    """A stop can leave nbclient's cell task half-way on the event loop; cancel it so it does
    not wake up later against a kernel that is gone."""
    import asyncio

    from jupyter_core.utils import ensure_event_loop

    try:
        loop = ensure_event_loop()
        if loop.is_running():
            return
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    except Exception:  # noqa: BLE001 - tidying only
        pass
