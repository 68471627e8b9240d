"""The ``vae-course`` command.

    vae-course lab            open your workspace (copies of the notebooks) in JupyterLab
    vae-course workspace      show the workspace; --refresh NAME fetches a fresh copy
    vae-course build          regenerate notebooks and exercises from their sources
    vae-course build --check  fail if any generated file is out of date
    vae-course data           download full MNIST (needs the network; optional)
    vae-course check PATH     run an exercise notebook headlessly and report each check
    vae-course progress       run every exercise in your workspace: one table of all tasks
                              (also `vae-course check` with no notebook)
    vae-course slides         build offline reveal.js slide decks into build/slides/
    vae-course prepare        train and cache every model the lectures use (before class)
    vae-course bench          measure speed and quality (see README, "Results")
    vae-course hub            a trial class on this machine with JupyterHub
    vae-course grade DIR      grade a class's exercise notebooks into a CSV and a class report
"""

import argparse
import sys

from .paths import is_checkout


def cmd_lab(args, extra):
    """Bring the learner's workspace up to date, then become JupyterLab on it."""
    from . import lab
    from .workspace import WorkspaceError, sync

    if not is_checkout():
        print("vae-course lab needs the course checkout (git clone ..., then `make lab`).",
              file=sys.stderr)
        return 2
    try:
        report = sync()
    except (WorkspaceError, OSError) as err:
        print(f"error: cannot prepare the workspace: {err}", file=sys.stderr)
        return 2
    start = (args.notebook or lab.START).replace("\\", "/").lstrip("/")
    if not (report.work / start).is_file():
        print(f"error: {start} is not in your workspace {report.work}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    print(f"Your workspace is {report.work}: your own copies of the course's notebooks; "
          f"saving writes only there.\nStarting JupyterLab on {start}; stop it with Ctrl-C.",
          flush=True)
    return lab.run(lab.lab_arguments(report.work, start, args.port, extra), report.work)


