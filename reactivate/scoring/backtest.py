"""Training examples from the bank's own history, for a reactivation model learned by backtesting.

A dormant customer has no recent clicks to learn from, but the bank's
transaction history holds many earlier moments when customers were dormant,
and shows whether each came back. For snapshot dates ``s`` before the as-of
date (one horizon apart), every customer dormant at ``s`` becomes an example:
features computed **only from transactions before s**, label = any
customer-initiated transaction in ``[s, s + horizon)``. :func:`validate`
trains on the older snapshots and scores the most recent one (a later time
slice than it was trained on), reporting AUC and top-decile lift against a
recency-only baseline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.dormancy.customers import DIGITAL_TXN_CHANNELS
from reactivate.dormancy.ids import codes_for

FEATURES = ("recency_days", "n_txn", "n_txn_365", "tenure_days", "amount_mean", "digital_share")


@dataclass
class Examples:
    X: pd.DataFrame  # FEATURES, one row per (snapshot, dormant customer)
    y: np.ndarray  # came back within the horizon after the snapshot
    snapshot: np.ndarray  # index into ``dates``
    customer: np.ndarray  # position in the customer index
    dates: list[pd.Timestamp]


def snapshot_dates(first: pd.Timestamp, as_of: dt.date, horizon_days: int, history_days: int = 365,
                   most: int = 6) -> list[pd.Timestamp]:
    """Snapshots one horizon apart before as-of, each with ``history_days`` of history before it (oldest first)."""
    out = []
    s = pd.Timestamp(as_of) - pd.Timedelta(days=horizon_days)
    while len(out) < most and s - pd.Timedelta(days=history_days) >= first:
        out.append(s)
        s -= pd.Timedelta(days=horizon_days)
    return out[::-1]


class TransactionLog:
    """The transaction log as integer days and customer positions, read once."""

    def __init__(self, txn: pd.DataFrame, index: pd.Index):
        self.n = len(index)
        c = codes_for(txn["customer_id"], index)
        keep = c >= 0
        self.c = c[keep]
        self.day = txn["timestamp"].to_numpy().astype("datetime64[D]").view(np.int64)[keep]
        self.cust = ((txn["initiated_by"] != "bank").to_numpy() if "initiated_by" in txn.columns
                     else np.ones(len(txn), dtype=bool))[keep]
        self.amount = (np.abs(np.nan_to_num(txn["amount"].to_numpy(dtype=float)))[keep]
                       if "amount" in txn.columns else None)
        self.digital = (txn["channel"].isin(DIGITAL_TXN_CHANNELS).to_numpy()[keep]
                        if "channel" in txn.columns else None)
        self._sorted = None

    def _prepare(self):
        """Customer-initiated rows sorted by (customer, day) with prefix sums, and each customer's first day."""
        if self._sorted is None:
            cust = self.cust
            key = (self.c[cust].astype(np.int64) << 32) | (self.day[cust] - _DAY0)
            order = np.argsort(key, kind="stable")
            key = key[order]
            zero = np.zeros(1)
            amt = self.amount[cust][order] if self.amount is not None else np.zeros(len(key))
            dig = self.digital[cust][order].astype(float) if self.digital is not None else np.zeros(len(key))
            first = np.full(self.n, np.iinfo(np.int64).max)
            np.minimum.at(first, self.c, self.day)
            self._sorted = (key, np.concatenate([zero, np.cumsum(amt)]), np.concatenate([zero, np.cumsum(dig)]),
                            first)
        return self._sorted

    def span(self, pos: np.ndarray, day: np.ndarray, bounds=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count, first and last day of customer ``pos[i]``'s own transactions strictly before ``day[i]``."""
        key = self._prepare()[0]
        lo, hi, _ = bounds if bounds is not None else self._bounds(pos, day)
        first = np.where(hi > lo, (key[np.minimum(lo, len(key) - 1)] & 0xFFFFFFFF) + _DAY0, -1) if len(key) else \
            np.full(len(lo), -1)
        last = np.where(hi > lo, (key[np.maximum(hi - 1, 0)] & 0xFFFFFFFF) + _DAY0, -1) if len(key) else \
            np.full(len(lo), -1)
        return hi - lo, first, last

    def _bounds(self, pos, day):
        key = self._prepare()[0]
        base = np.asarray(pos, dtype=np.int64) << 32
        day = np.asarray(day, dtype=np.int64)
        lo = np.searchsorted(key, base)  # the customer's first row
        hi = np.searchsorted(key, base | (day - _DAY0))  # rows strictly before the day
        mid = np.searchsorted(key, base | np.maximum(day - 365 - _DAY0, 0))
        return lo, hi, mid

    def at(self, pos: np.ndarray, day: np.ndarray) -> pd.DataFrame:
        """:data:`FEATURES` of customer ``pos[i]`` from the transactions strictly before ``day[i]`` (days since
        the epoch), one row per pair: the same values as :func:`features_at` for a single snapshot, for any
        number of (customer, day) pairs at once (binary search in the sorted log, no per-row loop).
        """
        _, cum_amt, cum_dig, first = self._prepare()
        pos = np.asarray(pos, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        lo, hi, mid = bounds = self._bounds(pos, day)
        n, _, last = self.span(pos, day, bounds)
        count = n.astype(float)
        f0 = first[pos]
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.DataFrame({
                "recency_days": np.where(n > 0, day - last, np.nan),
                "n_txn": count,
                "n_txn_365": (hi - mid).astype(float),
                "tenure_days": np.where(f0 < day, day - f0, np.nan),
                "amount_mean": (cum_amt[hi] - cum_amt[lo]) / count if self.amount is not None else np.nan,
                "digital_share": (cum_dig[hi] - cum_dig[lo]) / count if self.digital is not None else np.nan,
            })


#: days are stored relative to 1900-01-01 so that (customer, day) packs into one int64 key
_DAY0 = -25567


def _day(ts) -> int:
    return int(np.datetime64(pd.Timestamp(ts).date(), "D").astype(np.int64))


def features_at(log: TransactionLog, snapshot) -> pd.DataFrame:
    """Features of every customer from the transactions strictly before ``snapshot`` (nothing after it)."""
    s = _day(snapshot)
    before = log.day < s
    n = log.n
    cb = before & log.cust
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, log.c[cb], log.day[cb])
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, log.c[before], log.day[before])
    count = np.bincount(log.c[cb], minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = pd.DataFrame({
            "recency_days": np.where(last > np.iinfo(np.int64).min, s - last, np.nan),
            "n_txn": count,
            "n_txn_365": np.bincount(log.c[cb & (log.day >= s - 365)], minlength=n).astype(float),
            "tenure_days": np.where(first < np.iinfo(np.int64).max, s - first, np.nan),
            "amount_mean": (np.bincount(log.c[cb], log.amount[cb], n) / count) if log.amount is not None else np.nan,
            "digital_share": (np.bincount(log.c[cb], log.digital[cb], n) / count) if log.digital is not None
            else np.nan,
        })
    return f


def came_back(log: TransactionLog, snapshot, horizon_days: int) -> np.ndarray:
    """Customer-initiated activity in [snapshot, snapshot + horizon)."""
    s = _day(snapshot)
    m = log.cust & (log.day >= s) & (log.day < s + horizon_days)
    return np.bincount(log.c[m], minlength=log.n) > 0


def build_examples(txn: pd.DataFrame | None, index: pd.Index, as_of: dt.date, horizon_days: int,
                   dormant_days: int, most: int = 6, log: TransactionLog | None = None,
                   features: bool = True) -> Examples:
    """Examples of customers dormant at each snapshot (no activity in the ``dormant_days`` before it).

    ``log`` is the transaction log already read (then ``txn`` is not used).
    ``features=False`` keeps only ``recency_days`` in ``X`` (the caller computes
    its own features with :meth:`TransactionLog.at`): the fast path for large books.
    """
    if not features:
        return _examples_by_search(log if log is not None else TransactionLog(txn, index), as_of,
                                   horizon_days, dormant_days, most)
    log = log if log is not None else TransactionLog(txn, index)
    first = pd.Timestamp(int(log.day.min()), unit="D") if len(log.day) else pd.Timestamp(as_of)
    dates = snapshot_dates(first, as_of, horizon_days, most=most)
    parts, ys, snaps, custs = [], [], [], []
    for k, s in enumerate(dates):  # one pass per snapshot date
        f = features_at(log, s)
        dormant = (f["recency_days"] >= dormant_days).to_numpy()
        parts.append(f[dormant])
        ys.append(came_back(log, s, horizon_days)[dormant])
        snaps.append(np.full(int(dormant.sum()), k))
        custs.append(np.flatnonzero(dormant))
    if not parts:
        return Examples(pd.DataFrame(columns=list(FEATURES)), np.zeros(0, bool), np.zeros(0, int),
                        np.zeros(0, int), dates)
    return Examples(pd.concat(parts, ignore_index=True), np.concatenate(ys), np.concatenate(snaps),
                    np.concatenate(custs), dates)


def _examples_by_search(log: TransactionLog, as_of: dt.date, horizon_days: int, dormant_days: int,
                        most: int) -> Examples:
    """Like :func:`build_examples` with only the recency, from binary searches in the sorted log."""
    first = pd.Timestamp(int(log.day.min()), unit="D") if len(log.day) else pd.Timestamp(as_of)
    dates = snapshot_dates(first, as_of, horizon_days, most=most)
    pos = np.arange(log.n)
    parts, ys, snaps, custs = [], [], [], []
    for k, s in enumerate(dates):  # one pass per snapshot date
        d = _day(s)
        n_before, _, last = log.span(pos, np.full(log.n, d))
        rec = np.where(n_before > 0, d - last, np.nan)
        dormant = rec >= dormant_days
        n_after, _, _ = log.span(pos, np.full(log.n, d + horizon_days))
        parts.append(rec[dormant])
        ys.append((n_after > n_before)[dormant])
        snaps.append(np.full(int(dormant.sum()), k))
        custs.append(np.flatnonzero(dormant))
    if not parts:
        return Examples(pd.DataFrame({"recency_days": np.zeros(0)}), np.zeros(0, bool), np.zeros(0, int),
                        np.zeros(0, int), dates)
    return Examples(pd.DataFrame({"recency_days": np.concatenate(parts)}), np.concatenate(ys),
                    np.concatenate(snaps), np.concatenate(custs), dates)


def top_decile_lift(y: np.ndarray, score: np.ndarray) -> float:
    """Rate among the top-scored 10% over the overall rate."""
    if len(y) == 0 or y.mean() == 0:
        return float("nan")
    top = np.argsort(-score, kind="stable")[: max(1, len(y) // 10)]
    return float(y[top].mean() / y.mean())


def validate(ex: Examples, random_state: int = 0) -> dict:
    """Train on all snapshots but the last, score the last; AUC and top-decile lift vs recency alone."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    if len(ex.dates) < 2:
        return {"usable": False, "reason": f"{len(ex.dates)} snapshot(s): too little history to backtest"}
    last = len(ex.dates) - 1
    train, test = ex.snapshot < last, ex.snapshot == last
    y_tr, y_te = ex.y[train], ex.y[test]
    if y_tr.sum() < 20 or y_te.sum() < 5 or (~y_te).sum() < 5:
        return {"usable": False, "reason": f"too few returns to learn from ({int(y_tr.sum())} in training, "
                                           f"{int(y_te.sum())} in the validation slice)"}
    model = HistGradientBoostingClassifier(max_iter=100, random_state=random_state).fit(ex.X[train], y_tr)
    p = model.predict_proba(ex.X[test])[:, 1]
    baseline = -ex.X["recency_days"].to_numpy()[test]  # more recent, likelier back
    return {
        "usable": True,
        "snapshots": [d.date().isoformat() for d in ex.dates],
        "validation_snapshot": ex.dates[last].date().isoformat(),
        "examples": len(ex.y),
        "returns": int(ex.y.sum()),
        "auc": round(float(roc_auc_score(y_te, p)), 4),
        "top_decile_lift": round(top_decile_lift(y_te, p), 3),
        "baseline_auc": round(float(roc_auc_score(y_te, baseline)), 4),
        "baseline_top_decile_lift": round(top_decile_lift(y_te, baseline), 3),
    }
