"""scripts/exercise_table.py counts, from the tests' own tables, each check's named mistakes and
correct alternatives; every check has at least five of the one and three of the other."""

import sys

from vae_course.checks import CHECKS
from vae_course.paths import COURSE_ROOT

SCRIPT = COURSE_ROOT / "scripts" / "exercise_table.py"


def _script():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import exercise_table
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return exercise_table


def _rows():
    return _script().rows()


def test_every_check_names_five_mistakes_and_accepts_three_alternatives():
    rows = _rows()
    assert [r[2] for r in rows] == list(CHECKS)
    for exercise, task, check, mistakes, alternatives in rows:
        assert exercise != "?" and task != "?", f"no solution calls check_{check}"
        assert mistakes >= 5, f"check_{check}: only {mistakes} named mistakes in the tests"
        assert alternatives >= 3, f"check_{check}: only {alternatives} correct alternatives"


def test_the_script_prints_one_markdown_row_per_check(capsys):
    assert _script().main() == 0
    out = capsys.readouterr().out
    body = [line for line in out.splitlines() if line.startswith("| 0")]
    assert len(body) == len(CHECKS)
    assert "| 03_elbo | `VAE` | `check_vae_module` |" in out
