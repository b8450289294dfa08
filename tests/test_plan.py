"""The staged plan on small hand-made scored tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import CampaignSpec, Channel, load_campaign
from reactivate.planning.holdout import hash01
from reactivate.planning.plan import build_plan
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
    per = plan.groupby(["segment_id", "wave"], observed=True).size().unstack(fill_value=0)
    sizes = plan.groupby("segment_id", observed=True).size()
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


def test_journey_steps_follow_with_their_gaps_only_on_eligible_channels():
    from reactivate.config.campaign import Journey, JourneyStep

    journey = Journey(steps=(JourneyStep("wechat"), JourneyStep("phone", gap_days=7),
                             JourneyStep("branch", gap_days=7)))
    spec = spec_with(phone_only=False, waves=NO_WAVES, holdout={"share": 0.0},
                     policy={"max_touches": 3, "max_touches_30d": 3, "min_gap_days": 7})
    spec = dataclasses.replace(spec, journeys={"care_then_call": journey})
    s = scored(3, has_wechat=[True, False, True], has_branch=[True, True, False])
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    got = {cid: list(zip(g["step"], g["channel"].astype(str), g["week_start"].astype(str), strict=True))
           for cid, g in res.plan.groupby("customer_id")}
    assert got["C000"] == [(1, "wechat", "2026-12-14"), (2, "phone", "2026-12-21"), (3, "branch", "2026-12-28")]
    # no WeChat: the journey starts with the call; no branch: it ends after the call
    assert got["C001"] == [(2, "phone", "2026-12-14"), (3, "branch", "2026-12-21")]
    assert got["C002"] == [(1, "wechat", "2026-12-14"), (2, "phone", "2026-12-21")]
    cond = res.plan.set_index(["customer_id", "step"])["condition"]
    assert cond[("C000", 1)] == "" and cond[("C000", 2)] == "if no response"
    assert set(res.plan["journey"]) == {"care_then_call"}


def test_journey_respects_the_contact_policy():
    from reactivate.config.campaign import Journey, JourneyStep

    journey = Journey(steps=(JourneyStep("wechat"), JourneyStep("phone", gap_days=3), JourneyStep("branch")))
    spec = spec_with(phone_only=False, waves=NO_WAVES, holdout={"share": 0.0},
                     policy={"max_touches": 2, "max_touches_30d": 2, "min_gap_days": 14})
    spec = dataclasses.replace(spec, journeys={"j": journey})
    s = scored(1)
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    # the 3-day gap is stretched to the 14-day minimum; the third step would exceed two touches
    assert res.plan["week_start"].astype(str).tolist() == ["2026-12-14", "2026-12-28"]
    assert res.stats["journey_steps"]["not_scheduled"] == {"contact policy: touches per campaign": 1}


def test_blackout_dates_and_holidays_scale_capacity():
    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0}, rm={"calls_per_week": 5})
    spec = dataclasses.replace(spec, campaign=dataclasses.replace(
        spec.campaign, blackout_dates=(dt.date(2026, 12, 15), dt.date(2026, 12, 16))))
    s = scored(3)
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    cap = res.capacity.set_index(["week_start", "resource", "name"])["capacity"]
    # week of 12-14: two of five call days blacked out; week of 12-28: New Year's Day is a holiday
    assert cap[("2026-12-14", "rm", "RM1")] == 3
    assert cap[("2026-12-21", "rm", "RM1")] == 5
    assert cap[("2026-12-28", "rm", "RM1")] == 4
    assert cap[("2026-12-14", "channel", "phone")] == 60_000
    bt = res.plan.set_index("customer_id")["best_time"]
    assert bt["C000"].startswith("Mon 12-14 to Fri 12-18")


def test_rm_overrides_from_a_file(tmp_path):
    (tmp_path / "rms.csv").write_text("rm_id,calls_per_week\nRM1,2\nRM9,0\n")
    (tmp_path / "c.toml").write_text('[rm]\ncalls_per_week = 50\noverrides_file = "rms.csv"\n'
                                     '[rm.overrides]\nRM9 = 7\n')
    spec = load_campaign(tmp_path / "c.toml")
    assert spec.rm.overrides == {"RM1": 2, "RM9": 7}
    spec = dataclasses.replace(spec, channels={k: (v if k == "phone" else dataclasses.replace(v, weekly_capacity=0))
                                               for k, v in spec.channels.items()},
                               waves=dataclasses.replace(spec.waves, **NO_WAVES),
                               holdout=dataclasses.replace(spec.holdout, share=0.0))
    s = scored(5)
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    assert res.plan.groupby("week_start", observed=True).size().tolist() == [2, 2, 1]


@pytest.mark.parametrize("text, message", [
    ("rm_id,calls\nRM1,2\n", "missing column(s) calls_per_week"),
    ("rm_id,calls_per_week\nRM1,two\nRM2,-1\n", "2 value(s) not a whole number >= 0, first at line(s) [2, 3]"),
    ("rm_id,calls_per_week\nRM1,2\nRM1,3\n", "1 repeated RM(s), first at line(s) [3]"),
])
def test_bad_rm_overrides_file(tmp_path, text, message):
    from reactivate.errors import ConfigError

    (tmp_path / "rms.csv").write_text(text)
    (tmp_path / "c.toml").write_text('[rm]\noverrides_file = "rms.csv"\n')
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_campaign(tmp_path / "c.toml")


def test_holdouts_of_two_campaigns_never_overlap_and_keep_their_share():
    s = scored(20_000)
    spec = spec_with(phone_only=False, holdout={"share": 0.2})
    a = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    other = dataclasses.replace(spec, campaign=dataclasses.replace(spec.campaign, id="next-campaign"),
                                holdout=dataclasses.replace(spec.holdout, exclusive_with={"reactivation": 0.2}))
    b = build_plan(s, fit_for(s["segment_id"], other), other, AS_OF)
    assert not set(a.holdout["customer_id"]) & set(b.holdout["customer_id"])
    assert 0.18 < len(b.holdout) / len(s) < 0.22
    # without the rule they would overlap by about 0.2 x 0.2
    free = dataclasses.replace(other, holdout=dataclasses.replace(other.holdout, exclusive_with={}))
    c = build_plan(s, fit_for(s["segment_id"], free), free, AS_OF)
    assert len(set(a.holdout["customer_id"]) & set(c.holdout["customer_id"])) > 500


def test_holdout_share_per_segment_and_the_mde_warning():
    n = 4000
    s = scored(n, segment_id=np.where(np.arange(n) % 2 == 0, "S01", "S02"), p_reactivate=[0.05] * n)
    spec = spec_with(phone_only=False, holdout={"share": 0.3, "segment_share": {"S02": 0.01},
                                                "baseline_share": 0.4})
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    share = res.holdout.groupby("segment_id", observed=True).size() / (n / 2)
    assert 0.27 < share["S01"] < 0.33 and share["S02"] < 0.02
    mde = {m["segment_id"]: m for m in res.stats["holdout_mde"]}
    # control rate 0.4 x 0.05 = 0.02, expected uplift 0.03; S01's 600 held out detect about 0.02, S02's 20
    # only about 0.09
    assert mde["S01"]["warning"] == "" and mde["S01"]["mde"] < 0.03
    assert mde["S02"]["mde"] > 0.03 and "S02" in mde["S02"]["warning"]
    assert res.stats["warnings"] == [mde["S02"]["warning"]]
    # the textbook figure: z(0.975) + z(0.8) = 2.8016
    m = mde["S01"]
    expect = 2.8016 * np.sqrt(0.05 * 0.95 / m["treated"] + 0.02 * 0.98 / m["holdout"])
    assert m["mde"] == pytest.approx(expect, abs=1e-4)


def test_segment_theme_and_a_campaign_theme_of_its_own():
    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0})
    spec = dataclasses.replace(spec, themes=dataclasses.replace(
        spec.themes, segments={"S01": "spring_savings"},
        text={"spring_savings": {"en": "Hello, a spring savings idea", "zh": "您好，春季储蓄"}}))
    s = scored(2, event=["maturity", "none"])
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    assert res.plan.set_index("customer_id")["theme"].to_dict() == {"C000": "maturity_reminder",
                                                                     "C001": "spring_savings"}


def test_exact_mode_meets_the_same_rules_and_reports_no_gap():
    s = scored(300, p_reactivate=np.linspace(0.6, 0.01, 300))
    spec = spec_with(phone_only=False, rm={"calls_per_week": 7})
    fast = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    exact = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF, method="exact")
    assert exact.stats["optimizer"]["method"] == "exact" and exact.stats["optimizer"]["gap"] == 0
    assert fast.stats["optimizer"]["objective"] <= exact.stats["optimizer"]["objective"] + 1e-6
    assert fast.stats["optimizer"]["objective"] >= 0.98 * exact.stats["optimizer"]["objective"]
    assert fast.stats["optimizer"]["bound"] >= exact.stats["optimizer"]["objective"] - 1e-6
    cap = exact.capacity
    assert (cap["used"] <= cap["capacity"]).all()


def test_touches_already_made_in_this_campaign_count_against_the_cap():
    from reactivate.dormancy.customers import contact_features

    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0}, policy={"max_touches": 1})
    contacts = pd.DataFrame({"customer_id": ["C000", "C001"], "date": pd.to_datetime(["2026-10-01", "2026-10-01"]),
                             "channel": ["phone", "phone"], "campaign": [spec.campaign.id, "another"]})
    feats = contact_features(contacts, pd.Index(["C000", "C001"]), pd.Timestamp(AS_OF), spec)
    assert feats["touches_campaign"].tolist() == [1.0, 0.0]
    s = scored(2, touches_campaign=feats["touches_campaign"].to_numpy())
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    assert res.plan["customer_id"].tolist() == ["C001"]
    assert res.unscheduled.set_index("customer_id")["reason"].to_dict() == {
        "C000": "contact policy: touches per campaign used"}
    assert res.unscheduled["reason_kind"].tolist() == ["policy"]


def test_rank_within_groups_by_score_then_row():
    import numpy as np

    from reactivate.planning.waves import rank_within

    g = np.array([1, 0, 1, 1, 0, 2, 1])
    s = np.array([0.5, 0.2, 0.1, 0.5, 0.2, 0.9, 0.3])
    m = np.array([True, True, True, True, True, True, False])
    # group 1: rows 2 (0.1), 0 (0.5), 3 (0.5, after row 0); group 0: rows 1, 4; group 2: row 5; row 6 masked
    assert rank_within(g, s, m).tolist() == [1, 0, 0, 2, 1, 0, 7]
