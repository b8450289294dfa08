"""One row per customer: the book's accounts, activity and contacts folded up.

Dormancy is judged per customer over all accounts: the last
customer-initiated activity is the latest over every account's
``last_activity_date`` and every customer-initiated transaction. Customer
flags are combined conservatively: do-not-contact, hardship, deceased and
legal hold if *any* account says so; consent for a channel only if *every*
account says so.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.config.campaign import CampaignSpec
from reactivate.data.engine import Engine, give_back_memory
from reactivate.data.load import Book
from reactivate.dormancy.ids import codes_for, customer_index, days_to_datetime, index_of
from reactivate.schema import CHANNELS, DEPOSIT_PRODUCTS, TERM_PRODUCTS

STAGES = ("active", "at_risk", "dormant", "long_dormant")
FLAGS = ("do_not_contact", "hardship", "deceased", "legal_hold")


def _group(values, codes: np.ndarray, n: int, how: str, fill=np.nan) -> np.ndarray:
    """Per-customer aggregate of ``values`` grouped by ``codes`` (positions 0..n-1; -1 = skip).

    ``how`` is max, min, sum or nunique. Done with numpy scatter operations
    (``ufunc.at``, ``bincount``): about ten times faster than a pandas groupby on
    ten million rows, which would first re-factorize the codes. Missing values are
    skipped; customers with no value get ``fill`` (NaT for dates).
    """
    v = np.asarray(values)
    keep = codes >= 0
    if how == "sum":
        return np.bincount(codes[keep], weights=v[keep].astype(float), minlength=n)
    if how == "nunique":  # of small non-negative integer codes (products)
        k = int(v.max()) + 1 if len(v) else 1
        seen = np.zeros((n, k), dtype=bool)
        ok = keep & (v >= 0)
        seen[codes[ok], v[ok]] = True
        return seen.sum(axis=1)
    if v.dtype == bool:
        # max = any, min = all
        hit = np.zeros(n, dtype=bool)
        hit[codes[keep & (v if how == "max" else ~v)]] = True
        res = hit if how == "max" else ~hit
        has = np.zeros(n, dtype=bool)
        has[codes[keep]] = True
        return np.where(has, res, fill)
    ufunc = np.maximum if how == "max" else np.minimum
    if v.dtype.kind == "M":
        iv = v.astype("datetime64[s]").view(np.int64)
        valid = keep & ~np.isnat(v)
        init = np.iinfo(np.int64).min if how == "max" else np.iinfo(np.int64).max
        out = np.full(n, init, dtype=np.int64)
        ufunc.at(out, codes[valid], iv[valid])
        res = out.view("datetime64[s]").copy()
        res[out == init] = np.datetime64("NaT")
        return res
    fv = v.astype(float)
    valid = keep & ~np.isnan(fv)
    init = -np.inf if how == "max" else np.inf
    out = np.full(n, init)
    ufunc.at(out, codes[valid], fv[valid])
    return np.where(out == init, fill, out)


def build_customers(book: Book, spec: CampaignSpec, as_of: dt.date, accounts_folded=None) -> pd.DataFrame:
    """Fold the book into a customer table indexed by ``customer_id`` (sorted).

    Returns columns: last_activity, first_seen, days_dormant, tenure_days,
    stage, deadline, n_accounts, n_products, total_balance, deposit_balance,
    next_maturity, maturity_amount, rm_id, branch_id, age, birthday (next),
    has_<ch>, consent_<ch>, the flags, transaction and contact features.

    ``accounts_folded()``, when given, is called once the accounts are folded and before the log is: a plan
    drops the accounts' columns it no longer reads then, so that they and the log's fold are never held at once.
    """
    asof = pd.Timestamp(as_of)
    acc, log = book.accounts, book.log
    if acc is not None:
        index, own_codes = customer_index(acc["customer_id"])
    else:
        index, own_codes = index_of(log.distinct_ids()), None
    n = len(index)
    out = pd.DataFrame(index=index)
    last = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    first = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")

    if acc is not None:
        last, first = _add_account_columns(out, acc, own_codes, last, first, asof, spec)
    else:
        _add_bookless_columns(out, spec)
    del acc, own_codes
    if accounts_folded is not None:
        accounts_folded()

    if log is not None:
        feats = transaction_features(log, index, asof, spec)
        last = _fmax(last, feats.pop("_txn_last"))
        first = _fmin(first, feats.pop("_txn_first"))
        for col, values in feats.items():
            out[col] = values
        del feats
        give_back_memory()  # the log's fold freed more than the customers' frame holds: back before the rest
    else:
        for col, val in TXN_FEATURE_DEFAULTS.items():
            out[col] = val

    _add_dormancy_columns(out, last, first, asof, spec)
    contacts = contact_features(book.contacts, index, asof, spec)  # on the same index: its columns added as they are
    for col in contacts.columns:
        out[col] = contacts[col].to_numpy() if contacts[col].dtype.kind in "biufM" else contacts[col].array
    give_back_memory()  # the fold's temporaries go back before the later stages
    return out


def _add_account_columns(out: pd.DataFrame, acc: pd.DataFrame, c: np.ndarray, last: np.ndarray,
                         first: np.ndarray, asof: pd.Timestamp, spec: CampaignSpec) -> tuple[np.ndarray, np.ndarray]:
    """Add the columns folded from the accounts (``c``: each account's customer position) to ``out``.

    Returns ``last`` and ``first`` moved by the accounts' last activity and opening dates.
    """
    n = len(out)
    out["n_accounts"] = np.bincount(c[c >= 0], minlength=n)
    out["n_products"] = _group(acc["product"].cat.codes.to_numpy(), c, n, "nunique", 0).astype(int)
    bal = acc["balance"].fillna(0.0)
    out["total_balance"] = _group(bal, c, n, "sum", 0.0)
    dep = bal.where(acc["product"].isin(DEPOSIT_PRODUCTS), 0.0)
    out["deposit_balance"] = _group(dep, c, n, "sum", 0.0)
    last = _fmax(last, _group(acc["last_activity_date"], c, n, "max"))
    first = _fmin(first, _group(acc["open_date"], c, n, "min"))
    _add_maturity_columns(out, acc, c, bal, asof)
    _add_owner_columns(out, acc, c, bal)
    _add_flag_columns(out, acc, c, spec)
    return last, first


def _add_maturity_columns(out: pd.DataFrame, acc: pd.DataFrame, c: np.ndarray, bal: pd.Series,
                          asof: pd.Timestamp) -> None:
    """Add next_maturity, maturity_amount (of the term products still running) and matured_not_rolled."""
    n = len(out)
    if "maturity_date" not in acc.columns:
        out["next_maturity"] = pd.NaT
        out["maturity_amount"] = 0.0
        out["matured_not_rolled"] = False
        return
    term = acc["product"].isin(TERM_PRODUCTS).to_numpy() & (acc["maturity_date"] >= asof).fillna(False).to_numpy()
    mc = np.where(term, c, -1)
    out["next_maturity"] = _group(acc["maturity_date"], mc, n, "min")
    out["maturity_amount"] = _group(bal, mc, n, "sum", 0.0)
    # a service shortfall: a term product matured and nothing was rolled over into a new one
    is_term = acc["product"].isin(TERM_PRODUCTS).to_numpy()
    matured = is_term & (acc["maturity_date"] < asof).fillna(False).to_numpy()
    out["matured_not_rolled"] = _group(matured, c, n, "max", False).astype(bool) & np.isnat(
        out["next_maturity"].to_numpy())


def _add_owner_columns(out: pd.DataFrame, acc: pd.DataFrame, c: np.ndarray, bal: pd.Series) -> None:
    """Add rm_id, branch_id and birth_date, taken from the customer's largest account."""
    n = len(out)
    firsts = _largest(bal.to_numpy(dtype=float), c, n)
    for col in ("rm_id", "branch_id"):
        out[col] = _pick_category(acc[col] if col in acc.columns else None, firsts, c, n)
    bd = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    if "birth_date" in acc.columns:
        bd[c[firsts]] = acc["birth_date"].to_numpy(dtype="datetime64[s]")[firsts]
    out["birth_date"] = bd


def _largest(bal: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """Per customer with accounts, the row of their largest balance (the first such row on a tie)."""
    ok = c >= 0
    top = np.full(n, -np.inf)
    np.maximum.at(top, c[ok], bal[ok])
    rows = np.flatnonzero(ok & (bal == top[np.maximum(c, 0)]))
    first = np.full(n, len(bal), dtype=np.int64)
    np.minimum.at(first, c[rows], rows)
    return first[first < len(bal)]


def _add_flag_columns(out: pd.DataFrame, acc: pd.DataFrame, c: np.ndarray, spec: CampaignSpec) -> None:
    """Add has_<ch> and the flags (true if any account says so) and consent_<ch> (only if every account does).

    Reach is assumed when its column is missing, a flag is not; a missing consent column
    means consent only for the channels of ``consent.assume_when_missing``.
    """
    n = len(out)
    any_cols = [f"has_{ch}" for ch in CHANNELS] + list(FLAGS)
    any_cols = [col for col in any_cols if col in acc.columns]
    for col, val in zip(any_cols, _flags(acc, any_cols, c, n, "any"), strict=True):
        out[col] = val
    for ch in CHANNELS:
        if f"has_{ch}" not in acc.columns:
            out[f"has_{ch}"] = True  # reach is assumed when unknown
    for flag in FLAGS:
        if flag not in acc.columns:
            out[flag] = False
    all_cols = [f"consent_{ch}" for ch in CHANNELS if f"consent_{ch}" in acc.columns]
    for col, val in zip(all_cols, _flags(acc, all_cols, c, n, "all"), strict=True):
        out[col] = val  # unknown consent is no consent
    for ch in CHANNELS:
        if f"consent_{ch}" not in acc.columns:
            out[f"consent_{ch}"] = ch in spec.consent.assume_when_missing


def _add_bookless_columns(out: pd.DataFrame, spec: CampaignSpec) -> None:
    """Add the account columns for a book without an accounts table: no balances, owners or flags."""
    index, n = out.index, len(out)
    out["n_accounts"] = 0
    out["n_products"] = 0
    out["total_balance"] = np.nan
    out["deposit_balance"] = np.nan
    out["next_maturity"] = pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
    out["maturity_amount"] = 0.0
    out["matured_not_rolled"] = False
    out["rm_id"] = _pick_category(None, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), n)
    out["branch_id"] = _pick_category(None, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), n)
    out["birth_date"] = pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
    for ch in CHANNELS:
        out[f"has_{ch}"] = True
        out[f"consent_{ch}"] = ch in spec.consent.assume_when_missing
    for flag in FLAGS:
        out[flag] = False


