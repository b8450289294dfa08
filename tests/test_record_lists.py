"""reactivate record --lists: the RM lists handed back (workbooks and CSV lists), read, checked, matched, recorded.

The lists here are written by hand in the format of reactivate/outputs/lists.py (the hidden _meta sheet,
the column keys); the weekly round trip at the end reads the lists a real weekly run wrote.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from reactivate.cli.app import app
from reactivate.loop.ledger import open_ledger
from reactivate.loop.lists import as_day, find_lists, read_list
from reactivate.outputs.lists import META_FORMAT, workbook_keys
from tests.test_ledger import _meta, _write

START = dt.date(2026, 12, 7)
SHEET = START.isoformat()
KEYS = workbook_keys(("name", "mobile"))  # two show columns: never read
CSV_KEYS = ["priority", "customer_id", "segment_name", "channel", "step", "condition", "theme", "theme_name",
            "reason", "p_reactivate", "expected_value", "last_contact", "contacts_30d", "best_time", "name",
            "shortfall", "products", "balance_band", "run_id", "week_start", "rm_id", "contacted_on", "result", "note"]


def touches(rows) -> pd.DataFrame:
    """Planned touches of week 2026-W50 from (customer, rm, step, channel) tuples."""
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "segment_id": "S1", "wave": 1,
                         "week_start": pd.Timestamp(START), "channel": [r[3] for r in rows],
                         "step": [r[2] for r in rows], "rm_id": [r[1] for r in rows], "theme": "welcome_back",
                         "kind": "plan", "priority_rank": range(1, len(rows) + 1)})


PLANNED = [*((f"C{i:02d}", "RM1", 1, "sms") for i in range(1, 13)), ("P1", "RM1", 2, "phone"),
           ("D1", "RM2", 1, "phone"), ("=X", "RM1", 1, "sms")]


def setup(tmp_path) -> tuple[Path, Path]:
    db = tmp_path / "l.sqlite"
    led = open_ledger(db)
    _write(led, _meta(), touches(PLANNED), holdout=["H"])
    led.close()
    camp = tmp_path / "c.toml"
    camp.write_text('[campaign]\nid = "camp"\n')
    return db, camp


def meta(**over) -> dict[str, str]:
    return {"format": META_FORMAT, "campaign_id": "camp", "run_id": "r1", "week": "2026-W50",
            "week_start": SHEET, "rm_id": "RM1", "lang": "en", "columns": ",".join(KEYS), **over}


def workbook(path: Path, rows: list[dict], *, context: dict | None = None, date_1904: bool = False,
             with_meta: bool = True) -> Path:
    """A returned workbook in the writer's format: Summary, the list sheet, a very hidden _meta sheet.

    ``rows``: {key: value} per list row (dates as dt.date are written as Excel dates, yyyy-mm-dd)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    m = meta(**(context or {}))
    wb = xlsxwriter.Workbook(path, {"date_1904": date_1904, "strings_to_numbers": False})
    wb.add_worksheet("Summary").write_string(0, 0, "calls this week")
    ws = wb.add_worksheet(m["week_start"] if with_meta else SHEET)
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for j, k in enumerate(KEYS):
        ws.write_string(0, j, k.replace("_", " ").title())
    for i, row in enumerate(rows, start=1):
        for j, k in enumerate(KEYS):
            v = row.get(k)
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), day)
            elif isinstance(v, str):
                ws.write_string(i, j, v)
            elif v is not None:
                fmt = row.get("_format") if k == "contacted_on" else None  # a date-formatted number
                ws.write_number(i, j, v, fmt and wb.add_format({"num_format": fmt}))
    if with_meta:
        ms = wb.add_worksheet("_meta")
        ms.very_hidden()
        for i, (k, v) in enumerate(m.items()):
            ms.write_string(i, 0, k)
            ms.write_string(i, 1, v)
    wb.close()
    return path


def listed(customer: str, step: int = 1, **cells) -> dict:
    """A list row as written (customer, step, and the show columns a test must never see) plus ``cells``."""
    return {"customer_id": customer, "step": step, "channel": "sms", "name": "Zhang Wei", "mobile": "13800000000",
            **cells}


