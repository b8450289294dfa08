"""Hostile specs and options: campaign TOML, segmentation TOML, saved segment models and CLI options.

Every case goes through the shared harness (:mod:`tests.hostile`): exit 2, one ``Error:`` line that
names the file and the key with its value or range, no traceback, nothing written and the earlier
outputs byte-identical. The key-by-key sweep of every numeric key (each value under and over its
range, nan and inf) is in ``tests/test_config.py``; here each class of bad spec is tried through the
commands that read it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from tests.conftest import AS_OF
from tests.hostile import Case, both, check, copy_book

DAY = AS_OF.isoformat()
BOOK = ("--accounts", "{book}/accounts.csv", "--transactions", "{book}/transactions.csv",
        "--contacts", "{book}/contacts.csv")
CAMP = "{tmp}/c.toml"
SEGS = "{tmp}/s.toml"


def plan(*extra: str) -> tuple[str, ...]:
    return ("plan", "--as-of", DAY, *BOOK, "--out", "{out}", "--no-report", "--quiet", *extra)


def rank(*extra: str) -> tuple[str, ...]:
    return ("rank", "--as-of", DAY, *BOOK, "--out", "{out}", *extra)


def segments(cmd: str, *extra: str) -> tuple[str, ...]:
    out = ("--model", "{tmp}/model.json") if cmd == "fit" else ("--out", "{out}")
    return ("segments", cmd, "--as-of", DAY, *BOOK, *out, *extra)


def spec(text: str, name: str = "c.toml", encoding: str = "utf-8"):
    """A setup that writes a spec file into the case's folder."""

    def setup(tmp: Path, book: Path) -> None:
        (tmp / name).write_bytes(text.encode(encoding))

    return setup


def weekly(extra: str = ""):
    """A weekly campaign reading the good book, with its ledger in the case's folder, plus ``extra``."""

    def setup(tmp: Path, book: Path) -> None:
        (tmp / "outcomes").mkdir(exist_ok=True)
        (tmp / "c.toml").write_text(
            '[campaign]\nid = "camp"\n\n'
            f'[inputs]\naccounts = "{book / "accounts.csv"}"\ntransactions = "{book / "transactions.csv"}"\n'
            f'contacts = "{book / "contacts.csv"}"\noutcomes = ["outcomes/*.csv"]\nout = "runs"\n\n'
            '[ledger]\nurl = "ledger.sqlite"\n' + extra)

    return setup


def ledger_with_touches(tmp: Path, book: Path) -> None:
    """The weekly campaign's ledger, holding touches issued to A, B, C (holdout H) and one recorded outcome."""
    import datetime as dt

    import pandas as pd

    from reactivate.jobs.commands import record_files
    from reactivate.loop.ledger import open_ledger

    weekly()(tmp, book)
    led = open_ledger(tmp / "ledger.sqlite")
    start = dt.date(2026, 12, 7)
    meta = {"run_id": "r1", "campaign_id": "camp", "week": "2026-W50", "week_start": start, "config_sha256": "c",
            "inputs_sha256": "i", "version": "t", "started_at": dt.datetime(2026, 12, 6, 3),
            "finished_at": dt.datetime(2026, 12, 6, 4)}
    touches = pd.DataFrame({"customer_id": ["A", "B", "C"], "segment_id": "S1", "wave": 1,
                            "week_start": pd.Timestamp(start), "channel": "sms", "step": 1, "rm_id": "RM1",
                            "theme": "welcome_back", "kind": "plan", "priority_rank": [1, 2, 3]})
    assign = pd.concat([touches[["customer_id", "segment_id", "priority_rank"]].assign(grp="contacted"),
                        pd.DataFrame({"customer_id": ["H"], "segment_id": "S1", "priority_rank": 0, "grp": "holdout"})])
    led.start_run(meta)
    with led.begin() as conn:
        led.write_run(conn, meta, touches, assign.assign(week_start=pd.Timestamp(start)))
    led.close()
    first = tmp / "first.csv"
    first.write_text("customer_id,date,channel,outcome\nA,2026-12-08,sms,responded\n")
    record_files(tmp / "c.toml", [first], as_of=dt.date(2027, 1, 31))  # the ledger and its lock file exist
    (tmp / "outcomes.csv").write_text("customer_id,date,channel,outcome\n"
                                      "B,2026-12-09,sms,declined\nZ,2026-12-09,sms,declined\n")


