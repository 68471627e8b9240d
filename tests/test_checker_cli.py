"""`vae-course check PATH.ipynb` on a solution (passes, exit 0) and its exercise (exit 1)."""

import subprocess
import sys

import nbformat

from vae_course.checks.notebook_runner import expected_checks, parse_results, report
from vae_course.checks import CheckResult, show
from vae_course.paths import COURSE_ROOT

STEM = "03_elbo"  # two checks; the demo trains for a few hundred steps
TIMEOUT = "600"  # per cell: generous, the machine running the tests may be busy


def vae_course(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "vae_course.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=COURSE_ROOT)


def test_solution_passes_every_check():
    done = vae_course("check", f"solutions/{STEM}.ipynb", "--timeout", TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    passes = [words[1] for words in lines if words[:1] == ["PASS"]]
    assert passes == ["kl_divergence", "elbo_loss"]
    assert "2 of 2 checks passed." in done.stdout


def test_exercise_fails_with_not_implemented():
    done = vae_course("check", f"exercises/{STEM}.ipynb", "--timeout", TIMEOUT)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    todo = [words[2] for words in lines if words[:2] == ["NOT", "IMPLEMENTED"]
            and words[2] != "cell"]
    assert todo == ["kl_divergence", "elbo_loss"]
    assert "0 of 2 checks passed." in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_usage_errors_exit_2(tmp_path):
    missing = vae_course("check", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not json")
    done = vae_course("check", str(broken))
    assert done.returncode == 2 and "not a readable notebook" in done.stderr


def _nb(*cells, outputs=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for cell, outs in zip(nb.cells, outputs or []):
        cell.outputs = outs
    return nb


def _display(result):
    return nbformat.v4.new_output("display_data", data={"text/plain": result.marker()})


def test_parsing_and_report_without_a_kernel(capsys):
    ok = CheckResult("kl_divergence", "pass", "fine")
    bad = CheckResult("elbo_loss", "mistake", "recon: averaged", "elbo.recon_mean_over_pixels")
    forged = nbformat.v4.new_output("stream", name="stdout",
                                    text="[check] interpolate: PASS — printed by a learner\n")
    nb = _nb("check_kl_divergence(kl_divergence)", "check_elbo_loss(elbo_loss)",
             "print('...')\ncheck_interpolate(interpolate)",
             outputs=[[_display(ok)], [_display(bad)], [forged]])
    names = expected_checks(nb)
    assert names == ["kl_divergence", "elbo_loss", "interpolate"]
    results = parse_results(nb)
    assert results["elbo_loss"] == ("mistake", "elbo.recon_mean_over_pixels", "recon: averaged")
    assert "interpolate" not in results  # printed text is not a check result
    assert report("x.ipynb", names, results, []) == 1
    out = capsys.readouterr().out
    assert "MISTAKE" in out and "[elbo.recon_mean_over_pixels]" in out
    assert "DID NOT RUN" in out and "1 of 3 checks passed." in out
    assert report("x.ipynb", ["kl_divergence"], results, []) == 0
    assert report("x.ipynb", [], {}, []) == 1  # a notebook without checks passes nothing


def test_show_outside_ipython_prints_a_parsable_line(capsys):
    show(CheckResult("mig", "todo", "not implemented yet"))
    line = capsys.readouterr().out.strip()
    nb = _nb("check_mig(f)", outputs=[[nbformat.v4.new_output(
        "display_data", data={"text/plain": line})]])
    assert parse_results(nb) == {"mig": ("todo", None, "not implemented yet")}
