"""Slide decks and widgets as Chromium shows them (Debian's Chromium driven by Playwright; files
and localhost only).

(a) A deck built from an *executed* notebook opens from a file:// URL with the network off and
    every http(s) request refused: reveal.js starts; a figure (an <img> with a real size) and a
    printed number are on the slides; fractions are typeset by MathJax with a bar that is drawn
    in ink; code longer than a slide scrolls inside it; and the speaker view (S) shows the notes
    with their equations typeset. A small notebook made here keeps this fast; the full build of
    every lecture is timed by hand (INSTRUCTOR.md).
(b) A text-only deck of a real lecture has the slides and speaker notes its notebook says.
(c) Notebook 08 after Run All in JupyterLab: each widget shows the state its cell's code left
    it in (the latent explorer at the origin, the interpolation at t = 0.5), in the page and in
    the kernel.

Screenshots go to test-artifacts/. Without Chromium (or Playwright) the tests skip and say why.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from vae_course.paths import COURSE_ROOT
from vae_course.slides import build_deck, expected_slides, speaker_note_count

pytestmark = pytest.mark.browser

NOTEBOOK_08 = COURSE_ROOT / "notebooks" / "08_latent_explorer.ipynb"
LAB_START_TIMEOUT = 90  # seconds until the server answers
RUN_ALL_TIMEOUT = 600  # seconds for notebook 08 (its models train first on a cold cache)
PAGE_TIMEOUT = 120_000  # ms; generous, for a machine busy with other work
INK = 110  # a pixel darker than this (0 black, 255 white) is ink, not background or a smear


def open_offline(browser, path, viewport=(1366, 768)):
    """Open a file:// page in a browser context that is offline (every http(s) request fails).
    Returns (page, context, web): ``web`` collects every http(s)/websocket URL that the page,
    its frames or its pop-ups (the speaker view) asked for.

    The network is cut by the browser's offline mode, not by a Playwright route: routing file
    URLs through Playwright keeps the speaker view's scripts from loading at all."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_offline(True)
    web = []
    context.on("request", lambda request: request.url.startswith(
        ("http:", "https:", "ws:", "wss:")) and web.append(request.url))
    page = context.new_page()
    page.goto(Path(path).resolve().as_uri(), wait_until="domcontentloaded", timeout=PAGE_TIMEOUT)
    return page, context, web


def wait_for_deck(page):
    """Until reveal.js is ready and MathJax has typeset everything it was given."""
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=PAGE_TIMEOUT)
    wait_for_mathjax(page)


def wait_for_mathjax(page):
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue",
                           timeout=PAGE_TIMEOUT)
    page.evaluate("() => { window.__typeset = false;"
                  " MathJax.Hub.Queue(() => { window.__typeset = true; }); }")
    page.wait_for_function("() => window.__typeset === true", timeout=PAGE_TIMEOUT)


def go_to(page, selector, text=""):
    """Show the slide holding the first element that matches ``selector`` (and contains
    ``text``), every fragment shown; returns its (h, v) indices."""
    h, v = page.evaluate("""([sel, text]) => {
        const el = [...document.querySelectorAll(sel)].find(e => e.textContent.includes(text));
        const i = Reveal.getIndices(el.closest('section')); return [i.h, i.v || 0]; }""",
                         [selector, text])
    page.evaluate(f"Reveal.slide({h}, {v}, 999)")
    page.wait_for_timeout(400)
    wait_for_mathjax(page)  # a slide change re-renders the slide's equations
    return h, v


def darkest_pixel(page, box, path):
    """Screenshot the page and return the darkest grey level inside ``box`` (x, y, w, h in CSS
    px, widened by one pixel up and down)."""
    page.screenshot(path=str(path))
    x, y, w, h = box
    crop = Image.open(path).convert("L").crop((int(x) + 1, int(y) - 1, int(x + w) - 1,
                                               int(y + max(h, 1)) + 2))
    return min(crop.getextrema())


# ------------------------------------------------------- (a) a deck from an executed notebook

EQUATION = (r"$$\mathcal L = \underbrace{\tfrac1B \textstyle\sum_b -\log p(x_b|z_b)}_{\text{recon}}"
            r" + \frac{1}{2}\,\overline{\mathrm{KL}}_j$$")
NOTES_MATH = r"Ask what $\frac{1}{B}$ does to $\overline{\mathrm{KL}}_j$."
LONG_CODE = "\n".join(f"line_{i:02d} = {i} * 2  # a long cell" for i in range(70))


