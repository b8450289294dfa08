"""Why a plan contacts nobody (or few), and the setting that changes it.

A plain purchase log has no consent columns, and unknown consent is no consent: every customer is
suppressed for "no consenting channel" and the plan is empty. :func:`cannot_contact` says so in
words, with the campaign-spec line to set (``[consent] assume_when_missing``); the run prints it in
its first lines and writes it to ``summary.json`` (``cannot_contact``) and the report.
"""

from __future__ import annotations

import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.result import PlanResult
from reactivate.planning.suppression import NO_CONSENTING_CHANNEL
from reactivate.schema import CHANNELS

#: the channels suggested for assumed consent: the ones a business owns and customers sign up to
OWNED_CHANNELS = ("email", "app")
#: the diagnosis is given when at least this share of the targets has no consenting channel
MIN_SHARE = 0.5


def cannot_contact(result: PlanResult, spec: CampaignSpec, accounts: pd.DataFrame | None) -> dict | None:
    """Why most targets cannot be contacted, and what to set; None when most of them can.

    Parameters
    ----------
    result : the plan.
    spec : the campaign (its channels, their capacities and ``consent.assume_when_missing``).
    accounts : the book's accounts table (where the ``consent_<channel>`` columns live); None when the
        book has none.

    Returns
    -------
    None, or a dict with ``cause``: ``no_consent_columns`` (the book has no consent column for
    channels the campaign could assume consent for), ``no_consent`` (it has them and they say no) or
    ``unscheduled`` (nobody is suppressed this way but nothing is planned); ``customers`` (those
    suppressed for having no consenting channel, or left unscheduled), ``targets``, ``accounts``
    (the book has an accounts table), ``assumed`` (``consent.assume_when_missing``), ``channels`` (to
    assume consent for), ``off`` (of those, the ones without capacity), ``set`` (the spec line),
    ``reason`` and ``reason_customers`` (the main unscheduled reason) and ``message`` (in English).
    """
    targets = int(result.stats["targets"])
    no_consent = int((result.suppressed["reason"] == NO_CONSENTING_CHANNEL).sum())
    if targets == 0:
        return None
    if no_consent < MIN_SHARE * targets:
        return _nothing_planned(result, targets, accounts is not None)
    assumed = [ch for ch in CHANNELS if ch in spec.consent.assume_when_missing]
    consent_columns = {ch for ch in CHANNELS if accounts is not None and f"consent_{ch}" in accounts.columns}
    used = [ch for ch in CHANNELS if ch in spec.channels and spec.channels[ch].weekly_capacity > 0]
    missing = [ch for ch in CHANNELS if ch in spec.channels and ch not in consent_columns and ch not in assumed]
    channels = [ch for ch in OWNED_CHANNELS if ch in missing] or [ch for ch in used if ch in missing]
    line = ("[consent] assume_when_missing = [" + ", ".join(f'"{ch}"' for ch in CHANNELS
                                                            if ch in assumed or ch in channels) + "]")
    out = {"cause": "no_consent_columns" if channels else "no_consent", "customers": no_consent, "targets": targets,
           "accounts": accounts is not None, "assumed": assumed, "channels": channels,
           "off": [ch for ch in channels if ch not in used], "set": line if channels else "",
           "reason": NO_CONSENTING_CHANNEL, "reason_customers": no_consent}
    return {**out, "message": message(out)}


def message(d: dict) -> str:
    """The diagnosis of :func:`cannot_contact` in one English sentence (the report words it in its language)."""
    if d["cause"] == "unscheduled":
        return (f"nobody is planned: all {d['customers']:,} customers left to plan went unscheduled, "
                f"{d['reason_customers']:,} of them for \"{d['reason']}\" (unscheduled.csv); check the channels' "
                "weekly_capacity and the value model")
    who = ("nobody can be contacted" if d["customers"] == d["targets"]
           else f"{d['customers']:,} of {d['targets']:,} targets cannot be contacted")
    if d["cause"] == "no_consent":
        return (f"{who}: they may be reached on no channel the campaign uses; check their reach and consent "
                "(the has_<channel> and consent_<channel> columns of the accounts) and the channels' weekly_capacity")
    where = "the accounts have no consent_<channel> columns" if d["accounts"] else "no accounts file"
    return (f"{who}: {d['customers']:,} targets have no consenting channel, because the book has no consent "
            f"columns ({where}) and the campaign assumes consent for {', '.join(d['assumed']) or 'no channel'}. "
            f"If your customers agreed to {' and '.join(d['channels'])} messages (e.g. when they signed up), set "
            f"{d['set']} in the campaign spec"
            + (f" and give {', '.join(d['off'])} a weekly_capacity" if d["off"] else "")
            + " (campaigns/purchase_log.toml does so for a plain purchase log)")


def _nothing_planned(result: PlanResult, targets: int, accounts: bool) -> dict | None:
    """The diagnosis of an empty plan whose customers were not suppressed for consent: the main reason
    the customers left to plan went unscheduled (None when something is planned or nobody is left)."""
    unscheduled = result.unscheduled
    if len(result.plan) or not len(unscheduled):
        return None
    reasons = unscheduled["reason"].astype(str).value_counts()
    out = {"cause": "unscheduled", "customers": len(unscheduled), "targets": targets, "accounts": accounts,
           "assumed": [], "channels": [], "off": [], "set": "", "reason": str(reasons.index[0]),
           "reason_customers": int(reasons.iloc[0])}
    return {**out, "message": message(out)}
