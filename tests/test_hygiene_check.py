"""Commands that run notebooks in kernels (``vae-course check``, ``slides --execute``,
``bench``) end every process they start: on a normal exit, when a cell errors or kills its
kernel, when a cell is stuck in a C call that ignores interrupts, and when the command gets
Ctrl-C (SIGINT to its process group, as a terminal sends it) or SIGTERM (as a process manager
sends it). Each notebook here starts ``sleep 333`` as a child of its kernel first, so a kernel
that dies but leaves its children running is caught too; and the command's stdout must reach
end-of-file (``vae-course check nb.ipynb | tail`` returns), which fails while any kernel or
kernel child still holds the pipe. No kernel connection file may be left in the runtime folder.

Also here: output limits count every output type, and ``--timeout`` takes positive seconds.
"""

import time

import nbformat
import pytest

from process_hygiene import Command, assert_no_leftovers, cli_env

SLEEPER = "import subprocess\nsleeper = subprocess.Popen(['sleep', '333'])\nprint('sleeper', sleeper.pid)"
STUCK = "sum(range(10**11))  # one C call holding the GIL: interrupts wait for it"


def notebook(tmp_path, *sources, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def sleeper_running(cmd):
    """True once the notebook's ``sleep 333`` runs (so the kernel is up and inside the run)."""
    return any(p.name() == "sleep" for p in cmd.processes())


def runtime_files(tmp_path):
    folder = tmp_path / "runtime"
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def assert_clean(cmd, tmp_path):
    """No process left, stdout closed by every writer, no kernel connection file left."""
    assert_no_leftovers(cmd)
    assert cmd.output_closed(), "something still holds the command's stdout open"
    assert cmd.connection_files(), "no kernel was seen running (the test watched nothing)"
    left = [f for f in cmd.connection_files() if f.exists()]
    left += [n for n in runtime_files(tmp_path) if n.startswith("kernel-")]
    assert not left, f"kernel connection files left behind: {left}"


@pytest.fixture
def env(tmp_path):
    return cli_env(tmp_path)


def test_check_ends_a_kernel_stuck_in_a_c_call(tmp_path, env):
    path = notebook(tmp_path, SLEEPER, STUCK, "print('after')")
    cmd = Command(["check", path, "--timeout", "2"], env)
    code = cmd.finish(timeout=300)
    assert code == 1, cmd.stdout + cmd.stderr
    assert "TIMEOUT" in cmd.stdout
    assert_clean(cmd, tmp_path)


@pytest.mark.parametrize("how, code", [("ctrl_c", 130), ("terminate", 143)])
def test_stopping_check_ends_its_kernel_and_the_kernels_children(tmp_path, env, how, code):
    path = notebook(tmp_path, SLEEPER, STUCK, "print('after')")
    cmd = Command(["check", path, "--timeout", "300"], env)
    cmd.wait_for(lambda: sleeper_running(cmd), timeout=400, what="the notebook's sleep 333")
    time.sleep(1.0)  # into the stuck cell
    getattr(cmd, how)()
    assert cmd.finish(timeout=300) == code, cmd.stdout + cmd.stderr
    err = cmd.stderr.strip().splitlines()
    assert err and err[-1].startswith("Stopped by"), cmd.stderr
    assert "Traceback" not in cmd.stderr
    assert_clean(cmd, tmp_path)


@pytest.mark.parametrize("cell", ["import os\nos._exit(3)", "raise ValueError('boom')",
                                  "print('fine')"])
def test_check_ends_the_kernels_children_on_error_death_and_success(tmp_path, env, cell):
    path = notebook(tmp_path, SLEEPER, cell)
    cmd = Command(["check", path, "--timeout", "60"], env)
    assert cmd.finish(timeout=300) in (0, 1), cmd.stdout + cmd.stderr
    assert_clean(cmd, tmp_path)


@pytest.mark.parametrize("mime, payload", [
    ("text/html", "'<p>' + 'x' * 300_000 + '</p>'"),
    ("image/png", "'iVBORw0KGgo' + 'A' * 300_000"),
    ("application/json", "{'values': list(range(60_000))}"),
])
def test_output_limits_count_every_output_type(tmp_path, env, mime, payload):
    source = (f"from IPython.display import display\n"
              f"for _ in range(5):\n"
              f"    display({{{mime!r}: {payload}}}, raw=True)")
    path = notebook(tmp_path, source)
    cmd = Command(["check", path, "--max-output", "100000"], env)
    cmd.finish(timeout=300)
    assert "FLOOD" in cmd.stdout, cmd.stdout + cmd.stderr
    assert_clean(cmd, tmp_path)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_check_refuses_a_timeout_that_is_not_positive_seconds(tmp_path, env, value):
    path = notebook(tmp_path, "print(1)")
    cmd = Command(["check", path, "--timeout", value], env)
    assert cmd.finish(timeout=300) == 2
    assert "--timeout" in cmd.stderr and "positive" in cmd.stderr
    assert "Running" not in cmd.stdout  # refused before a kernel starts


def test_check_takes_a_fractional_timeout(tmp_path, env):
    path = notebook(tmp_path, "import time\ntime.sleep(30)", "print('next')")
    cmd = Command(["check", path, "--timeout", "2.5"], env)
    assert cmd.finish(timeout=300) == 1, cmd.stdout + cmd.stderr
    assert "cell timeout 2.5 s" in cmd.stdout and "still running after 2.5 s" in cmd.stdout
    assert_clean(cmd, tmp_path)


# Stopping a command that executes a notebook ends the notebook's kernel: the command, its
# arguments, and what its last line says it left undone.
STOPPABLE = {
    "slides": (["slides", "--execute", "--out", "{tmp}/decks"], "0 of 1 decks built"),
    "bench": (["bench", "--only", "notebooks", "--notebooks"], "did not finish"),
}


@pytest.mark.parametrize("command", sorted(STOPPABLE))
@pytest.mark.parametrize("how, code", [("ctrl_c", 130), ("terminate", 143)])
def test_stopping_ends_the_executing_kernel(tmp_path, env, command, how, code):
    path = notebook(tmp_path, SLEEPER, STUCK)
    args, undone = STOPPABLE[command]
    cmd = Command([a.format(tmp=tmp_path) for a in args] + [path], env)
    cmd.wait_for(lambda: sleeper_running(cmd), timeout=400, what="the notebook's sleep 333")
    time.sleep(1.0)
    getattr(cmd, how)()
    assert cmd.finish(timeout=300) == code, cmd.stdout + cmd.stderr
    last = cmd.stderr.strip().splitlines()[-1]
    assert last.startswith("Stopped by") and undone in last
    assert "Traceback" not in cmd.stderr
    assert_clean(cmd, tmp_path)


def test_slides_ends_the_kernels_children_after_a_normal_run(tmp_path, env):
    path = notebook(tmp_path, SLEEPER, "print('done')")
    cmd = Command(["slides", "--execute", "--out", tmp_path / "decks", path], env)
    assert cmd.finish(timeout=300) == 0, cmd.stdout + cmd.stderr
    assert (tmp_path / "decks" / "nb.slides.html").is_file()
    assert_clean(cmd, tmp_path)
