"""The notebook pipeline: stubs from solutions, and drift detection."""

import shutil
from pathlib import Path

import jupytext
import pytest

from vae_course.build import BuildError, build, make_exercise, second_hints, stub_solutions
from vae_course.paths import COURSE_ROOT

HEADER = """# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

SOLUTION = HEADER + '''
# %% [markdown]
# # Exercise: add

# %%
def add(a, b):
    """Return a + b."""
    ### BEGIN SOLUTION
    ### HINT: use the + operator
    return a + b
    ### END SOLUTION

# %% tags=["solution"]
assert add(1, 2) == 3
'''


def test_stub_replaces_the_block_and_keeps_the_hint_and_indentation():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    ### HINT: square it\n    return x * x\n" \
          "    ### END SOLUTION\n"
    out = stub_solutions(src)
    assert "x * x" not in out
    assert "    raise NotImplementedError('square it')" in out
    namespace = {}
    exec(out, namespace)
    with pytest.raises(NotImplementedError, match="square it"):
        namespace["f"](2)


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx = 1\n",
                                 "x = 1\n### END SOLUTION\n",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"])
def test_unbalanced_markers_are_errors(src):
    with pytest.raises(BuildError):
        stub_solutions(src)


def test_exercise_drops_solution_cells():
    nb = jupytext.reads(SOLUTION, fmt="py:percent")
    ex = make_exercise(nb, "99_add.py")
    sources = "\n".join(c.source for c in ex.cells)
    assert "assert add(1, 2) == 3" not in sources
    assert "return a + b" not in sources and "use the + operator" in sources
    assert "solutions/99_add.py" in ex.cells[0].source


def _course_copy(tmp_path):
    for folder in ("notebooks", "solutions", "exercises"):
        (tmp_path / folder).mkdir()
    (tmp_path / "solutions" / "99_add.py").write_text(SOLUTION)
    (tmp_path / "notebooks" / "99_lecture.py").write_text(
        HEADER + "\n# %% [markdown]\n# # Lecture\n\n# %%\nprint(1)\n")
    return tmp_path


def test_build_then_check_is_clean_and_edits_are_caught(tmp_path):
    root = _course_copy(tmp_path)
    assert build(root, check=True)  # nothing generated yet: everything missing
    build(root)
    for path in ("notebooks/99_lecture.ipynb", "solutions/99_add.ipynb",
                 "exercises/99_add.ipynb", "exercises/99_add.py"):
        assert (root / path).is_file(), path
    assert build(root, check=True) == []
    before = (root / "exercises/99_add.ipynb").read_bytes()
    build(root)  # deterministic: rebuilding rewrites identical bytes
    assert (root / "exercises/99_add.ipynb").read_bytes() == before

    # A hand edit to a generated exercise is drift.
    ex = root / "exercises/99_add.py"
    ex.write_text(ex.read_text().replace("raise NotImplementedError", "return 0  #"))
    assert any("exercises/99_add.py" in p for p in build(root, check=True))
    build(root)
    # A change to a source that was not rebuilt is drift too.
    src = root / "notebooks/99_lecture.py"
    src.write_text(src.read_text().replace("print(1)", "print(2)"))
    assert any("notebooks/99_lecture.ipynb" in p for p in build(root, check=True))
    # An exercise whose solution was deleted is reported.
    build(root)
    (root / "solutions/99_add.py").unlink()
    (root / "solutions/99_add.ipynb").unlink()
    assert any("solution source is gone" in p for p in build(root, check=True))


def test_committed_notebook_with_outputs_is_drift(tmp_path):
    import nbformat

    root = _course_copy(tmp_path)
    build(root)
    path = root / "notebooks/99_lecture.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(nb, path)
    assert any("outputs" in p for p in build(root, check=True))


def test_the_course_itself_is_in_sync():
    """`vae-course build --check` on this repository: every generated file is up to date."""
    problems = build(COURSE_ROOT, check=True)
    assert problems == [], "\n".join(problems) + "\nRun `vae-course build` and commit."


GRADED = '''def f(x):
    """Square."""
    ### BEGIN SOLUTION
    ### HINT: multiply the number by itself
    ### HINT2: `return x * x`
    ### HINT2: (or `x ** 2`)
    return x * x
    ### END SOLUTION
'''


def test_graded_hints_first_in_the_stub_second_folded_in_its_own_cell():
    stub = stub_solutions(GRADED)
    assert "multiply the number by itself" in stub and "x * x" not in stub
    assert "second hint is folded" in stub
    folded = second_hints(GRADED)
    assert folded.startswith("<details>") and "`return x * x`\n(or `x ** 2`)" in folded
    assert "Second hint for <code>f</code>" in folded
    nb = jupytext.reads(HEADER + "\n# %%\n" + GRADED, fmt="py:percent")
    ex = make_exercise(nb, "99_sq.py")
    kinds = [(c.cell_type, "<details>" in c.source) for c in ex.cells]
    assert kinds == [("markdown", False), ("code", False), ("markdown", True)]


def test_no_second_hint_means_no_folded_cell_and_no_pointer():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    ### HINT: square it\n    return x * x\n" \
          "    ### END SOLUTION\n"
    assert second_hints(src) is None
    assert "folded" not in stub_solutions(src)


@pytest.mark.parametrize("hint", ["sigma = exp(logvar / 2)", "use torch.randn_like",
                                  "mu + sigma * eps ** 1", "call sum(x)"])
def test_a_first_hint_that_gives_the_code_away_is_refused(hint):
    src = f"def f(x):\n    ### BEGIN SOLUTION\n    ### HINT: {hint}\n    return x\n" \
          f"    ### END SOLUTION\n"
    with pytest.raises(BuildError, match="reads like code"):
        stub_solutions(src)


def test_every_course_hint_is_graded():
    """Each first hint names the idea (no code); every stub also has a second hint."""
    for solution in sorted((COURSE_ROOT / "solutions").glob("*.py")):
        text = solution.read_text()
        assert text.count("### BEGIN SOLUTION") == text.count("### HINT:"), solution.name
        for block in text.split("### BEGIN SOLUTION")[1:]:
            assert "### HINT2:" in block.split("### END SOLUTION")[0], solution.name


def test_a_long_hint_is_split_over_lines_that_fit_and_stays_one_message():
    hint = "a long explanation of the idea " * 8
    src = f"def f(x):\n    ### BEGIN SOLUTION\n    ### HINT: {hint.strip()}\n    return x\n" \
          f"    ### END SOLUTION\n"
    stub = stub_solutions(src)
    assert max(len(line) for line in stub.splitlines()) <= 99
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError) as info:
        namespace["f"](1)
    assert str(info.value) == hint.strip()
