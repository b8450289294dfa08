"""What a touch on each channel is worth: the expected value on it minus its cost, care first.

The expected value of a customer on a channel is ``p_reactivate x value x fit``, ``fit`` being the
segment's channel fit. Customers in hardship are worth more than any sale (more on the channel that
fits them better), so the optimizer places them first. Channels a customer may not be reached on,
and channels without capacity, are worth ``-inf``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.audience import Audience
from reactivate.planning.capacity import Capacity


@dataclass(frozen=True)
class ChannelValues:
    """The value of each customer on each channel (n, channels)."""

    #: expected value minus cost (what a touch earns; care customers at their sales value)
    net: np.ndarray
    #: what the optimizer maximizes: ``net``, care above any sale, ``-inf`` where not ``reachable``
    util: np.ndarray
    #: the customer may be contacted on the channel and the channel has capacity
    reachable: np.ndarray

    @property
    def best(self) -> np.ndarray:
        """(n,) the best ``util`` of each customer (``-inf``: no channel)."""
        if self.util.shape[1] == 0:
            return np.full(len(self.util), -np.inf)
        return self.util.max(axis=1)


def channel_values(scored: pd.DataFrame, fit: pd.DataFrame, audience: Audience, capacity: Capacity,
                   spec: CampaignSpec) -> ChannelValues:
    """Each customer's value on each channel.

    Parameters
    ----------
    scored : ``p_reactivate`` and ``value`` per customer.
    fit : channel fit per segment (segment ids x channels; missing: 0).
    audience : channels, eligibility, segments and hardship (:func:`~reactivate.planning.audience.select_audience`).
    capacity : which channels have capacity.
    spec : the campaign (each channel's ``cost``).

    Returns
    -------
    ChannelValues
    """
    chans = audience.channels
    seg_fit = fit.reindex(index=audience.segment_names, columns=chans).fillna(0.0).to_numpy()[audience.segment_codes]
    cost = np.array([spec.channels[ch].cost for ch in chans])
    expected = scored["p_reactivate"].to_numpy(dtype=float) * scored["value"].to_numpy(dtype=float)
    net = expected[:, None] * seg_fit - cost[None, :]
    reachable = audience.eligible & capacity.open_channels[None, :]
    care = audience.hardship[:, None]
    sales = net[reachable & ~care]
    # care first: a care contact is worth more than any sale, more on the channel that fits better
    care_value = (float(sales.max()) if sales.size else 0.0) + 1.0
    util = np.where(care, care_value + seg_fit, net)
    return ChannelValues(net, np.where(reachable, util, -np.inf), reachable)