@functools.cache
def _model_bytes(book: Path) -> bytes:
    """A segment model fitted on the good book (once per book)."""
    import tempfile

    from reactivate.jobs.segments import fit_segments

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        fit_segments(as_of=AS_OF, model_path=path, accounts=book / "accounts.csv",
                     transactions=book / "transactions.csv", contacts=book / "contacts.csv")
        return path.read_bytes()


def model(change=None, cut: bool = False):
    """A setup writing a saved model (fitted on the good book) into ``{tmp}/m.json``, spoiled."""

    def setup(tmp: Path, book: Path) -> None:
        data = _model_bytes(book)
        if cut:
            data = data[: len(data) // 2]
        elif change is not None:
            doc = json.loads(data)
            change(doc)
            data = json.dumps(doc).encode()
        (tmp / "m.json").write_bytes(data)

    return setup


def folder(name: str):
    def setup(tmp: Path, book: Path) -> None:
        (tmp / name).mkdir()

    return setup


def rm_file(text: str, spec_text: str = '[rm]\noverrides_file = "rms.csv"\n'):
    def setup(tmp: Path, book: Path) -> None:
        (tmp / "rms.csv").write_text(text)
        (tmp / "c.toml").write_text(spec_text)

    return setup


ALL_OFF = "".join(f"[channels.{c}]\nweekly_capacity = 0\n" for c in ("phone", "sms", "wechat", "email", "app",
                                                                     "branch", "mail"))

CASES = [
    # ---- [value]: not finite, negative (item 4)
    Case("cfg-plan-value-nan", plan("--campaign", CAMP), ("c.toml", "value.per_reactivation=nan",
                                                          "should be a finite number"),
         spec("[value]\nper_reactivation = nan\n")),
    Case("cfg-plan-margin-inf", plan("--campaign", CAMP), ("c.toml", "value.balance_margin=inf", "finite"),
         spec("[value]\nbalance_margin = inf\n")),
    Case("cfg-plan-value-negative", plan("--campaign", CAMP),
         ("c.toml", "value.per_reactivation=-150.0 should be between 0 and 1000000000"),
         spec("[value]\nper_reactivation = -150\n")),
    Case("cfg-rank-balance-cap-negative-inf", rank("--campaign", CAMP), ("c.toml", "value.balance_cap=-inf",
                                                                         "finite"),
         spec("[value]\nbalance_cap = -inf\n")),
    # ---- other ranges
    Case("cfg-plan-holdout-everyone", plan("--campaign", CAMP),
         ("c.toml", "holdout.share=1.0 should be >= 0 and < 1 (1 would leave nobody to contact)"),
         spec("[holdout]\nshare = 1.0\n")),
    Case("cfg-plan-segment-holdout-nan", plan("--campaign", CAMP), ("c.toml", "holdout.segment_share.S01=nan"),
         spec("[holdout.segment_share]\nS01 = nan\n")),
    Case("cfg-plan-horizon-zero", plan("--campaign", CAMP),
         ("c.toml", "campaign.horizon_weeks=0 should be between 1 and 104"), spec("[campaign]\nhorizon_weeks = 0\n")),
    Case("cfg-plan-negative-capacity", plan("--campaign", CAMP),
         ("c.toml", "channels.phone.weekly_capacity=-5 should be between 0 and 100000000"),
         spec("[channels.phone]\nweekly_capacity = -5\n")),
    Case("cfg-plan-seed-negative", plan("--campaign", CAMP), ("c.toml", "campaign.seed=-1 should be between 0 and"),
         spec("[campaign]\nseed = -1\n")),
    Case("cfg-rank-rm-override-negative", rank("--campaign", CAMP), ("c.toml", "rm.overrides.RM1=-3"),
         spec("[rm.overrides]\nRM1 = -3\n")),
    Case("cfg-plan-journey-gap-negative", plan("--campaign", CAMP),
         ("c.toml", "journeys.j.steps[2].gap_days=-7 should be between 0 and 365"),
         spec('[journeys.j]\nsteps = [{channel = "sms"}, {channel = "phone", gap_days = -7}]\n')),
    Case("cfg-plan-start-date-far", plan("--campaign", CAMP),
         ("c.toml", "campaign.start_date=9999-12-27 should be between 1900-01-01 and 2199-12-31"),
         spec("[campaign]\nstart_date = 9999-12-27\n")),
    # ---- names, unknown keys, wrong types
    Case("cfg-plan-week-start-funday", plan("--campaign", CAMP), ("c.toml", "campaign.week_start='Funday'"),
         spec('[campaign]\nweek_start = "Funday"\n')),
    Case("cfg-plan-unknown-table", plan("--campaign", CAMP), ("c.toml", "unknown key 'valeu'"),
         spec("[valeu]\nper_reactivation = 1\n")),
    Case("cfg-plan-unknown-nested-key", plan("--campaign", CAMP), ("c.toml", "unknown key 'channels.sms.cots'"),
         spec("[channels.sms]\ncots = 1\n")),
    Case("cfg-validate-unknown-data-key", ("validate", "--as-of", DAY, *BOOK, "--campaign", CAMP),
         ("c.toml", "unknown key 'data.accounts.seperator'"), spec('[data.accounts]\nseperator = ";"\n'),
         previous=False),
    Case("cfg-validate-mapping-to-nothing", ("validate", "--as-of", DAY, *BOOK, "--campaign", CAMP),
         ("c.toml", "data.accounts.columns: 'CUST' maps to 'cust'"), spec('[data.accounts.columns]\nCUST = "cust"\n'),
         previous=False),
    Case("cfg-plan-string-for-number", plan("--campaign", CAMP),
         ("c.toml", "rm.calls_per_week='sixty' should be a whole number"), spec('[rm]\ncalls_per_week = "sixty"\n')),
    Case("cfg-plan-list-for-table", plan("--campaign", CAMP), ("c.toml", "[holdout] should be a table, got list"),
         spec("holdout = [0.1]\n")),
    Case("cfg-rank-table-for-list", rank("--campaign", CAMP),
         ("c.toml", "campaign.blackout_dates={{'a': 1}} should be a list"), spec("[campaign.blackout_dates]\na = 1\n")),
    Case("cfg-plan-bad-blackout-date", plan("--campaign", CAMP),
         ("c.toml", "campaign.blackout_dates[2]='2026-13-01' should be a date"),
         spec('[campaign]\nblackout_dates = ["2026-12-31", "2026-13-01"]\n')),
    Case("cfg-plan-empty-days", plan("--campaign", CAMP), ("c.toml", "channels.sms.days: needs at least one weekday"),
         spec("[channels.sms]\ndays = []\n")),
    Case("cfg-plan-every-channel-off", plan("--campaign", CAMP),
         ("c.toml", "every channel has weekly_capacity = 0"), spec(ALL_OFF)),
    Case("cfg-plan-journey-unknown-channel", plan("--campaign", CAMP),
         ("c.toml", "journeys.j.steps[1]: unknown channel 'fax'"), spec('[journeys.j]\nsteps = [{channel = "fax"}]\n')),
    Case("cfg-plan-learning-method-typo", plan("--campaign", CAMP),
         ("c.toml", "learning.method='thompsen' should be one of thompson, ucb, off"),
         spec('[learning]\nmethod = "thompsen"\n')),
    Case("cfg-plan-dormancy-out-of-order", plan("--campaign", CAMP),
         ("c.toml", "need 0 < at_risk_days < dormant_days < long_dormant_days, got 400, 365, 730"),
         spec("[dormancy]\nat_risk_days = 400\n")),
    # ---- the spec file itself and the RM capacity file
    Case("cfg-plan-spec-is-a-folder", plan("--campaign", "{tmp}/spec.toml"), ("spec.toml", "is a folder"),
         folder("spec.toml")),
    Case("cfg-plan-spec-in-gbk", plan("--campaign", CAMP), ("c.toml", "not UTF-8 text", "GBK"),
         spec('[campaign]\nname = "冬季唤醒活动"\n', encoding="gbk")),
    Case("cfg-plan-spec-not-toml", plan("--campaign", CAMP), ("c.toml", "not valid TOML"), spec("[campaign\n")),
    Case("cfg-validate-spec-missing", ("validate", "--as-of", DAY, *BOOK, "--campaign", "{tmp}/nope.toml"),
         ("nope.toml", "file not found"), previous=False),
    Case("cfg-plan-rm-file-missing", plan("--campaign", CAMP), ("c.toml", "rm.overrides_file", "rms.csv",
                                                                "file not found"),
         spec('[rm]\noverrides_file = "rms.csv"\n')),
    Case("cfg-plan-rm-file-duplicate-ids", plan("--campaign", CAMP),
         ("rms.csv", "column rm_id: 1 repeated RM(s), first at line(s) [3]"),
         rm_file("rm_id,calls_per_week\nRM001,20\nRM001,30\n")),
    Case("cfg-rank-rm-file-too-many-calls", rank("--campaign", CAMP),
         ("rms.csv", "column calls_per_week: 1 value(s) above 10000"), rm_file("rm_id,calls_per_week\nRM001,99999\n")),
    Case("cfg-plan-lang-fr", plan("--lang", "fr"), ("--lang='fr'",)),
    # ---- segmentation specs (item 5: k bounded)
    Case("cfg-plan-k-5000", plan("--segments", SEGS), ("s.toml", "algorithm.k=5000 should be between 0 and 40"),
         spec("[algorithm]\nk = 5000\n", "s.toml")),
    Case("cfg-plan-k-beyond-the-data", plan("--segments", SEGS),
         ("s.toml", "algorithm.k=40 is more segments than the", "customers left to cluster", "at most"),
         spec("[algorithm]\nk = 40\n", "s.toml")),
    Case("cfg-fit-k-max-3000", segments("fit", "--segments", SEGS),
         ("s.toml", "algorithm.k_max=3000 should be between 2 and 40"), spec("[algorithm]\nk_max = 3000\n", "s.toml"),
         previous=False),
    Case("cfg-fit-k-one", segments("fit", "--segments", SEGS), ("s.toml", "algorithm.k=1 should be 0 (choose)"),
         spec("[algorithm]\nk = 1\n", "s.toml"), previous=False),
    Case("cfg-fit-sample-size-tiny", segments("fit", "--segments", SEGS),
         ("s.toml", "algorithm.sample_size=10 should be between 1000 and"),
         spec("[algorithm]\nsample_size = 10\n", "s.toml"), previous=False),
    Case("cfg-fit-unknown-feature", segments("fit", "--segments", SEGS),
         ("s.toml", "features.shoe_size: unknown feature"), spec("[features.shoe_size]\nweight = 1\n", "s.toml"),
         previous=False),
    Case("cfg-describe-cap-quantile", segments("describe", "--segments", SEGS),
         ("s.toml", "features.balance.cap_quantile=0.1 should be between 0.5 and 1"),
         spec("[features.balance]\ncap_quantile = 0.1\n", "s.toml")),
    Case("cfg-tune-weight-nan", segments("tune", "--segments", SEGS), ("s.toml", "features.age.weight=nan", "finite"),
         spec("[features.age]\nweight = nan\n", "s.toml")),
    Case("cfg-rank-segments-unknown-key", rank("--segments", SEGS), ("s.toml", "unknown key 'algorithm.kk'"),
         spec("[algorithm]\nkk = 4\n", "s.toml")),
    # ---- segments options
    Case("cfg-tune-k-min-above-k-max", segments("tune", "--k-min", "5", "--k-max", "2"),
         ("need 2 <= --k-min <= --k-max, got 5 and 2",)),
    Case("cfg-tune-k-max-3000", segments("tune", "--k-max", "3000"), ("--k-max=3000 should be between 2 and 40",)),
    Case("cfg-tune-k-min-zero", segments("tune", "--k-min", "0"), ("--k-min=0 should be between 2 and 40",)),
    Case("cfg-fit-model-is-a-folder", segments("fit"), ("--model", "model.json is a folder"), folder("model.json"),
         previous=False),
    Case("cfg-fit-model-over-an-input", ("segments", "fit", "--as-of", DAY, "--accounts", "{tmp}/accounts.csv",
                                         "--model", "{tmp}/accounts.csv"),
         ("--model", "accounts.csv exists and is not a segment model; refusing to overwrite it"),
         lambda tmp, book: copy_book(book, tmp, "accounts.csv"), previous=False),
    # ---- saved segment models
    Case("cfg-plan-model-is-a-csv", plan("--segments-model", "{book}/accounts.csv"),
         ("accounts.csv", "not a segment model", "not valid JSON")),
    Case("cfg-plan-model-truncated", plan("--segments-model", "{tmp}/m.json"),
         ("m.json", "not a segment model (not valid JSON"), model(cut=True)),
    Case("cfg-rank-model-future-version", rank("--segments-model", "{tmp}/m.json"),
         ("m.json", "format_version=2", "reads format_version=1"),
         model(lambda d: d.__setitem__("format_version", 2))),
    Case("cfg-describe-model-edited-scale", segments("describe", "--segments-model", "{tmp}/m.json"),
         ("m.json", "corrupted segment model", "scale_ should hold finite numbers > 0"),
         model(lambda d: d["segmenter"].__setitem__("scale_", [(0.0).hex()] * len(d["segmenter"]["scale_"])))),
    Case("cfg-plan-model-edited-spec", plan("--segments-model", "{tmp}/m.json"),
         ("m.json: spec", "algorithm.k_max=3000 should be between 2 and 40"),
         model(lambda d: d["spec"]["algorithm"].__setitem__("k_max", 3000))),
    Case("cfg-describe-model-is-a-folder", segments("describe", "--segments-model", "{tmp}/m.json"),
         ("m.json", "is a folder, not a segment model file"), folder("m.json")),
    Case("cfg-describe-model-and-spec", segments("describe", "--segments-model", "{tmp}/m.json", "--segments", SEGS),
         ("not both",), both(model(), spec("[algorithm]\nk = 3\n", "s.toml"))),
    # ---- the weekly run, record and evaluate
    Case("cfg-run-week-60", ("run", "--campaign", CAMP, "--week", "2026-W60"), ("--week='2026-W60'",), weekly(),
         previous=False),
    Case("cfg-run-value-negative", ("run", "--campaign", CAMP, "--week", "2026-W50"),
         ("c.toml", "value.per_reactivation=-1.0 should be between 0"), weekly("[value]\nper_reactivation = -1\n"),
         previous=False),
    Case("cfg-run-followup-unknown-outcome", ("run", "--campaign", CAMP, "--week", "2026-W50"),
         ("c.toml", "followup.after: unknown outcome 'maybe'"), weekly('[followup]\nafter = ["maybe"]\n'),
         previous=False),
    Case("cfg-run-prior-zero", ("run", "--campaign", CAMP, "--week", "2026-W50"),
         ("c.toml", "learning.prior_alpha=0.0 should be > 0 and <= 1000000"), weekly("[learning]\nprior_alpha = 0.0\n"),
         previous=False),
    Case("cfg-run-outcomes-not-a-list", ("run", "--campaign", CAMP, "--week", "2026-W50"),
         ("c.toml", "inputs.outcomes='x.csv' should be a list"),
         lambda tmp, book: (tmp / "c.toml").write_text('[inputs]\noutcomes = "x.csv"\n'), previous=False),
    Case("cfg-record-strict-records-nothing",
         ("record", "--outcomes", "{tmp}/outcomes.csv", "--campaign", CAMP, "--as-of", "2027-01-31", "--strict"),
         ("--strict: 1 row rejected", "so nothing was recorded, not even the 1 good one"), ledger_with_touches,
         previous=False),
    Case("cfg-record-campaign-nan", ("record", "--outcomes", "{tmp}/o.csv", "--campaign", CAMP),
         ("c.toml", "learning.ucb_z=nan"), weekly("[learning]\nucb_z = nan\n"), previous=False),
    Case("cfg-record-ledger-url-number", ("record", "--outcomes", "{tmp}/o.csv", "--campaign", CAMP),
         ("c.toml", "ledger.url=5 should be text"), spec("[ledger]\nurl = 5\n"), previous=False),
    Case("cfg-evaluate-window-zero", ("evaluate", "--campaign", CAMP, "--out", "{out}"),
         ("c.toml", "learning.window_days=0 should be between 1 and 365"), weekly("[learning]\nwindow_days = 0\n")),
    Case("cfg-evaluate-campaign-is-a-folder", ("evaluate", "--campaign", "{tmp}/c.toml", "--out", "{out}"),
         ("c.toml", "is a folder"), folder("c.toml")),
    Case("cfg-demo-data-no-customers", ("demo-data", "--customers", "0", "--out", "{out}"),
         # newer typer words the bound itself; click (typer 0.16): "0 is not in the range x>=1"
         ("--customers", ("greater than or equal to 1", "not in the range x>=1"))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case, tmp_path, hostile_book):
    check(case, tmp_path, hostile_book)


def test_every_command_that_reads_a_spec_is_tried():
    commands = {c.args[0] if c.args[0] != "segments" else f"segments {c.args[1]}" for c in CASES}
    assert {"plan", "rank", "validate", "segments fit", "segments describe", "segments tune", "run", "record",
            "evaluate", "demo-data"} <= commands
    assert len(CASES) >= 35
