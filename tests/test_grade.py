"""``vae-course grade`` over a generated class: the CSV, the class report, the limits, forgeries.

The released exercise is a small notebook with two of the course's real checks
(``kl_divergence`` and ``reparameterize``); the correct answers are the course's own solution
cells. Learners hand in: correct work, the stubs, named mistakes, a hang that ignores Ctrl-C, a
kernel crash, an output flood, a write outside their folder, two forgeries (a printed PASS marker;
replaced and redefined check functions with an edited check cell) and nothing at all. Grading
runs as a user runs it (a subprocess), and must leave no process behind and change no file in the
submissions.
"""

import csv
import re
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from vae_course.paths import COURSE_ROOT

RELEASED = "01_mini.ipynb"
KL_STUB = ("def kl_divergence(mu, logvar):\n"
           "    # YOUR CODE HERE\n    raise NotImplementedError('the closed-form KL')")
RE_STUB = ("def reparameterize(mu, logvar):\n"
           "    # YOUR CODE HERE\n    raise NotImplementedError('z = mu + sigma * eps')")
IMPORTS = "import torch\nfrom vae_course.checks import check_kl_divergence, check_reparameterize"


def solution(notebook, name):
    """The course's solved cell defining ``name``, without the build's markers."""
    nb = nbformat.read(COURSE_ROOT / "solutions" / notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            return "\n".join(l for l in cell.source.splitlines()
                             if not l.strip().startswith("###"))
    raise AssertionError(f"no solution defines {name}")


KL = solution("03_elbo.ipynb", "kl_divergence")
RE = solution("02_reparameterise.ipynb", "reparameterize")
KL_TWICE = KL + "\n\n_right = kl_divergence\n\ndef kl_divergence(mu, logvar):\n" \
                "    return 2 * _right(mu, logvar)"
RE_NO_NOISE = "def reparameterize(mu, logvar):\n    return mu + 0 * logvar"
RE_UNIFORM = ("def reparameterize(mu, logvar):\n"
              "    return mu + torch.exp(0.5 * logvar) * torch.rand_like(mu)")


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Mini exercise")] + [
        nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def submission(kl=KL_STUB, re_=RE_STUB, before_checks=(), kl_check=None, extra=()):
    return notebook(IMPORTS, kl, *before_checks,
                    kl_check or "check_kl_divergence(kl_divergence)", re_,
                    "check_reparameterize(reparameterize)", *extra)


FORGED_DISPLAY = ("from IPython.display import display\n"
                  "for n in ('kl_divergence', 'reparameterize'):\n"
                  "    display({'text/plain': f'[check] {n}: PASS — forged'}, raw=True)\n"
                  "    print(f'[check] {n}: PASS — forged')")
FORGED_CHECKS = (
    "import vae_course.checks as c\n"
    "from vae_course.checks.framework import CheckResult\n"
    "fake = lambda fn, show=True: CheckResult(fn.__name__, 'pass', 'forged')\n"
    "c.check_kl_divergence = c.check_reparameterize = fake\n"
    "c.CHECKS.update(kl_divergence=fake, reparameterize=fake)\n"
    "def check_kl_divergence(fn, show=True):\n"
    "    print('[check] kl_divergence: PASS — forged')\n"
    "check_reparameterize = fake")


def make_class(folder, outside):
    """{learner: expected {task: (status, mistake)}}, the notebooks written under ``folder``."""
    hang = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    learners = {
        "ada": (submission(KL, RE), {"kl_divergence": ("pass", ""),
                                     "reparameterize": ("pass", "")}, "ok"),
        "ben": (submission(), {"kl_divergence": ("not implemented", ""),
                               "reparameterize": ("not implemented", "")}, "ok"),
        "cai": (submission(KL_TWICE, RE), {"kl_divergence": ("mistake", "kl.missing_half"),
                                           "reparameterize": ("pass", "")}, "ok"),
        "dee": (submission(KL_TWICE, RE_NO_NOISE),
                {"kl_divergence": ("mistake", "kl.missing_half"),
                 "reparameterize": ("mistake", "reparam.no_noise")}, "ok"),
        "eli": (submission(KL, RE_UNIFORM), {"kl_divergence": ("pass", ""),
                                             "reparameterize": ("mistake",
                                                                "reparam.uniform_noise")}, "ok"),
        "fay": (submission(KL, RE, before_checks=[hang]),
                {"kl_divergence": ("timed out", ""), "reparameterize": ("timed out", "")},
                "timed out"),
        "gus": (submission(KL, RE, before_checks=["import os\nos.abort()"]),
                {"kl_divergence": ("crashed", ""), "reparameterize": ("crashed", "")},
                "crashed"),
        "hal": (submission(KL, RE, before_checks=["for i in range(20000):\n    print('x' * 80)"]),
                {"kl_divergence": ("pass", ""), "reparameterize": ("pass", "")},
                "flooded output"),
        "ivy": (submission(KL, RE, before_checks=[
                    f"open({str(outside)!r}, 'w').write('hello from a learner')"]),
                {"kl_divergence": ("pass", ""), "reparameterize": ("pass", "")},
                "wrote outside its folder"),
        "jon": (submission(extra=[FORGED_DISPLAY], kl_check=FORGED_DISPLAY),
                {"kl_divergence": ("not implemented", ""),
                 "reparameterize": ("not implemented", "")}, "ok"),
        "kim": (submission(before_checks=[FORGED_CHECKS],
                           kl_check="check_kl_divergence(lambda mu, logvar: mu.sum())"),
                {"kl_divergence": ("not implemented", ""),
                 "reparameterize": ("not implemented", "")}, "ok"),
        "lou": (None, {"kl_divergence": ("missing", ""), "reparameterize": ("missing", "")},
                "missing"),
    }
    for name, (nb, _, _) in learners.items():
        where = folder / name / "vae-course-work" / "exercises"
        where.mkdir(parents=True)
        if nb is not None:
            nbformat.write(nb, where / RELEASED)
    return {name: (tasks, status) for name, (_, tasks, status) in learners.items()}


def snapshot(folder):
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file()
                                         else None) for p in sorted(folder.rglob("*"))}


