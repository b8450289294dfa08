"""Journeys: a sequence of touches per customer (e.g. WeChat, then an RM call a week later).

A customer follows the first journey (``spec.journeys``, in order) whose segments and themes match
theirs. A step is taken only on a channel the customer may be reached on; the first step they can
take is the touch the optimizer places (:func:`first_steps_only`), the later ones go into the
capacity left (:func:`schedule_later_steps`), each within the contact policy (touches per
campaign, per 30 days, minimum gap). A step that cannot go ahead ends the journey.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec, ContactPolicy
from reactivate.planning.allocation import Touches
from reactivate.planning.capacity import Capacity, CapacityUse
from reactivate.planning.optimizer import cumcount, lexsort_ints

#: why a later step was not scheduled
AFTER_HORIZON = "after the horizon"
TOUCHES_PER_CAMPAIGN = "contact policy: touches per campaign"
TOUCHES_PER_30_DAYS = "contact policy: touches per 30 days"
NO_CAPACITY = "no capacity left"
#: week starts within the last 30 days of a week (four weeks back: 28 days)
WEEKS_IN_30_DAYS = 4


@dataclass(frozen=True)
class Journeys:
    """Each customer's journey and the journeys' steps (one spare row: no journey)."""

    #: the journeys' names, in the spec's order
    names: list[str]
    #: the most steps of any journey (0: no journeys)
    n_steps: int
    #: (n,) int: each customer's journey (-1: none)
    journey: np.ndarray
    #: (n,) int: the first step the customer can take (0 without a journey)
    first_step: np.ndarray
    #: (n,) int: that step's channel (-1 without a journey)
    first_channel: np.ndarray
    #: (n, steps) bool: the customer may be reached on the step's channel
    steps_ok: np.ndarray
    #: (journeys + 1, steps): each step's channel (-1: not a channel of the campaign), gap in days, condition
    step_channel: np.ndarray
    gap: np.ndarray
    condition: np.ndarray

    @property
    def in_journey(self) -> np.ndarray:
        return self.journey >= 0


def _step_tables(spec: CampaignSpec, chans: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(journeys + 1, steps) channel positions, gaps and conditions of every journey's steps."""
    names = list(spec.journeys)
    width = max(max((len(j.steps) for j in spec.journeys.values()), default=0), 1)
    # one spare row (no journey) keeps the lookups valid when there are none
    step_ch = np.full((len(names) + 1, width), -1, dtype=np.int64)
    gap = np.zeros((len(names) + 1, width), dtype=np.int64)
    condition = np.full((len(names) + 1, width), "", dtype=object)
    for a, name in enumerate(names):  # journeys x steps: a few cells
        for k, st in enumerate(spec.journeys[name].steps):
            step_ch[a, k] = chans.index(st.channel) if st.channel in chans else -1
            gap[a, k] = st.gap_days
            condition[a, k] = st.condition
    return step_ch, gap, condition


def assign_journeys(spec: CampaignSpec, chans: list[str], segment: np.ndarray, theme: np.ndarray,
                    reachable: np.ndarray) -> Journeys:
    """Each customer's journey: the first whose segments and themes match, if they can take a step of it.

    Parameters
    ----------
    spec : the campaign (``journeys``).
    chans : the campaign's channels (columns of ``reachable``).
    segment, theme : (n,) each customer's segment id and theme.
    reachable : (n, channels) bool, the customer may be contacted on the channel and it has capacity.

    Returns
    -------
    Journeys
    """
    n = len(segment)
    names = list(spec.journeys)
    n_steps = max((len(j.steps) for j in spec.journeys.values()), default=0)
    step_ch, gap, condition = _step_tables(spec, chans)
    journey = np.full(n, -1, dtype=np.int64)
    for a, name in reversed(list(enumerate(names))):  # the first matching journey wins
        j = spec.journeys[name]
        match = np.ones(n, dtype=bool)
        if j.segments:
            match &= np.isin(segment.astype(str), list(j.segments))
        if j.themes:
            match &= np.isin(theme.astype(str), list(j.themes))
        journey[match] = a
    steps_ok = np.zeros((n, max(n_steps, 1)), dtype=bool)
    on = journey >= 0
    if on.any():
        sc = step_ch[journey[on]]
        rows = np.flatnonzero(on)
        steps_ok[rows] = (sc >= 0) & np.take_along_axis(reachable[rows], np.maximum(sc, 0), axis=1)
    has = steps_ok.any(axis=1)
    journey = np.where(has, journey, -1)
    first = np.where(has, np.argmax(steps_ok, axis=1), 0)
    first_ch = np.where(has, step_ch[journey.clip(0), first], -1)
    return Journeys(names, n_steps, journey, first, first_ch, steps_ok, step_ch, gap, condition)


