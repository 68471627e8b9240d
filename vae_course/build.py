"""Regenerate every notebook from its source, and every exercise from its solution.

Sources (what people edit and review) are jupytext ``py:percent`` files:

* ``notebooks/NN_name.py``  -> ``notebooks/NN_name.ipynb``
* ``solutions/NN_name.py``  -> ``solutions/NN_name.ipynb``, and the exercise generated from it:
  ``exercises/NN_name.py`` and ``exercises/NN_name.ipynb``.

An exercise is its solution with

* every block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` replaced by a stub that
  raises ``NotImplementedError``;
* graded hints: a ``### HINT: ...`` line just after BEGIN is the *first* hint, the idea in words,
  carried by the stub's message (so the orange box of the check shows it). It must not give the
  code away: the build refuses a first hint that looks like code (a call, ``=``, ``**``,
  ``torch``). ``### HINT2: ...`` lines (any number, after BEGIN) are the *second* hint, the
  formula: they go into a folded "Second hint" markdown cell right under the code cell, opened
  only by a learner who clicks it;
* every cell tagged ``solution`` dropped.

Generated ``.ipynb`` files carry no outputs and deterministic cell ids, so rebuilding an unchanged
source rewrites identical bytes. ``vae-course build --check`` writes nothing: it lists every file
whose cells differ from what the build would produce and exits 1 if there is any.
"""

import hashlib
import re
import textwrap
from pathlib import Path

import jupytext
import nbformat

from .paths import COURSE_ROOT

BEGIN, END, HINT, HINT2 = ("### BEGIN SOLUTION", "### END SOLUTION", "### HINT:",
                           "### HINT2:")
DEFAULT_HINT = "replace this line with your implementation"
SECOND_HINT_POINTER = " — stuck? A second hint is folded under this cell"
# What a first hint may not contain: it names the idea, the code line is the learner's to write.
CODE_LIKE = re.compile(r"\w\(|=|\*\*|\btorch\b|\bF\.")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
EXERCISE_BANNER = ("<!-- Generated from solutions/{name} by `vae-course build`: edit the solution, "
                   "not this file. -->")


class BuildError(ValueError):
    """A source file is malformed (e.g. an unmatched solution marker)."""


def _hint_blocks(source, where="cell"):
    """Each solution block of a cell: (first line, end line, first hint, second-hint lines,
    the enclosing function's name)."""
    lines, blocks, i = source.split("\n"), [], 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped == BEGIN:
            hint, second, j = None, [], i + 1
            while j < len(lines) and lines[j].strip().startswith((HINT2, HINT)):
                text = lines[j].strip()
                if text.startswith(HINT2):
                    second.append(text[len(HINT2):].strip())
                elif hint is not None:
                    raise BuildError(f"{where}: a second {HINT!r} at line {j + 1}; use {HINT2!r} "
                                     f"for the formula")
                else:
                    hint = text[len(HINT):].strip()
                j += 1
            if hint and CODE_LIKE.search(hint):
                raise BuildError(f"{where}: the first hint at line {i + 2} reads like code "
                                 f"({hint!r}); name the idea there and put the formula in "
                                 f"{HINT2!r}")
            while j < len(lines) and lines[j].strip() != END:
                if lines[j].strip() == BEGIN:
                    raise BuildError(f"{where}: nested {BEGIN!r} at line {j + 1}")
                if lines[j].strip().startswith((HINT, HINT2)):
                    raise BuildError(f"{where}: hint at line {j + 1} must follow {BEGIN!r}")
                j += 1
            if j == len(lines):
                raise BuildError(f"{where}: {BEGIN!r} at line {i + 1} has no {END!r}")
            blocks.append((i, j, hint or DEFAULT_HINT, second, _enclosing_def(lines, i)))
            i = j + 1
            continue
        if stripped == END:
            raise BuildError(f"{where}: {END!r} at line {i + 1} has no {BEGIN!r} before it")
        if stripped.startswith((HINT, HINT2)):
            raise BuildError(f"{where}: {stripped.split(':')[0]!r} at line {i + 1} must follow "
                             f"{BEGIN!r}")
        i += 1
    return lines, blocks


