"""Reading and validating inputs: every problem in one pass, with file, column, count and rows."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.data.load import load_book
from reactivate.errors import InputDataError
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
