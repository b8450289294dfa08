"""The RM workbooks and lists: one per RM per week, formula-safe, in English or Chinese, same bytes on a rerun."""

from __future__ import annotations

import dataclasses

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactivate.errors import OutputError
from reactivate.outputs.files import neutralise
from reactivate.outputs.workbooks import excel_header
from reactivate.outputs.writer import write_run


def test_neutralise_defuses_formulas_only():
    out = neutralise(np.array(["=1+1", "+86 123", "-5", "@SUM(A1)", "\tx", "plain", "a=b"], dtype=object))
    assert out.tolist() == ["'=1+1", "'+86 123", "'-5", "'@SUM(A1)", "'\tx", "plain", "a=b"]


@pytest.fixture(scope="module")
def books(demo_run, tmp_path_factory):
    run, _ = demo_run
    run = dataclasses.replace(run, spec=dataclasses.replace(
        run.spec, targets=dataclasses.replace(run.spec.targets, excel_weeks=2,
                                              list_weeks=run.spec.campaign.horizon_weeks)))  # every week's lists
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
        ws = openpyxl.load_workbook(path).worksheets[1]  # the list, after the summary
        rows = list(ws.values)
        assert list(rows[0]) == excel_header("en")
        lst = pd.read_csv(path.with_suffix(".csv"), dtype=str)
        # the CSV neutralises a formula-like id with an apostrophe; the workbook holds it as text, as it is
        assert [r[0] for r in rows[1:]] == lst["customer_id"].str.removeprefix("'").tolist()
        # text is written as string cells: never a formula, whatever it starts with
        assert all(c.data_type in ("s", "n") for row in ws.iter_rows(min_row=2) for c in row if c.value is not None)
        for row in rows[1:]:
            assert row[3] and "{" not in row[3]  # an opener with its placeholders filled
    lists = pd.concat([pd.read_csv(p, dtype=str) for p in (en / "targets").glob("*/*.csv")
                       if p.name != "openers.csv"])
    assert not lists["reason"].str.startswith("=").any()
    assert lists["reason"].str.startswith("'=cmd").any()
    assert not lists["segment_name"].str.startswith("=").any()


def test_chinese_workbooks(books):
    _, _, zh = books
    path = sorted((zh / "targets").glob("*/*.xlsx"))[0]
    rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[1].values)
    assert list(rows[0]) == excel_header("zh")
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


def _pool_books(n):
    import datetime as dt

    from reactivate.outputs import workbooks
    from reactivate.outputs.lists import META_SHEET, NOTE_CHARS, result_labels

    books = [(f"targets/2026-12-07/RM{i:04d}.xlsx", "2026-12-07",
              [(f"C{i}-{k}", "why", "theme", "=opener", "phone", "none", "Mon-Fri") for k in range(3)], [1, 1, 2],
              [("title", None, True), ("calls", 3, False)], [("format", "x"), ("rm_id", f"RM{i:04d}")])
             for i in range(n)]
    layout = workbooks.Layout(("Customer",) * 11, (10,) * 11, 7, "en", dt.datetime(2026, 12, 7),
                              tuple(result_labels("en")), NOTE_CHARS, META_SHEET)
    return books, layout


def test_workbooks_written_by_a_pool_are_the_same_bytes(tmp_path):
    import contextlib

    from reactivate.outputs import workbooks
    from reactivate.outputs.files import staged
    from reactivate.outputs.workers import worker_pool

    books, layout = _pool_books(workbooks.POOL_WORKBOOKS + 10)
    with staged(tmp_path / "out") as stage, contextlib.ExitStack() as stack:
        workbooks.stage_workbooks(books, layout, stage, worker_pool(stack))()
    serial = list(workbooks.workbook_batch(books, layout))
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.xlsx")) == \
        [b[0] for b in books]
    assert all((tmp_path / "out" / path).read_bytes() == data for path, data in serial)


def test_a_worker_that_cannot_write_fails_the_run_and_keeps_the_outputs(tmp_path):
    import contextlib

    from reactivate.outputs import workbooks
    from reactivate.outputs.files import staged
    from reactivate.outputs.workers import worker_pool

    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("{}")  # earlier outputs
    books, layout = _pool_books(120)
    books[-1] = ("targets/2026-12-07/RM0000.xlsx/x.xlsx", *books[-1][1:])  # a file where a folder must be
    with pytest.raises(OutputError, match="cannot write"), staged(out) as stage, \
            contextlib.ExitStack() as stack:
        workbooks.stage_workbooks(books, layout, stage, worker_pool(stack))()
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]
    assert not list(tmp_path.glob(".out.tmp-*"))  # the staging folder is gone


