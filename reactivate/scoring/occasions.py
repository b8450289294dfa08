"""Purchase occasions: a transaction log folded to one row per customer per active day.

Every model of who comes back counts **occasions** (distinct days with
customer-initiated activity), not rows: an invoice of twenty lines, or a salary
credit and three card payments on one day, is one visit. :class:`Occasions`
holds them sorted by (customer, day) with prefix sums, so the features of any
number of (customer, day) pairs, and whether each came back in the days after,
are a few binary searches (no loop over customers).

The unit of time is the **snapshot**: the end of its day ``d`` (days since
1970-01-01). A snapshot's features read the occasions on days ``<= d`` only;
its label is an occasion in ``(d, d + horizon]``. The book's own as-of day is
the snapshot of today: its data includes the as-of day, the campaign's horizon
starts after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactivate.data.engine import DIGITAL_TXN_CHANNELS
from reactivate.dormancy.ids import codes_for

#: days are stored relative to 1900-01-01 so that (customer, day) packs into one int64 key
DAY0 = -25567
#: a year, in days: the window of "occasions in the last year" and of "this time last year"
YEAR = 365
#: the window before the customer's last occasion that measures their recent pace (the trend)
RECENT = 180
#: the day of the marker closing each customer's occasions in a sample (after every real day)
MARKER_DAY = DAY0 + 0xFFFFFFFF

#: the features of :meth:`Occasions.features`, with what each is; amount_* and digital_share only when
#: the log has amounts and channels
LOG_FEATURES = {
    "recency_days": "days from the last occasion to the snapshot",
    "n_occasions": "occasions (active days) before the snapshot",
    "tenure_days": "days from the first occasion to the snapshot",
    "occasions_per_year": "occasions per year of tenure (at least 30 days)",
    "rows_per_occasion": "log rows per occasion (basket size)",
    "gap_mean": "mean days between occasions",
    "gap_last": "days between the last two occasions",
    "gap_spread": "standard deviation of the gaps over their mean",
    "recency_over_gap": "days since the last occasion over the customer's own mean gap",
    "recency_over_last_gap": "days since the last occasion over the last gap",
    "n_last_year": "occasions in the year before the snapshot",
    "trend": "share of occasions in the 180 days before the last one, minus the share of the active span "
             "those days are",
    "same_time_last_year": "an occasion in the horizon's window one year before (missing when the log is "
                           "shorter)",
    "history_days": "days of log before the snapshot (the history the features could see)",
    "amount_mean": "mean amount per occasion",
    "amount_last": "amount of the last occasion",
    "digital_share": "share of occasions with an online or mobile transaction",
}


class Occasions:
    """Customer-initiated activity as sorted (customer, day) occasions with prefix sums.

    ``index`` is the customer index (positions 0..n-1); rows of other customers,
    and rows initiated by the bank (``initiated_by == "bank"``), are left out.
    ``first_day`` is the log's first day (any row): the start of its history.
    """

    def __init__(self, txn: pd.DataFrame, index: pd.Index):
        self.n = len(index)
        c = codes_for(txn["customer_id"], index)
        day = txn["timestamp"].to_numpy().astype("datetime64[D]").view(np.int64)
        self.first_day = int(day.min()) if len(day) else 0
        self.last_day = int(day.max()) if len(day) else -1
        keep = c >= 0
        if "initiated_by" in txn.columns:
            keep &= (txn["initiated_by"] != "bank").to_numpy()
        key = (c[keep].astype(np.int64) << 32) | (day[keep] - DAY0)
        self.has_amount = "amount" in txn.columns and bool(txn["amount"].notna().any())
        self.has_channel = "channel" in txn.columns
        extra = {}
        if self.has_amount:
            extra["amount"] = np.abs(np.nan_to_num(txn["amount"].to_numpy(dtype=float)[keep]))
        if self.has_channel:
            extra["digital"] = txn["channel"].isin(DIGITAL_TXN_CHANNELS).to_numpy()[keep].astype(float)
        self._fold(key, extra)
        self._period_cum: dict[int, np.ndarray] = {}

    def _fold(self, key: np.ndarray, extra: dict[str, np.ndarray]) -> None:
        """Sort the rows' keys, keep one per (customer, day), and build the prefix sums."""
        if extra:
            order = np.argsort(key, kind="stable")
            key = key[order]
        else:
            key = np.sort(key)
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
        self.key = key[start]
        self.day = (self.key & 0xFFFFFFFF) + DAY0
        rows = np.diff(np.r_[start, len(key)]).astype(float)
        same = np.r_[False, (self.key[1:] >> 32) == (self.key[:-1] >> 32)]
        gap = np.where(same, np.diff(self.day, prepend=self.day[:1]), 0).astype(float)
        zero = np.zeros(1)
        self.cum = {"rows": np.concatenate([zero, np.cumsum(rows)]),
                    "gap": np.concatenate([zero, np.cumsum(gap)]),
                    "gap2": np.concatenate([zero, np.cumsum(gap * gap)])}
        if "amount" in extra:
            amt = np.add.reduceat(extra["amount"][order], start) if len(start) else np.zeros(0)
            self.amount = amt
            self.cum["amount"] = np.concatenate([zero, np.cumsum(amt)])
        if "digital" in extra:
            dig = (np.maximum.reduceat(extra["digital"][order], start) if len(start) else np.zeros(0))
            self.cum["digital"] = np.concatenate([zero, np.cumsum(dig)])

    @classmethod
    def from_store(cls, store: dict[str, np.ndarray], members: np.ndarray, n: int, first_day: int, last_day: int,
                   has_amount: bool, has_channel: bool) -> Occasions:
        """The occasions of the customers ``members`` (sorted positions) cut from every customer's
        (:meth:`reactivate.data.engine.DuckEngine.occasions`), answering exactly as those of the whole log.

        Each member's occasions are followed by a marker on no real day (never counted), whose running
        totals close the member's range: the totals of amounts are those of the whole log's running total
        (:data:`cum_amount`), so that a member's sums are the very same differences."""
        start = store["start"]
        lo, hi = start[members], start[members + 1]
        size = hi - lo + 1  # the member's occasions and its marker
        ends = np.cumsum(size)
        g = np.repeat(lo - (ends - size), size) + np.arange(int(ends[-1]) if len(ends) else 0)
        marker = np.zeros(len(g), dtype=bool)
        marker[ends - 1] = True
        at = np.minimum(g, max(len(store["day"]) - 1, 0))

        def values(name, dtype=float) -> np.ndarray:
            v = store[name][at].astype(dtype) if len(store[name]) else np.zeros(len(g), dtype)
            return np.where(marker, 0, v)

        out = object.__new__(cls)
        out.n, out.first_day, out.last_day = n, first_day, last_day
        out.has_amount, out.has_channel = has_amount, has_channel
        pos = np.repeat(members.astype(np.int64), size)
        out.day = np.where(marker, MARKER_DAY, values("day", np.int64))
        out.key = (pos << 32) | (out.day - DAY0)
        gap = np.where(~marker & np.r_[False, ~marker[:-1]], np.diff(out.day, prepend=out.day[:1]), 0).astype(float)
        zero = np.zeros(1)
        out.cum = {"rows": np.concatenate([zero, np.cumsum(values("rows"))]),
                   "gap": np.concatenate([zero, np.cumsum(gap)]),
                   "gap2": np.concatenate([zero, np.cumsum(gap * gap)])}
        if has_amount:
            out.amount = values("amount")
            total = store["cum_amount"][g]
            out.cum["amount"] = np.concatenate([total, total[-1:]])
        if has_channel:
            out.cum["digital"] = np.concatenate([zero, np.cumsum(values("digital"))])
        out._period_cum = {}
        return out

    def until(self, day: int, ids: pd.Index, index: pd.Index) -> Occasions:
        """The occasions on days ``<= day``, re-coded from this log's customer index ``ids`` to ``index``
        (both sorted the same way, as :func:`reactivate.dormancy.ids.customer_index` sorts them; customers
        not in ``index`` left out): what :class:`Occasions` of the log cut at ``day`` would be, without
        sorting it again (``reactivate backtest`` cuts one log at several days)."""
        remap = index.get_indexer(ids)
        cust = self.key >> 32
        kept = np.flatnonzero((self.day <= day) & (remap[cust] >= 0)) if len(self.key) else np.zeros(0, np.int64)
        out = object.__new__(Occasions)
        out.n = len(index)
        out.first_day, out.last_day = self.first_day, int(self.day[kept].max()) if len(kept) else -1
        out.has_amount, out.has_channel = self.has_amount, self.has_channel
        out.key = (remap[cust[kept]].astype(np.int64) << 32) | (self.key[kept] & 0xFFFFFFFF)
        out.day = self.day[kept]
        zero = np.zeros(1)
        # an occasion's values (rows, gap to the customer's previous one...) do not depend on later ones
        out.cum = {k: np.concatenate([zero, np.cumsum(np.diff(v)[kept])]) for k, v in self.cum.items()}
        if self.has_amount:
            out.amount = self.amount[kept]
        out._period_cum = {}
        return out

    # -- where a customer's occasions are in the sorted arrays

    def _at(self, pos, day) -> np.ndarray:
        """Index of the first occasion of customer ``pos`` on a day after ``day`` (so: those ``<= day`` end there)."""
        base = np.asarray(pos, dtype=np.int64) << 32
        return np.searchsorted(self.key, base | (np.asarray(day, dtype=np.int64) + 1 - DAY0))

    def span(self, pos, day) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Occasions on days ``<= day`` of customer ``pos[i]``: their count, the first and the last day
        (-1 when none)."""
        pos = np.asarray(pos, dtype=np.int64)
        lo = np.searchsorted(self.key, pos << 32)
        hi = self._at(pos, day)
        n = hi - lo
        if not len(self.key):
            return n, np.full(len(n), -1), np.full(len(n), -1)
        first = np.where(n > 0, self.day[np.minimum(lo, len(self.day) - 1)], -1)
        last = np.where(n > 0, self.day[np.maximum(hi - 1, 0)], -1)
        return n, first, last

    def came_back(self, pos, day, horizon_days: int) -> np.ndarray:
        """True where customer ``pos[i]`` has an occasion in ``(day[i], day[i] + horizon_days]``."""
        day = np.asarray(day, dtype=np.int64)
        return self._at(pos, day + horizon_days) > self._at(pos, day)

    def recency(self, pos, day) -> np.ndarray:
        """Days from customer ``pos[i]``'s last occasion on or before ``day[i]`` to it (NaN when none)."""
        n, _, last = self.span(pos, day)
        return np.where(n > 0, np.asarray(day, dtype=np.int64) - last, np.nan)

    def rfm(self, pos, day, unit_days: float = 7.0,
            period_days: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """BG/NBD inputs at the end of ``day[i]``: x (repeat occasions), t_x (last minus first occasion)
        and T (the day minus the first occasion), in ``unit_days``; and whether the customer had any
        occasion by then (x, t_x, T are 0 where not). With ``period_days`` > 1 the occasions are
        counted per period of that many days from the customer's first (distinct weeks, months...)."""
        n, first, last = self.span(pos, day)
        seen = n > 0
        if period_days > 1:
            lo = np.searchsorted(self.key, np.asarray(pos, dtype=np.int64) << 32)
            cum = self._periods(period_days)
            n = cum[lo + n] - cum[lo]
        x = np.maximum(n - 1, 0).astype(float)
        t_x = np.where(seen & (x > 0), (last - first) / unit_days, 0.0)
        T = np.where(seen, (np.asarray(day, dtype=np.int64) - first) / unit_days, 0.0)
        return x, t_x, T, seen

    def _periods(self, period_days: int) -> np.ndarray:
        """Prefix counts of the occasions that open a new period (``period_days`` long, counted from each
        customer's first occasion): the distinct periods of a range of occasions are a difference."""
        if period_days not in self._period_cum:
            cust = self.key >> 32
            start = np.r_[True, cust[1:] != cust[:-1]] if len(cust) else np.zeros(0, bool)
            first = np.maximum.accumulate(np.where(start, np.arange(len(cust)), 0)) if len(cust) else start
            idx = (self.day - self.day[first]) // period_days
            new = start | np.r_[True, idx[1:] != idx[:-1]] if len(cust) else start
            self._period_cum[period_days] = np.concatenate([[0], np.cumsum(new)])
        return self._period_cum[period_days]

    # -- the features

    def features(self, pos, day, horizon_days: int) -> pd.DataFrame:
        """:data:`LOG_FEATURES` of customer ``pos[i]`` from their occasions on days ``<= day[i]`` only, one
        row per pair (NaN where a feature needs more occasions than the customer had)."""
        pos = np.asarray(pos, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        base = pos << 32
        lo = np.searchsorted(self.key, base)
        hi = self._at(pos, day)
        n = (hi - lo).astype(float)
        d = self.day if len(self.day) else np.zeros(1, dtype=np.int64)
        seen = n > 0
        first = np.where(seen, d[np.minimum(lo, len(d) - 1)], day).astype(float)
        last = np.where(seen, d[np.maximum(hi - 1, 0)], day).astype(float)
        prev = np.where(n > 1, d[np.maximum(hi - 2, 0)], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = self._gap_features(lo, hi, n, day, first, last, prev)
            f["n_last_year"] = (hi - np.maximum(lo, self._at(pos, day - YEAR))).astype(float)
            recent = hi - np.maximum(lo, np.searchsorted(self.key, base | (last.astype(np.int64) - RECENT + 1 - DAY0)))
            span = last - first + 1
            f["trend"] = np.where(n > 1, recent / n - np.minimum(RECENT, span) / span, np.nan)
            f["same_time_last_year"] = np.where(
                day - YEAR >= self.first_day,
                (self._at(pos, day - YEAR + horizon_days) > self._at(pos, day - YEAR)).astype(float), np.nan)
            f["history_days"] = (day - self.first_day).astype(float)
            for name in ("amount", "digital"):
                if name in self.cum:
                    total = self.cum[name][hi] - self.cum[name][lo]
                    f["amount_mean" if name == "amount" else "digital_share"] = np.where(seen, total / n, np.nan)
            if self.has_amount:
                f["amount_last"] = np.where(seen, self.amount[np.maximum(hi - 1, 0)] if len(self.amount) else 0.0,
                                            np.nan)
        for col in ("recency_days", "n_occasions", "tenure_days", "occasions_per_year", "rows_per_occasion"):
            f[col] = np.where(seen | (col == "n_occasions"), f[col], np.nan)
        return pd.DataFrame(f)[[k for k in LOG_FEATURES if k in f]]

    def _gap_features(self, lo, hi, n, day, first, last, prev) -> dict[str, np.ndarray]:
        """Recency, counts, tenure and the gaps between occasions (mean, last, spread)."""
        rec = day - last
        tenure = day - first
        gap_mean = np.where(n > 1, (last - first) / (n - 1), np.nan)
        # gaps of occasions lo+1 .. hi-1 (the first occasion of a customer has none)
        k = np.maximum(n - 1, 0)
        g1 = self.cum["gap"][hi] - self.cum["gap"][np.minimum(lo + 1, hi)]
        g2 = self.cum["gap2"][hi] - self.cum["gap2"][np.minimum(lo + 1, hi)]
        var = np.maximum(g2 / k - (g1 / k) ** 2, 0.0)
        gap_last = last - prev
        return {
            "recency_days": rec,
            "n_occasions": n,
            "tenure_days": tenure,
            "occasions_per_year": n / np.maximum(tenure, 30.0) * 365.25,
            "rows_per_occasion": (self.cum["rows"][hi] - self.cum["rows"][lo]) / n,
            "gap_mean": gap_mean,
            "gap_last": gap_last,
            "gap_spread": np.where(n > 2, np.sqrt(var) / gap_mean, np.nan),
            "recency_over_gap": rec / gap_mean,
            "recency_over_last_gap": np.where(n > 1, rec / np.maximum(gap_last, 1.0), np.nan),
        }


class LogOccasions:
    """:class:`Occasions` of a log that stays with its engine: every customer's as of today, a sample's at any day.

    The models look back at earlier days for samples of customers only (backtest snapshots, the held-out
    slice, BG/NBD's fit); today they score everyone. So today's figures of every customer come from the
    engine's per-customer aggregates (:meth:`reactivate.data.engine.Engine.customers`, computed once with
    the dormancy features), and the occasions of a customer asked about at an earlier day are fetched from
    the engine the first time (:meth:`reactivate.data.engine.Engine.occasions`), for all the customers of
    that question at once. The answers are those of :class:`Occasions` of the whole log.
    """

    def __init__(self, engine, index: pd.Index, today: int, horizon_days: int, period_days: int):
        self.today, self.horizon, self.period = today, horizon_days, period_days
        self.n = len(index)
        check = engine.check()
        self.first_day = _day_of(check.first_second)
        self.last_day = _day_of(check.last_second)
        self.has_amount = "amount" in engine.columns and check.amount_given > 0
        self.has_channel = "channel" in engine.columns
        self.now = engine.customers(index, today, horizon_days, period_days)
        self.all = engine.occasions(index)
        self._member = np.zeros(self.n, dtype=bool)
        self.sample: Occasions | None = None

    def fetch(self, pos) -> None:
        """Add the customers ``pos`` to the sample (the occasions of a question's customers are cut at once)."""
        pos = np.asarray(pos, dtype=np.int64)
        new = pos[~self._member[pos]]
        if not len(new):
            return
        self._member[new] = True
        self.sample = Occasions.from_store(self.all, np.flatnonzero(self._member), self.n, self.first_day,
                                           self.last_day, self.has_amount, self.has_channel)

    def _of(self, pos, day) -> Occasions | None:
        """None when every pair is today (read from the aggregates), else the sample with ``pos`` fetched."""
        day = np.asarray(day)
        if day.size and (day == self.today).all():
            return None
        self.fetch(pos)
        return self.sample

    def span(self, pos, day):
        occ = self._of(pos, day)
        if occ is not None:
            return occ.span(pos, day)
        a, pos = self.now, np.asarray(pos, dtype=np.int64)
        return a["n_occ"][pos].astype(np.int64), a["occ_first"][pos].astype(np.int64), \
            a["occ_last"][pos].astype(np.int64)

    def came_back(self, pos, day, horizon_days: int) -> np.ndarray:
        occ = self._of(pos, day)
        return occ.came_back(pos, day, horizon_days) if occ is not None else np.zeros(len(pos), dtype=bool)

    def recency(self, pos, day) -> np.ndarray:
        n, _, last = self.span(pos, day)
        return np.where(n > 0, np.asarray(day, dtype=np.int64) - last, np.nan)

    def rfm(self, pos, day, unit_days: float = 7.0, period_days: int = 1):
        occ = self._of(pos, day)
        if occ is None and period_days not in (1, self.period):
            self.fetch(pos)
            occ = self.sample
        if occ is not None:
            return occ.rfm(pos, day, unit_days, period_days)
        n, first, last = self.span(pos, day)
        seen = n > 0
        if period_days > 1:
            n = self.now["periods"][np.asarray(pos, dtype=np.int64)].astype(np.int64)
        x = np.maximum(n - 1, 0).astype(float)
        t_x = np.where(seen & (x > 0), (last - first) / unit_days, 0.0)
        T = np.where(seen, (np.asarray(day, dtype=np.int64) - first) / unit_days, 0.0)
        return x, t_x, T, seen

    def features(self, pos, day, horizon_days: int) -> pd.DataFrame:
        occ = self._of(pos, day)
        if occ is not None or horizon_days != self.horizon:
            self.fetch(pos)
            return self.sample.features(pos, day, horizon_days)
        return self._features_today(np.asarray(pos, dtype=np.int64))

    def _features_today(self, pos: np.ndarray) -> pd.DataFrame:
        """:meth:`Occasions.features` of customers ``pos`` today, from the per-customer aggregates."""
        a = {k: v[pos] for k, v in self.now.items()}
        day = np.full(len(pos), self.today, dtype=np.int64)
        n = a["n_occ"].astype(float)
        seen = n > 0
        first = np.where(seen, a["occ_first"], day).astype(float)
        last = np.where(seen, a["occ_last"], day).astype(float)
        prev = np.where(n > 1, a["occ_prev"].astype(float), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            rec, tenure = day - last, day - first
            gap_mean = np.where(n > 1, (last - first) / (n - 1), np.nan)
            k = np.maximum(n - 1, 0)
            g1 = np.where(n > 1, last - first, 0.0)
            var = np.maximum(a["gap2"] / k - (g1 / k) ** 2, 0.0)
            gap_last = last - prev
            f = {"recency_days": rec, "n_occasions": n, "tenure_days": tenure,
                 "occasions_per_year": n / np.maximum(tenure, 30.0) * 365.25, "rows_per_occasion": a["rows"] / n,
                 "gap_mean": gap_mean, "gap_last": gap_last,
                 "gap_spread": np.where(n > 2, np.sqrt(var) / gap_mean, np.nan),
                 "recency_over_gap": rec / gap_mean,
                 "recency_over_last_gap": np.where(n > 1, rec / np.maximum(gap_last, 1.0), np.nan),
                 "n_last_year": a["n_last_year"].astype(float)}
            span = last - first + 1
            f["trend"] = np.where(n > 1, a["recent"] / n - np.minimum(RECENT, span) / span, np.nan)
            f["same_time_last_year"] = np.where(day - YEAR >= self.first_day,
                                                (a["last_year_window"] > 0).astype(float), np.nan)
            f["history_days"] = (day - self.first_day).astype(float)
            if self.has_amount:
                f["amount_mean"] = np.where(seen, a["amount"] / n, np.nan)
            if self.has_channel:
                f["digital_share"] = np.where(seen, a["digital"] / n, np.nan)
            if self.has_amount:
                f["amount_last"] = np.where(seen, a["amount_last"], np.nan)
        for col in ("recency_days", "tenure_days", "occasions_per_year", "rows_per_occasion"):
            f[col] = np.where(seen, f[col], np.nan)
        return pd.DataFrame(f)[[k for k in LOG_FEATURES if k in f]]


def _day_of(second: int | None) -> int:
    return int(second // 86400) if second is not None else 0
