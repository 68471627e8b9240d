"""``vae-course hub``: a trial class on this machine, served by JupyterHub.

    vae-course hub --users 4        start JupyterHub with learners learner1..learner4

It starts JupyterHub (the ``hub`` extra: ``pip install -e '.[hub]'``) with
``deploy/jupyterhub_config.py`` in its trial mode (a shared password, every learner's server
run as this system user — for trying the class out, never for a real class), prints the URL and
the logins, and on Ctrl-C or SIGTERM stops the hub, its proxy, every learner's server and
kernel, and deletes the hub's state files. Learners' folders stay (``build/hub/homes/``), so
their work survives a restart.

JupyterHub needs configurable-http-proxy, a Node.js program: when it is not on the PATH this
command installs it with npm into ``~/.cache/vae-course/hub-node`` (or ``$VAE_COURSE_HUB_NODE``).

``python -m vae_course.hub singleuser ARGS`` is what JupyterHub starts for each learner (see the
config): it creates or updates the learner's workspace, then becomes ``jupyterhub-singleuser``.
"""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .paths import COURSE_ROOT, models_dir
from .process_tree import kill_everything, process_groups

CONFIG = COURSE_ROOT / "deploy" / "jupyterhub_config.py"
NODE_ENV = "VAE_COURSE_HUB_NODE"
PROXY = "configurable-http-proxy"
NPM_TIMEOUT = 300  # seconds for `npm install` before we give up and say so


class HubSetupError(RuntimeError):
    """Something the hub needs is missing; the message says what to install."""


def node_folder():
    """Where ``vae-course hub`` installs configurable-http-proxy with npm."""
    return Path(os.environ.get(NODE_ENV) or Path.home() / ".cache" / "vae-course" / "hub-node")


def find_proxy():
    """Path of configurable-http-proxy (PATH first, then our npm folder), or None."""
    local = node_folder() / "node_modules" / ".bin" / PROXY
    for candidate in (shutil.which(PROXY), local):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def install_proxy(quiet=False):
    """Find configurable-http-proxy, installing it with npm when node and npm exist."""
    found = find_proxy()
    if found:
        return found
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise HubSetupError(
            f"JupyterHub needs {PROXY} (a Node.js program) and this machine has no "
            f"{'npm' if shutil.which('node') else 'node'}. Install Node.js 18 or newer "
            f"(e.g. `apt-get install nodejs npm`), then run this again; or install the proxy "
            f"yourself: `npm install -g {PROXY}`.")
    folder = node_folder()
    folder.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"Installing {PROXY} with npm into {folder} (once)...", flush=True)
    try:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix",
                               str(folder), PROXY], capture_output=True, text=True,
                              timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise HubSetupError(f"`npm install {PROXY}` did not finish in {NPM_TIMEOUT} s (is the "
                            f"npm registry reachable?).") from None
    if done.returncode != 0 or not find_proxy():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise HubSetupError(f"`npm install {PROXY}` failed: {' / '.join(tail)}")
    return find_proxy()


def jupyterhub_installed():
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return False
    return True


def trial_logins(n):
    """The made-up learners of a trial: learner1 .. learnerN."""
    return [f"learner{i}" for i in range(1, n + 1)]


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_environment(users, password, state, homes, port, ip="127.0.0.1", proxy=None,
                    models=None):
    """Environment for ``jupyterhub -f deploy/jupyterhub_config.py`` in trial mode."""
    env = dict(os.environ)
    env.update({"VAE_COURSE_HUB_TRIAL_USERS": ",".join(users),
                "VAE_COURSE_HUB_TRIAL_PASSWORD": password,
                "VAE_COURSE_HUB_STATE": str(state), "VAE_COURSE_HUB_HOMES": str(homes),
                "VAE_COURSE_HUB_PORT": str(port), "VAE_COURSE_HUB_IP": ip,
                "VAE_COURSE_HUB_API_PORT": str(free_port()),
                "VAE_COURSE_PROXY_API_PORT": str(free_port()),
                "VAE_COURSE_MODELS": str(models or models_dir())})
    if proxy:
        env["VAE_COURSE_HUB_PROXY"] = proxy
    return env