def record(*args, as_of="2027-01-31"):
    return CliRunner().invoke(app, ["record", *map(str, args), "--as-of", as_of])


def outcomes(db) -> list[tuple]:
    led = open_ledger(db)
    try:
        o = led.outcomes("camp", notes=True)
    finally:
        led.close()
    return [(r.customer_id, r.date.date().isoformat(), r.channel, r.outcome, r.planned_week,
             None if pd.isna(r.note) else r.note) for r in o.itertuples()]


def test_a_returned_workbook_is_recorded_once(tmp_path):
    db, camp = setup(tmp_path)
    back = tmp_path / "returned"
    workbook(back / "RM1.xlsx", [
        listed("C01", contacted_on=dt.date(2026, 12, 8), result="reached", note="call again on Friday"),
        listed("C02", contacted_on="2026/12/09", result="退订此渠道"),
        listed("C03"),  # not contacted
        listed("P1", step=2, channel="phone", contacted_on="2026-12-10", result="complaint"),
        {}, {},  # empty rows, then one more filled (LibreOffice keeps rows like these)
        listed("'=X", contacted_on="2026-12-11", result="no answer"),  # neutralised by the writer
    ])
    r = record("--lists", back, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        "RM1.xlsx: 4 rows; 4 recorded, 0 already in the ledger",
        "returned lists: 1 read, 1 with results (4 rows; 4 recorded, 0 already in the ledger)"]
    want = [("C01", "2026-12-08", "sms", "responded", "2026-W50", "call again on Friday"),
            ("C02", "2026-12-09", "sms", "opted_out", "2026-W50", None),
            ("P1", "2026-12-10", "phone", "complaint", "2026-W50", None),
            ("=X", "2026-12-11", "sms", "no_answer", "2026-W50", None)]
    assert outcomes(db) == want
    r = record("--lists", back, "--campaign", camp, "--ledger", db)  # the same workbook again: nothing changes
    assert r.exit_code == 0 and r.stderr.splitlines()[0] == "RM1.xlsx: 4 rows; 0 recorded, 4 already in the ledger"
    assert outcomes(db) == want
    assert "Zhang" not in r.output and "138" not in r.output


def test_cells_as_spreadsheets_save_them(tmp_path):
    """Dates as dates, as date-formatted numbers, as plain serial numbers or as text; results as either
    language's label or the code; a workbook in the 1904 date system reads the same."""
    db, camp = setup(tmp_path)
    serial = (dt.date(2026, 12, 8) - dt.date(1899, 12, 30)).days
    cells = [dt.date(2026, 12, 8), serial, "2026-12-08", "2026/12/8", "2026.12.08", "2026年12月8日",
             "2026-12-08 00:00:00"]
    results = ["reached", " Reached ", "RESPONDED", "已联系上", "responded", "reached", "已联系上"]
    rows = [listed(f"C{i:02d}", contacted_on=c, result=res) for i, (c, res) in enumerate(zip(cells, results, strict=True), 1)]
    rows[1]["_format"] = "yyyy-mm-dd"
    rows.append(listed("C08", contacted_on=serial, result="came back"))  # a number that lost its date format
    workbook(tmp_path / "back" / "RM1.xlsx", rows)
    workbook(tmp_path / "back" / "RM1-mac.xlsx", [listed("C09", contacted_on=dt.date(2026, 12, 8), result="declined"),
                                                  listed("C10", contacted_on=serial - 1462, result="declined",
                                                         _format="yyyy-mm-dd")], date_1904=True)
    r = record("--lists", tmp_path / "back", "--campaign", camp, "--ledger", db)
    assert r.exit_code == 0, r.output
    got = outcomes(db)
    assert {d for _, d, *_ in got} == {"2026-12-08"} and len(got) == 10
    assert [o for *_, o, _, _ in got] == ["responded"] * 7 + ["reactivated", "declined", "declined"]


