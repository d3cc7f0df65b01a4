"""Real-browser tests: Playwright (from PyPI) driving Debian's ``chromium`` package.

Browsers cannot be downloaded on our machines, so Playwright never installs its own: it is pointed
at the system Chromium with ``executable_path``. ``scripts/test.sh`` installs the package when it
runs as root. Without it the browser tests are skipped on a developer machine, and fail in CI
(``MOTCUA_REQUIRE_BROWSER=1``), so they can never be skipped silently there.

Screenshots go to ``artifacts/screenshots/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def chromium_path() -> str | None:
    """The system Chromium, or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium executable; skip the test without one (fail instead where it is required)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("MOTCUA_REQUIRE_BROWSER") == "1":
            pytest.fail("MOTCUA_REQUIRE_BROWSER=1 but Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


@asynccontextmanager
async def chromium(**launch: object) -> AsyncIterator[object]:
    """A launched headless Chromium (a ``playwright.async_api.Browser``)."""
    path = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox"], **launch
        )
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_path(name: str) -> Path:
    """Where to save a screenshot called ``name`` (a .png is added)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
