"""The jobs plan through the planning stage: one plan a week, a frozen run, one run.json builder."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from reactivate.config.campaign import WEEKDAYS, load_campaign
from reactivate.jobs import weekly
from reactivate.jobs.pipeline import run_metadata
from reactivate.planning.capacity import POOL
from reactivate.planning.followups import FOLLOWING_UP, RESTING
from reactivate.segmentation.spec import load_segment_spec
from tests.conftest import AS_OF


def test_the_week_starts_on_the_campaigns_weekday_whatever_its_start_date():
    spec = load_campaign(None)
    monday = dt.date(2026, 12, 7)
    assert weekly.week_start(spec, monday) == monday
    for k, day in enumerate(WEEKDAYS):
        other = dataclasses.replace(spec, campaign=dataclasses.replace(
            spec.campaign, week_start=day, start_date=dt.date(2020, 1, 1)))
        assert weekly.week_start(other, monday) == monday + dt.timedelta(days=k)


def test_one_function_builds_run_json_for_plan_and_for_segments_describe():
    spec, seg_spec = load_campaign(None), load_segment_spec(None)
    full = run_metadata(AS_OF, spec, seg_spec, {"accounts": {"sha256": "x"}})
    assert set(full) == {"version", "as_of", "seed", "campaign", "campaign_source", "segmentation",
                         "segmentation_source", "inputs", "libraries"}
    assert full["as_of"] == "2026-11-30" and full["inputs"] == {"accounts": {"sha256": "x"}}
    short = run_metadata(AS_OF, spec, seg_spec, {}, full=False)
    assert set(short) == {"version", "as_of", "campaign", "segmentation", "segmentation_source", "inputs"}
    saved = SimpleNamespace(path="model.json", sha256="abc", version="0.1.0")
    assert run_metadata(AS_OF, spec, seg_spec, {}, saved, full=False)["segments_model"] == {
        "path": "model.json", "sha256": "abc", "fitted_by": "0.1.0"}


def test_a_plan_run_is_frozen(demo_run):
    run, _ = demo_run
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.result = None


def test_the_week_is_planned_once_and_the_run_is_not_changed(demo_run, monkeypatch):
    run, _ = demo_run
    camp = run.spec.campaign.id
    calls = []
    real = weekly.build_plan
    monkeypatch.setattr(weekly, "build_plan", lambda *a, **k: calls.append(k) or real(*a, **k))
    first_week = run.result.plan[run.result.plan["week_start"] == "2026-12-07"].sort_values("customer_id")
    responded, declined = first_week["customer_id"].iloc[:20], first_week["customer_id"].iloc[20:30]
    outcomes = pd.DataFrame({"customer_id": [*responded, *declined], "outcome": ["responded"] * 20 + ["declined"] * 10,
                             "date": pd.Timestamp("2026-12-09"), "campaign_id": camp})
    issued = pd.DataFrame({"customer_id": first_week["customer_id"], "kind": "plan",
                           "week_start": pd.Timestamp("2026-12-07")})
    before = run.result
    new, loop = weekly.plan_week(run, issued, outcomes, dt.date(2026, 12, 14))
    assert len(calls) == 1 and "held_back" in calls[0]
    assert run.result is before and new.result is not before
    # the default campaign allows one touch: everyone touched in week 1 is held back, for the first reason
    # (responders who may not be called get no follow-up: they are at the touch limit)
    following = loop.excluded["follow-up"]
    assert 0 < following == len(loop.followups) + loop.followups_unscheduled <= 20
    assert first_week["customer_id"].is_unique
    assert loop.excluded == {"follow-up": following, "resting": 10, "touch limit": len(first_week) - 10 - following}
    reasons = new.result.unscheduled.set_index("customer_id")["reason"].astype(str)
    assert set(reasons.reindex(declined)) == {RESTING}
    assert set(reasons.reindex(loop.followups["customer_id"])) == {FOLLOWING_UP}
    assert not new.result.plan["customer_id"].isin(first_week["customer_id"]).any()
    # the follow-up calls count in the capacity table
    cap = new.result.capacity
    calls_used = cap[cap["resource"].isin(["rm", "pool"])]["used"].sum()
    planned_calls = (new.result.plan["channel"] == "phone").sum()
    assert calls_used == planned_calls + len(loop.followups) > planned_calls
    assert set(loop.followups["rm_id"]) <= set(cap["name"]) | {POOL}
