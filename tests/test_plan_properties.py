"""Property tests: the plan's rules hold for any book and any spec."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactivate.config import load_campaign
from reactivate.plan import POOL, build_plan
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
    spec = dataclasses.replace(
        spec,
        channels=chans,
        rm=dataclasses.replace(spec.rm, calls_per_week=draw(st.integers(0, 10)),
                               pool_calls_per_week=draw(st.integers(0, 10))),
        holdout=dataclasses.replace(spec.holdout, share=draw(st.floats(0, 0.5))),
        waves=dataclasses.replace(spec.waves, pilot_share=draw(st.floats(0, 0.5)),
                                  max_release_share=draw(st.floats(0.05, 1.0))),
        campaign=dataclasses.replace(spec.campaign, horizon_weeks=draw(st.integers(1, 12))),
    )
    return s, spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books_and_specs())
def test_plan_rules_hold_for_any_book(case):
    s, spec = case
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
    # capacities per week: channel, RM and pool
    for (_, ch), k in plan.groupby(["week_start", "channel"]).size().items():
        assert k <= spec.channels[ch].weekly_capacity
    calls = plan[plan["channel"] == "phone"].groupby(["week_start", "rm_id"]).size()
    for (_, rm), k in calls.items():
        assert k <= (spec.rm.pool_calls_per_week if rm == POOL else spec.rm.calls_per_week)
    # one touch per customer, and every customer accounted for exactly once
    assert plan.index.is_unique
    every = pd.concat([res.plan["customer_id"], res.suppressed["customer_id"], res.holdout["customer_id"],
                       res.unscheduled["customer_id"]])
    assert every.is_unique and set(every) == set(s.index)
    # minimum gap after a recent contact
    last = c["last_contact"]
    gap = (pd.to_datetime(plan["week_start"]) - last).dt.days
    assert (gap.dropna() >= spec.policy.skip_contacted_within_days).all()
