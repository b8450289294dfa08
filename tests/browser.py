"""Open an HTML file in Debian's headless Chromium (driven by Playwright) and report what happened.

Shared by the report's browser test and benchmarks/bench_report.py. Playwright
never downloads a browser here: it launches /usr/bin/chromium, with a fresh
profile, no network services and no sandbox (CI runs as root).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@dataclass
class PageLoad:
    url: str
    seconds: float  # from navigation to the load event (every image decoded) and a full-page screenshot
    load_seconds: float = 0.0  # from navigation to the load event
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)  # alt, complete, naturalWidth
    screenshot: bytes = b""


def have_chromium() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.is_file()


def open_in_chromium(path: Path, screenshot: Path | None = None, width: int = 1280) -> PageLoad:
    """Load ``path`` via file://, wait for the load event, take a full-page screenshot."""
    from playwright.sync_api import sync_playwright

    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=["--headless", *FLAGS],
            viewport={"width": width, "height": 900})
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            load = PageLoad(url=url, seconds=0.0)
            ctx.on("request", lambda r: load.requests.append(r.url))
            page.on("console", lambda m: load.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: load.console_errors.append(str(e)))
            t0 = time.perf_counter()
            page.goto(url, wait_until="load", timeout=60_000)
            load.load_seconds = time.perf_counter() - t0
            load.images = page.evaluate(
                "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,"
                " naturalWidth: i.naturalWidth}))")
            load.screenshot = page.screenshot(full_page=True, path=str(screenshot) if screenshot else None)
            load.seconds = time.perf_counter() - t0
        finally:
            ctx.close()
    return load