def cmd_workspace(args, extra):
    """Show the workspace (creating or completing it), or refresh one notebook in it."""
    from .workspace import WorkspaceError, refresh, sync

    try:
        if args.refresh:
            name, backup = refresh(args.refresh)
            kept = f"; yours is kept as {backup}" if backup else ""
            print(f"{name}: fresh copy from the course{kept}.")
            return 0
        report = sync()
    except (WorkspaceError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Workspace: {report.work}")
    for line in report.lines():
        print(line)
    if not report.changed:
        print(f"All {report.kept + len(report.copied)} notebooks are there; none has a newer "
              "version in the course.")
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
    from .stopping import exit_code, signal_name, stop_on_signals

    with stop_on_signals():  # SIGTERM too: the half-done download is cleaned up
        try:
            raw = download_mnist(force=args.force, mirror=args.mirror, timeout=args.timeout)
            print(f"Full MNIST is in {raw}.")
            load_mnist()
        except (MNISTFilesError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt as err:
            print(f"Stopped by {signal_name(err)}: the download was thrown away and the data "
                  f"folder is as it was before.", file=sys.stderr)
            return exit_code(err)
    return 0


def positive_seconds(text):
    """argparse type for ``--timeout``: seconds > 0 (2.5 is fine; 0, negatives, nan, inf are
    refused: nbclient would read 0 or a negative value as "no timeout at all")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}"
                                         ) from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def course_models():
    """Every cached model the lectures and widgets load, as (label, function that returns it
    trained). ``vae-course prepare`` calls each one; a model already in the cache just loads.
    A notebook that starts using another course model should add it here."""
    from . import course_models as trained

    models = [("digit ruler (classifier that scores generated digits)", trained.digit_ruler),
              ("autoencoder, 2-D latent (notebook 01)", trained.autoencoder),
              ("autoencoder, 16-D latent, 2,000 steps (notebooks 01, 06)",
               lambda: trained.autoencoder(latent_dim=16, steps=2000)),
              ("VAE, 2-D latent (notebooks 02, 03, 08)", trained.vae),
              ("VAE, 16-D latent (notebook 06)", lambda: trained.vae(latent_dim=16)),
              ("VAE without the 7s, 16-D latent (notebook 06's anomaly detector)",
               trained.vae_without_digit)]
    for d in (2, 8, 32):
        models.append((f"VAE, {d}-D latent, 1,000 steps (notebook 09)",
                       lambda d=d: trained.vae(latent_dim=d, steps=1000)))
    for beta in trained.SPRITES_BETAS:
        models.append((f"sprites β-VAE, β = {beta:g} (notebooks 05, 08)",
                       lambda beta=beta: trained.sprites_vae(beta)))
    return models


def cmd_prepare(args, extra):
    """Train (or load) every model in ``course_models()``, on ``get_device()``.

    Ctrl-C or SIGTERM stops it: the model in training is not cached and not reported ready
    (``fit`` returns early on Ctrl-C, so the stop is recorded by ``stop_on_signals``), one line
    says how many are ready and how many are not, and the exit status is 130 (143 for SIGTERM).
    """
    import time

    from .device import get_device
    from .stopping import Stopped, exit_code, signal_name, stop_on_signals

    models = course_models()
    if args.list:
        for label, _ in models:
            print(label)
        return 0
    from .paths import data_dir, models_dir

    try:  # a bad VAE_COURSE_DEVICE / _DATA / _MODELS stops us here, not once per model
        device = get_device()  # every model trains here
        data_dir(), models_dir()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Preparing {len(models)} models on {device} (each trains once, then loads from the "
          f"cache).", flush=True)
    ready, failed, current = [], [], None
    with stop_on_signals() as stop:
        try:
            for i, (label, make) in enumerate(models, 1):
                current, start = label, time.perf_counter()
                try:
                    make()
                except KeyboardInterrupt:
                    raise
                except Exception as err:  # keep going: the other models are still worth having
                    failed.append(label)
                    print(f"[{i}/{len(models)}] {label}: FAILED ({type(err).__name__}: {err})",
                          file=sys.stderr)
                    continue
                if stop:  # fit caught the Ctrl-C and returned a half-trained, uncached model
                    raise Stopped(stop.signal)
                ready.append(label)
                print(f"[{i}/{len(models)}] {label}: ready ({time.perf_counter() - start:.1f} s)",
                      flush=True)
            current = None
        except KeyboardInterrupt as err:
            rest = len(models) - len(ready) - len(failed)
            during = f' during "{current}" (not cached)' if current else ""
            print(f"Stopped by {signal_name(err)}{during}: {len(ready)} of "
                  f"{len(models)} models ready, {rest} not prepared"
                  + (f", {len(failed)} failed" if failed else "")
                  + ". Run `vae-course prepare` again to finish; ready models load from the "
                    "cache.", file=sys.stderr)
            return exit_code(err)
    print(f"Models are cached in {models_dir()}." if not failed else
          f"{len(failed)} model(s) failed; the notebooks will train them when they run.")
    return 1 if failed else 0


CHECK_OPTIONS_WITH_VALUES = ("--timeout", "--max-output", "--kernel")


def route_check(rest):
    """Arguments of ``vae-course check`` -> (module to run, its arguments). Without a notebook
    it is ``progress`` (every exercise in the workspace); a notebook that is not a path but names
    an exercise in the workspace (``03_elbo``, ``exercises/03_elbo.ipynb``) is that copy."""
    from pathlib import Path

    positional = [i for i, a in enumerate(rest) if not a.startswith("-") and
                  not (i and rest[i - 1] in CHECK_OPTIONS_WITH_VALUES)]
    if not positional:
        return ("checks.notebook_runner" if {"-h", "--help"} & set(rest) else "progress"), rest
    i = positional[0]
    if not Path(rest[i]).exists():
        from .workspace import workspace_dir

        work = workspace_dir()
        name = rest[i] if rest[i].endswith((".ipynb", ".py")) else rest[i] + ".ipynb"
        for candidate in (work / name, work / "exercises" / name):
            if candidate.is_file():
                return "checks.notebook_runner", rest[:i] + [str(candidate)] + rest[i + 1:]
    return "checks.notebook_runner", rest


# Commands whose arguments their own module parses: name -> (module in vae_course, help).
DELEGATED = {"check": ("checks.notebook_runner", "run an exercise notebook's checks (no "
                                                 "notebook: every exercise, as progress)"),
             "progress": ("progress", "run every exercise in your workspace: one table of "
                                      "tasks"),
             "slides": ("slides", "build offline slide decks"),
             "bench": ("bench", "measure speed and quality")}
# Teaching a class: JupyterHub and grading.
DELEGATED.update({"hub": ("hub", "a trial class on this machine with JupyterHub"),
                  "grade": ("grade", "grade a class's exercise notebooks")})


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

    p = sub.add_parser("lab", help="open your workspace in JupyterLab (extra args go to "
                                   "JupyterLab)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--notebook", help="notebook to open, relative to the workspace "
                                      "(default notebooks/00_overview.ipynb)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("workspace", help="show your workspace; --refresh NAME fetches a fresh "
                                         "copy of one notebook")
    p.add_argument("--refresh", metavar="NAME",
                   help="e.g. exercises/03_elbo: replace your copy by the course's, keeping "
                        "yours in backups/")
    p.set_defaults(func=cmd_workspace)

    p = sub.add_parser("build", help="regenerate .ipynb files and exercises from .py sources")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 on any drift")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("data", help="download full MNIST into the course data folder")
    p.add_argument("--force", action="store_true",
                   help="download again, moving the old files aside as *.bad")
    p.add_argument("--timeout", type=positive_seconds, default=60.0,
                   help="seconds to wait for the server on each network operation (default 60)")
    p.add_argument("--mirror", help="a URL serving MNIST's *.gz files (default: torchvision's)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("prepare", help="train and cache the course's models ahead of class")
    p.add_argument("--list", action="store_true", help="only list the models")
    p.set_defaults(func=cmd_prepare)

    for name, (module, text) in DELEGATED.items():
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegate(module))

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "check":
        module, rest = route_check(argv[1:])
        return _delegate(module)(argparse.Namespace(rest=rest), [])
    if argv and argv[0] in DELEGATED:  # hand their arguments over untouched and in order
        return _delegate(DELEGATED[argv[0]][0])(argparse.Namespace(rest=argv[1:]), [])
    args, extra = parser.parse_known_args(argv)
    if args.command not in ("lab",) and extra and args.command not in DELEGATED:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    return args.func(args, extra)


if __name__ == "__main__":
    sys.exit(main())
