"""Each customer's best channel: the best fit of their segment among the channels open to them.

A channel is open to a customer when the campaign uses it (capacity in some week), they are
reachable on it, consented to it and have not opted out of it; customers in hardship only on human
channels (the same rules as :mod:`reactivate.planning.suppression`). A customer with no open channel
has no best channel (``""``): the scores never claim a channel nobody may use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec


def open_channels(customers: pd.DataFrame, spec: CampaignSpec, channels: list[str]) -> np.ndarray:
    """(n, channels) bool: the campaign may reach each customer on each of ``channels``.

    Parameters
    ----------
    customers : ``has_<ch>``, ``consent_<ch>``, ``opted_out_<ch>`` and ``hardship`` (the customer table
        has them all; a column that is missing restricts nothing).
    spec : the campaign (a channel without weekly capacity is closed; ``human`` channels for hardship).
    channels : channel names (a channel the campaign does not configure is closed).
    """
    n = len(customers)
    hardship = customers["hardship"].to_numpy(dtype=bool) if "hardship" in customers else np.zeros(n, bool)
    out = np.zeros((n, len(channels)), dtype=bool)
    for j, ch in enumerate(channels):  # a few channels
        cfg = spec.channels.get(ch)
        if cfg is None or cfg.weekly_capacity <= 0:
            continue
        ok = np.ones(n, dtype=bool)
        for col in (f"has_{ch}", f"consent_{ch}"):  # a bare scores table without them restricts nothing
            if col in customers:
                ok &= customers[col].to_numpy(dtype=bool)
        if f"opted_out_{ch}" in customers:
            ok &= ~customers[f"opted_out_{ch}"].to_numpy(dtype=bool)
        if not cfg.human:
            ok &= ~hardship
        out[:, j] = ok
    return out


def best_channels(seg: pd.Categorical, fit: pd.DataFrame, customers: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """(n,) object: each customer's channel of highest fit for their segment among their open channels.

    ``fit`` is segments (rows, the categories of ``seg``) x channels; ties go to the first channel in
    ``fit``'s column order. ``""`` for a customer with no open channel.
    """
    channels = [str(c) for c in fit.columns]
    if not channels:
        return np.full(len(customers), "", dtype=object)
    table = fit.reindex(pd.Index(seg.categories)).to_numpy(dtype=float)
    codes = np.asarray(seg.codes)
    per = np.where(codes[:, None] >= 0, table[np.maximum(codes, 0)], np.nan)
    ok = open_channels(customers, spec, channels)
    score = np.where(ok, np.nan_to_num(per, nan=0.0), -np.inf)
    best = score.argmax(axis=1)
    return np.where(ok.any(axis=1), np.asarray(channels, dtype=object)[best], "").astype(object)
