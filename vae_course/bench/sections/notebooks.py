"""Section ``notebooks``: the wall time of every lecture notebook, each in a fresh kernel."""

import time
from pathlib import Path

from ...paths import MODELS_ENV, lecture_notebooks
from ..common import environment, met

NAME = "notebooks"
HELP = """wall time of every lecture notebook, each in a fresh kernel (nbclient), in course
order from an empty model cache, as on a fresh clone (``--notebook-cache``)."""
FULL = {"notebooks": "all", "notebook_timeout": 900}  # "first": only the first notebook
QUICK = {"notebooks": "first", "notebook_timeout": 900}
TARGETS = {"notebook_max_seconds": 90.0,     # every lecture notebook
           "notebook_total_seconds": 360.0}  # all of them together

# The model-cache modes (see ``notebooks``), as the results table words them.
CACHE_WORDS = {"fresh": "in order from an empty model cache", "off": "no model cache",
               "on": "warm model cache"}
NOTEBOOK_CACHE_MODES = tuple(CACHE_WORDS)


def time_notebook(path, timeout=900, use_cache=False):
    """Execute one notebook in a fresh kernel; returns ``(seconds, error or None)``.

    With ``use_cache=False`` the notebook trains every model it needs itself; with ``True`` it
    may load models from the model cache (``$VAE_COURSE_MODELS`` or the data folder's).
    """
    import nbformat

    from ...execute import execute_notebook

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    error = None
    with environment(VAE_COURSE_NO_CACHE=None if use_cache else "1"):
        start = time.perf_counter()
        try:
            execute_notebook(nb, path.parent, timeout)
        except Exception as err:  # report it with the time; one notebook must not stop the rest
            text = str(err).strip().splitlines()
            error = f"{type(err).__name__}: {text[-1][:300] if text else ''}"
        seconds = time.perf_counter() - start
    return seconds, error


def notebooks(paths, timeout=900, cache="fresh", progress=True):
    """Wall seconds of each notebook (fresh kernel each, in the order given) and their total.

    ``cache`` says which trained models a notebook may load:

    - ``"fresh"``: an empty model cache, shared by the notebooks in order. This is a newcomer
      on a fresh clone going through the course: a model is trained by the first notebook that
      needs it and loaded by the later ones.
    - ``"off"``: nothing is loaded; every notebook trains every model it needs (the worst case:
      a learner who opens each notebook first, each on a fresh clone).
    - ``"on"``: the existing model cache (after ``vae-course prepare``, as in a lecture).
    """
    import tempfile

    from tqdm.auto import tqdm

    if cache not in NOTEBOOK_CACHE_MODES:
        raise ValueError(f"cache: expected one of {NOTEBOOK_CACHE_MODES}, got {cache!r}")
    seconds, errors = {}, {}
    with tempfile.TemporaryDirectory(prefix="vae-course-models-") as empty:
        with environment(**({MODELS_ENV: empty} if cache == "fresh" else {})):
            for path in tqdm(paths, desc="notebooks", disable=not progress, leave=False):
                s, error = time_notebook(path, timeout, use_cache=cache != "off")
                seconds[Path(path).stem] = s
                if error:
                    errors[Path(path).stem] = error
    return {"notebook_seconds": seconds, "notebook_total_seconds": sum(seconds.values()),
            "notebook_errors": errors, "notebook_cache": cache}


def run(ctx):
    paths = ctx.notebook_paths if ctx.notebook_paths is not None else lecture_notebooks()
    if ctx.settings["notebooks"] == "first":
        paths = paths[:1]
    return notebooks(paths, ctx.settings["notebook_timeout"], ctx.notebook_cache, ctx.progress)


def rows(r):
    if not r.get("notebook_seconds"):
        return []
    nbs = r["notebook_seconds"]
    slowest = max(nbs, key=nbs.get)
    errors = r.get("notebook_errors", {})
    out = [(
        f"Lecture notebooks ({len(nbs)}, fresh kernel each, "
        f"{CACHE_WORDS.get(r.get('notebook_cache'), 'model cache ?')}): slowest / total",
        f"{nbs[slowest]:.0f} s ({slowest}) / {r['notebook_total_seconds'] / 60:.1f} min"
        + (f"; {len(errors)} failed: {', '.join(sorted(errors))}" if errors else ""),
        f"≤ {TARGETS['notebook_max_seconds']:.0f} s each / ≤ "
        f"{TARGETS['notebook_total_seconds'] / 60:.0f} min",
        met(nbs[slowest] <= TARGETS["notebook_max_seconds"]
            and r["notebook_total_seconds"] <= TARGETS["notebook_total_seconds"]
            and not errors))]
    for name, s in nbs.items():
        out.append((f"  `{name}`", f"{s:.0f} s" + (" (failed)" if name in errors else ""),
                    f"≤ {TARGETS['notebook_max_seconds']:.0f} s",
                    met(s <= TARGETS["notebook_max_seconds"] and name not in errors)))
    return out
