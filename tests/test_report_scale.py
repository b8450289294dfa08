"""A 1M-customer plan's report stays small and opens fast (the figures: benchmarks/bench_report.py)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.browser import have_chromium, open_in_chromium
from tests.conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "bench_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_the_report_of_a_million_customers_is_under_5_mb_and_opens_in_under_5_s(tmp_path):
    from reactivate.outputs.report import build_report

    info = _bench().synthesise(1_000_000, tmp_path / "run")
    assert info["targets"] > 500_000 and info["touches"] > 500_000
    page = build_report(tmp_path / "run", lang="en")
    assert page.stat().st_size < 5 * 2**20
    html = page.read_text()
    assert "C12345," not in html and "C12345<" not in html  # summarised, never listed
    if not have_chromium():
        pytest.skip("needs /usr/bin/chromium for the render time")
    load = open_in_chromium(page)
    assert load.load_seconds < 5, load
    assert len(load.images) == 8 and all(i["naturalWidth"] > 0 for i in load.images)
