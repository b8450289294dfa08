"""The readers under fuzz: random bytes, random CSV dialects and encodings, random columns and values.

Whatever the file holds, reading it (``load_book``, ``read_outcomes``, ``reactivate validate``)
either succeeds or fails with one clean error (InputDataError or ConfigError: one ``Error:`` line,
exit 2); never a traceback, never another exception.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reactivate.cli import app
from reactivate.config.campaign import CampaignSpec, DataSpec, TableInput
from reactivate.data.load import load_book
from reactivate.errors import ConfigError, InputDataError
from reactivate.loop.record import read_outcomes
from reactivate.schema import TABLES

AS_OF = dt.date(2026, 11, 30)
#: examples per test (REACTIVATE_FUZZ_EXAMPLES=2000 for a long hunt)
EXAMPLES = int(os.environ.get("REACTIVATE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
runner = CliRunner()

# values a column may hold: good ones of every kind, and the hostile ones
GOOD = ["C1", "C2", "A1", "savings", "current", "term_deposit", "sms", "phone", "customer", "bank", "responded",
        "opted_out", "2024-01-31", "2026-11-29", "2026-11-29 10:00:00", "2026-11-29T10:00:00", "100", "-5.5", "0",
        "true", "false", "1", "yes", "n"]
HOSTILE = ["", " ", "NA", " null ", "None", "nan", "inf", "-inf", "1e999", "9999-12-31", "0001-01-01", "2026-02-30",
           "2026-13-01", "1899-12-31", "2026-11-29T10:00:00+08:00", "2026-11-29T10:00:00Z", "2026-11-29Z",
           "=HYPERLINK(\"x\")", "a\nb", "a\r\nb", "\"", "\"\"", "a,b", "a;b", "\t", "\x00", "\ufeff", "\ufeffC1",
           "客户", "x" * 3000, "🙂", "\\", "'", "%s", "{}", "1/2/2024", "20240131", "C1 ", "\u200b"]
VALUES = st.sampled_from(GOOD + HOSTILE) | st.text(max_size=12)
ALL_COLUMNS = sorted({c for t in TABLES.values() for c in t.names})
COLUMN_NAMES = st.sampled_from(ALL_COLUMNS) | st.sampled_from(["", " customer_id", "\ufeffcustomer_id", "x", "客户号",
                                                                "customer_id\x00", "CUSTOMER_ID", "a\nb", "\"q\""])


#: values of each kind that the contract accepts as they are
CLEAN = {
    "id": ["C1", "C2", "C3", "RM1", " C1 ", "B01"],
    "str": ["customer request", "CAMP1", "x", ""],
    "date": ["2024-01-31", "2020-02-29", "2026-11-29", ""],
    "datetime": ["2026-11-29 10:00:00", "2026-11-29T10:00:00", "2024-01-31"],
    "float": ["100", "-5.5", "0", "1e3", " 7 ", ""],
    "bool": ["true", "false", "1", "0", "Y", "no", ""],
}


def _column_values(table: str, name: str, clean: bool):
    """Values for a column: of its kind (clean), or mostly of its kind with hostile ones mixed in."""
    col = TABLES[table].column(name) if name in TABLES[table].names else None
    if col is None:
        return st.sampled_from(GOOD) if clean else VALUES
    good = st.sampled_from(list(col.values) if col.values else CLEAN[col.kind])
    if col.kind == "datetime" and not clean:
        good = good | st.sampled_from(["2026-11-29T10:00:00+08:00", "2026-11-29T02:00:00Z"])
    return good if clean else st.one_of(good, good, VALUES)


@st.composite
def csv_files(draw, table: str = "accounts") -> tuple[bytes, dict]:
    """A CSV table in a random dialect and encoding, and reading options that fit it (clean) or may not.

    Clean examples (about half) hold values the contract accepts, written in the dialect and encoding
    the options name, so that reading goes all the way; the others mix in hostile values and options.
    """
    t = TABLES[table]
    clean = draw(st.booleans())
    shape = draw(st.sampled_from(["required", "contract"] if clean else ["required", "contract", "random"]))
    if shape == "random":
        names = draw(st.lists(COLUMN_NAMES, min_size=0, max_size=8))
    else:
        names = list(t.required) if shape == "required" else list(draw(st.permutations(t.names)))
        names += [] if clean else draw(st.lists(COLUMN_NAMES, max_size=2))
    cells = [_column_values(table, name, clean) for name in names]
    width = st.just(len(names)) if clean else st.integers(max(0, len(names) - 1), len(names) + 1)
    row = width.flatmap(lambda n: st.tuples(*[cells[i] if i < len(cells) else VALUES for i in range(n)]))
    rows = [list(r) for r in draw(st.lists(row, min_size=1 if clean else 0, max_size=6))]
    for key in t.key if clean else ():  # a clean table has no duplicate key
        j = names.index(key)
        for i, r in enumerate(rows):
            r[j] = f"K{i}"
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL] + ([] if clean else [csv.QUOTE_NONE])))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, quoting=quoting, lineterminator=newline, escapechar="\\")
    try:
        writer.writerow(names)
        writer.writerows(rows)
    except csv.Error:
        assume(False)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "gbk", "utf-16", "latin-1"]))
    data = buf.getvalue().encode(encoding, errors="replace")
    if encoding == "utf-8" and draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    options = {
        "sep": sep if clean else draw(st.sampled_from([sep, sep, sep, ",", ";"])),
        "encoding": encoding if clean else draw(st.sampled_from([encoding, encoding, "utf-8", "gbk"])),
        "timezone": draw(st.sampled_from(["", "", "Asia/Shanghai", "UTC"])),
        "date_format": "" if clean else draw(st.sampled_from(["", "", "", "%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"])),
        "gzip": draw(st.booleans()),
    }
    return data, options


def _spec(table: str, options: dict) -> CampaignSpec:
    ti = TableInput(sep=options["sep"], date_format=options["date_format"])
    data = DataSpec(encoding=options["encoding"], timezone=options["timezone"], **{table: ti})
    return CampaignSpec(data=data)


def _load(path: Path, table: str, spec: CampaignSpec) -> None:
    try:
        if table == "outcomes":
            read_outcomes(path, spec, AS_OF)
        else:
            load_book(**{table: path}, spec=spec, as_of=AS_OF)
    except (InputDataError, ConfigError) as exc:
        assert str(exc).strip(), "an error without a message"
        assert max(len(line) for line in str(exc).splitlines()) < 2000, "a message line quotes too much"


@pytest.mark.parametrize("table", ["accounts", "transactions", "contacts", "outcomes"])
@FUZZ
@given(draw=st.data())
def test_any_csv_is_read_or_refused_cleanly(table, draw):
    name = "contacts" if table == "outcomes" else table
    data, options = draw.draw(csv_files(name))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (f"{table}.csv.gz" if options["gzip"] else f"{table}.csv")
        path.write_bytes(gzip.compress(data) if options["gzip"] else data)
        _load(path, table, _spec(name, options))


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
@FUZZ
@given(data=st.binary(max_size=3000), cut=st.integers(min_value=0, max_value=4000))
def test_any_bytes_are_read_or_refused_cleanly(suffix, data, cut):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"accounts{suffix}"
        if suffix == ".csv.gz" and cut % 2:  # a real gzip stream, cut anywhere
            data = gzip.compress(data)[: cut % 200]
        if suffix == ".parquet" and cut % 2:  # a real Parquet file, cut anywhere
            buf = io.BytesIO()
            pd.DataFrame({"customer_id": ["C1"], "balance": [1.0]}).to_parquet(buf)
            data = buf.getvalue()[: cut % len(buf.getvalue())]
        path.write_bytes(data)
        _load(path, "accounts", CampaignSpec())


PARQUET_VALUES = st.one_of(
    st.lists(st.sampled_from(GOOD + HOSTILE) | st.none(), min_size=1, max_size=5),
    st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.none(), min_size=1, max_size=5),
    st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=5),
    st.lists(st.booleans() | st.none(), min_size=1, max_size=5),
    st.lists(st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1)), min_size=1,
             max_size=5),
    st.lists(st.dates(min_value=dt.date(1, 1, 1)), min_size=1, max_size=5),
    st.lists(st.binary(max_size=5), min_size=1, max_size=5),
    st.lists(st.lists(st.integers(0, 3), max_size=2), min_size=1, max_size=5),
)


@FUZZ
@given(columns=st.dictionaries(st.sampled_from(TABLES["accounts"].names), PARQUET_VALUES, max_size=8),
       zoned=st.booleans(), timezone=st.sampled_from(["", "Asia/Shanghai"]))
def test_any_parquet_columns_are_read_or_refused_cleanly(columns, zoned, timezone):
    n = min((len(v) for v in columns.values()), default=0)
    frame = pd.DataFrame({k: pd.Series(v[:n], dtype=object) for k, v in columns.items()})
    for col in frame.columns:
        if all(isinstance(x, dt.datetime) for x in frame[col]) and n:
            frame[col] = pd.to_datetime(frame[col])
            if zoned:
                frame[col] = frame[col].dt.tz_localize("UTC")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accounts.parquet"
        try:
            frame.to_parquet(path)
        except Exception:
            assume(False)
        _load(path, "accounts", CampaignSpec(data=DataSpec(timezone=timezone)))


@settings(max_examples=max(20, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(file=csv_files())
def test_validate_on_any_csv_exits_0_or_2_with_one_error_line(file):
    data, options = file
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "accounts.csv"
        path.write_bytes(data)
        spec = tmp / "c.toml"
        spec.write_text(f'[data]\nencoding = "{options["encoding"]}"\ntimezone = "{options["timezone"]}"\n'
                        f'[data.accounts]\nsep = {_toml_str(options["sep"])}\n'
                        f'date_format = "{options["date_format"]}"\n')
        r = runner.invoke(app, ["validate", "--as-of", "2026-11-30", "--accounts", str(path), "--campaign", str(spec)])
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert "Traceback" not in r.output
        assert r.exit_code in (0, 2), r.output
        errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == (1 if r.exit_code == 2 else 0), r.stderr


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace("\t", "\\t").replace('"', '\\"') + '"'
