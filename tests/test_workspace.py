"""The learner's workspace: copied once, never overwritten, refreshed only on request.

Each test builds a tiny course (three folders of small notebooks with jupytext pairing metadata,
as the build writes them) in a temporary folder, so nothing here touches the real course or a
real workspace.
"""

import datetime
import json
import os
import subprocess
import sys

import nbformat
import pytest

from vae_course import workspace
from vae_course.build import targets
from vae_course.paths import COURSE_ROOT


def write_notebook(path, text, banner=False):
    nb = nbformat.v4.new_notebook()
    if banner:
        nb.cells.append(nbformat.v4.new_markdown_cell(
            "<!-- Generated from solutions/x.py by `vae-course build`: edit the solution, "
            "not this file. -->"))
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {text}"))
    nb.cells.append(nbformat.v4.new_code_cell(f"print({text!r})"))
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    write_notebook(root / "notebooks" / "00_overview.ipynb", "overview")
    write_notebook(root / "notebooks" / "03_elbo.ipynb", "lecture 3")
    write_notebook(root / "exercises" / "03_elbo.ipynb", "exercise 3", banner=True)
    write_notebook(root / "solutions" / "03_elbo.ipynb", "solution 3")
    (root / "notebooks" / "03_elbo.py").write_text("# a jupytext source: never copied\n")
    return root


def learner_edits(path, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source = text
    nbformat.write(nb, path)
    return path.read_bytes()


def test_first_sync_copies_every_notebook_without_pairing(course, tmp_path):
    work = tmp_path / "work"
    report = workspace.sync(work, course)
    assert sorted(report.copied) == ["exercises/03_elbo.ipynb", "notebooks/00_overview.ipynb",
                                     "notebooks/03_elbo.ipynb", "solutions/03_elbo.ipynb"]
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*")
                  if p.is_file() and workspace.STATE_DIR not in p.parts) == sorted(report.copied)
    for name in report.copied:
        nb = nbformat.read(work / name, as_version=4)
        nbformat.validate(nb)
        assert "jupytext" not in nb.metadata  # saving in JupyterLab writes only this .ipynb
        assert nb.metadata["kernelspec"] == workspace.kernelspec()
        assert nb.metadata["language_info"]["name"] == "python"
        assert not nb.cells[0].source.startswith("<!-- Generated")
    assert workspace.sync(work, course).copied == []


def test_a_later_sync_never_overwrites_and_reports_course_changes(course, tmp_path):
    work = tmp_path / "work"
    workspace.sync(work, course)
    mine = learner_edits(work / "exercises" / "03_elbo.ipynb", "kl = 0.5 * my_own_code")
    untouched = (work / "notebooks" / "03_elbo.ipynb").read_bytes()
    write_notebook(course / "exercises" / "03_elbo.ipynb", "exercise 3, revised", banner=True)
    write_notebook(course / "notebooks" / "03_elbo.ipynb", "lecture 3, revised")
    write_notebook(course / "exercises" / "04_annealing.ipynb", "exercise 4")

    report = workspace.sync(work, course)
    assert report.copied == ["exercises/04_annealing.ipynb"]
    assert sorted(report.changed) == [("exercises/03_elbo.ipynb", True),
                                      ("notebooks/03_elbo.ipynb", False)]
    assert (work / "exercises" / "03_elbo.ipynb").read_bytes() == mine
    assert (work / "notebooks" / "03_elbo.ipynb").read_bytes() == untouched
    text = "\n".join(report.lines())
    assert "--refresh exercises/03_elbo.ipynb" in text and "your edited copy" in text
    assert workspace.sync(work, course).changed == report.changed  # reported until refreshed


