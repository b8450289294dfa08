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
        if "digital" in extra:
            dig = (np.maximum.reduceat(extra["digital"][order], start) if len(start) else np.zeros(0))
            self.cum["digital"] = np.concatenate([zero, np.cumsum(dig)])

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

    def _first(self, pos) -> np.ndarray:
        """Index of the first occasion of customer ``pos`` (where the next customer's start when none)."""
        return np.searchsorted(self.key, np.asarray(pos, dtype=np.int64) << 32)

    def _sum(self, name: str, lo, hi) -> np.ndarray:
        """Sum of ``name`` (rows, amount, digital) over the occasions ``lo:hi``: whole numbers from the prefix
        sums (exact); the amounts added one occasion after another in the customer's order, as the engines add a
        customer's total (a difference of the whole log's running total would lose a small customer's cents
        beside a large book's billions)."""
        if name == "amount":
            row, at = self._gather(lo, hi)
            return np.bincount(row, weights=self.amount[at], minlength=len(lo)).astype(np.float64, copy=False)
        return self.cum[name][hi] - self.cum[name][lo]

    def _gather(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """The question (row) and the index of every occasion in ``lo[i]:hi[i]``."""
        size = np.maximum(np.asarray(hi) - lo, 0)
        row = np.repeat(np.arange(len(size)), size)
        ends = np.cumsum(size)
        return row, np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(lo - (ends - size), size)

    def _gap_sums(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """Sums of the gaps to the previous occasion, and of their squares, over occasions ``lo+1:hi``."""
        at = np.minimum(lo + 1, hi)
        return self.cum["gap"][hi] - self.cum["gap"][at], self.cum["gap2"][hi] - self.cum["gap2"][at]

    def _period_count(self, lo, hi, period_days: int) -> np.ndarray:
        """Distinct periods of ``period_days`` (from the customer's first occasion) among occasions ``lo:hi``."""
        cum = self._periods(period_days)
        return cum[hi] - cum[lo]

    def span(self, pos, day) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Occasions on days ``<= day`` of customer ``pos[i]``: their count, the first and the last day
        (-1 when none)."""
        pos = np.asarray(pos, dtype=np.int64)
        lo = self._first(pos)
        hi = self._at(pos, day)
        n = hi - lo
        if not len(self.day):
            return n, np.full(len(n), -1), np.full(len(n), -1)
        first = np.where(n > 0, self.day[np.minimum(lo, len(self.day) - 1)], -1).astype(np.int64, copy=False)
        last = np.where(n > 0, self.day[np.maximum(hi - 1, 0)], -1).astype(np.int64, copy=False)
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
            lo = self._first(pos)
            n = self._period_count(lo, lo + n, period_days)
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
        lo = self._first(pos)
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
            recent = hi - np.maximum(lo, self._at(pos, last.astype(np.int64) - RECENT))
            span = last - first + 1
            f["trend"] = np.where(n > 1, recent / n - np.minimum(RECENT, span) / span, np.nan)
            f["same_time_last_year"] = np.where(
                day - YEAR >= self.first_day,
                (self._at(pos, day - YEAR + horizon_days) > self._at(pos, day - YEAR)).astype(float), np.nan)
            f["history_days"] = (day - self.first_day).astype(float)
            for name, given in (("amount", self.has_amount), ("digital", self.has_channel)):
                if given:
                    total = self._sum(name, lo, hi)
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
        g1, g2 = self._gap_sums(lo, hi)
        var = np.maximum(g2 / k - (g1 / k) ** 2, 0.0)
        gap_last = last - prev
        return {
            "recency_days": rec,
            "n_occasions": n,
            "tenure_days": tenure,
            "occasions_per_year": n / np.maximum(tenure, 30.0) * 365.25,
            "rows_per_occasion": self._sum("rows", lo, hi) / n,
            "gap_mean": gap_mean,
            "gap_last": gap_last,
            "gap_spread": np.where(n > 2, np.sqrt(var) / gap_mean, np.nan),
            "recency_over_gap": rec / gap_mean,
            "recency_over_last_gap": np.where(n > 1, rec / np.maximum(gap_last, 1.0), np.nan),
        }


class StoreOccasions(Occasions):
    """:class:`Occasions` read in place from every customer's occasions as the engine keeps them
    (:meth:`reactivate.data.engine.DuckEngine.occasions`: sorted by customer and day, customer ``i``'s at
    ``start[i]:start[i + 1]``): nothing is copied, cut or sorted. A customer's occasions up to a day are
    found by a binary search within their own range, for every question at once; sums over them are
    gathered (``rows``, ``digital``, the squared gaps: whole numbers, so any order adds them exactly; the
    amounts one occasion after another in the customer's order, as :class:`Occasions` adds them). The
    answers are those of :class:`Occasions` of the whole log."""

    def __init__(self, store: dict[str, np.ndarray], n: int, first_day: int, last_day: int, has_amount: bool,
                 has_channel: bool):
        self.n, self.first_day, self.last_day = n, first_day, last_day
        self.has_amount, self.has_channel = has_amount, has_channel
        self.start, self.day, self.store = store["start"], store["day"], store
        self.amount = store["amount"]

    def _first(self, pos) -> np.ndarray:
        return self.start[np.asarray(pos, dtype=np.int64)]

    def _at(self, pos, day) -> np.ndarray:
        pos = np.asarray(pos, dtype=np.int64)
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), pos.shape)
        a, b = self.start[pos], self.start[pos + 1]  # the answer lies in [a, b]
        todo = np.flatnonzero(a < b)
        while len(todo):  # a binary search per question, all at once: log2 of the longest history steps
            aa, bb = a[todo], b[todo]
            mid = (aa + bb) >> 1
            after = self.day[mid] > day[todo]
            aa, bb = np.where(after, aa, mid + 1), np.where(after, mid, bb)
            a[todo], b[todo] = aa, bb
            todo = todo[aa < bb]
        return a

    def _sum(self, name: str, lo, hi) -> np.ndarray:
        row, at = self._gather(lo, hi)
        values = self.amount if name == "amount" else self.store[name]
        return np.bincount(row, weights=values[at].astype(float), minlength=len(lo)).astype(np.float64, copy=False)

    def _gap_sums(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.day):
            return np.zeros(len(lo)), np.zeros(len(lo))
        # the gaps of a range add up to its last day minus its first
        last, first = self.day[np.maximum(hi - 1, 0)].astype(np.int64), self.day[np.minimum(lo, len(self.day) - 1)]
        g1 = np.where(hi - lo > 1, last - first, 0).astype(float)
        row, at = self._gather(np.minimum(lo + 1, hi), hi)
        gap = (self.day[at].astype(np.int64) - self.day[at - 1]).astype(float)
        return g1, np.bincount(row, weights=gap * gap, minlength=len(lo))

    def _period_count(self, lo, hi, period_days: int) -> np.ndarray:
        row, at = self._gather(lo, hi)
        first = lo[row]
        idx = (self.day[at].astype(np.int64) - self.day[first]) // period_days
        new = (at == first) | (idx != (self.day[np.maximum(at - 1, 0)].astype(np.int64) - self.day[first])
                               // period_days)
        return np.bincount(row[new], minlength=len(lo))


class LogOccasions:
    """:class:`Occasions` of a log that stays with its engine: today's from the aggregates, any day's from the store.

    The models look back at earlier days for samples of customers only (backtest snapshots, the held-out
    slice, BG/NBD's fit); today they score everyone. So today's figures of every customer come from the
    engine's per-customer aggregates (:meth:`reactivate.data.engine.Engine.customers`, computed once with
    the dormancy features), and those at an earlier day are read in place from the customers' occasions
    as the engine keeps them (:meth:`reactivate.data.engine.Engine.occasions`; :class:`StoreOccasions`):
    everyone's, or, with ``among`` (sorted positions), those customers' only, the samples being drawn from
    them (:meth:`reactivate.scoring.sources.Context.draw`); an earlier day of anyone else is an error.
    The answers are those of :class:`Occasions` of the whole log.
    """

    def __init__(self, engine, index: pd.Index, today: int, horizon_days: int, period_days: int,
                 among: np.ndarray | None = None):
        self.today, self.horizon, self.period = today, horizon_days, period_days
        self.n = len(index)
        check = engine.check()
        self.first_day = _day_of(check.first_second)
        self.last_day = _day_of(check.last_second)
        self.has_amount = "amount" in engine.columns and check.amount_given > 0
        self.has_channel = "channel" in engine.columns
        self.now = engine.customers(index, today, horizon_days, period_days)
        self.among = None if among is None else np.asarray(among, dtype=np.int64)
        store = engine.occasions(index) if among is None else engine.occasions(index, self.among)
        self.all = StoreOccasions(store, self.n if among is None else len(self.among), self.first_day, self.last_day,
                                  self.has_amount, self.has_channel)

    def _of(self, pos, day) -> tuple[Occasions | None, np.ndarray]:
        """(None, pos) when every pair is today (read from the aggregates), else the store and the
        customers' places in it."""
        day = np.asarray(day)
        if day.size and (day == self.today).all():
            return None, pos
        return self.all, self.local(pos)

    def local(self, pos) -> np.ndarray:
        """The places in the store of the customers at ``pos`` (their positions when it holds everyone's)."""
        if self.among is None:
            return pos
        pos = np.asarray(pos, dtype=np.int64)
        at = np.searchsorted(self.among, pos)
        if len(pos) and ((at >= len(self.among)).any() or (self.among[np.minimum(at, len(self.among) - 1)] != pos).any()):
            raise ValueError("an earlier day's occasions were asked of customers outside the sample whose "
                             "occasions were fetched (draw the samples with Context.draw)")
        return at

    def span(self, pos, day):
        occ, at = self._of(pos, day)
        if occ is not None:
            return occ.span(at, day)
        a, pos = self.now, np.asarray(pos, dtype=np.int64)
        return a["n_occ"][pos].astype(np.int64), a["occ_first"][pos].astype(np.int64), \
            a["occ_last"][pos].astype(np.int64)

    def came_back(self, pos, day, horizon_days: int) -> np.ndarray:
        occ, at = self._of(pos, day)
        return occ.came_back(at, day, horizon_days) if occ is not None else np.zeros(len(pos), dtype=bool)

    def recency(self, pos, day) -> np.ndarray:
        n, _, last = self.span(pos, day)
        return np.where(n > 0, np.asarray(day, dtype=np.int64) - last, np.nan)

    def rfm(self, pos, day, unit_days: float = 7.0, period_days: int = 1):
        occ, at = self._of(pos, day)
        if occ is None and period_days not in (1, self.period):
            occ, at = self.all, self.local(pos)
        if occ is not None:
            return occ.rfm(at, day, unit_days, period_days)
        n, first, last = self.span(pos, day)
        seen = n > 0
        if period_days > 1:
            n = self.now["periods"][np.asarray(pos, dtype=np.int64)].astype(np.int64)
        x = np.maximum(n - 1, 0).astype(float)
        t_x = np.where(seen & (x > 0), (last - first) / unit_days, 0.0)
        T = np.where(seen, (np.asarray(day, dtype=np.int64) - first) / unit_days, 0.0)
        return x, t_x, T, seen

    def features(self, pos, day, horizon_days: int) -> pd.DataFrame:
        occ, at = self._of(pos, day)
        if occ is None and horizon_days != self.horizon:
            occ, at = self.all, self.local(pos)
        if occ is not None:
            return occ.features(at, day, horizon_days)
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
