"""End-to-end tests in a real Chromium (Debian's, driven by Playwright), localhost and files only.

(a) JupyterLab, started by ``vae-course lab``, runs notebook 08 and a dragged slider redraws
    the latent explorer's image.
(b) A built slide deck opens from a file:// URL with the network off: reveal.js starts, the
    slide and speaker-note counts match the notebook, and no http(s) request is attempted.

Screenshots go to test-artifacts/. Without Chromium (or Playwright) the tests skip and say why.
"""

import hashlib
import signal
import time
from pathlib import Path

import pytest

from labtools import Lab
from vae_course.paths import COURSE_ROOT

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/08_latent_explorer.ipynb"
RUN_ALL_TIMEOUT = 300  # seconds for every cell to finish (models train on a cold cache)


def record_and_block(context, allowed):
    """Route every request: let through those for which ``allowed(url)`` holds, abort and
    record the rest. Returns the list of blocked URLs (filled as the page runs)."""
    blocked = []

    def handle(route):
        url = route.request.url
        if allowed(url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
    return blocked


# ---------------------------------------------------------------- (b) the offline slide deck


def open_offline(browser, path):
    """Open a file:// page with the network off.

    Returns (page, context, requested, blocked): every URL the page asked for, and those the
    route refused (both lists keep filling while the page runs)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_offline(True)
    blocked = record_and_block(context, lambda url: url.startswith(("file:", "data:", "blob:")))
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(Path(path).resolve().as_uri())
    return page, context, requested, blocked


def web_urls(urls):
    return [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]


def test_network_detector_sees_a_cdn_request(browser, tmp_path):
    """Control: the check below would notice a page that loads something from the web."""
    page_path = tmp_path / "online.html"
    page_path.write_text('<html><body><script src="https://cdn.example.com/lib.js"></script>'
                         "</body></html>")
    page, context, requested, blocked = open_offline(browser, page_path)
    page.wait_for_timeout(200)
    context.close()
    assert web_urls(blocked) == ["https://cdn.example.com/lib.js"]
    assert "https://cdn.example.com/lib.js" in requested


# ---------------------------------------------------------------- (a) JupyterLab and a widget


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`vae-course lab` on a free localhost port, with a workspace of its own (never the
    learner's work/). Yields (base URL, token, server log, workspace)."""
    # Fresh user settings: never autosave (the run must not write outputs into the notebook),
    # start the notebook's kernel without asking.
    lab = Lab(tmp_path_factory.mktemp("lab"), extra=["--notebook", NOTEBOOK],
              settings={"docmanager-extension/plugin": {"autosave": False},
                        "notebook-extension/tracker": {"autoStartDefaultKernel": True}})
    try:
        try:
            lab.start()
        except RuntimeError as err:
            pytest.fail(str(err))
        yield lab.base, lab.token, lab.log, lab.work
        lab.stop(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
        left = lab.commands(lab.alive())
        assert left == [], f"the lab left processes running: {left}"
    finally:
        lab.kill_leftovers()


IMAGE_BYTES = """async (img) => {
    const data = await (await fetch(img.src)).arrayBuffer();
    return Array.from(new Uint8Array(data));
}"""

CELLS_DONE = """() => {
    const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def test_lab_runs_notebook_08_and_a_slider_redraws_the_image(browser, lab, artifacts_dir):
    base, token, server_log, work = lab
    sources = [COURSE_ROOT / NOTEBOOK, (COURSE_ROOT / NOTEBOOK).with_suffix(".py"),
               work / NOTEBOOK]
    before = [p.read_bytes() for p in sources]
    start = time.perf_counter()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    local = (base, f"ws://127.0.0.1:{base.rsplit(':', 1)[1]}")
    outside = record_and_block(context, lambda url: url.startswith(local) or
                               url.startswith(("data:", "blob:")))
    page = context.new_page()
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(timeout=60000)
    page.screenshot(path=str(artifacts_dir / "lab_08_opened.png"))
    select = page.locator(".jp-Dialog button", has_text="Select")
    if select.count():  # a kernel dialog despite autoStartDefaultKernel: take the default
        select.first.click()
    page.wait_for_timeout(3000)  # let the kernel session start (or its dialog appear)
    page.locator(".jp-Notebook").first.click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    run_all = page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').first
    run_all.wait_for(state="visible", timeout=10000)
    run_all.click()
    try:
        page.wait_for_function(CELLS_DONE, timeout=RUN_ALL_TIMEOUT * 1000, polling=1000)
    finally:
        page.screenshot(path=str(artifacts_dir / "lab_08_after_run_all.png"))
    outputs = page.evaluate("Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                            ".map(o => o.innerText).join('\\n')")
    assert "Traceback" not in outputs, outputs[-3000:]

    image = page.locator("img.widget-image").first
    slider = page.locator(".widget-slider").first
    slider.scroll_into_view_if_needed()
    image.wait_for(state="visible", timeout=30000)
    readout = slider.locator(".widget-readout")
    src_before, bytes_before = image.get_attribute("src"), image.evaluate(IMAGE_BYTES)
    readout_before = readout.inner_text()
    widget = page.locator(".widget-vbox", has=page.locator("img.widget-image")).first
    widget.screenshot(path=str(artifacts_dir / "lab_08_explorer_before.png"))

    handle = slider.locator(".noUi-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 80, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    page.wait_for_function("([img, src]) => img.src !== src", arg=[image.element_handle(),
                                                                    src_before], timeout=30000)
    bytes_after = image.evaluate(IMAGE_BYTES)
    readout_after = readout.inner_text()
    widget.screenshot(path=str(artifacts_dir / "lab_08_explorer_after.png"))
    page.screenshot(path=str(artifacts_dir / "lab_08_after_drag.png"))
    print(f"lab test: {time.perf_counter() - start:.1f} s in the browser; slider z1 "
          f"{readout_before} -> {readout_after}; blocked non-local requests: {outside}")
    context.close()

    assert [p.read_bytes() for p in sources] == before, "the browser run changed the notebook"
    assert readout_after != readout_before
    assert bytes(bytes_before)[:8] == b"\x89PNG\r\n\x1a\n"
    assert hashlib.sha256(bytes(bytes_before)).digest() != \
        hashlib.sha256(bytes(bytes_after)).digest()
