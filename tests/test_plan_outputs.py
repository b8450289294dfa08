"""The RM workbooks and lists: one per RM per week, formula-safe, in English or Chinese, same bytes on a rerun."""

from __future__ import annotations

import dataclasses

import numpy as np
import openpyxl
import pandas as pd
import pytest

from reactivate.outputs.files import neutralise
from reactivate.outputs.workbooks import EXCEL_COLUMNS
from reactivate.outputs.writer import write_run


def test_neutralise_defuses_formulas_only():
    out = neutralise(np.array(["=1+1", "+86 123", "-5", "@SUM(A1)", "\tx", "plain", "a=b"], dtype=object))
    assert out.tolist() == ["'=1+1", "'+86 123", "'-5", "'@SUM(A1)", "'\tx", "plain", "a=b"]


@pytest.fixture(scope="module")
def books(demo_run, tmp_path_factory):
    run, _ = demo_run
    run = dataclasses.replace(run, spec=dataclasses.replace(
        run.spec, targets=dataclasses.replace(run.spec.targets, excel_weeks=2)))
    # a hostile segment name and reason must not reach a spreadsheet as a formula
    seg = run.segments.copy()
    seg.loc[seg.index[0], "segment_name"] = "=HYPERLINK(\"http://x\")"
    run = dataclasses.replace(run, segments=seg)
    plan = run.result.plan.copy()  # the demo run is shared: change a copy
    plan["reason"] = plan["reason"].cat.rename_categories(
        {plan["reason"].cat.categories[0]: "=cmd|' /C calc'!A0"})
    run = dataclasses.replace(run, result=dataclasses.replace(run.result, plan=plan), summary=dict(run.summary))
    en = tmp_path_factory.mktemp("en") / "out"
    zh = tmp_path_factory.mktemp("zh") / "out"
    written = write_run(run, en)
    write_run(run, zh, lang="zh")
    return written, en, zh


def test_one_workbook_per_rm_per_week_for_the_first_weeks(books):
    run, en, _ = books
    plan = run.result.plan
    weeks = list(plan["week_start"].cat.categories[:2])
    expected = {(str(w), str(r)) for w, r in plan.loc[plan["week_start"].isin(weeks), ["week_start", "rm_id"]]
                .drop_duplicates().itertuples(index=False)}
    found = {(p.parent.name, p.stem) for p in (en / "targets").glob("*/*.xlsx")}
    assert found == expected
    assert run.summary["outputs"]["workbooks"] == len(expected)


def test_workbook_rows_match_the_lists_and_no_cell_is_a_formula(books):
    _, en, _ = books
    for path in sorted((en / "targets").glob("*/*.xlsx"))[:40]:
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(ws.values)
        assert list(rows[0]) == EXCEL_COLUMNS["en"]
        lst = pd.read_csv(path.with_suffix(".csv"), dtype=str)
        assert [r[0] for r in rows[1:]] == lst["customer_id"].tolist()
        for row in rows[1:]:
            for v in row:
                assert v is None or not str(v).startswith(("=", "+", "-", "@")), v
            assert row[3] and "{" not in row[3]  # an opener with its placeholders filled
    lists = pd.concat([pd.read_csv(p, dtype=str) for p in (en / "targets").glob("*/*.csv")
                       if p.name != "openers.csv"])
    assert not lists["reason"].str.startswith("=").any()
    assert lists["reason"].str.startswith("'=cmd").any()
    assert not lists["segment_name"].str.startswith("=").any()


def test_chinese_workbooks(books):
    _, _, zh = books
    path = sorted((zh / "targets").glob("*/*.xlsx"))[0]
    rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].values)
    assert list(rows[0]) == EXCEL_COLUMNS["zh"]
    assert all("您好" in r[3] for r in rows[1:])
    lst = pd.read_csv(path.with_suffix(".csv"), dtype=str)
    assert [r[2] for r in rows[1:]] == lst["theme_name"].tolist()
    assert lst["theme_name"].isin(["关怀问候", "不动户提醒", "到期提醒", "生日祝福", "节日问候", "储蓄安心", "欢迎回来"]).all()


