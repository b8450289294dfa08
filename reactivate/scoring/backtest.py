"""The bank's own history as examples: who was dormant at earlier snapshots, and who came back.

A dormant customer has no recent clicks to learn from, but the transaction log
holds many earlier moments when customers were dormant, and shows whether each
came back. Snapshots are taken one horizon apart, from one horizon before the
as-of day back to the log's start (a snapshot needs ``dormant_days`` of log
before it, else nobody can be dormant there). At each, every customer dormant
then is an example: features from the occasions **on or before** the snapshot's
day only (:meth:`reactivate.scoring.occasions.Occasions.features`, the length of
the history among them), label = an occasion within the horizon after it.

:func:`estimate_decay` reads how fast the chance of coming back falls with
time dormant from the same examples, in bands set by the campaign's own
dormancy thresholds. :func:`baselines` are the textbook scores every source is
compared with (``reactivate backtest``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reactivate.scoring.bgnbd import BGNBD
from reactivate.scoring.occasions import Occasions


def snapshot_days(first_day: int, today: int, horizon_days: int, dormant_days: int, step_days: int | None = None,
                  most: int = 40) -> list[int]:
    """Snapshot days whose horizon has closed by ``today``, ``step_days`` apart (default: one horizon), back
    to the log's start; at most ``most`` (the latest). Oldest first.

    The latest is ``today - horizon_days`` (its outcome window ends on ``today``); each has at least
    ``dormant_days`` of log before it.
    """
    step = max(1, int(step_days or horizon_days))
    out, d = [], today - horizon_days
    while d - first_day >= dormant_days and len(out) < most:
        out.append(d)
        d -= step
    return out[::-1]


@dataclass
class Examples:
    """Stacked (customer, snapshot) examples: positions, snapshot days, recency then and the outcome."""

    pos: np.ndarray
    day: np.ndarray
    recency: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def take(self, rows: np.ndarray) -> Examples:
        return Examples(self.pos[rows], self.day[rows], self.recency[rows], self.y[rows])


def stacked_examples(occ: Occasions, recency_at, pools: list[np.ndarray], days: list[int], horizon_days: int,
                     dormant_days: int) -> Examples:
    """The customers of ``pools[k]`` (positions) dormant at snapshot ``days[k]``, and whether they came back.

    ``recency_at(pos, day)`` gives the days dormant as known at the end of ``day`` (NaN when unknown).
    """
    parts = []
    for pool, d in zip(pools, days, strict=True):  # one vectorised pass per snapshot
        day = np.full(len(pool), d, dtype=np.int64)
        rec = recency_at(pool, day)
        m = rec >= dormant_days
        parts.append((pool[m], day[m], rec[m], occ.came_back(pool[m], day[m], horizon_days)))
    if not parts:
        return Examples(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    return Examples(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def decay_bands(dormant_days: int, long_dormant_days: int) -> list[int]:
    """Band edges of days dormant from the campaign's thresholds: two bands up to long dormancy, then
    steps of the same width growing (for 365/730: 365, 547, 730, 1095, 1460, 2190, 3650)."""
    w = max(1, long_dormant_days - dormant_days)
    edges = [dormant_days, dormant_days + w // 2, long_dormant_days, long_dormant_days + w,
             long_dormant_days + 2 * w, long_dormant_days + 4 * w, long_dormant_days + 8 * w]
    return sorted(set(edges))


def estimate_decay(recency: np.ndarray, y: np.ndarray, dormant_days: int, long_dormant_days: int,
                   fallback_per_week: float) -> dict:
    """How fast the chance of coming back falls with time dormant, from stacked examples.

    The return rate per band of days dormant at the snapshot (bands from the campaign's thresholds,
    :func:`decay_bands`), and an exponential fitted to it by weighted least squares on the log rate:
    ``per_week`` is the share of the chance lost by waiting one more week. Falls back to
    ``fallback_per_week`` (the documented prior's) when the history cannot tell.
    """
    fallback = {"source": "prior", "per_week": fallback_per_week,
                "note": "implied by the documented prior (-0.9 on the log-odds per year dormant)"}
    if len(y) == 0:
        return fallback
    edges = decay_bands(dormant_days, long_dormant_days)
    band = np.searchsorted(edges, recency, side="right") - 1  # -1: below the first edge (not dormant)
    ok_rows = band >= 0
    k = len(edges)
    n = np.bincount(band[ok_rows], minlength=k)
    back = np.bincount(band[ok_rows], weights=y[ok_rows].astype(float), minlength=k)
    upper = [*edges[1:], None]
    mid = (np.array(edges) + np.array([*edges[1:], 2 * edges[-1]])) / 2  # the open last band: up to twice its start
    rows = [{"days_dormant": f"{a}-{b if b is not None else ''}", "examples": int(c), "rate": round(float(r), 4)}
            for a, b, c, r in zip(edges, upper, n, back / np.maximum(n, 1), strict=True) if c > 0]
    ok = (n >= 50) & (back > 0)
    if ok.sum() < 3:
        return {**fallback, "by_days_dormant": rows}
    slope, _ = np.polyfit(mid[ok], np.log(back[ok] / n[ok]), 1, w=np.sqrt(back[ok]))
    if slope >= 0:
        return {**fallback, "by_days_dormant": rows, "note": fallback["note"] + "; the history shows no decline"}
    return {"source": "backtest", "per_week": round(float(1.0 - np.exp(7.0 * slope)), 4),
            "half_life_days": round(float(np.log(2) / -slope)),
            "note": "exponential fit of the return rate by days dormant at the backtest snapshots",
            "by_days_dormant": rows}


def fit_bgnbd_at(occ: Occasions, day: int, pool: np.ndarray | None = None, period_days: int = 1) -> BGNBD:
    """BG/NBD fitted on the occasions (per ``period_days``) up to the end of ``day`` of the customers of
    ``pool`` (default: all) seen by then, in weeks. Raises InputDataError when it cannot be fitted."""
    pool = np.arange(occ.n) if pool is None else pool
    x, t_x, T, seen = occ.rfm(pool, np.full(len(pool), day), period_days=period_days)
    return BGNBD().fit(x[seen], t_x[seen], T[seen])


def baselines(occ: Occasions, pos: np.ndarray, day: int, horizon_days: int,
              bgnbd: BGNBD | None = None) -> dict[str, tuple[np.ndarray, bool]]:
    """The textbook scores of customers ``pos`` at the end of ``day``: name -> (score, is a probability).

    ``recency`` (minus the days since the last occasion), ``freq/recency`` (occasions / (1 + days since
    the last / 30)) and ``bgnbd`` (P(an occasion within the horizon) under BG/NBD fitted on every
    customer's occasions up to ``day``, exact; left out when it cannot be fitted).
    """
    d = np.full(len(pos), day, dtype=np.int64)
    n, _, last = occ.span(pos, d)
    rec = np.where(n > 0, day - last, np.nan).astype(float)
    out = {"recency": (-np.nan_to_num(rec, nan=1e6), False),
           "freq/recency": (n / (1.0 + np.nan_to_num(rec, nan=1e6) / 30.0), False)}
    if bgnbd is not None:
        x, t_x, T, seen = occ.rfm(pos, d)
        out["bgnbd"] = (np.where(seen, bgnbd.p_active(horizon_days / 7.0, x, t_x, T), 0.0), True)
    return out
