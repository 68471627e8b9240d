"""The ``vae-course`` command.

    vae-course lab            open the course in JupyterLab
    vae-course build          regenerate notebooks and exercises from their sources
    vae-course build --check  fail if any generated file is out of date
    vae-course data           download full MNIST (needs the network; optional)
    vae-course check PATH     run an exercise notebook headlessly and report each check
    vae-course slides         build offline reveal.js slide decks into build/slides/
    vae-course prepare        train and cache every model the lectures use (before class)
    vae-course bench          measure speed and quality (see README, "Results")
"""

import argparse
import os
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
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")  # JupyterLab refuses root otherwise (containers, CI)
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
              ("VAE, 16-D latent (notebook 06)", lambda: trained.vae(latent_dim=16))]
    for d in (2, 8, 32):
        models.append((f"VAE, {d}-D latent, 1,000 steps (notebook 09)",
                       lambda d=d: trained.vae(latent_dim=d, steps=1000)))
    for beta in trained.SPRITES_BETAS:
        models.append((f"sprites β-VAE, β = {beta:g} (notebooks 05, 08)",
                       lambda beta=beta: trained.sprites_vae(beta)))
    return models


def cmd_prepare(args, extra):
    import time

    models = course_models()
    if args.list:
        for label, _ in models:
            print(label)
        return 0
    print(f"Preparing {len(models)} models (each trains once, then loads from the cache).")
    failed = 0
    for i, (label, make) in enumerate(models, 1):
        start = time.perf_counter()
        try:
            make()
        except Exception as err:  # keep going: the other models are still worth having
            failed += 1
            print(f"[{i}/{len(models)}] {label}: FAILED ({type(err).__name__}: {err})",
                  file=sys.stderr)
            continue
        print(f"[{i}/{len(models)}] {label}: ready ({time.perf_counter() - start:.1f} s)")
    from .paths import models_dir

    print(f"Models are cached in {models_dir()}." if not failed else
          f"{failed} model(s) failed; the notebooks will train them when they run.")
    return 1 if failed else 0


# Commands whose arguments their own module parses: name -> (module in vae_course, help).
DELEGATED = {"check": ("checks.notebook_runner", "run an exercise notebook's checks"),
             "slides": ("slides", "build offline slide decks"),
             "bench": ("bench", "measure speed and quality")}


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

    p = sub.add_parser("prepare", help="train and cache the course's models ahead of class")
    p.add_argument("--list", action="store_true", help="only list the models")
    p.set_defaults(func=cmd_prepare)

    for name, (module, text) in DELEGATED.items():
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_delegate(module))

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in DELEGATED:  # hand their arguments over untouched and in order
        return _delegate(DELEGATED[argv[0]][0])(argparse.Namespace(rest=argv[1:]), [])
    args, extra = parser.parse_known_args(argv)
    if args.command not in ("lab",) and extra and args.command not in DELEGATED:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    return args.func(args, extra)


if __name__ == "__main__":
    sys.exit(main())
