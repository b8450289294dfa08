"""Dormancy and the customer table, on tables worked out by hand."""

from __future__ import annotations

import pandas as pd

from reactivate.config.campaign import load_campaign
from reactivate.data.load import load_book
from reactivate.dormancy.customers import build_customers
from tests.conftest import AS_OF, write


def _customers(**paths):
    spec = load_campaign(None)
    return build_customers(load_book(spec=spec, as_of=AS_OF, **paths), spec, AS_OF)


def test_dormancy_is_judged_per_customer_over_all_accounts(tiny_accounts):
    c = _customers(accounts=tiny_accounts)
    assert list(c.index) == ["C1", "C2", "C3", "C4"]
    assert c["days_dormant"].tolist() == [60, 455, 1249, 639]
    assert c["stage"].astype(str).tolist() == ["active", "dormant", "long_dormant", "dormant"]
    assert c.loc["C1", "n_accounts"] == 2 and c.loc["C1", "n_products"] == 2
    assert c.loc["C1", "total_balance"] == 1050
    assert c.loc["C2", "next_maturity"] == pd.Timestamp("2026-12-20")
    assert c.loc["C2", "maturity_amount"] == 50000
    # the regulatory clock: last activity + 1095 days
    assert c.loc["C2", "deadline"] == pd.Timestamp("2028-08-31")
    assert bool(c.loc["C3", "do_not_contact"]) and not bool(c.loc["C1", "do_not_contact"])
    assert bool(c.loc["C4", "hardship"])
    assert pd.isna(c.loc["C3", "rm_id"]) and c.loc["C4", "rm_id"] == "RM2"
    assert round(c.loc["C2", "age"], 1) == 76.9


def test_absent_consent_columns_mean_no_consent(tiny_accounts):
    c = _customers(accounts=tiny_accounts)
    assert not c[[f"consent_{ch}" for ch in ("phone", "sms", "app")]].to_numpy().any()
    assert c["has_phone"].all()  # reach is assumed when unknown


def test_consent_needs_every_account_and_flags_any(tmp_path):
    p = write(tmp_path / "a.csv", "customer_id,account_id,product,open_date,last_activity_date,balance,"
              "consent_sms,hardship\n"
              "C1,A1,savings,2020-01-01,2024-01-01,1,true,false\n"
              "C1,A2,savings,2020-01-01,2024-01-01,1,false,true\n"
              "C2,A3,savings,2020-01-01,2024-01-01,1,yes,\n"
              "C3,A4,savings,2020-01-01,2024-01-01,1,,\n")
    c = _customers(accounts=p)
    assert c["consent_sms"].tolist() == [False, True, False]  # unknown consent is no consent
    assert c["hardship"].tolist() == [True, False, False]


def test_only_customer_initiated_transactions_count(tmp_path):
    acc = write(tmp_path / "a.csv", "customer_id,account_id,product,open_date,last_activity_date,balance\n"
                "C1,A1,savings,2018-01-01,2024-06-01,100\n")
    txn = write(tmp_path / "t.csv", "customer_id,timestamp,amount,initiated_by\n"
                "C1,2025-01-10 09:00:00,50,customer\n"
                "C1,2026-11-01 00:00:00,0.3,bank\n")  # interest credit: not activity
    c = _customers(accounts=acc, transactions=txn)
    assert c.loc["C1", "last_activity"] == pd.Timestamp("2025-01-10")
    assert c.loc["C1", "days_dormant"] == 689
    assert c.loc["C1", "n_txn_total"] == 1


def test_a_plain_transaction_log_is_enough(tmp_path):
    txn = write(tmp_path / "t.csv", "customer_id,timestamp,amount\n"
                "X1,2023-01-10 09:00:00,50\nX1,2023-02-10 09:00:00,20\nX2,2026-11-20 12:00:00,5\n")
    c = _customers(transactions=txn)
    assert list(c.index) == ["X1", "X2"]
    assert c["stage"].astype(str).tolist() == ["long_dormant", "active"]
    assert c.loc["X1", "n_txn_total"] == 2


def test_contact_history_features(tiny_accounts, tmp_path):
    con = write(tmp_path / "c.csv", "customer_id,date,channel,campaign,outcome\n"
                "C2,2026-11-20,sms,X,opted_out\nC2,2026-06-01,phone,X,complaint\nC4,2024-01-01,phone,Y,responded\n")
    c = _customers(accounts=tiny_accounts, contacts=con)
    assert c.loc["C2", "contacts_30d"] == 1 and c.loc["C2", "contacts_12m"] == 2
    assert bool(c.loc["C2", "opted_out_sms"]) and not bool(c.loc["C2", "opted_out_phone"])
    assert bool(c.loc["C2", "complaint_recent"])
    assert c.loc["C4", "prior_responses"] == 1 and not bool(c.loc["C4", "complaint_recent"])
    assert c.loc["C2", "last_contact"] == pd.Timestamp("2026-11-20")


def test_a_matured_deposit_not_rolled_over_is_a_shortfall(tmp_path):
    p = write(tmp_path / "a.csv", "customer_id,account_id,product,open_date,last_activity_date,balance,maturity_date\n"
              "C1,A1,term_deposit,2020-01-01,2024-01-01,100,2025-06-30\n"   # matured, nothing new
              "C2,A2,term_deposit,2020-01-01,2024-01-01,100,2025-06-30\n"   # matured...
              "C2,A3,term_deposit,2025-07-01,2025-07-01,100,2027-06-30\n"   # ...and rolled over
              "C3,A4,savings,2020-01-01,2024-01-01,100,\n")
    c = _customers(accounts=p)
    assert c["matured_not_rolled"].tolist() == [True, False, False]


def test_tables_with_no_rows_fold_to_no_customers(tmp_path):
    """The fold works on tables of no rows (load_book refuses empty accounts; a library caller may not)."""
    from reactivate.data.io import read_table
    from reactivate.data.load import Book
    from reactivate.schema import TABLES

    spec = load_campaign(None)

    def empty(name, header):
        return read_table(write(tmp_path / f"{name}.csv", header + "\n"), TABLES[name], getattr(spec.data, name)).frame

    acc = empty("accounts", "customer_id,account_id,product,open_date,last_activity_date,balance,rm_id,birth_date")
    txn = empty("transactions", "customer_id,timestamp,amount,channel")
    con = empty("contacts", "customer_id,date,channel,outcome")
    some_txn = read_table(write(tmp_path / "t.csv", "customer_id,timestamp\nC1,2026-01-01\n"),
                          TABLES["transactions"], spec.data.transactions).frame
    for book in (Book(acc, None, None), Book(acc, txn, con), Book(acc, some_txn, con), Book(None, txn, con)):
        c = build_customers(book, spec, AS_OF)
        assert len(c) == 0 and {"stage", "days_dormant", "rm_id", "contacts_12m"} <= set(c.columns)


def test_a_birth_date_after_the_as_of_date_gives_a_negative_age(tmp_path):
    """Noted by load_book; the customer counts as a minor (never contacted), the safe reading of a typo."""
    p = write(tmp_path / "a.csv", "customer_id,account_id,product,open_date,last_activity_date,balance,birth_date\n"
              "C1,A1,savings,2020-01-01,2024-01-01,1,2030-06-15\n")
    spec = load_campaign(None)
    book = load_book(accounts=p, spec=spec, as_of=AS_OF)
    assert any("birth dates after the as-of date" in n for n in book.notes)
    assert build_customers(book, spec, AS_OF).loc["C1", "age"] < 0
