"""The report opens in a real browser: Debian's headless Chromium, driven by Playwright.

Skipped when /usr/bin/chromium (or playwright) is absent; CI installs it (.ci/run).
"""

from __future__ import annotations

import pytest

from reactivate.outputs.report import build_report
from tests.browser import have_chromium, open_in_chromium

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium (apt-get install chromium)")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_opens_offline_with_every_image_and_no_errors(demo_run, tmp_path, lang):
    if lang == "zh":
        from reactivate.outputs import charts

        if charts.cjk_font() is None:
            pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    _, out = demo_run
    page = build_report(out, lang=lang, out=tmp_path / "report.html")
    shot = tmp_path / "screenshot.png"
    load = open_in_chromium(page, screenshot=shot)
    # the file itself is the only request: no fonts, scripts or images fetched from anywhere
    assert [u for u in load.requests if not u.startswith("data:")] == [page.resolve().as_uri()]
    assert load.console_errors == []
    assert len(load.images) == 8
    assert all(img["complete"] and img["naturalWidth"] > 0 for img in load.images), load.images
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_the_browser_check_sees_requests_broken_images_and_console_errors(tmp_path):
    """The checks above can fail: a page that fetches, breaks an image and logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="missing.png" alt="x">'
                   '<script>console.error("boom")</script></body></html>')
    load = open_in_chromium(bad)
    assert (tmp_path / "missing.png").as_uri() in load.requests
    assert load.images == [{"alt": "x", "complete": True, "naturalWidth": 0}]
    assert any("boom" in e for e in load.console_errors)
