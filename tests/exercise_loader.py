"""Load the functions of a solution notebook (optionally with its solution blocks stubbed), and
run a check on one of them — shared by the tests of the exercise checks."""

import jupytext

from vae_course.build import BEGIN, stub_solutions
from vae_course.checks import CHECKS, MARKER_RE, CheckResult
from vae_course.paths import COURSE_ROOT

SOLUTIONS = COURSE_ROOT / "solutions"


def load_functions(stem, stub=False):
    """Execute a solution's import cell and its solution cells (optionally stubbed)."""
    nb = jupytext.read(SOLUTIONS / f"{stem}.py", fmt="py:percent")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    namespace = {}
    exec(code[0], namespace)  # the imports
    for source in code:
        if BEGIN in source:
            exec(stub_solutions(source) if stub else source, namespace)
    return namespace


def run(name, fn):
    """Run the check called ``name`` on ``fn``; it must return a result with a valid marker."""
    result = CHECKS[name](fn, show=False)
    assert isinstance(result, CheckResult)
    assert MARKER_RE.match(result.marker()), result.marker()
    return result
