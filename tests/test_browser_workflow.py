"""A learner's whole session, in a real Chromium, on a fresh copy of the course.

1. ``vae-course lab`` (what ``make lab`` runs) in a fresh copy of the repository; the URL it
   prints opens the overview notebook: not modified on open, no news prompt, and the file
   browser shows the course's three folders and nothing else.
2. The learner opens ``exercises/03_elbo.ipynb`` from the file browser, types a KL without the ½,
   runs it and its check cell and reads the named mistake; fixes it and reads the pass; saves
   with Ctrl-S. Saving writes that one ``.ipynb`` and nothing else.
3. SIGTERM stops the lab (server, kernel, runtime file all gone); a new ``vae-course lab`` opens
   the exercise with the learner's code in it.
4. The maintainer's commands run in the same copy: ``vae-course build``, ``build --check`` and
   pytest on the course's test paths (collection of notebooks/ and solutions/, then
   tests/test_build.py and the overview notebook). The learner's workspace is byte-for-byte
   what it was, and ``git status`` is clean.
5. No process started by the test is left.

Screenshots of each stage go to test-artifacts/workflow_*.png. The expected feedback is not
written here: the test asks the course's own check what it says about the same two
implementations, so it keeps working when the wording of the feedback changes.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest

from labtools import Lab
from vae_course.paths import COURSE_ROOT

pytestmark = pytest.mark.browser

EXERCISE = "exercises/03_elbo.ipynb"
FUNCTION = "kl_divergence"
KERNEL_TIMEOUT = 180_000  # ms: importing torch in a fresh kernel on a busy two-core machine
LAB_SETTINGS = {"notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"}}


def fresh_copy(target):
    """The course as a fresh clone has it: the working tree's files that git tracks or would
    track (so uncommitted edits are tested too), nothing it ignores (no work/, data/, build/),
    committed in a new repository so that ``git status`` can tell what changed later."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=COURSE_ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = COURSE_ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh copy"]):
        subprocess.run(git + command, cwd=target, check=True, capture_output=True)
    return target


def tree_digest(folder):
    """{relative path: sha256} of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def visible_files(folder):
    """Files a learner sees in the workspace (JupyterLab's hidden checkpoints and the course's
    hidden state folder left out)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def implementations(course):
    """(index of the exercise's cell that defines the function, wrong source, right source).

    The right one is the solution's own cell; the wrong one keeps it under another name and
    returns twice its value: the KL without its ½."""
    solution = nbformat.read(course / EXERCISE.replace("exercises/", "solutions/"), 4)
    right = next(c.source for c in solution.cells if f"def {FUNCTION}(" in c.source)
    right = "\n".join(line for line in right.splitlines()
                      if not line.strip().startswith("### "))
    args = re.search(rf"def {FUNCTION}\(([^)]*)\)", right).group(1)
    names = ", ".join(a.split("=")[0].strip() for a in args.split(","))
    wrong = (right.replace(f"def {FUNCTION}(", f"def _{FUNCTION}_reference(") +
             f"\n\n\ndef {FUNCTION}({args}):\n    return 2 * _{FUNCTION}_reference({names})"
             "  # the ½ forgotten")
    return wrong, right


def verdict(course, source):
    """What the course's check says about ``source``: (status, named mistake, first words of
    the message), computed in this process from the exercise's own import cell."""
    exercise = nbformat.read(course / EXERCISE, 4)
    namespace = {}
    exec(next(c.source for c in exercise.cells if c.cell_type == "code"), namespace)
    exec(source, namespace)
    result = namespace[f"check_{FUNCTION}"](namespace[FUNCTION], show=False)
    return result.status, result.code, result.message.split("\n")[0][:40]


def cell_index(nb):
    return next(i for i, c in enumerate(nb.cells) if f"def {FUNCTION}(" in c.source)


def check_cell_index(nb):
    """The check cell of the task: the first cell after the definition that calls its check
    (a folded second-hint cell may stand between them)."""
    start = cell_index(nb)
    return next(i for i, c in enumerate(nb.cells)
                if i > start and f"check_{FUNCTION}(" in c.source)


