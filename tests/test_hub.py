"""A trial class on a real JupyterHub (``vae-course hub``), driven through Chromium.

The test starts ``vae-course hub --users 2`` on 127.0.0.1 (JupyterHub + configurable-http-proxy
from npm, deploy/jupyterhub_config.py in trial mode), logs two learners in with Playwright, and
checks that each lands in their own workspace, edits and runs exercise 03 and sees their own
check result, and that a kernel loading a course model reads it from the shared model folder
without training or writing anything there. Then it stops the hub with SIGTERM (and another
with SIGINT, as Ctrl-C does) and asserts that nothing it started is left: no process, no state
file. Skipped, with the reason, where JupyterHub, node/npm (the proxy) or Chromium is missing.
"""

import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest

from vae_course import hub
from vae_course.paths import COURSE_ROOT

START_TIMEOUT = 300  # seconds for the hub (and a learner's server) to answer on a busy machine
EXERCISE = "exercises/03_elbo.ipynb"
MODEL_STEPS = 150  # the model the learners load: tiny, trained once by the fixture


def hub_or_skip():
    """The proxy's path; skip (saying why) where the hub cannot run here."""
    if not hub.jupyterhub_installed():
        pytest.skip("jupyterhub is not installed (pip install -e '.[hub]'); hub tests skipped")
    try:
        return hub.install_proxy(quiet=True)
    except hub.HubSetupError as err:
        pytest.skip(f"no configurable-http-proxy: {err}")


