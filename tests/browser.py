"""Debian's headless Chromium driven by Playwright (never a downloaded browser)."""

import contextlib
import os
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium_page():
    """A fresh page in a fresh profile; Django may be called from Playwright's event-loop thread."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
            # Playwright runs an event loop in this thread, so Django's connections made inside this block
            # are that loop's own, not the test's: close them here, or they outlive the test database.
            connections.close_all()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
