"""A trial class on a real JupyterHub, driven by a program instead of by learners' browsers.

``TrialHub`` starts JupyterHub exactly as ``vae-course hub`` does (``vae_course.hub``: the same
config, the same proxy from npm, the same stop), plus a service token that lets this program use
the hub's REST API as an administrator: start a learner's server, read the process id of it,
and reach the learner's own Jupyter server through the proxy (``/user/NAME/api/...``) to start
kernels there. ``vae-course bench --only class`` uses it; a real class never sets that token.

On leaving the ``with`` block it stops the hub (which stops the proxy, every learner's server
and their kernels), then checks that no process it ever saw under the hub is alive, killing and
reporting any that is (``left_running``).
"""

import json
import secrets
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import hub

TOKEN_ENV = "VAE_COURSE_HUB_BENCH_TOKEN"  # read by deploy/jupyterhub_config.py


class TrialHub:
    """``with TrialHub(["learner1", ...], models) as h:`` — a running hub with those learners."""

    def __init__(self, users, models=None, start_timeout=300):
        self.users = list(users)
        self.models = models
        self.start_timeout = start_timeout
        self.token = secrets.token_hex(24)
        self.proc = None
        self.seen = {}  # pid -> psutil.Process of everything seen under the hub
        self.left_running = []  # command lines still alive after the stop (then killed)

    # ------------------------------------------------------------------ start and stop

    def __enter__(self):
        if not hub.jupyterhub_installed():
            raise hub.HubSetupError("JupyterHub is not installed (pip install -e '.[hub]')")
        proxy = hub.install_proxy(quiet=True)
        self.root = Path(tempfile.mkdtemp(prefix="vae-course-bench-hub-"))
        self.homes = self.root / "homes"
        self.homes.mkdir()
        port = hub.free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = hub.hub_environment(self.users, secrets.token_urlsafe(8), self.root, self.homes,
                                  port, proxy=proxy, models=self.models)
        env[TOKEN_ENV] = self.token
        self.log_path = self.root / "jupyterhub.log"
        self._log = open(self.log_path, "wb")
        self.proc = hub.start_hub(env, self.root, self._log)
        if not hub.wait_until_up(self.url, self.proc, self.start_timeout):
            tail = self.log_tail()
            self.__exit__(None, None, None)
            raise RuntimeError(f"JupyterHub did not start; the end of its log:\n{tail}")
        self.watch()
        return self

    def __exit__(self, *exc):
        import psutil

        if self.proc is not None:
            self.watch()
            hub.stop_hub(self.proc)
            self.proc = None
        time.sleep(0.5)
        for p in self.seen.values():
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    self.left_running.append(" ".join(p.cmdline())[:200])
                    p.kill()
            except psutil.Error:
                pass
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if getattr(self, "root", None):
            shutil.rmtree(self.root, ignore_errors=True)
        return False

    def watch(self):
        """Remember every process under the hub now (checked for leftovers at the end)."""
        if self.proc is not None:
            for p in hub.descendants(self.proc.pid):
                self.seen.setdefault(p.pid, p)

    def log_tail(self, lines=20):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------------ the REST API

    def api(self, method, path, body=None, timeout=60):
        """``method`` ``url + path`` with the service token; returns the decoded JSON (or None).

        ``path`` is below the hub's URL: ``hub/api/users/learner1`` (the hub's API) or
        ``user/learner1/api/kernels`` (that learner's Jupyter server, through the proxy)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            text = reply.read()
        return json.loads(text) if text.strip() else None

    def start_server(self, user):
        """Start ``user``'s server through the hub and wait until it is ready; returns the pid
        of the server process (the spawner's state)."""
        try:
            self.api("POST", f"hub/api/users/{user}/server")
        except urllib.error.HTTPError as err:
            if err.code != 400:  # 400: already running
                raise
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"hub/api/users/{user}")
            server = (model.get("servers") or {}).get("", {})
            if server.get("ready"):
                self.watch()
                return server["state"]["pid"]
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"{user}'s server did not start within {self.start_timeout} s; "
                           f"the end of the hub's log:\n{self.log_tail()}")

    def start_kernel(self, user, path):
        """Start a kernel in ``user``'s own server, working in the folder of ``path`` (relative
        to the learner's workspace); returns its websocket URL."""
        kernel = self.api("POST", f"user/{user}/api/kernels", {"name": "python3",
                                                               "path": path})
        self.watch()
        return f"{self.url.replace('http', 'ws', 1)}user/{user}/api/kernels/{kernel['id']}/channels"

    def read_notebook(self, user, path):
        """``path`` from ``user``'s workspace, read through their server (the contents API)."""
        import nbformat

        model = self.api("GET", f"user/{user}/api/contents/{path}?content=1&type=notebook")
        return nbformat.from_dict(model["content"])
