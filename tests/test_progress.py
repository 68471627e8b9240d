"""``vae-course progress`` and ``vae-course check`` without a notebook: one table of every task
in the learner's workspace.

The table logic is tested on executed notebooks made here (no kernel); one end-to-end test runs
the real command on a workspace with one small exercise notebook whose three tasks pass, have a
named mistake, and are not implemented.
"""

import os
import subprocess
import sys

import nbformat
import pytest

from vae_course.checks import MISTAKE, CheckResult, check_kl_divergence
from vae_course.cli import route_check
from vae_course.progress import task_rows
from vae_course.workspace import WORK_ENV

KL_TWICE = """def kl_divergence(mu, logvar):
    return -(1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1).mean()  # the ½ forgotten
"""
REPARAMETERIZE = """def reparameterize(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
"""
ELBO_STUB = """def elbo_loss(logits, x, mu, logvar, beta=1.0):
    raise NotImplementedError("write the loss")
"""


def executed(*checks):
    """A notebook as the runner leaves it: one check cell per (name, result or None)."""
    nb = nbformat.v4.new_notebook()
    for name, result in checks:
        cell = nbformat.v4.new_code_cell(f"check_{name}({name})")
        if result is not None:
            cell.outputs = [nbformat.v4.new_output("display_data",
                                                   data={"text/plain": result.marker()})]
        nb.cells.append(cell)
    return nb


def test_rows_say_pass_todo_and_name_the_mistake():
    nb = executed(("a", CheckResult("a", "pass", "fine")),
                  ("b", CheckResult("b", "todo", "b is not implemented yet")),
                  ("c", CheckResult("c", "mistake", "the ½ is missing\nmore", "kl.missing_half")),
                  ("d", CheckResult("d", "fail", "expected 3, got 4")))
    assert task_rows(nb, []) == [("a", "pass", True), ("b", "not implemented yet", False),
                                 ("c", "mistake (kl.missing_half): the ½ is missing more", False),
                                 ("d", "wrong: expected 3, got 4", False)]


def test_a_check_that_never_ran_says_why():
    nb = executed(("a", CheckResult("a", "pass", "fine")), ("b", None))
    timeout = {"cell": 2, "kind": "timeout", "text": "still running after 5 s; interrupted"}
    assert task_rows(nb, [timeout])[1] == ("b", "did not run (still running after 5 s; "
                                                "interrupted)", False)
    assert task_rows(nb, [])[1] == ("b", "did not run (its check cell did not finish)", False)


def test_check_without_a_notebook_is_progress(tmp_path, monkeypatch):
    assert route_check([]) == ("progress", [])
    assert route_check(["--timeout", "30"]) == ("progress", ["--timeout", "30"])
    assert route_check(["--help"])[0] == "checks.notebook_runner"
    monkeypatch.setenv(WORK_ENV, str(tmp_path))
    monkeypatch.chdir(tmp_path / "..")  # an existing path is taken as given; here none exists
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "03_elbo.ipynb").write_text("{}")
    mine = str(tmp_path / "exercises" / "03_elbo.ipynb")
    assert route_check(["03_elbo"]) == ("checks.notebook_runner", [mine])
    assert route_check(["--timeout", "9", "exercises/03_elbo.ipynb"]) == \
        ("checks.notebook_runner", ["--timeout", "9", mine])
    assert route_check(["nowhere.ipynb"]) == ("checks.notebook_runner", ["nowhere.ipynb"])
    monkeypatch.chdir(tmp_path)
    assert route_check(["exercises/03_elbo.ipynb"])[1] == ["exercises/03_elbo.ipynb"]


def test_progress_runs_the_workspace_exercises_and_prints_one_table(tmp_path):
    nb = nbformat.v4.new_notebook()
    sources = ["import torch\nfrom vae_course.checks import check_elbo_loss, "
               "check_kl_divergence, check_reparameterize",
               REPARAMETERIZE, "check_reparameterize(reparameterize)",
               KL_TWICE, "check_kl_divergence(kl_divergence)",
               ELBO_STUB, "check_elbo_loss(elbo_loss)"]
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    (tmp_path / "exercises").mkdir()
    path = tmp_path / "exercises" / "03_elbo.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    namespace = {}
    exec("import torch\n" + KL_TWICE, namespace)
    expected = check_kl_divergence(namespace["kl_divergence"], show=False)
    assert expected.status == MISTAKE and expected.code

    env = dict(os.environ, **{WORK_ENV: str(tmp_path), "OMP_NUM_THREADS": "1"})
    done = subprocess.run([sys.executable, "-m", "vae_course.cli", "check"], env=env,
                          capture_output=True, text=True, timeout=600)
    print(done.stdout)
    rows = {line.split()[1]: line for line in done.stdout.splitlines()
            if line.startswith("  03_elbo ")}
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pass" == rows["reparameterize"].split(None, 2)[2]
    assert f"mistake ({expected.code})" in rows["kl_divergence"]
    assert "not implemented yet" in rows["elbo_loss"]
    assert "1 of 3 tasks pass." in done.stdout
    assert path.read_bytes() == before  # the learner's notebook is only read


def test_progress_without_a_workspace_says_how_to_make_one(tmp_path):
    env = dict(os.environ, **{WORK_ENV: str(tmp_path / "none")})
    done = subprocess.run([sys.executable, "-m", "vae_course.cli", "progress"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "vae-course lab" in done.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_progress_rejects_a_timeout_that_is_not_positive(tmp_path, value):
    env = dict(os.environ, **{WORK_ENV: str(tmp_path)})
    done = subprocess.run([sys.executable, "-m", "vae_course.cli", "progress", "--timeout",
                           value], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--timeout" in done.stderr
