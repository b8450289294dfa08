"""Hostile outputs folders: an --out that holds an input, is an input, is a file or cannot be written.

Every command that writes a folder (plan, rank, segments describe and tune, run --week, evaluate, report
--out, demo) refuses, before anything is written, an outputs folder whose all-or-nothing swap would
delete one of its inputs (exit 2, naming the input and --out), and fails cleanly (exit 3) when the
outputs cannot be written. Outcomes that are not errors (formula-like ids, RM ids that shared a file
name) are tested in tests/test_plan_outputs.py and tests/test_outputs.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile import Case, both, check

AS_OF = ("--as-of", "2026-11-30")
CAMPAIGN = ROOT / "campaigns" / "default.toml"
SEGMENTS = ROOT / "reactivate" / "config" / "defaults" / "segments" / "default.toml"
WEEK = "2026-W50"
WEEK_DIR = f"runs/wk/{WEEK}"  # the week's outputs folder of the weekly campaign below (relative to {tmp})
BOOK_ARGS = ("--accounts", "{book}/accounts.csv", "--transactions", "{book}/transactions.csv")
HOLDS = "holds the input"


def _source(name: str, book: Path) -> Path:
    return {"campaign": CAMPAIGN, "segments": SEGMENTS}.get(name) or book / name


def put(*pairs: tuple[str, str]):
    """A setup copying files (a table of the good book, ``campaign``, ``segments``, or ``{}`` text for a
    stand-in model) to places relative to the case's folder."""

    def setup(tmp: Path, book: Path) -> None:
        for src, dest in pairs:
            target = tmp / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            if src == "{}":
                target.write_text("{}\n")
            else:
                shutil.copy(_source(src, book), target)

    return setup


def text(dest: str, content: str):
    def setup(tmp: Path, book: Path) -> None:
        (tmp / dest).parent.mkdir(parents=True, exist_ok=True)
        (tmp / dest).write_text(content)

    return setup


def symlink(dest: str, to: str):
    def setup(tmp: Path, book: Path) -> None:
        (tmp / dest).parent.mkdir(parents=True, exist_ok=True)
        (tmp / dest).symlink_to(_source(to, book) if not to.startswith("tmp:") else tmp / to[4:])

    return setup


def weekly(inputs: str = "", extra: str = "", where: str = "c.toml", out: str = "runs", earlier: bool = True):
    """A weekly campaign ``wk`` at ``{tmp}/<where>`` reading the good book (``inputs`` adds or replaces
    [inputs] lines, ``extra`` adds sections); with ``earlier`` an earlier run of the week in its folder."""

    def setup(tmp: Path, book: Path) -> None:
        lines = {"accounts": f'"{book / "accounts.csv"}"', "transactions": f'"{book / "transactions.csv"}"',
                 "contacts": f'"{book / "contacts.csv"}"', "outcomes": '["outcomes/*.csv"]', "out": f'"{out}"'}
        for line in filter(None, inputs.split("\n")):
            key, value = (s.strip() for s in line.split("=", 1))
            lines[key] = value
        body = "\n".join(f"{k} = {v}" for k, v in lines.items())
        path = tmp / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'[campaign]\nid = "wk"\n\n[inputs]\n{body}\n{extra}')
        if earlier:
            week = tmp / WEEK_DIR
            (week / "targets").mkdir(parents=True, exist_ok=True)
            (week / "run.json").write_text('{"version": "earlier"}\n')
            (week / "plan.csv").write_text("customer_id,week_start\nC1,2026-12-07\n")

    return setup


def plan(*args: str) -> tuple[str, ...]:
    return ("plan", *AS_OF, *args, "--quiet")


def run(*args: str) -> tuple[str, ...]:
    return ("run", "--campaign", "{tmp}/c.toml", "--week", WEEK, *args)


def evaluate(*args: str) -> tuple[str, ...]:
    return ("evaluate", "--campaign", "{tmp}/c.toml", *args)


SIMPLE_CAMPAIGN = text("c.toml", '[campaign]\nid = "wk"\n')
RM_CSV = "rm_id,calls_per_week\nRM0001,5\n"

