"""Hostile inputs for the readers: each class of bad file in several variants, through every command.

The classes (issue 13): tables with no rows; time-zone-aware timestamps; dates far outside what
pandas holds; damaged compressed and Parquet files, folders and pipes given as files; [data] reading
options that cannot work; a file in another separator or encoding; huge cells; empty cells in Parquet;
and more hostile values (repeated headers, NUL bytes, 10,000 columns, infinite amounts, 30 February,
ids with line breaks, outcomes of another campaign). Every case runs through the CLI with the
harness of ``tests/hostile.py``: exit 2, one ``Error:`` line naming the file and column or key and
the problem, no traceback, nothing written, the earlier outputs byte-identical.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from reactivate.loop.ledger import open_ledger
from tests.hostile import Case, both, check

AS_OF = ("--as-of", "2026-11-30")
BOOK = {"accounts": "{book}/accounts.csv", "transactions": "{book}/transactions.csv", "contacts": "{book}/contacts.csv"}
BIG = "x" * (1 << 20)


# --------------------------------------------------------------------------- building the spoiled inputs


def _table(book: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(book / f"{name}.csv", dtype=str, keep_default_na=False)


def _write(path: Path, data: str | bytes | pd.DataFrame) -> None:
    """Write a table as its file name says: .csv as is, .csv.gz compressed, .parquet from a frame."""
    if isinstance(data, pd.DataFrame):
        if path.name.endswith(".parquet"):
            data.to_parquet(path)
            return
        data = data.to_csv(index=False)
    raw = data.encode() if isinstance(data, str) else data
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)


def text(name: str, fn: Callable[[str], str | bytes], fname: str | None = None):
    """Setup: the book's table ``name`` as text, changed by ``fn``, written to ``{tmp}/<fname>``."""
    def setup(tmp: Path, book: Path) -> None:
        _write(tmp / (fname or f"{name}.csv"), fn((book / f"{name}.csv").read_text()))
    return setup


def frame(name: str, fn: Callable[[pd.DataFrame], pd.DataFrame], fname: str):
    """Setup: the book's table ``name`` as a frame of text, changed by ``fn``, written to ``{tmp}/<fname>``."""
    def setup(tmp: Path, book: Path) -> None:
        _write(tmp / fname, fn(_table(book, name)))
    return setup


def raw(fname: str, make: Callable[[Path], bytes]):
    """Setup: ``{tmp}/<fname>`` holds the bytes ``make(book)`` gives."""
    def setup(tmp: Path, book: Path) -> None:
        (tmp / fname).write_bytes(make(book))
    return setup


def spec(body: str, fname: str = "c.toml"):
    """Setup: a campaign spec in ``{tmp}``."""
    def setup(tmp: Path, book: Path) -> None:
        (tmp / fname).write_text(body)
    return setup


def header_only(t: str) -> str:
    return t.splitlines()[0] + "\n"


def column(t: str, col: str, fn: Callable[[str], str], rows: slice = slice(None)) -> str:
    """The CSV text with ``fn`` applied to column ``col`` in the given data rows (no quoting in the book)."""
    lines = t.splitlines()
    j = lines[0].split(",").index(col)
    body = lines[1:]
    for i in range(len(body))[rows]:
        cells = body[i].split(",")
        cells[j] = fn(cells[j])
        body[i] = ",".join(cells)
    return "\n".join([lines[0], *body]) + "\n"


def cut_gzip(name: str, at: Callable[[int], int], fname: str):
    def make(book: Path) -> bytes:
        data = gzip.compress((book / f"{name}.csv").read_bytes())
        return data[: at(len(data))]
    return raw(fname, make)


def parquet_bytes(book: Path, name: str) -> bytes:
    buf = io.BytesIO()
    _table(book, name).to_parquet(buf)
    return buf.getvalue()