def test_every_bad_cell_is_reported_and_its_list_records_nothing(tmp_path):
    db, camp = setup(tmp_path)
    back = tmp_path / "returned"
    workbook(back / "2026-12-07" / "RM1.xlsx", [listed("C01", contacted_on=dt.date(2026, 12, 8), result="reached")])
    workbook(back / "2026-12-07" / "RM1-bad.xlsx", [
        listed("C02", contacted_on=dt.date(2026, 12, 8), result="maybe"),
        listed("C03", contacted_on=dt.date(2026, 12, 15), result="declined"),  # the next week
        listed("D1", contacted_on=dt.date(2026, 12, 8), result="declined"),  # RM2's customer
        listed("C04", step=2, contacted_on=dt.date(2026, 12, 8), result="declined"),
        listed("C05", contacted_on=dt.date(2026, 12, 8)),
        listed("C06", result="declined", note="x" * 501),
        listed("C07", contacted_on="next week", result="declined"),
    ])
    r = record("--lists", back, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 2
    name = "2026-12-07/RM1-bad.xlsx: sheet '2026-12-07'"
    assert r.stderr.splitlines() == [
        "2026-12-07/RM1.xlsx: 1 rows; 1 recorded, 0 already in the ledger",
        "returned lists: 2 read, 2 with results (8 rows; 1 with problems, not recorded; 1 recorded, 0 already in "
        "the ledger)",
        "Error: 8 problems in 1 returned list; nothing of that list was recorded (the other files were)",
        f"  {name} row 2, column O (result): 'maybe' is not a result (one of: reached, no answer, declined, came "
        "back, opted out of this channel, complaint)",
        f"  {name} row 3, column N (contacted_on): 2026-12-15 is outside the list's week (2026-12-07 to 2026-12-13)",
        f"  {name} row 4, column A (customer_id): 'D1' is not on the list of RM 'RM1' for the week of 2026-12-07 "
        "(run 'r1')",
        f"  {name} row 5, column Q (step): step 2 does not match: 'C04' is on this list with step 1",
        f"  {name} row 6, column O (result): no result for the contact on '2026-12-08': fill in the result, or "
        "clear the date",
        f"  {name} row 7, column N (contacted_on): a result without the day of the contact",
        f"  {name} row 7, column P (note): a note of 501 characters (at most 500; not shown here)",
        f"  {name} row 8, column N (contacted_on): 'next week' is not a date (YYYY-MM-DD)",
    ]
    assert [o[0] for o in outcomes(db)] == ["C01"]  # the good list only
    r = record("--lists", back, "--campaign", camp, "--ledger", db, as_of="2026-12-07")
    assert "2026-12-08 is after the as-of date 2026-12-07" in r.stderr
    # --strict: nothing at all, not even the good list
    db.unlink()
    db, camp = setup(tmp_path)
    r = record("--lists", back, "--campaign", camp, "--ledger", db, "--strict")
    assert r.exit_code == 2 and outcomes(db) == []
    assert r.stderr.splitlines()[0] == ("2026-12-07/RM1.xlsx: 1 rows; nothing recorded (--strict: 1 good row held "
                                        "back too)")
    assert "Error: 8 problems in 1 returned list; nothing was recorded (--strict)" in r.stderr


def test_lists_that_cannot_be_matched_are_named(tmp_path):
    db, camp = setup(tmp_path)
    back = tmp_path / "returned"
    row = [listed("C01", contacted_on=dt.date(2026, 12, 8), result="reached")]
    workbook(back / "other-ledger.xlsx", row, context={"run_id": "9f86d081884c7d65"})
    workbook(back / "plain-plan.xlsx", row, context={"run_id": ""})
    workbook(back / "other-campaign.xlsx", row, context={"campaign_id": "another"})
    workbook(back / "copied.xlsx", row, with_meta=False)
    workbook(back / "newer.xlsx", row, context={"format": "reactivate-list-9"})
    (back / "notes.xlsx").write_text("not a workbook")
    (back / "RM2.xls").write_bytes(b"saved by WPS as Excel 97-2003")
    (back / "~$RM1.xlsx").write_bytes(b"Excel's lock file")  # left out
    (back / ".~lock.RM1.xlsx#").write_text("LibreOffice's lock file")  # left out
    r = record("--lists", back, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 2 and outcomes(db) == []
    assert r.stderr.splitlines()[2:] == [
        "  RM2.xls: a .xls file: save it as an Excel workbook (.xlsx) and record that",
        "  copied.xlsx: not a returned list of reactivate (no _meta sheet: a list written before this version, "
        "or a copy of its cells into another workbook)",
        "  newer.xlsx: not a returned list of reactivate (its _meta sheet says format 'reactivate-list-9', not "
        "'reactivate-list-1')",
        "  notes.xlsx: not a workbook that can be read (BadZipFile); a returned list is the .xlsx file reactivate "
        "wrote, saved as .xlsx",
        "  other-campaign.xlsx: this list is of campaign 'another', not of 'camp' (--campaign)",
        "  other-ledger.xlsx: this list comes from a plan that was not recorded in the ledger (run_id "
        "'9f86d081884c7d65'): a list of another ledger, or of a plan without --ledger",
        "  plain-plan.xlsx: this list comes from a plan that was not recorded in a ledger (run_id is empty: "
        "`reactivate plan` without --ledger): record its results with --outcomes",
    ]
    assert r.stderr.splitlines()[1].startswith("Error: 7 problems in 7 returned lists; nothing of those lists")
    r = record("--lists", tmp_path / "nowhere", "--campaign", camp, "--ledger", db)
    assert r.exit_code == 2 and r.stderr.strip().endswith("nowhere: no such file or folder")
    r = CliRunner().invoke(app, ["record", "--campaign", str(camp)])
    assert r.exit_code == 2 and r.stderr.strip() == ("Error: nothing to record: give --outcomes FILE or --lists DIR "
                                                     "(or both)")


def test_a_list_of_a_replaced_run(tmp_path):
    db, camp = setup(tmp_path)
    led = open_ledger(db)
    _write(led, _meta("r2"), touches(PLANNED))  # the week run again on new data: r1's touches are replaced
    led.close()
    workbook(tmp_path / "RM1.xlsx", [listed("C01", contacted_on=dt.date(2026, 12, 8), result="reached")])
    r = record("--lists", tmp_path / "RM1.xlsx", "--campaign", camp, "--ledger", db)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == ("  RM1.xlsx: this list comes from run 'r1' of 2026-W50, which a later run of "
                                         "that week replaced: record the results on the later run's lists")


def csv_list(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    """A returned CSV list: the writer's columns, the run on every row, the outcome columns at the end."""
    base = {k: "" for k in CSV_KEYS} | {"run_id": "r1", "week_start": SHEET, "rm_id": "RM1", "channel": "sms",
                                         "name": "Zhang Wei"}
    frame = pd.DataFrame([base | {k: str(v) for k, v in r.items()} for r in rows], columns=CSV_KEYS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


def test_a_returned_csv_list(tmp_path):
    db, camp = setup(tmp_path)
    back = tmp_path / "returned"
    csv_list(back / "RM1.csv", [{"customer_id": "C01", "step": 1, "contacted_on": "2026-12-08", "result": "reached",
                                 "note": "wants a call, 电话"},
                                {"customer_id": "C02", "step": 1},
                                {"customer_id": "C03", "step": 1, "contacted_on": "2026/12/9", "result": "opted_out"}])
    # saved by Excel in China: GB18030, a Chinese result label
    csv_list(back / "RM1-excel.csv", [{"customer_id": "C04", "step": 1, "contacted_on": "2026/12/10",
                                       "result": "拒绝"}], encoding="gb18030")
    r = record("--lists", back, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 0, r.output
    assert outcomes(db) == [("C01", "2026-12-08", "sms", "responded", "2026-W50", "wants a call, 电话"),
                            ("C03", "2026-12-09", "sms", "opted_out", "2026-W50", None),
                            ("C04", "2026-12-10", "sms", "declined", "2026-W50", None)]
    csv_list(back / "RM1-bad.csv", [{"customer_id": "C05", "step": 1, "contacted_on": "2026-12-08", "result": "?"}])
    r = record("--lists", back, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == ("  RM1-bad.csv: line 2, column 'result': '?' is not a result (one of: reached, "
                                         "no answer, declined, came back, opted out of this channel, complaint)")


def test_the_workbook_is_read_and_its_csv_list_skipped(tmp_path):
    db, camp = setup(tmp_path)
    week = tmp_path / "runs" / "camp" / "2026-W50"  # an outputs folder: only its targets/ are lists
    workbook(week / "targets" / SHEET / "RM1.xlsx", [listed("C01", contacted_on=dt.date(2026, 12, 8),
                                                            result="reached")])
    csv_list(week / "targets" / SHEET / "RM1.csv", [{"customer_id": "C02", "step": 1, "contacted_on": "2026-12-08",
                                                     "result": "reached"}])
    (week / "targets" / "openers.csv").write_text("theme,opener_en,opener_zh\n")
    (week / "plan.csv").write_text("customer_id\nC01\n")
    (week / "followups" / "2026-W50").mkdir(parents=True)
    (week / "followups" / "2026-W50" / "RM1.csv").write_text("customer_id\nC01\n")
    r = record("--lists", week, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        "targets/2026-12-07/RM1.xlsx: 1 rows; 1 recorded, 0 already in the ledger",
        "returned lists: 1 read, 1 with results (1 row; 1 recorded, 0 already in the ledger); 1 CSV list skipped: "
        "the workbook of the same RM and week is read instead (a bank works in one or the other)"]
    assert [o[0] for o in outcomes(db)] == ["C01"]
    r = record("--lists", tmp_path / "runs", "--campaign", camp, "--ledger", db)  # the outputs root: every week
    assert r.exit_code == 0 and r.stderr.splitlines()[0] == ("camp/2026-W50/targets/2026-12-07/RM1.xlsx: 1 rows; "
                                                             "0 recorded, 1 already in the ledger")


def test_a_workbook_resaved_with_its_meta_sheet_shown_reads_the_same(tmp_path):
    import openpyxl

    path = workbook(tmp_path / "RM1.xlsx", [listed("C01", contacted_on=dt.date(2026, 12, 8), result="reached")])
    before = read_list(find_lists([path])[0])
    wb = openpyxl.load_workbook(path)
    wb["_meta"].sheet_state = "visible"
    wb[SHEET]["A40"] = None  # a touched empty row far below
    wb[SHEET].cell(40, 1).number_format = "@"
    wb.save(path)
    after = read_list(find_lists([path])[0])
    assert after.rows == before.rows and not after.problems


def test_as_day():
    assert as_day(dt.datetime(2026, 12, 8, 14, 30)) == dt.date(2026, 12, 8)
    assert as_day(46364) == dt.date(2026, 12, 8)
    assert as_day(44902, dt.datetime(1904, 1, 1)) == dt.date(2026, 12, 8)
    assert [as_day(t) for t in ("2026-12-08", "2026/12/8", "2026年12月8日", "2026-12-08T00:00")] == [
        dt.date(2026, 12, 8)] * 4
    assert [as_day(t) for t in ("08/12/2026", "2026-02-30", "", True, -1, None)] == [None] * 6


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install "
                    "libreoffice-calc-nogui to run the LibreOffice round trip")
def test_a_workbook_saved_by_libreoffice_reads_the_same(tmp_path):
    db, camp = setup(tmp_path)
    src = workbook(tmp_path / "src" / "RM1.xlsx", [
        listed("C01", contacted_on=dt.date(2026, 12, 8), result="reached", note="回访：下周五"),
        listed("C02", contacted_on="2026/12/09", result="拒绝"), listed("C03"),
        listed("C04", contacted_on=(dt.date(2026, 12, 10) - dt.date(1899, 12, 30)).days, result="no answer",
               _format="yyyy-mm-dd")])
    out = tmp_path / "lo"
    t0 = time.perf_counter()
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to",
                    "xlsx", "--outdir", str(out), str(src)], check=True, capture_output=True, timeout=180,
                   env={**os.environ, "HOME": str(tmp_path)})
    assert (out / "RM1.xlsx").exists(), f"LibreOffice wrote nothing in {time.perf_counter() - t0:.0f} s"
    assert (out / "RM1.xlsx").read_bytes() != src.read_bytes()
    before, after = read_list(find_lists([src])[0]), read_list(find_lists([out / "RM1.xlsx"])[0])
    assert not after.problems and len(after.rows) == 3
    r = record("--lists", out, "--campaign", camp, "--ledger", db)
    assert r.exit_code == 0, r.output
    assert outcomes(db) == [("C01", "2026-12-08", "sms", "responded", "2026-W50", "回访：下周五"),
                            ("C02", "2026-12-09", "sms", "declined", "2026-W50", None),
                            ("C04", "2026-12-10", "sms", "no_answer", "2026-W50", None)]
    r = record("--lists", src.parent, "--campaign", camp, "--ledger", db)  # the original: the same rows
    assert r.exit_code == 0 and "0 recorded, 3 already in the ledger" in r.stderr
    assert [x[:2] for x in before.rows] == [x[:2] for x in after.rows]


# ------------------------------------------------------------------ the round trip through a real weekly run

W1, W2 = "2026-W50", "2026-W51"


@pytest.fixture(scope="module")
def week1(tmp_path_factory):
    """A weekly run (week 2026-W50) on a small demo book, its ledger, and a campaign that picks up
    the lists the bank hands back from ``returned/``."""
    from reactivate.demo.book import generate_book, write_book
    from reactivate.jobs.weekly import run_week

    tmp = tmp_path_factory.mktemp("lists_weekly")
    book = tmp / "book"
    write_book(generate_book(1500, seed=3, as_of=dt.date(2026, 11, 30)), book, fmt="csv")
    camp = tmp / "weekly.toml"
    camp.write_text(f'[campaign]\nid = "wake-weekly"\n\n[inputs]\naccounts = "{book / "accounts.csv"}"\n'
                    f'transactions = "{book / "transactions.csv"}"\ncontacts = "{book / "contacts.csv"}"\n'
                    'lists = ["returned"]\nout = "runs"\n')
    res = run_week(camp, W1)
    return tmp, camp, res


def fill(src: Path, dst: Path, cells: dict[int, tuple]) -> list[str]:
    """The workbook ``src`` with the outcome cells of some rows filled in, as an RM would in Excel
    (openpyxl, the cells found by the hidden sheet's column keys), saved as ``dst``; returns the customer
    id of every list row."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    keys = dict(wb["_meta"].iter_rows(values_only=True))["columns"].split(",")
    ws = wb[wb.sheetnames[1]]
    for row, values in cells.items():
        for key, value in zip(("contacted_on", "result", "note"), values, strict=False):
            ws.cell(row, keys.index(key) + 1).value = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]


def ledger_rows(tmp: Path, customers=None) -> list[tuple]:
    led = open_ledger(tmp / "runs" / "ledger.sqlite")
    try:
        o = led.outcomes("wake-weekly", notes=True)
    finally:
        led.close()
    if customers is not None:
        o = o[o["customer_id"].isin(customers)]
    return sorted((r.customer_id, r.date.date().isoformat(), r.channel, r.outcome, r.planned_week,
                   None if pd.isna(r.note) else r.note) for r in o.itertuples())


def test_the_lists_of_a_weekly_run_round_trip(week1):
    tmp, camp, res = week1
    targets = res.out / "targets" / "2026-12-07"
    plan = pd.read_csv(res.out / "plan.csv", dtype=str)
    issued = plan[plan["week_start"] == "2026-12-07"].set_index(["customer_id", "step"])["channel"]
    back = tmp / "returned"
    day = dt.datetime(2026, 12, 8)
    rm1 = fill(targets / "RM0001.xlsx", back / "RM0001.xlsx",
               {2: (day, "reached", "wants a call about the deposit"), 3: (day, "complaint"),
                4: ("2026/12/09", "opted out of this channel"), 6: (46366, "came back")})
    r = record("--lists", back, "--campaign", camp)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[0] == "RM0001.xlsx: 4 rows; 4 recorded, 0 already in the ledger"
    want = sorted([
        (rm1[0], "2026-12-08", issued[(rm1[0], "1")], "responded", W1, "wants a call about the deposit"),
        (rm1[1], "2026-12-08", issued[(rm1[1], "1")], "complaint", W1, None),
        (rm1[2], "2026-12-09", issued[(rm1[2], "1")], "opted_out", W1, None),
        (rm1[4], "2026-12-10", issued[(rm1[4], "1")], "reactivated", W1, None)])
    assert ledger_rows(tmp) == want
    r = record("--lists", back, "--campaign", camp)  # the same workbook again: nothing changes
    assert r.exit_code == 0 and r.stderr.splitlines()[0] == "RM0001.xlsx: 4 rows; 0 recorded, 4 already in the ledger"
    assert ledger_rows(tmp) == want

    # an RM's list with bad cells: reported with file, sheet, row and value; nothing of it recorded
    rm2 = fill(targets / "RM0002.xlsx", back / "RM0002.xlsx",
               {2: (day, "maybe"), 3: (dt.datetime(2026, 12, 15), "declined"), 4: (day, "declined")})
    import openpyxl

    wb = openpyxl.load_workbook(back / "RM0002.xlsx")
    wb[wb.sheetnames[1]]["A4"] = rm1[5]  # a customer of another RM
    wb.save(back / "RM0002.xlsx")
    r = record("--lists", back, "--campaign", camp)
    assert r.exit_code == 2
    sheet = "RM0002.xlsx: sheet '2026-12-07'"
    assert r.stderr.splitlines()[2:] == [
        "Error: 3 problems in 1 returned list; nothing of that list was recorded (the other files were)",
        f"  {sheet} row 2, column M (result): 'maybe' is not a result (one of: reached, no answer, declined, came "
        "back, opted out of this channel, complaint)",
        f"  {sheet} row 3, column L (contacted_on): 2026-12-15 is outside the list's week (2026-12-07 to 2026-12-13)",
        f"  {sheet} row 4, column A (customer_id): {rm1[5]!r} is not on the list of RM 'RM0002' for the week of "
        f"2026-12-07 (run {res.run_id!r})"]
    assert not set(rm2) & {c for c, *_ in ledger_rows(tmp)}
    (back / "RM0002.xlsx").unlink()

    # the CSV list of another RM, filled in as a spreadsheet would
    csv = pd.read_csv(targets / "RM0003.csv", dtype=str, keep_default_na=False)
    csv.loc[0, ["contacted_on", "result", "note"]] = ["2026/12/11", "未接通", "try Thursday"]
    csv.to_csv(back / "RM0003.csv", index=False)
    r = record("--lists", back, "--campaign", camp)
    assert r.exit_code == 0, r.output
    row = csv.iloc[0]
    assert ledger_rows(tmp, [row["customer_id"]]) == [
        (row["customer_id"], "2026-12-11", row["channel"], "no_answer", W1, "try Thursday")]


def test_the_next_weekly_run_picks_up_the_lists(week1):
    from reactivate.errors import InputDataError
    from reactivate.jobs.weekly import run_week

    tmp, camp, res = week1
    targets = res.out / "targets" / "2026-12-07"
    back = tmp / "returned"
    rm4 = fill(targets / "RM0004.xlsx", back / "RM0004.xlsx", {2: (dt.datetime(2026, 12, 9), "declined", "busy")})
    bad = fill(targets / "RM0005.xlsx", back / "RM0005.xlsx", {2: (dt.datetime(2026, 12, 9), "??")})
    before = ledger_rows(tmp)
    with pytest.raises(InputDataError, match=r"RM0005.xlsx: sheet '2026-12-07' row 2, column M \(result\): '\?\?'"):
        run_week(camp, W2)  # a list with a problem stops the run before anything of the lists is recorded
    assert ledger_rows(tmp) == before
    (back / "RM0005.xlsx").unlink()
    r2 = run_week(camp, W2)
    assert [c for c, *_, note in ledger_rows(tmp, rm4[:1])] == rm4[:1]
    assert any(r.name == "RM0004.xlsx" and r.new == 1 for r in r2.recorded)
    # what the lists said reaches the plan: the complaint is suppressed, the decliner rests
    led = open_ledger(tmp / "runs" / "ledger.sqlite")
    week2 = led.planned("wake-weekly", W2)
    led.close()
    complained = [c for c, _, _, o, *_ in ledger_rows(tmp) if o == "complaint"]
    assert complained and not set(complained) & set(week2["customer_id"])
    assert rm4[0] not in set(week2["customer_id"]) and bad


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install "
                    "libreoffice-calc-nogui to run the LibreOffice round trip")
def test_a_weekly_workbook_saved_by_libreoffice_reads_the_same(week1, tmp_path):
    res = week1[2]
    src = tmp_path / "excel" / "RM0001.xlsx"
    fill(res.out / "targets" / "2026-12-07" / "RM0001.xlsx", src,
         {2: (dt.datetime(2026, 12, 8), "已联系上", "回访：下周五"), 5: ("2026-12-09", "declined")})
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to",
                    "xlsx", "--outdir", str(tmp_path / "lo"), str(src)], check=True, capture_output=True, timeout=180,
                   env={**os.environ, "HOME": str(tmp_path)})
    excel, lo = read_list(find_lists([src])[0]), read_list(find_lists([tmp_path / "lo" / "RM0001.xlsx"])[0])
    assert not lo.problems and lo.sheet == "2026-12-07"
    assert [(r[0], *r[4:6], *r[7:]) for r in lo.rows] == [(r[0], *r[4:6], *r[7:]) for r in excel.rows]
    assert [as_day(r[6]) for r in lo.rows] == [dt.date(2026, 12, 8), dt.date(2026, 12, 9)]


@pytest.mark.slow
def test_the_weekly_report_shows_the_uplift_once_returned_lists_close_a_window(tmp_path):
    """Week 1 planned, its lists filled from the demo truth and recorded; week 2's run (a 7-day window, closed
    by then) writes uplift.csv and its report has the uplift section. Week 1 had none to show."""
    import sys

    from tests.conftest import ROOT

    spec = (ROOT / "examples" / "weekly" / "campaign.toml").read_text()
    spec = (spec.replace("../../demo-output/book/", "book/").replace('"../../demo-output/weekly"', '"runs"')
            .replace('url = "../../demo-output/weekly/ledger.sqlite"', 'url = "ledger.sqlite"')
            .replace("window_days = 30", "window_days = 7"))
    (tmp_path / "c.toml").write_text(spec)
    steps = [["demo-data", "--out", "book", "--customers", "2000"],
             ["run", "--campaign", "c.toml", "--week", "2026-W50"],
             ["demo-data", "--respond", "runs/wake-weekly/2026-W50", "--book", "book"],
             ["record", "--lists", "runs/wake-weekly/2026-W50", "--campaign", "c.toml", "--as-of", "2026-12-14"],
             ["run", "--campaign", "c.toml", "--week", "2026-W51"]]
    for args in steps:
        res = subprocess.run([sys.executable, "-m", "reactivate", *args], cwd=tmp_path, capture_output=True,
                             text=True, timeout=600)
        assert res.returncode == 0, (args, res.stderr[-2000:])
    w1, w2 = tmp_path / "runs" / "wake-weekly" / "2026-W50", tmp_path / "runs" / "wake-weekly" / "2026-W51"
    assert not (w1 / "uplift.csv").exists() and (w2 / "uplift.csv").is_file()
    uplift = pd.read_csv(w2 / "uplift.csv")
    assert uplift.loc[0, "dimension"] == "overall" and uplift.loc[0, "n_treated"] > 0
    assert "uplift against the holdout" in (w2 / "report.html").read_text()
