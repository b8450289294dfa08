"""Capacity: how many touches each channel, and how many calls each RM, can make each week.

A channel's weekly capacity is scaled by the days it is open that week (its weekdays, public
holidays when ``closed_on_holidays``, ``campaign.blackout_dates``); each RM's weekly calls
(``rm.calls_per_week``, ``rm.overrides`` per RM) by the days the phone channel is open; customers
without an RM are called by the pool (:data:`POOL`, ``rm.pool_calls_per_week``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from reactivate.config.campaign import WEEKDAYS, CampaignSpec
from reactivate.planning.optimizer import counts2d

#: the RM of customers without one: the pool's calls
POOL = "POOL"
#: the channel whose touches are calls by the customer's RM (or the pool)
CALL_CHANNEL = "phone"


@dataclass(frozen=True)
class Capacity:
    """Weekly capacities of the channels and of the RMs, and each customer's RM."""

    #: the campaign's channels (rows of ``channel``)
    channels: list[str]
    #: (channels, weeks) int: touches per channel and week
    channel: np.ndarray
    #: (n,) int: each customer's row in ``rm`` (the pool's when they have no RM)
    rm_codes: np.ndarray
    #: RM ids in order, :data:`POOL` last
    rm_names: np.ndarray
    #: (RMs, weeks) int: calls per RM and week
    rm: np.ndarray
    #: the row of :data:`CALL_CHANNEL` in ``channels``, -1 when the campaign makes no calls
    phone: int

    @property
    def open_channels(self) -> np.ndarray:
        """(channels,) bool: the channel has capacity in some week."""
        return self.channel.sum(axis=1) > 0


@dataclass(frozen=True)
class CapacityUse:
    """Touches placed per (channel, week) and calls per (RM, week)."""

    channel: np.ndarray
    rm: np.ndarray

    @classmethod
    def none(cls, capacity: Capacity) -> CapacityUse:
        return cls(np.zeros(capacity.channel.shape, dtype=np.int64), np.zeros(capacity.rm.shape, dtype=np.int64))

    def plus(self, capacity: Capacity, rows: np.ndarray, week: np.ndarray, channel: np.ndarray) -> CapacityUse:
        """A new use with the touches of customers ``rows`` in ``week`` on ``channel`` added; calls
        (on ``capacity.phone``) also count for the customer's RM."""
        used_c, used_r = self.channel.copy(), self.rm.copy()
        used_c += counts2d(channel, week, used_c.shape)
        calls = channel == capacity.phone
        used_r += counts2d(capacity.rm_codes[rows[calls]], week[calls], used_r.shape)
        return CapacityUse(used_c, used_r)


def weekly_capacity(rm_id: pd.Series, spec: CampaignSpec, channels: list[str], weeks: list[dt.date]) -> Capacity:
    """Each channel's and each RM's capacity in each week of the campaign.

    Parameters
    ----------
    rm_id : each customer's RM (missing: the pool).
    spec : the campaign (``channels``, ``rm``, ``campaign.country`` and ``blackout_dates``).
    channels : the campaign's channels, in order.
    weeks : the campaign's week starts.

    Returns
    -------
    Capacity
    """
    n_channels, n_weeks = len(channels), len(weeks)
    open_days, usual_days = channel_open_days(spec, channels, weeks)
    channel_cap = np.array([np.floor(spec.channels[ch].weekly_capacity * open_days[j] / max(usual_days[j], 1))
                            for j, ch in enumerate(channels)], dtype=np.int64).reshape(n_channels, n_weeks)
    rm_codes, rm_names = rm_positions(rm_id)
    calls = np.array([spec.rm.overrides.get(str(r), spec.rm.calls_per_week) for r in rm_names[:-1]]
                     + [spec.rm.pool_calls_per_week], dtype=float)
    phone = channels.index(CALL_CHANNEL) if CALL_CHANNEL in channels else -1
    phone_share = open_days[phone] / max(usual_days[phone], 1) if phone >= 0 else np.ones(n_weeks)
    rm_cap = np.floor(calls[:, None] * phone_share[None, :]).astype(np.int64)
    return Capacity(channels, channel_cap, rm_codes, rm_names, rm_cap, phone)