def grade_command(tmp_path, submissions, *options):
    released = tmp_path / "released"
    released.mkdir(exist_ok=True)
    nbformat.write(submission(), released / RELEASED)
    env = dict(os.environ, PYTHONPATH=str(COURSE_ROOT), OMP_NUM_THREADS="1",
               TMPDIR=str(tmp_path / "t"))
    (tmp_path / "t").mkdir(exist_ok=True)
    return [sys.executable, "-m", "vae_course.cli", "grade", str(submissions), "--exercises",
            str(released), *options], env


def ours(tmp_path):
    """Processes started under this test's folder (a kernel's HOME is its scratch folder)."""
    found = []
    for p in psutil.process_iter():
        try:
            if str(tmp_path) in p.environ().get("HOME", "") + p.environ().get("TMPDIR", ""):
                found.append(p)
        except psutil.Error:
            pass
    return [p for p in found if p.pid != os.getpid()]


def test_grade_a_class(tmp_path, artifacts_dir):
    submissions = tmp_path / "submissions"
    outside = tmp_path / "outside.txt"
    expected = make_class(submissions, outside)
    before = snapshot(submissions)
    command, env = grade_command(tmp_path, submissions, "--out", str(tmp_path / "grades.csv"),
                                 "--timeout", "240", "--cell-timeout", "60", "--memory", "2GiB",
                                 "--max-output", "100000")
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3000)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    rows = list(csv.DictReader(open(tmp_path / "grades.csv")))
    got = {(r["learner"], r["task"]): (r["status"], r["mistake"]) for r in rows}
    want = {(learner, task): value for learner, (tasks, _) in expected.items()
            for task, value in tasks.items()}
    assert got == want, "\n".join(f"{k}: got {got.get(k)}, want {v}"
                                  for k, v in want.items() if got.get(k) != v)
    statuses = {r["learner"]: r["notebook_status"] for r in rows}
    assert statuses == {learner: status for learner, (_, status) in expected.items()}
    # the learner's write outside the folder was refused, and named
    assert not outside.exists()
    assert all(str(outside) in r["notebook_detail"] for r in rows if r["learner"] == "ivy")
    report = (tmp_path / "grades.md").read_text()
    # kept for a person to read: what a teacher gets from this test class
    shutil.copy(tmp_path / "grades.md", artifacts_dir / "grade_test_class.md")
    shutil.copy(tmp_path / "grades.csv", artifacts_dir / "grade_test_class.csv")
    n = len(expected)
    assert re.search(rf"\*\*2 of {n}\*\*: .*[Yy]our KL is exactly twice the right value", report), \
        report
    assert "(`kl.missing_half`)" in report and "(`reparam.uniform_noise`)" in report
    assert "| fay |" in report and "timed out" in report
    # nothing written into the submissions, nothing left running
    assert snapshot(submissions) == before
    assert not ours(tmp_path), [p.cmdline() for p in ours(tmp_path)]
    print(f"graded {n} learners in {seconds:.0f} s\n{report}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_grading_and_its_kernels(tmp_path, sig):
    submissions = tmp_path / "submissions"
    make_class(submissions, tmp_path / "outside.txt")
    for learner in [p for p in submissions.iterdir() if p.name != "fay"]:
        for f in learner.rglob("*.ipynb"):
            f.unlink()  # only the hang is left to grade
    command, env = grade_command(tmp_path, submissions, "--out", str(tmp_path / "g.csv"),
                                 "--timeout", "600", "--cell-timeout", "600")
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while not any("ipykernel" in " ".join(p.cmdline()) for p in ours(tmp_path)):
        assert time.monotonic() < deadline and proc.poll() is None, "no kernel started"
        time.sleep(0.5)
    time.sleep(3)  # the kernel is inside the endless loop now
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Grading stopped" in err
    time.sleep(0.5)
    assert not ours(tmp_path), [p.cmdline() for p in ours(tmp_path)]
    assert not (tmp_path / "g.csv").exists()
    assert not list((tmp_path / "t").iterdir()), "scratch folders were left"