def test_a_run_written_by_the_pool_is_the_same_bytes(demo_run, tmp_path, monkeypatch):
    """Workbooks and report made by the pool's workers (each writing into the staging folder) equal a
    run written in one process."""
    from reactivate.outputs import writer

    run, _ = demo_run
    steps = []
    monkeypatch.setattr(writer, "POOL_WORKBOOKS", 1)
    writer.write_run(run, tmp_path / "pooled", report_lang="en", progress=steps.append)
    writer.write_run(run, tmp_path / "here", report_lang="en")
    pooled = {str(p.relative_to(tmp_path / "pooled")): p.read_bytes() for p in (tmp_path / "pooled").rglob("*")
              if p.is_file()}
    here = {str(p.relative_to(tmp_path / "here")): p.read_bytes() for p in (tmp_path / "here").rglob("*")
            if p.is_file()}
    assert any(k.endswith(".xlsx") for k in pooled) and "report.html" in pooled
    assert pooled.keys() == here.keys()
    assert [k for k in pooled if pooled[k] != here[k]] == []
    assert steps[:3] == ["write", "read outputs", "chart dormancy"] and steps[-1] == "write html"


# --------------------------------------------------------------------------- hostile ids in the outputs

NUMERIC = {"priority", "step", "p_reactivate", "expected_value", "contacts_30d"}
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd", "-1+1", "@SUM(A1)", "\tTAB", "=1+1"]


@pytest.fixture(scope="module")
def small_run(hostile_book):
    from reactivate.jobs.pipeline import run_plan
    from tests.conftest import AS_OF

    return run_plan(as_of=AS_OF, accounts=hostile_book / "accounts.csv",
                    transactions=hostile_book / "transactions.csv", contacts=hostile_book / "contacts.csv")


def _with_rms(run, ids: list[str], seed: int = 0):
    """The run with its touches spread over the RMs ``ids`` (at random, every RM with at least one)."""
    plan = run.result.plan.copy()
    codes = np.random.default_rng(seed).integers(0, len(ids), len(plan))
    codes[: len(ids)] = np.arange(len(ids))[: len(plan)]
    plan["rm_id"] = pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=object))
    return dataclasses.replace(run, result=dataclasses.replace(run.result, plan=plan), summary=dict(run.summary))


def _list_rows(out) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False).assign(week=p.parent.name, file=p.name)
              for p in sorted((out / "targets").glob("*/*.csv"))]
    return pd.concat(frames, ignore_index=True)


def _assert_each_touch_in_exactly_one_list(run, out, n_weeks: int = 1):
    """Every touch of the first ``n_weeks`` weeks is in exactly one RM list, and no other touch is."""
    from reactivate.outputs.files import file_names

    plan = run.result.plan
    plan = plan[plan["week_start"].cat.codes < n_weeks]
    cats = list(plan["rm_id"].cat.categories)
    name = dict(zip(cats, file_names(cats), strict=True))
    ids = run.scores.index.to_numpy(dtype=object)[plan["pos"].to_numpy()]
    expected = sorted(zip(plan["week_start"].astype(str), [name[r] + ".csv" for r in plan["rm_id"].astype(str)],
                          ids, plan["channel"].astype(str), plan["step"].astype(str), strict=True))
    rows = _list_rows(out)
    found = sorted(zip(rows["week"], rows["file"], rows["customer_id"], rows["channel"], rows["step"], strict=True))
    assert found == expected
    for week in {w for w, *_ in expected}:
        files = [p.name for p in (out / "targets" / week).iterdir()]
        assert len({f.casefold() for f in files}) == len(files)
        assert all(len(f.encode()) <= 255 for f in files)


def test_rm_ids_that_shared_a_file_keep_every_touch(small_run, tmp_path):
    ids = ["a/b", "a_b", ".", "..", "_", "...", "RM1", "rm1", "R" * 300, "客" * 100, "RM0001", "POOL"]
    run = _with_rms(small_run, ids)
    write_run(run, tmp_path / "out", excel_weeks=1)
    _assert_each_touch_in_exactly_one_list(run, tmp_path / "out")
    week = sorted((tmp_path / "out" / "targets").glob("20*"))[0]
    names = {p.name for p in week.iterdir()}
    assert {"a_b.csv", "_.csv", "RM0001.csv", "POOL.csv"} <= names  # plain ids keep their names
    # each workbook holds the same touches as the list of the same name
    for book in week.glob("*.xlsx"):
        rows = list(openpyxl.load_workbook(book, read_only=True).worksheets[1].values)[1:]
        assert [r[0] for r in rows] == pd.read_csv(book.with_suffix(".csv"), dtype=str)["customer_id"].tolist()


