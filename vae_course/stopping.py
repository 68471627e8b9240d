"""Ctrl-C and SIGTERM as one clean "stop", for the commands that run for a long time.

By default Python turns Ctrl-C (SIGINT) into ``KeyboardInterrupt`` but lets SIGTERM kill the
process on the spot, skipping every ``finally`` block, so temporary files, moved files and
child processes (kernels) stay behind. Inside ``stop_on_signals()`` both signals raise
``Stopped``, a ``KeyboardInterrupt`` that knows its signal, and the context records it, so a
command can tell a stop request from a loop that returned normally (``fit`` swallows Ctrl-C and
returns early) and exit with the shell's status for that signal.
"""

import signal
import threading
from contextlib import contextmanager


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived (``signum`` says which)."""

    def __init__(self, signum=signal.SIGINT):
        super().__init__(signum)
        self.signum = signum


def signal_name(err=None):
    """'Ctrl-C' or 'SIGTERM' for a ``Stopped`` (a plain KeyboardInterrupt is Ctrl-C)."""
    signum = getattr(err, "signum", signal.SIGINT)
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def exit_code(err=None):
    """The shell's exit status for a process ended by that signal: 128 + its number."""
    return 128 + getattr(err, "signum", signal.SIGINT)


class StopRequest:
    """Which signal asked the command to stop (``None`` while none has)."""

    def __init__(self):
        self.signal = None

    def __bool__(self):
        return self.signal is not None

    @property
    def name(self):
        return signal_name(Stopped(self.signal or signal.SIGINT))

    @property
    def exit_code(self):
        return exit_code(Stopped(self.signal or signal.SIGINT))


@contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Within the block, each of ``signals`` raises ``Stopped`` and is recorded in the yielded
    ``StopRequest``. Outside the main thread (where Python cannot set handlers) it records
    nothing and changes nothing."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum, frame):
        request.signal = request.signal or signum
        raise Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield request
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextmanager
def signals_held(signals=(signal.SIGINT, signal.SIGTERM)):
    """Hold ``signals`` back for a short critical section (ending a kernel): one that arrives
    meanwhile is raised as ``Stopped`` when the block ends, not in the middle of it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived = []
    previous = {s: signal.signal(s, lambda signum, frame: arrived.append(signum))
                for s in signals}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
    if arrived:
        raise Stopped(arrived[0])
