"""Helpers for the hygiene tests: run ``vae-course`` as a user does (a real subprocess), signal
it, and find every process it started, wherever those ended up.

Each command under test gets a unique ``VAE_HYGIENE_TAG`` in its environment. Every process it
starts (kernels, the kernels' own children) inherits the environment, so after the command has
ended, any live process still carrying the tag is a leak, even one that re-parented itself to
init or moved to a new session.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
TAG_ENV = "VAE_HYGIENE_TAG"


def cli_env(tmp_path, **extra):
    """The environment for a ``vae-course`` subprocess: this checkout first on PYTHONPATH, one
    thread, data and models in ``tmp_path``, a fresh tag; ``extra`` overrides."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update({"OMP_NUM_THREADS": "1", "VAE_COURSE_DATA": str(tmp_path / "data"),
                "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), TAG_ENV: uuid.uuid4().hex,
                "PYTHONUNBUFFERED": "1"})
    env.pop("VAE_COURSE_MODELS", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Command:
    """``vae-course ARGS`` running in its own session (so the test can signal it like a
    terminal signals its foreground job), with stdout and stderr collected in the background."""

    def __init__(self, args, env, cwd=None, script=None):
        """``script``: a Python file to run instead of ``-m vae_course.cli`` (a test's own
        entry point that patches something, then calls ``vae_course.cli.main``)."""
        self.env = env
        self.tag = env[TAG_ENV]
        entry = [str(script)] if script else ["-m", "vae_course.cli"]
        self.proc = subprocess.Popen([sys.executable, *entry, *map(str, args)],
                                     env=env, cwd=cwd or REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out, self.err = [], []
        self._readers = [threading.Thread(target=self._drain, args=(s, b), daemon=True)
                         for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()
        self.seen = {}  # pid -> command line of every tagged process seen while it ran
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self):
        while self.proc.poll() is None:
            for p in tagged_processes(self.tag):
                try:  # the latest: a child read between fork and exec shows its parent's
                    self.seen[p.pid] = p.cmdline() or self.seen.get(p.pid, [])
                except psutil.Error:
                    pass
            time.sleep(0.2)

    def connection_files(self):
        """Kernel connection files (``-f FILE`` of each kernel seen running)."""
        files = []
        for cmdline in self.seen.values():
            if "-f" in cmdline[:-1] and any("kernel" in part for part in cmdline):
                files.append(Path(cmdline[cmdline.index("-f") + 1]))
        return files

    @staticmethod
    def _drain(stream, buffer):
        for line in stream:
            buffer.append(line)

    @property
    def stdout(self):
        return "".join(self.out)

    @property
    def stderr(self):
        return "".join(self.err)

    def wait_for(self, condition, timeout=60, what="the condition"):
        """Poll ``condition()`` until true; fail with the output so far after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc.poll() is not None and not condition():
                raise AssertionError(f"the command ended (exit {self.proc.returncode}) before "
                                     f"{what}.\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}")
            time.sleep(0.1)
        raise AssertionError(f"{what} did not happen within {timeout} s.\nstdout:\n"
                             f"{self.stdout}\nstderr:\n{self.stderr}")

    def ctrl_c(self):
        """What Ctrl-C in a terminal does: SIGINT to the whole foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def terminate(self):
        """What a process manager does: SIGTERM to the command's own process."""
        self.proc.send_signal(signal.SIGTERM)

    def finish(self, timeout=60):
        """Wait for the command to exit; returns its exit status (fails if it does not exit)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_everything()
            raise AssertionError(f"the command did not exit within {timeout} s.\nstdout:\n"
                                 f"{self.stdout}\nstderr:\n{self.stderr}") from None
        return code

    def output_closed(self, timeout=10):
        """True once both pipes reached end-of-file: every process that inherited the
        command's stdout or stderr has closed it (a leaked kernel keeps it open, which is what
        makes ``vae-course check ... | tail`` hang)."""
        for reader in self._readers:
            reader.join(timeout)
        return not any(reader.is_alive() for reader in self._readers)

    def processes(self):
        """Live processes carrying this command's tag (the command itself included)."""
        return tagged_processes(self.tag)

    def kill_everything(self):
        """Clean up after a failing test: SIGKILL every tagged process and the session."""
        for p in self.processes():
            try:
                p.kill()
            except psutil.Error:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(10)


def tagged_processes(tag):
    """Live (non-zombie) processes whose environment holds ``VAE_HYGIENE_TAG=tag``."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            if p.environ().get(TAG_ENV) == tag:
                found.append(p)
        except psutil.Error:  # ended meanwhile, or not ours to read
            continue
    return found


def assert_no_leftovers(command, grace=10):
    """After the command exited: within ``grace`` seconds no process it started is alive.
    Anything still alive is killed (so one failing test does not spoil the next) and named."""
    deadline = time.monotonic() + grace
    alive = command.processes()
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = command.processes()
    if alive:
        names = [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in alive
                 if p.is_running()]
        command.kill_everything()
        raise AssertionError("processes left running after the command ended:\n  "
                             + "\n  ".join(names))


class StalledServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (what a
    broken proxy or a black-holing firewall looks like to a client)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/mnist/"
        self.connections = []
        self.first_contact = None  # time.monotonic() of the first connection
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.first_contact = self.first_contact or time.monotonic()
            self.connections.append(conn)  # held open, never read, never answered

    def close(self):
        self._closed = True
        for conn in self.connections:
            conn.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
