"""``vae-course data`` as a user meets it on a bad network or with bad files: a proxy that
accepts the connection and never answers (a real stalled socket on 127.0.0.1), Ctrl-C or SIGTERM
in the middle of ``--force``, corrupt files already in place. Each test runs the real command in
a subprocess and checks what it printed, its exit status, that the data folder is byte for byte
as it was, and that no process it started is left.
"""

import gzip
import time

import numpy as np
import pytest

from process_hygiene import Command, StalledServer, assert_no_leftovers, cli_env

MNIST = {"train-images-idx3-ubyte": (20, 28, 28), "train-labels-idx1-ubyte": (20,),
         "t10k-images-idx3-ubyte": (8, 28, 28), "t10k-labels-idx1-ubyte": (8,)}


def write_mnist(data):
    """Four small valid IDX files in <data>/MNIST/raw (digits 0-9 as labels)."""
    raw = data / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, shape in MNIST.items():
        values = rng.integers(0, 10 if len(shape) == 1 else 256, shape).astype(np.uint8)
        header = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
        (raw / name).write_bytes(header + values.tobytes())
    return raw


def snapshot(folder):
    """{relative path: bytes} of every file under ``folder`` (hidden ones included)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def server():
    with StalledServer() as stalled:
        yield stalled


def test_a_stalled_server_times_out_with_a_message_naming_cause_and_fix(tmp_path, server):
    env = cli_env(tmp_path)
    cmd = Command(["data", "--mirror", server.url, "--timeout", "1.5"], env)
    code = cmd.finish(timeout=300)
    seconds = time.monotonic() - server.first_contact  # not counting the start-up
    assert code == 1, cmd.stderr
    assert server.connections, "the command never reached the stalled server"
    err = cmd.stderr
    assert "timed out" in err and "1.5 s" in err and server.url in err  # the cause
    assert "--timeout" in err and "proxy" in err  # the fix
    assert "Traceback" not in err
    assert seconds < 60, f"gave up {seconds:.0f} s after connecting, with a 1.5 s timeout"
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]  # nothing half-done
    assert not list((tmp_path / "data").glob(".mnist-download-*"))
    assert_no_leftovers(cmd)


@pytest.mark.parametrize("how, code", [("ctrl_c", 130), ("terminate", 143)])
def test_stopping_a_forced_download_leaves_the_old_files_in_place(tmp_path, server, how, code):
    raw = write_mnist(tmp_path / "data")
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"corrupt")  # the reason to run --force
    before = snapshot(tmp_path / "data")
    cmd = Command(["data", "--force", "--mirror", server.url, "--timeout", "300"],
                  cli_env(tmp_path))
    cmd.wait_for(lambda: server.connections, timeout=60, what="a connection to the server")
    time.sleep(0.5)  # well inside the wait for an answer
    getattr(cmd, how)()
    assert cmd.finish(timeout=120) == code
    lines = cmd.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("Stopped by") and "as it was" in lines[-1]
    assert "Traceback" not in cmd.stderr
    assert snapshot(tmp_path / "data") == before  # no *.bad, no half download, same bytes
    assert not list((tmp_path / "data").glob(".mnist-download-*"))
    assert_no_leftovers(cmd)


@pytest.mark.parametrize("damage", ["truncated", "not-idx", "gzip-garbage", "missing"])
def test_corrupt_files_already_there_say_run_force_with_the_real_reason(tmp_path, server,
                                                                       damage):
    raw = write_mnist(tmp_path / "data")
    target = raw / "train-images-idx3-ubyte"
    if damage == "truncated":
        target.write_bytes(target.read_bytes()[:1000])
    elif damage == "not-idx":
        target.write_bytes(b"<html>captive portal</html>" * 10)
    elif damage == "gzip-garbage":
        target.unlink()
        damaged = gzip.compress(b"x" * 1000)[:10] + b"\xff" * 30  # header fine, data not
        (raw / "train-images-idx3-ubyte.gz").write_bytes(damaged)
    else:
        target.unlink()
    before = snapshot(tmp_path / "data")
    cmd = Command(["data", "--mirror", server.url, "--timeout", "5"], cli_env(tmp_path))
    assert cmd.finish(timeout=300) == 1
    err = cmd.stderr
    assert "vae-course data --force" in err and "train-images-idx3-ubyte" in err
    reason = {"truncated": "truncated", "not-idx": "not an IDX file",
              "gzip-garbage": "cannot read", "missing": "incomplete"}[damage]
    assert reason in err, err
    assert ": ." not in err and "try again when you are online" not in err
    assert "Traceback" not in err
    assert not server.connections  # checking files needs no network
    assert snapshot(tmp_path / "data") == before


def test_valid_files_already_there_need_no_network(tmp_path, server):
    write_mnist(tmp_path / "data")
    cmd = Command(["data", "--mirror", server.url, "--timeout", "5"], cli_env(tmp_path))
    assert cmd.finish(timeout=300) == 0, cmd.stderr
    assert "already" in cmd.stdout and "Data: full MNIST" in cmd.stdout
    assert not server.connections


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_a_bad_timeout_is_refused(tmp_path, value):
    cmd = Command(["data", "--timeout", value], cli_env(tmp_path))
    assert cmd.finish(timeout=300) == 2
    assert "--timeout" in cmd.stderr and "seconds" in cmd.stderr


def test_an_interrupt_while_swapping_files_in_puts_the_old_ones_back(tmp_path, monkeypatch):
    """The one window where files move: Ctrl-C between two renames undoes the renames."""
    import shutil

    import torchvision.datasets

    from vae_course import data

    raw = write_mnist(tmp_path)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"corrupt")
    before = snapshot(tmp_path)

    class FreshMNIST:  # a download that succeeds, writing four new files
        def __init__(self, root, train=True, download=False):
            if train:
                write_mnist(root)

    moves = []
    real_move = shutil.move

    def move_then_interrupt(src, dst):
        moves.append(dst)
        if len(moves) == 3:
            raise KeyboardInterrupt
        return real_move(src, dst)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FreshMNIST)
    monkeypatch.setattr(data.shutil, "move", move_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        data.download_mnist(tmp_path, force=True)
    assert snapshot(tmp_path) == before
    assert not list(tmp_path.glob(".mnist-download-*"))