def test_refresh_keeps_the_learners_copy_as_a_dated_backup(course, tmp_path):
    work = tmp_path / "work"
    workspace.sync(work, course)
    mine = learner_edits(work / "exercises" / "03_elbo.ipynb", "kl = my_attempt")
    write_notebook(course / "exercises" / "03_elbo.ipynb", "exercise 3, revised")
    when = datetime.datetime(2026, 3, 4, 5, 6, 7)

    name, backup = workspace.refresh("exercises/03_elbo", work, course, now=when)
    assert name == "exercises/03_elbo.ipynb"
    assert backup == work / "backups" / "exercises" / "03_elbo-2026-03-04-050607.ipynb"
    assert backup.read_bytes() == mine
    fresh = nbformat.read(work / name, as_version=4)
    assert "revised" in fresh.cells[-1].source
    assert workspace.sync(work, course).changed == []
    _, second = workspace.refresh("exercises/03_elbo.ipynb", work, course, now=when)
    assert second.name == "03_elbo-2026-03-04-050607-2.ipynb" and backup.read_bytes() == mine
    assert workspace.exercise_notebooks(work) == [work / "exercises" / "03_elbo.ipynb"]


def test_a_deleted_notebook_comes_back_and_a_foreign_file_is_left_alone(course, tmp_path):
    work = tmp_path / "work"
    workspace.sync(work, course)
    (work / "notebooks" / "00_overview.ipynb").unlink()
    (work / "notebooks" / "my_notes.ipynb").write_text("{}")
    assert workspace.sync(work, course).copied == ["notebooks/00_overview.ipynb"]
    assert (work / "notebooks" / "my_notes.ipynb").read_text() == "{}"


def test_names_resolve_or_say_what_exists(course):
    assert workspace.resolve("00_overview", course) == "notebooks/00_overview.ipynb"
    assert workspace.resolve("solutions/03_elbo.ipynb", course) == "solutions/03_elbo.ipynb"
    with pytest.raises(workspace.WorkspaceError, match="several folders.*exercises/03_elbo"):
        workspace.resolve("03_elbo", course)
    with pytest.raises(workspace.WorkspaceError, match="no notebook 'nope'"):
        workspace.resolve("nope", course)


def test_workspace_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(workspace.WORK_ENV, str(tmp_path / "mine"))
    assert workspace.workspace_dir() == tmp_path / "mine"
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(workspace.WORK_ENV, str(tmp_path / "file"))
    with pytest.raises(workspace.WorkspaceError, match=workspace.WORK_ENV):
        workspace.workspace_dir()
    monkeypatch.delenv(workspace.WORK_ENV)
    assert workspace.workspace_dir() == COURSE_ROOT / "work"


def test_the_build_writes_nothing_in_the_workspace():
    work = COURSE_ROOT / "work"
    assert all(work not in path.parents for path, _, _ in targets())
    ignored = subprocess.run(["git", "check-ignore", "-q", "work/x.ipynb"], cwd=COURSE_ROOT)
    assert ignored.returncode == 0, "work/ must be git-ignored"


def test_workspace_command_refreshes_one_notebook(tmp_path):
    env_work = tmp_path / "work"
    command = [sys.executable, "-m", "vae_course.cli", "workspace"]
    env = dict(os.environ, VAE_COURSE_WORK=str(env_work))
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "Copied" in first.stdout and (env_work / "exercises" / "03_elbo.ipynb").is_file()
    mine = learner_edits(env_work / "exercises" / "03_elbo.ipynb", "mine")
    manifest = json.loads((env_work / workspace.STATE_DIR / workspace.MANIFEST).read_text())
    assert "exercises/03_elbo.ipynb" in manifest["notebooks"]
    again = subprocess.run(command + ["--refresh", "exercises/03_elbo"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    backups = list((env_work / "backups" / "exercises").glob("03_elbo-*.ipynb"))
    assert [b.read_bytes() for b in backups] == [mine]
    assert "yours is kept as" in again.stdout
    wrong = subprocess.run(command + ["--refresh", "03_elbo"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert wrong.returncode == 1 and "several folders" in wrong.stderr


def test_an_interrupted_copy_leaves_no_half_written_notebook(tmp_path, monkeypatch):
    target = tmp_path / "exercises" / "03_elbo.ipynb"
    assert workspace._write_new(target, "first") and target.read_text() == "first"
    assert not workspace._write_new(target, "second") and target.read_text() == "first"

    def interrupted(*args):
        raise KeyboardInterrupt

    other = tmp_path / "exercises" / "04_annealing.ipynb"
    monkeypatch.setattr(os, "link", interrupted)
    with pytest.raises(KeyboardInterrupt):
        workspace._write_new(other, "text")
    assert sorted(p.name for p in other.parent.iterdir()) == ["03_elbo.ipynb"]
