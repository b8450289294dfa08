"""The demo shows the planner at work (issue 12, item 8): campaigns/demo.toml's capacities, scaled to the
demo book, bind RM calls and the phone line in the main waves; the holdout is sized for the segments
with a measurable uplift, and the run prints one line for the others."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from reactivate.config.campaign import load_campaign
from reactivate.config.shipped import DEMO_CAMPAIGN, spec_file
from reactivate.demo.campaign import DEMO_CUSTOMERS, campaign_toml, demo_campaign, write_campaign
from reactivate.planning.holdout import share_needed
from tests.conftest import ROOT

runner = CliRunner()


def test_the_demo_campaign_is_the_bank_template_with_capacities_for_the_demo_book():
    demo, bank = load_campaign(spec_file(DEMO_CAMPAIGN)), load_campaign(ROOT / "campaigns" / "default.toml")
    # the same rules: only the capacities, the RM calls, the holdout and the fake personal columns shown
    # on the RM lists differ
    d, b = demo.to_dict(), bank.to_dict()
    assert d["targets"].pop("show") == ["name", "mobile"] and b["targets"].pop("show") == []
    strip = {"channels", "rm", "holdout"}
    assert {k: v for k, v in d.items() if k not in strip} == {k: v for k, v in b.items() if k not in strip}
    for name, ch in demo.channels.items():
        assert dataclasses.replace(ch, weekly_capacity=0) == dataclasses.replace(bank.channels[name], weekly_capacity=0)
        assert 0 < ch.weekly_capacity < bank.channels[name].weekly_capacity


def test_capacities_scale_with_the_book_and_calls_per_rm_stay():
    base = demo_campaign(DEMO_CUSTOMERS)
    assert base.to_dict() == load_campaign(spec_file(DEMO_CAMPAIGN)).to_dict()
    small, big = demo_campaign(4000), demo_campaign(100_000)
    for name, ch in base.channels.items():
        assert small.channels[name].weekly_capacity == round(ch.weekly_capacity / 5)
        assert big.channels[name].weekly_capacity == ch.weekly_capacity * 5
    assert (small.rm.pool_calls_per_week, big.rm.pool_calls_per_week) == (5, 125)
    assert small.rm.calls_per_week == big.rm.calls_per_week == base.rm.calls_per_week  # RMs grow with the book
    tiny = demo_campaign(1)
    assert min(ch.weekly_capacity for ch in tiny.channels.values()) == 1 and tiny.rm.pool_calls_per_week == 1


@pytest.mark.parametrize("source", ["demo.toml", "journeys.toml", "default.toml", "purchase_log.toml"])
def test_a_written_campaign_reads_back_as_the_same_spec(tmp_path, source):
    spec = load_campaign(ROOT / "campaigns" / source)
    spec = dataclasses.replace(spec, themes=dataclasses.replace(spec.themes, text={
        **spec.themes.text, "quote": {"en": 'Say "hello", \\ then stop', "zh": "您好，“春节”快乐"}}))
    path = write_campaign(spec, tmp_path / "c.toml", header="a header\nof two lines")
    assert path.read_text().startswith("# a header\n# of two lines\n")
    back = load_campaign(path)
    want = spec.to_dict()
    want["rm"]["overrides_file"] = ""  # its rows are written inline
    assert back.to_dict() == want
    assert campaign_toml(back) == campaign_toml(spec)


def test_share_needed_is_the_smallest_step_that_detects_the_uplift():
    assert share_needed(1500, 0.10, 0.5) == 0.15  # 10% held out: MDE 5.5 pp > 5 pp; 15%: 4.7 pp
    assert share_needed(2000, 0.01, 0.5) is None  # 0.5 pp uplift: not even 1,000 held out see it
    assert share_needed(200_000, 0.01, 0.5) == 0.05
    assert share_needed(2000, 0.10, 1.0) is None and share_needed(1, 0.1, 0.5) is None


@pytest.fixture(scope="module")
def demo20k(tmp_path_factory):
    """``reactivate demo`` at its default size (20,000 customers)."""
    out = tmp_path_factory.mktemp("demo20k") / "d"
    r = runner.invoke(app, ["demo", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.stderr.splitlines()


def _main_wave_weeks(out) -> list[str]:
    plan = pd.read_csv(out / "plan" / "plan.csv", usecols=["week_start", "wave"])
    weeks = plan[plan["wave"] >= 2].groupby("week_start").size()
    return list(weeks[weeks >= 0.1 * weeks.max()].index)  # the weeks the main waves run in


def test_the_demo_binds_the_phone_line_and_rm_calls_in_the_main_waves(demo20k):
    out, _ = demo20k
    cap = pd.read_csv(out / "plan" / "capacity.csv")
    main = cap[cap["week_start"].isin(_main_wave_weeks(out))]
    phone = main[(main["resource"] == "channel") & (main["name"] == "phone")]
    share = phone["used"] / phone["capacity"]
    assert share.max() >= 0.95 and (share >= 0.95).sum() >= 3, phone
    rms = main[main["resource"] == "rm"]
    full = (rms["used"] >= 0.95 * rms["capacity"]).groupby(rms["week_start"]).mean()
    assert full.max() >= 0.25, full  # a quarter of the RMs or more have no call left in some main week
    # the capacity charts have something to show: every channel is used, none idle all campaign
    ch = cap[cap["resource"] == "channel"].groupby("name")[["used", "capacity"]].sum()
    assert (ch["used"] / ch["capacity"] > 0.1).all(), ch


def test_the_demo_holdout_powers_the_segments_that_can_be_measured_and_prints_one_line(demo20k):
    import json

    out, lines = demo20k
    summary = json.loads((out / "plan" / "summary.json").read_text())
    mde = summary["plan"]["holdout_mde"]
    share = json.loads((out / "plan" / "run.json").read_text())["campaign"]["holdout"]["share"]
    powered = [m for m in mde if not m["warning"]]
    # every segment whose uplift a holdout of this share can detect is powered ...
    assert all(not m["warning"] for m in mde if m["share_needed"] is not None and m["share_needed"] < share - 0.02)
    # ... and those are the segments that matter: at least half of them, with most of the expected uplift
    uplift = {m["segment_id"]: m["expected_uplift"] * m["treated"] for m in mde}
    assert len(powered) * 2 >= len(mde)
    assert sum(uplift[m["segment_id"]] for m in powered) > 0.5 * sum(uplift.values())
    # one line for the underpowered segments, none per segment
    under = [x for x in lines if "holdouts cannot detect the expected uplift" in x]
    assert len(under) == (1 if len(powered) < len(mde) else 0)
    assert not any(x.startswith("  warning: segment ") for x in lines)
    # the detail is in the report
    page = (out / "plan" / "report.html").read_text()
    assert "Holdout per segment: can it detect the expected uplift?" in page
    for m in mde:
        assert f"<td>{m['segment_id']} " in page


def test_the_demo_writes_the_campaign_it_used(demo20k):
    out, _ = demo20k
    spec = load_campaign(out / "campaign.toml")
    assert spec.to_dict() == demo_campaign(DEMO_CUSTOMERS).to_dict()
    assert np.isclose(spec.channels["phone"].weekly_capacity, 300)


@pytest.mark.slow
def test_on_a_larger_demo_book_most_segments_can_measure_their_uplift(tmp_path):
    """At 20,000 customers the small-balance and young digital segments expect too small an uplift for
    any holdout; at 100,000 the same campaign (scaled) measures most segments."""
    import json

    r = runner.invoke(app, ["demo", "--customers", "100000", "--out", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    mde = json.loads((tmp_path / "d" / "plan" / "summary.json").read_text())["plan"]["holdout_mde"]
    assert sum(not m["warning"] for m in mde) * 2 > len(mde), mde
    cap = pd.read_csv(tmp_path / "d" / "plan" / "capacity.csv")
    phone = cap[(cap["resource"] == "channel") & (cap["name"] == "phone")]
    assert (phone["used"] >= 0.95 * phone["capacity"]).sum() >= 3  # still binding at five times the size
