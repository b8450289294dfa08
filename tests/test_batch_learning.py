"""Learning between waves: Beta–Binomial posteriors per segment × channel, Thompson sampling and UCB."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.errors import ConfigError
from reactivate.scoring.learn import apply_learning, current_counts, outcome_counts, posteriors
from tests.conftest import AS_OF, ROOT

FIT = pd.DataFrame({"phone": [1.0, 1.0], "sms": [0.5, 0.5]}, index=pd.Index(["S1", "S2"], name="segment_id"))
LEARNED = pd.DataFrame({"segment_id": ["S1", "S1"], "channel": ["sms", "phone"], "successes": [30, 1],
                        "trials": [100, 100]})


def spec_with(**learning):
    spec = load_campaign(None)
    return dataclasses.replace(spec, learning=dataclasses.replace(spec.learning, **learning))


def scores():
    return pd.DataFrame({"segment_id": pd.Categorical(["S1", "S2", "S1"]), "best_channel": "phone"},
                        index=pd.Index(["A", "B", "C"], name="customer_id"))


def test_posteriors_by_hand():
    post = posteriors(FIT, LEARNED, spec_with()).set_index(["segment_id", "channel"])
    # prior Beta(1, 19): strength 20, base rate 0.05; sms's prior mean 0.05 * 0.5 = 0.025
    sms = post.loc[("S1", "sms")]
    assert (sms["alpha"], sms["beta"]) == pytest.approx((20 * 0.025 + 30, 20 * 0.975 + 70))
    assert sms["mean"] == pytest.approx(30.5 / 120)
    phone = post.loc[("S1", "phone")]
    assert (phone["alpha"], phone["beta"]) == pytest.approx((1 + 1, 19 + 99))
    untouched = post.loc[("S2", "sms")]  # no data: the prior itself
    assert untouched["mean"] == pytest.approx(0.025) and untouched["trials"] == 0


def test_ucb_moves_the_channel_to_what_works():
    sc, fit, info = apply_learning(scores(), FIT, LEARNED, spec_with(method="ucb"), AS_OF)
    assert fit.loc["S1", "sms"] == 1.0 and fit.loc["S1", "phone"] < 0.2
    assert list(sc["best_channel"]) == ["sms", "phone", "sms"]  # S2 has no data: phone stays best
    assert info["touches_learned_from"] == 200 and info["cells_with_data"] == 2


def test_thompson_is_seeded_by_campaign_and_week():
    spec = spec_with(method="thompson")
    a = apply_learning(scores(), FIT, LEARNED, spec, AS_OF)[1]
    b = apply_learning(scores(), FIT, LEARNED, spec, AS_OF)[1]
    c = apply_learning(scores(), FIT, LEARNED, spec, AS_OF + dt.timedelta(days=7))[1]
    pd.testing.assert_frame_equal(a, b)  # the same week: the same draws
    assert not a.equals(c)
    assert a.loc["S1", "sms"] == 1.0  # 30% against 1%: sms wins every plausible draw
    off = apply_learning(scores(), FIT, LEARNED, spec_with(method="off"), AS_OF)[1]
    pd.testing.assert_frame_equal(off, FIT)


def test_bad_learning_config():
    with pytest.raises(ConfigError, match=r"learning.method='greedy' should be one of thompson, ucb, off"):
        apply_learning(scores(), FIT, LEARNED, spec_with(method="greedy"), AS_OF)
    with pytest.raises(ConfigError, match=r"learning.prior_alpha and learning.prior_beta must be > 0"):
        posteriors(FIT, LEARNED, spec_with(prior_beta=0.0))


def test_outcome_counts_use_the_segment_at_planning():
    outcomes = pd.DataFrame({"customer_id": ["A", "A", "B", "Z"], "channel": ["sms", "phone", "sms", "sms"],
                             "outcome": ["responded", "declined", "reactivated", "responded"]})
    touches = pd.DataFrame({"customer_id": ["A", "A", "B"], "channel": ["sms", "phone", "sms"],
                            "segment_id": ["S1", "S1", "S2"], "week_start": pd.to_datetime(["2026-12-07"] * 3)})
    got = outcome_counts(outcomes, touches)
    # per customer and channel, with the segment and week planned in (the record is carried into the
    # segments of a later run by current_counts; Z was never planned by the campaign)
    week = pd.Timestamp("2026-12-07")
    assert got.to_dict("records") == [
        {"customer_id": "A", "week_start": week, "segment_id": "S1", "channel": "phone", "successes": 0, "trials": 1},
        {"customer_id": "A", "week_start": week, "segment_id": "S1", "channel": "sms", "successes": 1, "trials": 1},
        {"customer_id": "B", "week_start": week, "segment_id": "S2", "channel": "sms", "successes": 1, "trials": 1},
    ]
    counts, lost = current_counts(got, pd.Series({"A": "S1", "B": "S2"}))
    assert lost == 0
    assert counts.to_dict("records") == [
        {"segment_id": "S1", "channel": "phone", "successes": 0.0, "trials": 1.0},
        {"segment_id": "S1", "channel": "sms", "successes": 1.0, "trials": 1.0},
        {"segment_id": "S2", "channel": "sms", "successes": 1.0, "trials": 1.0},
    ]


def test_learning_follows_the_customers_when_segments_are_numbered_afresh():
    # Week 1 planned S1 = young customers (app works: 30/40) and S2 = elderly (phone works: 24/40).
    # Segmented afresh in week 2 the same groups are numbered the other way round; the customers who
    # came back have left the dormant book, the others are still there.
    week = pd.Timestamp("2026-11-30")
    young = [f"Y{i}" for i in range(40)]
    old = [f"O{i}" for i in range(40)]
    learned = pd.DataFrame({
        "customer_id": young + old, "week_start": week, "segment_id": ["S1"] * 40 + ["S2"] * 40,
        "channel": ["app"] * 40 + ["phone"] * 40,
        "successes": [1] * 30 + [0] * 10 + [1] * 24 + [0] * 16, "trials": 1})
    still = pd.Series({**{c: "S2" for c in young[30:]}, **{c: "S1" for c in old[24:]}})  # the failures stayed
    counts, lost = current_counts(learned, still)
    assert lost == 0
    assert counts.to_dict("records") == [
        {"segment_id": "S1", "channel": "phone", "successes": 24.0, "trials": 40.0},
        {"segment_id": "S2", "channel": "app", "successes": 30.0, "trials": 40.0},
    ]
    # so each group's channel follows its own record, whatever its number today
    fit = pd.DataFrame({"phone": [1.0, 1.0], "app": [0.5, 0.5]}, index=pd.Index(["S1", "S2"], name="segment_id"))
    today = pd.DataFrame({"segment_id": pd.Categorical(["S2", "S1"]), "best_channel": "phone"},
                         index=pd.Index(["Y35", "O30"], name="customer_id"))
    sc, _, info = apply_learning(today, fit, learned, spec_with(method="ucb"), AS_OF)
    assert list(sc["best_channel"]) == ["app", "phone"]
    assert info["touches_learned_from"] == 80
    # a group none of whose customers is segmented today cannot be carried over: it is counted
    counts, lost = current_counts(learned, pd.Series({c: "S1" for c in old[24:]}))
    assert lost == 40 and counts["trials"].sum() == 40


def test_learning_leaves_the_holdout_alone(demo_book, demo_run):
    from reactivate.jobs.pipeline import run_plan

    run0, _ = demo_run
    segs = run0.scores["segment_id"].cat.categories
    learned = pd.DataFrame({"segment_id": list(segs), "channel": "sms", "successes": 50, "trials": 100})
    run = run_plan(as_of=AS_OF, accounts=demo_book / "accounts.csv", transactions=demo_book / "transactions.csv",
                   contacts=demo_book / "contacts.csv", campaign=ROOT / "campaigns" / "default.toml", learned=learned)
    assert run.summary["scoring"]["learning"]["touches_learned_from"] == 100 * len(segs)
    assert set(run.result.holdout["customer_id"]) == set(run0.result.holdout["customer_id"])
    share = lambda r: (r.result.plan["channel"] == "sms").mean()  # noqa: E731
    assert share(run) > share(run0)  # capacity shifts toward what works
