"""Property tests: the plan's rules hold for any book and any spec."""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactivate.config.campaign import Journey, JourneyStep, load_campaign
from reactivate.outputs.files import csv_bytes
from reactivate.planning.plan import build_plan
from reactivate.schema import CHANNELS
from tests.conftest import AS_OF
from tests.test_plan import fit_for, scored


@st.composite
def books_and_specs(draw):
    n = draw(st.integers(1, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    s = scored(
        n,
        segment_id=rng.choice(["S01", "S02", "S03", "hardship"], n),
        rm_id=pd.array(np.where(rng.random(n) < 0.2, None, rng.choice(["RM1", "RM2", "RM3"], n)), dtype="string"),
        p_reactivate=rng.uniform(0.001, 0.6, n),
        value=rng.uniform(10, 5000, n),
        do_not_contact=rng.random(n) < 0.1,
        deceased=rng.random(n) < 0.03,
        hardship=rng.random(n) < 0.1,
        age=rng.uniform(10, 90, n),
        contacts_30d=rng.integers(0, 3, n).astype(float),
        last_contact=pd.to_datetime(
            np.where(rng.random(n) < 0.4, "2026-11-20", "2024-01-01")).astype("datetime64[s]").to_numpy(),
    )
    s["priority_rank"] = np.argsort(np.argsort(-s["p_reactivate"] * s["value"])) + 1
    for ch in CHANNELS:
        s[f"has_{ch}"] = rng.random(n) < 0.7
        s[f"consent_{ch}"] = rng.random(n) < 0.7
        s[f"opted_out_{ch}"] = rng.random(n) < 0.05
    spec = load_campaign(None)
    chans = {ch: dataclasses.replace(c, weekly_capacity=draw(st.integers(0, 40))) for ch, c in spec.channels.items()}
    journeys = {}
    if draw(st.booleans()):
        steps = tuple(JourneyStep(channel=draw(st.sampled_from(CHANNELS)), gap_days=draw(st.integers(0, 21)))
                      for _ in range(draw(st.integers(1, 4))))
        journeys["j1"] = Journey(steps=steps, segments=tuple(draw(st.sets(st.sampled_from(["S01", "S02", "hardship"])))))
    spec = dataclasses.replace(
        spec,
        channels=chans,
        journeys=journeys,
        policy=dataclasses.replace(spec.policy, max_touches=draw(st.integers(1, 4)),
                                   max_touches_30d=draw(st.integers(1, 3)), min_gap_days=draw(st.integers(0, 21))),
        optimizer=dataclasses.replace(spec.optimizer, method=draw(st.sampled_from(["lagrangian", "exact"]))),
        rm=dataclasses.replace(spec.rm, calls_per_week=draw(st.integers(0, 10)),
                               pool_calls_per_week=draw(st.integers(0, 10)),
                               overrides={"RM2": draw(st.integers(0, 10))}),
        holdout=dataclasses.replace(spec.holdout, share=draw(st.floats(0, 0.5))),
        waves=dataclasses.replace(spec.waves, pilot_share=draw(st.floats(0, 0.5)),
                                  max_release_share=draw(st.floats(0.05, 1.0))),
        campaign=dataclasses.replace(spec.campaign, horizon_weeks=draw(st.integers(1, 12))),
    )
    return s, spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books_and_specs())
def test_plan_rules_hold_for_any_book(case):
    s, spec = case
    # the price iteration even on these small books (the default solves them exactly)
    with mock.patch("reactivate.planning.optimizer.EXACT_BELOW", 0):
        res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    plan = res.plan.set_index("customer_id")
    c = s.loc[plan.index]
    # consent is absolute, per channel
    for ch in CHANNELS:
        on = (plan["channel"] == ch).to_numpy()
        ok = c[f"has_{ch}"] & c[f"consent_{ch}"] & ~c[f"opted_out_{ch}"]
        assert ok.to_numpy()[on].all(), ch
    assert not (c["do_not_contact"] | c["deceased"]).any()
    assert not (c["age"] < spec.policy.min_age).any()
    # holdout never contacted; hardship never held out and only human channels
    assert not plan.index.isin(res.holdout["customer_id"]).any()
    assert not s.loc[res.holdout["customer_id"], "hardship"].any()
    assert plan.loc[c["hardship"].to_numpy(), "channel"].isin(["phone", "branch"]).all()
    # capacities per week: channel, RM and pool, as reported and as recounted from the plan
    cap = res.capacity
    assert (cap["used"] <= cap["capacity"]).all()
    ch_cap = cap[cap["resource"] == "channel"].set_index(["week_start", "name"])["capacity"]
    for (wk, ch), k in plan.groupby(["week_start", "channel"], observed=True).size().items():
        assert k <= ch_cap[(wk, ch)] <= spec.channels[ch].weekly_capacity
    rm_cap = cap[cap["resource"].isin(["rm", "pool"])].set_index(["week_start", "name"])["capacity"]
    calls = plan[plan["channel"] == "phone"].groupby(["week_start", "rm_id"], observed=True).size()
    for key, k in calls.items():
        assert k <= rm_cap[key]
        rm = key[1]
        assert rm_cap[key] <= (spec.rm.pool_calls_per_week if rm == "POOL"
                               else spec.rm.overrides.get(rm, spec.rm.calls_per_week))
    # contact policy: touches per campaign, minimum gap, 30 days (history included)
    per = plan.groupby(level=0).size()
    assert (per <= spec.policy.max_touches).all()
    days = pd.to_datetime(plan["week_start"].astype(str))
    for cid, d in days.groupby(level=0):
        d = d.sort_values().to_numpy()
        gaps = np.diff(d).astype("timedelta64[D]").astype(int)
        assert (gaps >= max(spec.policy.min_gap_days, 7)).all()
        for t in d:
            recent = ((d <= t) & (d > t - np.timedelta64(30, "D"))).sum()
            hist = s.loc[cid, "contacts_30d"] if (t - np.datetime64(AS_OF)).astype("timedelta64[D]").astype(int) < 30 \
                else 0
            assert recent + hist <= max(spec.policy.max_touches_30d, hist + 1)
    # every customer accounted for exactly once (first touches)
    first = res.plan.drop_duplicates("customer_id")["customer_id"]
    every = pd.concat([first, res.suppressed["customer_id"], res.holdout["customer_id"],
                       res.unscheduled["customer_id"]])
    assert every.is_unique and set(every) == set(s.index)
    # minimum gap after a recent contact
    last = c["last_contact"]
    gap = (days - last).dt.days
    assert (gap.dropna() >= spec.policy.skip_contacted_within_days).all()
    # the pilot samples every segment big enough; no segment is released all at once
    firsts = res.plan.drop_duplicates("customer_id")
    pool_sizes = s.index.difference(pd.Index(res.suppressed["customer_id"])).difference(
        pd.Index(res.holdout["customer_id"]))
    seg_pool = s.loc[pool_sizes]  # the pool a segment's waves are cut from (care customers included)
    released = firsts[firsts["wave"] >= 1].groupby(["segment_id", "wave"], observed=True).size()
    for (sg, _), k in released.items():
        size = (seg_pool["segment_id"] == sg).sum()
        assert k <= max(np.ceil(size * spec.waves.pilot_share), np.floor(size * spec.waves.max_release_share), 1)
    # same inputs, same bytes
    with mock.patch("reactivate.planning.optimizer.EXACT_BELOW", 0):
        again = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    cols = [c_ for c_ in res.plan.columns if c_ != "pos"]
    assert csv_bytes(again.plan[cols]) == csv_bytes(res.plan[cols])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books_and_specs())
def test_the_pilot_has_every_segment(case):
    s, spec = case
    # room for everyone, no policy in the way, every customer worth a touch on every channel
    spec = dataclasses.replace(spec, waves=dataclasses.replace(spec.waves, pilot_share=0.2),
                               rm=dataclasses.replace(spec.rm, calls_per_week=1000, pool_calls_per_week=1000,
                                                      overrides={}),
                               channels={k: dataclasses.replace(v, weekly_capacity=10_000)
                                         for k, v in spec.channels.items()},
                               policy=dataclasses.replace(spec.policy, skip_contacted_within_days=0, min_gap_days=0,
                                                          max_touches_30d=10))
    s = s.assign(contacts_30d=0.0, value=1e5, **{f"{k}_{ch}": k != "opted_out" for ch in CHANNELS
                                                  for k in ("has", "consent", "opted_out")})
    res = build_plan(s, fit_for(s["segment_id"], spec), spec, AS_OF)
    pilot = set(res.plan.loc[res.plan["wave"] == 1, "segment_id"].astype(str))
    out = set(res.suppressed["customer_id"]) | set(res.holdout["customer_id"])
    cand = s[~s.index.isin(out) & ~s["hardship"]]
    assert pilot == set(cand["segment_id"])