def ledger_with_lock(campaign_id: str, fname: str = "ledger.sqlite"):
    """Setup: an empty ledger and its lock file, as an earlier week leaves them (a failed run adds nothing)."""
    def setup(tmp: Path, book: Path) -> None:
        led = open_ledger(tmp / fname)
        with led.lock(campaign_id):
            pass
        led.close()
    return setup


def weekly(extra: str = "", fresh_ledger: bool = False, **files: str):
    """Setup: a weekly campaign spec ``{tmp}/weekly.toml`` reading the book, with ``files`` replaced
    (and an earlier ledger, unless ``fresh_ledger``)."""
    def setup(tmp: Path, book: Path) -> None:
        paths = {k: v.format(book=book, tmp=tmp) for k, v in {**BOOK, **files}.items()}
        body = ('[campaign]\nid = "wk"\n\n[inputs]\n' + "".join(f'{k} = "{v}"\n' for k, v in paths.items())
                + 'out = "runs"\n' + extra)
        (tmp / "weekly.toml").write_text(body)
        if not fresh_ledger:
            ledger_with_lock("wk")(tmp, book)
    return setup


def outcomes_ledger(tmp: Path, book: Path) -> None:
    """Setup of a record case: the campaign spec ``{tmp}/rec.toml`` and its ledger (with the lock file)."""
    if not (tmp / "rec.toml").exists():
        (tmp / "rec.toml").write_text('[campaign]\nid = "camp"\n')
    ledger_with_lock("camp")(tmp, book)


# --------------------------------------------------------------------------- the command lines


def _tables(accounts, transactions, contacts) -> tuple[str, ...]:
    out: tuple[str, ...] = ()
    for opt, path in (("--accounts", accounts), ("--transactions", transactions), ("--contacts", contacts)):
        if path:
            out += (opt, path)
    return out


def validate(accounts=BOOK["accounts"], transactions=None, contacts=None, campaign=None, as_of=AS_OF):
    return ("validate", *as_of, *_tables(accounts, transactions, contacts),
            *(("--campaign", campaign) if campaign else ()))


def plan(accounts=BOOK["accounts"], transactions=BOOK["transactions"], contacts=BOOK["contacts"], campaign=None,
         as_of=AS_OF):
    return ("plan", *as_of, *_tables(accounts, transactions, contacts),
            *(("--campaign", campaign) if campaign else ()), "--out", "{out}", "--no-report", "--quiet")


def rank(accounts=BOOK["accounts"], transactions=BOOK["transactions"], contacts=None, campaign=None, as_of=AS_OF):
    return ("rank", *as_of, *_tables(accounts, transactions, contacts),
            *(("--campaign", campaign) if campaign else ()), "--out", "{out}")


def fit(accounts=BOOK["accounts"], transactions=BOOK["transactions"], contacts=None, as_of=AS_OF):
    return ("segments", "fit", *as_of, *_tables(accounts, transactions, contacts), "--model", "{tmp}/model.json")


def describe(accounts=BOOK["accounts"], transactions=BOOK["transactions"], contacts=None, campaign=None,
             as_of=AS_OF):
    return ("segments", "describe", *as_of, *_tables(accounts, transactions, contacts),
            *(("--campaign", campaign) if campaign else ()), "--out", "{out}")


def run(week="2026-W50", *extra):
    return ("run", "--campaign", "{tmp}/weekly.toml", "--week", week, "--ledger", "{tmp}/ledger.sqlite",
            "--out", "{out}", "--no-report", *extra)


def record(outcomes="{tmp}/outcomes.csv", as_of="2027-01-31"):
    return ("record", "--outcomes", outcomes, "--campaign", "{tmp}/rec.toml", "--ledger", "{tmp}/ledger.sqlite",
            "--as-of", as_of)


OUTCOMES = "customer_id,date,channel,outcome\nC0000001,2026-12-09,sms,responded\nC0000002,2026-12-09,phone,declined\n"


