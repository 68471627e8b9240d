"""Fixtures shared by several test files. Keep this small: add fixtures, don't rewrite.

Plain helpers that tests call directly (fake MNIST IDX files, a tiny VAE) are in ``fakes.py``.
"""

import os
import shutil
from pathlib import Path

import pytest

from vae_course.paths import COURSE_ROOT

# Debian's Chromium (CI's .ci/run installs it with apt); Playwright's own browser download is
# not used. VAE_COURSE_CHROMIUM points somewhere else.
CHROMIUM_ENV = "VAE_COURSE_CHROMIUM"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def find_chromium():
    """Path of a Chromium executable, or None."""
    for candidate in (os.environ.get(CHROMIUM_ENV), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path():
    """Chromium's path; skips the test, saying why, where Chromium or Playwright is missing."""
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium, or set "
                    f"{CHROMIUM_ENV}); browser tests skipped")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]'); "
                    "browser tests skipped")
    return path


@pytest.fixture(scope="session")
def chromium_args():
    """Launch arguments for Chromium in a container: no sandbox, GPU, sync or updates."""
    return list(CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser(chromium_path, chromium_args):
    """A headless Chromium for one test module, closed after it (with Playwright's driver)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=chromium_args)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts_dir():
    """test-artifacts/ at the top of the checkout (gitignored): screenshots and the like."""
    path = COURSE_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