def small_lecture():
    def md(source, slide):
        return nbformat.v4.new_markdown_cell(source, metadata={"slideshow": {"slide_type": slide}})

    def code(source, slide):
        return nbformat.v4.new_code_cell(source, metadata={"slideshow": {"slide_type": slide}})

    nb = nbformat.v4.new_notebook(cells=[
        md(f"# A small lecture\n\nThe loss:\n\n{EQUATION}", "slide"),
        md(NOTES_MATH, "notes"),
        code("import matplotlib.pyplot as plt\nprint('MEASURED', 6 * 7)\n"
             "plt.plot([0, 1, 2], [2, 0, 1]); plt.title('a figure'); plt.show()", "subslide"),
        code(LONG_CODE + "\nprint('LAST LINE RAN', line_69)", "subslide"),
        md("## The end", "slide"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture(scope="module")
def executed_deck(tmp_path_factory):
    folder = tmp_path_factory.mktemp("executed")
    path = folder / "small_lecture.ipynb"
    nbformat.write(small_lecture(), path)
    start = time.perf_counter()
    deck = build_deck(path, folder / "slides", execute=True)
    print(f"small executed deck built in {time.perf_counter() - start:.1f} s")
    return deck


def test_network_detector_sees_a_cdn_request(browser, tmp_path):
    """Control: the offline page below would notice a page that loads from the web."""
    page_path = tmp_path / "online.html"
    page_path.write_text('<html><body><script src="https://cdn.example.com/lib.js"></script>'
                         "</body></html>")
    page, context, web = open_offline(browser, page_path)
    page.wait_for_timeout(300)
    context.close()
    assert "https://cdn.example.com/lib.js" in web


def test_executed_deck_offline_has_figure_numbers_fractions_and_scrolling_code(
        browser, executed_deck, artifacts_dir):
    page, context, web = open_offline(browser, executed_deck)
    wait_for_deck(page)

    # MathJax's output: the fraction elements exist, and the bar of 1/B is drawn in ink
    go_to(page, ".MathJax .mfrac")
    fractions = page.evaluate("document.querySelectorAll('.reveal .slides .MathJax .mfrac')"
                              ".length")
    bar = page.evaluate("""() => {
        const f = Reveal.getCurrentSlide().querySelector('.MathJax .mfrac');
        const rule = [...f.querySelectorAll('span')].find(s => s.style.borderTopStyle === 'solid'
                                                              || /solid/.test(s.style.borderTop));
        const r = rule.getBoundingClientRect();
        return {box: [r.x, r.y, r.width, r.height],
                width: parseFloat(getComputedStyle(rule).borderTopWidth)}; }""")
    bar_ink = darkest_pixel(page, bar["box"], artifacts_dir / "deck_small_equation.png")
    underbraces = page.evaluate("Reveal.getCurrentSlide().querySelectorAll('.MathJax "
                                ".munderover').length")
    # drawn with MathJax's STIX web fonts, not the system-font fallback (no brace pieces)
    fonts = page.evaluate("() => { const h = MathJax.OutputJax['HTML-CSS'];"
                          " return [h.fontInUse, h.Font.webFontLoaded === true]; }")

    # the executed run: its printed number and its figure
    go_to(page, ".jp-OutputArea-output img")
    figure = page.evaluate("""() => { const img = Reveal.getCurrentSlide()
            .querySelector('.jp-OutputArea-output img');
        const r = img.getBoundingClientRect();
        return [img.naturalWidth, img.naturalHeight, r.width, r.height, r.bottom,
                window.innerHeight]; }""")
    text = page.evaluate("document.querySelector('.reveal .slides').innerText")
    page.screenshot(path=str(artifacts_dir / "deck_small_figure.png"))

    # the long cell scrolls inside the slide instead of running off it
    go_to(page, ".jp-InputArea-editor pre", "line_69")
    code = page.evaluate("""() => {
        const pre = [...Reveal.getCurrentSlide().querySelectorAll('.jp-InputArea-editor pre')]
            .find(p => p.textContent.includes('line_69'));
        const r = pre.getBoundingClientRect();
        return [pre.scrollHeight, pre.clientHeight, r.top, r.bottom, window.innerHeight]; }""")
    page.screenshot(path=str(artifacts_dir / "deck_small_long_code.png"))
    context.close()

    assert web == []
    assert fractions >= 2 and underbraces >= 1
    assert fonts == ["STIX-Web", True], fonts
    assert bar["width"] >= 2, bar
    assert bar_ink < INK, f"the fraction bar is too pale to see: darkest grey {bar_ink}"
    assert "MEASURED 42" in text
    natural_w, natural_h, shown_w, shown_h, bottom, window_h = figure
    assert natural_w > 100 and natural_h > 100 and shown_w > 100 and shown_h > 100
    assert bottom <= window_h
    scroll_h, client_h, top, bottom, window_h = code
    assert scroll_h > client_h, "the long cell should scroll inside its box"
    assert 0 <= top and bottom <= window_h, "the code box runs off the slide"


def test_speaker_view_typesets_the_notes_math(browser, executed_deck, artifacts_dir):
    page, context, web = open_offline(browser, executed_deck)
    wait_for_deck(page)
    page.evaluate("Reveal.slide(0, 0)")  # the title slide carries the notes
    with page.expect_popup() as popup_info:  # reveal's speaker view
        page.keyboard.press("s")
    speaker = popup_info.value
    speaker.wait_for_load_state()
    notes = ".speaker-controls-notes .value"
    speaker.wait_for_function(f"() => document.querySelector('{notes} .MathJax .mfrac')",
                              timeout=PAGE_TIMEOUT)
    wait_for_mathjax(speaker)
    shown = speaker.evaluate(f"document.querySelector('{notes}').innerText")
    raw_tex = speaker.evaluate(f"""() => [...document.querySelectorAll('{notes} script')]
        .map(s => s.type + ':' + s.textContent)""")
    speaker.screenshot(path=str(artifacts_dir / "deck_small_speaker_view.png"))
    context.close()

    assert "Ask what" in shown
    assert "$" not in shown and "\\overline" not in shown and "\\frac" not in shown, shown
    assert any("\\overline" in tex for tex in raw_tex)  # typeset from the notes' own TeX
    assert web == []


# ------------------------------------------------------- (b) a real lecture's text-only deck


def test_deck_runs_offline_with_all_slides_and_notes(browser, tmp_path, artifacts_dir):
    nb = nbformat.read(NOTEBOOK_08, as_version=4)
    deck = build_deck(NOTEBOOK_08, tmp_path / "slides")
    page, context, web = open_offline(browser, deck)
    wait_for_deck(page)
    total = page.evaluate("Reveal.getTotalSlides()")
    notes = page.evaluate("document.querySelectorAll('.slides aside.notes').length")
    page.screenshot(path=str(artifacts_dir / "deck_08_first_slide.png"))
    page.evaluate("Reveal.slide(0)")  # the title slide carries speaker notes
    with page.expect_popup() as popup_info:
        page.keyboard.press("s")
    speaker = popup_info.value
    speaker.wait_for_load_state()
    speaker.wait_for_function("() => document.querySelector('.speaker-controls-notes .value')"
                              ".innerText.length > 0", timeout=PAGE_TIMEOUT)
    speaker_text = speaker.evaluate("document.body.innerText")
    speaker.screenshot(path=str(artifacts_dir / "deck_08_speaker_view.png"))
    context.close()

    assert total == expected_slides(nb)
    assert notes == speaker_note_count(nb) > 0
    assert web == []
    assert "Speaker notes" in speaker_text


# ------------------------------------------------------- (c) notebook 08's widgets after Run All


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_on_a_copy_of_08(tmp_path_factory):
    """JupyterLab, in its own process group, serving a folder that holds a copy of notebook
    08 (so nothing the browser does can touch the course's files). At teardown the whole
    group is stopped, and the test checks that none of it is left."""
    home = tmp_path_factory.mktemp("lab08")
    work = home / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK_08, work / NOTEBOOK_08.name)
    port, token = free_port(), secrets.token_hex(16)
    for plugin, values in (("docmanager-extension/plugin", {"autosave": False}),
                           ("notebook-extension/tracker", {"autoStartDefaultKernel": True,
                                                           "windowingMode": "none"}),
                           ("apputils-extension/notification", {"fetchNews": "false"})):
        path = home / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={work}",
               f"--IdentityProvider.token={token}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(home / "server.log", "w")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    group = os.getpgid(server.pid)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + LAB_START_TIMEOUT
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}):\n"
                            f"{(home / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {LAB_START_TIMEOUT} s")
                time.sleep(0.5)
        yield {"base": base, "token": token, "runtime": home / "runtime",
               "notebook": NOTEBOOK_08.name}
    finally:
        os.killpg(group, signal.SIGTERM)  # the server and every kernel it started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            server.wait(timeout=10)
        for _ in range(50):  # kernels may take a moment longer than the server
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(group, signal.SIGKILL)
            time.sleep(0.5)
        log.close()
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)  # nothing the fixture started is left running


