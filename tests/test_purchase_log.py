"""A plain purchase log (issue 12, items 6 and 7): the run says why nobody can be contacted and what to
set; campaigns/purchase_log.toml plans it on the owned channels; its profiles claim nothing the log lacks;
no customer's best channel is one they cannot be reached on."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from reactivate.cli.loop import week_lines
from reactivate.cli.summary import warning_lines
from reactivate.config.campaign import load_campaign
from reactivate.planning.diagnosis import cannot_contact
from reactivate.scoring.channels import best_channels
from reactivate.segmentation.cluster import left_out_note, usable_features
from reactivate.segmentation.spec import SegmentSpec
from tests.conftest import ROOT, SHARED_DATA

runner = CliRunner()
AS_OF = "1998-07-01"
PURCHASE_LOG = ROOT / "campaigns" / "purchase_log.toml"


def cohort_log(path, n: int = 600, seed: int = 0):
    """A log like CDNOW's: ``n`` customers who first bought within one quarter of 1997, then a few more
    purchases over the next 18 months (``customer_id,timestamp,amount``; no other column)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 90, n)
    more = rng.poisson(2.0, n) * (rng.random(n) < 0.6)
    cust = np.repeat(np.arange(n), 1 + more)
    start = np.repeat(first, 1 + more)
    day = np.where(np.r_[True, cust[1:] != cust[:-1]], start, start + rng.integers(0, 546 - start))
    log = pd.DataFrame({"customer_id": [f"K{c:05d}" for c in cust],
                        "timestamp": (np.datetime64("1997-01-01") + day).astype(str),
                        "amount": np.round(rng.lognormal(3.0, 0.8, len(cust)), 2)})
    log.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def plain_runs(tmp_path_factory):
    """The plain log planned with the bank template and with campaigns/purchase_log.toml (CLI)."""
    tmp = tmp_path_factory.mktemp("plain")
    log = cohort_log(tmp / "log.csv")
    out = {}
    for name, campaign in (("bank", ROOT / "campaigns" / "default.toml"), ("shop", PURCHASE_LOG)):
        r = runner.invoke(app, ["plan", "--as-of", AS_OF, "--transactions", str(log), "--campaign", str(campaign),
                                "--out", str(tmp / name)])
        assert r.exit_code == 0, r.output
        out[name] = (r.stderr.splitlines(), tmp / name)
    return out


