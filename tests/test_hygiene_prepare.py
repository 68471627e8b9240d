"""``vae-course prepare`` stopped the way a user stops it: Ctrl-C (SIGINT to the whole process
group, as a terminal sends it) or SIGTERM, in the middle of a VAE's training and in the middle of
the digit classifier's. It must stop at once, exit non-zero, never call the interrupted model
ready nor cache it, and say in one line what is ready and what is not, without a traceback.

The real command trains eleven models for minutes, so each test runs ``prepare`` through a small
entry script that swaps in a short list of tiny models (one of them with a budget long enough
to be interrupted) and then calls ``vae_course.cli.main(["prepare"])``.
"""

import textwrap
import time

import pytest

from process_hygiene import Command, assert_no_leftovers, cli_env

ENTRY = """
import sys
from vae_course import cli
from vae_course import course_models

MODELS = {
    "vae": [("tiny autoencoder", lambda: course_models.autoencoder(hidden=16, steps=5)),
            ("long VAE", lambda: course_models.vae(hidden=16, steps=10**7)),
            ("tiny VAE", lambda: course_models.vae(hidden=16, steps=5))],
    "classifier": [("tiny autoencoder", lambda: course_models.autoencoder(hidden=16, steps=5)),
                   ("long digit ruler", lambda: course_models.digit_ruler(steps=10**7))],
    "short": [("tiny autoencoder", lambda: course_models.autoencoder(hidden=16, steps=5)),
              ("tiny VAE", lambda: course_models.vae(hidden=16, steps=5))],
}
cli.course_models = lambda: MODELS[sys.argv[1]]
sys.exit(cli.main(["prepare"]))
"""


@pytest.fixture
def entry(tmp_path):
    path = tmp_path / "prepare_entry.py"
    path.write_text(textwrap.dedent(ENTRY))
    return path


def cached(tmp_path):
    return sorted(p.name for p in (tmp_path / "data" / "models").glob("*"))


def test_prepare_runs_to_the_end_and_caches_every_model(tmp_path, entry):
    cmd = Command(["short"], cli_env(tmp_path), script=entry)
    assert cmd.finish(timeout=300) == 0, cmd.stderr
    assert "[1/2] tiny autoencoder: ready" in cmd.stdout
    assert "[2/2] tiny VAE: ready" in cmd.stdout
    assert len(cached(tmp_path)) == 2 and all(n.endswith(".pt") for n in cached(tmp_path))
    assert_no_leftovers(cmd)


@pytest.mark.parametrize("models, stopped", [("vae", "long VAE"),
                                             ("classifier", "long digit ruler")])
@pytest.mark.parametrize("how, code, name", [("ctrl_c", 130, "Ctrl-C"),
                                             ("terminate", 143, "SIGTERM")])
def test_stopping_prepare_stops_and_reports_what_is_ready(tmp_path, entry, models, stopped,
                                                         how, code, name):
    cmd = Command([models], cli_env(tmp_path), script=entry)
    cmd.wait_for(lambda: "tiny autoencoder: ready" in cmd.stdout, timeout=120,
                 what="the first model")
    time.sleep(2.0)  # into the long training
    getattr(cmd, how)()
    start = time.monotonic()
    assert cmd.finish(timeout=300) == code, cmd.stdout + cmd.stderr
    assert time.monotonic() - start < 120  # it stopped, it did not train the rest
    out, err = cmd.stdout, cmd.stderr
    assert f"{stopped}: ready" not in out and "tiny VAE" not in out
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    total = 3 if models == "vae" else 2
    assert last.startswith(f'Stopped by {name} during "{stopped}" (not cached)'), last
    assert f"1 of {total} models ready, {total - 1} not prepared" in last
    names = cached(tmp_path)
    assert len(names) == 1 and names[0].startswith("ae-"), names  # only the finished one
    assert_no_leftovers(cmd)
