"""Ctrl-C and SIGTERM as one clean "stop", for the commands that run for a long time.

By default Python turns Ctrl-C (SIGINT) into ``KeyboardInterrupt`` but lets SIGTERM kill the
process on the spot, skipping every ``finally`` block, so temporary files, moved files and
child processes stay behind. Inside ``stop_on_signals()`` both signals raise
``KeyboardInterrupt``, and the context remembers which signal came, so a command can tell a
stop request from a loop that returned normally (``fit`` swallows Ctrl-C and returns early).
"""

import signal
import threading
from contextlib import contextmanager

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}  # the shell's 128 + signal number


class StopRequest:
    """Which signal asked the command to stop (``None`` while none has)."""

    def __init__(self):
        self.signal = None

    def __bool__(self):
        return self.signal is not None

    @property
    def name(self):
        return "Ctrl-C" if self.signal == signal.SIGINT else signal.Signals(self.signal).name

    @property
    def exit_code(self):
        return SIGNAL_EXIT.get(self.signal, 1)


@contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Within the block, each of ``signals`` raises ``KeyboardInterrupt`` and is recorded in
    the yielded ``StopRequest``. Outside the main thread (where Python cannot set handlers) it
    records nothing and changes nothing."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum, frame):
        request.signal = request.signal or signum
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield request
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
