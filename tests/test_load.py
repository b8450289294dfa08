"""Reading and validating inputs: every problem in one pass, with file, column, count and rows."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import re
import tomllib

import pandas as pd
import pytest

from reactivate.config.campaign import CampaignSpec, DataSpec, TableInput, load_campaign
from reactivate.data.load import load_book
from reactivate.errors import ConfigError, InputDataError
from tests.conftest import AS_OF, write

HEADER = "customer_id,account_id,product,open_date,last_activity_date,balance"


def test_reads_a_clean_file(tiny_accounts):
    book = load_book(accounts=tiny_accounts, spec=load_campaign(None), as_of=AS_OF)
    acc = book.accounts
    assert len(acc) == 5
    assert acc["open_date"].dtype.kind == "M"
    assert acc["balance"].sum() == 51370
    assert book.inputs["accounts"]["rows"] == 5
    assert book.inputs["accounts"]["sha256"].startswith("sha256:")
    # absent optional columns are reported, not fatal
    assert any("optional columns absent" in n and "deceased" in n for n in book.notes)


def test_every_problem_is_reported_at_once(tmp_path):
    rows = [
        "C1,A1,savings,2020-01-01,2026-01-01,100",
        "C2,A2,savings,2020-13-01,2026-01-01,-5",  # bad date, negative deposit
        "C3,A1,crypto,2020-01-01,2027-01-01,1",  # duplicate account, unknown product, future activity
        ",A4,savings,2020-01-01,2026-01-01,abc",  # missing customer id, bad number
    ]
    p = write(tmp_path / "accounts.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputDataError) as err:
        load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)
    assert str(err.value).splitlines() == [
        "7 problems in the input data",
        "  accounts.csv: column 'open_date': not a date like 2024-01-31 in 1 row (row 2; first value '2020-13-01')",
        "  accounts.csv: column 'balance': not a number in 1 row (row 4; first value 'abc')",
        "  accounts.csv: column 'customer_id': missing (a required column) in 1 row (row 4)",
        "  accounts.csv: column 'product': unknown value (allowed: savings, current, term_deposit, wealth, "
        "fund, insurance, card, loan, mortgage, other) in 1 row (row 3; first value 'crypto')",
        "  accounts.csv: column 'last_activity_date': activity after the as-of date 2026-11-30 "
        "in 1 row (row 3; first value '2027-01-01')",
        "  accounts.csv: column 'account_id': duplicate key (repeats an earlier row) in 1 row (row 3)",
        "  accounts.csv: column 'balance': negative balance on a deposit product (savings, term_deposit, "
        "wealth, fund) in 1 row (row 2; first value '-5.0')",
    ]


def test_missing_required_columns_are_named(tmp_path):
    p = write(tmp_path / "accounts.csv", "customer_id,account_id,balance\nC1,A1,5\n")
    with pytest.raises(InputDataError) as err:
        load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)
    text = str(err.value)
    for col in ("product", "open_date", "last_activity_date"):
        assert f"accounts.csv: column '{col}': missing required column" in text


def test_ids_never_appear_in_messages(tmp_path):
    rows = ["SECRET-ID-1,A1,savings,2020-01-01,2026-01-01,1", "SECRET-ID-1,A1,savings,2020-01-01,2026-01-01,1"]
    p = write(tmp_path / "accounts.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputDataError) as err:
        load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)
    assert "SECRET" not in str(err.value) and "duplicate key" in str(err.value)


def test_bank_column_names_date_format_and_gbk(tmp_path):
    text = "客户号,账号,产品,开户日,最后交易日,余额\nC1,A1,savings,20200101,20251201,100.5\n"
    p = write(tmp_path / "accounts.csv", text, encoding="gbk")
    spec_file = write(
        tmp_path / "c.toml",
        '[data]\nencoding = "gbk"\n[data.accounts]\ndate_format = "%Y%m%d"\n[data.accounts.columns]\n'
        '"客户号" = "customer_id"\n"账号" = "account_id"\n"产品" = "product"\n"开户日" = "open_date"\n'
        '"最后交易日" = "last_activity_date"\n"余额" = "balance"\n',
    )
    book = load_book(accounts=p, spec=load_campaign(spec_file), as_of=AS_OF)
    assert book.accounts["last_activity_date"].iloc[0] == pd.Timestamp("2025-12-01")
    assert book.accounts["balance"].iloc[0] == 100.5


def test_utf8_bom_and_gzip_and_parquet(tmp_path):
    body = HEADER + "\nC1,A1,savings,2020-01-01,2026-01-01,1\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + body.encode())
    gz = tmp_path / "acc.csv.gz"
    gz.write_bytes(gzip.compress(body.encode()))
    pq = tmp_path / "acc.parquet"
    pd.read_csv(bom, encoding="utf-8-sig", parse_dates=["open_date", "last_activity_date"]).to_parquet(pq)
    for path in (bom, gz, pq):
        book = load_book(accounts=path, spec=load_campaign(None), as_of=AS_OF)
        assert list(book.accounts["customer_id"].astype(str)) == ["C1"], path


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(InputDataError, match=r"unknown file type \(use .csv, .csv.gz or .parquet\)"):
        load_book(accounts=write(tmp_path / "a.xlsx", "x"), spec=load_campaign(None), as_of=AS_OF)
    with pytest.raises(InputDataError, match="file not found"):
        load_book(accounts=tmp_path / "none.csv", spec=load_campaign(None), as_of=AS_OF)
    with pytest.raises(InputDataError, match="no input: give --accounts, --transactions or both"):
        load_book(spec=load_campaign(None), as_of=AS_OF)


def test_transactions_and_contacts_checks(tmp_path):
    t = write(tmp_path / "t.csv", "customer_id,timestamp,amount,channel,initiated_by\n"
              "C1,2026-01-01 10:00:00,5,mobile,customer\nC1,2026-12-01 10:00:00,5,drone,someone\n")
    c = write(tmp_path / "c.csv", "customer_id,date,channel,outcome\nC1,2026-01-01,sms,maybe\n")
    with pytest.raises(InputDataError) as err:
        load_book(transactions=t, contacts=c, spec=load_campaign(None), as_of=AS_OF)
    text = str(err.value)
    assert "t.csv: column 'channel': unknown value" in text
    assert "t.csv: column 'initiated_by': unknown value (allowed: customer, bank) in 1 row (row 2" in text
    assert "t.csv: column 'timestamp': activity after the as-of date 2026-11-30 in 1 row (row 2" in text
    assert "c.csv: column 'outcome': unknown value" in text


def test_spaces_around_ids_and_enums_are_trimmed(tmp_path):
    p = write(tmp_path / "accounts.csv", HEADER + "\n C1 ,A1, savings ,2020-01-01,2026-01-01,1\n"
              "C1,A2,current,2020-01-01,2026-01-01,1\n")
    book = load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)
    assert list(book.accounts["customer_id"].astype(str)) == ["C1", "C1"]
    assert list(book.accounts["product"].astype(str)) == ["savings", "current"]
    pq = tmp_path / "a.parquet"
    pd.DataFrame({"customer_id": [" C1", "C1 "], "account_id": ["A1", "A2"], "product": ["savings"] * 2,
                  "open_date": pd.to_datetime(["2020-01-01"] * 2), "last_activity_date": pd.to_datetime(["2026-01-01"] * 2),
                  "balance": [1.0, 2.0]}).to_parquet(pq)
    book = load_book(accounts=pq, spec=load_campaign(None), as_of=AS_OF)
    assert list(book.accounts["customer_id"].astype(str)) == ["C1", "C1"]
    assert len(book.accounts["customer_id"].cat.categories) == 1


def test_malformed_rows_are_reported_by_row_without_their_text(tmp_path):
    rows = ["C1,A1,savings,2020-01-01,2026-01-01,1",
            "SECRET,A2,savings,2020-01-01,2026-01-01,1,extra",
            "C3,A3,savings,2020-99-01,2026-01-01,1",
            "C4,A4,savings,2020-01-01,2026-01-01,-2"]
    p = write(tmp_path / "accounts.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputDataError) as err:
        load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)
    assert str(err.value).splitlines() == [
        "3 problems in the input data",
        "  accounts.csv: malformed rows (wrong number of fields; skipped) in 1 row (row 2)",
        "  accounts.csv: column 'open_date': not a date like 2024-01-31 in 1 row (row 3; first value '2020-99-01')",
        "  accounts.csv: column 'balance': negative balance on a deposit product (savings, term_deposit, "
        "wealth, fund) in 1 row (row 4; first value '-2.0')",
    ]


def test_wrong_encoding_gets_a_hint(tmp_path):
    p = tmp_path / "accounts.csv"
    p.write_bytes((HEADER + "\n客户,A1,savings,2020-01-01,2026-01-01,1\n").encode("gbk"))
    with pytest.raises(InputDataError, match=r"not valid UTF-8 text; set data\.encoding in the campaign spec"):
        load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)


# --------------------------------------------------------------------------- the reading rules (issue 13)

ACC = HEADER + "\nC1,A1,savings,2020-01-01,2026-01-01,1\n"


def _load(tmp_path, spec_text: str | None = None, **tables):
    """Write each table (name -> (file name, text or bytes)) and load them with the spec given as TOML."""
    paths = {}
    for name, (fname, body) in tables.items():
        p = tmp_path / fname
        p.write_bytes(body if isinstance(body, bytes) else body.encode())
        paths[name] = p
    spec = load_campaign(write(tmp_path / "c.toml", spec_text) if spec_text else None)
    return load_book(spec=spec, as_of=AS_OF, **paths)


def _error(tmp_path, spec_text=None, **tables) -> str:
    with pytest.raises((InputDataError, ConfigError)) as err:
        _load(tmp_path, spec_text, **tables)
    return str(err.value)


@pytest.mark.parametrize("table,header", [("accounts", HEADER), ("transactions", "customer_id,timestamp")])
def test_a_table_with_a_header_and_no_rows_is_named(tmp_path, table, header):
    for body in (header + "\n", header):  # with and without the line break
        text = _error(tmp_path, **{table: (f"{table}.csv", body)})
        assert f"{table}.csv: no rows under the header: the {table} table is empty" in text


def test_an_empty_contact_history_is_a_note(tmp_path):
    book = _load(tmp_path, accounts=("a.csv", ACC), contacts=("c.csv", "customer_id,date,channel\n"))
    assert len(book.contacts) == 0 and "c.csv: no rows: no contact history" in book.notes


def test_zoned_timestamps_need_the_banks_zone_and_are_converted_to_it(tmp_path):
    txn = ("customer_id,timestamp\nC1,2026-01-01T23:30:00Z\nC1,2026-01-01T23:30:00+08:00\n"
           "C1,2026-01-01 23:30:00\nC1,2026-01-02T01:00:00-05:00\n")
    text = _error(tmp_path, transactions=("t.csv", txn))
    assert ("t.csv: column 'timestamp': timestamps with a time zone and no data.timezone to convert them to "
            "(set data.timezone in the campaign spec") in text
    assert "in 3 rows (rows 1, 2, 4; first value '2026-01-01T23:30:00Z')" in text
    book = _load(tmp_path, '[data]\ntimezone = "Asia/Shanghai"\n', transactions=("t.csv", txn))
    # Z is UTC: 23:30 UTC is 07:30 the next day in Shanghai; +08:00 and naive stamps are local already
    assert book.transactions["timestamp"].tolist()[:3] == [pd.Timestamp("2026-01-02 07:30"),
                                                          pd.Timestamp("2026-01-01 23:30"),
                                                          pd.Timestamp("2026-01-01 23:30")]
    assert book.transactions["timestamp"].iloc[3] == pd.Timestamp("2026-01-02 14:00")
    # a zoned stamp on a date column: converted, then the day kept
    acc = HEADER + "\nC1,A1,savings,2020-01-01T20:00:00Z,2026-01-01,1\n"
    book = _load(tmp_path, '[data]\ntimezone = "Asia/Shanghai"\n', accounts=("a.csv", acc))
    assert book.accounts["open_date"].iloc[0] == pd.Timestamp("2020-01-02")


def test_zoned_parquet_timestamps_follow_the_same_rule(tmp_path):
    pq = tmp_path / "t.parquet"
    pd.DataFrame({"customer_id": ["C1"], "timestamp": pd.to_datetime(["2026-01-01 23:30"]).tz_localize("UTC")}
                 ).to_parquet(pq)
    text = _error(tmp_path, transactions=("t.parquet", pq.read_bytes()))
    assert "t.parquet: column 'timestamp': timestamps with a time zone and no data.timezone" in text
    book = _load(tmp_path, '[data]\ntimezone = "Asia/Shanghai"\n', transactions=("t.parquet", pq.read_bytes()))
    assert book.transactions["timestamp"].iloc[0] == pd.Timestamp("2026-01-02 07:30")


def test_dates_outside_the_handled_range_are_named(tmp_path):
    acc = HEADER + ",maturity_date\nC1,A1,term_deposit,2020-01-01,2026-01-01,1,9999-12-31\n" \
                   "C2,A2,savings,1899-12-31,2026-01-01,1,\n"
    text = _error(tmp_path, accounts=("a.csv", acc))
    assert ("a.csv: column 'maturity_date': outside the dates reactivate handles (1900-01-01..2199-12-31; "
            "leave the cell empty when there is no date) in 1 row (row 1; first value '9999-12-31')") in text
    assert "a.csv: column 'open_date': outside the dates reactivate handles" in text
    with pytest.raises(InputDataError, match=r"as-of date 9999-12-31 is outside the dates reactivate handles"):
        load_book(accounts=write(tmp_path / "ok.csv", ACC), spec=load_campaign(None), as_of=dt.date(9999, 12, 31))


@pytest.mark.parametrize("broken", ["half", "1k", "not-gzip", "empty"])
def test_a_damaged_gzip_file_is_named(tmp_path, broken):
    data = gzip.compress((HEADER + "\n" + "".join(f"C{i},A{i},savings,2020-01-01,2026-01-01,{i}\n"
                                                 for i in range(5000))).encode())
    body = {"half": data[: len(data) // 2], "1k": data[:1024], "not-gzip": ACC.encode(), "empty": b""}[broken]
    text = _error(tmp_path, accounts=("a.csv.gz", body))
    assert "a.csv.gz" in text
    assert ("not a complete gzip file" in text) if broken != "empty" else ("empty file" in text)


@pytest.mark.parametrize("body", [b"", b"PAR1garbage", b"x" * 5000])
def test_a_damaged_parquet_file_is_named(tmp_path, body):
    good = tmp_path / "g.parquet"
    pd.DataFrame({"customer_id": ["C1"]}).to_parquet(good)
    for data in (body, good.read_bytes()[:-20]):
        text = _error(tmp_path, accounts=("a.parquet", data))
        assert "a.parquet: not a readable Parquet file" in text


def test_a_folder_or_a_pipe_is_not_a_file(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputDataError, match=r"d\.csv: a folder, not a file"):
        load_book(accounts=tmp_path / "d.csv", spec=load_campaign(None), as_of=AS_OF)
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputDataError, match=r"p\.csv: not a regular file"):
        load_book(accounts=fifo, spec=load_campaign(None), as_of=AS_OF)


@pytest.mark.parametrize("key,value,says", [
    ("sep", '";;"', "data.accounts.sep=';;' should be one ASCII character"),
    ("sep", '""', "data.accounts.sep='' should be one ASCII character"),
    ("sep", '"；"', "data.accounts.sep='；' should be one ASCII character"),
    ("date_format", '"%Q"', "data.accounts.date_format='%Q' is not a strptime date format"),
    ("date_format", '"%Y"', "data.accounts.date_format='%Y' does not hold a whole date"),
    ("encoding", '"klingon"', "data.accounts.encoding='klingon' is not a text encoding"),
    ("encoding", '"rot13"', "data.accounts.encoding='rot13' is not a text encoding"),
])
def test_every_reading_option_is_checked_with_file_and_key(tmp_path, key, value, says):
    spec = write(tmp_path / "c.toml", f"[data.accounts]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_campaign(spec)
    assert str(err.value).startswith(f"{spec}: ") and says in str(err.value)
    # a spec built in code is checked too, before the file is read
    ti = TableInput(**{key: tomllib.loads(f"v = {value}")["v"]})
    with pytest.raises(ConfigError, match=r"a\.csv: cannot be read with these \[data\] settings: " + re.escape(says)):
        load_book(accounts=write(tmp_path / "a.csv", ACC), spec=CampaignSpec(data=DataSpec(accounts=ti)), as_of=AS_OF)


def test_a_time_zone_name_is_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"data\.timezone='Mars/Olympus' is not a time zone name"):
        load_campaign(write(tmp_path / "c.toml", '[data]\ntimezone = "Mars/Olympus"\n'))


@pytest.mark.parametrize("sep,name", [(";", "';'"), ("\t", "'\\t'"), ("|", "'|'")])
def test_another_separator_is_named_with_the_key_to_set(tmp_path, sep, name):
    text = _error(tmp_path, accounts=("a.csv", ACC.replace(",", sep)))
    assert text.splitlines()[1] == (
        f"  a.csv: required columns missing (customer_id, account_id, product, open_date, last_activity_date, "
        f"balance): the header looks {name}-separated, not ','; set sep = {json.dumps(sep)} under [data.accounts] "
        "in the campaign spec (data.accounts.sep)")
    book = _load(tmp_path, f"[data.accounts]\nsep = {json.dumps(sep)}\n", accounts=("a.csv", ACC.replace(",", sep)))
    assert len(book.accounts) == 1


def test_a_huge_value_is_cut_in_messages(tmp_path):
    big = "x" * (1 << 20)
    text = _error(tmp_path, accounts=("a.csv", HEADER + f"\nC1,A1,{big},{big},2026-01-01,{big}\n"))
    assert len(text) < 2000
    assert f"first value '{'x' * 80}'… (1,048,576 characters)" in text


def test_an_empty_cell_is_missing_in_csv_and_parquet_alike(tmp_path):
    acc = HEADER + ",maturity_date,rm_id,do_not_contact\nC1,A1,savings,2020-01-01, ,1,  ,NULL, \nC2,A2,savings," \
                   "2020-01-01,2026-01-01,2, NA ,,\n"
    csv_book = _load(tmp_path, accounts=("a.csv", acc))
    pq = tmp_path / "a.parquet"
    pd.read_csv(io.StringIO(acc), dtype=str, keep_default_na=False).to_parquet(pq)
    pq_book = _load(tmp_path, accounts=("a.parquet", pq.read_bytes()))
    for book in (csv_book, pq_book):
        a = book.accounts
        assert a["last_activity_date"].isna().tolist() == [True, False]
        assert a["maturity_date"].isna().all() and a["rm_id"].isna().all() and a["do_not_contact"].isna().all()
    # the same for ids: a null word is no customer id, in Parquet as in CSV
    pd.DataFrame({"customer_id": ["C1", " NA "], "account_id": ["A1", "A2"], "product": ["savings"] * 2,
                  "open_date": ["2020-01-01"] * 2, "last_activity_date": ["2026-01-01"] * 2,
                  "balance": ["1", "2"]}).to_parquet(pq)
    assert "a.parquet: column 'customer_id': missing (a required column) in 1 row (row 2)" in _error(
        tmp_path, accounts=("a.parquet", pq.read_bytes()))


def test_a_header_in_another_encoding_gets_the_hint(tmp_path):
    body = ("客户号," + HEADER + "\nx,C1,A1,savings,2020-01-01,2026-01-01,1\n").encode("gbk")
    assert "a.csv: not valid UTF-8 text; set data.encoding in the campaign spec (e.g. gbk or gb18030)" in _error(
        tmp_path, accounts=("a.csv", body))
    text = _error(tmp_path, '[data]\nencoding = "utf-16"\n', accounts=("a.csv", ACC))
    assert "a.csv: not valid utf-16 text; set data.encoding in the campaign spec" in text
    book = _load(tmp_path, '[data]\nencoding = "gb18030"\n', accounts=("a.csv", body))
    assert len(book.accounts) == 1
    book = _load(tmp_path, '[data]\nencoding = "utf-16"\n', accounts=("a.csv", ACC.encode("utf-16")))
    assert len(book.accounts) == 1


def test_header_names_repeat_or_carry_marks(tmp_path):
    text = _error(tmp_path, accounts=("a.csv", HEADER + ",balance\nC1,A1,savings,2020-01-01,2026-01-01,1,2\n"))
    assert "a.csv: column 'balance': appears twice in the header (after the column mapping)" in text
    book = _load(tmp_path, accounts=("a.csv", HEADER.replace(",account_id", ",\ufeffaccount_id ") + ACC[len(HEADER):]))
    assert len(book.accounts) == 1
    wide = ",".join(f"extra_{i}" for i in range(10_000))
    book = _load(tmp_path, accounts=("a.csv", f"{wide},{HEADER}\n{',' * 10_000}C1,A1,savings,2020-01-01,2026-01-01,1\n"))
    assert len(book.accounts) == 1


def test_infinite_numbers_and_impossible_dates_are_named(tmp_path):
    acc = HEADER + "\nC1,A1,savings,2026-02-30,2026-01-01,inf\nC2,A2,loan,2020-01-01,2026-01-01,-1e999\n"
    text = _error(tmp_path, accounts=("a.csv", acc))
    assert "a.csv: column 'open_date': not a date like 2024-01-31 in 1 row (row 1; first value '2026-02-30')" in text
    assert "a.csv: column 'balance': not a finite number in 2 rows (rows 1, 2; first value 'inf')" in text


def test_what_the_book_gives_but_the_run_cannot_use_is_noted(tmp_path):
    acc = HEADER + ",birth_date\nC1,A1,savings,2020-01-01,2026-01-01,1,2030-01-01\nC2,A2,savings,2020-01-01," \
                   "2026-01-01,1,1980-01-01\n"
    txn = "customer_id,timestamp\nC1,2026-01-01\nC9,2026-01-01\nC9,2026-02-01\nC8,2026-01-01\n"
    con = "customer_id,date,channel\nC7,2026-01-01,sms\nC1,2026-01-01,sms\n"
    book = _load(tmp_path, accounts=("a.csv", acc), transactions=("t.csv", txn), contacts=("c.csv", con))
    assert ("a.csv: 1 birth dates after the as-of date 2026-11-30 (row 1): their customers count as minors and "
            "are not contacted") in book.notes
    assert "t.csv: 3 rows of 2 customers not in a.csv are not used (rows 2, 3, 4)" in book.notes
    assert "c.csv: 1 rows of 1 customers not in a.csv are not used (row 1)" in book.notes
    assert book.accounts["birth_date"].notna().all()  # kept: the customer's age is negative, a minor's
    # without accounts, the customers come from the transactions
    book = _load(tmp_path, transactions=("t.csv", txn), contacts=("c.csv", con))
    assert "c.csv: 2 rows of 2 customers not in t.csv are not used (rows 1, 2)" not in book.notes
    assert "c.csv: 1 rows of 1 customers not in t.csv are not used (row 1)" in book.notes


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    import reactivate.data.io as io_module

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    p = write(tmp_path / "a.csv", ACC)
    monkeypatch.setattr(io_module, "open", denied, raising=False)
    with pytest.raises(InputDataError, match=r"a\.csv: cannot be read \(permission denied\)"):
        load_book(accounts=p, spec=load_campaign(None), as_of=AS_OF)