def _add_dormancy_columns(out: pd.DataFrame, last: np.ndarray, first: np.ndarray, asof: pd.Timestamp,
                          spec: CampaignSpec) -> None:
    """Add last_activity, first_seen, days_dormant, tenure_days, stage, deadline, days_to_deadline and age.

    A customer with no activity at all counts from the first day seen, or is long dormant.
    """
    index = out.index
    out["last_activity"] = last
    out["first_seen"] = first
    ref = np.where(np.isnat(last), first, last)
    out["days_dormant"] = ((asof.to_datetime64() - ref) / np.timedelta64(1, "D")).astype(float)
    out["days_dormant"] = out["days_dormant"].fillna(float(spec.dormancy.long_dormant_days)).clip(lower=0)
    out["tenure_days"] = ((asof.to_datetime64() - first) / np.timedelta64(1, "D")).astype(float)
    out["tenure_days"] = out["tenure_days"].fillna(0).clip(lower=0)
    out["stage"] = stage_of(out["days_dormant"].to_numpy(), spec)
    out["deadline"] = pd.Series(ref, index=index).astype("datetime64[s]") + pd.Timedelta(
        days=spec.dormancy.inoperative_days
    )
    # for carve-out rules such as "days_to_deadline <= 90"
    out["days_to_deadline"] = ((out["deadline"].to_numpy() - asof.to_datetime64()) / np.timedelta64(1, "D"))
    bd = out["birth_date"]
    age = (asof - bd).dt.days / 365.25
    out["age"] = age.astype(float)


