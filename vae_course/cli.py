"""The ``vae-course`` command.

    vae-course lab            open the course in JupyterLab
    vae-course build          regenerate notebooks and exercises from their sources
    vae-course build --check  fail if any generated file is out of date
    vae-course data           download full MNIST (needs the network; optional)
    vae-course check PATH     run an exercise notebook headlessly and report each check
    vae-course slides         build offline reveal.js slide decks into build/slides/
    vae-course bench          measure speed and quality (see README, "Results")
"""

import argparse
import subprocess
import sys

from .paths import COURSE_ROOT, is_checkout


def cmd_lab(args, extra):
    if not is_checkout():
        print("vae-course lab needs the course checkout (git clone ..., then `make lab`).",
              file=sys.stderr)
        return 2
    start = args.notebook or "notebooks/00_overview.ipynb"
    if not (COURSE_ROOT / start).exists():
        start = "notebooks"
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={COURSE_ROOT}",
               *extra]
    if not any(a.startswith("--port") for a in extra):
        command.append(f"--port={args.port}")
    print(f"Starting JupyterLab on the course (opening {start}); stop it with Ctrl-C.")
    command.append(str(COURSE_ROOT / start) if start != "notebooks" else "")
    try:
        return subprocess.call([c for c in command if c])
    except KeyboardInterrupt:
        return 0


def cmd_build(args, extra):
    from .build import BuildError, build

    try:
        problems = build(check=args.check)
    except BuildError as err:
        print(f"build failed: {err}", file=sys.stderr)
        return 1
    if problems:
        print("Out of date (run `vae-course build` and commit the result):", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("Everything is up to date." if args.check else "Build done.")
    return 0


def cmd_data(args, extra):
    from .data import MNISTFilesError, download_mnist, load_mnist

    try:
        raw = download_mnist(force=args.force)
        print(f"Full MNIST is in {raw}.")
        load_mnist()
    except MNISTFilesError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _delegate(module_name):
    def run(args, extra):
        import importlib

        module = importlib.import_module(f"vae_course.{module_name}")
        return module.main(args.rest + extra)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="vae-course", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lab", help="open the course in JupyterLab (extra args go to JupyterLab)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--notebook", help="notebook to open, relative to the course folder")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("build", help="regenerate .ipynb files and exercises from .py sources")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 on any drift")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("data", help="download full MNIST into the course data folder")
    p.add_argument("--force", action="store_true",
                   help="download again, moving the old files aside as *.bad")
    p.set_defaults(func=cmd_data)

    for name, module, text in (("check", "checker", "run an exercise notebook's checks"),
                               ("slides", "slides", "build offline slide decks"),
                               ("bench", "bench", "measure speed and quality")):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegate(module))

    args, extra = parser.parse_known_args(argv)
    if args.command not in ("lab",) and extra and args.command not in ("check", "slides",
                                                                       "bench"):
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    return args.func(args, extra)


if __name__ == "__main__":
    sys.exit(main())
