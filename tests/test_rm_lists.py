"""The RM lists and workbooks an RM works from (issue 14): the bank's own columns (``[targets] show``) there
and nowhere else, the per-customer columns, the outcome columns the bank fills in, the summary sheet and
the hidden ``_meta`` sheet a returned workbook is read by."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import logging
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from reactivate.config.campaign import CampaignSpec, Targets, load_campaign
from reactivate.data.shown import read_shown
from reactivate.errors import ConfigError, InputDataError
from reactivate.jobs.pipeline import run_plan
from reactivate.outputs.lists import (
    META_FORMAT,
    META_KEYS,
    RESULTS,
    balance_column,
    band_labels,
    last_week_results,
    products_held,
    result_code,
    result_labels,
    workbook_keys,
)
from reactivate.outputs.workbooks import TAIL_HEADERS
from reactivate.outputs.writer import write_run
from reactivate.scoring.rank import customer_shortfalls, shortfall_checks
from tests.conftest import AS_OF, ROOT

#: every show value carries this mark, so that a leak into any other file or a log is found by a grep
MARK = "ZQXMARK"
SHOW = ["name", "mobile"]
FORMULA = '=HYPERLINK("http://x","ZQXMARK")'


def campaign(tmp: Path, show: list[str] = SHOW, extra: str = "") -> Path:
    text = (ROOT / "campaigns" / "default.toml").read_text(encoding="utf-8")
    text = text.replace("show = []", "show = [" + ", ".join(f'"{s}"' for s in show) + "]")
    path = tmp / "campaign.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """A 600-customer demo book whose accounts carry a name and a mobile number per customer (marked),
    the first account of every third customer without a name, and a formula for a few customers."""
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp("shown_book")
    write_book(generate_book(600, seed=11, as_of=AS_OF), out, fmt="csv")
    acc = pd.read_csv(out / "accounts.csv", dtype=str, keep_default_na=False)
    acc["name"] = "Name-" + MARK + "-" + acc["customer_id"]
    acc["mobile"] = "+86 139" + MARK + acc["customer_id"].str[-4:]
    first = ~acc["customer_id"].duplicated()
    blank = first & (acc["customer_id"].str[-4:].astype(int) % 3 == 0) & acc["customer_id"].duplicated(keep=False)
    acc.loc[blank, "name"] = "  "
    acc.loc[acc["customer_id"].str[-4:].astype(int) % 4 == 1, "name"] = FORMULA
    acc.to_csv(out / "accounts.csv", index=False)
    return out


def plan(book: Path, camp: Path, **kw):
    return run_plan(as_of=AS_OF, accounts=book / "accounts.csv", transactions=book / "transactions.csv",
                    contacts=book / "contacts.csv", campaign=camp, **kw)


@pytest.fixture(scope="module")
def shown(book, tmp_path_factory):
    """The plan with ``show = ["name", "mobile"]``, written in English and in Chinese."""
    tmp = tmp_path_factory.mktemp("shown")
    run = plan(book, campaign(tmp))
    write_run(run, tmp / "en", report_lang="en")
    write_run(run, tmp / "zh", lang="zh")
    return run, tmp / "en", tmp / "zh"


def lists(out: Path) -> list[Path]:
    return sorted(p for p in (out / "targets").glob("*/*.csv"))


def workbooks(out: Path) -> list[Path]:
    return sorted((out / "targets").glob("*/*.xlsx"))


def list_sheet(path: Path):
    return openpyxl.load_workbook(path).worksheets[1]


# --------------------------------------------------------------------------- the shared vocabulary


def test_result_labels_and_codes():
    assert set(RESULTS) == {"responded", "no_answer", "declined", "reactivated", "opted_out", "complaint"}
    assert result_labels("en") == ["reached", "no answer", "declined", "came back", "opted out of this channel",
                                   "complaint"]
    for code, labels in RESULTS.items():
        assert result_code(code) == code
        assert result_code(f"  {labels['en'].upper()} ") == code
        assert result_code(labels["zh"]) == code
    assert result_code("maybe") is None and result_code(None) is None and result_code("") is None


def test_workbook_keys_put_the_show_columns_after_best_time():
    assert workbook_keys(["name", "mobile"]) == [
        "customer_id", "why_now", "theme", "opener", "channel", "last_contacts", "best_time", "name", "mobile",
        "segment", "shortfall", "products", "balance_band", "contacted_on", "result", "note", "step"]


# --------------------------------------------------------------------------- the show columns


def test_show_values_are_in_the_lists_and_workbooks_and_nowhere_else(book, tmp_path, caplog, capsys):
    from reactivate.jobs.weekly import configure_logging

    caplog.set_level(logging.DEBUG)
    configure_logging(json_lines=True, verbose=True)
    try:
        run = plan(book, campaign(tmp_path))
        out = tmp_path / "out"
        written = write_run(run, out, report_lang="en")
    finally:
        configure_logging(json_lines=False)
    targets = {*lists(out), *workbooks(out)}
    assert any(MARK.encode() in p.read_bytes() for p in lists(out) if p.name != "openers.csv")
    assert all(MARK in "".join(str(v) for r in list_sheet(p).iter_rows(values_only=True) for v in r)
               for p in workbooks(out))
    leaks = [str(p.relative_to(out)) for p in sorted(out.rglob("*"))
             if p.is_file() and p not in targets and MARK.encode() in p.read_bytes()]
    assert leaks == []
    for p in workbooks(out):  # the workbook's own hidden sheet holds no value either
        meta = openpyxl.load_workbook(p)["_meta"]
        assert MARK not in "".join(str(v) for r in meta.iter_rows(values_only=True) for v in r)
    captured = capsys.readouterr()
    assert MARK not in caplog.text + captured.out + captured.err
    assert MARK not in repr(written.summary) + repr(written.run)


def test_first_non_empty_value_in_file_order_per_customer(shown, book):
    run, _, _ = shown
    acc = pd.read_csv(book / "accounts.csv", dtype=str, keep_default_na=False)
    expected = acc[acc["name"].str.strip() != ""].drop_duplicates("customer_id").set_index("customer_id")["name"]
    got = pd.Series(run.shown.column("name").to_pylist(), index=run.scores.index)
    assert (got == expected.reindex(got.index)).all()
    blanked = acc.loc[acc["name"].str.strip() == "", "customer_id"]
    assert len(set(blanked) & set(got.index)) > 0  # some customers took their second account's name


def test_formula_like_show_values_are_neutralised(shown):
    _, en, _ = shown
    rows = [r for p in lists(en) if p.name != "openers.csv" for r in csv.DictReader(p.open(encoding="utf-8"))]
    names = {r["name"] for r in rows}
    assert "'" + FORMULA in names and FORMULA not in names
    assert all(r["mobile"].startswith("'+86") for r in rows)
    found = 0
    for p in workbooks(en):
        ws = list_sheet(p)
        for row in ws.iter_rows(min_row=2):
            name, mobile = row[7], row[8]
            # a string cell is text, never a formula: written as it is, with no apostrophe to show
            assert mobile.data_type == "s" and mobile.value.startswith("+86")
            if name.value == FORMULA:
                assert name.data_type == "s"
                found += 1
            assert name.data_type != "f"
    assert found > 0


def test_read_shown_by_contract_name_from_parquet_with_a_renamed_column(tmp_path):
    acc = pd.DataFrame({"cust": ["C2", "C1", "C1", "C3"], "分行": ["B2", "", "B1", None], "mobile": [1, 2, 3, 4]})
    acc.to_parquet(tmp_path / "accounts.parquet")
    spec = dataclasses.replace(CampaignSpec(), targets=Targets(show=("branch_id", "mobile")))
    spec = dataclasses.replace(spec, data=dataclasses.replace(
        spec.data, accounts=dataclasses.replace(spec.data.accounts, columns={"cust": "customer_id", "分行": "branch_id"})))
    t = read_shown(tmp_path / "accounts.parquet", spec, pd.Index(["C1", "C2", "C3", "C4"]))
    assert t.column("branch_id").to_pylist() == ["B1", "B2", None, None]
    assert t.column("mobile").to_pylist() == ["2", "1", "4", None]  # read as text


def test_read_shown_csv_with_its_separator_and_encoding(tmp_path):
    (tmp_path / "a.csv").write_bytes("customer_id;姓名\nC1;张三\nC2;NULL\nC2;李四\n".encode("gbk"))
    spec = load_campaign(None)
    spec = dataclasses.replace(spec, targets=Targets(show=("姓名",)), data=dataclasses.replace(
        spec.data, encoding="gbk", accounts=dataclasses.replace(spec.data.accounts, sep=";")))
    t = read_shown(tmp_path / "a.csv", spec, pd.Index(["C1", "C2"]))
    assert t.column("姓名").to_pylist() == ["张三", "李四"]


def test_a_show_column_missing_from_the_accounts_file_names_file_column_and_key(book, tmp_path):
    with pytest.raises(InputDataError) as err:
        plan(book, campaign(tmp_path, ["name", "nickname"]))
    msg = str(err.value)
    assert str(book / "accounts.csv") in msg and "'nickname'" in msg and "targets.show" in msg
    assert MARK not in msg  # the file's columns may be named, never a value


def test_show_without_an_accounts_file_is_an_error_naming_the_key(book, tmp_path):
    with pytest.raises(ConfigError, match=r"targets\.show"):
        run_plan(as_of=AS_OF, transactions=book / "transactions.csv", campaign=campaign(tmp_path))


@pytest.mark.parametrize(("show", "bands", "match"), [
    (["note"], None, "the RM lists have such a column"),
    (["name", "name"], None, r"targets.show\[2\]='name': named twice"),
    (["a,b"], None, "targets.show"),
    ([], "[50000, 10000]", "targets.balance_bands"),
    ([], "[-1]", "targets.balance_bands"),
])
def test_bad_show_and_band_settings_are_config_errors(book, tmp_path, show, bands, match):
    path = campaign(tmp_path, show)
    if bands is not None:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("balance_bands = [10000, 50000, 100000, 500000, 1000000]",
                                     f"balance_bands = {bands}"), encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        plan(book, path)


# --------------------------------------------------------------------------- per-customer columns


def test_balance_bands_and_the_exact_figure():
    assert band_labels([10_000, 50_000, 100_000, 500_000, 1_000_000]) == [
        "<10k", "10k–50k", "50k–100k", "100k–500k", "500k–1M", "≥1M"]
    assert band_labels([2500, 1.5e6]) == ["<2.5k", "2.5k–1.5M", "≥1.5M"]
    bal = np.array([0.0, 9_999.99, 10_000.0, 2_000_000.0, np.nan])
    assert list(balance_column(bal, Targets())) == ["<10k", "<10k", "10k–50k", "≥1M", np.nan]
    exact = balance_column(bal, Targets(exact_balance=True))
    assert exact[:4].tolist() == [0.0, 9999.99, 10000.0, 2e6] and np.isnan(exact[4])


def test_the_lists_show_each_customers_balance_band(shown, book):
    run, en, _ = shown
    rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in lists(en) if p.name != "openers.csv"])
    total = run.scores["total_balance"].reindex(rows["customer_id"]).to_numpy()
    assert (rows["balance_band"].to_numpy() == np.asarray(balance_column(total, Targets()), dtype=object)).all()


def test_exact_balance_writes_the_amount(shown, tmp_path):
    run, _, _ = shown
    run = dataclasses.replace(run, spec=dataclasses.replace(
        run.spec, targets=dataclasses.replace(run.spec.targets, exact_balance=True)), summary=dict(run.summary))
    write_run(run, tmp_path / "out")
    p = workbooks(tmp_path / "out")[0]
    lst = pd.read_csv(p.with_suffix(".csv"), dtype={"customer_id": str})
    total = run.scores["total_balance"].reindex(lst["customer_id"]).round(2).to_numpy()
    assert np.allclose(lst["balance_band"].to_numpy(dtype=float), total)
    ws = list_sheet(p)
    col = [c.value for c in ws[1]].index("Balance")
    assert [r[col] for r in ws.iter_rows(min_row=2, values_only=True)] == pytest.approx(total.tolist())


def test_products_held_in_product_order_and_translated():
    acc = pd.DataFrame({"customer_id": pd.Categorical(["C1", "C1", "C2", "C1", "C9"]),
                        "product": pd.Categorical(["term_deposit", "savings", "loan", "savings", "fund"])})
    got = products_held(acc, np.array(["C1", "C2", "C3"], dtype=object))
    assert list(got) == ["savings, term_deposit", "loan", ""]
    assert list(products_held(acc, np.array(["C1"], dtype=object), "zh")) == ["储蓄，定期存款"]


def test_per_customer_shortfall_uses_the_segment_tables_rule():
    s = pd.DataFrame({"contacts_12m": [0, 3, 0], "rm_id": [None, "RM1", "RM1"], "matured_not_rolled": [True, False, False],
                      "event": ["deadline", "", ""], "segment_id": ["S1", "S1", "S2"]})
    feats = pd.DataFrame({"digital_reach": [0.0, 1.0, np.nan], "maturing_soon": [0, 1, 0]})
    known = frozenset({"contacts", "rm", "reach"})
    text = list(customer_shortfalls(s, feats, known))
    assert text == ["no contact in 12 months; no digital channel; no relationship manager; term deposit matured "
                    "and not rolled over; near the regulatory dormancy date",
                    "deposit matures in the horizon",
                    "no contact in 12 months; no digital channel"]
    assert list(customer_shortfalls(s, feats, frozenset())) == [
        "term deposit matured and not rolled over; near the regulatory dormancy date",
        "deposit matures in the horizon", ""]  # a check without its input is never claimed
    assert list(shortfall_checks(s, feats, known)) == [
        "no contact in 12 months", "no digital channel", "no relationship manager", "deposit matures in the horizon",
        "term deposit matured and not rolled over", "near the regulatory dormancy date"]


def test_the_lists_carry_segment_shortfall_and_products(shown):
    run, en, zh = shown
    rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in lists(en) if p.name != "openers.csv"])
    short = pd.Series(np.asarray(run.shortfall, dtype=object), index=run.scores.index)
    assert (rows["shortfall"].to_numpy() == short.reindex(rows["customer_id"]).fillna("").to_numpy()).all()
    assert (rows["shortfall"] != "").any() and (rows["products"] != "").all()
    none12 = run.scores["contacts_12m"].reindex(rows["customer_id"]).to_numpy() == 0
    assert rows["shortfall"][none12].str.contains("no contact in 12 months").all()
    zh_rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in lists(zh) if p.name != "openers.csv"])
    assert zh_rows["shortfall"].str.contains("12个月未联系").any() and zh_rows["products"].str.contains("储蓄").any()
    ws = list_sheet(workbooks(en)[0])
    header = [c.value for c in ws[1]]
    first = dict(zip(header, [c.value for c in ws[2]], strict=True))
    row = rows[rows["customer_id"] == first["Customer"]].iloc[0]
    assert (first["Service shortfall"] or "") == row["shortfall"] and first["Products"] == row["products"]
    assert first["Balance"] == row["balance_band"] and first["Segment"] == row["segment_name"]


def test_csv_lists_end_with_the_run_and_the_outcome_columns(shown):
    _, en, _ = shown
    for p in lists(en):
        if p.name == "openers.csv":
            continue
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        assert list(df.columns[14:]) == [*SHOW, "shortfall", "products", "balance_band", "run_id", "week_start",
                                         "rm_id", "contacted_on", "result", "note"]
        assert (df["week_start"] == p.parent.name).all() and (df["run_id"] == "").all()
        assert (df[["contacted_on", "result", "note"]] == "").all().all()


# --------------------------------------------------------------------------- the workbook


def test_workbook_sheets_protection_and_outcome_cells(shown):
    _, en, _ = shown
    for p in workbooks(en)[:5]:
        wb = openpyxl.load_workbook(p)
        assert wb.sheetnames == ["Summary", p.parent.name, "_meta"]
        assert [ws.sheet_state for ws in wb.worksheets] == ["visible", "visible", "veryHidden"]
        ws = wb.worksheets[1]
        header = [c.value for c in ws[1]]
        assert header[7:9] == SHOW and header[-4:] == [TAIL_HEADERS["en"][k] for k in ("contacted_on", "result", "note",
                                                                                       "step")]
        c = len(header) - 4  # 0-based column of contacted on
        assert ws.protection.sheet and ws.freeze_panes == "A2"
        assert ws.column_dimensions[openpyxl.utils.get_column_letter(c + 4)].hidden
        for row in ws.iter_rows(min_row=2):
            assert all(cell.protection.locked for cell in row[:c])
            assert not any(cell.protection.locked for cell in row[c:c + 3])
            assert row[c].number_format == "yyyy-mm-dd" and row[c].value is None
            assert isinstance(row[c + 3].value, int)
        for j in range(3):
            assert ws.cell(1, c + 1 + j).comment is not None
        checks = {d.type: d for d in ws.data_validations.dataValidation}
        start = dt.date.fromisoformat(p.parent.name)
        serial = (start - dt.date(1899, 12, 30)).days
        col = openpyxl.utils.get_column_letter
        assert checks["date"].formula1 == str(serial) and checks["date"].formula2 == str(serial + 6)
        assert str(checks["date"].sqref).startswith(f"{col(c + 1)}2:")
        assert checks["list"].formula1 == '"' + ",".join(result_labels("en")) + '"'
        assert checks["textLength"].operator == "lessThanOrEqual" and checks["textLength"].formula1 == "500"


def test_chinese_workbook_drop_down_and_words(shown):
    _, _, zh = shown
    wb = openpyxl.load_workbook(workbooks(zh)[0])
    assert wb.sheetnames[0] == "概览"
    ws = wb.worksheets[1]
    checks = {d.type: d for d in ws.data_validations.dataValidation}
    assert checks["list"].formula1 == '"已联系上,未接通,拒绝,已回归,退订此渠道,投诉"'
    assert [c.value for c in ws[1]][-4:] == ["联系日期", "结果", "下一步 / 备注", "步骤"]
    assert "联系日期" in ws.cell(1, len(ws[1]) - 3).comment.text


def test_meta_sheet_holds_the_contract_keys(shown):
    run, en, _ = shown
    for p in workbooks(en)[:5]:
        meta = dict(openpyxl.load_workbook(p)["_meta"].iter_rows(values_only=True))
        assert list(meta) == list(META_KEYS)
        assert meta["format"] == META_FORMAT and meta["campaign_id"] == run.spec.campaign.id
        assert meta["run_id"] in ("", None) and meta["week_start"] == p.parent.name and meta["lang"] == "en"
        y, w, _ = dt.date.fromisoformat(p.parent.name).isocalendar()
        assert meta["week"] == f"{y}-W{w:02d}"
        assert meta["columns"] == ",".join(workbook_keys(SHOW))
        lst = pd.read_csv(p.with_suffix(".csv"), dtype=str, keep_default_na=False)
        assert {meta["rm_id"]} == set(lst["rm_id"])
        ws = openpyxl.load_workbook(p).worksheets[1]
        keys = meta["columns"].split(",")
        steps = [r[keys.index("step")] for r in ws.iter_rows(min_row=2, values_only=True)]
        assert steps == lst["step"].astype(int).tolist()


def test_summary_sheet_counts_for_a_plain_plan(shown):
    _, en, _ = shown
    for p in workbooks(en)[:10]:
        wb = openpyxl.load_workbook(p)
        summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
        channels = [r[4] for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)]
        assert summary["calls"] == channels.count("phone") and summary["branch invitations"] == channels.count("branch")
        assert summary["total"] == len(channels)
        assert summary["messages to your clients (SMS, WeChat, app, e-mail, mail)"] == len(channels) - \
            channels.count("phone") - channels.count("branch")
        assert summary["Follow-ups (回访) due this week"] == "none"
        assert summary["Last week's results"] == "not recorded"
        assert channels == sorted(channels, key=lambda ch: ch not in ("phone", "branch"))  # calls first


def test_workbooks_and_lists_are_the_same_bytes_on_a_rerun(shown, tmp_path):
    run, en, _ = shown
    write_run(run, tmp_path / "again", report_lang="en")
    files = [*lists(en), *workbooks(en)]
    assert files and all(p.read_bytes() == (tmp_path / "again" / p.relative_to(en)).read_bytes() for p in files)


def test_hostile_text_reads_back_as_written(tmp_path):
    from reactivate.outputs import lists
    from reactivate.outputs import workbooks as wbk

    texts = [" lead", "trail ", "a&b<c>d", "_x0041_", "bell\x07", "cr\rlf\n", "tab\tx", "中文", "x" * 40_000]
    layout = wbk.Layout((*(f"h{i}" for i in range(len(texts))), "c", "r", "n", "s"),
                        (10.0,) * (len(texts) + 4), len(texts), "en", dt.datetime(2026, 12, 7),
                        tuple(lists.result_labels("en")), lists.NOTE_CHARS, lists.META_SHEET)
    books = [("b.xlsx", "2026-12-07", [tuple(texts)], [3], [("title", 1, True)], [("format", "f")])]
    (_, data), = wbk.workbook_batch(books, layout)
    (tmp_path / "b.xlsx").write_bytes(data)
    row = [c.value for c in openpyxl.load_workbook(tmp_path / "b.xlsx").worksheets[1][2]]
    # the same text written by XlsxWriter itself reads back the same (Excel also undoes the _xHHHH_ escapes)
    import xlsxwriter

    ref = xlsxwriter.Workbook(str(tmp_path / "ref.xlsx"), {"strings_to_numbers": False})
    ref.add_worksheet().write_row(0, 0, texts)
    ref.close()
    expected = [c.value for c in openpyxl.load_workbook(tmp_path / "ref.xlsx").worksheets[0][1]]
    assert row[:len(texts)] == expected and row[len(texts) - 1] == "x" * 32_767
    assert row[:3] == texts[:3] and row[-1] == 3


# --------------------------------------------------------------------------- the weekly run


def test_last_week_results_by_hand():
    issued = pd.DataFrame({"campaign_id": "c", "week": ["2026-W50"] * 4 + ["2026-W49"],
                           "week_start": pd.to_datetime(["2026-12-07"] * 4 + ["2026-11-30"]),
                           "customer_id": ["A", "B", "C", "D", "A"], "channel": ["phone", "sms", "phone", "phone", "sms"],
                           "rm_id": ["R1", "R1", "R2", "R2", "R1"], "step": 1})
    outcomes = pd.DataFrame({"campaign_id": ["c", "c", "c", "other", "c"], "customer_id": ["A", "A", "C", "D", "B"],
                             "date": pd.to_datetime(["2026-12-08", "2026-12-10", "2026-12-09", "2026-12-09",
                                                     "2026-12-30"]),
                             "channel": ["phone", "phone", "phone", "phone", "sms"],
                             "outcome": ["no_answer", "responded", "declined", "complaint", "reactivated"],
                             "planned_week": ["2026-W50", "2026-W50", "", "2026-W50", ""]})
    got = last_week_results(issued, outcomes, "c", dt.date(2026, 12, 14))
    assert got.to_dict("records") == [
        {"rm_id": "R1", "outcome": "", "count": 1}, {"rm_id": "R1", "outcome": "responded", "count": 1},
        {"rm_id": "R2", "outcome": "", "count": 1}, {"rm_id": "R2", "outcome": "declined", "count": 1}]


def test_weekly_workbooks_carry_the_run_follow_ups_and_last_weeks_results(book, tmp_path):
    from reactivate.jobs.weekly import run_week
    from reactivate.loop.ledger import open_ledger
    from tests.test_batch import campaign_file, week1_outcomes

    camp = campaign_file(tmp_path, book, targets=['show = ["name", "mobile"]'])
    r1 = run_week(camp, "2026-W50")
    plan1 = pd.read_csv(r1.out / "plan.csv", dtype=str)
    rows, _ = week1_outcomes(plan1)
    rows.to_csv(tmp_path / "outcomes" / "2026-W50.csv", index=False)
    r2 = run_week(camp, "2026-W51")
    fu = pd.read_csv(r2.out / "followups.csv", dtype=str)
    led = open_ledger(tmp_path / "runs" / "ledger.sqlite")
    issued = led.issued("wake-weekly")
    led.close()
    issued = issued[issued["week_start"] == pd.Timestamp("2026-12-07")]
    recorded = issued.merge(rows, on=["customer_id", "channel"])
    for p in workbooks(r2.out):
        wb = openpyxl.load_workbook(p)
        meta = dict(wb["_meta"].iter_rows(values_only=True))
        assert meta["run_id"] == r2.run_id and meta["week"] == "2026-W51"
        summary = [r for r in wb["Summary"].iter_rows(values_only=True)]
        heads = [r[0] for r in summary]
        rm = meta["rm_id"]
        due = fu[(fu["rm_id"] == rm) & (fu["week_start"] == "2026-12-14")]
        at = heads.index("Follow-ups (回访) due this week")
        assert summary[at][1] == (len(due) if len(due) else "none")
        assert [r[0] for r in summary[at + 1:at + 1 + len(due)]] == due["customer_id"].tolist()
        last = summary[heads.index("Last week's results") + 1:]
        counts = {r[0]: r[1] for r in last if r[0]}
        mine = recorded[recorded["rm_id"] == rm]["outcome"].value_counts()
        assert {result_code(k): v for k, v in counts.items() if result_code(k)} == mine.to_dict()
        n_issued = int((issued["rm_id"] == rm).sum())
        assert sum(counts.values()) == n_issued or not n_issued
    csvs = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in lists(r2.out) if p.name != "openers.csv"]
    assert all((df["run_id"] == r2.run_id).all() for df in csvs)
    # the ledger and the logs of the weekly run hold no show value either
    assert MARK.encode() not in (tmp_path / "runs" / "ledger.sqlite").read_bytes()


def test_the_warehouse_lists_are_the_rm_lists_rows_without_the_personal_columns(shown):
    """``[engine.spark] warehouse``'s ``lists`` table (partitioned by week and RM) holds the due weeks' RM list
    rows, in the lists' order, with the lists' columns and values (text as it is, not neutralised), except the
    ``show`` columns: names and phones go to the RM's own files only."""
    from reactivate.outputs.warehouse import warehouse_tables

    run, en, _ = shown
    table, part = warehouse_tables(run)["lists"]
    assert part == ("week_start", "rm_id")
    files = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in lists(en) if p.name != "openers.csv"]
    csv = pd.concat(files, ignore_index=True)
    assert {"name", "mobile"} <= set(csv.columns) and not {"name", "mobile"} & set(table.column_names)
    assert table.column_names == [c for c in csv.columns if c not in ("name", "mobile")]
    got = table.to_pandas()
    assert len(got) == len(csv) > 0
    # the files are one per (week, RM), in file-name order; the table is in list order: compare as sets of rows
    key = ["week_start", "rm_id", "priority", "customer_id", "channel", "step", "theme", "reason"]
    text = got[key].astype(object).where(got[key].notna(), "").astype(str)
    a = text.sort_values(key).reset_index(drop=True)
    b = csv[key].sort_values(key).reset_index(drop=True)
    assert a.equals(b)
