"""The contact policy: the earliest week each customer may be contacted, from their contact history.

The last contact plus the minimum gap (or ``skip_contacted_within_days``, whichever is longer); a
customer at the 30-day cap waits until 30 days after their last contact; a customer whose touches
in this campaign (``touches_campaign``, on a rerun mid-campaign) reached ``policy.max_touches`` is
not contacted again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec


@dataclass(frozen=True)
class ContactWindow:
    """When the contact policy lets each customer be contacted."""

    #: (n,) int: the first week allowed (0-based; the number of weeks: none)
    earliest_week: np.ndarray
    #: (n,) float: touches this campaign already made
    touches_used: np.ndarray


def touches_used(scored: pd.DataFrame) -> np.ndarray:
    """(n,) float: touches this campaign already made (``touches_campaign``; 0 without the column)."""
    if "touches_campaign" in scored.columns:
        return scored["touches_campaign"].to_numpy(dtype=float)
    return np.zeros(len(scored))


def contact_window(scored: pd.DataFrame, spec: CampaignSpec, weeks: list[dt.date]) -> ContactWindow:
    """The earliest week each customer may be contacted under ``spec.policy``.

    Parameters
    ----------
    scored : ``last_contact`` (datetime, NaT: never), ``contacts_30d`` and optionally
        ``touches_campaign`` per customer.
    spec : the campaign (``policy``).
    weeks : the campaign's week starts.

    Returns
    -------
    ContactWindow
    """
    pol = spec.policy
    last = scored["last_contact"]
    earliest = last + pd.Timedelta(days=max(pol.min_gap_days, pol.skip_contacted_within_days))
    capped = scored["contacts_30d"].to_numpy(dtype=float) >= pol.max_touches_30d
    earliest = earliest.where(~capped, np.maximum(earliest, last + pd.Timedelta(days=30)))
    weeks_ahead = np.ceil((earliest - pd.Timestamp(weeks[0])).dt.days.to_numpy(dtype=float) / 7.0)
    earliest_week = np.clip(np.nan_to_num(weeks_ahead, nan=0.0), 0, None).astype(int)
    used = touches_used(scored)
    return ContactWindow(np.where(used >= pol.max_touches, len(weeks), earliest_week), used)
