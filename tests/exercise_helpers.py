"""Shared by the tests of the exercise checks: the functions of a solution notebook (optionally
with its stubs in place), and the mistake codes a check module can name."""

import re

import jupytext

from vae_course.build import BEGIN, stub_solutions
from vae_course.paths import COURSE_ROOT

SOLUTIONS = COURSE_ROOT / "solutions"
CHECKS_DIR = COURSE_ROOT / "vae_course" / "checks"


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


def named_codes(*modules, prefixes):
    """Every mistake code ("prefix.name") written in the given modules of vae_course.checks."""
    pattern = re.compile(r'"((?:%s)\.[a-z_]+)"' % "|".join(map(re.escape, prefixes)))
    return {code for module in modules
            for code in pattern.findall((CHECKS_DIR / f"{module}.py").read_text())}
