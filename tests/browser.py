"""A real headless browser for the tests: Debian's Chromium driven by Playwright (Playwright's
own browser download cannot be reached here). In CI a missing browser fails the test; elsewhere
it skips it, saying how to install one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from bench.layers.reading import BROWSER_FLAGS, find_chromium


def chromium_path() -> str:
    found = find_chromium()
    if found is None:
        message = "no chromium on PATH; install Debian's package: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def browser_page(width: int = 1440, height: int = 900) -> Iterator[object]:
    """A fresh page in a fresh headless Chromium; closed on every exit path."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed in the test environment")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()
