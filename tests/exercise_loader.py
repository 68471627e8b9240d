"""Shared by the tests of the exercise checks: the functions of a solution notebook (optionally
with its stubs in place), a check run on one of them, the mistake codes a check module names,
and the two tests every table of implementations gets (each wrong one named, each right one
passing)."""

import re

import jupytext
import pytest

from vae_course.build import BEGIN, stub_solutions
from vae_course.checks import CHECKS, MARKER_RE, MISTAKE, PASS, CheckResult
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


def run(name, fn):
    """Run the check called ``name`` on ``fn``; it must return a result with a valid marker."""
    result = CHECKS[name](fn, show=False)
    assert isinstance(result, CheckResult)
    assert MARKER_RE.match(result.marker()), result.marker()
    return result


def named_codes(*modules, prefixes):
    """Every mistake code ("prefix.name") written in the given modules of vae_course.checks."""
    pattern = re.compile(r'"((?:%s)\.[a-z_]+)"' % "|".join(map(re.escape, prefixes)))
    return {code for module in modules
            for code in pattern.findall((CHECKS_DIR / f"{module}.py").read_text())}


def each_mistake_is_named(name, wrong):
    """A test that runs the check ``name`` on every implementation in ``wrong`` ({mistake code:
    function}) and wants that code's diagnosis, one test case per code. A test module binds it
    to a ``test_*`` name, e.g. ``test_auroc_mistakes_are_named = each_mistake_is_named(...)``."""
    @pytest.mark.parametrize("code", sorted(wrong))
    def test(code):
        result = run(name, wrong[code])
        assert (result.status, result.code) == (MISTAKE, code), result.marker()
    return test


def each_alternative_passes(name, right):
    """A test that runs the check ``name`` on every correct implementation in ``right``
    ({label: function}) and wants a pass, one test case per label."""
    @pytest.mark.parametrize("label", sorted(right))
    def test(label):
        result = run(name, right[label])
        assert result.status == PASS, result.marker()
    return test