def test_the_demo_rm_ids_keep_their_file_names(small_run, tmp_path):
    write_run(small_run, tmp_path / "out")
    stems = {p.stem for p in (tmp_path / "out" / "targets").glob("*/*.csv")}
    assert stems == {str(r) for r in small_run.result.plan["rm_id"].unique()} == {"RM0001", "RM0002", "POOL"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.text(min_size=0, max_size=10),
    st.text(alphabet="./_-aAbB", min_size=0, max_size=5),
    st.text(alphabet="客户经理ÉéßSs", min_size=1, max_size=100),
    st.integers(250, 320).map(lambda n: "r" * n),
    st.sampled_from(["RM1", "rm1", "a/b", "a_b", ".", "..", "CON", "nul.csv"]),
), min_size=1, max_size=8, unique=True), st.integers(0, 1000))
def test_every_planned_touch_is_in_exactly_one_rm_list(small_run, ids, seed):
    import tempfile
    from pathlib import Path

    run = _with_rms(small_run, ids, seed)
    with tempfile.TemporaryDirectory() as tmp:
        write_run(run, Path(tmp) / "out", excel_weeks=1)
        _assert_each_touch_in_exactly_one_list(run, Path(tmp) / "out")


def test_rm_lists_for_the_weeks_that_are_due_only(demo_run, tmp_path):
    """By default the RM lists (and workbooks) of the first week only; ``list_weeks = N``: the first N
    weeks, every touch of those weeks in exactly one list, the same bytes on a rerun; plan.csv keeps
    the whole horizon."""
    import json

    run, out = demo_run
    plan = run.result.plan
    weeks = [str(w) for w in plan["week_start"].cat.categories]
    busy = [w for w in weeks if (plan["week_start"] == w).any()]
    assert len(busy) > 3
    lists = sorted((out / "targets").glob("*/*.csv"))
    assert {p.parent.name for p in lists} == {weeks[0]} == {p.parent.name for p in (out / "targets").glob("*/*.xlsx")}
    _assert_each_touch_in_exactly_one_list(run, out, 1)
    outputs = json.loads((out / "summary.json").read_text())["outputs"]
    assert outputs["list_weeks"] == 1 and outputs["target_lists"] == len(lists) and outputs["workbook_weeks"] == 1
    assert set(pd.read_csv(out / "plan.csv", dtype=str)["week_start"]) == set(busy)  # the whole horizon

    three = dataclasses.replace(run, spec=dataclasses.replace(
        run.spec, targets=dataclasses.replace(run.spec.targets, list_weeks=3, excel_weeks=5)))
    written = write_run(three, tmp_path / "a")
    assert {p.parent.name for p in (tmp_path / "a" / "targets").glob("*/*.csv")} == set(busy[:3])
    # workbooks never for a week whose lists are not written
    assert {p.parent.name for p in (tmp_path / "a" / "targets").glob("*/*.xlsx")} == set(busy[:3])
    _assert_each_touch_in_exactly_one_list(three, tmp_path / "a", 3)
    assert written.summary["outputs"]["list_weeks"] == 3 and written.summary["outputs"]["workbook_weeks"] == 3
    write_run(three, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "targets").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b" / "targets").rglob("*")
                           if p.is_file())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)

    none = write_run(run, tmp_path / "none", list_weeks=0)
    assert [p.name for p in (tmp_path / "none" / "targets").iterdir()] == ["openers.csv"]
    assert none.summary["outputs"] == {"target_lists": 0, "list_weeks": 0, "workbooks": 0, "workbook_weeks": 0}
    assert (tmp_path / "none" / "plan.csv").read_bytes() == (out / "plan.csv").read_bytes()


