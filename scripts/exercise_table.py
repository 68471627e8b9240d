"""Count, from the tests' own tables, what each exercise check names and what it accepts.

    python scripts/exercise_table.py

Prints a markdown table with one row per check of ``vae_course.checks.CHECKS``: the exercise
notebook, the task (the function or class its solution hands to the check), the number of
distinct named mistakes its wrong implementations must get (a combination "a+b" counts its
parts), and the number of correct alternatives the tests accept besides the solution.

Nothing is counted by hand: every ``tests/test_checks*.py`` module defines ``TABLES``, mapping a
check's name to (the codes of its wrong implementations, the labels of its correct alternatives),
built from the very tables its tests run; a check's entries from several modules are merged.
The exercise and task of a check are read from the ``check_NAME(TASK)`` call in
``solutions/NN_*.py``.
"""

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SOLUTIONS = ROOT / "solutions"


def collect_tables(tests=TESTS):
    """{check: (set of mistake codes, set of alternative labels)} from every test module's
    ``TABLES``."""
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))  # the test modules import their helpers by plain name
    merged = {}
    for path in sorted(tests.glob("test_checks*.py")):
        module = importlib.import_module(path.stem)
        for check, (codes, labels) in getattr(module, "TABLES", {}).items():
            mistakes, alternatives = merged.setdefault(check, (set(), set()))
            mistakes.update(part for code in codes for part in code.split("+"))
            alternatives.update(labels)
    return merged


def tasks(solutions=SOLUTIONS):
    """{check: (exercise stem, task name)} from the check calls in the solution sources."""
    found = {}
    for path in sorted(solutions.glob("[0-9][0-9]_*.py")):
        for check, task in re.findall(r"^check_(\w+)\((\w+)\)", path.read_text(), re.M):
            found.setdefault(check, (path.stem, task))
    return found


def rows():
    """One (exercise, task, check, named mistakes, alternatives) per check, in course order."""
    from vae_course.checks import CHECKS

    tables, where = collect_tables(), tasks()
    out = []
    for check in CHECKS:
        mistakes, alternatives = tables.get(check, (set(), set()))
        exercise, task = where.get(check, ("?", "?"))
        out.append((exercise, task, check, len(mistakes), len(alternatives)))
    return out


def markdown(table):
    lines = ["| exercise | task | check | named mistakes | alternatives |",
             "|---|---|---|---:|---:|"]
    lines += [f"| {e} | `{t}` | `check_{c}` | {m} | {a} |" for e, t, c, m, a in table]
    exercises = len({row[0] for row in table})
    lines.append(f"\n{exercises} exercises, {len(table)} checked tasks; named mistakes "
                 f"{sum(r[3] for r in table)} in all (fewest {min(r[3] for r in table)}), "
                 f"correct alternatives {sum(r[4] for r in table)} (fewest "
                 f"{min(r[4] for r in table)}).")
    return "\n".join(lines)


def main():
    print(markdown(rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