def _enclosing_def(lines, index):
    """Name of the function (or class) whose body holds line ``index``; None at top level."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[:index]):
        match = re.match(r"(\s*)(?:async\s+)?(?:def|class)\s+(\w+)", line)
        if match and len(match.group(1)) < indent:
            return match.group(2)
    return None


def stub_solutions(source, where="cell"):
    """Replace each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block by a stub."""
    lines, blocks = _hint_blocks(source, where)
    out, last = [], 0
    for begin, end, hint, second, _ in blocks:
        out.extend(lines[last:begin])
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        message = hint + (SECOND_HINT_POINTER if second else "")
        out.append(f"{indent}# YOUR CODE HERE")
        out.extend(_raise_lines(indent, message))
        last = end + 1
    out.extend(lines[last:])
    return "\n".join(out)


def _raise_lines(indent, message, width=99):
    """``raise NotImplementedError(message)``, the message split over lines that fit ``width``."""
    line = f"{indent}raise NotImplementedError({message!r})"
    if len(line) <= width:
        return [line]
    inner = indent + " " * 4
    chunks = textwrap.wrap(message, width - len(inner) - 3, drop_whitespace=False)
    return ([f"{indent}raise NotImplementedError("]
            + [f"{inner}{chunk!r}" for chunk in chunks[:-1]]
            + [f"{inner}{chunks[-1]!r})"])


def second_hints(source, where="cell"):
    """The folded markdown cell holding a code cell's second hints, or None if it has none."""
    _, blocks = _hint_blocks(source, where)
    parts = []
    for *_, second, name in blocks:
        if second:
            title = f"Second hint for <code>{name}</code>" if name else "Second hint"
            body = "\n".join(second)
            parts.append(f"<details><summary><b>{title}</b> (the formula; open it only if the "
                         f"first hint was not enough)</summary>\n\n{body}\n\n</details>")
    return "\n\n".join(parts) or None


def make_exercise(nb, name="solution"):
    """The exercise notebook generated from a solution notebook (a new object)."""
    ex = nbformat.v4.new_notebook(metadata=dict(nb.metadata))
    for index, cell in enumerate(nb.cells):
        if "solution" in cell.metadata.get("tags", []):
            continue
        new = nbformat.from_dict(dict(cell))
        hint_cell = None
        if cell.cell_type == "code":
            where = f"{name}, cell {index + 1}"
            new.source = stub_solutions(cell.source, where)
            hint_cell = second_hints(cell.source, where)
        elif BEGIN in cell.source:
            raise BuildError(f"{name}, cell {index + 1}: solution markers belong in code cells")
        ex.cells.append(new)
        if hint_cell:
            ex.cells.append(nbformat.v4.new_markdown_cell(hint_cell))
    banner = nbformat.v4.new_markdown_cell(EXERCISE_BANNER.format(name=name))
    ex.cells.insert(0, banner)
    return ex


def _normalise(nb, stem):
    """Give a notebook a kernelspec, pairing metadata, no outputs, and stable cell ids."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    nb.metadata["jupytext"].pop("text_representation", None)
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        digest = hashlib.sha1(f"{stem}:{i}:{cell.source}".encode()).hexdigest()[:8]
        cell["id"] = f"c{i:03d}-{digest}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("attachments", None) if cell.cell_type == "code" else None
    return nb


def targets(root=None):
    """Every generated file: a list of (path, notebook object, format)."""
    root = Path(root) if root is not None else COURSE_ROOT
    out = []
    for folder in ("notebooks", "solutions"):
        for src in sorted((root / folder).glob("*.py")):
            nb = jupytext.read(src, fmt="py:percent")
            out.append((src.with_suffix(".ipynb"), _normalise(nb, src.stem), "ipynb"))
            if folder == "solutions":
                ex = _normalise(make_exercise(nb, src.name), src.stem)
                ex_py = root / "exercises" / src.name
                out.append((ex_py, ex, "py:percent"))
                out.append((ex_py.with_suffix(".ipynb"), ex, "ipynb"))
    return out


def _text(nb, fmt):
    if fmt == "ipynb":
        return jupytext.writes(nb, fmt="ipynb")
    return jupytext.writes(nb, fmt=fmt)


def _cells(nb):
    return [(c.cell_type, c.source.strip(), {k: v for k, v in c.metadata.items()
                                             if k not in ("lines_to_next_cell",)})
            for c in nb.cells]


def _differs(path, nb, fmt):
    if not path.exists():
        return "missing"
    current = jupytext.read(path, fmt=fmt)
    if _cells(current) != _cells(nb):
        return "cells differ"
    if fmt == "ipynb":
        raw = nbformat.read(path, as_version=4)
        if any(c.get("outputs") or c.get("execution_count") for c in raw.cells
               if c.cell_type == "code"):
            return "has outputs (committed notebooks must be output-free)"
    return None


def stale_exercises(root=None):
    """Generated exercises whose solution source no longer exists."""
    root = Path(root) if root is not None else COURSE_ROOT
    sources = {p.stem for p in (root / "solutions").glob("*.py")}
    return sorted(p for p in (root / "exercises").glob("*.*")
                  if p.suffix in (".py", ".ipynb") and p.stem not in sources)


def build(root=None, check=False):
    """Regenerate everything (or, with ``check``, list what is out of date). Returns problems."""
    root = Path(root) if root is not None else COURSE_ROOT
    problems = []
    for path, nb, fmt in targets(root):
        reason = _differs(path, nb, fmt)
        if check:
            if reason:
                problems.append(f"{path.relative_to(root)}: {reason}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _text(nb, fmt)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(root)}")
    for path in stale_exercises(root):
        problems.append(f"{path.relative_to(root)}: its solution source is gone; delete it")
    return problems
