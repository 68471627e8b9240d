"""`vae-course check` survives notebooks that raise, hang, flood their output or kill the kernel:
each is reported as such, and the checker itself neither crashes nor hangs."""

import jupytext
import nbformat
import pytest

from vae_course.checks import notebook_runner

# A stand-in check (no torch import, so each kernel starts fast) that reports like a real one.
SETUP = '''from IPython.display import display
def check_demo():
    display({"text/plain": "[check] demo: PASS — the demo check ran"}, raw=True)'''


def write(tmp_path, *cells, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(c)
                                                      for c in cells]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def check(path, *options, capsys):
    code = notebook_runner.main([str(path), *options])
    return code, capsys.readouterr().out


def test_a_clean_notebook_passes(tmp_path, capsys):
    code, out = check(write(tmp_path, "check_demo()"), capsys=capsys)
    assert code == 0, out
    assert "PASS             demo" in out


def test_a_cell_that_raises_is_reported_and_the_run_goes_on(tmp_path, capsys):
    code, out = check(write(tmp_path, "raise ValueError('boom')", "check_demo()"),
                      capsys=capsys)
    assert code == 1
    assert "ERROR            cell 2" in out and "ValueError: boom" in out
    assert "PASS             demo" in out  # the cells after the error still ran
    assert "Traceback" not in out


def test_a_hanging_cell_is_interrupted_after_the_timeout(tmp_path, capsys):
    path = write(tmp_path, "import time\nwhile True:\n    time.sleep(0.05)", "check_demo()")
    code, out = check(path, "--timeout", "3", capsys=capsys)
    assert code == 1
    assert "TIMEOUT          cell 2" in out and "after 3 s" in out
    assert "PASS             demo" in out  # the kernel recovered and went on


def test_a_cell_that_ignores_the_interrupt_stops_the_run(tmp_path, capsys):
    stubborn = ("import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                "    except KeyboardInterrupt:\n        pass")
    code, out = check(write(tmp_path, stubborn, "check_demo()"), "--timeout", "2",
                      capsys=capsys)
    assert code == 1
    assert "TIMEOUT" in out and "did not recover" in out
    assert "DID NOT RUN      demo" in out


def test_a_flood_of_output_is_cut_and_reported(tmp_path, capsys):
    path = write(tmp_path, "for i in range(200_000):\n    print('spam', i)", "check_demo()")
    code, out = check(path, "--max-output", "10000", capsys=capsys)
    assert "FLOOD            cell 2" in out and "kept the first 10,000" in out
    assert "PASS             demo" in out
    assert code == 0  # a flood is a warning; every check passed
    assert len(out) < 5000  # the flood is not repeated by the checker


def test_a_dying_kernel_is_reported(tmp_path, capsys):
    code, out = check(write(tmp_path, "import os\nos._exit(1)", "check_demo()"),
                      capsys=capsys)
    assert code == 1
    assert "KERNEL DIED" in out and "DID NOT RUN      demo" in out


def test_a_notebook_without_checks_does_not_pass(tmp_path, capsys):
    code, out = check(write(tmp_path, "x = 1"), capsys=capsys)
    assert code == 1 and "no check cells found" in out


def test_a_paired_py_file_can_be_checked(tmp_path, capsys):
    nb = nbformat.read(write(tmp_path, "check_demo()"), as_version=4)
    py = tmp_path / "nb.py"
    jupytext.write(nb, py, fmt="py:percent")
    code, out = check(py, capsys=capsys)
    assert code == 0, out


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("{ not json", "not a readable notebook"),
    ('{"cells": "nope"}', "not a readable notebook"),
])
def test_unreadable_inputs_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_text(content)
    assert notebook_runner.main([str(path)]) == 2
    assert message in capsys.readouterr().err