def start_hub(env, state, log):
    """Start JupyterHub in its own session (so a terminal's Ctrl-C reaches only us)."""
    return subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
                            cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until_up(url, proc, timeout=120):
    """Wait until the hub answers at ``url``; False if it exited or timed out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "hub/health", timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def descendants(pid):
    """Every process below ``pid`` now (the proxy, learners' servers, their kernels)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def stop_hub(proc, grace=20):
    """Stop JupyterHub and everything it started: ask nicely (SIGTERM: JupyterHub stops its
    servers and proxy itself), then kill whatever is still alive, process group by group
    (the proxy and each learner's server run in sessions of their own)."""
    import psutil

    family = descendants(proc.pid)
    groups = process_groups(family) | {proc.pid}  # the hub leads its own group
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    family += [p for p in descendants(proc.pid) if p not in family]
    _, alive = psutil.wait_procs(family, timeout=5)
    kill_everything(proc, alive, groups)


class Stop(Exception):
    """SIGTERM arrived: stop the class like Ctrl-C does."""


def _raise_stop(signum, frame):
    raise Stop()


def serve(args):
    """Run a trial class until Ctrl-C or SIGTERM. Returns the exit status."""
    if not jupyterhub_installed():
        print("error: JupyterHub is not installed. Install the course's hub extra: "
              "pip install -e '.[hub]' (or pip install 'jupyterhub>=5').", file=sys.stderr)
        return 2
    try:
        proxy = install_proxy()
    except HubSetupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    root = Path(args.dir).resolve()
    homes = root / "homes"
    homes.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="run-", dir=root))  # deleted when we stop
    users = trial_logins(args.users)
    password = args.password or secrets.token_urlsafe(6)
    env = hub_environment(users, password, state, homes, args.port, args.ip, proxy,
                          args.models)
    url = f"http://{args.ip}:{args.port}/"
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where started with it ignored
    proc = None
    try:
        with open(state / "jupyterhub.log", "wb") as log:
            proc = start_hub(env, state, log)
            print(f"Starting JupyterHub (log: {state / 'jupyterhub.log'})...", flush=True)
            if not wait_until_up(url, proc):
                log.flush()
                print("error: JupyterHub did not start; the end of its log:", file=sys.stderr)
                print(_tail(state / "jupyterhub.log"), file=sys.stderr)
                return 1
            print(f"\nThe trial class is up: {url}\n"
                  f"Log in as {', '.join(users)} with the password: {password}\n"
                  f"(TRIAL MODE: one shared password, no isolation between learners; see "
                  f"deploy/ and INSTRUCTOR.md for a real class.)\n"
                  f"Shared models: {env['VAE_COURSE_MODELS']}; learners' folders: {homes}\n"
                  f"Stop with Ctrl-C.", flush=True)
            proc.wait()
            print("JupyterHub exited; the end of its log:", file=sys.stderr)
            print(_tail(state / "jupyterhub.log"), file=sys.stderr)
            return 1
    except (KeyboardInterrupt, Stop):
        print("\nStopping the class (hub, proxy, learners' servers and kernels)...",
              flush=True)
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short and strand the servers.
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if proc is not None:
                stop_hub(proc)
            shutil.rmtree(state, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, previous[signal.SIGINT])
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _tail(path, lines=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------ each learner's server


def prepare_workspace():
    """Create or update this learner's workspace (``~/vae-course-work`` unless
    ``$VAE_COURSE_WORK`` says otherwise); returns its folder.

    The one place where the hub meets the course's workspace logic (``vae_course.workspace``):
    the same copies ``vae-course lab`` gives a learner on a laptop, never overwriting the
    learner's own files."""
    os.environ.setdefault("VAE_COURSE_WORK", str(Path.home() / "vae-course-work"))
    from .workspace import sync

    report = sync()
    for line in report.lines():
        print(f"vae-course: {line}", file=sys.stderr)
    return Path(report.work)


def singleuser(argv):
    """Prepare the learner's workspace, then become ``jupyterhub-singleuser`` serving it."""
    try:
        folder = prepare_workspace()
    except Exception as err:  # still start the server: the learner can ask for help in it
        print(f"vae-course: could not prepare the workspace: {type(err).__name__}: {err}",
              file=sys.stderr)
    else:
        os.environ["JUPYTERHUB_ROOT_DIR"] = str(folder)
        overview = next(iter(sorted(folder.glob("**/00_overview.ipynb"))), None)
        if overview is not None:
            os.environ["JUPYTERHUB_DEFAULT_URL"] = \
                f"/lab/tree/{overview.relative_to(folder).as_posix()}"
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "jupyterhub.singleuser",
                              *lab_settings(os.environ.get("JUPYTERHUB_ROOT_DIR")), *argv])


def lab_settings(folder):
    """JupyterLab options the course's ``vae-course lab`` uses too: no news prompt, no update
    check (``vae_course.lab`` writes the settings file into the workspace)."""
    args = ["--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    try:
        from .lab import app_settings_dir
    except ImportError:
        return args
    if folder:
        try:
            args.append(f"--LabApp.app_settings_dir={app_settings_dir(folder)}")
        except OSError as err:
            print(f"vae-course: JupyterLab settings not written: {err}", file=sys.stderr)
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["singleuser"]:
        return singleuser(argv[1:])
    parser = argparse.ArgumentParser(
        prog="vae-course hub",
        description="Start a trial class on this machine with JupyterHub (Ctrl-C stops it).")
    parser.add_argument("--users", type=int, default=4, help="number of trial learners")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address to listen on (default: this machine only)")
    parser.add_argument("--password", help="the trial password (default: a random one)")
    parser.add_argument("--dir", default=str(COURSE_ROOT / "build" / "hub"),
                        help="folder for the learners' homes and the hub's state")
    parser.add_argument("--models", help="shared model folder (default: the course's)")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 200:
        parser.error("--users must be between 1 and 200")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