def wait_kernel_idle(page):
    page.wait_for_function("() => /\\|\\s*Idle/.test(document.querySelector("
                           "'#jp-main-statusbar')?.innerText || '')",
                           timeout=KERNEL_TIMEOUT, polling=500)


def dirty_tabs(page):
    return page.evaluate("Array.from(document.querySelectorAll('.lm-DockPanel-tabBar "
                         ".lm-TabBar-tab.jp-mod-dirty')).map(t => t.innerText)")


def type_into_cell(page, cell, text):
    """Replace a code cell's text the way a learner does: click, select all, type."""
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)  # literal text: no auto-indent or bracket closing


def output_text(cell):
    return cell.locator(".jp-OutputArea").inner_text()


def run_other_commands(course, env):
    """The maintainer's side, in the same copy: build, build --check, pytest (cheap part)."""
    python = [sys.executable]
    runs = [python + ["-m", "vae_course.cli", "build"],
            python + ["-m", "vae_course.cli", "build", "--check"],
            python + ["-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                      "--nbval-lax", "notebooks", "solutions"],
            python + ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                      "--nbval-current-env", "tests/test_build.py",
                      "notebooks/00_overview.ipynb"]]
    results = []
    for command in runs:
        start = time.perf_counter()
        done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True,
                              timeout=900)
        results.append((" ".join(command[1:]), done.returncode, time.perf_counter() - start,
                        (done.stdout + done.stderr)[-2500:]))
    return results