def test_workbooks_are_the_same_bytes_on_a_rerun(books, tmp_path):
    run, en, _ = books
    again = tmp_path / "again"
    write_run(run, again)
    a = sorted((en / "targets").glob("*/*.xlsx"))
    assert a and all(p.read_bytes() == (again / p.relative_to(en)).read_bytes() for p in a)


def test_no_workbooks_when_switched_off(demo_run, tmp_path):
    run, _ = demo_run
    write_run(run, tmp_path / "o", excel_weeks=0)
    assert not list((tmp_path / "o" / "targets").glob("*/*.xlsx"))
    with pytest.raises(ValueError, match="lang"):
        write_run(run, tmp_path / "p", lang="fr")


def test_the_journeys_campaign_on_the_demo_book(demo_run):
    from reactivate.config.campaign import load_campaign
    from reactivate.planning.plan import build_plan
    from tests.conftest import AS_OF, ROOT
    from tests.test_plan import fit_for

    run, _ = demo_run
    spec = load_campaign(ROOT / "campaigns" / "journeys.toml")
    res = build_plan(run.scores, fit_for(run.scores["segment_id"], spec), spec, AS_OF)
    plan = res.plan
    assert (plan["step"] >= 2).any() and set(plan["journey"]) >= {"care", "welcome"}
    assert plan.groupby("customer_id").size().max() <= spec.policy.max_touches
    # the year-end freeze closes 2026-12-31 for every channel: SMS runs 6 of 7 days that week, calls 3 of 5
    # (New Year's Day is a holiday too)
    cap = res.capacity.set_index(["week_start", "resource", "name"])["capacity"]
    assert cap[("2026-12-28", "channel", "sms")] == 200_000 * 6 // 7
    assert cap[("2026-12-28", "channel", "phone")] == 100_000 * 3 // 5
    calls = plan[(plan["channel"] == "phone")]
    assert not (calls["rm_id"] == "RM0003").any()
    # never overlapping the plain campaign's holdout
    assert not set(res.holdout["customer_id"]) & set(run.result.holdout["customer_id"])


def test_plan_exact_from_the_command_line(demo_book, tmp_path):
    import json

    from typer.testing import CliRunner

    from reactivate.cli import app
    from tests.conftest import ROOT

    out = tmp_path / "exact"
    r = CliRunner().invoke(app, ["plan", "--as-of", "2026-11-30", "--accounts", str(demo_book / "accounts.csv"),
                                 "--transactions", str(demo_book / "transactions.csv"),
                                 "--contacts", str(demo_book / "contacts.csv"),
                                 "--campaign", str(ROOT / "campaigns" / "default.toml"), "--out", str(out), "--exact"])
    assert r.exit_code == 0, r.output
    assert "optimizer: exact, within 0.00% of the bound" in r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plan"]["optimizer"]["method"] == "exact" and summary["plan"]["optimizer"]["gap"] == 0
    run = json.loads((out / "run.json").read_text())
    assert run["campaign"]["optimizer"]["method"] == "exact"  # the resolved config says how it was planned


def test_workbooks_written_by_a_pool_are_the_same_bytes():
    import datetime as dt

    from reactivate.outputs import workbooks

    books = [(f"targets/2026-12-07/RM{i:04d}.xlsx", "2026-12-07",
              [(f"C{i}-{k}", "why", "theme", "=opener", "phone", "none", "Mon-Fri") for k in range(3)])
             for i in range(workbooks.POOL_WORKBOOKS + 10)]
    args = (["Customer"] * 7, [10] * 7, dt.datetime(2026, 12, 7))
    pooled = list(workbooks.workbook_files(books, *args))
    serial = list(workbooks.workbook_batch(books, *args))
    assert [p for p, _ in pooled] == [b[0] for b in books]
    assert pooled == serial
