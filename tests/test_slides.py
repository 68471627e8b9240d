"""Offline slide decks: solutions dropped, notes kept, every asset local."""

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from vae_course import slides
from vae_course.slides import (WIDGET_MARK, build_deck, deck_notebook, expected_slides,
                               lecture_notebooks, remote_resources, speaker_note_count)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def cell(kind, source, slide=None, tags=None, outputs=None):
    metadata = {}
    if slide:
        metadata["slideshow"] = {"slide_type": slide}
    if tags:
        metadata["tags"] = tags
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(source, metadata=metadata)
    return nbformat.v4.new_code_cell(source, metadata=metadata, outputs=outputs or [])


def toy_notebook():
    """3 slides (the first cell opens one) and 2 sub-slides, 2 notes, 1 solution, 1 skip."""
    return nbformat.v4.new_notebook(cells=[
        cell("code", "import secret_setup", slide="skip"),
        cell("markdown", "# Title slide with $\\mu + \\sigma \\varepsilon$", slide="slide"),
        cell("markdown", "TALKING-POINT-ONE for the instructor", slide="notes"),
        cell("markdown", "a fragment", slide="fragment"),
        cell("markdown", "## Second slide", slide="slide"),
        cell("code", "answer = 42  # SOLUTION-ONLY", slide="subslide", tags=["solution"]),
        cell("markdown", "### A sub-slide", slide="subslide"),
        cell("code", "print(1)", outputs=[
            nbformat.v4.new_output("stream", name="stderr", text="PROGRESS-BAR 100%"),
            nbformat.v4.new_output("stream", name="stdout", text="PRINTED-OUTPUT\n"),
            nbformat.v4.new_output("display_data", data={
                WIDGET_VIEW: {"model_id": "a"}, "text/plain": "HBox(children=(TQDM-BAR,))"}),
            nbformat.v4.new_output("display_data", data={
                WIDGET_VIEW: {"model_id": "b"},
                "text/plain": f"{WIDGET_MARK} latent explorer: run it in JupyterLab"}),
        ]),
        cell("markdown", "### Another sub-slide", slide="subslide"),
        cell("markdown", "TALKING-POINT-TWO", slide="notes"),
        cell("markdown", "## Third slide", slide="slide"),
    ])