def first_steps_only(util: np.ndarray, journeys: Journeys) -> np.ndarray:
    """Customers in a journey may be placed only on their first step's channel.

    Parameters
    ----------
    util : (n, channels) the value of a first touch on each channel.
    journeys : from :func:`assign_journeys`.

    Returns
    -------
    (n, channels): ``util`` with the other channels ``-inf`` for customers in a journey.
    """
    on = journeys.in_journey
    if not on.any():
        return util
    keep = np.zeros(util.shape, dtype=bool)
    keep[np.flatnonzero(on), journeys.first_channel[on]] = True
    return np.where(on[:, None] & ~keep, -np.inf, util)


def schedule_later_steps(journeys: Journeys, first_week: np.ndarray, touches_before: np.ndarray,
                         contacts_30d: np.ndarray, capacity: Capacity, use: CapacityUse, priority: np.ndarray,
                         weeks: list[dt.date], as_of: dt.date, policy: ContactPolicy
                         ) -> tuple[list[Touches], CapacityUse, dict]:
    """Place the later steps of each journey in the capacity left, step by step.

    Parameters
    ----------
    journeys : from :func:`assign_journeys`.
    first_week : (n,) int, the week of each customer's first touch (-1: not placed).
    touches_before : (n,) touches this campaign made before this plan; contacts_30d : (n,) in the 30 days to as-of.
    capacity, use : the weekly capacities and what the first touches used of them.
    priority : (n,) lower first, among the steps of one week and resource.
    weeks, as_of : the campaign's week starts and the as-of date.
    policy : the contact policy (touches per campaign, per 30 days, minimum gap).

    Returns
    -------
    steps : one :class:`~reactivate.planning.allocation.Touches` per later step (customers' rows)
    use : the capacity used, the later steps included
    summary : {"scheduled": count, "not_scheduled": {reason: count}}
    """
    n, n_weeks = len(first_week), len(weeks)
    journey = journeys.journey.clip(0)
    alive = (first_week >= 0) & journeys.in_journey  # the journey goes on
    last_week = np.where(alive, first_week, -1)
    touches = alive.astype(np.int64) + touches_before.astype(np.int64)
    placed = np.full((n, journeys.n_steps), -99, dtype=np.int64)  # the week of each step taken
    placed[np.flatnonzero(alive), journeys.first_step[alive]] = first_week[alive]
    days_after = np.array([(wk - as_of).days for wk in weeks])
    pending_gap = np.zeros(n, dtype=np.int64)
    steps, not_scheduled = [], {}
    for k in range(1, journeys.n_steps):  # a few steps, each vectorized over customers
        later = alive & (k > journeys.first_step)
        pending_gap = np.where(later, pending_gap + journeys.gap[journey, k], pending_gap)
        cand = later & journeys.steps_ok[:, k]
        if not cand.any():
            continue
        week = last_week + np.ceil(np.maximum(pending_gap, policy.min_gap_days) / 7).astype(np.int64)
        reason = _blocked_by_policy(cand, week, touches, placed, contacts_30d, days_after, policy, n_weeks)
        tried = np.flatnonzero(cand & (reason == ""))
        tried = tried[lexsort_ints((priority[tried],))]  # ties by row: tried is ascending
        channel, tried_week = journeys.step_channel[journey, k][tried], week[tried]
        fits = _fits_capacity(tried, tried_week, channel, capacity, use)
        step = Touches(tried[fits], tried_week[fits], channel[fits], np.full(int(fits.sum()), k))
        use = use.plus(capacity, step.rows, step.week, step.channel)
        reason[tried[~fits]] = NO_CAPACITY
        for text, count in zip(*np.unique(reason[cand & (reason != "")].astype(str), return_counts=True),
                               strict=True):
            not_scheduled[text] = not_scheduled.get(text, 0) + int(count)
        steps.append(step)
        placed[step.rows, k] = step.week
        last_week[step.rows] = step.week
        touches[step.rows] += 1
        pending_gap[step.rows] = 0
        # a step that could not go ahead ends the journey: the sequence keeps its order
        went = np.zeros(n, dtype=bool)
        went[step.rows] = True
        alive &= ~(cand & ~went)
    summary = {"scheduled": int(sum(len(s.rows) for s in steps)), "not_scheduled": dict(sorted(not_scheduled.items()))}
    return steps, use, summary


