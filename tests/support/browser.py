"""Headless Chromium for the tests that look at a page as a person would: the system's browser
(`/usr/bin/chromium`, Debian's package, which `.ci/run` installs when it is missing) driven by Playwright.
Playwright's own browser download is never used.

`python -m tests.support.browser PAGE.html SHOT.png` writes the screenshot the README shows
(docs/img/report.png) with the same launch as the tests.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Nothing but the page: no sandbox (CI runs as root), no GPU, and none of the browser's own traffic.
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORT = {"width": 1400, "height": 1000}


@contextmanager
def page() -> Iterator[Any]:
    """A fresh page of a fresh profile (its own --user-data-dir), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="xtap-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=list(FLAGS),
            viewport=VIEWPORT,
            env={**os.environ, "HOME": profile},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def screenshot(html: Path, png: Path) -> None:
    with page() as tab:
        tab.goto(html.resolve().as_uri())
        tab.screenshot(path=str(png))


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