@pytest.fixture(scope="module")
def toy_deck(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decks")
    path = folder / "toy.ipynb"
    nbformat.write(toy_notebook(), path)
    deck = build_deck(path, folder / "slides")
    return deck, deck.read_text(encoding="utf-8")


def test_counts_follow_the_slide_metadata():
    nb = toy_notebook()
    # slides: title, second, third; sub-slides: two (the solution-tagged one is dropped)
    assert expected_slides(nb) == 3 + 2
    assert speaker_note_count(nb) == 2
    nb.cells[6].metadata["tags"] = ["solution"]  # dropping a sub-slide removes it from the count
    assert expected_slides(nb) == 3 + 1


def test_deck_drops_solutions_and_skipped_cells_and_keeps_notes(toy_deck):
    _, page = toy_deck
    assert "SOLUTION-ONLY" not in page
    assert "secret_setup" not in page
    notes = re.findall(r'<aside class="notes">(.*?)</aside>', page, re.S)
    assert len(notes) == 2
    assert "TALKING-POINT-ONE" in notes[0] and "TALKING-POINT-TWO" in notes[1]


def test_deck_sections_match_the_expected_slide_count(toy_deck):
    _, page = toy_deck
    # nbconvert writes two <section>s per slide (the column and its first slide) and one per
    # sub-slide; reveal.js counts 3 + 2.
    assert page.count("<section") == 2 * 3 + 2


def test_deck_outputs_keep_course_widgets_and_drop_progress_bars(toy_deck):
    _, page = toy_deck
    assert "PRINTED-OUTPUT" in page
    assert WIDGET_MARK in page
    assert "TQDM-BAR" not in page and "PROGRESS-BAR" not in page


def test_deck_loads_nothing_from_the_network(toy_deck):
    deck, page = toy_deck
    assert remote_resources(page) == []
    for needle in ("unpkg.com", "cdnjs", "cdn.jsdelivr", "require.js", "jquery",
                   "fonts.googleapis"):
        assert needle not in page.lower(), needle


def test_every_local_asset_the_deck_names_exists(toy_deck):
    deck, page = toy_deck
    refs = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', page)
    assert any(r.endswith("reveal.js/dist/reveal.js") for r in refs)
    assert any(r.endswith("reveal.js/plugin/notes/notes.js") for r in refs)
    assert any("mathjax/MathJax.js" in r for r in refs)
    assert any(r.endswith("reveal.js/dist/theme/white.css") for r in refs)
    for ref in refs:
        url = urlparse(ref)
        assert not url.scheme and not url.netloc, ref
        assert (deck.parent / unquote(url.path)).is_file(), ref
    mathjax = deck.parent / "mathjax"
    config = re.search(r"config=([\w-]+)", page).group(1)
    assert (mathjax / "config" / f"{config}.js").is_file()


def test_remote_resources_catches_cdn_assets_but_not_links():
    page = """<a href="https://example.org/paper">a link is not fetched</a>
    <script src="https://unpkg.com/reveal.js/dist/reveal.js"></script>
    <link rel="stylesheet" href="//cdn.example.com/x.css">
    <style>@import url(https://fonts.googleapis.com/css?family=Lato);</style>
    <img src='http://example.com/a.png'>
    <script type="module">import mermaid from 'https://cdn.jsdelivr.net/npm/mermaid';</script>
    <script src="reveal.js/dist/reveal.js"></script>"""
    found = remote_resources(page)
    assert len(found) == 5
    assert not any("example.org/paper" in f for f in found)


def test_deck_notebook_does_not_touch_the_original():
    nb = toy_notebook()
    before = nbformat.writes(nb)
    deck_notebook(nb)
    assert nbformat.writes(nb) == before


def test_main_builds_the_named_decks_and_an_index(tmp_path, capsys):
    path = tmp_path / "toy.ipynb"
    nbformat.write(toy_notebook(), path)
    assert slides.main([str(path), "--out", str(tmp_path / "out"), "--no-execute"]) == 0
    assert (tmp_path / "out" / "toy.slides.html").is_file()
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'href="toy.slides.html"' in index
    out = capsys.readouterr().out
    assert "5 slides, 2 speaker notes" in out and "1 deck(s) built in" in out
    assert slides.main([str(tmp_path / "missing.ipynb"), "--out", str(tmp_path / "o2"),
                        "--no-execute"]) == 1


def test_main_runs_each_notebook_by_default_so_decks_show_outputs(tmp_path, capsys):
    """The default build executes: the deck carries the printed number and the figure of the
    run, a progress bar counts the code cells, and the total time is stated."""
    nb = nbformat.v4.new_notebook(cells=[
        cell("markdown", "# Executed deck", slide="slide"),
        cell("code", "import matplotlib.pyplot as plt\nprint('ANSWER', 6 * 7)"),
        cell("code", "plt.plot([0, 1], [1, 0]); plt.show()", slide="subslide"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "run_me.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert slides.main([str(path), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    page = (tmp_path / "out" / "run_me.slides.html").read_text(encoding="utf-8")
    assert "ANSWER 42" in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    assert "run_me" in captured.err and "2/2" in captured.err  # the notebook's progress bar
    assert re.search(r"1 deck\(s\) run and built in \d+ s", captured.out)
    assert path.read_bytes() == before  # the notebook on disk keeps no outputs


@pytest.mark.parametrize("path", lecture_notebooks(), ids=lambda p: Path(p).stem)
def test_every_lecture_notebook_is_a_deck_with_speaker_notes(path):
    nb = nbformat.read(path, as_version=4)
    assert expected_slides(nb) >= 3, "a lecture needs slide metadata on its # %% headers"
    assert speaker_note_count(nb) >= 1, "a lecture needs speaker notes for the instructor"
