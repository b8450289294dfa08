"""The weekly batch run on a demo book: two consecutive weeks, idempotence, follow-ups, opt-outs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from reactivate.errors import ConfigError
from reactivate.jobs.weekly import parse_week, run_week, week_of
from reactivate.loop.ledger import open_ledger

W1, W2 = "2026-W50", "2026-W51"
START1, START2 = pd.Timestamp("2026-12-07"), pd.Timestamp("2026-12-14")


def campaign_file(tmp: Path, book: Path, **sections) -> Path:
    """A weekly campaign spec reading the demo book; ``sections`` add TOML lines per table."""
    text = (
        '[campaign]\nid = "wake-weekly"\n\n'
        f'[inputs]\naccounts = "{book / "accounts.csv"}"\ntransactions = "{book / "transactions.csv"}"\n'
        f'contacts = "{book / "contacts.csv"}"\noutcomes = ["outcomes/*.csv"]\nout = "runs"\n'
    )
    for name, lines in sections.items():
        text += f"\n[{name}]\n" + "\n".join(lines) + "\n"
    (tmp / "outcomes").mkdir(exist_ok=True)
    path = tmp / "weekly.toml"
    path.write_text(text)
    return path


def read_dir(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def week1_outcomes(plan1: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Outcomes for some of week 1's issued touches, by hand: responders, opt-outs, decliners, complaints."""
    issued = plan1[plan1["week_start"] == "2026-12-07"].sort_values("customer_id").reset_index(drop=True)
    groups = {"responded": issued.iloc[0:40], "opted_out": issued.iloc[40:70], "declined": issued.iloc[70:90],
              "complaint": issued.iloc[90:100], "no_answer": issued.iloc[100:160]}
    rows = pd.concat([g.assign(outcome=o, date="2026-12-09")[["customer_id", "date", "channel", "outcome"]]
                      for o, g in groups.items()], ignore_index=True)
    return rows, groups


