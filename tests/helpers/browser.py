"""Driving Debian's chromium with Playwright: how it starts on this closed network, and signing in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Chromium must not phone home on this closed network (see the README).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 60_000


def sign_in(page: Any, email: str, password: str) -> None:
    """Fill the sign-in form and submit it."""
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def upload_files(page: Any, link: str, files: Mapping[str, bytes], folder: Path) -> None:
    """Follow ``link`` to Upload, upload ``files`` (written into ``folder``), then go on to the list of files."""
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    page.get_by_role("link", name=link).first.click()
    page.get_by_role("heading", name="Upload documents").wait_for()
    page.locator("input[type=file]").set_input_files(paths)  # in the direct-upload component
    page.get_by_role("button", name=f"Upload {len(files)} file(s)").click()
    page.get_by_text(f"{len(files)} stored. Extraction has started.").wait_for()
    page.get_by_role("link", name="Watch them on My files").click()


def choose(page: Any, box: Any, option: str, tries: int = 3) -> None:
    """Open the select box ``box`` and pick ``option``; open it again when a rerun closed it meanwhile.

    A list that just stopped refreshing itself redraws the page once more, and
    a redraw closes an open drop-down: the pick waits for a quiet page.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
