"""The staged plan on small hand-made scored tables."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from reactivate.config import CampaignSpec, Channel, load_campaign
from reactivate.plan import build_plan, hash01
from reactivate.schema import CHANNELS
from tests.conftest import AS_OF


def scored(n: int, **cols) -> pd.DataFrame:
    """A scored table of n phone-reachable, consenting customers of RM1 in segment S01."""
    base = {
        "segment_id": ["S01"] * n,
        "rm_id": pd.array(["RM1"] * n, dtype="string"),
        "p_reactivate": np.linspace(0.5, 0.1, n),
        "value": [1000.0] * n,
        "priority_rank": np.arange(1, n + 1),
        "best_week": [0] * n,
        "event": ["none"] * n,
        "reason": ["no dated event: as early as capacity allows"] * n,
        "age": [50.0] * n,
        "last_contact": pd.Series([pd.NaT] * n, dtype="datetime64[s]"),
        "contacts_30d": [0.0] * n,
        **{f: [False] * n for f in ("hardship", "deceased", "legal_hold", "do_not_contact", "complaint_recent")},
    }
    for ch in CHANNELS:
        base[f"has_{ch}"] = [True] * n
        base[f"consent_{ch}"] = [True] * n
        base[f"opted_out_{ch}"] = [False] * n
    base.update(cols)
    df = pd.DataFrame(base, index=pd.Index([f"C{i:03d}" for i in range(n)], name="customer_id"))
    df["expected_value"] = df["p_reactivate"] * df["value"]
    return df


def fit_for(segments, spec: CampaignSpec) -> pd.DataFrame:
    chans = [c for c in CHANNELS if c in spec.channels]
    return pd.DataFrame(1.0, index=pd.Index(sorted(set(segments))), columns=chans)


def spec_with(phone_only=True, **sections) -> CampaignSpec:
    spec = load_campaign(None)
    channels = dict(spec.channels)
    if phone_only:
        channels = {ch: (c if ch == "phone" else dataclasses.replace(c, weekly_capacity=0))
                    for ch, c in channels.items()}
    spec = dataclasses.replace(spec, channels=channels)
    for name, values in sections.items():
        spec = dataclasses.replace(spec, **{name: dataclasses.replace(getattr(spec, name), **values)})
    return spec


NO_WAVES = {"pilot_share": 0.0, "response_window_days": 0, "max_release_share": 1.0, "wave_weeks": 1}


def test_rm_capacity_per_week_in_priority_order():
    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0}, rm={"calls_per_week": 3})
    s = scored(10)
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    plan = res.plan
    # pilot week 1 is empty (no pilot); main waves start in week 2, three calls a week, but the
    # week of 2026-12-28 has New Year's Day off (4 of 5 call days: 2 calls), so the last one waits
    assert plan.groupby("week_start", observed=True).size().tolist() == [3, 3, 2, 2]
    assert plan["week_start"].iloc[0] == "2026-12-14"
    assert plan["customer_id"].tolist() == [f"C{i:03d}" for i in range(10)]
    assert set(plan["channel"]) == {"phone"}
    cap = res.capacity[res.capacity["resource"] == "rm"]
    assert (cap["used"] <= cap["capacity"]).all() and cap["used"].max() == 3


def test_channel_capacity_and_fallback():
    spec = spec_with(phone_only=False, waves=NO_WAVES, holdout={"share": 0.0})
    chans = {ch: dataclasses.replace(c, weekly_capacity=0) for ch, c in spec.channels.items()}
    chans["phone"] = dataclasses.replace(chans["phone"], weekly_capacity=2)
    chans["wechat"] = Channel(cost=0.02, weekly_capacity=3, response_prior=0.6)
    spec = dataclasses.replace(spec, channels=chans, campaign=dataclasses.replace(spec.campaign, horizon_weeks=2))
    s = scored(6)
    fit = fit_for(s["segment_id"], spec)
    fit["wechat"] = 0.8
    res = build_plan(s, fit, spec, AS_OF)
    # one week to work in (main waves start in week 2): the two calls go to the two customers who gain
    # most from a call over WeChat (the likeliest), three more get WeChat, the last is left over
    week1 = res.plan[res.plan["week_start"] == "2026-12-14"]
    assert week1.groupby("channel", observed=True).size().to_dict() == {"phone": 2, "wechat": 3}
    assert week1[week1["channel"] == "phone"]["customer_id"].tolist() == ["C000", "C001"]
    assert res.unscheduled["customer_id"].tolist() == ["C005"]
    assert res.unscheduled["reason_kind"].tolist() == ["capacity"]


def test_waiting_a_week_for_a_call_beats_a_message_now():
    spec = spec_with(phone_only=False, waves=NO_WAVES, holdout={"share": 0.0})
    chans = {ch: dataclasses.replace(c, weekly_capacity=0) for ch, c in spec.channels.items()}
    chans["phone"] = dataclasses.replace(chans["phone"], weekly_capacity=2)
    chans["wechat"] = Channel(cost=0.02, weekly_capacity=3, response_prior=0.6)
    spec = dataclasses.replace(spec, channels=chans)
    s = scored(4)
    fit = fit_for(s["segment_id"], spec)
    fit["wechat"] = 0.5
    res = build_plan(s, fit, spec, AS_OF)
    # a call is worth far more than the 0.5 a week of waiting costs: everyone is called, two a week
    assert set(res.plan["channel"]) == {"phone"}
    assert res.plan["week_start"].astype(str).tolist() == ["2026-12-14"] * 2 + ["2026-12-21"] * 2


def test_suppression_is_absolute_and_explained():
    n = 8
    s = scored(n,
               deceased=[True] + [False] * 7,
               legal_hold=[False, True] + [False] * 6,
               do_not_contact=[False, False, True] + [False] * 5,
               age=[50.0, 50, 50, 16, 50, 50, 50, 50],
               complaint_recent=[False] * 4 + [True] + [False] * 3)
    for ch in CHANNELS:
        s.loc["C005", f"consent_{ch}"] = False
    s.loc["C006", "opted_out_phone"] = True
    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0})
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    assert res.suppressed.set_index("customer_id")["reason"].to_dict() == {
        "C000": "deceased", "C001": "legal hold", "C002": "do not contact", "C003": "minor",
        "C004": "recent complaint", "C005": "no consenting channel",
    }
    # opted out of calls, the only open channel here: not suppressed, but left unscheduled with the reason
    assert res.unscheduled.set_index("customer_id")["reason"].to_dict() == {
        "C006": "no open channel the customer consented to"}
    assert res.plan["customer_id"].tolist() == ["C007"]


def test_hardship_gets_care_from_a_person_first_and_is_never_held_out():
    n = 40
    s = scored(n, hardship=[i % 4 == 0 for i in range(n)])
    spec = spec_with(phone_only=False, holdout={"share": 0.5})
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    care = res.plan[res.plan["customer_id"].isin(s.index[s["hardship"]])]
    assert len(care) == 10
    assert set(care["channel"]) <= {"phone", "branch"}
    assert set(care["theme"]) == {"care_checkin"} and set(care["wave"]) == {0}
    assert set(care["week_start"]) == {"2026-12-07"}
    assert not res.holdout["customer_id"].isin(care["customer_id"]).any()


def test_holdout_is_stable_never_contacted_and_keyed_by_campaign():
    s = scored(2000)
    spec = spec_with(phone_only=False)
    a = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    b = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    assert a.holdout.equals(b.holdout)
    assert 0.08 < len(a.holdout) / 2000 < 0.12
    assert not a.plan["customer_id"].isin(a.holdout["customer_id"]).any()
    other = hash01(s.index, "another:holdout") < 0.1
    assert set(s.index[other]) != set(a.holdout["customer_id"])


def test_recent_contacts_push_the_first_touch_back():
    s = scored(2, last_contact=pd.to_datetime(["2026-12-01", "2025-01-01"]).astype("datetime64[s]").to_numpy())
    spec = spec_with(waves={**NO_WAVES, "pilot_weeks": 1}, holdout={"share": 0.0})
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    weeks = res.plan.set_index("customer_id")["week_start"].to_dict()
    # contacted 2026-12-01: not before 2026-12-31 (30 days), i.e. the week of 2027-01-04
    assert weeks == {"C000": "2027-01-04", "C001": "2026-12-14"}


def test_pilot_samples_every_segment_and_no_segment_goes_at_once():
    n = 3000
    segs = np.array(["S01", "S02", "S03"])[np.arange(n) % 3]
    s = scored(n, segment_id=segs)
    spec = spec_with(phone_only=False, rm={"calls_per_week": 10_000})
    res = build_plan(s, fit_for(segs, spec), spec, AS_OF)
    plan = res.plan
    pilot = plan[plan["wave"] == 1]
    assert set(pilot["segment_id"]) == {"S01", "S02", "S03"}
    assert set(pilot["week_start"]) == {"2026-12-07"}
    per = plan.groupby(["segment_id", "wave"]).size().unstack(fill_value=0)
    sizes = plan.groupby("segment_id").size()
    assert (per.max(axis=1) / sizes <= 0.4 + 1e-9).all()
    # main waves wait for the pilot's two-week response window
    assert plan[plan["wave"] >= 2]["week_start"].min() == "2026-12-28"


@pytest.mark.parametrize("share", [0.0, 0.25])
def test_every_customer_is_accounted_for(share):
    s = scored(500, do_not_contact=[i % 10 == 0 for i in range(500)])
    spec = spec_with(holdout={"share": share}, rm={"calls_per_week": 5})
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    parts = [res.plan["customer_id"], res.suppressed["customer_id"], res.holdout["customer_id"],
             res.unscheduled["customer_id"]]
    allc = pd.concat(parts)
    assert allc.is_unique and set(allc) == set(s.index)
    assert set(res.unscheduled["reason"]) == {"no capacity left"}


def test_a_wave_is_spread_over_its_weeks_in_priority_order():
    spec = spec_with(waves={"pilot_share": 0.0, "response_window_days": 0, "max_release_share": 1.0,
                            "wave_weeks": 3}, holdout={"share": 0.0}, rm={"calls_per_week": 100})
    s = scored(9)
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    weeks = res.plan.groupby("week_start", observed=True)["customer_id"].apply(list).to_dict()
    assert weeks == {"2026-12-14": ["C000", "C001", "C002"], "2026-12-21": ["C003", "C004", "C005"],
                     "2026-12-28": ["C006", "C007", "C008"]}