@pytest.fixture(scope="module")
def two_weeks(demo_book, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("weekly")
    camp = campaign_file(tmp, demo_book, policy=["max_touches = 3"])
    r1 = run_week(camp, W1)
    plan1 = pd.read_csv(r1.out / "plan.csv", dtype=str)
    rows, groups = week1_outcomes(plan1)
    # one row of a customer the campaign never planned, one touch it never issued
    extra = pd.DataFrame([
        {"customer_id": "C9999999", "date": "2026-12-09", "channel": "sms", "outcome": "responded"},
        {"customer_id": groups["no_answer"]["customer_id"].iloc[0], "date": "2026-11-20", "channel": "sms",
         "outcome": "declined"},
    ])
    pd.concat([rows, extra]).to_csv(tmp / "outcomes" / "2026-W50.csv", index=False)
    # a holdout customer's "response", forced in with --accept-unplanned: still never contacted
    hold1 = pd.read_csv(r1.out / "holdout.csv", dtype=str)["customer_id"].iloc[:3]
    pd.DataFrame({"customer_id": hold1, "date": "2026-12-09", "channel": "phone", "outcome": "responded"}).to_csv(
        tmp / "forced.csv", index=False)
    from reactivate.config.campaign import load_campaign
    from reactivate.loop.record import record_outcomes

    led = open_ledger(tmp / "runs" / "ledger.sqlite")
    forced = record_outcomes(led, tmp / "forced.csv", load_campaign(camp), as_of=dt.date(2027, 1, 31),
                             accept_unplanned=True)
    led.close()
    assert forced.accepted_unplanned == 3 and len(forced.holdout_contacted) == 3
    groups["forced_holdout"] = pd.DataFrame({"customer_id": hold1})
    r2 = run_week(camp, W2)
    first = read_dir(r2.out)
    led = open_ledger(tmp / "runs" / "ledger.sqlite")
    before = (led.planned("wake-weekly"), led.outcomes("wake-weekly"), led.assignments("wake-weekly"))
    r2b = run_week(camp, W2)  # the same week again
    after = (led.planned("wake-weekly"), led.outcomes("wake-weekly"), led.assignments("wake-weekly"))
    runs = led.runs("wake-weekly")
    led.close()
    return {"tmp": tmp, "camp": camp, "r1": r1, "r2": r2, "r2b": r2b, "plan1": plan1, "groups": groups,
            "first": first, "second": read_dir(r2b.out), "before": before, "after": after, "runs": runs}


def test_week_parsing():
    assert parse_week("2026-W50") == ("2026-W50", dt.date(2026, 12, 7))
    assert week_of(dt.date(2026, 12, 13)) == "2026-W50"
    with pytest.raises(ConfigError, match=r"--week='2026-50' is not an ISO week like 2026-W49"):
        parse_week("2026-50")
    with pytest.raises(ConfigError, match="not an ISO week"):
        parse_week("2026-W60")


def test_week_outputs_in_campaign_week_folder(two_weeks):
    r1 = two_weeks["r1"]
    assert r1.out == two_weeks["tmp"] / "runs" / "wake-weekly" / W1
    for name in ("plan.csv", "holdout.csv", "followups.csv", "run.json", "summary.json", "report.html"):
        assert (r1.out / name).is_file(), name
    plan1 = two_weeks["plan1"]
    assert plan1["week_start"].min() == "2026-12-07"
    assert len(plan1) == r1.summary["plan"]["touches"] > 0


def test_week2_respects_week1_gaps_and_caps(two_weeks):
    plan1, r2 = two_weeks["plan1"], two_weeks["r2"]
    plan2 = pd.read_csv(r2.out / "plan.csv", dtype={"customer_id": str}, parse_dates=["week_start"])
    assert plan2["week_start"].min() == START2
    touched1 = set(plan1.loc[plan1["week_start"] == "2026-12-07", "customer_id"])
    again = plan2[plan2["customer_id"].isin(touched1)]
    # skip_contacted_within_days = 30 (> min_gap_days): nobody touched in week 1 is touched within 30 days
    assert len(again) > 0  # max_touches = 3 lets them come back, but only after the gap
    assert (again["week_start"] >= START1 + pd.Timedelta(days=30)).all()
    assert r2.summary["loop"]["history_touches"] >= len(touched1)


def test_week2_never_contacts_week1_opt_outs_complaints_or_decliners(two_weeks):
    g, r2 = two_weeks["groups"], two_weeks["r2"]
    plan2 = pd.read_csv(r2.out / "plan.csv", dtype=str)
    fu = pd.read_csv(r2.out / "followups.csv", dtype=str)
    touches = pd.concat([plan2[["customer_id", "channel"]], fu[["customer_id", "channel"]]])
    opted = g["opted_out"][["customer_id", "channel"]]
    hit = touches.merge(opted, on=["customer_id", "channel"])
    assert len(hit) == 0  # an opt-out withdraws that channel in every later plan
    assert not touches["customer_id"].isin(g["complaint"]["customer_id"]).any()  # a complaint: not at all
    assert not touches["customer_id"].isin(g["declined"]["customer_id"]).any()  # resting 90 days
    sup = pd.read_csv(r2.out / "suppressed.csv", dtype=str)
    comp = sup[sup["customer_id"].isin(g["complaint"]["customer_id"])]
    assert (comp["reason"] == "recent complaint").all()
    un = pd.read_csv(r2.out / "unscheduled.csv", dtype=str)
    rested = un[un["customer_id"].isin(g["declined"]["customer_id"])]
    assert (rested["reason"] == "resting after declining").all() and len(rested) > 0


def test_week2_follows_up_week1_responders_by_their_rm(two_weeks, demo_book):
    g, r2 = two_weeks["groups"], two_weeks["r2"]
    fu = pd.read_csv(r2.out / "followups.csv", dtype=str)
    responders = set(g["responded"]["customer_id"])
    assert set(fu["customer_id"]) <= responders
    assert not fu["customer_id"].isin(g["forced_holdout"]["customer_id"]).any()  # the holdout: never
    acc = pd.read_csv(demo_book / "accounts.csv", dtype=str)
    acc = acc[acc["customer_id"].isin(responders)]
    ok = acc.groupby("customer_id").agg(phone=("consent_phone", lambda s: (s == "true").all()),
                                        dnc=("do_not_contact", lambda s: (s == "true").any()))
    callable_ = set(ok.index[ok["phone"] & ~ok["dnc"]])
    assert len(callable_) > 0
    assert callable_ <= set(fu["customer_id"])  # every responder who may be called gets a follow-up
    assert (fu["theme"] == "follow_up").all() and (fu["channel"] == "phone").all()
    assert (fu["week_start"] == "2026-12-14").all()
    rm = acc.sort_values("balance").drop_duplicates("customer_id", keep="last").set_index("customer_id")["rm_id"]
    has_rm = fu["customer_id"].map(rm).notna()
    assert (fu.loc[has_rm, "rm_id"].to_numpy() == fu.loc[has_rm, "customer_id"].map(rm).to_numpy()).all()
    for (ws, rmid), _part in fu.groupby(["week_start", "rm_id"]):
        assert (r2.out / "followups" / ws / f"{rmid}.csv").is_file()
    # nobody gets a follow-up and a plan touch in the same week
    plan2 = pd.read_csv(r2.out / "plan.csv", dtype=str)
    assert not plan2["customer_id"].isin(fu["customer_id"]).any()


def test_record_reports_unknown_and_unplanned(two_weeks):
    rec = two_weeks["r2"].recorded
    assert len(rec) == 1
    r = rec[0]
    assert r.rows == 162 and r.new == 160
    assert r.unknown_customer == [161] and r.unplanned == [162]
    assert two_weeks["r2b"].recorded[0].new == 0  # the same file again: nothing new


def test_same_week_twice_same_outputs_and_ledger(two_weeks):
    assert two_weeks["first"] == two_weeks["second"]
    for a, b in zip(two_weeks["before"], two_weeks["after"], strict=True):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert two_weeks["r2"].run_id == two_weeks["r2b"].run_id
    runs = two_weeks["runs"]
    assert list(runs["week"]) == [W1, W2] and (runs["status"] == "ok").all()
    planned = two_weeks["after"][0]
    assert planned.duplicated(["week", "customer_id", "step", "kind"]).sum() == 0


def test_assignments_hold_contacted_and_holdout(two_weeks):
    a = two_weeks["after"][2]
    w1 = a[a["week"] == W1]
    hold = pd.read_csv(two_weeks["r1"].out / "holdout.csv", dtype=str)
    assert set(w1.loc[w1["grp"] == "holdout", "customer_id"]) == set(hold["customer_id"])
    plan1 = two_weeks["plan1"]
    assert set(w1.loc[w1["grp"] == "contacted", "customer_id"]) == set(
        plan1.loc[plan1["week_start"] == "2026-12-07", "customer_id"])


def test_bad_config_is_one_error_line(tmp_path, demo_book):
    camp = campaign_file(tmp_path, demo_book, followup=['channel = "pigeon"'])
    with pytest.raises(ConfigError, match=r"followup.channel='pigeon' is not a channel"):
        run_week(camp, W1)


def test_evaluate_finds_a_simulated_effect(two_weeks, demo_book, tmp_path):
    import numpy as np

    from reactivate.config.campaign import load_campaign
    from reactivate.loop.evaluate import evaluate_campaign

    led = open_ledger(two_weeks["tmp"] / "runs" / "ledger.sqlite")
    a = led.assignments("wake-weekly").sort_values(["week_start", "grp"], kind="stable").drop_duplicates("customer_id")
    # after the campaign: 30% of the contacted come back within the window, 10% of the holdout
    rng = np.random.default_rng(7)
    back = a[rng.random(len(a)) < np.where(a["grp"] == "contacted", 0.30, 0.10)]
    new = pd.DataFrame({"customer_id": back["customer_id"], "timestamp": back["week_start"] + pd.Timedelta(days=3),
                        "amount": 10.0, "initiated_by": "customer"})
    old = pd.read_csv(demo_book / "transactions.csv")
    pd.concat([old, new.astype({"timestamp": str})]).to_csv(tmp_path / "t.csv", index=False)
    spec = load_campaign(two_weeks["camp"])
    ev = evaluate_campaign(led, spec, transactions=tmp_path / "t.csv", as_of=dt.date(2027, 1, 31))
    led.close()
    o = ev.summary["overall"]
    assert o["n_treated"] == (a["grp"] == "contacted").sum() and o["n_control"] == (a["grp"] == "holdout").sum()
    assert o["ci_low"] < 0.20 < o["ci_high"] and o["ci_low"] > 0.1
    assert set(ev.uplift["dimension"]) == {"overall", "segment", "channel", "wave", "theme"}
    k = ev.at_k.set_index("top_share")
    assert k.loc[1.0, "uplift"] == pytest.approx(o["uplift"], abs=1e-6)  # the summary rounds to 6 decimals
