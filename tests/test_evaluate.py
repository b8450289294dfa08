"""Uplift: reference values (Newcombe 1998; the Hillstrom e-mail test) and a hand-made campaign."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.loop.evaluate import compare_arms, compare_rates, evaluate_campaign, write_evaluation
from reactivate.loop.ledger import open_ledger
from tests.conftest import ROOT, TEST_DATA

HILLSTROM = TEST_DATA / "hillstrom" / "hillstrom.csv.gz"


def test_newcombe_interval_matches_the_paper():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10
    r = compare_rates(56, 70, 48, 80).iloc[0]
    assert r["uplift"] == pytest.approx(0.2)
    assert (round(r["ci_low"], 4), round(r["ci_high"], 4)) == (0.0524, 0.3339)
    # Wilson interval of 56/70 (Newcombe 1998b, Table I style): 0.6918 to 0.8770
    assert (round(r["treated_ci_low"], 4), round(r["treated_ci_high"], 4)) == (0.6918, 0.8770)


def test_empty_groups_give_nan_not_errors():
    r = compare_rates([0, 3], [0, 10], [1, 0], [10, 0])
    assert np.isnan(r["uplift"]).all() and np.isnan(r["ci_low"]).all()


def test_hillstrom_arm_figures_reproduced():
    df = pd.read_csv(HILLSTROM)
    res = compare_arms(df, "segment", "No E-Mail", ["visit", "conversion"], means=("spend",)).set_index(
        ["arm", "outcome"])
    mens, womens = res.loc["Mens E-Mail"], res.loc["Womens E-Mail"]
    assert (mens.loc["visit", "n_treated"], womens.loc["visit", "n_treated"], mens.loc["visit", "n_control"]) == (
        21307, 21387, 21306)
    pct = lambda v: round(float(v) * 100, 2)  # noqa: E731
    assert (pct(mens.loc["visit", "rate_treated"]), pct(womens.loc["visit", "rate_treated"]),
            pct(mens.loc["visit", "rate_control"])) == (18.28, 15.14, 10.62)
    assert (pct(mens.loc["conversion", "rate_treated"]), pct(womens.loc["conversion", "rate_treated"]),
            pct(mens.loc["conversion", "rate_control"])) == (1.25, 0.88, 0.57)
    assert (round(mens.loc["spend", "rate_treated"], 4), round(womens.loc["spend", "rate_treated"], 4),
            round(mens.loc["spend", "rate_control"], 4)) == (1.4226, 1.0772, 0.6528)
    # uplift = treated rate - control rate, with intervals that exclude 0 for every arm
    assert pct(mens.loc["visit", "uplift"]) == 7.66 and pct(womens.loc["visit", "uplift"]) == 4.52
    assert (res["ci_low"] > 0).all() and (res["ci_low"] < res["uplift"]).all() and (res["uplift"] < res["ci_high"]).all()
    lapsed = compare_arms(df[df["recency"] >= 7], "segment", "No E-Mail", ["visit"]).set_index("arm")
    assert int(lapsed["n_treated"].sum() + lapsed["n_control"].iloc[0]) == 27415
    assert (pct(lapsed.loc["Mens E-Mail", "rate_treated"]), pct(lapsed.loc["Womens E-Mail", "rate_treated"]),
            pct(lapsed.loc["Mens E-Mail", "rate_control"])) == (15.09, 12.92, 8.05)


def test_hillstrom_example_runs(tmp_path, capsys):
    import runpy

    mod = runpy.run_path(str(ROOT / "examples" / "hillstrom_uplift.py"))
    assert mod["main"]([str(HILLSTROM), "--out", str(tmp_path / "hs")]) == 0
    out = capsys.readouterr().out
    assert "Mens E-Mail    visit       18.28% vs 10.62%: uplift +7.66 pp" in out
    assert (tmp_path / "hs" / "hillstrom_uplift.csv").is_file()


def _campaign(tmp_path):
    """A hand-made campaign in a ledger: 10 contacted (S1: 6, S2: 4) and 10 held out (5 + 5)."""
    spec = load_campaign(None)
    led = open_ledger(tmp_path / "ledger.sqlite")
    week, start = "2026-W50", dt.date(2026, 12, 7)
    meta = {"run_id": "r1", "campaign_id": spec.campaign.id, "week": week, "week_start": start,
            "config_sha256": "x", "inputs_sha256": "y", "version": "t", "started_at": dt.datetime(2026, 12, 6)}
    led.start_run(meta)
    contacted = [f"T{i}" for i in range(10)]
    held = [f"H{i}" for i in range(10)]
    touches = pd.DataFrame({"customer_id": contacted, "segment_id": ["S1"] * 6 + ["S2"] * 4, "wave": 1,
                            "week_start": pd.Timestamp(start), "channel": ["sms"] * 5 + ["phone"] * 5, "step": 1,
                            "rm_id": "RM1", "theme": "welcome_back", "kind": "plan", "priority_rank": range(1, 11)})
    assign = pd.concat([
        touches[["customer_id", "segment_id", "priority_rank"]].assign(grp="contacted"),
        pd.DataFrame({"customer_id": held, "segment_id": ["S1"] * 5 + ["S2"] * 5, "priority_rank": range(11, 21),
                      "grp": "holdout"})]).assign(week_start=pd.Timestamp(start))
    with led.begin() as conn:
        led.write_run(conn, {**meta, "finished_at": dt.datetime(2026, 12, 6)}, touches, assign)
    # activity: T0..T3 within 30 days, T4 after the window, H0 within; one bank-initiated row (not activity)
    txn = pd.DataFrame({"customer_id": ["T0", "T1", "T2", "T3", "T4", "H0", "H1"],
                        "timestamp": ["2026-12-08", "2026-12-10", "2026-12-20", "2027-01-05", "2027-01-07",
                                      "2026-12-09", "2026-12-09"],
                        "amount": 10.0, "initiated_by": ["customer"] * 6 + ["bank"]})
    txn.to_csv(tmp_path / "transactions.csv", index=False)
    return led, spec


def test_campaign_uplift_by_hand(tmp_path):
    led, spec = _campaign(tmp_path)
    ev = evaluate_campaign(led, spec, transactions=tmp_path / "transactions.csv", as_of=dt.date(2027, 1, 31))
    led.close()
    up = ev.uplift.set_index(["dimension", "value"])
    o = up.loc[("overall", "all")]
    assert (o["n_treated"], o["reactivated_treated"], o["n_control"], o["reactivated_control"]) == (10, 4, 10, 1)
    assert o["uplift"] == pytest.approx(0.3)
    ref = compare_rates(4, 10, 1, 10).iloc[0]
    assert o["ci_low"] == pytest.approx(ref["ci_low"]) and o["ci_high"] == pytest.approx(ref["ci_high"])
    s1 = up.loc[("segment", "S1")]  # T0..T3 are all in S1 (6 contacted); H0 in S1 (5 held out)
    assert (s1["reactivated_treated"], s1["n_treated"], s1["reactivated_control"], s1["n_control"]) == (4, 6, 1, 5)
    sms = up.loc[("channel", "sms")]  # T0..T4 by sms, all S1: control = S1's holdout rate 1/5
    assert sms["rate_treated"] == pytest.approx(4 / 5) and sms["rate_control"] == pytest.approx(1 / 5)
    phone = up.loc[("channel", "phone")]  # T5 (S1) and T6..T9 (S2): control = 1/5 * 0.2 + 0/5 * 0.8
    assert phone["rate_treated"] == 0 and phone["rate_control"] == pytest.approx(0.04)
    k = ev.at_k.set_index("top_share")
    assert (k.loc[0.1, "n_treated"], k.loc[0.1, "reactivated_treated"]) == (1, 1)  # T0, the top-ranked
    assert (k.loc[0.5, "n_treated"], k.loc[0.5, "reactivated_treated"], k.loc[0.5, "reactivated_control"]) == (5, 4, 1)
    write_evaluation(ev, tmp_path / "eval")
    summary = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert summary["overall"]["uplift"] == pytest.approx(0.3)
    for name in ("uplift.csv", "uplift_at_k.csv", "uplift.png", "uplift_at_k.png"):
        assert (tmp_path / "eval" / name).is_file()


def test_open_window_is_left_out(tmp_path):
    import dataclasses

    led, spec = _campaign(tmp_path)
    spec = dataclasses.replace(spec, learning=dataclasses.replace(spec.learning, window_days=60))
    ev = evaluate_campaign(led, spec, transactions=tmp_path / "transactions.csv", as_of=dt.date(2027, 1, 31))
    led.close()
    assert ev.summary["window_open"] == 20 and ev.summary["overall"]["n_treated"] == 0


def test_charts_label_and_values(tmp_path):
    from reactivate.outputs.charts import uplift_at_k_chart, uplift_chart

    led, spec = _campaign(tmp_path)
    ev = evaluate_campaign(led, spec, transactions=tmp_path / "transactions.csv", as_of=dt.date(2027, 1, 31))
    led.close()
    ax = uplift_chart(ev.uplift)
    assert ax.get_title() == "Reactivation uplift against the holdout"
    top = {t.get_position()[1]: t.get_text() for t in ax.get_yticklabels()}
    assert top[max(top)] == "overall: all"  # the first row on top
    ax2 = uplift_at_k_chart(ev.at_k)
    assert list(ax2.lines[0].get_ydata()) == pytest.approx(list(ev.at_k["uplift"] * 100))


def test_cli_evaluate(tmp_path):
    from typer.testing import CliRunner

    from reactivate.cli.app import app

    led, _ = _campaign(tmp_path)
    led.close()
    camp = tmp_path / "c.toml"
    camp.write_text("# the defaults\n")
    args = ["evaluate", "--campaign", str(camp), "--ledger", str(tmp_path / "ledger.sqlite"), "--transactions",
            str(tmp_path / "transactions.csv"), "--as-of", "2027-01-31", "--out", str(tmp_path / "ev")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[:2] == [
        "evaluate reactivation on 2027-01-31 (window 30 days): 10 contacted, 10 holdout",
        "  reactivated: contacted 40.00%, holdout 10.00%, uplift +30.00 pp (95% CI "
        f"{compare_rates(4, 10, 1, 10)['ci_low'][0] * 100:+.2f} to {compare_rates(4, 10, 1, 10)['ci_high'][0] * 100:+.2f})",
    ]
    assert (tmp_path / "ev" / "uplift.csv").read_text().startswith("dimension,value,n_treated,n_control")
    empty = tmp_path / "e.toml"
    empty.write_text('[campaign]\nid = "nothing-yet"\n')
    r = CliRunner().invoke(app, ["evaluate", "--campaign", str(empty), "--ledger", str(tmp_path / "ledger.sqlite"),
                                 "--transactions", str(tmp_path / "transactions.csv"), "--out", str(tmp_path / "e")])
    assert r.exit_code == 2
    assert r.stderr.strip() == ("Error: the ledger holds no contacted or holdout customers of campaign 'nothing-yet' "
                                "(run reactivate run first)")