def _flags(acc: pd.DataFrame, cols: list[str], codes: np.ndarray, n: int, how: str) -> list[np.ndarray]:
    """Per-customer any/all of several true/false account columns in one pass.

    The columns are packed as bits of one integer per account and folded with a
    single ``bitwise_or.at`` / ``bitwise_and.at``; missing values count as false.
    """
    if not cols:
        return []
    keep = codes >= 0
    bits = np.zeros(len(acc), dtype=np.uint64)
    for j, col in enumerate(cols):
        bits |= acc[col].fillna(False).to_numpy(dtype=bool).astype(np.uint64) << np.uint64(j)
    if how == "any":
        folded = np.zeros(n, dtype=np.uint64)
        np.bitwise_or.at(folded, codes[keep], bits[keep])
    else:
        folded = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
        np.bitwise_and.at(folded, codes[keep], bits[keep])
        seen = np.zeros(n, dtype=bool)
        seen[codes[keep]] = True
        folded[~seen] = 0
    return [((folded >> np.uint64(j)) & np.uint64(1)).astype(bool) for j in range(len(cols))]


def _pick_category(col: pd.Series | None, rows: np.ndarray, codes: np.ndarray, n: int) -> pd.Categorical:
    """Per customer, the value of ``col`` at account row ``rows[i]`` (a categorical with sorted categories)."""
    if col is None:
        return pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype=object))
    cat = col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("category")
    cats = cat.cat.categories
    order = np.argsort(cats.astype(str).to_numpy(), kind="stable")
    remap = np.empty(len(cats), dtype=np.int64)
    remap[order] = np.arange(len(cats))
    src = cat.cat.codes.to_numpy()[rows]
    full = np.full(n, -1, dtype=np.int64)
    if len(cats):
        full[codes[rows]] = np.where(src >= 0, remap[np.maximum(src, 0)], -1)
    return pd.Categorical.from_codes(full, categories=cats[order])


