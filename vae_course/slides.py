"""Offline reveal.js slide decks from the lecture notebooks.

    vae-course slides                       every notebooks/*.ipynb -> build/slides/
    vae-course slides notebooks/08_*.ipynb  only the named notebooks
    vae-course slides --execute             run each notebook first so the deck shows its figures
    vae-course slides --out DIR             write somewhere else

Each deck is ``<out>/<name>.slides.html``; ``<out>/index.html`` lists them all. A deck is made
for a classroom without internet:

* reveal.js (with its speaker-notes plugin) is copied from the ``sphinx-revealjs`` package and
  MathJax from ``jupyter-server-mathjax`` into ``<out>/`` beside the decks — both are installed
  with the course, so nothing is fetched from a CDN, and the folder can be copied to a USB stick;
* nbconvert's reveal template also loads require.js, jQuery, Mermaid and the widget manager from
  CDNs: the template below replaces those parts, and :func:`remote_resources` checks that no
  ``http(s)`` resource is left in the page;
* cells tagged ``solution`` are dropped; speaker notes (cells with slide type ``notes``) are kept
  and show in reveal's speaker view (press ``S``).
"""

import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

from .paths import COURSE_ROOT, lecture_notebooks

SOLUTION_TAG = "solution"
ASSET_DIRS = {"reveal": "reveal.js", "mathjax": "mathjax"}
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
WIDGET_MARK = "[interactive widget]"  # the text/plain of the course widgets starts with this

# nbconvert's reveal template, with every CDN asset replaced by a local one or removed.
# (Template blocks as in nbconvert 7's share/jupyter/nbconvert/templates/reveal/index.html.j2.)
OFFLINE_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_css -%}
<style type="text/css">
.reveal .slides h1, .reveal .slides h2, .reveal .slides h3, .reveal .slides h4 { text-transform: none; }
.reveal .slides img { max-height: 70vh; }
</style>
{%- endblock html_head_css -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
    tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
              processEscapes: true, processEnvironments: true},
    "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
    displayAlign: "center", messageStyle: "none", menuSettings: {zoom: "None"}
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
    controls: true, progress: true, history: true, hash: true,
    transition: "{{ resources.reveal.transition }}",
    slideNumber: "{{ resources.reveal.number }}",
    width: {{ resources.reveal.width | default('1100', true) }},
    height: {{ resources.reveal.height | default('760', true) }},
    plugins: [RevealNotes]
});
Reveal.on('slidechanged', function () {
    if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Rerender", MathJax.Hub, Reveal.getCurrentSlide()]); }
});
</script>
{% endblock footer_js %}
"""

# A resource the browser would fetch by itself: script/img/iframe src, link href, CSS url()/@import.
_RESOURCE = re.compile(
    r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*?\bsrc\s*=\s*["']?(https?:)?//"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']?(https?:)?//"""
    r"""|url\(\s*["']?(https?:)?//|@import\s+["'](https?:)?//"""
    r"""|\bimport\s[^;]*?from\s+["'](https?:)?//""",
    re.IGNORECASE)


class SlidesError(RuntimeError):
    """A deck could not be built (missing asset package, unreadable notebook...)."""


def asset_sources():
    """Folders of the local reveal.js and MathJax copies shipped inside installed packages."""
    try:
        import jupyter_server_mathjax
        import sphinx_revealjs
    except ImportError as err:
        raise SlidesError(f"{err.name} is not installed; it carries the offline copy of "
                          f"reveal.js/MathJax. Run `pip install -e .` (or `make lab`).") from None
    reveal = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
    mathjax = Path(jupyter_server_mathjax.__file__).parent / "static"
    for folder, needed in ((reveal, "dist/reveal.js"), (reveal, "plugin/notes/notes.js"),
                           (mathjax, "MathJax.js")):
        if not (folder / needed).is_file():
            raise SlidesError(f"{folder / needed} is missing; reinstall the package that "
                              f"provides it (sphinx-revealjs / jupyter-server-mathjax).")
    return {"reveal": reveal, "mathjax": mathjax}


def copy_assets(out_dir):
    """Copy reveal.js (dist + notes plugin) and MathJax into ``out_dir``; return the folders.

    A copy that already came from the same installed package is left alone."""
    out_dir = Path(out_dir)
    sources = asset_sources()
    copied = {}
    for key, source in sources.items():
        target = out_dir / ASSET_DIRS[key]
        stamp = target / ".copied-from"
        origin = f"{source} {source.stat().st_mtime_ns}"
        if not (stamp.is_file() and stamp.read_text() == origin):
            parts = ("dist", "plugin/notes", "LICENSE") if key == "reveal" else (".",)
            for part in parts:
                src, dst = source / part, target / part
                if src.is_dir():
                    shutil.copytree(src, dst, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("*.map", "*.scss"))
                elif src.is_file():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
            stamp.write_text(origin)
        copied[key] = target
    return copied


def slide_type(cell):
    return (cell.get("metadata", {}).get("slideshow") or {}).get("slide_type", "-")


