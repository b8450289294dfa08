"""Tests of the synthetic bank book (reactivate.demo.book)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from reactivate.demo import book as demo
from reactivate.demo.book import (
    ACTIVITY_STATES,
    PERSONA_BASE_RATE,
    PERSONAS,
    DemoBook,
    generate_book,
    write_book,
)
from reactivate.errors import ConfigError, OutputError
from reactivate.schema import (
    ACCOUNTS,
    CHANNELS,
    CONTACTS,
    DEPOSIT_PRODUCTS,
    INITIATORS,
    OUTCOMES,
    PRODUCTS,
    TERM_PRODUCTS,
    TRANSACTIONS,
    TRUTH_COLUMNS,
    TXN_CHANNELS,
)

AS_OF = date(2026, 11, 30)
AS_OF_TS = pd.Timestamp(AS_OF)
N = 5_000
DOCS = Path(__file__).resolve().parents[1] / "docs" / "demo.md"


@pytest.fixture(scope="module")
def book() -> DemoBook:
    return generate_book(N, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def big_book() -> DemoBook:
    return generate_book(20_000, seed=11, as_of=AS_OF)


def _customer_last(accounts: pd.DataFrame) -> pd.Series:
    return accounts.groupby("customer_id").last_activity_date.max()


def _features(book: DemoBook) -> pd.DataFrame:
    """Customer features a pipeline could compute from the three input tables."""
    a = book.accounts.assign(
        positive=book.accounts.balance.clip(lower=0),
        term=book.accounts["product"].isin(TERM_PRODUCTS),
        digital=book.accounts[["has_app", "has_wechat", "has_email"]].sum(axis=1),
    )
    g = a.groupby("customer_id")
    f = pd.DataFrame(
        {
            "age": (AS_OF_TS - g.birth_date.first()).dt.days / 365.25,
            "log_balance": np.log10(1 + g.positive.sum()),
            "n_accounts": g.size(),
            "digital": g.digital.first(),
            "tenure": (AS_OF_TS - g.open_date.min()).dt.days / 365.25,
            "days_since": (AS_OF_TS - g.last_activity_date.max()).dt.days,
            "term": g.term.any().astype(float),
        }
    )
    mat = (a.maturity_date - AS_OF_TS).dt.days
    f["maturing"] = ((mat >= 0) & (mat <= demo.HORIZON_DAYS)).groupby(a.customer_id).any().astype(float)
    t = book.transactions[book.transactions.initiated_by == "customer"]
    gt = t.assign(size=t.amount.abs()).groupby("customer_id")
    f["log_txn"] = np.log1p(gt.size().reindex(f.index).fillna(0))
    f["log_amount"] = np.log10(1 + gt["size"].mean().reindex(f.index).fillna(0))
    return f


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -3])
def test_n_customers_below_one_is_a_config_error(n):
    with pytest.raises(ConfigError, match=rf"n_customers={n} should be >= 1\."):
        generate_book(n)


@pytest.mark.parametrize("n", [2.5, "10", True, None])
def test_n_customers_not_an_integer_is_a_config_error(n):
    with pytest.raises(ConfigError, match=r"n_customers=.* should be an integer >= 1\."):
        generate_book(n)


def test_bad_seed_and_as_of_are_config_errors():
    with pytest.raises(ConfigError, match=r"seed=-1"):
        generate_book(10, seed=-1)
    with pytest.raises(ConfigError, match=r"as_of='2026-11-30' should be a datetime.date"):
        generate_book(10, as_of="2026-11-30")


def test_bad_format_is_a_config_error(tmp_path):
    book = generate_book(10)
    with pytest.raises(
        ConfigError, match=r"fmt='xlsx' is not a known format; use one of: csv, csv.gz, parquet\."
    ):
        write_book(book, tmp_path, fmt="xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [1, 2, 3, 17])
def test_tiny_books_are_consistent(n):
    book = generate_book(n, seed=n)
    assert book.truth.shape[0] == n
    assert set(book.accounts.customer_id) == set(book.truth.customer_id)


# ---------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(book):
    again = generate_book(N, seed=7, as_of=AS_OF)
    for name in ("accounts", "transactions", "contacts", "truth"):
        pd.testing.assert_frame_equal(getattr(book, name), getattr(again, name))


def test_different_seed_or_as_of_gives_a_different_book(book):
    other = generate_book(N, seed=8, as_of=AS_OF)
    assert not book.truth.equals(other.truth)
    assert not book.accounts.equals(other.accounts)
    shifted = generate_book(N, seed=7, as_of=date(2025, 6, 30))
    assert shifted.transactions.timestamp.max() < pd.Timestamp("2025-06-30")


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_same_book_gives_identical_file_bytes(tmp_path, fmt):
    a = write_book(generate_book(3_000, seed=3), tmp_path / "a", fmt)
    b = write_book(generate_book(3_000, seed=3), tmp_path / "b", fmt)
    c = write_book(generate_book(3_000, seed=4), tmp_path / "c", fmt)
    assert sorted(a) == ["accounts", "contacts", "transactions", "truth"]
    for name in a:
        assert a[name].name == f"{name}.{fmt}"
        assert a[name].read_bytes() == b[name].read_bytes()
        assert a[name].read_bytes() != c[name].read_bytes()


# ---------------------------------------------------------------------------
# the data contract
# ---------------------------------------------------------------------------


def test_columns_match_the_schema_exactly(book):
    # the contract's columns in order, then the demo's fake name and mobile (read by no pipeline step)
    assert tuple(book.accounts.columns) == ACCOUNTS.names + demo.DEMO_ACCOUNT_COLUMNS
    assert tuple(book.transactions.columns) == TRANSACTIONS.names
    assert tuple(book.contacts.columns) == CONTACTS.names
    assert tuple(book.truth.columns) == TRUTH_COLUMNS


def _is_text(s: pd.Series) -> bool:
    """A text column: a string dtype, or (pandas < 3, whose is_string_dtype is False for an object column
    with missing cells) object holding only str and missing cells."""
    if pd.api.types.is_string_dtype(s):
        return True
    return s.dtype == object and all(isinstance(v, str) for v in s.dropna())


def test_kinds_and_required_values(book):
    tables = {"accounts": (book.accounts, ACCOUNTS), "transactions": (book.transactions, TRANSACTIONS)}
    tables["contacts"] = (book.contacts, CONTACTS)
    for df, table in tables.values():
        for c in table.columns:
            s = df[c.name]
            if c.kind in ("date", "datetime"):
                assert pd.api.types.is_datetime64_any_dtype(s), c.name
            elif c.kind == "bool":
                assert s.dtype == bool, c.name
            elif c.kind == "float":
                assert pd.api.types.is_float_dtype(s), c.name
            else:
                assert _is_text(s), c.name
            if c.required and c.name != "last_activity_date":
                assert s.notna().all(), c.name


def test_enum_values_are_valid(book):
    assert set(book.accounts["product"]) <= set(PRODUCTS)
    assert set(book.transactions.channel) <= set(TXN_CHANNELS)
    assert set(book.transactions.initiated_by) == set(INITIATORS)
    assert set(book.contacts.channel) <= set(CHANNELS)
    assert set(book.contacts.outcome) == set(OUTCOMES)
    assert set(book.truth.persona) == set(PERSONAS)
    assert set(book.truth.activity_state) == set(ACTIVITY_STATES)
    assert set(book.truth.best_channel) <= set(CHANNELS)


def test_id_formats(book):
    assert book.truth.customer_id.str.fullmatch(r"C\d{7}").all()
    assert book.truth.customer_id.iloc[0] == "C0000001"
    assert book.accounts.account_id.str.fullmatch(r"A\d{8}").all()
    assert book.accounts.account_id.is_unique
    assert book.truth.customer_id.is_unique
    assert book.accounts.rm_id.dropna().str.fullmatch(r"RM\d{4}").all()
    assert book.accounts.branch_id.str.fullmatch(r"BR\d{3}").all()
    # every transaction names an account of its own customer
    owner = book.accounts.set_index("account_id").customer_id
    assert (
        owner.loc[book.transactions.account_id].to_numpy() == book.transactions.customer_id.to_numpy()
    ).all()


def test_id_width_grows_with_n():
    assert generate_book(12).truth.customer_id.str.len().eq(8).all()  # the minimum width
    assert demo._ids("C", np.array([1, 12_345_678]), 8).to_pylist() == ["C00000001", "C12345678"]


def test_no_dates_after_as_of(book):
    a = book.accounts
    for col in ("open_date", "last_activity_date", "birth_date"):
        assert a[col].max() <= AS_OF_TS, col
    assert book.transactions.timestamp.max() < AS_OF_TS
    assert book.transactions.timestamp.min() >= AS_OF_TS - pd.Timedelta(days=demo.HISTORY_DAYS)
    assert book.contacts.date.max() <= AS_OF_TS
    assert book.contacts.date.min() >= AS_OF_TS - pd.Timedelta(days=demo.CONTACT_HISTORY_DAYS)
    assert (a.open_date <= a.last_activity_date.fillna(AS_OF_TS)).all()
    assert (a.birth_date < a.open_date).all()


def test_balances(book):
    a = book.accounts
    assert (a.loc[a["product"].isin(DEPOSIT_PRODUCTS), "balance"] >= 0).all()
    assert (a.balance.round(2) == a.balance).all()
    small = book.truth.persona.eq("forgotten_small_balance").to_numpy()
    total = a.groupby("customer_id").balance.sum()
    assert (total.loc[book.truth.customer_id[small]] < 100).all()


def test_maturity_only_on_term_products(book):
    a = book.accounts
    term = a["product"].isin(TERM_PRODUCTS)
    assert a.maturity_date[term].notna().all()
    assert a.maturity_date[~term].isna().all()
    assert (a.maturity_date[term] > a.open_date[term]).all()


def test_customer_flags_are_repeated_on_every_account(book):
    flags = ["rm_id", "branch_id", "birth_date", "do_not_contact", "dnc_reason", "hardship", "deceased"]
    flags += ["legal_hold"] + [f"has_{c}" for c in CHANNELS] + [f"consent_{c}" for c in CHANNELS]
    distinct = book.accounts.groupby("customer_id")[flags].nunique(dropna=False)
    assert (distinct == 1).all().all()


def test_consent_and_reach(book):
    a = book.accounts
    for c in CHANNELS:
        assert not (a[f"consent_{c}"] & ~a[f"has_{c}"]).any(), c
    reach = a[[f"has_{c}" for c in CHANNELS]].to_numpy()
    assert reach.any(axis=1).all()
    dnc = a.do_not_contact
    assert a.dnc_reason[dnc].notna().all() and a.dnc_reason[~dnc].isna().all()
    assert set(a.dnc_reason.dropna()) == set(demo.DNC_REASONS)


def test_best_channel_is_reachable(book):
    has = book.accounts.groupby("customer_id")[[f"has_{c}" for c in CHANNELS]].first()
    has.columns = list(CHANNELS)
    best = book.truth.set_index("customer_id").best_channel
    picked = has.to_numpy()[np.arange(len(has)), [CHANNELS.index(c) for c in best.loc[has.index]]]
    assert picked.all()


# ---------------------------------------------------------------------------
# activity
# ---------------------------------------------------------------------------


def test_last_activity_matches_the_activity_state(book):
    days = (AS_OF_TS - _customer_last(book.accounts)).dt.days
    state = pd.cut(days, [0, 179, 364, 729, 10_000], labels=list(ACTIVITY_STATES)).astype(str)
    truth = book.truth.set_index("customer_id").activity_state
    assert (state.loc[truth.index] == truth).all()


def test_last_activity_is_the_latest_customer_initiated_transaction(book):
    t = book.transactions
    mine = t[t.initiated_by == "customer"].assign(day=lambda d: d.timestamp.dt.normalize())
    per_customer = mine.groupby("customer_id").day.max()
    last = _customer_last(book.accounts)
    assert per_customer.index.equals(last.index)  # every customer has activity in the log
    assert (per_customer == last).all()
    per_account = mine.groupby("account_id").day.max()
    acc = book.accounts.set_index("account_id").last_activity_date
    assert (per_account == acc.loc[per_account.index]).all()
    # never-used accounts have no customer-initiated transactions
    assert not set(acc[acc.isna()].index) & set(per_account.index)


def test_bank_rows_go_on_after_dormancy(book):
    t = book.transactions
    bank = t[t.initiated_by == "bank"]
    assert (bank.channel == "auto").all()
    dormant = book.truth.customer_id[book.truth.activity_state == "long_dormant"]
    last = _customer_last(book.accounts)
    late = bank[bank.customer_id.isin(dormant)]
    assert (late.timestamp > last.loc[late.customer_id].to_numpy()).mean() > 0.5


def test_salary_credits_stop_for_salary_leavers(book):
    t = book.transactions.merge(book.truth[["customer_id", "persona"]], on="customer_id")
    salary = t[(t.channel == "auto") & (t.initiated_by == "customer")]
    assert set(salary.persona) == {"salary_leaver"}
    assert (salary.amount > 0).all()


def test_about_ten_transactions_per_customer(big_book):
    assert 8 <= len(big_book.transactions) / 20_000 <= 13
    assert 1.8 <= len(big_book.accounts) / 20_000 <= 2.4


# ---------------------------------------------------------------------------
# the population
# ---------------------------------------------------------------------------


def test_state_and_persona_shares(big_book):
    states = big_book.truth.activity_state.value_counts(normalize=True)
    assert states["active"] == pytest.approx(0.245, abs=0.02)
    assert states["at_risk"] == pytest.approx(0.15, abs=0.02)
    assert states["dormant"] + states["long_dormant"] == pytest.approx(0.60, abs=0.02)
    personas = big_book.truth.persona.value_counts(normalize=True)
    for name, share in zip(PERSONAS, demo.PERSONA_SHARE, strict=True):
        assert personas[name] == pytest.approx(share, abs=0.02), name


def test_flag_and_rm_shares(big_book):
    per_customer = big_book.accounts.groupby("customer_id").first()
    assert per_customer.do_not_contact.mean() == pytest.approx(0.03, abs=0.006)
    assert per_customer.hardship.mean() == pytest.approx(0.02, abs=0.005)
    assert per_customer.deceased.mean() == pytest.approx(0.002, abs=0.002)
    assert per_customer.legal_hold.mean() == pytest.approx(0.001, abs=0.0015)
    age = (AS_OF_TS - per_customer.birth_date).dt.days / 365.25
    assert (age < 18).mean() == pytest.approx(0.005, abs=0.002)
    total = big_book.accounts.groupby("customer_id").balance.sum()
    rm = per_customer.rm_id.notna()
    assert rm[total >= demo.HIGH_BALANCE].mean() > 0.95
    assert 0.2 <= 1 - rm[total < demo.HIGH_BALANCE].mean() <= 0.4
    assert per_customer.rm_id.nunique() == pytest.approx(20_000 / 300, abs=3)
    assert per_customer.branch_id.nunique() == 10
    hardship = per_customer.hardship.groupby(big_book.truth.set_index("customer_id").persona).mean()
    assert hardship.idxmax() == "salary_leaver"


def test_persona_base_rates_are_ordered_as_documented(big_book):
    t = big_book.truth
    dormant = t[t.activity_state.isin(["dormant", "long_dormant"])]
    means = dormant.groupby("persona").true_p_reactivate.mean()
    documented = [PERSONAS[i] for i in np.argsort(-PERSONA_BASE_RATE)]
    assert list(means.sort_values(ascending=False).index) == documented
    assert t.true_p_reactivate.between(*demo.P_CLIP).all()


def test_best_channels_follow_the_personas(big_book):
    t = big_book.truth
    expected = {
        "elderly_saver": {"phone"},
        "young_digital_drifter": {"app", "wechat"},
        "lapsed_affluent": {"phone"},
        "salary_leaver": {"wechat", "sms"},
        "forgotten_small_balance": {"sms", "mail"},
    }
    for persona, channels in expected.items():
        share = t.best_channel[t.persona == persona].isin(channels).mean()
        assert share > 0.85, persona


def test_propensity_rises_with_maturity_and_falls_with_dormancy(big_book):
    f = _features(big_book)
    t = big_book.truth.set_index("customer_id").loc[f.index]
    elderly = (t.persona == "elderly_saver") & t.activity_state.isin(["dormant", "long_dormant"])
    p = t.true_p_reactivate[elderly]
    assert p[f.maturing[elderly] == 1].mean() > 1.4 * p[f.maturing[elderly] == 0].mean()
    days = f.days_since[elderly]
    assert p[days >= 1200].mean() < 0.6 * p[days < 500].mean()


# ---------------------------------------------------------------------------
# contact history
# ---------------------------------------------------------------------------


def test_contact_history(big_book):
    c = big_book.contacts
    per_customer = big_book.accounts.groupby("customer_id").first()
    contacted = c.customer_id.nunique() / 20_000
    assert contacted == pytest.approx(0.30, abs=0.03)
    assert c.groupby("customer_id").size().max() <= 3
    assert (c.date >= AS_OF_TS - pd.Timedelta(days=30)).mean() > 0.10
    assert c.campaign.str.fullmatch(r"CAMP20\d\dQ[1-4]").all()
    quarter = c.date.dt.year.astype(str) + "Q" + c.date.dt.quarter.astype(str)
    assert (c.campaign == "CAMP" + quarter).all()
    # do-not-contact customers only appear with the complaint or opt-out behind the flag
    dnc = per_customer.index[per_customer.do_not_contact]
    assert set(c.outcome[c.customer_id.isin(dnc)]) <= {"complaint", "opted_out"}
    assert not c.customer_id.isin(per_customer.index[per_customer.deceased]).any()


def test_opt_outs_withdraw_consent(big_book):
    c = big_book.contacts
    per_customer = big_book.accounts.groupby("customer_id").first()
    opted = c[c.outcome == "opted_out"]
    assert len(opted) > 0
    consent = per_customer[[f"consent_{ch}" for ch in CHANNELS]].to_numpy()
    row = per_customer.index.get_indexer(opted.customer_id)
    col = [CHANNELS.index(ch) for ch in opted.channel]
    assert not consent[row, col].any()
    # no contact on a channel after the customer opted out of it
    first_opt = opted.groupby(["customer_id", "channel"]).date.min().rename("opt")
    later = c.join(first_opt, on=["customer_id", "channel"])
    assert not (later.date > later.opt).any()


def test_recorded_reactivations_precede_activity(big_book):
    c = big_book.contacts
    react = c[c.outcome == "reactivated"]
    last = _customer_last(big_book.accounts).loc[react.customer_id].to_numpy()
    lag = (last - react.date.to_numpy()) / np.timedelta64(1, "D")
    assert ((lag >= 0) & (lag <= demo.REACTIVATION_LAG_DAYS)).all()


def test_response_rates_are_highest_on_the_best_channel(big_book):
    c = big_book.contacts.merge(big_book.truth, on="customer_id")
    c["good"] = c.outcome.isin(["responded", "reactivated"])
    best = c[c.channel == c.best_channel].groupby("persona").good.mean()
    other = c[c.channel != c.best_channel].groupby("persona").good.mean()
    assert (best > other).all()


# ---------------------------------------------------------------------------
# what a pipeline should be able to recover
# ---------------------------------------------------------------------------


def test_kmeans_recovers_the_dormant_personas(big_book):
    cluster = pytest.importorskip("sklearn.cluster")
    metrics = pytest.importorskip("sklearn.metrics")
    f = _features(big_book)
    t = big_book.truth.set_index("customer_id").loc[f.index]
    dormant = t.activity_state.isin(["dormant", "long_dormant"]).to_numpy()
    cols = [
        "age",
        "log_balance",
        "n_accounts",
        "digital",
        "tenure",
        "log_txn",
        "log_amount",
        "days_since",
        "term",
    ]
    x = f.loc[dormant, cols].to_numpy()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    labels = cluster.KMeans(5, n_init=10, random_state=0).fit_predict(x)
    assert metrics.adjusted_rand_score(t.persona[dormant], labels) >= 0.8


def test_propensity_is_learnable_from_features(big_book):
    linear = pytest.importorskip("sklearn.linear_model")
    metrics = pytest.importorskip("sklearn.metrics")
    f = _features(big_book)
    t = big_book.truth.set_index("customer_id").loc[f.index]
    dormant = t.activity_state.isin(["dormant", "long_dormant"]).to_numpy()
    x = f[dormant].to_numpy()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    p = t.true_p_reactivate.to_numpy()[dormant]
    y = np.random.default_rng(0).random(p.shape[0]) < p
    half = np.arange(p.shape[0]) % 2 == 0
    model = linear.LogisticRegression(max_iter=1000).fit(x[half], y[half])
    score = model.predict_proba(x[~half])[:, 1]
    assert metrics.roc_auc_score(y[~half], score) >= 0.75


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _read(path: Path, fmt: str, table) -> pd.DataFrame:
    if fmt == "parquet":
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    kinds = {c.name: c.kind for c in table.columns} if table is not None else {}
    for name in df.columns:
        kind = kinds.get(name)
        if kind in ("date", "datetime"):
            df[name] = pd.to_datetime(df[name]).astype("datetime64[s]")
        elif kind == "bool":
            df[name] = df[name].map({"true": True, "false": False, True: True, False: False}).astype(bool)
        elif kind == "float" or name == "true_p_reactivate":
            df[name] = df[name].astype(float)
        else:  # text as the generator gives it (pyarrow's strings in pandas: str, or object with None before 3)
            df[name] = pa.array(df[name], type=pa.string(), from_pandas=True).to_pandas()
    return df


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_write_book_round_trips_with_pandas(tmp_path, fmt):
    book = generate_book(1_500, seed=5)
    paths = write_book(book, tmp_path / "out", fmt=fmt)
    schemas = {"accounts": ACCOUNTS, "transactions": TRANSACTIONS, "contacts": CONTACTS, "truth": None}
    for name, table in schemas.items():
        back = _read(paths[name], fmt, table)
        expected = getattr(book, name)
        assert tuple(back.columns) == tuple(expected.columns)
        pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.{fmt}" for n in schemas)


def test_csv_text_format(tmp_path):
    book = generate_book(300, seed=2)
    paths = write_book(book, tmp_path, fmt="csv")
    accounts = paths["accounts"].read_text().splitlines()
    assert accounts[0] == ",".join(ACCOUNTS.names + demo.DEMO_ACCOUNT_COLUMNS)
    first = accounts[1].split(",")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first[ACCOUNTS.names.index("open_date")])
    assert first[ACCOUNTS.names.index("do_not_contact")] in ("true", "false")
    assert first[ACCOUNTS.names.index("dnc_reason")] in ("", *demo.DNC_REASONS)
    txn = paths["transactions"].read_text().splitlines()
    assert txn[0] == ",".join(TRANSACTIONS.names)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", txn[1].split(",")[1])
    assert "-0," not in paths["accounts"].read_text()


@pytest.mark.parametrize("fmt", ["csv", "csv.gz"])
def test_csv_is_written_in_chunks_with_the_same_bytes_and_quotes_only_where_needed(tmp_path, monkeypatch, fmt):
    import dataclasses
    import gzip

    def text(path):
        data = path.read_bytes()
        return gzip.decompress(data) if fmt == "csv.gz" else data

    book = generate_book(400, seed=4)
    whole = {k: text(p) for k, p in write_book(book, tmp_path / "whole", fmt=fmt).items()}
    monkeypatch.setattr(demo, "_CSV_ROWS", 97)  # many chunks (csv.gz: many gzip members)
    chunked = {k: text(p) for k, p in write_book(book, tmp_path / "chunked", fmt=fmt).items()}
    assert chunked == whole
    assert len(book.accounts) > 5 * 97 and whole["accounts"].count(b"customer_id,account_id,") == 1  # one header
    assert b'"' not in whole["accounts"]

    accounts = book.accounts.copy()
    accounts.loc[3, "dnc_reason"] = 'asked, "twice"'  # pyarrow writes it only quoted
    paths = write_book(dataclasses.replace(book, accounts=accounts), tmp_path / "quoted", fmt=fmt)
    back = _read(paths["accounts"], fmt, ACCOUNTS)
    assert back.loc[3, "dnc_reason"] == 'asked, "twice"'
    pd.testing.assert_frame_equal(back, accounts, check_dtype=False)


def test_a_failed_write_keeps_the_previous_files(tmp_path, monkeypatch):
    first = write_book(generate_book(200, seed=1), tmp_path, fmt="parquet")
    before = {name: p.read_bytes() for name, p in first.items()}

    def broken(tbl, path):
        if "transactions" in path.name:
            path.write_bytes(b"half")
            raise OSError(28, "No space left on device")
        demo.pq.write_table(tbl, str(path))

    monkeypatch.setattr(demo, "_write_parquet", broken)
    with pytest.raises(OutputError, match="cannot write the demo book into"):
        write_book(generate_book(200, seed=2), tmp_path, fmt="parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first.values())
    assert {name: p.read_bytes() for name, p in first.items()} == before


def test_output_dir_that_is_a_file_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create the output directory"):
        write_book(generate_book(5), blocker, fmt="csv")


def test_names_and_mobiles_are_plainly_fake(book):
    per_customer = book.accounts.groupby("customer_id", sort=False).first()
    assert per_customer["name"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ \(demo\)").all()
    assert set(per_customer["name"].str.split().str[1]) <= set(demo.FAMILY_NAMES)
    mobile = per_customer["mobile"]
    reach = per_customer["has_phone"] | per_customer["has_sms"]
    assert mobile[reach].str.fullmatch(r"\([2-9]\d\d\) 555-01\d\d").all()  # the range kept for fiction
    assert mobile[~reach].isna().all()
    assert mobile[reach].is_unique  # distinct up to 80,000 customers
    # every account of a customer repeats them
    assert (book.accounts.groupby("customer_id")[["name", "mobile"]].nunique(dropna=False) == 1).all().all()


def test_docs_describe_every_persona_and_base_rate():
    text = DOCS.read_text()
    for name, rate in zip(PERSONAS, PERSONA_BASE_RATE, strict=True):
        assert f"`{name}`" in text
        assert re.search(rf"`{name}`[^\n]*\b{rate:.2f}\b", text), name