@pytest.fixture(scope="module")
def formula_outputs(small_run, tmp_path_factory):
    run = small_run
    ids = run.scores.index.to_numpy(dtype=object).copy()
    # hostile ids on customers with a touch in the first week (so that they reach a workbook too)
    plan = run.result.plan
    first = plan[plan["week_start"] == plan["week_start"].cat.categories[0]]
    pos = pd.unique(first["pos"].to_numpy())[: len(FORMULAS)]
    ids[pos] = FORMULAS[: len(pos)]
    spec = dataclasses.replace(run.spec, themes=dataclasses.replace(
        run.spec.themes, text={"hostile": {"en": "=cmd|' /C calc'!A0", "zh": "@SUM(A1)"}}))
    seg = run.segments.copy()
    seg["segment_name"] = "-" + seg["segment_name"].astype(str)
    run = dataclasses.replace(run, scores=run.scores.set_axis(pd.Index(ids, dtype=object)), spec=spec, segments=seg,
                              summary=dict(run.summary))
    out = tmp_path_factory.mktemp("formulas") / "out"
    write_run(run, out, excel_weeks=1)
    return run, out, len(pos)


def test_no_text_cell_of_a_spreadsheet_file_starts_a_formula(formula_outputs):
    import csv

    _, out, n = formula_outputs
    files = [*sorted((out / "targets").glob("*/*.csv")), out / "targets" / "openers.csv"]
    for path in files:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for row in reader:
                for col, cell in zip(header, row, strict=True):
                    assert col in NUMERIC or not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path, col, cell)
    lists = _list_rows(out)
    assert set(lists["customer_id"]) >= {"'" + f for f in FORMULAS[:n]}
    assert lists["segment_name"].str.startswith("'-").all()
    openers = pd.read_csv(out / "targets" / "openers.csv", dtype=str).set_index("theme")
    assert openers.loc["hostile", "opener_en"] == "'=cmd|' /C calc'!A0"
    assert openers.loc["hostile", "opener_zh"] == "'@SUM(A1)"


def test_machine_files_keep_the_ids_as_they_are(formula_outputs):
    _, out, n = formula_outputs
    for name in ("plan.csv", "scores.csv"):
        ids = set(pd.read_csv(out / name, dtype=str, keep_default_na=False)["customer_id"])
        assert set(FORMULAS[:n]) <= ids, name


def test_workbook_cells_are_text_never_formulas(formula_outputs):
    _, out, n = formula_outputs
    seen = set()
    for path in sorted((out / "targets").glob("*/*.xlsx")):
        ws = openpyxl.load_workbook(path).worksheets[1]  # the list, after the summary
        for row in ws.iter_rows(min_row=2):
            for cell in row[:-1]:  # the last column holds the (hidden) step number
                assert cell.data_type in ("s", "n"), (path, cell.coordinate, cell.data_type)
                assert cell.value is None or isinstance(cell.value, str)
            assert isinstance(row[-1].value, int)
            seen.add(row[0].value)
    assert set(FORMULAS[:n]) <= seen  # as they are: a string cell is never run, an apostrophe would show


def test_followup_lists_are_neutralised_and_named_apart():
    from reactivate.jobs.weekly import followup_files

    fu = pd.DataFrame({"customer_id": ["=1+1", "C2", "@x", "C4"], "rm_id": ["a/b", "a_b", "RM1", "rm1"],
                       "week_start": "2026-12-07", "channel": "phone", "theme": "follow_up",
                       "outcome": "responded", "outcome_date": "2026-12-01", "reason": ["+why", "ok", "ok", "-x"]})
    files = followup_files(fu)
    lists = sorted(k for k in files if k.startswith("followups/"))
    assert len(lists) == 4 and "followups/2026-12-07/a_b.csv" in lists
    assert len({k.casefold() for k in lists}) == 4
    text = b"".join(files[k] for k in lists).decode()
    assert "'=1+1" in text and "'@x" in text and "'+why" in text and "'-x" in text
    assert "\n=1+1,a/b," in files["followups.csv"].decode()  # the full table (for programs) stays raw
    assert followup_files(fu.iloc[:0]) == {"followups.csv": files["followups.csv"].split(b"\n")[0] + b"\n"}


def test_packed_workbook_zip_is_what_zipfile_writes():
    """The workbooks' zip (parts deflated once per template) is byte for byte zipfile's."""
    from reactivate.outputs import xlsx

    parts = [("[Content_Types].xml", b"<types/>" * 50), ("xl/worksheets/sheet1.xml", b""),
             ("docProps/app.xml", bytes(range(256)) * 40)]
    tpl = xlsx._Template(tuple(parts), {}, (), "", 0, 0, 0)
    expected = xlsx._zipfile(tpl, {})
    assert xlsx._packed_zip([(name, xlsx._deflate(data)) for name, data in parts]) == expected
