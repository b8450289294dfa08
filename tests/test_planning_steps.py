"""Each planning step on its own, on small tables worked out by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import Journey, JourneyStep
from reactivate.planning.allocation import (
    Touches,
    allocate_first_touches,
    first_touches,
    priority_order,
)
from reactivate.planning.audience import segment_codes, select_audience
from reactivate.planning.capacity import POOL, CapacityUse, capacity_table, rm_positions, weekly_capacity
from reactivate.planning.followups import (
    FOLLOWING_UP,
    RESTING,
    add_followup_use,
    followup_candidates,
    held_back_reasons,
    schedule_followups,
)
from reactivate.planning.holdout import hash01, holdout_draw, holdout_mask
from reactivate.planning.journeys import (
    AFTER_HORIZON,
    NO_CAPACITY,
    TOUCHES_PER_30_DAYS,
    TOUCHES_PER_CAMPAIGN,
    assign_journeys,
    first_steps_only,
    schedule_later_steps,
)
from reactivate.planning.plan import build_plan
from reactivate.planning.policy import ContactWindow, contact_window
from reactivate.planning.result import (
    CARE_REASON,
    CONTACTED_TOO_RECENTLY,
    NO_OPEN_CHANNEL,
    NOT_WORTH_ITS_COST,
    RELEASED_TOO_LATE,
    TOUCHES_USED,
    PlanResult,
    touch_reason,
    unscheduled_reasons,
)
from reactivate.planning.result import NO_CAPACITY as LEFT_WITHOUT_CAPACITY
from reactivate.planning.summary import counts, plan_summary
from reactivate.planning.suppression import channel_eligibility, may_contact_on, suppression_reasons
from reactivate.planning.themes import (
    CARE,
    DORMANCY_NOTICE,
    FESTIVAL,
    FIXED_THEMES,
    MATURITY,
    WELCOME_BACK,
    base_themes,
    touch_themes,
    week_festivals,
)
from reactivate.planning.values import ChannelValues, channel_values
from reactivate.planning.waves import release_weeks
from reactivate.schema import CHANNELS
from reactivate.scoring.timing import week_starts
from tests.conftest import AS_OF
from tests.test_plan import NO_WAVES, fit_for, scored, spec_with

WEEKS = week_starts(spec_with(), AS_OF)  # twelve Mondays from 2026-12-07


def dates(*days: str | None) -> np.ndarray:
    return pd.to_datetime(list(days)).astype("datetime64[s]").to_numpy()


def two_channels(spec, **capacity):
    """The spec with phone and sms only (their default costs; capacities as given, else the defaults)."""
    chans = {ch: dataclasses.replace(spec.channels[ch], **({"weekly_capacity": capacity[ch]} if ch in capacity else {}))
             for ch in ("phone", "sms")}
    return dataclasses.replace(spec, channels=chans)


# --------------------------------------------------------------------------- suppression


def test_a_channel_needs_reach_consent_no_opt_out_and_a_person_for_hardship():
    spec = spec_with(phone_only=False)
    s = scored(4, hardship=[False, False, False, True])
    s.loc["C001", "has_sms"] = False
    s.loc["C002", "opted_out_phone"] = True
    s.loc["C002", "consent_email"] = False
    chans, ok = channel_eligibility(s, spec)
    assert chans == list(CHANNELS)
    table = pd.DataFrame(ok, index=s.index, columns=chans)
    assert table.loc["C000"].all()
    assert table.loc["C001"].drop("sms").all() and not table.loc["C001", "sms"]
    assert table.loc["C002"][~table.loc["C002"]].index.tolist() == ["phone", "email"]
    # hardship: the human channels only
    assert table.loc["C003"][table.loc["C003"]].index.tolist() == ["phone", "branch"]


def test_the_first_suppression_reason_that_applies_is_given():
    s = scored(7, deceased=[True, False, False, False, False, False, False],
               legal_hold=[True, True, False, False, False, False, False],
               do_not_contact=[False, False, True, False, False, False, False],
               age=[50.0, 50, 50, 17, np.nan, 50, 50],
               complaint_recent=[False, False, True, False, False, True, False])
    eligible = np.ones((7, 2), dtype=bool)
    eligible[6] = False
    reasons = suppression_reasons(s, eligible, spec_with())
    # an unknown age is not a minor
    assert reasons.tolist() == ["deceased", "legal hold", "do not contact", "minor", "", "recent complaint",
                                "no consenting channel"]


def test_who_may_be_contacted_on_one_channel_follows_the_plans_rules():
    spec = two_channels(spec_with(phone_only=False))
    s = scored(5, do_not_contact=[False, True, False, False, False], age=[50.0, 50, 16, 50, 50],
               hardship=[False, False, False, True, False])
    s.loc["C004", "consent_sms"] = False
    assert may_contact_on(s, spec, "phone").tolist() == [True, False, False, True, True]
    # no automated push for hardship; no consent, no message
    assert may_contact_on(s, spec, "sms").tolist() == [True, False, False, False, False]
    # a channel the campaign does not use is open to nobody
    assert not may_contact_on(s, spec, "branch").any()


# --------------------------------------------------------------------------- holdout


def test_the_holdout_draw_is_a_stable_hash_of_id_and_campaign():
    ids = pd.Index([f"C{i:04d}" for i in range(4000)])
    u = hash01(ids, "camp:holdout")
    assert ((u >= 0) & (u < 1)).all() and np.array_equal(u, hash01(ids, "camp:holdout"))
    codes, names = np.zeros(4000, dtype=np.int64), np.array(["S01"], dtype=object)
    spec = spec_with(holdout={"share": 0.25}, campaign={"id": "camp"})
    drawn = holdout_draw(ids, codes, names, spec)
    assert np.array_equal(drawn, u < 0.25)
    # another campaign's holdout is excluded, and the share drawn from the rest keeps the expected share
    excl = spec_with(holdout={"share": 0.25, "exclusive_with": {"other": 0.2}}, campaign={"id": "camp"})
    drawn2 = holdout_draw(ids, codes, names, excl)
    assert not (drawn2 & (hash01(ids, "other:holdout") < 0.2)).any()
    assert 0.22 < drawn2.mean() < 0.28


def test_the_holdout_leaves_out_the_suppressed_and_hardship_and_has_a_share_per_segment():
    ids = pd.Index([f"C{i}" for i in range(6)])
    codes, names = np.array([0, 0, 0, 1, 1, 1]), np.array(["S01", "S02"], dtype=object)
    spec = spec_with(holdout={"share": 0.0, "segment_share": {"S02": 1.0}})
    suppressed = np.array([False, False, False, True, False, False])
    hardship = np.array([False, False, False, False, True, False])
    assert holdout_mask(ids, codes, names, suppressed, hardship, spec).tolist() == [False] * 5 + [True]


def test_the_audience_is_who_is_neither_suppressed_nor_held_out():
    s = scored(4, do_not_contact=[True, False, False, False], segment_id=["S02", "S01", "S02", "S01"])
    spec = spec_with(holdout={"share": 0.0, "segment_share": {"S02": 1.0}})
    audience = select_audience(s, spec)
    assert audience.suppression.tolist() == ["do not contact", "", "", ""]
    assert audience.holdout.tolist() == [False, False, True, False]
    assert audience.pool.tolist() == [False, True, False, True]
    assert list(audience.segment_names) == ["S01", "S02"] and audience.segment_codes.tolist() == [1, 0, 1, 0]
    assert audience.segment_ids.tolist() == ["S02", "S01", "S02", "S01"]
    codes, names = segment_codes(pd.Series(pd.Categorical(["b", "a"], categories=["b", "a"])))
    assert codes.tolist() == [0, 1] and list(names) == ["b", "a"]  # a categorical keeps its categories


# --------------------------------------------------------------------------- waves and policy


def test_main_waves_release_by_priority_and_dated_events_move_the_release():
    # seven customers of one segment, no pilot: main waves start in week 1 + 14 days = week 3, release
    # floor(7 x 0.5) = 3 each over two weeks; a deadline comes forward, a maturity waits for the main start
    spec = spec_with(holdout={"share": 0.0}, waves={"pilot_share": 0.0, "pilot_weeks": 1,
                                                    "response_window_days": 14, "max_release_share": 0.5,
                                                    "wave_weeks": 2})
    s = scored(7, hardship=[False] * 4 + [True, False, False],
               event=["none"] * 5 + ["deadline", "maturity"], best_week=[0, 0, 0, 0, 0, 1, 1])
    release = release_weeks(s, select_audience(s, spec), spec)
    # main ranks 0..5 (C004 is care): waves 0,0,0,1,1,1, offsets (rank % 3) x 2 // 3 = 0,0,1,0,0,1
    assert release.week.tolist() == [3, 3, 4, 5, 0, 1, 3]
    assert release.wave.tolist() == [2, 2, 2, 3, 0, 3, 3]
    assert not release.pilot.any()


def test_the_pilot_samples_each_segment_large_enough():
    spec = spec_with(holdout={"share": 0.0}, waves={"pilot_share": 0.5, "pilot_min_customers": 3})
    s = scored(6, segment_id=["S01"] * 4 + ["S02"] * 2)
    release = release_weeks(s, select_audience(s, spec), spec)
    # S01: ceil(4 x 0.5) = 2 in the pilot, released at once in wave 1; S02 is too small for a pilot
    assert release.pilot[:4].sum() == 2 and not release.pilot[4:].any()
    assert set(release.week[release.pilot]) == {0} and set(release.wave[release.pilot]) == {1}
    assert (release.wave[~release.pilot] >= 2).all()


def test_the_contact_policy_sets_the_earliest_week():
    # weeks start 2026-12-07; a gap of 7 days; the 30-day cap waits 30 days from the last contact
    spec = spec_with(policy={"min_gap_days": 7, "skip_contacted_within_days": 0, "max_touches_30d": 2,
                             "max_touches": 1})
    s = scored(5, last_contact=dates(None, "2026-11-20", "2026-12-05", "2026-11-20", None),
               contacts_30d=[0.0, 0.0, 0.0, 2.0, 0.0], touches_campaign=[0.0, 0, 0, 0, 1])
    window = contact_window(s, spec, WEEKS)
    # never contacted: week 0; 11-27: week 0; 12-12: week 1; capped, 12-20: week 2; touches used: never (12)
    assert window.earliest_week.tolist() == [0, 0, 1, 2, 12]
    assert window.touches_used.tolist() == [0, 0, 0, 0, 1]
    assert contact_window(s.drop(columns="touches_campaign"), spec, WEEKS).touches_used.tolist() == [0] * 5


# --------------------------------------------------------------------------- capacity and values


def test_capacity_is_scaled_by_open_days_per_channel_and_rm():
    spec = two_channels(spec_with(phone_only=False, rm={"calls_per_week": 10, "pool_calls_per_week": 7,
                                                        "overrides": {"RM2": 4}},
                                  campaign={"blackout_dates": (dt.date(2026, 12, 8),)}),
                        phone=100, sms=50)
    rm_id = pd.Series(pd.array(["RM2", None, "RM1", "RM2"], dtype="string"))
    cap = weekly_capacity(rm_id, spec, ["phone", "sms"], WEEKS)
    assert cap.phone == 0 and list(cap.rm_names) == ["RM1", "RM2", POOL]
    assert cap.rm_codes.tolist() == [1, 2, 0, 1]
    # week 0 has a blackout Tuesday (phone 4 of 5 days, sms 6 of 7); week 3 has New Year's Day (phone 4 of 5)
    assert cap.channel[0, :5].tolist() == [80, 100, 100, 80, 100]
    assert cap.channel[1, :5].tolist() == [42, 50, 50, 50, 50]
    assert cap.rm[:, 0].tolist() == [8, 3, 5] and cap.rm[:, 1].tolist() == [10, 4, 7]
    assert cap.rm[:, 3].tolist() == [8, 3, 5]
    assert cap.open_channels.tolist() == [True, True]


def test_capacity_use_counts_calls_for_their_rm_and_the_table_lists_the_pool_when_needed():
    spec = two_channels(spec_with(phone_only=False), phone=100, sms=50)
    with_pool = pd.Series(pd.array(["RM2", None, "RM1"], dtype="string"))
    cap = weekly_capacity(with_pool, spec, ["phone", "sms"], WEEKS[:2])
    use = CapacityUse.none(cap).plus(cap, np.array([0, 2, 1]), np.array([0, 0, 1]), np.array([0, 0, 1]))
    assert use.channel.tolist() == [[2, 0], [0, 1]]  # two calls in week 0, a message in week 1
    assert use.rm.tolist() == [[1, 0], [1, 0], [0, 0]]  # RM1, RM2, the pool: the message is no call
    table = capacity_table(cap, use, WEEKS[:2])
    assert table[["week_start", "resource", "name", "used"]].values.tolist() == [
        ["2026-12-07", "channel", "phone", 2], ["2026-12-07", "channel", "sms", 0],
        ["2026-12-07", "rm", "RM1", 1], ["2026-12-07", "rm", "RM2", 1], ["2026-12-07", "pool", POOL, 0],
        ["2026-12-14", "channel", "phone", 0], ["2026-12-14", "channel", "sms", 1],
        ["2026-12-14", "rm", "RM1", 0], ["2026-12-14", "rm", "RM2", 0], ["2026-12-14", "pool", POOL, 0]]
    everyone_has_an_rm = weekly_capacity(pd.Series(["RM1", "RM2"]), spec, ["phone", "sms"], WEEKS[:2])
    table = capacity_table(everyone_has_an_rm, CapacityUse.none(everyone_has_an_rm), WEEKS[:2])
    assert POOL not in set(table["name"])


def test_rm_positions_sort_the_rms_and_put_the_pool_last():
    codes, names = rm_positions(pd.Series(pd.Categorical(["b", None, "a"], categories=["b", "a"])))
    assert list(names) == ["a", "b", POOL] and codes.tolist() == [1, 2, 0]
    codes, names = rm_positions(pd.Series([None, None], dtype="string"))
    assert list(names) == [POOL] and codes.tolist() == [0, 0]


def test_a_channel_is_worth_its_expected_value_less_its_cost_and_care_comes_first():
    spec = two_channels(spec_with(phone_only=False))  # phone costs 6, sms 0.05
    s = scored(4, p_reactivate=[0.5, 0.1, 0.2, 0.3], value=[100.0] * 4, hardship=[False, False, True, False])
    s.loc["C003", "consent_phone"] = False
    fit = pd.DataFrame({"phone": [1.0], "sms": [0.5]}, index=["S01"])
    audience = select_audience(s, spec)
    values = channel_values(s, fit, audience, weekly_capacity(s["rm_id"], spec, audience.channels, WEEKS), spec)
    assert np.allclose(values.net, [[44, 24.95], [4, 4.95], [14, 9.95], [24, 14.95]])
    # care: above the best sale (44) plus the fit; no automated push in hardship
    assert values.util[2, 0] == pytest.approx(46.0) and values.util[2, 1] == -np.inf
    assert values.util[3, 0] == -np.inf  # no consent to calls
    assert values.best.tolist() == pytest.approx([44, 4.95, 46, 14.95])
    assert values.reachable.tolist() == [[True, True], [True, True], [True, False], [False, True]]
    closed = two_channels(spec, sms=0)
    values = channel_values(s, fit, audience, weekly_capacity(s["rm_id"], closed, audience.channels, WEEKS), closed)
    assert not values.reachable[:, 1].any() and values.util[3].tolist() == [-np.inf, -np.inf]


# --------------------------------------------------------------------------- themes and journeys


def test_themes_by_care_event_and_segment_with_named_keys():
    spec = spec_with(themes={"segments": {"S02": "savings_security"}})
    s = scored(6, hardship=[True, False, False, False, False, False],
               event=["deadline", "deadline", "maturity", "birthday", "none", "none"],
               segment_id=["S01"] * 5 + ["S02"])
    themes = base_themes(s, select_audience(s, spec), spec)
    assert themes.categories == [*FIXED_THEMES, "savings_security"]
    assert themes.names.tolist() == [CARE, DORMANCY_NOTICE, MATURITY, "birthday_greeting", WELCOME_BACK,
                                     "savings_security"]
    # ahead of a festival, the plain welcome back becomes a festival greeting; other themes stay
    festival = np.array(["Spring Festival"] * 6, dtype=object)
    codes = touch_themes(themes, np.arange(6), festival)
    assert [themes.categories[c] for c in codes] == [CARE, DORMANCY_NOTICE, MATURITY, "birthday_greeting",
                                                     FESTIVAL, "savings_security"]


def test_festivals_of_the_weeks():
    found, ahead = week_festivals(spec_with(), WEEKS)
    assert found[0] == (dt.date(2027, 1, 1), "New Year's Day")
    # a festival within 14 days after the week start
    assert ahead[:4].tolist() == ["", "", "New Year's Day 2027-01-01", "New Year's Day 2027-01-01"]


def journeys_spec(**policy):
    spec = spec_with(phone_only=False, policy={"min_gap_days": 7, "max_touches": 3, "max_touches_30d": 5, **policy},
                     rm={"calls_per_week": 1})
    return dataclasses.replace(spec, journeys={
        "care": Journey(steps=(JourneyStep("phone"), JourneyStep("branch", gap_days=14)), themes=(CARE,)),
        "welcome": Journey(steps=(JourneyStep("app"), JourneyStep("sms", gap_days=7), JourneyStep("phone", gap_days=7)),
                           segments=("S01",)),
    })


def test_the_first_matching_journey_and_its_first_step_the_customer_can_take():
    spec = journeys_spec()
    chans = list(CHANNELS)
    segment = np.array(["S01", "S01", "S02", "S01", "S01"], dtype=object)
    theme = np.array([WELCOME_BACK, WELCOME_BACK, WELCOME_BACK, CARE, WELCOME_BACK], dtype=object)
    reachable = np.ones((5, len(chans)), dtype=bool)
    reachable[1, chans.index("app")] = False  # starts with the message
    reachable[4, [chans.index("app"), chans.index("sms"), chans.index("phone")]] = False  # can take no step
    j = assign_journeys(spec, chans, segment, theme, reachable)
    assert j.names == ["care", "welcome"] and j.n_steps == 3
    assert j.journey.tolist() == [1, 1, -1, 0, -1]
    assert j.first_step.tolist() == [0, 1, 0, 0, 0]
    assert [chans[c] if c >= 0 else None for c in j.first_channel] == ["app", "sms", None, "phone", None]
    util = np.zeros((5, len(chans)))
    only = first_steps_only(util, j)
    assert np.isfinite(only).sum(axis=1).tolist() == [1, 1, len(chans), 1, len(chans)]
    assert np.isfinite(only[0, chans.index("app")])


def test_later_steps_follow_their_gaps_within_policy_and_capacity():
    spec = journeys_spec()
    chans = list(CHANNELS)
    n = 6
    j = assign_journeys(spec, chans, np.array(["S01"] * n, dtype=object), np.array([WELCOME_BACK] * n, dtype=object),
                        np.ones((n, len(chans)), dtype=bool))
    cap = weekly_capacity(pd.Series(["RM1", "RM1", "RM1", "RM1", "RM1", "RM2"]), spec, chans, WEEKS)
    first_week = np.array([0, 0, -1, 0, 11, 0])  # C002 got no first touch; C004's was in the last week
    first = Touches(np.array([0, 1, 3, 4, 5]), first_week[[0, 1, 3, 4, 5]], np.full(5, chans.index("app")),
                    np.zeros(5, dtype=np.int64))
    use = CapacityUse.none(cap).plus(cap, first.rows, first.week, first.channel)
    steps, use, summary = schedule_later_steps(
        j, first_week, touches_before=np.array([0.0, 1, 0, 0, 0, 0]), contacts_30d=np.array([0.0, 0, 0, 0, 0, 4]),
        capacity=cap, use=use, priority=np.arange(n, dtype=float), weeks=WEEKS, as_of=AS_OF, policy=spec.policy)
    sms, phone = steps
    # the message a week after the app push (7 days); C004 would be after the horizon, C005 over 5 in 30 days
    assert sms.rows.tolist() == [0, 1, 3] and sms.week.tolist() == [1, 1, 1] and sms.step.tolist() == [1, 1, 1]
    # the call a week later: C001 has used its three touches, and RM1 makes one call a week (C000 first)
    assert phone.rows.tolist() == [0] and phone.week.tolist() == [2]
    assert summary == {"scheduled": 4, "not_scheduled": {AFTER_HORIZON: 1, TOUCHES_PER_30_DAYS: 1,
                                                         TOUCHES_PER_CAMPAIGN: 1, NO_CAPACITY: 1}}
    assert use.rm[0, 2] == 1 and use.channel[chans.index("sms"), 1] == 3


# --------------------------------------------------------------------------- allocation


def test_care_first_then_the_pilot_then_priority():
    order = priority_order(np.array([1.0, 2, 3]), np.array([False, True, False]), np.array([False, False, True]))
    assert order.tolist() == [10.0, 8.0, 6.0]
    assert np.argsort(order).tolist() == [2, 1, 0]


def test_first_touches_go_to_the_pool_released_within_the_horizon():
    spec = two_channels(spec_with(phone_only=False), sms=0)
    s = scored(4)
    cap = weekly_capacity(s["rm_id"], spec, ["phone", "sms"], WEEKS)
    util = np.array([[10.0, -np.inf]] * 4)
    release = np.array([12, 0, 2, 0])  # C000 only after the horizon
    pool = np.array([True, False, True, True])  # C001 suppressed or held out
    alloc = allocate_first_touches(util, release, pool, np.arange(4.0), np.zeros(4, dtype=bool), cap, spec)
    # the delay cost makes the release week the best; nothing before it
    assert alloc.week.tolist() == [-1, -1, 2, 0] and alloc.channel.tolist() == [-1, -1, 0, 0]
    first = first_touches(alloc, np.array([0, 0, 1, 0]))
    assert first.rows.tolist() == [2, 3] and first.week.tolist() == [2, 0] and first.step.tolist() == [1, 0]
    both = Touches.concat([first, Touches(np.array([3]), np.array([1]), np.array([0]), np.array([1]))])
    ordered = both.ordered(np.array([0.0, 0, 1, 2]))
    assert list(zip(ordered.rows.tolist(), ordered.week.tolist(), strict=True)) == [(3, 0), (3, 1), (2, 2)]


# --------------------------------------------------------------------------- result


def test_why_a_customer_is_left_unscheduled():
    util = np.array([[-np.inf], [-1.0], [5.0], [5.0], [5.0], [5.0]])
    values = ChannelValues(util, util, np.isfinite(util))
    window = ContactWindow(np.array([0, 0, 0, 12, 0, 0]), np.array([0.0, 0, 1, 0, 0, 0]))
    start = np.array([0, 0, 0, 12, 12, 3])
    reasons = unscheduled_reasons(values, window, start, 12, spec_with().policy)  # max_touches 1
    assert reasons.tolist() == [NO_OPEN_CHANNEL, NOT_WORTH_ITS_COST, TOUCHES_USED, CONTACTED_TOO_RECENTLY,
                                RELEASED_TOO_LATE, LEFT_WITHOUT_CAPACITY]


def test_the_reason_of_a_touch():
    assert touch_reason("deadline soon", False, "") == "deadline soon"
    assert touch_reason("deadline soon", True, "Spring Festival") == f"{CARE_REASON}; ahead of Spring Festival"


def test_held_back_customers_are_planned_as_absent_but_listed():
    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0, "segment_share": {"S02": 1.0}}, rm={"calls_per_week": 3})
    s = scored(8, segment_id=["S01"] * 6 + ["S02"] * 2, do_not_contact=[False] * 5 + [True, False, False])
    held = np.array(["", "resting", "", "", "", "limit", "resting", ""], dtype=object)
    fit = fit_for(s["segment_id"], spec)
    res = build_plan(s, fit, spec, AS_OF, held_back=held)
    kept = np.flatnonzero(held == "")
    alone = build_plan(s.iloc[kept], fit, spec, AS_OF)
    cols = [c for c in alone.plan.columns if c != "pos"]
    assert res.plan[cols].equals(alone.plan[cols])
    assert (s.index[res.plan["pos"]] == res.plan["customer_id"]).all()
    # suppression and holdout are everyone's; a held-back customer suppressed (C005) or held out (C006) is
    # listed there only; C001 rests
    assert res.suppressed["customer_id"].tolist() == ["C005"]
    assert res.holdout["customer_id"].tolist() == ["C006", "C007"]
    assert res.unscheduled.set_index("customer_id")["reason"].astype(str).to_dict() == {"C001": "resting"}
    assert (res.stats["targets"], res.stats["suppressed"], res.stats["holdout"], res.stats["unscheduled"]) == (8, 1, 2, 1)
    nobody = build_plan(s, fit, spec, AS_OF, held_back=np.full(8, "", dtype=object))
    assert nobody.plan.equals(build_plan(s, fit, spec, AS_OF).plan)


def test_the_plan_summary_counts_touches_and_capacity_use():
    assert counts(["b", "a", "b"]) == {"a": 1, "b": 2}
    assert counts(pd.Categorical(["a"], categories=["a", "z"])) == {"a": 1, "z": 0}
    spec = spec_with(waves=NO_WAVES, holdout={"share": 0.0}, rm={"calls_per_week": 3})
    s = scored(5)
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    summary = plan_summary(res)
    assert summary["plan"]["touches"] == 5 and "weeks" not in summary["plan"]
    # no pilot: the main wave starts in the second week, three calls a week (every week is listed)
    assert summary["plan"]["by_week"]["2026-12-07"] == 0 and summary["plan"]["by_week"]["2026-12-14"] == 3
    assert summary["plan"]["by_channel"]["phone"] == 5
    assert summary["capacity_use"]["rm_calls"]["calls"] == 5
    assert summary["capacity_use"]["channels"]["phone"]["used"] == 5


# --------------------------------------------------------------------------- the weekly loop's rules


def outcomes_table(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "outcome", "date"])
    df["date"] = pd.to_datetime(df["date"])
    df["campaign_id"] = "reactivation"
    return df


START = dt.date(2026, 12, 14)


def test_followup_candidates_latest_positive_outcome_not_yet_followed_up():
    spec = spec_with(holdout={"share": 0.0, "segment_share": {"S09": 1.0}})
    customers = scored(8, do_not_contact=[False] * 5 + [True, False, False], segment_id=["S01"] * 7 + ["S09"])
    outcomes = outcomes_table([
        ("C000", "responded", "2026-12-09"),
        ("C001", "responded", "2026-12-01"), ("C001", "reactivated", "2026-12-09"),
        ("C002", "responded", "2026-12-09"), ("C002", "reactivated", "2026-12-09"),
        ("C003", "responded", "2026-10-01"),  # older than 28 days
        ("C004", "responded", "2026-12-09"),  # followed up since
        ("C005", "responded", "2026-12-09"),  # do not contact
        ("C006", "declined", "2026-12-09"),
        ("C007", "responded", "2026-12-09"),  # in the holdout
    ])
    issued = pd.DataFrame({"customer_id": ["C004"], "kind": ["follow_up"], "week_start": pd.to_datetime(["2026-12-10"])})
    cand = followup_candidates(customers, customers, spec, issued, outcomes, START)
    assert cand.values.tolist() == [["C000", "responded", pd.Timestamp("2026-12-09")],
                                    ["C001", "reactivated", pd.Timestamp("2026-12-09")],
                                    ["C002", "reactivated", pd.Timestamp("2026-12-09")]]
    off = dataclasses.replace(spec, followup=dataclasses.replace(spec.followup, enabled=False))
    assert followup_candidates(customers, customers, off, issued, outcomes, START).empty


def test_held_back_follow_up_first_then_rest_then_the_touch_limit():
    spec = spec_with(policy={"max_touches": 2})
    ids = pd.Index([f"C{i:03d}" for i in range(6)])
    cand = pd.DataFrame({"customer_id": ["C000", "C001"]})
    outcomes = outcomes_table([("C000", "declined", "2026-12-01"), ("C002", "declined", "2026-12-01"),
                               ("C005", "declined", "2026-01-01")])  # rested long enough (90 days)
    issued = pd.DataFrame({"customer_id": ["C003", "C003", "C002", "C002", "C004"], "kind": ["plan"] * 5})
    reasons, excluded = held_back_reasons(ids, cand, issued, outcomes, spec, START)
    limit = "campaign touch limit reached (policy.max_touches=2)"
    assert reasons.tolist() == [FOLLOWING_UP, FOLLOWING_UP, RESTING, limit, "", ""]
    assert excluded == {"follow-up": 2, "resting": 1, "touch limit": 1}


def week_capacity(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["week_start", "resource", "name", "capacity", "used"])


def test_followups_go_to_the_first_week_their_rm_has_calls_left():
    spec = spec_with(rm={"calls_per_week": 60, "pool_calls_per_week": 300})
    cap = week_capacity([
        ("2026-12-14", "channel", "phone", 100_000, 60), ("2026-12-14", "rm", "RM1", 60, 60),
        ("2026-12-14", "pool", POOL, 300, 0),
        ("2026-12-21", "channel", "phone", 100_000, 0), ("2026-12-21", "rm", "RM1", 60, 0),
        ("2026-12-21", "pool", POOL, 300, 0)])
    result = PlanResult(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), cap,
                        {"weeks": ["2026-12-14", "2026-12-21"]})
    cand = outcomes_table([("C000", "responded", "2026-12-09"), ("C001", "reactivated", "2026-12-09"),
                           ("C002", "reactivated", "2026-12-08")]).drop(columns="campaign_id")
    rm_id = pd.Series(["RM1", "RM1", None], index=["C000", "C001", "C002"])
    followups, not_placed = schedule_followups(cand, rm_id, result, spec)
    # RM1 has no call left in the first week; the pool has
    assert followups[["customer_id", "rm_id", "week_start"]].values.tolist() == [
        ["C002", POOL, "2026-12-14"], ["C000", "RM1", "2026-12-21"], ["C001", "RM1", "2026-12-21"]]
    assert not_placed == 0
    assert followups["reason"].iloc[2] == "follow-up (回访): reactivated on 2026-12-09"
    # one call a week on the channel: reactivated first, then the most recent
    tight = dataclasses.replace(spec, channels={**spec.channels, "phone": dataclasses.replace(
        spec.channels["phone"], weekly_capacity=1)})
    cap_tight = cap.assign(used=0)
    followups, not_placed = schedule_followups(cand, rm_id, dataclasses.replace(result, capacity=cap_tight), tight)
    assert followups[["customer_id", "week_start"]].values.tolist() == [["C001", "2026-12-14"],
                                                                        ["C002", "2026-12-21"]]
    assert not_placed == 1


def test_followups_count_in_the_capacity_table():
    spec = spec_with(rm={"calls_per_week": 60})
    cap = week_capacity([("2026-12-14", "channel", "phone", 100, 10), ("2026-12-14", "rm", "RM1", 60, 5),
                         ("2026-12-14", "pool", POOL, 300, 0)])
    fups = pd.DataFrame({"week_start": ["2026-12-14"] * 3, "rm_id": ["RM1", "RM1", "RM0"], "channel": "phone"})
    out = add_followup_use(cap, fups, spec)
    # RM0 had no row: added at the usual calls, in order (channels, RMs by name, the pool)
    assert out.values.tolist() == [["2026-12-14", "channel", "phone", 100, 13], ["2026-12-14", "rm", "RM0", 60, 1],
                                   ["2026-12-14", "rm", "RM1", 60, 7], ["2026-12-14", "pool", POOL, 300, 0]]
    assert add_followup_use(cap, fups.iloc[:0], spec) is cap
