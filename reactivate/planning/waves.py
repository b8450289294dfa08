"""Waves: the week from which each customer may be contacted, so that no segment goes at once.

A pilot samples every segment in the first week(s) (``waves.pilot_share`` of each, drawn from a
hash of customer id, campaign id and seed); main waves start after the pilot's response window and
release at most ``waves.max_release_share`` of a segment each, spread over ``wave_weeks``, higher
priority first. A dated event moves the release: a deadline forward (at once if need be), a
maturity or birthday to its own week once the pilot has been read. Customers in hardship are
released at once (wave 0), the pilot is wave 1, the main waves 2, 3...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.audience import Audience, values_in
from reactivate.planning.holdout import hash01
from reactivate.planning.optimizer import cumcount_sorted, stable_argsort

#: events that pull the release forward to their week (at once if need be)
DEADLINE_EVENTS = ("deadline",)
#: events released in their own week, but not before the main waves start
DATED_EVENTS = ("maturity", "birthday")
#: wave numbers: care (hardship) first, then the pilot, then the main waves from MAIN_WAVE on
CARE_WAVE, PILOT_WAVE, MAIN_WAVE = 0, 1, 2


@dataclass(frozen=True)
class Release:
    """Each customer's wave and the week they are released in."""

    #: (n,) bool: in the pilot
    pilot: np.ndarray
    #: (n,) int: the wave number
    wave: np.ndarray
    #: (n,) int: the first week (0-based) the customer may be contacted in
    week: np.ndarray


def rank_within(groups: np.ndarray, score: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rank (0-based) of ``score`` within each group, among rows where ``mask``; others get n."""
    n = len(groups)
    out = np.full(n, n, dtype=np.int64)
    sel = np.flatnonzero(mask)
    # two stable sorts (score, then group): ties keep the row order, as a lexsort would
    by_score = stable_argsort(score[sel])
    o = sel[by_score[stable_argsort(groups[sel][by_score])]]
    out[o] = cumcount_sorted(groups[o])
    return out


def release_weeks(scored: pd.DataFrame, audience: Audience, spec: CampaignSpec) -> Release:
    """The pilot, the waves and each customer's release week.

    Parameters
    ----------
    scored : ``priority_rank`` (lower is first), ``best_week`` (the event's week) and ``event``
        (deadline, maturity, birthday or none) per customer.
    audience : the pool, segments and hardship (:func:`~reactivate.planning.audience.select_audience`).
    spec : the campaign (``waves``, ``campaign.id`` and ``campaign.seed`` for the pilot draw).

    Returns
    -------
    Release
    """
    wv = spec.waves
    seg = audience.segment_codes
    sales = audience.pool & ~audience.hardship
    seg_size = np.bincount(seg[audience.pool], minlength=len(audience.segment_names))
    # the pilot draw has the seed; the holdout ignores it: it stays put
    draw = hash01(audience.ids, f"{spec.campaign.id}:{spec.campaign.seed}:pilot")
    n_pilot = np.ceil(seg_size * wv.pilot_share).astype(int)
    n_pilot[seg_size < max(wv.pilot_min_customers, 1)] = 0
    pilot = sales & (rank_within(seg, draw, sales) < n_pilot[seg])
    main = sales & ~pilot
    main_rank = rank_within(seg, scored["priority_rank"].to_numpy(dtype=float), main)
    per_wave = np.maximum(np.floor(seg_size * wv.max_release_share), 1).astype(int)
    main_wave = main_rank // per_wave[seg]
    # within a wave, customers are released evenly over its weeks, higher priority first
    offset = (main_rank % per_wave[seg]) * wv.wave_weeks // per_wave[seg]
    main_start = wv.pilot_weeks + int(np.ceil(wv.response_window_days / 7))
    release = np.where(pilot, 0, main_start + main_wave * wv.wave_weeks + offset)
    best = scored["best_week"].to_numpy(dtype=int)
    # dated events: deadlines at once if need be, maturities and birthdays once the pilot has been read
    release = np.where(main & values_in(scored["event"], DEADLINE_EVENTS), np.minimum(release, best), release)
    release = np.where(main & values_in(scored["event"], DATED_EVENTS), np.maximum(best, main_start), release)
    release = np.where(audience.hardship, 0, release)
    wave = np.where(audience.hardship, CARE_WAVE, np.where(pilot, PILOT_WAVE, MAIN_WAVE + main_wave))
    return Release(pilot, wave, release)