def start_class(tmp, models, users=2, password="trial-pw"):
    """Run ``vae-course hub`` as a learner would; returns (process, url, log path)."""
    port = hub.free_port()
    log = tmp / "hub-command.log"
    env = dict(os.environ, PYTHONPATH=str(COURSE_ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vae_course.cli", "hub", "--users", str(users), "--port",
         str(port), "--password", password, "--dir", str(tmp / "class"), "--models",
         str(models)], stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env,
        start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while "The trial class is up" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_class(proc)
            pytest.fail(f"vae-course hub did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return proc, f"http://127.0.0.1:{port}/", log


def family(proc):
    """Every process below ``proc`` now; each remembers its command line (``.command``)."""
    try:
        found = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        return []
    for q in found:
        try:
            q.command = " ".join(q.cmdline())
        except psutil.Error:
            q.command = ""
    return found


def stop_class(proc, sig=signal.SIGTERM, timeout=60):
    """Signal the hub command; returns its exit status (killing its group if it hangs)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def snapshot(folder):
    """{relative path: (mtime_ns, size)} of every file and folder under ``folder``."""
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(folder.rglob("*"))} | {".": (folder.stat().st_mtime_ns, 0)}


@pytest.fixture(scope="module")
def shared_models(tmp_path_factory):
    """A class's shared model folder: one course VAE, trained here once, then read-only."""
    folder = tmp_path_factory.mktemp("shared-models")
    code = f"from vae_course import course_models; course_models.vae(steps={MODEL_STEPS})"
    env = dict(os.environ, PYTHONPATH=str(COURSE_ROOT), VAE_COURSE_MODELS=str(folder),
               OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                   timeout=900)  # seconds: minutes only on a machine shared by many jobs
    files = list(folder.iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt"
    for f in files:
        f.chmod(0o444)
    folder.chmod(0o555)  # read-only (as root this is only a declaration; the mtimes decide)
    yield folder
    folder.chmod(0o755)


def test_model_files_are_readable_by_every_learner(tmp_path):
    """The cache writes checkpoints 0644: another learner's kernel can read them."""
    import torch

    from vae_course.cache import save_checkpoint

    path = save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "m.pt")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_no_node_says_how_to_install(tmp_path, monkeypatch):
    """Without node/npm and without the proxy, the command says what to install."""
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on the PATH
    monkeypatch.setenv(hub.NODE_ENV, str(tmp_path / "node"))
    with pytest.raises(hub.HubSetupError, match="Install Node.js"):
        hub.install_proxy(quiet=True)


def solution_of(task_name):
    """The solved cell of ``task_name`` in solutions/03_elbo, without the build's markers."""
    nb = nbformat.read(COURSE_ROOT / "solutions" / "03_elbo.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and f"def {task_name}(" in cell.source:
            return "\n".join(line for line in cell.source.splitlines()
                             if not line.strip().startswith("###"))
    raise AssertionError(f"no solution cell defines {task_name}")


LOAD_MODEL = f"\nfrom vae_course import course_models\n_model, _extra = course_models.vae(steps={MODEL_STEPS})\n"


def login(browser, url, user, password):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{user}/lab.*"), timeout=START_TIMEOUT * 1000)
    page.wait_for_selector(".jp-NotebookPanel", timeout=START_TIMEOUT * 1000)
    return context, page


def headline(label):
    """The first words of the feedback box for kl_divergence with that label."""
    from vae_course.checks.framework import HEADLINES, LABELS

    status = next(k for k, v in LABELS.items() if v == label)
    return HEADLINES[status].format(name="kl_divergence").split("—")[0].strip()


def type_into_stub_and_run(page, url, user, code):
    """Open the exercise, replace the kl_divergence stub with ``code``, run up to its check."""
    page.goto(f"{url}user/{user}/lab/tree/{EXERCISE}")
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-CodeCell:has-text('def kl_divergence')",
                           timeout=120_000)
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=120_000)
    cells = page.locator(".jp-NotebookPanel:visible .jp-CodeCell")
    stub = next(i for i in range(cells.count())
                if "def kl_divergence" in cells.nth(i).text_content())
    editor = cells.nth(stub).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")
    check = cells.nth(stub + 1)
    prompt = check.locator(".jp-InputPrompt")
    cells.nth(0).locator(".jp-InputPrompt").click()  # select the first cell (command mode)
    for _ in range(30):  # Shift+Enter through the cells until the check cell is queued
        page.keyboard.press("Shift+Enter")
        page.wait_for_timeout(300)
        if re.search(r"\[(\d+|\*)\]", prompt.text_content()):
            break
    page.wait_for_function(  # the check cell has finished: its prompt shows a number
        "p => /\\[\\d+\\]/.test(p.textContent)", arg=prompt.element_handle(),
        timeout=300_000)
    page.keyboard.press("Control+s")
    page.wait_for_selector(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty", state="detached",
                           timeout=60_000)  # saved: the tab's "modified" dot is gone
    return check


@pytest.mark.browser
def test_two_learners_each_in_their_own_workspace(tmp_path, shared_models, chromium_path,
                                                  chromium_args, artifacts_dir):
    hub_or_skip()
    from playwright.sync_api import sync_playwright

    before = snapshot(shared_models)
    course_exercise = (COURSE_ROOT / EXERCISE).read_bytes()
    proc, url, log = start_class(tmp_path, shared_models)
    started = []
    try:
        correct = solution_of("kl_divergence")
        halfless = (correct + "\n\n_right = kl_divergence\n\n\ndef kl_divergence(mu, logvar):"
                    "\n    return 2 * _right(mu, logvar)\n")
        answers = {"learner1": (correct + LOAD_MODEL, "PASS"),
                   "learner2": (halfless + LOAD_MODEL, "MISTAKE")}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=chromium_args)
            try:
                for user, (code, expected) in answers.items():
                    context, page = login(browser, url, user, "trial-pw")
                    # lands on the overview of the learner's own workspace
                    assert page.url.endswith("/lab/tree/notebooks/00_overview.ipynb"), page.url
                    page.screenshot(path=str(artifacts_dir / f"hub_{user}_landing.png"))
                    started += [q for q in family(proc) if q not in started]
                    check = type_into_stub_and_run(page, url, user, code)
                    # the feedback box's headline (checks.framework.HEADLINES)
                    seen, other = (headline(expected), headline("MISTAKE" if expected == "PASS"
                                                                else "PASS"))
                    check.locator(f"text={seen}").wait_for(timeout=60_000)
                    assert other not in check.text_content()
                    page.screenshot(path=str(artifacts_dir / f"hub_{user}_check.png"))
                    started += [q for q in family(proc) if q not in started]
                    context.close()
            finally:
                browser.close()
        # each learner's work is in their own workspace, saved there and only there
        homes = tmp_path / "class" / "homes"
        for user, (code, expected) in answers.items():
            saved = nbformat.read(homes / user / "vae-course-work" / EXERCISE, as_version=4)
            text = "\n".join(c.source for c in saved.cells)
            assert ("return 2 * _right" in text) == (user == "learner2")
            outputs = "".join(str(o) for c in saved.cells for o in c.get("outputs", []))
            assert "Loaded the trained model from the cache" in outputs, outputs[-2000:]
            assert "steps/s" not in outputs and "Training" not in outputs
        assert (COURSE_ROOT / EXERCISE).read_bytes() == course_exercise  # never edited
    finally:
        status = stop_class(proc)
    # the shared model folder was read and nothing was trained or written into it
    assert snapshot(shared_models) == before
    assert status == 0, log.read_text()[-3000:]
    assert "Stopping the class" in log.read_text()
    left = [q for q in started if q.is_running() and q.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"left running: {[q.command for q in left]}"
    servers = [q for q in started if "jupyterhub.singleuser" in q.command]
    assert len(servers) == 2  # one server per learner, and both were stopped
    assert not list((tmp_path / "class").glob("run-*")), "the hub's state files were left"


def http_login_and_spawn(url, user, password):
    """Log in with plain HTTP and start the learner's server (no browser)."""
    import http.cookiejar
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(url + "hub/login", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    form = urllib.parse.urlencode({"username": user, "password": password,
                                   "_xsrf": xsrf}).encode()
    opener.open(url + "hub/login?next=/hub/spawn", data=form, timeout=START_TIMEOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:  # the server is up when its API answers
        try:
            with opener.open(url + f"user/{user}/lab", timeout=30) as reply:  # via OAuth
                if reply.status == 200 and f"/user/{user}/lab" in reply.geturl():
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def test_ctrl_c_stops_the_hub_the_proxy_and_the_servers(tmp_path, shared_models):
    hub_or_skip()
    proc, url, log = start_class(tmp_path, shared_models, users=1)
    try:
        assert http_login_and_spawn(url, "learner1", "trial-pw"), log.read_text()[-2000:]
        started = family(proc)
        names = " ".join(q.command for q in started)
        assert "configurable-http-proxy" in names and "jupyterhub.singleuser" in names
    finally:
        status = stop_class(proc, signal.SIGINT)
    assert status == 0, log.read_text()[-3000:]
    time.sleep(0.5)
    left = [q for q in started if q.is_running() and q.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"left running: {[q.command for q in left]}"
    assert not list((tmp_path / "class").glob("run-*"))
    # the learner's workspace stays for the next class
    assert (tmp_path / "class" / "homes" / "learner1" / "vae-course-work" / EXERCISE).is_file()