def capacity_table(capacity: Capacity, use: CapacityUse, weeks: list[dt.date]) -> pd.DataFrame:
    """capacity.csv: capacity and use of every channel, and of every RM, each week.

    Every RM of the book is listed, the pool only when someone has no RM (and only when the
    campaign makes calls). Rows are by week; within a week channels, then RMs, then the pool.

    Returns
    -------
    DataFrame with week_start, resource ("channel", "rm" or "pool"), name, capacity, used.
    """
    n_weeks = len(weeks)
    week_arr = np.array([wk.isoformat() for wk in weeks], dtype=object)
    parts = [pd.DataFrame({"week_start": np.repeat(week_arr, len(capacity.channels)), "resource": "channel",
                           "name": np.tile(np.array(capacity.channels, dtype=object), n_weeks),
                           "capacity": capacity.channel.T.ravel(), "used": use.channel.T.ravel()})]
    if capacity.phone >= 0:
        n_rms = len(capacity.rm_names)
        listed = np.bincount(capacity.rm_codes, minlength=n_rms) > 0
        listed[:-1] = True  # every RM of the book; the pool only when someone has no RM
        rows = np.flatnonzero(listed)
        parts.append(pd.DataFrame({
            "week_start": np.repeat(week_arr, len(rows)),
            "resource": np.tile(np.where(rows == n_rms - 1, "pool", "rm").astype(object), n_weeks),
            "name": np.tile(capacity.rm_names[rows], n_weeks),
            "capacity": capacity.rm[rows].T.ravel(), "used": use.rm[rows].T.ravel()}))
    table = pd.concat(parts, ignore_index=True)
    table = table.iloc[np.lexsort((np.arange(len(table)), table["week_start"].to_numpy()))]
    return table.reset_index(drop=True)


def rm_positions(rm_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's RM as a position into the RM ids.

    Returns
    -------
    codes : (n,) int; customers without an RM point to :data:`POOL`
    names : the RM ids sorted, :data:`POOL` last
    """
    cat = rm_id if isinstance(rm_id.dtype, pd.CategoricalDtype) else rm_id.astype("category")
    cats = cat.cat.categories.astype(str).to_numpy()
    order = np.argsort(cats, kind="stable")
    remap = np.empty(len(cats), dtype=np.int64)
    remap[order] = np.arange(len(cats))
    codes = cat.cat.codes.to_numpy()
    names = np.array([*cats[order], POOL], dtype=object)
    if len(cats) == 0:
        return np.zeros(len(codes), dtype=np.int64), names
    return np.where(codes >= 0, remap[np.maximum(codes, 0)], len(cats)), names


@lru_cache(maxsize=16)
def _holidays(country: str, start: dt.date, end: dt.date) -> frozenset:
    import holidays

    try:
        cal = holidays.country_holidays(country, years=range(start.year, end.year + 1))
    except (NotImplementedError, KeyError):
        return frozenset()
    return frozenset(d for d in cal if start <= d < end)


def open_days_detail(spec: CampaignSpec, chans: list[str], weeks: list[dt.date]) -> np.ndarray:
    """(channels, weeks, 7) booleans: is the channel open on each day of each week."""
    hol = _holidays(spec.campaign.country, weeks[0], weeks[-1] + dt.timedelta(days=7)) if weeks else frozenset()
    black = set(spec.campaign.blackout_dates)
    out = np.zeros((len(chans), len(weeks), 7), dtype=bool)
    for j, ch in enumerate(chans):  # channels x weeks x 7 days: a few hundred cells
        cfg = spec.channels[ch]
        days = {WEEKDAYS.index(d_) for d_ in cfg.days}
        for w, wk in enumerate(weeks):
            for k in range(7):
                day = wk + dt.timedelta(days=k)
                out[j, w, k] = (day.weekday() in days and day not in black
                                and not (cfg.closed_on_holidays and day in hol))
    return out


def channel_open_days(spec: CampaignSpec, chans: list[str], weeks: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
    """Open days per channel and week (C, H), and each channel's usual open days per week."""
    detail = open_days_detail(spec, chans, weeks)
    usual = np.array([len(set(spec.channels[ch].days)) for ch in chans], dtype=float)
    return detail.sum(axis=2).astype(float).reshape(len(chans), len(weeks)), usual


def best_times(spec: CampaignSpec, chans: list[str], weeks: list[dt.date]) -> list[str]:
    """Per (channel, week), channel-major: the open days of the week and the channel's best hours."""
    detail = open_days_detail(spec, chans, weeks)
    out = []
    for j, ch in enumerate(chans):  # channels x weeks
        hours = spec.channels[ch].hours
        for w, wk in enumerate(weeks):
            days = [wk + dt.timedelta(days=k) for k in range(7) if detail[j, w, k]]
            if not days:
                span = "closed"
            elif len(days) == 1:
                span = days[0].strftime("%a %m-%d")
            else:
                span = f"{days[0].strftime('%a %m-%d')} to {days[-1].strftime('%a %m-%d')}"
            out.append(f"{span} {hours}".strip())
    return out