def test_without_consent_the_first_lines_say_why_nobody_can_be_contacted_and_what_to_set(plain_runs):
    lines, out = plain_runs["bank"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plan"]["touches"] == 0 and summary["plan"]["suppressed"] == summary["targets"]
    # the second line, right after the book's: why, and the exact spec line
    assert lines[1].startswith("  warning: nobody can be contacted: ")
    assert "the book has no consent columns (no accounts file)" in lines[1]
    assert 'set [consent] assume_when_missing = ["email", "app"] in the campaign spec' in lines[1]
    cc = summary["cannot_contact"]
    assert cc["cause"] == "no_consent_columns" and cc["customers"] == cc["targets"] == summary["targets"]
    assert cc["set"] == '[consent] assume_when_missing = ["email", "app"]' and cc["message"] in lines[1]
    # the report's first section says it too, in both languages
    page = (out / "report.html").read_text()
    first = page[page.index('<section id="overview">'):page.index('<section id="profiles">')]
    assert "Who cannot be contacted, and what to set" in first
    assert "<code>[consent] assume_when_missing = [&quot;email&quot;, &quot;app&quot;]</code>" in first
    # no customer is said to be best reached by phone (or anything): nobody may be contacted at all
    scores = pd.read_csv(out / "scores.csv", keep_default_na=False)
    assert (scores["best_channel"] == "").all()


def test_the_report_says_it_in_chinese(plain_runs):
    from reactivate.outputs.report import build_report

    _, out = plain_runs["bank"]
    try:
        page = build_report(out, lang="zh", out=out / "zh" / "report.html").read_text()
    except Exception as exc:  # no CJK font for the charts
        pytest.skip(str(exc))
    assert "无法联系任何客户" in page and "没有账户文件" in page and "assume_when_missing" in page


def test_the_purchase_log_campaign_plans_the_owned_channels(plain_runs):
    lines, out = plain_runs["shop"]
    summary = json.loads((out / "summary.json").read_text())
    assert "cannot_contact" not in summary and not any("cannot be contacted" in x for x in lines)
    plan = pd.read_csv(out / "plan.csv")
    assert len(plan) > 0 and set(plan["channel"]) <= {"email", "app"} and "phone" not in set(plan["channel"])
    assert summary["plan"]["suppressed"] == 0
    scores = pd.read_csv(out / "scores.csv", keep_default_na=False)
    assert set(scores["best_channel"]) <= {"email", "app"}
    spec = load_campaign(PURCHASE_LOG)
    assert (spec.dormancy.at_risk_days, spec.dormancy.dormant_days, spec.dormancy.long_dormant_days) == (60, 90, 180)
    assert spec.campaign.horizon_weeks == 13 and spec.channels["phone"].weekly_capacity == 0


def test_a_plain_logs_profiles_claim_nothing_the_log_lacks(plain_runs):
    for name in ("bank", "shop"):
        _, out = plain_runs[name]
        seg = pd.read_csv(out / "segments.csv", keep_default_na=False)
        claims = " ".join(seg["shortfalls"])
        assert "no digital channel" not in claims and "no relationship manager" not in claims
        assert "no contact in 12 months" not in claims
        # every customer first bought within one quarter: tenure neither separates nor names segments
        names = " ".join(seg["segment_name"])
        assert "New" not in names.split(" ") and "Long-standing" not in names
        apart = " ".join(seg["apart"])
        for feature in ("tenure_years", "digital_reach", "balance", "age", "has_rm"):
            assert not re.search(rf"\b{feature} [+-]", apart), apart
        # reach is claimed only for the channels the campaign assumes consent on (none with the bank template)
        reach = pd.read_csv(out / "segments.csv").filter(like="reach_")
        known = {"bank": set(), "shop": {"reach_email", "reach_app"}}[name]
        assert set(reach.columns[reach.notna().any()]) == known and (reach[sorted(known)] == 1.0).all().all()
        assert ('<div class="reach">' in (out / "report.html").read_text()) == bool(known)
        notes = json.loads((out / "summary.json").read_text())["notes"]
        note = next(n for n in notes if n.startswith("segments: not clustered on "))
        assert re.search(r"balance, age, n_products \(not in the book\)", note)
        assert "tenure_years (first activities within" in note and "digital_reach" in note


def test_usable_features_keep_a_tenure_that_spans_the_book():
    rng = np.random.default_rng(1)
    n = 500
    f = pd.DataFrame({"tenure_years": rng.uniform(0.1, 10, n), "days_dormant": rng.uniform(365, 900, n),
                      "age": np.nan, "has_rm": 1.0})
    usable, left_out = usable_features(f, SegmentSpec())
    assert "tenure_years" in usable and "days_dormant" in usable
    assert left_out["age"] == "not in the book" and left_out["has_rm"] == "the same for every customer"
    assert left_out["balance"] == "not in the book"  # absent from the frame altogether
    f["tenure_years"] = 9.5 + rng.uniform(0, 0.25, n)  # all joined within three months, nine years ago
    usable, left_out = usable_features(f, SegmentSpec())
    assert "tenure_years" not in usable and "within" in left_out["tenure_years"]
    (note,) = left_out_note(left_out)
    assert note.startswith("segments: not clustered on ") and "tenure_years (first activities within" in note
    assert left_out_note({}) == []


def _result(targets: int, suppressed: list[str], touches: int = 0, unscheduled: list[str] = ()):
    return SimpleNamespace(stats={"targets": targets}, suppressed=pd.DataFrame({"reason": suppressed}),
                           plan=pd.DataFrame({"channel": ["email"] * touches}),
                           unscheduled=pd.DataFrame({"reason": list(unscheduled)}))


def test_cannot_contact_names_the_cause_and_the_setting():
    spec = load_campaign(ROOT / "campaigns" / "default.toml")
    # most, not all: counted; accounts without consent columns
    d = cannot_contact(_result(10, ["no consenting channel"] * 8 + ["deceased"]), spec,
                       pd.DataFrame(columns=["customer_id", "has_email"]))
    assert d["cause"] == "no_consent_columns" and d["customers"] == 8 and d["accounts"]
    assert d["message"].startswith("8 of 10 targets cannot be contacted: ")
    assert "(the accounts have no consent_<channel> columns)" in d["message"]
    # consent columns for e-mail and app that say no: the other channels are suggested, none assumed
    cols = pd.DataFrame(columns=[f"consent_{ch}" for ch in ("email", "app")])
    d = cannot_contact(_result(4, ["no consenting channel"] * 4), spec, cols)
    assert d["channels"] == ["phone", "sms", "wechat", "branch", "mail"]
    # every channel has its consent column: no assumption can help
    cols = pd.DataFrame(columns=[f"consent_{ch}" for ch in spec.channels])
    d = cannot_contact(_result(4, ["no consenting channel"] * 4), spec, cols)
    assert d["cause"] == "no_consent" and d["set"] == "" and d["message"].startswith("nobody can be contacted: ")
    # purchase_log.toml assumes e-mail and app, the other channels are off: nothing left to assume
    d = cannot_contact(_result(3, ["no consenting channel"] * 3), load_campaign(PURCHASE_LOG), None)
    assert d["cause"] == "no_consent" and "has_<channel>" in d["message"]
    # a channel assumed already stays in the line; a suggested channel that is off is named
    off = dataclasses.replace(spec, consent=dataclasses.replace(spec.consent, assume_when_missing=("sms",)),
                              channels={**spec.channels, "app": dataclasses.replace(spec.channels["app"],
                                                                                   weekly_capacity=0)})
    d = cannot_contact(_result(3, ["no consenting channel"] * 3), off, None)
    assert d["set"] == '[consent] assume_when_missing = ["sms", "email", "app"]' and d["off"] == ["app"]
    assert "and give app a weekly_capacity" in d["message"]
    # nothing suppressed, nothing planned: the main unscheduled reason
    d = cannot_contact(_result(5, [], 0, ["no capacity left"] * 3 + ["no channel worth its cost"]), spec, None)
    assert d["cause"] == "unscheduled" and d["reason"] == "no capacity left" and d["reason_customers"] == 3
    # a plan that contacts most targets needs no diagnosis
    assert cannot_contact(_result(10, ["no consenting channel"] * 4, 6), spec, None) is None


def test_best_channel_is_never_one_the_customer_cannot_be_reached_on():
    spec = load_campaign(ROOT / "campaigns" / "default.toml")
    chans = list(spec.channels)
    fit = pd.DataFrame([[1.0, 0.5, 0.6, 0.2, 0.4, 0.8, 0.3]], index=["S01"], columns=chans)
    seg = pd.Categorical(["S01"] * 4, categories=["S01"])
    c = pd.DataFrame({**{f"has_{ch}": True for ch in chans}, **{f"consent_{ch}": True for ch in chans},
                      **{f"opted_out_{ch}": False for ch in chans}, "hardship": False}, index=range(4))
    c.loc[1, "has_phone"] = False            # no number: the next best, the branch
    c.loc[2, [f"consent_{ch}" for ch in chans]] = False  # consented to nothing: no best channel
    c.loc[3, ["has_phone", "has_branch"]] = False
    c.loc[3, "hardship"] = True              # care first: human channels only, and none is open
    assert best_channels(seg, fit, c, spec).tolist() == ["phone", "branch", "", ""]
    no_phone = dataclasses.replace(spec, channels={
        **spec.channels, "phone": dataclasses.replace(spec.channels["phone"], weekly_capacity=0)})
    assert best_channels(seg, fit, c, no_phone).tolist()[0] == "branch"  # a channel that is off is no one's best


def test_the_weekly_run_prints_the_diagnosis_too():
    res = SimpleNamespace(campaign_id="c", week="1998-W27", week_start=pd.Timestamp("1998-06-29").date(), out="o",
                          run_id="r", recorded=[],
                          summary={"plan": {"touches": 0, "holdout": 0}, "loop": {},
                                   "cannot_contact": {"message": "nobody can be contacted: set this"}})
    assert week_lines(res)[1] == "  warning: nobody can be contacted: set this"


def test_underpowered_holdouts_are_one_line():
    mde = [{"segment_id": "S01", "warning": "segment S01: ...", "share_needed": None},
           {"segment_id": "S02", "warning": "segment S02: ...", "share_needed": 0.25},
           {"segment_id": "S03", "warning": "", "share_needed": 0.1}]
    plan = {"holdout_mde": mde, "warnings": ["segment S01: ...", "segment S02: ...", "something else"]}
    assert warning_lines(plan) == [
        "something else",
        "2 of 3 segments' holdouts cannot detect the expected uplift (holdout share needed: S02 25%; too few "
        "customers for their expected rate even at 50%: S01); detail per segment in summary.json holdout_mde "
        "and the report"]
    assert warning_lines({"holdout_mde": mde[2:], "warnings": []}) == []


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"### A plain purchase log\n(.*?)\n### ", text, re.S).group(1)


def test_the_readme_shows_the_purchase_log_on_the_cdnow_sample(tmp_path):
    block = _readme_block()
    commands = re.findall(r"^((?:python|\.venv/bin/reactivate) (?:[^\n]*\\\n)*[^\n]*)$", block, re.M)
    assert [c.split()[0] for c in commands] == ["python", ".venv/bin/reactivate", ".venv/bin/reactivate"]
    assert "campaigns/purchase_log.toml" in commands[2] and "--campaign" not in commands[1]
    if not (SHARED_DATA / "cdnow-sample" / "CDNOW_sample.txt").is_file():
        pytest.skip("../shared/data/cdnow-sample is absent")
    outputs = []
    for cmd in commands:  # run from the repository, as the README says, with its paths moved into tmp_path
        args = shlex.split(cmd.replace("\\\n", " ").replace("cdnow/", f"{tmp_path}/"), comments=True)
        args = [sys.executable, *args[1:]] if args[0] == "python" else [sys.executable, "-m", "reactivate", *args[1:]]
        r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout + r.stderr)
    assert "nobody can be contacted" in outputs[1].splitlines()[1]
    plan = pd.read_csv(tmp_path / "plan" / "plan.csv")
    assert len(plan) > 0 and "phone" not in set(plan["channel"])
