"""The plan's first step: who is suppressed, who is held out, and who is left to plan (the pool).

:func:`select_audience` applies :mod:`~reactivate.planning.suppression` and
:mod:`~reactivate.planning.holdout` to the scored customers; the later steps read its
:class:`Audience` (channels, eligibility, segments, hardship, pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.holdout import holdout_mask
from reactivate.planning.suppression import channel_eligibility, suppression_reasons


@dataclass(frozen=True)
class Audience:
    """Who of the scored customers the plan may contact, and the per-customer facts every step needs."""

    #: the customer ids, in the scored table's order
    ids: pd.Index
    #: the campaign's channels (the columns of ``eligible``)
    channels: list[str]
    #: (n, channels) bool: reachable, consented, not opted out (human channels only in hardship)
    eligible: np.ndarray
    #: (n,) object: why the customer is suppressed, "" when they are not
    suppression: np.ndarray
    #: (n,) bool: in the campaign's holdout
    holdout: np.ndarray
    #: (n,) bool: in hardship (care first)
    hardship: np.ndarray
    #: (n,) int: each customer's position in ``segment_names``
    segment_codes: np.ndarray
    #: the segment ids
    segment_names: np.ndarray

    @cached_property
    def suppressed(self) -> np.ndarray:
        return self.suppression != ""

    @property
    def pool(self) -> np.ndarray:
        """Customers left to plan: neither suppressed nor held out."""
        return ~self.suppressed & ~self.holdout

    @property
    def segment_ids(self) -> np.ndarray:
        """(n,) object: each customer's segment id."""
        if len(self.segment_names) == 0:
            return np.zeros(len(self.ids), dtype=object)
        return self.segment_names[self.segment_codes]

    def segments_of(self, mask: np.ndarray) -> pd.Categorical:
        """The segment ids of the customers in ``mask``, as a categorical of every segment."""
        return pd.Categorical.from_codes(self.segment_codes[mask], categories=self.segment_names)


def segment_codes(segment_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a segment column and the segment ids they point to (its categories)."""
    cat = segment_id.astype("category").array
    return np.asarray(cat.codes, dtype=np.int64), np.asarray(cat.categories, dtype=object)


def values_in(column: pd.Series, values) -> np.ndarray:
    """(n,) bool: which rows of a text column hold one of ``values`` (missing: False).

    A categorical column is looked up through its few categories, without a text array per customer.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        cat = column.array
        hit = np.append(np.isin(np.asarray(cat.categories, dtype=object), list(values)), False)
        return hit[np.asarray(cat.codes, dtype=np.int64)]  # code -1 (missing) takes the spare False
    return np.isin(column.to_numpy(dtype=object), list(values))


def select_audience(scored: pd.DataFrame, spec: CampaignSpec) -> Audience:
    """Suppression (absolute) and the holdout, decided for every scored customer.

    Parameters
    ----------
    scored : indexed by customer_id, with ``segment_id`` and the columns of
        :func:`~reactivate.planning.suppression.channel_eligibility` and
        :func:`~reactivate.planning.suppression.suppression_reasons`.
    spec : the campaign.

    Returns
    -------
    Audience
    """
    channels, eligible = channel_eligibility(scored, spec)
    suppression = suppression_reasons(scored, eligible, spec)
    hardship = scored["hardship"].to_numpy(dtype=bool)
    codes, names = segment_codes(scored["segment_id"])
    holdout = holdout_mask(scored.index, codes, names, suppression != "", hardship, spec)
    return Audience(scored.index, channels, eligible, suppression, holdout, hardship, codes, names)