CASES = [
    # ---- plan: each kind of input inside --out
    Case("plan-accounts-inside-out", plan("--accounts", "{out}/accounts.csv", "--out", "{out}"),
         ("--out {out}", HOLDS, "--accounts", "{out}/accounts.csv", "deleted"), put(("accounts.csv", "out/accounts.csv"))),
    Case("plan-transactions-inside-out",
         plan("--accounts", "{book}/accounts.csv", "--transactions", "{out}/transactions.csv", "--out", "{out}"),
         (HOLDS, "--transactions", "{out}/transactions.csv"), put(("transactions.csv", "out/transactions.csv"))),
    Case("plan-contacts-inside-out",
         plan(*BOOK_ARGS, "--contacts", "{out}/contacts.csv", "--out", "{out}"),
         (HOLDS, "--contacts", "{out}/contacts.csv"), put(("contacts.csv", "out/contacts.csv"))),
    Case("plan-campaign-inside-out", plan(*BOOK_ARGS, "--campaign", "{out}/campaign.toml", "--out", "{out}"),
         (HOLDS, "--campaign", "{out}/campaign.toml"), put(("campaign", "out/campaign.toml"))),
    Case("plan-segments-spec-inside-out", plan(*BOOK_ARGS, "--segments", "{out}/seg.toml", "--out", "{out}"),
         (HOLDS, "--segments", "{out}/seg.toml"), put(("segments", "out/seg.toml"))),
    Case("plan-segments-model-inside-out",
         plan(*BOOK_ARGS, "--segments-model", "{out}/model.json", "--out", "{out}"),
         (HOLDS, "--segments-model", "{out}/model.json"), put(("{}", "out/model.json"))),
    Case("plan-rm-overrides-file-inside-out",
         plan(*BOOK_ARGS, "--campaign", "{tmp}/c.toml", "--out", "{out}"),
         (HOLDS, "rm.overrides_file", "rm.csv"),
         both(text("c.toml", '[rm]\noverrides_file = "out/rm.csv"\n'), text("out/rm.csv", RM_CSV))),
    Case("plan-exact-campaign-inside-out",
         plan(*BOOK_ARGS, "--campaign", "{out}/campaign.toml", "--exact", "--out", "{out}"),
         (HOLDS, "--campaign", "{out}/campaign.toml"), put(("campaign", "out/campaign.toml"))),
    Case("plan-ledger-inside-out", plan(*BOOK_ARGS, "--ledger", "{out}/ledger.sqlite", "--out", "{out}"),
         (HOLDS, "--ledger", "{out}/ledger.sqlite")),
    Case("plan-whole-book-inside-out",
         plan("--accounts", "{out}/book/accounts.csv", "--transactions", "{out}/book/transactions.csv",
              "--contacts", "{out}/book/contacts.csv", "--out", "{out}"),
         (HOLDS, "--accounts", "{out}/book/accounts.csv"),
         put(("accounts.csv", "out/book/accounts.csv"), ("transactions.csv", "out/book/transactions.csv"),
             ("contacts.csv", "out/book/contacts.csv"))),
    Case("plan-input-through-dotdot", plan("--accounts", "{out}/targets/../accounts.csv", "--out", "{out}"),
         (HOLDS, "--accounts"), put(("accounts.csv", "out/accounts.csv"))),
    Case("plan-out-through-dotdot", plan("--accounts", "{out}/accounts.csv", "--out", "{tmp}/x/../out"),
         (HOLDS, "--accounts", "{out}/accounts.csv"), both(put(("accounts.csv", "out/accounts.csv")),
                                                           text("x/keep.txt", "x\n"))),
    Case("plan-symlinked-input-inside-out", plan("--accounts", "{out}/link.csv", "--out", "{out}"),
         (HOLDS, "--accounts", "{out}/link.csv"), symlink("out/link.csv", "accounts.csv")),
    Case("plan-input-linked-into-out", plan("--accounts", "{tmp}/acc.csv", "--out", "{tmp}/outlink"),
         (HOLDS, "--accounts", "{tmp}/acc.csv"),
         both(put(("accounts.csv", "out/accounts.csv")), symlink("acc.csv", "tmp:out/accounts.csv"),
              symlink("outlink", "tmp:out"))),
    Case("plan-out-is-the-accounts-file", plan("--accounts", "{tmp}/accounts.csv", "--out", "{tmp}/accounts.csv"),
         ("--out {tmp}/accounts.csv", "is the input --accounts"), put(("accounts.csv", "accounts.csv")),
         previous=False),
    Case("plan-out-is-the-campaign-file",
         plan(*BOOK_ARGS, "--campaign", "{tmp}/campaign.toml", "--out", "{tmp}/campaign.toml"),
         ("is the input --campaign",), put(("campaign", "campaign.toml")), previous=False),
    Case("plan-out-is-the-folder-above-the-book",
         plan("--accounts", "{tmp}/book/accounts.csv", "--out", "{tmp}"),
         (HOLDS, "--accounts", "{tmp}/book/accounts.csv"), put(("accounts.csv", "book/accounts.csv")),
         previous=False),
    Case("plan-out-is-a-file", plan(*BOOK_ARGS, "--out", "{tmp}/notes.txt"),
         ("notes.txt", "exists and is not a directory"), text("notes.txt", "mine\n"), code=3, previous=False),
    Case("plan-out-below-a-file", plan(*BOOK_ARGS, "--out", "{tmp}/notes.txt/out"),
         ("notes.txt", "exists and is not a directory"), text("notes.txt", "mine\n"), code=3, previous=False),
    Case("plan-out-not-written-by-reactivate", plan(*BOOK_ARGS, "--out", "{tmp}/mine"),
         ("mine", "holds no run.json"), text("mine/thesis.docx", "mine\n"), code=3, previous=False),
    Case("plan-out-name-too-long", plan(*BOOK_ARGS, "--out", "{tmp}/" + "o" * 300),
         ("cannot write here", "File name too long"), code=3, previous=False),
    # ---- rank
    Case("rank-accounts-inside-out", ("rank", *AS_OF, "--accounts", "{out}/accounts.csv", "--out", "{out}"),
         (HOLDS, "--accounts", "{out}/accounts.csv"), put(("accounts.csv", "out/accounts.csv"))),
    Case("rank-contacts-inside-out", ("rank", *AS_OF, *BOOK_ARGS, "--contacts", "{out}/c.csv", "--out", "{out}"),
         (HOLDS, "--contacts", "{out}/c.csv"), put(("contacts.csv", "out/c.csv"))),
    Case("rank-segments-model-inside-out",
         ("rank", *AS_OF, *BOOK_ARGS, "--segments-model", "{out}/m.json", "--out", "{out}"),
         (HOLDS, "--segments-model", "{out}/m.json"), put(("{}", "out/m.json"))),
    Case("rank-out-is-the-transactions-file",
         ("rank", *AS_OF, "--accounts", "{book}/accounts.csv", "--transactions", "{tmp}/t.csv", "--out", "{tmp}/t.csv"),
         ("is the input --transactions", "{tmp}/t.csv"), put(("transactions.csv", "t.csv")), previous=False),
    Case("rank-out-is-a-file", ("rank", *AS_OF, *BOOK_ARGS, "--out", "{tmp}/r.csv"),
         ("r.csv", "exists and is not a directory"), text("r.csv", "x\n"), code=3, previous=False),
    # ---- segments describe and tune
    Case("segments-describe-accounts-inside-out",
         ("segments", "describe", *AS_OF, "--accounts", "{out}/accounts.csv", "--out", "{out}"),
         (HOLDS, "--accounts", "{out}/accounts.csv"), put(("accounts.csv", "out/accounts.csv"))),
    Case("segments-describe-spec-inside-out",
         ("segments", "describe", *AS_OF, *BOOK_ARGS, "--segments", "{out}/seg.toml", "--out", "{out}"),
         (HOLDS, "--segments", "{out}/seg.toml"), put(("segments", "out/seg.toml"))),
    Case("segments-describe-model-inside-out",
         ("segments", "describe", *AS_OF, *BOOK_ARGS, "--segments-model", "{out}/m.json", "--out", "{out}"),
         (HOLDS, "--segments-model", "{out}/m.json"), put(("{}", "out/m.json"))),
    Case("segments-describe-out-is-a-file",
         ("segments", "describe", *AS_OF, *BOOK_ARGS, "--out", "{tmp}/s.txt"),
         ("s.txt", "exists and is not a directory"), text("s.txt", "x\n"), code=3, previous=False),
    Case("segments-tune-accounts-inside-out",
         ("segments", "tune", *AS_OF, "--accounts", "{out}/accounts.csv", "--out", "{out}"),
         (HOLDS, "--accounts", "{out}/accounts.csv"), put(("accounts.csv", "out/accounts.csv"))),
    Case("segments-tune-campaign-inside-out",
         ("segments", "tune", *AS_OF, *BOOK_ARGS, "--campaign", "{out}/c.toml", "--out", "{out}"),
         (HOLDS, "--campaign", "{out}/c.toml"), put(("campaign", "out/c.toml"))),
    Case("segments-tune-out-below-a-file",
         ("segments", "tune", *AS_OF, *BOOK_ARGS, "--out", "{tmp}/k.txt/k"),
         ("k.txt", "exists and is not a directory"), text("k.txt", "x\n"), code=3, previous=False),
    # ---- run --week: an input inside the week's outputs folder <out>/<campaign>/<week>
    Case("run-accounts-option-inside-week", run("--accounts", f"{{tmp}}/{WEEK_DIR}/accounts.csv"),
         ("the week's outputs folder", HOLDS, "--accounts", "accounts.csv"),
         both(weekly(), put(("accounts.csv", f"{WEEK_DIR}/accounts.csv"))), previous=False),
    Case("run-inputs-accounts-inside-week", run(),
         (HOLDS, "[inputs] accounts", "accounts.csv"),
         both(weekly(f'accounts = "{WEEK_DIR}/accounts.csv"'), put(("accounts.csv", f"{WEEK_DIR}/accounts.csv"))),
         previous=False),
    Case("run-inputs-contacts-inside-week", run(),
         (HOLDS, "[inputs] contacts", "contacts.csv"),
         both(weekly('contacts = "runs/wk/{week}/contacts.csv"'), put(("contacts.csv", f"{WEEK_DIR}/contacts.csv"))),
         previous=False),
    Case("run-outcomes-inside-week", run(),
         (HOLDS, "[inputs] outcomes", "outcomes.csv"),
         both(weekly('outcomes = ["runs/wk/{week}/*.csv"]'),
              text(f"{WEEK_DIR}/outcomes.csv", "customer_id,date,channel,outcome\n")), previous=False),
    Case("run-ledger-option-inside-week", run("--ledger", f"{{tmp}}/{WEEK_DIR}/ledger.sqlite"),
         (HOLDS, "--ledger", "ledger.sqlite"), weekly(), previous=False),
    Case("run-ledger-url-inside-week", run(),
         (HOLDS, "[ledger] url", "ledger.sqlite"),
         weekly(extra=f'\n[ledger]\nurl = "{WEEK_DIR}/ledger.sqlite"\n'), previous=False),
    Case("run-campaign-inside-week", ("run", "--campaign", f"{{tmp}}/{WEEK_DIR}/c.toml", "--week", WEEK),
         (HOLDS, "--campaign", "c.toml"), weekly(where=f"{WEEK_DIR}/c.toml", out="../.."), previous=False),
    Case("run-segments-model-inside-week", run(),
         (HOLDS, "[inputs] segments_model", "model.json"),
         both(weekly(f'segments_model = "{WEEK_DIR}/model.json"'), put(("{}", f"{WEEK_DIR}/model.json"))),
         previous=False),
    Case("run-rm-overrides-file-inside-week", run(),
         (HOLDS, "rm.overrides_file", "rm.csv"),
         both(weekly(extra=f'\n[rm]\noverrides_file = "{WEEK_DIR}/rm.csv"\n'), text(f"{WEEK_DIR}/rm.csv", RM_CSV)),
         previous=False),
    Case("run-out-is-a-file", run("--out", "{tmp}/notes.txt"),
         ("notes.txt", "exists and is not a directory"), both(weekly(earlier=False), text("notes.txt", "x\n")),
         code=3, previous=False),
    Case("run-week-folder-not-written-by-reactivate", run(),
         ("2026-W50", "holds no run.json"), both(weekly(earlier=False), text(f"{WEEK_DIR}/mine.txt", "x\n")),
         code=3, previous=False),
    # ---- evaluate
    Case("evaluate-accounts-inside-out", evaluate("--accounts", "{out}/accounts.csv", "--out", "{out}"),
         (HOLDS, "--accounts", "{out}/accounts.csv"),
         both(SIMPLE_CAMPAIGN, put(("accounts.csv", "out/accounts.csv")))),
    Case("evaluate-transactions-inside-out", evaluate("--transactions", "{out}/t.csv", "--out", "{out}"),
         (HOLDS, "--transactions", "{out}/t.csv"), both(SIMPLE_CAMPAIGN, put(("transactions.csv", "out/t.csv")))),
    Case("evaluate-inputs-transactions-inside-out", evaluate("--out", "{out}"),
         (HOLDS, "[inputs] transactions", "t.csv"),
         both(text("c.toml", '[campaign]\nid = "wk"\n[inputs]\ntransactions = "out/t.csv"\n'),
              put(("transactions.csv", "out/t.csv")))),
    Case("evaluate-campaign-inside-out", ("evaluate", "--campaign", "{out}/c.toml", "--out", "{out}"),
         (HOLDS, "--campaign", "{out}/c.toml"), text("out/c.toml", '[campaign]\nid = "wk"\n')),
    Case("evaluate-ledger-inside-out", evaluate("--ledger", "{out}/ledger.sqlite", "--out", "{out}"),
         (HOLDS, "ledger.sqlite"), SIMPLE_CAMPAIGN),
    Case("evaluate-out-is-the-ledger-file", evaluate("--ledger", "{tmp}/l.sqlite", "--out", "{tmp}/l.sqlite"),
         ("is the input", "l.sqlite"), both(SIMPLE_CAMPAIGN, text("l.sqlite", "")), previous=False),
    Case("evaluate-ledger-below-a-file", evaluate("--ledger", "{tmp}/afile/l.sqlite", "--out", "{out}"),
         ("ledger", "afile is a file"), both(SIMPLE_CAMPAIGN, text("afile", "x\n"))),
    Case("record-ledger-below-a-file", ("record", "--campaign", "{tmp}/c.toml", "--ledger", "{tmp}/afile/l.sqlite",
                                        "--outcomes", "{tmp}/o.csv"),
         ("ledger", "afile is a file"),
         both(SIMPLE_CAMPAIGN, text("afile", "x\n"), text("o.csv", "customer_id,date,channel,outcome\n"))),
    Case("record-ledger-is-a-folder", ("record", "--campaign", "{tmp}/c.toml", "--ledger", "{tmp}/ldir",
                                       "--outcomes", "{tmp}/o.csv"),
         ("ledger", "is a folder"),
         both(SIMPLE_CAMPAIGN, text("ldir/x", "x\n"), text("o.csv", "customer_id,date,channel,outcome\n"))),
    # ---- report --out: never over a file the report reads
    Case("report-out-is-the-runs-plan", ("report", "--run", "{out}", "--out", "{out}/plan.csv", "--quiet"),
         ("--out {out}/plan.csv", "is the input", "--run")),
    Case("report-out-is-the-runs-run-json", ("report", "--run", "{out}", "--out", "{out}/run.json", "--quiet"),
         ("--out {out}/run.json", "is the input")),
    Case("report-out-is-the-uplift-table",
         ("report", "--run", "{out}", "--uplift", "{tmp}/u.csv", "--out", "{tmp}/u.csv", "--quiet"),
         ("is the input", "u.csv", "--uplift"), text("u.csv", "dimension,level\n")),
    # ---- demo
    Case("demo-out-is-a-file", ("demo", "--customers", "200", "--out", "{tmp}/notes.txt"),
         ("notes.txt",), text("notes.txt", "x\n"), code=3, previous=False),
    Case("demo-book-folder-is-a-file", ("demo", "--customers", "200", "--out", "{tmp}/d"),
         ("d/book",), text("d/book", "x\n"), code=3, previous=False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case, tmp_path, hostile_book):
    check(case, tmp_path, hostile_book)


def test_the_demo_writes_no_book_when_its_plan_folder_is_not_ours(tmp_path):
    """demo --out D where D/plan is not reactivate's: the plan is refused (exit 3) and no book is left."""
    from typer.testing import CliRunner

    from reactivate.cli import app

    (tmp_path / "d" / "plan").mkdir(parents=True)
    (tmp_path / "d" / "plan" / "mine.txt").write_text("x\n")
    r = CliRunner().invoke(app, ["demo", "--customers", "200", "--out", str(tmp_path / "d")])
    assert r.exit_code == 3 and "holds no run.json" in r.stderr
    assert not (tmp_path / "d" / "book").exists()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["plan"]