def stage_of(days_dormant: np.ndarray, spec: CampaignSpec) -> pd.Categorical:
    """Dormancy stage from days since the last customer-initiated activity."""
    d = spec.dormancy
    bins = [-np.inf, d.at_risk_days, d.dormant_days, d.long_dormant_days, np.inf]
    return pd.cut(days_dormant, bins=bins, labels=list(STAGES), right=False)


def _fmax(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype="datetime64[s]")
    b = np.asarray(b, dtype="datetime64[s]")
    return np.where(np.isnat(a), b, np.where(np.isnat(b), a, np.maximum(a, b)))


def _fmin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype="datetime64[s]")
    b = np.asarray(b, dtype="datetime64[s]")
    return np.where(np.isnat(a), b, np.where(np.isnat(b), a, np.minimum(a, b)))


TXN_FEATURE_DEFAULTS = {
    "n_txn_total": np.nan,
    "n_txn_24m": np.nan,
    "txn_amount_mean": np.nan,
    "net_flow_12m": np.nan,
    "digital_share": np.nan,
    "payday": np.nan,
    "payday_last": np.nan,
}


def transaction_features(log: Engine, index: pd.Index, asof: pd.Timestamp, spec: CampaignSpec) -> dict[str, np.ndarray]:
    """Activity features of the customers of ``index`` from the transaction log, aggregated by its engine
    (:meth:`reactivate.data.engine.Engine.customers`); also ``_txn_last`` (the last customer-initiated
    transaction) and ``_txn_first`` (the first of any)."""
    n = len(index)
    if log.bound() is None:  # a log built from a frame: read for these customers
        log.bind(pa.array(index.to_numpy(dtype=object), type=pa.string()))
    today = int(asof.to_datetime64().astype("datetime64[D]").astype(np.int64))
    args = (index, today, spec.campaign.horizon_weeks * 7, spec.dormancy.occasion_days)
    with ThreadPoolExecutor(1, thread_name_prefix="paydays") as pool:
        # the standing credits and their paydays on a second core, beside the fold of the occasions (both read
        # the log as codes, which the engine builds once under its lock); each is its own: the same answers
        pay = pool.submit(_paydays_of, log, index)
        a = log.customers(*args)
        if "n_txn" not in a and hasattr(log, "forget"):  # kept for scoring after an earlier fold (released): again
            log.forget()  # (the aggregates kept; the credits, read from the log, stand)
            a = log.customers(*args)
        payday = pay.result()
    count = a["n_txn"].astype(float)
    feats = {"_txn_last": days_to_datetime(a["txn_last"], a["txn_last"] < 0),
             "_txn_first": days_to_datetime(a["txn_first"], a["txn_first"] < 0),
             "n_txn_total": count, "n_txn_24m": a["n_txn_24m"].astype(float)}
    with np.errstate(invalid="ignore", divide="ignore"):
        if "amount" in log.columns:
            feats["txn_amount_mean"] = np.where(count > 0, a["abs_amount"] / count, 0.0)
            feats["net_flow_12m"] = a["net_12m"]
        else:
            feats["txn_amount_mean"] = np.full(n, np.nan)
            feats["net_flow_12m"] = np.full(n, np.nan)
        feats["digital_share"] = np.where(count > 0, a["n_digital"] / count, np.nan) if "channel" in log.columns \
            else np.full(n, np.nan)
    if hasattr(log, "release"):  # scoring reads the occasions and aggregates kept: the log as codes is not needed
        log.release()
    feats["payday"], feats["payday_last"] = payday
    return feats


