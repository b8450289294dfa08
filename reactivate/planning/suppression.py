"""Who may be contacted at all, and on which channels: the plan's absolute rules.

A channel is open to a customer when they are reachable on it, consented to it and have not opted
out of it; customers in hardship get only human channels (care first: a person, never an automated
push). A customer is suppressed -- never contacted -- for the first of :data:`SUPPRESSION_REASONS`
that applies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.schema import CHANNELS

DECEASED = "deceased"
LEGAL_HOLD = "legal hold"
DO_NOT_CONTACT = "do not contact"
MINOR = "minor"
RECENT_COMPLAINT = "recent complaint"
NO_CONSENTING_CHANNEL = "no consenting channel"
#: why a customer is suppressed, in the order the rules are checked (the first that applies is given)
SUPPRESSION_REASONS = (DECEASED, LEGAL_HOLD, DO_NOT_CONTACT, MINOR, RECENT_COMPLAINT, NO_CONSENTING_CHANNEL)


def channel_eligibility(customers: pd.DataFrame, spec: CampaignSpec) -> tuple[list[str], np.ndarray]:
    """Which of the campaign's channels each customer may be contacted on.

    Parameters
    ----------
    customers : one row per customer with ``hardship`` and, per channel, ``has_<ch>``,
        ``consent_<ch>`` and ``opted_out_<ch>`` (bool).
    spec : the campaign; its ``channels`` (in :data:`~reactivate.schema.CHANNELS` order) are the columns.

    Returns
    -------
    channels : list of str
        The campaign's channels.
    eligible : (n, channels) bool
        Reachable, consented and not opted out; only human channels for customers in hardship.
    """
    channels = [ch for ch in CHANNELS if ch in spec.channels]
    hardship = customers["hardship"].to_numpy(dtype=bool)
    columns = []
    for ch in channels:  # a few channels
        ok = (
            customers[f"has_{ch}"].to_numpy(dtype=bool)
            & customers[f"consent_{ch}"].to_numpy(dtype=bool)
            & ~customers[f"opted_out_{ch}"].to_numpy(dtype=bool)
        )
        if not spec.channels[ch].human:
            ok &= ~hardship  # care first: people in hardship get a person, never an automated push
        columns.append(ok)
    eligible = np.column_stack(columns) if columns else np.zeros((len(customers), 0), dtype=bool)
    return channels, eligible


def suppression_reasons(customers: pd.DataFrame, eligible: np.ndarray, spec: CampaignSpec) -> np.ndarray:
    """The first reason each customer may not be contacted at all.

    Parameters
    ----------
    customers : one row per customer with ``age`` (float, NaN when unknown) and the flags
        ``deceased``, ``legal_hold``, ``do_not_contact`` and ``complaint_recent`` (bool).
    eligible : (n, channels) bool, from :func:`channel_eligibility`.
    spec : the campaign (``policy.min_age``).

    Returns
    -------
    (n,) object array: one of :data:`SUPPRESSION_REASONS`, or ``""`` when the customer may be contacted.
    """
    age = customers["age"].to_numpy(dtype=float)
    rules = [
        customers["deceased"].to_numpy(dtype=bool),
        customers["legal_hold"].to_numpy(dtype=bool),
        customers["do_not_contact"].to_numpy(dtype=bool),
        ~np.isnan(age) & (age < spec.policy.min_age),
        customers["complaint_recent"].to_numpy(dtype=bool),
        ~eligible.any(axis=1),
    ]
    # codes first, then the few reason texts shared by reference (no text array the width of the longest)
    code = np.select(rules, list(range(1, len(SUPPRESSION_REASONS) + 1)), default=0)
    return np.array(["", *SUPPRESSION_REASONS], dtype=object)[code]


def may_contact_on(customers: pd.DataFrame, spec: CampaignSpec, channel: str) -> np.ndarray:
    """Who may be contacted on ``channel``: not suppressed, and the channel is open to them.

    The same rules as the plan's (:func:`channel_eligibility`, :func:`suppression_reasons`), for one
    channel; e.g. who may get a follow-up call. A channel the campaign does not use is open to nobody.

    Returns
    -------
    (n,) bool
    """
    channels, eligible = channel_eligibility(customers, spec)
    if channel not in channels:
        return np.zeros(len(customers), dtype=bool)
    return (suppression_reasons(customers, eligible, spec) == "") & eligible[:, channels.index(channel)]
