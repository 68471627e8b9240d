"""Time Run All of every exercise notebook twice: as a learner first opens it (the stubs in
place, ``exercises/``) and with every task solved (``solutions/``).

    python scripts/time_exercises.py [NN ...]        e.g. python scripts/time_exercises.py 06 07

Each run is a fresh kernel with the model cache in use (run it once before timing, so the cache
is warm), timed by the bench's ``time_notebook``. Prints a markdown table with the 1-minute load
average before each run: a timing is only worth reporting on a quiet machine. The course's
targets: a few seconds with the stubs, at most 60 s solved on 2 CPU cores.
"""

import os
import sys
from pathlib import Path

from vae_course.bench.sections.notebooks import time_notebook

ROOT = Path(__file__).resolve().parent.parent
SOLVED_MAX_SECONDS = 60.0


def timed(path):
    """(seconds, load average before, error or None) of one Run All."""
    load = os.getloadavg()[0]
    seconds, error = time_notebook(path, use_cache=True)
    return seconds, load, error


def main(argv):
    stems = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")
                   if not argv or p.stem[:2] in argv)
    lines = ["| exercise | stubs (s) | solved (s) | load before stubs / solved |",
             "|---|---:|---:|---|"]
    failed = False
    for stem in stems:
        stub = timed(ROOT / "exercises" / f"{stem}.ipynb")
        solved = timed(ROOT / "solutions" / f"{stem}.ipynb")
        for kind, (_, _, error) in (("stubs", stub), ("solved", solved)):
            if error:
                print(f"{stem} ({kind}): {error}", file=sys.stderr)
                failed = True
        failed |= solved[0] > SOLVED_MAX_SECONDS
        lines.append(f"| {stem} | {stub[0]:.1f} | {solved[0]:.1f} | {stub[1]:.2f} / "
                     f"{solved[1]:.2f} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
