"""The learners' image (deploy/Dockerfile), checked from inside a container of it.

As the image's learner (not root), with no network: the shared model folder is read-only to
them, ``vae-course prepare`` loads every course model from it and trains or writes nothing
(the folder's files are the same before and after), and the lecture notebook 00 runs from the
learner's own workspace (created as on a first login).

Building the image takes many minutes (it trains every course model), so this test does not
build it: it checks the image named by ``VAE_COURSE_IMAGE`` (default ``vae-course:test``), built
beforehand with ``docker build -f deploy/Dockerfile -t vae-course:test .`` (deploy/Dockerfile
says how to build it offline). Skipped, with the reason, where docker or the image is missing.
"""

import os
import shutil
import subprocess

import pytest

IMAGE = os.environ.get("VAE_COURSE_IMAGE", "vae-course:test")
MODELS = "/opt/vae-course/models"


def docker_or_skip():
    """Skip (saying why) unless a docker daemon answers and the image is there."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed: the learners' image is not checked")
    try:
        info = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.skip("the docker daemon did not answer in 20 s: the image is not checked")
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no daemon"])[-1]
        pytest.skip(f"no docker daemon ({reason}): the learners' image is not checked")
    found = subprocess.run([docker, "image", "inspect", IMAGE], capture_output=True)
    if found.returncode != 0:
        pytest.skip(f"image {IMAGE} is not built (docker build -f deploy/Dockerfile -t {IMAGE} "
                    f"., or set VAE_COURSE_IMAGE): the learners' image is not checked")
    return docker


def in_container(docker, script, timeout=900):
    """Run ``script`` with sh in a fresh container of the image, as its default (learner) user,
    with no network; returns the finished process."""
    return subprocess.run([docker, "run", "--rm", "--network", "none", IMAGE, "sh", "-c",
                           script], capture_output=True, text=True, timeout=timeout)


def listing(text, marker):
    """The lines between ``marker`` lines in ``text``."""
    return text.split(marker)[1].strip().splitlines()


def test_a_learner_loads_every_model_and_trains_nothing():
    docker = docker_or_skip()
    snap = f"find {MODELS} -type f -exec stat -c '%n %s %Y %a' {{}} + | sort"
    done = in_container(docker, f"""
        set -e
        echo "uid $(id -u)"
        test ! -w {MODELS} && echo "models read-only for the learner"
        echo BEFORE; {snap}; echo BEFORE
        vae-course prepare
        echo AFTER; {snap}; echo AFTER
    """)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "uid 0" not in out and "models read-only for the learner" in out
    before, after = listing(out, "BEFORE"), listing(out, "AFTER")
    assert before == after and len(before) >= 5, out[-3000:]
    modes = [line.split()[-1] for line in before]
    assert all(int(m[-1]) & 4 and int(m[-2]) & 4 for m in modes), modes  # all may read
    assert "Could not cache" not in out and "retraining" not in out
    assert "Models are cached in" in out, out[-2000:]


def test_lecture_00_runs_in_the_learners_workspace():
    docker = docker_or_skip()
    done = in_container(docker, """
        set -e
        python -c "from vae_course.hub import prepare_workspace; print(prepare_workspace())"
        cd ~/vae-course-work/notebooks
        jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
            --output /tmp/00_done.ipynb 00_overview.ipynb  # fails on a cell's error
        grep -o 'ms per training step' /tmp/00_done.ipynb | head -1
    """)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "vae-course-work" in out
    assert "ms per training step" in out, out[-2000:]
