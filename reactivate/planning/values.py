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
    table = fit.reindex(index=audience.segment_names, columns=chans).fillna(0.0).to_numpy()  # segments x channels
    codes = audience.segment_codes
    cost = np.array([spec.channels[ch].cost for ch in chans])
    expected = scored["p_reactivate"].to_numpy(dtype=float) * scored["value"].to_numpy(dtype=float)
    # (n, channels) arrays are the plan's largest: each is made once and then worked on in place, a
    # channel at a time (no customers x channels copy of the segments' fit)
    net = np.empty((len(codes), len(chans)), dtype=np.result_type(expected, table))
    for j in range(len(chans)):  # a few channels
        net[:, j] = expected * table[codes, j]
    net -= cost[None, :]
    reachable = audience.eligible & capacity.open_channels[None, :]
    care = np.flatnonzero(audience.hardship)
    sales = reachable.copy()
    sales[care] = False
    # care first: a care contact is worth more than any sale, more on the channel that fits better
    care_value = (float(np.max(net, where=sales, initial=-np.inf)) if sales.any() else 0.0) + 1.0
    util = net.copy()
    util[care] = care_value + table[codes[care]]
    np.copyto(util, -np.inf, where=~reachable)
    return ChannelValues(net, util, reachable)
