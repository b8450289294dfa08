"""The report's charts: titles, labels and the values plotted (not image bytes), in English and Chinese."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from reactivate.outputs import charts
from reactivate.outputs.i18n import t


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def bar_widths(ax):
    return [round(p.get_width()) for p in ax.patches]


def test_dormancy_stages_plots_counts_in_stage_order_and_marks_the_targeted():
    s = pd.Series({"active": 50, "at_risk": 20, "dormant": 30, "long_dormant": 10})
    ax = charts.dormancy_stages(s, targeted=["dormant", "long_dormant"])
    assert ax.get_title() == "Customers by dormancy stage" and ax.get_xlabel() == "customers"
    assert bar_widths(ax) == [50, 20, 30, 10]
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["active", "at risk", "dormant", "long dormant"]
    colors = [p.get_facecolor() for p in ax.patches]
    assert colors[0] == colors[1] != colors[2] == colors[3]
    assert "30  (27%)" in [a.get_text() for a in ax.texts]


def test_suppressed_largest_first_and_an_empty_table_says_so():
    ax = charts.suppressed_by_reason(pd.Series({"minor": 2, "do not contact": 9}))
    assert bar_widths(ax) == [9, 2]
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["do not contact", "minor"]
    ax = charts.suppressed_by_reason(pd.Series(dtype="int64"))
    assert [x.get_text() for x in ax.texts] == ["No customer is suppressed."]


def test_funnel_bars_are_centred_and_labelled_with_share_of_the_top():
    counts = pd.Series({"funnel_dormant": 100, "funnel_eligible": 80, "funnel_planned": 60, "funnel_holdout": 10})
    ax = charts.funnel(counts, lang="en")
    assert bar_widths(ax) == [100, 80, 60, 10]
    assert [round(p.get_x()) for p in ax.patches] == [0, 10, 20, 45]
    assert [x.get_text() for x in ax.texts] == ["100  (100%)", "80  (80%)", "60  (60%)", "10  (10%)"]
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["dormant (targeted)", "may be contacted", "planned",
                                                              "holdout"]


def test_calendar_stacks_channels_per_week_with_fixed_colours():
    wk = pd.DataFrame({"phone": [5, 0, 2], "sms": [1, 3, 0]}, index=["2026-12-07", "2026-12-14", "2026-12-21"])
    ax = charts.calendar(wk)
    assert ax.get_title() == "Touches per week by channel"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("week starting", "touches")
    heights = [round(p.get_height()) for p in ax.patches]
    bottoms = [round(p.get_y()) for p in ax.patches]
    assert heights == [5, 0, 2, 1, 3, 0] and bottoms == [0, 0, 0, 5, 0, 2]
    assert ax.patches[0].get_facecolor()[:3] == pytest.approx(
        tuple(int(charts.CHANNEL_COLORS["phone"][i:i + 2], 16) / 255 for i in (1, 3, 5)))
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["phone", "sms"]
    assert [tl.get_text() for tl in ax.get_xticklabels()] == ["12-07", "12-14", "12-21"]


def test_capacity_heatmap_values_and_annotations():
    share = pd.DataFrame([[0.5, 1.0], [0.0005, np.nan]], index=["phone", "RM1"], columns=["2026-12-07", "2026-12-14"])
    ax = charts.capacity_heatmap(share, "Capacity", "resource")
    img = ax.images[0]
    np.testing.assert_array_equal(np.ma.filled(img.get_array(), -1), [[0.5, 1.0], [0.0005, -1]])
    assert img.get_clim() == (0, 1)
    assert [x.get_text() for x in ax.texts] == ["50%", "100%", "0.1%"]
    assert ax.get_title() == "Capacity" and ax.get_ylabel() == "resource"


def test_rm_load_counts_rms_per_band_and_week():
    bands = pd.DataFrame({"idle": [3, 1], "1-25": [2, 0], "full": [0, 4]}, index=["2026-12-07", "2026-12-14"])
    ax = charts.rm_load(bands)
    assert [round(p.get_height()) for p in ax.patches] == [3, 1, 2, 0, 0, 4]
    assert [round(p.get_y()) for p in ax.patches] == [0, 0, 3, 1, 5, 1]
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["no calls", "under 25%", "full"]
    assert ax.get_ylabel() == "relationship manager"
    assert ax.patches[4].get_facecolor()[:3] == pytest.approx((200 / 255, 85 / 255, 61 / 255))  # full: warning red


def test_ranking_in_rank_order_with_expected_value():
    seg = pd.DataFrame({"segment_id": ["S2", "S1"], "segment_name": ["B", "High balance · Older"], "rank": [2, 1],
                        "expected_value": [10.0, 250.0]})
    ax = charts.ranking(seg)
    assert bar_widths(ax) == [250, 10]
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["#1 S1 High balance · Older", "#2 S2 B"]
    assert ax.get_xlabel() == "expected value of reactivations"


def test_uplift_points_and_intervals_in_percentage_points():
    u = pd.DataFrame({"level": ["S1", "S2"], "uplift": [0.05, -0.01], "ci_low": [0.02, -0.04],
                      "ci_high": [0.08, 0.02]})
    ax = charts.uplift(u, "segment")
    assert ax.get_title() == "Uplift by segment (95% interval)"
    np.testing.assert_allclose(ax.collections[1].get_offsets()[:, 0], [5, -1])
    segs = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[:, 0] for s in segs], [[2, 8], [-4, 2]])
    assert [x.get_text() for x in ax.texts] == ["+5.0", "-1.0"]


def test_charts_in_chinese_use_a_cjk_font_and_miss_no_glyph():
    if charts.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    import matplotlib.pyplot as plt

    wk = pd.DataFrame({"phone": [5, 1], "wechat": [2, 3]}, index=["2026-12-07", "2026-12-14"])
    with charts.style("zh"), warnings.catch_warnings():
        warnings.simplefilter("error")  # a "Glyph ... missing from font(s)" warning fails the test
        ax = charts.calendar(wk, lang="zh")
        assert ax.get_title(loc="left") == t("calendar_title", "zh") == "每周各渠道触达次数"
        legend = ax.get_legend().get_texts()
        assert [x.get_text() for x in legend] == ["电话", "微信"]
        assert legend[0].get_fontname() == charts.cjk_font()[0]
        charts.to_png(ax)
    plt.close("all")


def test_style_without_a_cjk_font_is_one_clear_error(monkeypatch):
    from reactivate.errors import OutputError

    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with pytest.raises(OutputError, match=r"no installed font has Chinese glyphs.*fonts-noto-cjk"), charts.style("zh"):
        pass


def test_png_bytes_are_deterministic():
    s = pd.Series({"dormant": 3, "long_dormant": 1})
    assert charts.to_png(charts.dormancy_stages(s)) == charts.to_png(charts.dormancy_stages(s))


def test_the_glyph_check_can_fail_chinese_in_a_latin_font_warns():
    """The check above is not vacuous: Chinese drawn in DejaVu Sans warns about missing glyphs."""
    import matplotlib

    with matplotlib.rc_context({"font.family": "DejaVu Sans"}), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.to_png(charts.dormancy_stages(pd.Series({"dormant": 3}), lang="zh"))
    # matplotlib 3.8 says "missing from current font", newer ones "missing from font(s) DejaVu Sans"
    assert any(re.search(r"Glyph \d+ .* missing from (current )?font", str(w.message)) for w in caught)
