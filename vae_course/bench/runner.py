"""One benchmark run: the sections of ``sections.REGISTRY`` in order, each timed, a failing one
recorded and skipped past."""

import time
from dataclasses import dataclass, field

from ..device import get_device
from .machine import load_average, machine_info
from .sections import REGISTRY, SECTIONS


def settings(quick=False):
    """The settings of every section, ``QUICK`` or ``FULL``, in one flat dict."""
    return {key: value for section in REGISTRY
            for key, value in (section.QUICK if quick else section.FULL).items()}


@dataclass
class Context:
    """What a section's ``run(ctx)`` gets."""

    data: object                      # the MNIST in use (``load_mnist``)
    device: object
    settings: dict                    # ``settings(quick)``
    progress: bool = True
    notebook_cache: str = "fresh"     # see ``sections.notebooks.notebooks``
    notebook_paths: list = None       # None: every lecture notebook
    shared: dict = field(default_factory=dict)  # what a section leaves for a later one


def _with_needs(only):
    """The sections to run: those asked for and, before them, those they need."""
    wanted = set(only)
    for section in reversed(REGISTRY):
        if section.NAME in wanted:
            wanted.update(getattr(section, "NEEDS", ()))
    return [section for section in REGISTRY if section.NAME in wanted]


def run(quick=False, only=None, device=None, notebook_cache="fresh", notebook_paths=None,
        progress=True, on_section=None, overrides=None):
    """Run the benchmark; returns a JSON-able dict. ``on_section(results)`` is called after each
    section (the command line uses it to save partial results); ``overrides`` replaces settings
    (e.g. ``{"class_learners": [8]}``)."""
    from ..data import load_mnist

    only = list(only or [s.NAME for s in REGISTRY if not getattr(s, "OPT_IN", False)])
    unknown = set(only) - set(SECTIONS)
    if unknown:
        raise ValueError(f"only: unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    unknown = set(overrides or {}) - set(settings(quick))
    if unknown:
        raise ValueError(f"overrides: unknown settings {sorted(unknown)}")
    device = get_device(device)
    data = load_mnist(quiet=True)
    ctx = Context(data, device, {**settings(quick), **(overrides or {})}, progress,
                  notebook_cache, notebook_paths)
    results = {"quick": quick, "settings": dict(ctx.settings),
               "machine": machine_info(data, device), "section_seconds": {}, "errors": {}}

    def log(text):
        if progress:
            print(text, flush=True)

    for section in _with_needs(only):
        name = section.NAME
        if any(need in results["errors"] for need in getattr(section, "NEEDS", ())):
            continue  # what it needs failed (and is reported)
        log(f"[bench] {name} ...")
        start = time.perf_counter()
        try:
            out = section.run(ctx)
        except Exception as err:  # record it and go on with the other sections
            results["errors"][name] = f"{type(err).__name__}: {err}"
            log(f"[bench] {name} failed: {type(err).__name__}: {err}")
            out = None
        results["section_seconds"][name] = time.perf_counter() - start
        if out:
            results.update(out)
        log(f"[bench] {name} done in {results['section_seconds'][name]:.0f} s")
        if on_section:
            on_section(results)
    results["machine"]["load_after"] = load_average()
    results["total_seconds"] = sum(results["section_seconds"].values())
    return results
