"""Headless Chromium driven by Playwright, for the dashboard's browser tests and its screenshots.
Debian's chromium is installed with apt-get when missing (the project's own setup)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from tests.services import ensure_installed

# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses; none of it matters to a page on loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium(*extra_args: str, **options: Any) -> Iterator[Browser]:
    executable = ensure_installed("chromium", "chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args], **options)
        try:
            yield browser
        finally:
            browser.close()
