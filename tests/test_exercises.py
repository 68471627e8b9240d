"""The generated exercise notebooks, run with their stubs in place.

Run All must end cleanly: no cell raises (a cell that uses an unfinished function is guarded by
``needs`` and says so in one line), and every check cell answers "not implemented yet" — that is
what a learner sees before writing any code.
"""

import ast

import jupytext
import nbformat
import pytest

from vae_course.build import BEGIN, stub_solutions
from vae_course.checks import TODO
from vae_course.checks.notebook_runner import expected_checks, parse_results
from vae_course.execute import current_env_kernel_manager, make_client
from vae_course.kernels import run_all_cells
from vae_course.paths import COURSE_ROOT

EXERCISES = sorted((COURSE_ROOT / "exercises").glob("*.ipynb"))
SOLUTIONS = sorted((COURSE_ROOT / "solutions").glob("*.py"))


def stub_hints(nb):
    """The messages of every `raise NotImplementedError(...)` stub in a notebook."""
    hints = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and getattr(node.exc.func, "id", None) == "NotImplementedError":
                hints.add(ast.literal_eval(node.exc.args[0]))
    return hints


def test_there_is_one_exercise_per_solution():
    assert SOLUTIONS, "no solutions found"
    assert [p.stem for p in EXERCISES] == [p.stem for p in SOLUTIONS]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_cells_are_stubbed_and_each_has_a_check(solution):
    nb = jupytext.read(solution, fmt="py:percent")
    exercise = nbformat.read(COURSE_ROOT / "exercises" / f"{solution.stem}.ipynb", as_version=4)
    solution_cells = [c.source for c in nb.cells if c.cell_type == "code" and BEGIN in c.source]
    assert solution_cells, f"{solution.name} has nothing to implement"
    text = "\n".join(c.source for c in exercise.cells)
    assert BEGIN not in text
    for source in solution_cells:
        assert stub_solutions(source) in text
    assert expected_checks(exercise), f"{solution.name} calls no check"
    blocks = sum(source.count(BEGIN) for source in solution_cells)
    assert len(stub_hints(exercise)) == blocks  # one distinct hint per stub
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "notebooks/" in first.source, \
        "the introduction must point to its lecture"


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_exercise_runs_with_stubs_without_a_traceback(path):
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, path.parent, timeout=900, allow_errors=True,
                         km=current_env_kernel_manager())
    run_all_cells(client)  # client.execute() would leave a kernel it did not create running
    errors = [(i, out) for i, cell in enumerate(nb.cells) for out in cell.get("outputs", [])
              if out.output_type == "error"]
    assert not errors, [f"cell {i + 1} raised {e.ename}: {e.evalue}" for i, e in errors]
    guarded = [cell for cell in nb.cells if cell.cell_type == "code"
               and ("if needs(" in cell.source or "if needs_any(" in cell.source)]
    for cell in guarded:  # each says in one line what to finish, and does nothing else
        texts = [out.get("text", "") for out in cell.outputs if out.output_type == "stream"]
        assert len(cell.outputs) == 1 and texts and texts[0].startswith("⏸ Skipped:"), \
            cell.outputs
        assert texts[0].count("\n") == 1
    results = parse_results(nb)
    names = expected_checks(nb)
    assert names and set(results) == set(names), f"checks that did not report: " \
                                                 f"{set(names) - set(results)}"
    for name, (status, code, message) in results.items():
        assert status == TODO, f"{name}: {status} {code} {message}"