def _blocked_by_policy(cand, week, touches, placed, contacts_30d, days_after, policy: ContactPolicy,
                       n_weeks: int) -> np.ndarray:
    """(n,) object: why each candidate's step may not be taken in ``week`` ("" when it may)."""
    reason = np.full(len(week), "", dtype=object)
    reason[cand & (week >= n_weeks)] = AFTER_HORIZON
    reason[cand & (reason == "") & (touches >= policy.max_touches)] = TOUCHES_PER_CAMPAIGN
    wc = np.clip(week, 0, n_weeks - 1)
    # touches in the 30 days before the step: this plan's (four week starts back) and the history's
    in30 = ((placed >= (wc - WEEKS_IN_30_DAYS)[:, None]).sum(axis=1)
            + np.where(days_after[wc] < 30, contacts_30d, 0))
    reason[cand & (reason == "") & (in30 + 1 > policy.max_touches_30d)] = TOUCHES_PER_30_DAYS
    return reason


def _fits_capacity(rows: np.ndarray, week: np.ndarray, channel: np.ndarray, capacity: Capacity,
                   use: CapacityUse) -> np.ndarray:
    """Which touches (in order of preference) fit in the capacity left: calls within their RM's, then
    every touch within its channel's, first come first served."""
    n_weeks = capacity.channel.shape[1]
    fits = np.ones(len(rows), dtype=bool)
    is_call = channel == capacity.phone
    if is_call.any():
        key = capacity.rm_codes[rows[is_call]] * n_weeks + week[is_call]
        fits[is_call] = cumcount(key) < (capacity.rm - use.rm).ravel()[key]
    rank = np.full(len(rows), np.iinfo(np.int64).max)
    rank[fits] = cumcount((channel * n_weeks + week)[fits])
    return fits & (rank < (capacity.channel - use.channel).ravel()[channel * n_weeks + week])


def journey_columns(journeys: Journeys, touches: Touches) -> dict[str, object]:
    """The plan's journey columns of ``touches``.

    Returns
    -------
    dict with ``step`` (1-based), ``journey`` (its name, "" for none) and ``condition`` (of a later
    step, "" for a first one), in the touches' order.
    """
    rows = touches.rows
    journey = np.where(journeys.in_journey[rows], journeys.journey[rows], len(journeys.names))
    cond_cats, cond_code = np.unique(journeys.condition.astype(str), return_inverse=True)
    cond_code = cond_code.reshape(journeys.condition.shape)
    later = touches.step > journeys.first_step[rows]
    cond = np.where(later, cond_code[journeys.journey[rows].clip(0), touches.step.clip(0)],
                    int(np.searchsorted(cond_cats, "")))
    return {"step": touches.step + 1,
            "journey": pd.Categorical.from_codes(journey, categories=[*journeys.names, ""]),
            "condition": pd.Categorical.from_codes(cond, categories=cond_cats)}