def _paydays_of(log: Engine, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """:func:`paydays` of the standing credits of the customers of ``index`` in ``log`` (where the engine folds
    credits by customer where they lie, Spark's executors, the same function run there)."""
    by_customer = getattr(log, "credits_by_customer", None)
    if by_customer is not None:
        return by_customer(index, paydays, ("payday", "payday_last"))
    cr = log.credits(index)
    return paydays(cr["pos"], cr["day"], len(index))


#: standing credits looked at once by :func:`paydays`
PAYDAY_ROWS = 1_000_000


def paydays(c: np.ndarray, day: np.ndarray, n: int, min_months: int = 3,
            min_share: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Day of the month a salary or pension is credited, per customer (NaN when there is none).

    From standing credits (``c`` customer positions, ``day`` epoch days): a customer
    has a payday when credits fell in at least ``min_months`` months, in at least
    half of the months between the first and the last (monthly, not yearly like
    interest), and at least ``min_share`` of those months' credits came within
    two days of the same day of the month. Also returns the day of the last such credit (epoch days, NaN).
    """
    payday = np.full(n, np.nan)
    last = np.full(n, np.nan)
    if len(c) == 0:
        return payday, last
    if len(c) > PAYDAY_ROWS and n > 1:  # a customer's answer is their own: a large log a range of customers at a time
        step = max(1, int(n * PAYDAY_ROWS // len(c)))
        for a in range(0, n, step):
            rows = np.flatnonzero((c >= a) & (c < a + step))
            p, q = paydays(c[rows] - a, day[rows], min(step, n - a), min_months, min_share)
            payday[a:a + len(p)], last[a:a + len(q)] = p, q
        return payday, last
    c = c.astype(np.int64)
    m, dom = _months(day)
    # the first credit of each customer-month (several credits in a month count once)
    key = (c.astype(np.int64) << 24) | (m << 5) | dom
    if len(key) > 1 and (key[1:] < key[:-1]).any():  # credits come by customer and day: sorted already
        key = np.sort(key)
    first = np.ones(len(key), bool)
    first[1:] = (key[1:] >> 5) != (key[:-1] >> 5)
    key = key[first]
    kc, km, kdom = key >> 24, (key >> 5) & ((1 << 19) - 1), key & 31
    # monthly, not yearly: credits in at least ``min_months`` months, and in at least half of
    # the months between the first and the last (decided before the day-of-month grid is built)
    months = np.bincount(kc, minlength=n)
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, np.iinfo(np.int64).min)
    edge = np.flatnonzero(np.r_[True, kc[1:] != kc[:-1], True])  # the keys are sorted: each customer's months
    lo[kc[edge[:-1]]] = km[edge[:-1]]
    hi[kc[edge[1:] - 1]] = km[edge[1:] - 1]
    cand = (months >= min_months) & (2 * months >= hi - lo + 1)
    keep = cand[kc]
    if not keep.any():
        return payday, last
    kc, kdom = kc[keep], kdom[keep]
    cust, comp = np.unique(kc, return_inverse=True)
    grid = np.zeros((len(cust), 31))
    np.add.at(grid, (comp, kdom), 1.0)
    win = sum(np.roll(grid, s, axis=1) for s in (-2, -1, 0, 1, 2))
    best = win.argmax(axis=1)
    total = grid.sum(axis=1)
    ok = win.max(axis=1) >= min_share * total
    # the modal day itself within the best window
    cols = (best[:, None] + np.arange(-2, 3)[None, :]) % 31
    mode = cols[np.arange(len(cust)), np.take_along_axis(grid, cols, axis=1).argmax(axis=1)]
    payday[cust[ok]] = mode[ok] + 1
    lastday = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(lastday, c, day.astype(np.int64))
    last[cust[ok]] = lastday[cust[ok]]
    return payday, last


def _months(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The month (since 1970-01) and the day of the month (0..30) of epoch days: the calendar worked out once
    for each day of their range, then looked up."""
    day = np.asarray(day, dtype=np.int64)
    lo = int(day.min())
    d = np.arange(lo, int(day.max()) + 1).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    return month.astype(np.int64)[day - lo], dom[day - lo]


def contact_features(contacts: pd.DataFrame | None, index: pd.Index, asof: pd.Timestamp,
                     spec: CampaignSpec) -> pd.DataFrame:
    """Contact-history features and policy inputs per customer.

    Columns: contacts_12m, last_contact (date), contacts_30d, prior_responses,
    complaint_recent (bool), opted_out_all (bool), opted_out_<channel> (bool),
    touches_campaign (contacts already made in this campaign, ``campaign.id``).
    """
    n = len(index)
    f = pd.DataFrame(index=index)
    if contacts is None or len(contacts) == 0:
        f["contacts_12m"] = 0.0
        f["contacts_30d"] = 0.0
        f["last_contact"] = pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
        f["prior_responses"] = 0.0
        f["complaint_recent"] = False
        for ch in CHANNELS:
            f[f"opted_out_{ch}"] = False
        f["touches_campaign"] = 0.0
        return f
    c = codes_for(contacts["customer_id"], index)
    d = contacts["date"]
    y = (d >= asof - pd.Timedelta(days=365)).to_numpy()
    f["contacts_12m"] = np.bincount(c[(c >= 0) & y], minlength=n).astype(float)
    m30 = (d >= asof - pd.Timedelta(days=30)).to_numpy()
    f["contacts_30d"] = np.bincount(c[(c >= 0) & m30], minlength=n).astype(float)
    f["last_contact"] = _group(d, c, n, "max")
    if "campaign" in contacts.columns:
        mine = (contacts["campaign"] == spec.campaign.id).to_numpy(dtype=bool, na_value=False) & (c >= 0)
        f["touches_campaign"] = np.bincount(c[mine], minlength=n).astype(float)
    else:
        f["touches_campaign"] = 0.0
    if "outcome" in contacts.columns:
        out = contacts["outcome"]
        pos = out.isin(["responded", "reactivated"]).to_numpy()
        f["prior_responses"] = np.bincount(c[(c >= 0) & pos], minlength=n).astype(float)
        days = spec.policy.complaint_suppress_days
        comp = (out == "complaint").to_numpy() & (d >= asof - pd.Timedelta(days=days)).to_numpy()
        f["complaint_recent"] = np.bincount(c[(c >= 0) & comp], minlength=n) > 0
        opt = (out == "opted_out").to_numpy()
        for ch in CHANNELS:
            m = opt & (contacts["channel"] == ch).to_numpy() & (c >= 0)
            f[f"opted_out_{ch}"] = np.bincount(c[m], minlength=n) > 0
    else:
        f["prior_responses"] = 0.0
        f["complaint_recent"] = False
        for ch in CHANNELS:
            f[f"opted_out_{ch}"] = False
    return f
