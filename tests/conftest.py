"""Shared fixtures: headless Debian Chromium through playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).is_file() or shutil.which("chromium"):
        return CHROMIUM if Path(CHROMIUM).is_file() else str(shutil.which("chromium"))
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    pytest.skip("Chromium not installed (the browser tests run under CI=true)")
    raise AssertionError  # unreachable


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (skipped without one, except under CI=true)."""
    exe = _chromium_or_skip()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()
