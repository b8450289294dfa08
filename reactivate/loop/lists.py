"""The RM lists the bank hands back: returned workbooks and CSV lists read, checked and matched.

Each RM works from the list a weekly run wrote (``targets/<week start>/<rm>.xlsx`` or ``.csv``,
:mod:`reactivate.outputs.lists` says how) and fills in, for each customer contacted, the day
(contacted on), the result and a note. :func:`find_lists` finds the lists in the files and
folders given (an outputs folder: its ``targets/``; any other folder: every ``.xlsx`` and ``.csv``
in it); when both the workbook and the CSV list of one RM and week are there, the workbook is read
and the CSV list skipped (a bank works in one or the other). :func:`read_lists` reads them -- a
workbook by its hidden ``_meta`` sheet (format, run, week, RM and the key of every column), never by
its header text, so one saved by LibreOffice or WPS reads the same -- keeping only the rows with a
result or a date. :func:`match_lists` checks every filled row and matches it to the touch the run
planned (run id, RM, customer, step): the channel and the planned week come from that touch.

A row with neither a result nor a date was not contacted and is skipped. Every bad cell is
reported with its file, sheet, row, column and value; a file with a problem gives no rows at all.
Names, phone numbers and the other columns shown to the RM are never read; notes are never echoed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reactivate.data.io import fingerprint, quoted
from reactivate.errors import InputDataError
from reactivate.loop.ledger import Ledger
from reactivate.outputs.lists import META_FORMAT, META_SHEET, NOTE_CHARS, RESULTS, result_code

#: the columns of a filled row as read (``row``: the Excel row, or the CSV line)
ROW_FIELDS = ("row", "run_id", "week_start", "rm_id", "customer_id", "step", "contacted_on", "result", "note")
#: the columns every returned list must have (by key: the ``_meta`` sheet's or the CSV header's)
LIST_KEYS = ("customer_id", "step", "contacted_on", "result", "note")
#: a CSV list says its run, week and RM on every row
CSV_KEYS = (*LIST_KEYS, "run_id", "week_start", "rm_id")
#: spreadsheet formats a list may come back in that are not read: each is reported (save it as .xlsx)
OTHER_FORMATS = (".xls", ".et", ".ods", ".numbers")
#: from this many lists on they are read by a pool of processes (openpyxl is pure Python)
POOL_LISTS = 400
#: a formula-like start that the writer neutralised with one leading apostrophe
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: a date typed as text: 2026-12-08, 2026/12/8, 2026.12.08, 2026年12月8日, with or without a time
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                        r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


@dataclass
class ReturnedList:
    """One returned list as read: the file, its context and its filled rows (raw cell values)."""

    path: str
    #: the file as messages name it (relative to the folder given)
    name: str
    #: why it was not read ("" when it was)
    skipped: str = ""
    sha256: str = ""
    #: the list's sheet ("" for a CSV list)
    sheet: str = ""
    campaign_id: str = ""
    lang: str = "en"
    #: the workbook's date system (1900, or 1904 for a Mac-made one)
    epoch: dt.datetime = dt.datetime(1899, 12, 30)
    #: column key → Excel column letter (workbooks only)
    letters: dict[str, str] = field(default_factory=dict)
    #: the filled rows, one tuple of :data:`ROW_FIELDS` each
    rows: list[tuple] = field(default_factory=list)
    #: problems of the file as a whole (not a list, unreadable)
    problems: list[str] = field(default_factory=list)


@dataclass
class ListProblem:
    """One bad cell (or a whole file when ``row`` is None) of a returned list."""

    file: int
    row: int | None
    key: str | None
    message: str


def find_lists(paths: list[str | Path]) -> list[ReturnedList]:
    """The returned lists in ``paths`` (files, or folders searched to any depth), in name order.

    In a folder holding ``targets/`` folders (a run's outputs) only those are searched; Excel and
    LibreOffice lock files and ``openers.csv`` are left out. A CSV list beside the workbook of the same
    name is returned marked ``skipped``.

    Raises
    ------
    InputDataError
        A path that does not exist, or a file that is neither ``.xlsx`` nor ``.csv``.
    """
    found: list[ReturnedList] = []
    bad = []
    for given in map(Path, paths):
        if given.is_file():
            if given.suffix.lower() not in (".xlsx", ".csv", *OTHER_FORMATS):
                bad.append(f"{given}: not a returned list (an .xlsx workbook or a .csv list)")
            found.append(ReturnedList(str(given), given.name))
        elif given.is_dir():
            files = sorted(f for f in given.rglob("*") if f.is_file() and _is_list_file(f))
            lists = [f for f in files if "targets" in f.relative_to(given).parts[:-1]]
            found.extend(ReturnedList(str(f), f.relative_to(given).as_posix()) for f in (lists or files))
        else:
            bad.append(f"{given}: no such file or folder")
    if bad:
        raise InputDataError("\n".join(bad) if len(bad) == 1 else f"{len(bad)} problems with --lists:\n  "
                             + "\n  ".join(bad))
    books = {(Path(x.path).parent, Path(x.path).stem.casefold()) for x in found if x.path.lower().endswith(".xlsx")}
    for x in found:
        if x.path.lower().endswith(".csv") and (Path(x.path).parent, Path(x.path).stem.casefold()) in books:
            x.skipped = "its workbook is read"
        elif Path(x.path).suffix.lower() in OTHER_FORMATS:
            x.problems.append(f"a {Path(x.path).suffix} file: save it as an Excel workbook (.xlsx) and record that")
    return found


def _is_list_file(f: Path) -> bool:
    name = f.name
    return (f.suffix.lower() in (".xlsx", ".csv", *OTHER_FORMATS) and not name.startswith(("~$", ".~lock", "."))
            and name.casefold() != "openers.csv")


def read_lists(lists: list[ReturnedList], jobs: int | None = None) -> list[ReturnedList]:
    """Each list read (:func:`read_list`), in order; a pool of processes reads :data:`POOL_LISTS` or more."""
    todo = [x for x in lists if not x.skipped]
    jobs = jobs or max(1, min(os.cpu_count() or 1, 4))
    if len(todo) < POOL_LISTS or jobs == 1:
        done = [read_list(x) for x in todo]
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        size = max(25, len(todo) // (jobs * 8))
        # forkserver: never fork a process that holds OpenMP or Arrow threads
        with ProcessPoolExecutor(jobs, mp_context=mp.get_context("forkserver")) as pool:
            done = list(pool.map(read_list, todo, chunksize=size))
    out = iter(done)
    return [x if x.skipped else next(out) for x in lists]


def read_list(lst: ReturnedList) -> ReturnedList:
    """``lst`` with its context and filled rows read (a workbook or a CSV list, by its extension)."""
    path = Path(lst.path)
    lst.sha256 = fingerprint(path)
    if lst.problems:  # a format that is not read (.xls ...)
        return lst
    try:
        return _read_csv(lst, path) if path.suffix.lower() == ".csv" else _read_workbook(lst, path)
    except Exception as exc:  # a damaged file handed back: one line naming it, not a traceback
        lst.rows = []
        lst.problems.append(f"cannot be read ({type(exc).__name__}); save it again from the spreadsheet program")
        return lst


def _read_workbook(lst: ReturnedList, path: Path) -> ReturnedList:
    """A returned workbook: the ``_meta`` sheet, then the list sheet's filled rows (openpyxl, read-only)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a zip, not a workbook, a damaged file: one line naming it
        lst.problems.append(f"not a workbook that can be read ({type(exc).__name__}); a returned list is the "
                            ".xlsx file reactivate wrote, saved as .xlsx")
        return lst
    try:
        meta = _workbook_meta(wb)
        if isinstance(meta, str):
            lst.problems.append(meta)
            return lst
        keys = [k.strip() for k in meta["columns"].split(",")]
        missing = [k for k in LIST_KEYS if k not in keys]
        sheet = meta["week_start"] if meta["week_start"] in wb.sheetnames else None
        if sheet is None:
            sheet = next((s for s in wb.sheetnames[1:] if s != META_SHEET), None)
        if missing or sheet is None:
            lst.problems.append(f"not a returned list of reactivate ({META_SHEET} sheet names no column "
                                f"{', '.join(missing)})" if missing else "the list's sheet is missing")
            return lst
        lst.sheet, lst.campaign_id, lst.lang, lst.epoch = sheet, meta["campaign_id"], meta["lang"], wb.epoch
        col = {k: keys.index(k) for k in LIST_KEYS}
        lst.letters = {k: get_column_letter(i + 1) for k, i in col.items()}
        ws = wb[sheet]
        ws.reset_dimensions()  # the stated size may be wrong (some programs write A1): read to the end
        width = max(col.values()) + 1
        context = (meta["run_id"], meta["week_start"], meta["rm_id"])
        for r, row in enumerate(ws.iter_rows(min_row=2, max_col=width, values_only=True), start=2):
            if len(row) < width:
                row = (*row, *([None] * (width - len(row))))
            if _blank(row[col["contacted_on"]]) and _blank(row[col["result"]]):
                continue  # not contacted
            lst.rows.append((r, *context, row[col["customer_id"]], row[col["step"]], row[col["contacted_on"]],
                             row[col["result"]], row[col["note"]]))
    finally:
        wb.close()
    return lst


def _workbook_meta(wb) -> dict[str, str] | str:
    """The ``_meta`` sheet's keys and values (text), or what is wrong with the workbook."""
    if META_SHEET not in wb.sheetnames:
        return (f"not a returned list of reactivate (no {META_SHEET} sheet: a list written before this "
                "version, or a copy of its cells into another workbook)")
    meta = {}
    for row in wb[META_SHEET].iter_rows(max_col=2, values_only=True):
        if row and row[0] is not None:
            value = row[1] if len(row) > 1 else None
            day = value if isinstance(value, dt.datetime | dt.date) else None
            meta[str(row[0]).strip()] = day.strftime("%Y-%m-%d") if day is not None else as_text(value)
    if meta.get("format") != META_FORMAT:
        return (f"not a returned list of reactivate (its {META_SHEET} sheet says format "
                f"{quoted(meta.get('format', ''))}, not {META_FORMAT!r})")
    for key in ("campaign_id", "run_id", "week", "week_start", "rm_id", "lang", "columns"):
        meta.setdefault(key, "")
    day = as_day(meta["week_start"])
    if day is None:
        return f"its {META_SHEET} sheet's week_start {quoted(meta['week_start'])} is not a date"
    meta["week_start"] = day.isoformat()
    meta["lang"] = meta["lang"] if meta["lang"] in ("en", "zh") else "en"
    return meta


def _read_csv(lst: ReturnedList, path: Path) -> ReturnedList:
    """A returned CSV list: UTF-8 (with or without a BOM) or, as Excel saves it in China, GB18030."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            lst.problems.append("not UTF-8 nor GB18030 text: save it as CSV UTF-8")
            return lst
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [k for k in CSV_KEYS if k not in header]
    if missing:
        lst.problems.append(f"not a returned list of reactivate (no column {', '.join(map(repr, missing))})")
        return lst
    col = {k: header.index(k) for k in CSV_KEYS}
    width = max(col.values()) + 1
    for rec in reader:
        if len(rec) < width:
            rec = [*rec, *([""] * (width - len(rec)))]
        if _blank(rec[col["contacted_on"]]) and _blank(rec[col["result"]]):
            continue
        lst.rows.append((reader.line_num, *(rec[col[k]] for k in ROW_FIELDS[1:])))
    return lst


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_day(value, epoch: dt.datetime = dt.datetime(1899, 12, 30)) -> dt.date | None:
    """The day a cell gives: a date, a date-formatted number (a serial of the workbook's ``epoch``) or
    text (YYYY-MM-DD, YYYY/M/D, YYYY.MM.DD, YYYY年M月D日); None when it is none of them."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not 1 <= value < 2_958_466:  # 9999-12-31 in the 1900 system
            return None
        return (epoch + dt.timedelta(days=int(value))).date()
    if isinstance(value, str):
        m = _DATE_TEXT.match(value.strip())
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def as_step(value) -> int | None:
    """The step a cell gives (a whole number, as a number or text); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.0+)?\s*", value):
        return int(float(value))
    return None


def as_text(value) -> str:
    """A text cell as the writer meant it: surrounding spaces dropped, the one apostrophe that
    neutralised a formula-like value removed; a whole number as its digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def shown(value) -> str:
    """A cell's value for a message (dates as YYYY-MM-DD), quoted and cut."""
    if isinstance(value, dt.datetime | dt.date):
        return quoted(value.strftime("%Y-%m-%d"))
    return quoted("" if value is None else value)


def match_lists(ledger: Ledger, lists: list[ReturnedList], campaign_id: str,
                as_of: dt.date) -> tuple[pd.DataFrame, list[ListProblem]]:
    """Check the filled rows of ``lists`` (as read) and match them to the touches their runs planned.

    Returns the outcome rows of the lists without a problem (``file``: the list's position in ``lists``,
    customer_id, date, channel, outcome, planned_week, note; by file and row) and every problem found,
    of every list.
    """
    problems = [ListProblem(i, None, None, msg) for i, x in enumerate(lists) for msg in x.problems]
    problems += [ListProblem(i, None, None, f"this list is of campaign {quoted(x.campaign_id)}, not of "
                             f"{quoted(campaign_id)} (--campaign)")
                 for i, x in enumerate(lists) if x.campaign_id and x.campaign_id != campaign_id]
    frame = filled_rows(lists)
    problems += cell_problems(frame, lists, as_of)
    runs, touches = ledger.run_touches(frame["run"].unique(), frame["ws"].dropna().unique())
    bad_run, more = run_problems(frame, runs, campaign_id, {p.file for p in problems if p.row is None})
    problems += more
    matched, more = match_touches(frame[~bad_run], touches)
    problems += more
    m = matched[~matched["file"].isin({p.file for p in problems}).to_numpy()].sort_values(["file", "row"],
                                                                                          kind="stable")
    week = pd.to_datetime(m["ws"]).dt.isocalendar()
    return pd.DataFrame({
        "file": m["file"].to_numpy(dtype=np.int64),
        "customer_id": m["customer"].to_numpy(dtype=object),
        "date": pd.to_datetime(m["day"]).to_numpy(dtype="datetime64[ns]"),
        "channel": m["channel"].to_numpy(dtype=object),
        "outcome": m["code"].to_numpy(dtype=object),
        "planned_week": (week["year"].astype(str) + "-W" + week["week"].astype(str).str.zfill(2)).to_numpy(dtype=object),
        "note": m["note_text"].where(m["note_text"] != "", None).to_numpy(dtype=object),
    }), problems


def filled_rows(lists: list[ReturnedList]) -> pd.DataFrame:
    """Every filled row of ``lists`` with its cells read: ``file`` (position in ``lists``), ``row``, the
    raw cells (:data:`ROW_FIELDS`) and ``run``, ``ws``, ``rm``, ``customer``, ``step_n``, ``day``,
    ``code``, ``note_text`` (None or NaN where a cell says nothing readable) and ``csv`` (a CSV list's row)."""
    recs = [(i, *r) for i, x in enumerate(lists) if not x.skipped and not x.problems for r in x.rows]
    f = pd.DataFrame(recs, columns=["file", *ROW_FIELDS], dtype=object).astype({"file": "int64", "row": "int64"})
    epochs = [x.epoch for x in lists]
    f["csv"] = [not lists[i].sheet for i in f["file"]]
    f["run"] = [as_text(v) for v in f["run_id"]]
    f["rm"] = [as_text(v) for v in f["rm_id"]]
    f["customer"] = [as_text(v) for v in f["customer_id"]]
    f["ws"] = pd.Series([as_day(v) for v in f["week_start"]], index=f.index, dtype=object)
    f["step_n"] = pd.Series([as_step(v) for v in f["step"]], index=f.index, dtype="float64")
    f["day"] = pd.Series([as_day(v, epochs[i]) for i, v in zip(f["file"], f["contacted_on"], strict=True)],
                         index=f.index, dtype=object)
    f["code"] = pd.Series([result_code(v) for v in f["result"]], index=f.index, dtype=object)
    f["note_text"] = [("" if _blank(v) else shown_note(v)) for v in f["note"]]
    return f


def shown_note(value) -> str:
    """A note cell as stored (text; a date or number a spreadsheet made of it, as text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return as_text(value)


def cell_problems(f: pd.DataFrame, lists: list[ReturnedList], as_of: dt.date) -> list[ListProblem]:
    """The cells of the filled rows that say nothing a ledger can hold (result, date, customer, step, note)."""
    has_result = ~f["result"].map(_blank).to_numpy(dtype=bool)
    has_date = ~f["contacted_on"].map(_blank).to_numpy(dtype=bool)
    day, ws = f["day"], f["ws"]
    late = [d is not None and w is not None and not w <= d <= w + dt.timedelta(days=6) for d, w in zip(day, ws, strict=True)]
    after = [d is not None and d > as_of for d in day]
    note_len = f["note_text"].str.len().to_numpy()
    checks = [
        ("result", has_result & f["code"].isna().to_numpy(),
         lambda r: f"{shown(r.result)} is not a result (one of: {', '.join(_labels(lists[r.file]))})"),
        ("result", ~has_result & has_date, lambda r: f"no result for the contact on {shown(r.contacted_on)}: "
         "fill in the result, or clear the date"),
        ("contacted_on", has_result & ~has_date, lambda r: "a result without the day of the contact"),
        ("contacted_on", has_date & f["day"].isna().to_numpy(),
         lambda r: f"{shown(r.contacted_on)} is not a date (YYYY-MM-DD)"),
        ("contacted_on", pd.array(late, dtype=bool).to_numpy(dtype=bool),
         lambda r: f"{r.day.isoformat()} is outside the list's week ({r.ws.isoformat()} to "
                   f"{(r.ws + dt.timedelta(days=6)).isoformat()})"),
        ("contacted_on", pd.array(after, dtype=bool).to_numpy(dtype=bool),
         lambda r: f"{r.day.isoformat()} is after the as-of date {as_of.isoformat()}"),
        ("customer_id", (f["customer"] == "").to_numpy(), lambda r: "a result on a row without a customer id"),
        ("step", f["step_n"].isna().to_numpy(), lambda r: "no step: the hidden column must keep the step the list "
         "was written with" if _blank(r.step) else f"{shown(r.step)} is not a step number"),
        ("week_start", f["ws"].isna().to_numpy(), lambda r: f"{shown(r.week_start)} is not a date"),
        ("note", note_len > NOTE_CHARS, lambda r: f"a note of {len(r.note_text):,} characters (at most "
                                                  f"{NOTE_CHARS}; not shown here)"),
    ]
    out = []
    for key, mask, message in checks:
        out.extend(ListProblem(int(r.file), int(r.row), key, message(r)) for r in f[mask].itertuples())
    return out


def _labels(lst: ReturnedList) -> list[str]:
    return [labels[lst.lang] for labels in RESULTS.values()]


def run_problems(f: pd.DataFrame, runs: pd.DataFrame, campaign_id: str,
                 bad_files: set[int]) -> tuple[pd.Series, list[ListProblem]]:
    """The rows whose run cannot be matched (one problem per list and run): no run id, a run not in
    the ledger, of another campaign, not finished or replaced by a later run of its week."""
    known = {r.run_id: (r.campaign_id, r.status, r.week) for r in runs.itertuples()}
    bad = pd.Series(f["file"].isin(bad_files).to_numpy(), index=f.index)
    out, wrong = [], []
    for first in f[~bad].drop_duplicates(["file", "run"]).sort_values(["file", "run"]).itertuples():
        run = first.run
        if run == "":
            why = ("this list comes from a plan that was not recorded in a ledger (run_id is empty: "
                   "`reactivate plan` without --ledger): record its results with --outcomes")
        elif run not in known:
            why = (f"this list comes from a plan that was not recorded in the ledger (run_id {run!r}): a list of "
                   "another ledger, or of a plan without --ledger")
        elif known[run][0] != campaign_id:
            why = f"this list is of campaign {quoted(known[run][0])}, not of {quoted(campaign_id)}"
        elif known[run][1] == "replaced":
            why = (f"this list comes from run {run!r} of {known[run][2]}, which a later run of that week "
                   "replaced: record the results on the later run's lists")
        elif known[run][1] != "ok":
            why = f"this list comes from run {run!r}, which did not finish (the ledger never recorded its touches)"
        else:
            continue
        wrong.append((first.file, run))
        out.append(ListProblem(int(first.file), int(first.row) if first.csv else None,
                               "run_id" if first.csv else None, why))
    if wrong:
        pairs = pd.MultiIndex.from_tuples(wrong)
        bad |= pd.MultiIndex.from_arrays([f["file"], f["run"]]).isin(pairs)
    return bad, out


def match_touches(f: pd.DataFrame, touches: pd.DataFrame) -> tuple[pd.DataFrame, list[ListProblem]]:
    """The rows of ``f`` (filled rows of known runs) with the channel of the touch each delivers, and a
    problem for each row whose customer is not on that RM's list of that run and week, or whose step
    is not the customer's step there."""
    key = ["run", "week", "rm", "customer"]
    t = pd.DataFrame({"run": touches["run_id"].astype(str), "week": touches["week_start"].astype("datetime64[ns]"),
                      "rm": touches["rm_id"].astype(str), "customer": touches["customer_id"].astype(str),
                      "step_n": touches["step"].astype("float64"), "channel": touches["channel"].astype(str)})
    t = t.drop_duplicates([*key, "step_n"])
    rows = f[(f["customer"] != "") & f["ws"].notna().to_numpy() & f["step_n"].notna().to_numpy()]
    rows = rows.assign(week=pd.to_datetime(rows["ws"]).astype("datetime64[ns]"))
    listed = t[key].drop_duplicates().assign(_on=True)
    on_list = rows[key].merge(listed, on=key, how="left")["_on"].notna().to_numpy()
    m = rows.merge(t, on=[*key, "step_n"], how="left")
    out = [ListProblem(int(r.file), int(r.row), "customer_id", f"{quoted(r.customer)} is not on the list of RM "
                       f"{quoted(r.rm)} for the week of {r.ws.isoformat()} (run {r.run!r})")
           for r in rows[~on_list].itertuples()]
    wrong = rows[on_list & m["channel"].isna().to_numpy()]
    if len(wrong):
        steps = wrong[key].merge(t[[*key, "step_n"]], on=key).groupby(key, sort=False)["step_n"].agg(
            lambda s: ", ".join(str(int(v)) for v in sorted(s)))
        out += [ListProblem(int(r.file), int(r.row), "step", f"step {int(r.step_n)} does not match: "
                            f"{quoted(r.customer)} is on this list with step {steps[(r.run, r.week, r.rm, r.customer)]}")
                for r in wrong.itertuples()]
    return m[m["channel"].notna().to_numpy()], out


def render_problems(problems: list[ListProblem], lists: list[ReturnedList]) -> list[str]:
    """One line per problem, by file, row and column: file, sheet, row, column (letter and key), message."""
    order = {k: i for i, k in enumerate(("run_id", "week_start", "customer_id", "contacted_on", "result", "note",
                                         "step"))}
    lines = []
    for p in sorted(problems, key=lambda p: (p.file, p.row or 0, order.get(p.key or "", -1), p.message)):
        x = lists[p.file]
        if p.row is None:
            lines.append(f"{x.name}: {p.message}")
        elif x.sheet:
            lines.append(f"{x.name}: sheet {quoted(x.sheet)} row {p.row}, column {x.letters.get(p.key, '?')} "
                         f"({p.key}): {p.message}")
        else:
            lines.append(f"{x.name}: line {p.row}, column {p.key!r}: {p.message}")
    return lines