def outcomes(body: str | bytes, fname: str = "outcomes.csv", campaign: str | None = None):
    setups = [raw(fname, lambda book: gzip.compress(_b(body)) if fname.endswith(".gz") else _b(body))]
    if campaign is not None:
        setups.insert(0, spec(campaign, "rec.toml"))
    return both(*setups, outcomes_ledger)


def _b(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


def short_lines(limit: int = 2000):
    """Extra check: no line of the output (stderr, JSON log lines) quotes a huge value whole."""
    def extra(tmp: Path, r) -> None:
        assert max((len(line) for line in r.output.splitlines()), default=0) < limit, "a huge value was echoed"
    return extra


def json_error_cut(tmp: Path, r) -> None:
    """Extra check of --log-json: the failure is one JSON line whose detail is cut too."""
    events = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    failed = [e for e in events if e.get("event") == "failed"]
    assert failed and len(failed[-1].get("detail", "")) < 2000, failed


def fifo(fname: str):
    def setup(tmp: Path, book: Path) -> None:
        os.mkfifo(tmp / fname)
    return setup


def folder(fname: str):
    def setup(tmp: Path, book: Path) -> None:
        (tmp / fname).mkdir()
    return setup


ZONE = "data.timezone"
HEADER_ONLY = "no rows under the header"
OUTSIDE = "outside the dates reactivate handles"

CASES = [
    # ---- a table with a header and no rows (any table, any format, any command)
    Case("validate-accounts-header-only", validate("{tmp}/accounts.csv"),
         ("accounts.csv", HEADER_ONLY, "accounts table is empty"), text("accounts", header_only), previous=False),
    Case("plan-accounts-header-only", plan("{tmp}/accounts.csv"),
         ("accounts.csv", HEADER_ONLY, "accounts table is empty"), text("accounts", header_only)),
    Case("plan-transactions-header-only", plan(transactions="{tmp}/transactions.csv"),
         ("transactions.csv", HEADER_ONLY, "transactions table is empty"), text("transactions", header_only)),
    Case("rank-transactions-only-header-only", rank(accounts=None, transactions="{tmp}/transactions.csv"),
         ("transactions.csv", HEADER_ONLY), text("transactions", header_only)),
    Case("fit-accounts-gz-header-only", fit("{tmp}/accounts.csv.gz"),
         ("accounts.csv.gz", HEADER_ONLY), text("accounts", header_only, "accounts.csv.gz")),
    Case("describe-accounts-parquet-no-rows", describe("{tmp}/accounts.parquet"),
         ("accounts.parquet", HEADER_ONLY), frame("accounts", lambda f: f.iloc[:0], "accounts.parquet")),
    Case("run-accounts-header-only-no-newline", run(),
         ("accounts.csv", HEADER_ONLY), both(text("accounts", lambda t: t.splitlines()[0]),
                                              weekly(accounts="{tmp}/accounts.csv"))),
    # a first run that fails leaves no ledger behind (no earlier ledger in these two)
    Case("run-first-week-bad-accounts-leaves-no-ledger", run(),
         ("accounts.csv", HEADER_ONLY), both(text("accounts", lambda t: t.splitlines()[0]),
                                              weekly(accounts="{tmp}/accounts.csv", fresh_ledger=True))),
    Case("record-first-file-bad-leaves-no-ledger", record(), ("outcomes.csv", "column 'date'", ZONE),
         both(lambda tmp, book: (tmp / "rec.toml").write_text('[campaign]\nid = "camp"\n'),
              lambda tmp, book: (tmp / "outcomes.csv").write_text(
                  OUTCOMES.replace("2026-12-09,sms", "2026-12-09T10:00:00Z,sms"))), previous=False),
    # ---- timestamps with a time zone need data.timezone (every row, mixed, on a date column, Parquet)
    Case("validate-transactions-offset-every-row", validate(transactions="{tmp}/transactions.csv"),
         ("transactions.csv", "column 'timestamp'", ZONE, "+08:00"),
         text("transactions", lambda t: column(t, "timestamp", lambda v: v.replace(" ", "T") + "+08:00")),
         previous=False),
    Case("plan-transactions-mixed-z-and-offset", plan(transactions="{tmp}/transactions.csv"),
         ("transactions.csv", "column 'timestamp'", ZONE),
         text("transactions", lambda t: column(column(t, "timestamp", lambda v: v + "Z", slice(0, None, 2)),
                                                "timestamp", lambda v: v if v.endswith("Z") else v + "+08:00"))),
    Case("rank-accounts-z-on-a-date-column", rank("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'open_date'", ZONE),
         text("accounts", lambda t: column(t, "open_date", lambda v: v + "T00:00:00Z"))),
    Case("validate-parquet-zoned-timestamps", validate(transactions="{tmp}/transactions.parquet"),
         ("transactions.parquet", "column 'timestamp'", ZONE, "UTC"),
         frame("transactions", lambda f: f.assign(timestamp=pd.to_datetime(f["timestamp"]).dt.tz_localize("UTC")),
               "transactions.parquet"), previous=False),
    Case("record-outcomes-zoned-date", record(), ("outcomes.csv", "column 'date'", ZONE),
         outcomes(OUTCOMES.replace("2026-12-09,sms", "2026-12-09T10:00:00Z,sms")), previous=False),
    Case("run-contacts-zoned-date", run(), ("contacts.csv", "column 'date'", ZONE),
         both(text("contacts", lambda t: column(t, "date", lambda v: v + "T09:00:00+08:00")),
              weekly(contacts="{tmp}/contacts.csv"))),
    Case("validate-timezone-not-a-zone", validate(campaign="{tmp}/c.toml"),
         ("c.toml", "data.timezone='Mars/Olympus'", "not a time zone name"),
         spec('[data]\ntimezone = "Mars/Olympus"\n'), previous=False),
    # ---- dates far outside what pandas holds: options and columns
    Case("plan-as-of-9999-12-31", plan(as_of=("--as-of", "9999-12-31")), ("--as-of='9999-12-31'", OUTSIDE)),
    Case("rank-as-of-year-1", rank(as_of=("--as-of", "0001-01-01")), ("--as-of='0001-01-01'", OUTSIDE)),
    Case("fit-as-of-1899", fit(as_of=("--as-of", "1899-12-31")), ("--as-of='1899-12-31'", OUTSIDE)),
    Case("record-as-of-9999", record(as_of="9999-12-31"), ("--as-of='9999-12-31'", OUTSIDE),
         outcomes(OUTCOMES), previous=False),
    Case("validate-maturity-9999-12-31", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'maturity_date'", OUTSIDE, "'9999-12-31'"),
         text("accounts", lambda t: column(t, "maturity_date", lambda v: "9999-12-31", slice(0, 3))), previous=False),
    Case("plan-birth-date-year-1", plan("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'birth_date'", OUTSIDE, "'0001-01-01'"),
         text("accounts", lambda t: column(t, "birth_date", lambda v: "0001-01-01", slice(5, 6)))),
    Case("describe-transactions-parquet-1800", describe(transactions="{tmp}/transactions.parquet"),
         ("transactions.parquet", "column 'timestamp'", OUTSIDE),
         frame("transactions", lambda f: f.assign(timestamp=f["timestamp"].where(f.index != 3, "1800-01-01 10:00:00")),
               "transactions.parquet")),
    Case("run-week-9999", run("9999-W50"), ("--week='9999-W50'", "outside 1900-2199"), weekly()),
    # ---- files that cannot be read: damaged gzip and Parquet, empty files, folders, pipes
    Case("validate-gzip-cut-in-half", validate("{tmp}/accounts.csv.gz"),
         ("accounts.csv.gz", "not a complete gzip file"), cut_gzip("accounts", lambda n: n // 2, "accounts.csv.gz"),
         previous=False),
    Case("plan-gzip-cut-at-1k", plan(transactions="{tmp}/transactions.csv.gz"),
         ("transactions.csv.gz", "not a complete gzip file"),
         cut_gzip("transactions", lambda n: 1024, "transactions.csv.gz")),
    Case("record-gzip-that-is-plain-text", record("{tmp}/outcomes.csv.gz"),
         ("outcomes.csv.gz", "not a complete gzip file"),
         both(raw("outcomes.csv.gz", lambda book: OUTCOMES.encode()), outcomes_ledger), previous=False),
    Case("rank-garbage-parquet", rank("{tmp}/accounts.parquet"),
         ("accounts.parquet", "not a readable Parquet file"), raw("accounts.parquet", lambda book: os.urandom(4096))),
    Case("plan-parquet-cut-short", plan(transactions="{tmp}/transactions.parquet"),
         ("transactions.parquet", "not a readable Parquet file"),
         raw("transactions.parquet", lambda book: parquet_bytes(book, "transactions")[:-100])),
    Case("run-contacts-zero-byte-parquet", run(), ("contacts.parquet", "not a readable Parquet file"),
         both(raw("contacts.parquet", lambda book: b""), weekly(contacts="{tmp}/contacts.parquet"))),
    Case("fit-zero-byte-csv", fit("{tmp}/accounts.csv"), ("accounts.csv", "empty file", "the header"),
         raw("accounts.csv", lambda book: b"")),
    Case("validate-folder-as-file", validate("{tmp}/accounts.csv"), ("accounts.csv", "a folder, not a file"),
         folder("accounts.csv"), previous=False),
    # ---- what only the Spark engine reads, given to this machine's: named, with what to do
    Case("plan-accounts-catalog-table-without-spark", plan(accounts="table:bank.accounts"),
         ("table:bank.accounts: a catalog table", "give the accounts as a file", "--engine spark")),
    Case("rank-transactions-uri-without-spark", rank(transactions="hdfs://nn:8020/warehouse/txn"),
         ("hdfs://nn:8020/warehouse/txn: a URI, not a file on this machine", "--engine spark")),
    Case("fit-contacts-folder-without-spark", fit(contacts="{tmp}/contacts"),
         ("contacts: a folder, not a file", "give the contacts as a file", "reads folders of Parquet"),
         folder("contacts")),
    Case("plan-pipe-as-contacts", plan(contacts="{tmp}/contacts.csv"), ("contacts.csv", "not a regular file"),
         fifo("contacts.csv")),
    Case("validate-first-line-empty", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "the first line is empty"), text("accounts", lambda t: "\n" + t), previous=False),
    # ---- [data] reading options that cannot work: named with the spec file and the key
    Case("validate-sep-two-characters", validate(campaign="{tmp}/c.toml"),
         ("c.toml", "data.accounts.sep=';;'", "one ASCII character"), spec('[data.accounts]\nsep = ";;"\n'),
         previous=False),
    Case("plan-date-format-bad-directive", plan(campaign="{tmp}/c.toml"),
         ("c.toml", "data.transactions.date_format='%Q'", "not a strptime date format"),
         spec('[data.transactions]\ndate_format = "%Q"\n')),
    Case("rank-date-format-without-a-day", rank(campaign="{tmp}/c.toml"),
         ("c.toml", "data.accounts.date_format='%Y-%m'", "does not hold a whole date"),
         spec('[data.accounts]\ndate_format = "%Y-%m"\n')),
    Case("run-encoding-not-an-encoding", run(), ("weekly.toml", "data.encoding='klingon'", "not a text encoding"),
         weekly('\n[data]\nencoding = "klingon"\n')),
    Case("record-sep-empty", record(), ("rec.toml", "data.contacts.sep=''", "one ASCII character"),
         outcomes(OUTCOMES, campaign='[campaign]\nid = "camp"\n[data.contacts]\nsep = ""\n'), previous=False),
    # ---- another separator: the columns are said to be missing, the separator and the key named
    Case("validate-semicolon-accounts", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "looks ';'-separated", "data.accounts.sep"), text("accounts", lambda t: t.replace(",", ";")),
         previous=False),
    Case("plan-pipe-separated-contacts", plan(contacts="{tmp}/contacts.csv"),
         ("contacts.csv", "looks '|'-separated", "data.contacts.sep"), text("contacts", lambda t: t.replace(",", "|"))),
    Case("record-tab-separated-outcomes", record(), ("outcomes.csv", "looks '\\t'-separated", "data.contacts.sep"),
         outcomes(OUTCOMES.replace(",", "\t")), previous=False),
    # ---- a huge cell is cut wherever a value is quoted (stderr and the JSON log)
    Case("validate-megabyte-product", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'product'", "(1,048,576 characters)"),
         text("accounts", lambda t: column(t, "product", lambda v: BIG, slice(2, 3))), previous=False,
         extra_checks=(short_lines(),)),
    Case("run-log-json-megabyte-date", run("2026-W50", "--log-json"),
         ("transactions.csv", "column 'timestamp'", "(1,048,576 characters)"),
         both(text("transactions", lambda t: column(t, "timestamp", lambda v: BIG, slice(1, 2))),
              weekly(transactions="{tmp}/transactions.csv")), extra_checks=(short_lines(), json_error_cut)),
    Case("fit-megabyte-header-name", fit("{tmp}/accounts.csv"), ("accounts.csv", "column 'balance'", "missing"),
         text("accounts", lambda t: t.replace(",balance,", f",{BIG},", 1)), extra_checks=(short_lines(),)),
    # ---- an empty cell is missing in CSV and Parquet alike
    Case("validate-parquet-empty-required-date", validate("{tmp}/accounts.parquet"),
         ("accounts.parquet", "column 'open_date'", "missing (a required column)", "rows 2, 4"),
         frame("accounts", lambda f: f.assign(open_date=f["open_date"].where(~f.index.isin([1, 3]), "")),
               "accounts.parquet"), previous=False),
    Case("plan-csv-spaces-required-date", plan("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'open_date'", "missing (a required column)", "rows 2, 4"),
         text("accounts", lambda t: column(t, "open_date", lambda v: "   ", slice(1, 4, 2)))),
    Case("rank-parquet-null-word-customer-id", rank("{tmp}/accounts.parquet"),
         ("accounts.parquet", "column 'customer_id'", "missing (a required column)"),
         frame("accounts", lambda f: f.assign(customer_id=f["customer_id"].where(f.index != 0, " NULL ")),
               "accounts.parquet")),
    # ---- text in another encoding: the hint names data.encoding (header or values alike)
    Case("validate-gbk-header", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "not valid UTF-8 text", "data.encoding"),
         text("accounts", lambda t: ("客户号," + t).encode("gbk")), previous=False),
    Case("plan-gbk-values-gz", plan(transactions="{tmp}/transactions.csv.gz"),
         ("transactions.csv.gz", "not valid UTF-8 text", "data.encoding"),
         text("transactions", lambda t: column(t, "channel", lambda v: "网银", slice(0, 5)).encode("gbk"),
              "transactions.csv.gz")),
    Case("record-utf16-outcomes", record(), ("outcomes.csv", "not valid UTF-8 text", "data.encoding"),
         outcomes(OUTCOMES.encode("utf-16")), previous=False),
    Case("describe-utf8-file-declared-utf16", describe(campaign="{tmp}/c.toml"),
         ("accounts.csv", "not valid utf-16 text", "data.encoding"), spec('[data]\nencoding = "utf-16"\n')),
    # ---- more hostile values
    Case("validate-header-name-twice", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'balance'", "appears twice in the header"),
         text("accounts", lambda t: "\n".join(line + "," + line.split(",")[5] for line in t.splitlines()) + "\n"),
         previous=False),
    Case("plan-nul-byte-in-header", plan("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'customer_id'", "missing required column"),
         text("accounts", lambda t: t.replace("customer_id", "customer_id\x00", 1))),
    Case("rank-10k-columns-without-balance", rank("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'balance'", "missing required column"),
         text("accounts", lambda t: "\n".join(
             [",".join(f"x{i}" for i in range(10_000)) + "," + t.splitlines()[0].replace(",balance,", ",bal,")]
             + ["," * 10_000 + line for line in t.splitlines()[1:]]) + "\n"), extra_checks=(short_lines(),)),
    Case("validate-infinite-amount", validate(transactions="{tmp}/transactions.csv"),
         ("transactions.csv", "column 'amount'", "not a finite number", "'inf'"),
         text("transactions", lambda t: column(t, "amount", lambda v: "inf", slice(3, 4))), previous=False),
    Case("plan-nan-balance-is-missing", plan("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'balance'", "missing (a required column)"),
         text("accounts", lambda t: column(t, "balance", lambda v: "NaN", slice(0, 2)))),
    Case("fit-negative-deposit-balance", fit("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'balance'", "negative balance on a deposit product"),
         text("accounts", lambda t: t.replace(",savings,", ",savings,").replace(",0.47,", ",-1e12,"))),
    Case("validate-30-february", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'open_date'", "not a date", "'2026-02-30'"),
         text("accounts", lambda t: column(t, "open_date", lambda v: "2026-02-30", slice(4, 5))), previous=False),
    Case("describe-id-with-an-unclosed-quote", describe("{tmp}/accounts.csv"), ("accounts.csv", "malformed rows"),
         text("accounts", lambda t: column(t, "customer_id", lambda v: f'"{v}\nX', slice(2, 3)))),
    Case("validate-id-with-line-breaks-and-a-bad-date", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'open_date'", "not a date", "row 3;"),
         text("accounts", lambda t: column(column(t, "open_date", lambda v: "31/12/2020", slice(2, 3)),
                                            "customer_id", lambda v: f'"{v}\r\n=1+1\n"', slice(2, 3))), previous=False),
    Case("validate-bom-inside-a-value", validate("{tmp}/accounts.csv"),
         ("accounts.csv", "column 'product'", "unknown value", "'\\ufeffsavings'"),
         text("accounts", lambda t: t.replace(",savings,", ",\ufeffsavings,", 1)), previous=False),
    Case("validate-unknown-file-type", validate("{tmp}/accounts.xlsx"), ("accounts.xlsx", "unknown file type"),
         raw("accounts.xlsx", lambda book: b"PK\x03\x04"), previous=False),
    Case("record-outcomes-of-another-campaign", record(),
         ("outcomes.csv", "column 'campaign'", "rows of another campaign", "'camp'"),
         outcomes("customer_id,date,channel,outcome,campaign\nC0000001,2026-12-09,sms,responded,camp\n"
                  "C0000002,2026-12-09,sms,declined,other-campaign\n"), previous=False),
    Case("record-unknown-outcome", record(), ("outcomes.csv", "column 'outcome'", "unknown value", "'maybe'"),
         outcomes(OUTCOMES.replace("declined", "maybe")), previous=False),
    Case("run-accounts-file-missing", run(), ("nope.csv", "file not found"), weekly(accounts="{tmp}/nope.csv")),
    Case("describe-contacts-after-as-of", describe(contacts="{tmp}/contacts.csv"),
         ("contacts.csv", "column 'date'", "after the as-of date 2026-11-30"),
         text("contacts", lambda t: column(t, "date", lambda v: "2026-12-25", slice(0, 1)))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case, tmp_path, hostile_book):
    check(case, tmp_path, hostile_book)
