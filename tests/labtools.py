"""Start ``vae-course lab`` the way a learner does, and account for every process it starts.

Shared by the lab's signal tests and the browser tests. Each lab runs on a free localhost port
with its own token, workspace, JupyterLab settings and runtime folder (all under ``home``), so a
test never touches the learner's real ``work/`` or the user's Jupyter files.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from vae_course.paths import COURSE_ROOT

URL_RE = re.compile(r"http://127\.0\.0\.1:\d+/\S*\?token=(\w+|\.\.\.)")
START_TIMEOUT = 120  # seconds until the server answers (a busy two-core machine is slow)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_command():
    """``vae-course lab`` of this environment (its script, or the module where there is none)."""
    script = Path(sys.executable).with_name("vae-course")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "vae_course.cli"]
    return command + ["lab"]


class Lab:
    """A running ``vae-course lab``: ``base`` URL, ``token``, ``work`` folder, ``log`` path,
    ``process`` (the Popen), ``runtime`` folder, and ``started``: every process seen below it."""

    def __init__(self, home, work=None, course=COURSE_ROOT, extra=(), settings=None,
                 token=True):
        """``work=None``: a workspace in ``home``; ``work=False``: the course's default (its
        ``work/``). ``token=False``: let the server make its own and read it from the URL it
        prints, as a learner does. ``course``: another copy of the course to run (its package
        is put first on PYTHONPATH, for the lab and its kernels)."""
        home = Path(home)
        self.home, self.course = home, Path(course)
        self.port = free_port()
        self.token = secrets.token_hex(16) if token else None
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = None  # the URL the lab printed, once it has
        self.runtime = home / "runtime"
        self.log = home / f"lab-{self.port}.log"
        for plugin, values in (settings or {}).items():
            path = home / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                        JUPYTER_RUNTIME_DIR=str(self.runtime))
        self.env.pop("VAE_COURSE_WORK", None)
        if work is False:
            self.work = self.course / "work"
        else:
            self.work = Path(work) if work else home / "work"
            self.env["VAE_COURSE_WORK"] = str(self.work)
        if self.course != COURSE_ROOT:
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(self.course)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
            self.command = [sys.executable, "-m", "vae_course.cli", "lab"]
        else:
            self.command = lab_command()
        self.command += [f"--port={self.port}", "--no-browser", "--ServerApp.ip=127.0.0.1",
                         *([f"--IdentityProvider.token={self.token}"] if self.token else []),
                         *extra]
        self.started = {}  # pid -> psutil.Process (keeps the create time, so pid reuse is safe)
        self.process = None

    def start(self, terminal=False):
        """Start the lab; ``terminal``: with a pseudo-terminal as its stdin, as in a shell (where
        JupyterLab's own Ctrl-C handling differs)."""
        log = open(self.log, "w")
        stdin = None
        if terminal:
            import pty

            self._pty = pty.openpty()
            stdin = self._pty[1]
        self.process = subprocess.Popen(self.command, cwd=self.course, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=stdin,
                                        start_new_session=True)
        log.close()
        self.started[self.process.pid] = psutil.Process(self.process.pid)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"vae-course lab exited ({self.process.returncode}):\n"
                                   f"{self.log_text()[-3000:]}")
            found = URL_RE.search(self.log_text())
            if found:  # the server printed its URL (with "..." for a token it was given)
                self.url = found.group(0)
                self.token = self.token or found.group(1)
                try:
                    self.get("/api/status")
                    break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within {START_TIMEOUT} s:\n"
                                   f"{self.log_text()[-3000:]}")
            time.sleep(0.5)
        self.note_processes()
        return self

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path, method="GET", body=None):
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
        return json.loads(data) if data else None

    def note_processes(self):
        """Remember every process now running below the lab (kernels and their children)."""
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.started.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def alive(self):
        """The processes this lab started that still run (zombies count as gone)."""
        out = []
        for proc in self.started.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    out.append(proc)
            except psutil.NoSuchProcess:
                pass
        return out

    def commands(self, procs=None):
        """[(pid, command line)] of ``procs`` (default: every process seen), gone ones skipped."""
        out = []
        for proc in self.started.values() if procs is None else procs:
            try:
                out.append((proc.pid, " ".join(proc.cmdline())))
            except psutil.Error:
                pass
        return out

    def runtime_files(self):
        return sorted(p.name for p in self.runtime.glob("jpserver-*")) \
            if self.runtime.is_dir() else []

    def stop(self, signum=signal.SIGTERM, timeout=60, group=False):
        """Send ``signum`` to the lab (only to it, as a process manager would; ``group``: to its
        process group, as a terminal's Ctrl-C does) and wait for it; returns its exit status."""
        self.note_processes()
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            for fd in getattr(self, "_pty", ()):
                os.close(fd)
            self._pty = ()

    def kill_leftovers(self):
        """Last resort for a failed test: SIGKILL whatever this lab left, so the machine is clean
        for the next test (the assertion that nothing was left has already been made)."""
        if self.process is not None and self.process.poll() is None:
            self.note_processes()
        for proc in self.alive():
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