CELLS_DONE = """() => {
    const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""

WIDGET_STATES = """() => Array.from(document.querySelectorAll('.widget-vbox'))
    .filter(box => box.querySelector('img.widget-image') && box.querySelector('.widget-html'))
    .map(box => ({
        status: box.querySelector(':scope > .widget-html').innerText,
        readouts: Array.from(box.querySelectorAll('.widget-readout'))
            .map(r => r.innerText.replace('\u2212', '-'))}))"""

KERNEL_STATES = """
import json as _json
_fresh = LatentExplorer(strong, images=sprites.images, dims=used_dims, scale=5)
_fresh.start_from(1000)
print("STATES", _json.dumps({
    "explorer_z": explorer.z.tolist(),
    "explorer_sliders": [s.value for s in explorer.sliders],
    "t": interpolation.t.value,
    "sprite_sliders": [s.value for s in sprite_explorer.sliders],
    "sprite_expected": [s.value for s in _fresh.sliders],
}))
"""


def screenshot(target, path, **options):
    """A screenshot for the record; on a machine too busy to take one, the test goes on."""
    from playwright.sync_api import Error

    try:
        target.screenshot(path=str(path), timeout=PAGE_TIMEOUT, **options)
    except Error as err:
        print(f"no screenshot {path.name}: {err}")


def kernel_states(lab):
    """Ask notebook 08's kernel (through its connection file) where its widgets are."""
    from jupyter_client import BlockingKernelClient

    url = f"{lab['base']}/api/sessions?token={lab['token']}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        sessions = json.load(answer)
    kernel_id = sessions[0]["kernel"]["id"]
    client = BlockingKernelClient(connection_file=str(lab["runtime"] / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.start_channels()
    printed = []
    try:
        client.wait_for_ready(timeout=30)
        client.execute_interactive(
            KERNEL_STATES, timeout=120,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
    finally:
        client.stop_channels()
    line = next(t for t in "".join(printed).splitlines() if t.startswith("STATES "))
    return json.loads(line[len("STATES "):])


def test_notebook_08_widgets_show_what_the_code_set_after_run_all(
        browser, lab_on_a_copy_of_08, artifacts_dir):
    lab = lab_on_a_copy_of_08
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{lab['base']}/lab/tree/{lab['notebook']}?token={lab['token']}",
              wait_until="domcontentloaded", timeout=PAGE_TIMEOUT)
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(timeout=3 * PAGE_TIMEOUT)
    select = page.locator(".jp-Dialog button", has_text="Select")
    if select.count():
        select.first.click()
    page.wait_for_timeout(3000)
    page.locator(".jp-Notebook").first.click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    run_all = page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').first
    run_all.wait_for(state="visible", timeout=30000)
    start = time.perf_counter()
    run_all.click()
    try:
        page.wait_for_function(CELLS_DONE, timeout=RUN_ALL_TIMEOUT * 1000, polling=1000)
        # what the browser sent while the cells ran is handled by the kernel after them
        page.wait_for_timeout(5000)
        states = page.evaluate(WIDGET_STATES)
    finally:
        screenshot(page, artifacts_dir / "lab_08_widgets_after_run_all.png", full_page=True)
    run_s = time.perf_counter() - start
    outputs = page.evaluate("Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                            ".map(o => o.innerText).join('\\n')")
    explorers = [s for s in states if s["status"].startswith("z = (")]
    interpolation = next(s for s in states if "t = " in s["status"])
    screenshot(page.locator(".widget-vbox", has=page.locator("img.widget-image")).first,
               artifacts_dir / "lab_08_latent_explorer_after_run_all.png")
    kernel = kernel_states(lab)
    context.close()
    print(f"Run All of 08 took {run_s:.0f} s; widgets in the page: {states}; kernel: {kernel}")

    assert "Traceback" not in outputs, outputs[-3000:]
    # the latent explorer's cell ends with explorer.set_code(torch.zeros(2))
    assert explorers[0]["status"] == "z = (+0.00, +0.00)"
    assert explorers[0]["readouts"] == ["0.00", "0.00"]
    assert kernel["explorer_z"] == [0.0, 0.0] and kernel["explorer_sliders"] == [0.0, 0.0]
    # the interpolation's cell ends with interpolation.t.value = 0.5
    assert "t = 0.50" in interpolation["status"]
    assert "0.50" in interpolation["readouts"]
    assert kernel["t"] == 0.5
    # the sprite explorer's cell ends with start_from(1000)
    assert kernel["sprite_sliders"] == kernel["sprite_expected"]
    sprite = explorers[-1]
    assert sprite["readouts"] == [f"{v:.2f}" for v in kernel["sprite_expected"]]