def deck_notebook(nb):
    """The notebook as the deck shows it (a copy): ``solution`` cells dropped, widget outputs
    replaced by a short line (a static page cannot run a kernel), stderr (progress bars,
    warnings) dropped."""
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                text = data.get("text/plain", "")
                text = "".join(text) if isinstance(text, list) else text
                if not text.startswith(WIDGET_MARK):
                    continue  # e.g. a tqdm progress bar
                out = nbformat.v4.new_output("display_data", data={
                    "text/html": f"<p><em>{html.escape(text)}</em></p>", "text/plain": text})
            outputs.append(out)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return nb


def expected_slides(nb):
    """How many slides reveal.js will count (``Reveal.getTotalSlides()``) for this notebook.

    nbconvert opens a slide at the first cell that is not ``skip``/``notes`` and at every later
    ``slide`` or ``subslide`` cell; reveal counts each of those sections once.
    """
    cells = deck_notebook(nb).cells
    visible = [i for i, c in enumerate(cells) if slide_type(c) not in ("skip", "notes")]
    if not visible:
        return 0
    return 1 + sum(slide_type(c) in ("slide", "subslide") for c in cells[visible[0] + 1:])


def speaker_note_count(nb):
    """Number of speaker-note cells the deck keeps."""
    return sum(slide_type(c) == "notes" for c in deck_notebook(nb).cells)


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(extra_loaders=[DictLoader({"vae_offline.html.j2":
                                                         OFFLINE_TEMPLATE})],
                              template_file="vae_offline.html.j2")
    exporter.reveal_url_prefix = ASSET_DIRS["reveal"]
    exporter.reveal_theme = "white"  # "simple" would import Google fonts
    exporter.reveal_transition = "none"
    exporter.reveal_number = "c/t"
    exporter.mathjax_url = f"{ASSET_DIRS['mathjax']}/MathJax.js?config={MATHJAX_CONFIG}"
    exporter.require_js_url = exporter.jquery_url = ""
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    return exporter


def execute_notebook(nb, path, timeout=900):
    """Run a notebook in a fresh kernel (from its own folder) so the deck shows its outputs."""
    from .execute import execute_notebook as run

    return run(nb, Path(path).parent, timeout)


def remote_resources(page):
    """Snippets of an HTML page that would make a browser fetch something over the network."""
    return [m.group(0) for m in _RESOURCE.finditer(page)]


def build_deck(notebook, out_dir=None, execute=False):
    """Build one offline deck; returns the path of the ``.slides.html`` file."""
    notebook = Path(notebook)
    out_dir = Path(out_dir) if out_dir is not None else COURSE_ROOT / "build" / "slides"
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as err:
        raise SlidesError(f"cannot read {notebook}: {err}") from err
    if execute:
        nb = execute_notebook(nb, notebook)
    nb = deck_notebook(nb)
    copy_assets(out_dir)
    page, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    remote = remote_resources(page)
    if remote:
        raise SlidesError(f"{notebook.name}: the deck would load from the network: "
                          f"{', '.join(sorted(set(remote)))[:300]}")
    target = out_dir / f"{notebook.stem}.slides.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def write_index(out_dir, decks):
    """A small offline page linking every deck."""
    items = "\n".join(f'<li><a href="{d.name}">{html.escape(d.stem.replace(".slides", ""))}'
                      f"</a></li>" for d in decks)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>vae-course slides</title></head>\n<body style=\"font-family: sans-serif\">"
            "<h1>vae-course slides</h1>\n<p>Press <kbd>S</kbd> in a deck for the speaker view "
            "(notes, timer, next slide), <kbd>Esc</kbd> for the overview.</p>\n"
            f"<ul>\n{items}\n</ul></body></html>\n")
    path = Path(out_dir) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="vae-course slides",
                                     description="Build offline reveal.js decks (solutions "
                                                 "hidden, speaker notes kept).")
    parser.add_argument("notebooks", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--out", default=None, help="output folder (default: build/slides)")
    parser.add_argument("--execute", action="store_true",
                        help="run each notebook first so the deck shows figures "
                             "(about a minute per notebook; `vae-course prepare` first helps)")
    args = parser.parse_args(argv)
    out_dir = Path(args.out) if args.out else COURSE_ROOT / "build" / "slides"
    notebooks = [Path(p) for p in args.notebooks] or lecture_notebooks()
    if not notebooks:
        print("No lecture notebooks found (notebooks/*.ipynb).", file=sys.stderr)
        return 1
    decks, failed = [], 0
    for path in notebooks:
        start = time.perf_counter()
        try:
            deck = build_deck(path, out_dir, execute=args.execute)
        except Exception as err:  # one broken notebook should not stop the others
            print(f"FAILED {path}: {type(err).__name__}: {str(err)[:500]}", file=sys.stderr)
            failed += 1
            continue
        nb = nbformat.read(path, as_version=4)
        print(f"{deck}  ({expected_slides(nb)} slides, {speaker_note_count(nb)} speaker notes, "
              f"{time.perf_counter() - start:.1f} s)")
        decks.append(deck)
    if decks:
        every = sorted(out_dir.glob("*.slides.html"))
        print(f"Open {write_index(out_dir, every)} in a browser (works offline).")
    return 1 if failed else 0
