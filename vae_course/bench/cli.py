"""The command line of ``vae-course bench`` (see the package docstring)."""

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

import torch

from .report import render_table
from ..stopping import exit_code, signal_name, stop_on_signals
from .runner import run
from .sections import REGISTRY, SECTIONS
from .sections.notebooks import NOTEBOOK_CACHE_MODES


def _sections_help():
    """One paragraph per section, from its ``HELP``, for the end of ``--help``."""
    out = []
    for section in REGISTRY:
        lines = textwrap.dedent(section.HELP).strip().splitlines()
        out.append(f"{section.NAME:<12} {lines[0]}")
        out += [f"{'':<12} {line}" for line in lines[1:]]
    return "\n".join(out)


def _write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C half-way: the previous file stays, no stray .tmp
        tmp.unlink(missing_ok=True)
        raise


def main(argv=None):
    from . import __doc__ as doc

    parser = argparse.ArgumentParser(
        prog="vae-course bench", description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Sections:\n\n{_sections_help()}\n\n{doc.strip().split(chr(10) * 2)[-1]}\n")
    parser.add_argument("--quick", action="store_true",
                        help="a small version of every section, to check that it runs")
    parser.add_argument("--json", metavar="PATH", help="save the numbers as JSON (and the "
                        "markdown table beside it, unless --md says where)")
    parser.add_argument("--md", metavar="PATH", help="save the markdown results table")
    parser.add_argument("--table", metavar="PATH", help="print the results table of a saved "
                        "JSON run and exit (runs nothing)")
    parser.add_argument("--only", action="append", metavar="SECTION",
                        help=f"run only these sections (repeat or comma-separate): "
                             f"{', '.join(SECTIONS)}")
    parser.add_argument("--threads", type=int, help="torch threads in this process "
                        "(default: torch's choice)")
    parser.add_argument("--notebooks", nargs="+", metavar="PATH",
                        help="time these notebooks instead of notebooks/[0-9]*.ipynb")
    parser.add_argument("--notebook-cache", choices=NOTEBOOK_CACHE_MODES, default="fresh",
                        help="models the timed notebooks may load: fresh = an empty cache "
                             "filled in course order, as on a fresh clone (default); off = "
                             "each notebook trains all its models; on = the existing cache")
    parser.add_argument("--learners", metavar="K[,K...]",
                        help="the class section's numbers of learners at once (default 1,2,4,8; "
                             "e.g. --learners 8 to measure one k at a time)")
    parser.add_argument("--class-notebook", metavar="PATH",
                        help="the lecture the class section's learners run (default "
                             "notebooks/00_overview.ipynb; a path inside the course)")
    args = parser.parse_args(argv)

    if args.table:
        try:
            results = json.loads(Path(args.table).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            print(f"error: cannot read {args.table}: {err}", file=sys.stderr)
            return 2
        print(render_table(results), end="")
        return 0

    only = None
    if args.only:
        only = [s.strip() for item in args.only for s in item.split(",") if s.strip()]
        unknown = [s for s in only if s not in SECTIONS]
        if unknown:
            parser.error(f"--only: unknown section(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(SECTIONS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    md_path = args.md or (str(Path(args.json).with_suffix(".md")) if args.json else None)

    def save(results):
        if args.json:
            _write(args.json, json.dumps(results, indent=2, default=str) + "\n")
        if md_path:
            _write(md_path, render_table(results))

    overrides = {}
    if args.learners:
        try:
            overrides["class_learners"] = [int(k) for k in args.learners.split(",") if k.strip()]
        except ValueError:
            parser.error(f"--learners: whole numbers separated by commas, not {args.learners!r}")
        if not overrides["class_learners"] or min(overrides["class_learners"]) < 1:
            parser.error("--learners: at least one number, each 1 or more")
    if args.class_notebook:
        from ..paths import COURSE_ROOT

        if not (COURSE_ROOT / args.class_notebook).is_file():
            parser.error(f"--class-notebook: no {args.class_notebook} in {COURSE_ROOT}")
        overrides["class_notebook"] = Path(args.class_notebook).as_posix()
    paths = [Path(p) for p in args.notebooks] if args.notebooks else None
    try:
        with stop_on_signals():  # Ctrl-C and SIGTERM stop it; a notebook's kernel ends first
            results = run(quick=args.quick, only=only, notebook_cache=args.notebook_cache,
                          notebook_paths=paths, on_section=save, overrides=overrides)
    except KeyboardInterrupt as err:
        kept = f" The sections finished before it are in {args.json}." if args.json else ""
        print(f"\nStopped by {signal_name(err)}: the benchmark did not finish.{kept}",
              file=sys.stderr)
        return exit_code(err)
    save(results)
    print()
    print(render_table(results), end="")
    return 1 if results["errors"] else 0
