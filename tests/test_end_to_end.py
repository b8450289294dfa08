"""The whole job on a demo book: the invariants a bank relies on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reactivate.jobs.pipeline import run_plan
from reactivate.outputs.writer import write_run
from reactivate.schema import CHANNELS
from tests.conftest import AS_OF, ROOT


@pytest.fixture(scope="module")
def outputs(demo_run):
    run, out = demo_run
    plan = pd.read_csv(out / "plan.csv", dtype=str)
    acc = pd.read_csv(demo_run[0].book.inputs["accounts"]["path"], dtype=str)
    return run, out, plan, acc


def test_writes_every_output(outputs):
    _, out, plan, _ = outputs
    for name in ("scores.csv", "segments.csv", "plan.csv", "suppressed.csv", "holdout.csv", "unscheduled.csv",
                 "capacity.csv", "summary.json", "run.json"):
        assert (out / name).is_file(), name
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns[:10]) == ["customer_id", "dormancy_stage", "days_dormant", "segment_id",
                                         "segment_name", "p_reactivate", "expected_value", "priority_rank",
                                         "best_week", "reason"]
    assert list(plan.columns) == ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id",
                                  "theme", "reason", "journey", "condition", "best_time"]
    assert scores["priority_rank"].tolist() == list(range(1, len(scores) + 1))
    assert set(scores["dormancy_stage"]) <= {"dormant", "long_dormant"}
    lists = list((out / "targets").glob("*/*.csv"))
    first = plan["week_start"].min()  # by default the lists of the first week only; plan.csv holds them all
    assert {p.parent.name for p in lists} == {first} and plan["week_start"].nunique() > 1
    assert lists and (plan["week_start"] == first).sum() == sum(len(pd.read_csv(p)) for p in lists)
    openers = pd.read_csv(out / "targets" / "openers.csv")
    assert set(plan["theme"]) <= set(openers["theme"]) and openers["opener_zh"].str.contains("您好").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plan"]["touches"] == len(plan)
    meta = json.loads((out / "run.json").read_text())
    assert meta["inputs"]["accounts"]["sha256"].startswith("sha256:") and meta["as_of"] == "2026-11-30"


def test_every_dormant_customer_is_in_exactly_one_segment(outputs):
    run, out, _, _ = outputs
    scores = pd.read_csv(out / "scores.csv", dtype=str)
    dormant = run.customers.index[run.customers["stage"].isin(["dormant", "long_dormant"])]
    assert scores["customer_id"].is_unique
    assert set(scores["customer_id"]) == set(dormant)
    assert scores["segment_id"].notna().all()


def test_consent_and_do_not_contact_are_absolute(outputs):
    _, _, plan, acc = outputs
    truthy = {"true", "1", "yes"}
    dnc = set(acc.loc[acc["do_not_contact"].str.lower().isin(truthy), "customer_id"])
    assert not plan["customer_id"].isin(dnc).any()
    for ch in CHANNELS:
        ok = acc[f"has_{ch}"].str.lower().isin(truthy) & acc[f"consent_{ch}"].str.lower().isin(truthy)
        # consent must hold on every account of the customer
        allowed = ok.groupby(acc["customer_id"]).all()
        on_ch = plan.loc[plan["channel"] == ch, "customer_id"]
        assert allowed.reindex(on_ch).fillna(False).all(), ch


def test_no_holdout_customer_is_contacted(outputs):
    _, out, plan, _ = outputs
    hold = pd.read_csv(out / "holdout.csv", dtype=str)
    assert len(hold) > 0 and not plan["customer_id"].isin(hold["customer_id"]).any()


def test_no_channel_or_rm_over_capacity(outputs):
    run, _, plan, _ = outputs
    spec = run.spec
    per = plan.groupby(["week_start", "channel"]).size()
    for (_, ch), n in per.items():
        assert n <= spec.channels[ch].weekly_capacity
    calls = plan[plan["channel"] == "phone"].groupby(["week_start", "rm_id"]).size()
    for (_, rm), n in calls.items():
        assert n <= (spec.rm.pool_calls_per_week if rm == "POOL" else spec.rm.calls_per_week)


def test_hardship_customers_get_only_human_care(outputs):
    run, _, plan, _ = outputs
    hard = run.scores.index[run.scores["hardship"].to_numpy(dtype=bool)]
    care = plan[plan["customer_id"].isin(hard)]
    assert len(care) > 0
    assert set(care["channel"]) <= {"phone", "branch"} and set(care["theme"]) == {"care_checkin"}


def test_segment_ranking_follows_true_propensity(demo_book, outputs):
    from scipy.stats import spearmanr

    _, out, _, _ = outputs
    scores = pd.read_csv(out / "scores.csv").merge(pd.read_csv(demo_book / "truth.csv"), on="customer_id")
    assert spearmanr(scores["p_reactivate"], scores["true_p_reactivate"]).correlation > 0.6


def test_rerun_gives_identical_bytes(demo_book, demo_run, tmp_path):
    _, first = demo_run
    run = run_plan(as_of=AS_OF, accounts=demo_book / "accounts.csv", transactions=demo_book / "transactions.csv",
                   contacts=demo_book / "contacts.csv", campaign=ROOT / "campaigns" / "default.toml")
    write_run(run, tmp_path / "again")
    a = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    b = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    assert a == b
    for rel in a:
        assert (first / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


def test_priority_is_by_expected_value(outputs):
    _, out, _, _ = outputs
    s = pd.read_csv(out / "scores.csv")
    assert np.all(np.diff(s["expected_value"].to_numpy()) <= 1e-6)


def test_segments_recover_the_planted_personas(demo_book, outputs):
    from sklearn.metrics import adjusted_rand_score

    _, out, _, _ = outputs
    s = pd.read_csv(out / "scores.csv").merge(pd.read_csv(demo_book / "truth.csv"), on="customer_id")
    s = s[s["segment_id"] != "hardship"]
    assert adjusted_rand_score(s["persona"], s["segment_id"]) >= 0.8


def test_customer_level_auc_against_the_ground_truth(demo_book, outputs):
    from reactivate.demo.truth import check_against_truth

    _, out, _, _ = outputs
    check = check_against_truth(pd.read_csv(out / "scores.csv"), pd.read_csv(demo_book / "truth.csv"))
    # outcomes drawn from the true propensity; the truth itself reaches about 0.83 on such draws
    assert check["auc"] >= 0.75 and check["oracle_auc"] > check["auc"] - 0.01
    assert check["segment_spearman"] >= 0.9 and check["segments"] >= 5