def test_learner_session_survives_restart_build_and_tests(browser, tmp_path, artifacts_dir):
    course = fresh_copy(tmp_path / "course")
    home = tmp_path / "home"
    shot = lambda page, name: page.screenshot(path=str(artifacts_dir / f"workflow_{name}.png"))
    wrong, right = implementations(course)
    wrong_verdict, right_verdict = verdict(course, wrong), verdict(course, right)
    assert wrong_verdict[0] == "mistake" and wrong_verdict[1], wrong_verdict
    assert right_verdict[0] == "pass", right_verdict
    labs = []
    env = dict(os.environ, PYTHONPATH=str(course), OMP_NUM_THREADS="1")
    env.pop("VAE_COURSE_WORK", None)
    timings = {}
    try:
        # 1. first start: the printed URL, the overview, the file browser --------------------
        lab = Lab(home, work=False, course=course, settings=LAB_SETTINGS, token=False)
        labs.append(lab)
        start = time.perf_counter()
        lab.start()
        timings["first start"] = time.perf_counter() - start
        work = lab.work
        assert work == course / "work"
        assert "/lab/tree/notebooks/00_overview.ipynb?token=" in lab.url
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(lab.url)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=KERNEL_TIMEOUT)
        wait_kernel_idle(page)
        page.wait_for_timeout(2000)  # metadata updates after the kernel's info reply land here
        shot(page, "1_first_view")
        tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").all_inner_texts()
        assert tabs == ["00_overview.ipynb"]
        assert dirty_tabs(page) == []
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        assert not any("news" in t.lower() for t in toasts), toasts
        page.locator(".jp-BreadCrumbs-home").first.click()
        page.wait_for_timeout(1000)
        listing = page.locator(".jp-DirListing-itemName").all_inner_texts()
        assert [name.strip() for name in listing] == ["exercises", "notebooks", "solutions"]

        # 2. the exercise: a mistake, then a pass, then Ctrl-S --------------------------------
        before_save = visible_files(work)
        page.locator(".jp-DirListing-item", has_text="exercises").dblclick()
        page.locator(".jp-DirListing-item", has_text="03_elbo.ipynb").dblclick()
        panel = page.locator(".jp-NotebookPanel:visible")
        panel.locator(".jp-Cell").first.wait_for(timeout=60_000)
        wait_kernel_idle(page)
        exercise_nb = nbformat.read(work / EXERCISE, 4)
        index = cell_index(exercise_nb)
        cells = panel.locator(".jp-Notebook .jp-Cell")
        define, check = cells.nth(index), cells.nth(check_cell_index(exercise_nb))
        type_into_cell(page, define, wrong)
        check.locator(".jp-InputPrompt").click()  # select the check cell (command mode)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator('.lm-Menu-item[data-command="notebook:run-all-above"]').click()
        page.wait_for_timeout(500)
        check.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        start = time.perf_counter()
        check.locator(".jp-OutputArea-output").first.wait_for(timeout=KERNEL_TIMEOUT)
        page.wait_for_function("([el, s]) => el.innerText.toLowerCase()"
                               ".includes(s.toLowerCase())",
                               arg=[check.element_handle(), wrong_verdict[2]], timeout=60_000)
        timings["first check"] = time.perf_counter() - start
        check.scroll_into_view_if_needed()
        shot(page, "2_named_mistake")
        assert "Traceback" not in output_text(check)

        type_into_cell(page, define, right)
        page.keyboard.press("Shift+Enter")  # runs the definition
        check.locator(".jp-InputPrompt").click()  # the check cell (a hint cell may lie between)
        page.keyboard.press("Shift+Enter")  # runs the check
        page.wait_for_function("([el, s]) => el.innerText.toLowerCase()"
                               ".includes(s.toLowerCase())",
                               arg=[check.element_handle(), right_verdict[2]], timeout=60_000)
        check.scroll_into_view_if_needed()
        shot(page, "3_pass")
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')",
                               timeout=30_000)
        saved = nbformat.read(work / EXERCISE, 4)
        assert saved.cells[index].source == right
        check_outputs = saved.cells[check_cell_index(saved)].outputs
        markers = [o.get("data", {}).get("text/plain", "") for o in check_outputs]
        assert any("PASS" in m for m in markers), markers
        after_save = visible_files(work)
        assert after_save == before_save, "saving wrote other files than the learner's .ipynb"
        context.close()

        # 3. SIGTERM, then a new lab: the work is there ---------------------------------------
        assert lab.stop(signal.SIGTERM) == 0
        assert lab.runtime_files() == []
        lab2 = Lab(home, work=False, course=course, settings=LAB_SETTINGS, token=False,
                   extra=["--notebook", EXERCISE])
        labs.append(lab2)
        lab2.start()
        assert "newer" not in lab2.log_text()  # nothing to report: the course is unchanged
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(lab2.url)
        panel = page.locator(".jp-NotebookPanel:visible")
        panel.locator(".jp-Cell").first.wait_for(timeout=KERNEL_TIMEOUT)
        define = panel.locator(".jp-Cell").nth(index)
        define.scroll_into_view_if_needed()
        shot(page, "4_after_restart")
        assert right.splitlines()[-1].strip() in define.inner_text()
        wait_kernel_idle(page)
        assert dirty_tabs(page) == []
        context.close()
        assert lab2.stop(signal.SIGTERM) == 0

        # 4. build, build --check and the tests do not touch the workspace ---------------------
        workspace_before = tree_digest(work)
        results = run_other_commands(course, env)
        for command, status, seconds, output in results:
            print(f"{command}: exit {status} in {seconds:.0f} s")
            assert status == 0, f"{command} failed:\n{output}"
        assert tree_digest(work) == workspace_before
        status = subprocess.run(["git", "status", "--porcelain"], cwd=course,
                                capture_output=True, text=True, check=True).stdout
        assert status == "", f"the session changed the course's files:\n{status}"
    finally:
        for lab in labs:
            if lab.process is not None and lab.process.poll() is None:
                lab.stop(signal.SIGTERM)
        left = [entry for lab in labs for entry in lab.commands(lab.alive())]
        for lab in labs:
            lab.kill_leftovers()

    # 5. nothing the test started is still running ---------------------------------------------
    strays = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        if str(tmp_path) in text and proc.pid != os.getpid():
            strays.append((proc.pid, text[:120]))
    print(f"timings: {', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}")
    assert left == [] and strays == [], f"left running: {left + strays}"
