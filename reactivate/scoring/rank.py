"""Per customer and per segment: how likely, how valuable, and when.

Combines :mod:`reactivate.scoring.priors` (propensity, value, channel fit) and
:mod:`reactivate.scoring.timing` (best week) into the scores table, and ranks the
segments by expected value with a recommended start week and a one-line
explanation each.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.data.load import Book
from reactivate.data.spark_engine import spark_for
from reactivate.dormancy.ids import codes_for
from reactivate.schema import CHANNELS
from reactivate.scoring.apply_spark import spark_scoring
from reactivate.scoring.channels import best_channels
from reactivate.scoring.priors import (
    calibrate,
    channel_fit,
    customer_value,
    history_outcomes,
    prior_propensity,
)
from reactivate.scoring.propensity import PRIOR_DECAY_PER_WEEK, Context, choose
from reactivate.scoring.timing import best_weeks, week_starts

#: the channels behind the digital_reach feature (and the "no digital channel" shortfall)
DIGITAL_CHANNELS = ("app", "wechat", "email")
#: every input :func:`segment_table` may claim from (the default: a book that has them all)
KNOWN_ALL = frozenset({"contacts", "rm", "reach", *(f"reach_{ch}" for ch in CHANNELS)})
#: traits whose medians go on a profile card
PROFILE_TRAITS = ("balance", "days_dormant", "age", "tenure_years", "n_products", "txn_per_year")


def score_targets(targets: pd.DataFrame, feats: pd.DataFrame, seg: pd.Categorical, profiles: dict[str, dict],
                  book: Book, spec: CampaignSpec, as_of: dt.date, customers: pd.DataFrame | None = None,
                  every_source: bool = False, occasions=None):
    """Score the target customers.

    ``customers`` is every customer of the book (the targets are a subset): the
    propensity sources learn from all of them. Defaults to the targets.
    ``every_source`` (``reactivate backtest``) also puts each usable source's own
    calibrated probabilities of the targets in ``info["each_source"]`` (arrays: not for JSON);
    ``occasions`` is the transactions already folded for ``customers``
    (:class:`reactivate.scoring.occasions.Occasions`), when the caller has it.

    Returns
    -------
    scores : DataFrame indexed by customer_id: the customer columns plus
        segment_id, segment_name, segment_rank, p_reactivate, value,
        expected_value, priority_rank, best_week, event, reason, best_channel.
    segments : DataFrame, one profile row per segment.
    info : dict describing the scoring method.
    fit : DataFrame of channel fit per segment.
    """
    customers = targets if customers is None else customers
    tpos = target_positions(targets, customers, spec)
    hist = history_outcomes(book.contacts, targets.index, _contacts_in_targets(book.contacts, customers.index, tpos))
    p, info = propensity(targets, feats, seg, hist, book, spec, as_of, customers, every_source, occasions, tpos)
    fit = channel_fit(seg, hist, spec)
    value = customer_value(targets, spec)
    ev = p * value
    timing = best_weeks(targets, spec, as_of)

    s = targets.copy(deep=False)  # the new columns are the scores' own; the targets' stay shared, not copied
    s["segment_id"] = seg
    s["p_reactivate"] = p
    s["value"] = value
    s["expected_value"] = ev
    s[["best_week", "event", "reason"]] = timing[["best_week", "event", "reason"]]
    # priority: expected value, ties broken by customer id (the index is sorted)
    order = np.lexsort((np.arange(len(s)), -ev))
    rank = np.empty(len(s), dtype=np.int64)
    rank[order] = np.arange(1, len(s) + 1)
    s["priority_rank"] = rank
    s["best_channel"] = best_channels(seg, fit, s, spec)  # never a channel the customer cannot be reached on

    segments = segment_table(s, feats, profiles, spec, as_of, known_inputs(book, spec),
                             decay_per_week=info.get("decay", {}).get("per_week", PRIOR_DECAY_PER_WEEK))
    by_id = segments.set_index("segment_id").reindex(seg.categories)
    s["segment_name"] = np.asarray(by_id["segment_name"], dtype=object)[seg.codes]
    s["segment_rank"] = by_id["rank"].fillna(0).to_numpy(dtype=int)[seg.codes]
    return s, segments, info, fit


def target_positions(targets: pd.DataFrame, customers: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """The position of each target among the customers. The targets are usually the customers of the
    campaign's target stages, in order (as :func:`reactivate.jobs.pipeline.load_targets` selects them):
    then no id is looked up (a hash of millions of ids is the slow way to the same answer)."""
    if targets is customers:
        return np.arange(len(customers))
    if "stage" in customers.columns:
        pos = np.flatnonzero(customers["stage"].isin(spec.dormancy.target_stages).to_numpy())
        if len(pos) == len(targets) and customers.index[pos].equals(targets.index):
            return pos
    return customers.index.get_indexer(targets.index)


def _contacts_in_targets(contacts: pd.DataFrame | None, index: pd.Index, tpos: np.ndarray) -> np.ndarray | None:
    """Each contact's position among the targets (-1 when not one), from its position among the customers
    ``index`` (looked up once for every stage: :func:`reactivate.dormancy.ids.codes_for`)."""
    if contacts is None or "outcome" not in contacts.columns:
        return None
    to_target = np.full(len(index) + 1, -1, dtype=np.int64)  # the last: customers not in the index
    to_target[tpos[tpos >= 0]] = np.flatnonzero(tpos >= 0)
    return to_target[codes_for(contacts["customer_id"], index)]


def propensity(targets, feats, seg, hist, book: Book, spec: CampaignSpec, as_of: dt.date,
               customers: pd.DataFrame | None = None, every_source: bool = False,
               occasions=None, target_pos: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """p_reactivate per target from the source chosen and calibrated on held-out data
    (:mod:`reactivate.scoring.propensity`); with the Spark engine (the book's log on Spark, or
    ``[engine] name = "spark"``) the targets are scored on Spark's executors by the same fitted scorer
    (:mod:`reactivate.scoring.apply_spark`).

    Then, when the book has contact outcomes, the level of each segment is calibrated to the
    targets' own contact history (:func:`reactivate.scoring.priors.calibrate`, shrunk towards the
    source), so that p_reactivate means "comes back when contacted" for *these* customers: a
    contacts slice holds contacts of customers in every stage, the targets are the dormant. Notes on
    what the models could not read (columns missing in this book) join the book's notes, once.
    """

    customers = targets if customers is None else customers
    pos = customers.index.get_indexer(targets.index) if target_pos is None else target_pos
    ctx = Context(customers, book, spec, as_of, targets.index, occasions, pos)
    spark = spark_for(book, spec)  # with the Spark engine, today's pass over the targets runs on its executors
    p, info, each = choose(ctx, pos, every_source, spark_scoring(spark) if spark is not None else None)
    if ctx.occ is not occasions and hasattr(book.engine, "forget"):
        book.engine.forget()  # the log's aggregates and occasions have been read: their memory goes to the plan
    book.notes.extend(n for n in ctx.notes if n not in book.notes)
    if every_source:
        info["each_source"] = each
    if info["source"] == "prior" and not info["calibrated"]:
        p = prior_propensity(feats, targets)  # exactly the documented prior on today's features
    info["method"] = info["source"]
    p, cal = calibrate(p, seg, hist)
    if cal["method"] != "prior":
        info.update({k: v for k, v in cal.items() if k not in ("method", "note")})
        info["method"] = f"{info['source']}+history"
        info["note"] += "; level calibrated per segment to the contact history"
    elif info["source"] == "prior" and not info["calibrated"]:
        info["note"] = cal["note"]
    return np.clip(p, 0.001, 0.95), info


def segment_table(s: pd.DataFrame, feats: pd.DataFrame, profiles: dict[str, dict], spec: CampaignSpec,
                  as_of: dt.date, known: frozenset[str] = KNOWN_ALL,
                  decay_per_week: float = PRIOR_DECAY_PER_WEEK) -> pd.DataFrame:
    """One profile row per segment: size, traits, shortfalls, reach, rank, urgency and start week.

    ``urgency`` is the expected value lost by waiting one more week: the decay of
    the chance of coming back (``decay_per_week``, estimated from the history)
    on the segment's expected value, plus the expected value of members whose
    regulatory date leaves no more than two weeks to act.

    ``known`` names the inputs the book has ("contacts", "rm", "reach": a reach or consent column of
    app, WeChat or e-mail; "reach_<channel>": that channel's reach or consent column, or consent
    assumed): a shortfall is only claimed from data that exists (no contact file is not "never
    contacted", no channel column is not "no digital channel"), and a channel's reach is empty (NaN)
    when nothing says who may be reached on it.
    """
    g = s.groupby("segment_id", sort=True, observed=True)
    f = feats.assign(segment_id=s["segment_id"].to_numpy()).groupby("segment_id", sort=True)
    t = pd.DataFrame({
        "size": g.size(),
        "expected_reactivations": g["p_reactivate"].sum(),
        "expected_value": g["expected_value"].sum(),
        "mean_p": g["p_reactivate"].mean(),
    })
    t["share"] = t["size"] / t["size"].sum()
    for trait in PROFILE_TRAITS:
        t[f"median_{trait}"] = f[trait].median()
    t["long_dormant_share"] = (s["stage"] == "long_dormant").groupby(s["segment_id"], observed=True).mean()
    for ch in CHANNELS:
        t[f"reach_{ch}"] = ((s[f"has_{ch}"] & s[f"consent_{ch}"]).groupby(s["segment_id"], observed=True).mean()
                            if f"reach_{ch}" in known else np.nan)
    t["shortfalls"] = _shortfalls(s, feats, known)
    t = t.sort_values(["expected_value", "size"], ascending=[False, False], kind="stable")
    t["rank"] = np.arange(1, len(t) + 1)
    t["start_week"], t["start_reason"] = _start_weeks(s, t.index, week_starts(spec, as_of))
    t["segment_name"] = [profiles.get(sid, {}).get("name", sid) for sid in t.index]
    t["kind"] = [profiles.get(sid, {}).get("kind", "cluster") for sid in t.index]
    t["apart"] = [profiles.get(sid, {}).get("apart", "") for sid in t.index]
    t["note"] = [profiles.get(sid, {}).get("note", "") for sid in t.index]
    t["urgency"], t["urgency_reason"] = _urgency(s, t, decay_per_week)
    t["rank_reason"] = [
        f"expected {r.expected_reactivations:.0f} reactivations worth {r.expected_value:,.0f} from {r.size} customers"
        for r in t.itertuples()
    ]
    t = t.reset_index()
    rounding = {"share": 4, "urgency": 2, "expected_reactivations": 1, "expected_value": 2, "mean_p": 4, "long_dormant_share": 3,
                **{f"median_{trait}": 2 for trait in PROFILE_TRAITS}, **{f"reach_{ch}": 3 for ch in CHANNELS}}
    t = t.round(rounding)
    lead = ["segment_id", "segment_name", "kind", "rank", "size", "share", "expected_reactivations",
            "expected_value", "mean_p", "urgency", "urgency_reason", "start_week", "start_reason", "rank_reason",
            "apart", "shortfalls"]
    return t[lead + [c for c in t.columns if c not in lead]]


def known_inputs(book: Book, spec: CampaignSpec) -> frozenset[str]:
    """The inputs the book has that a shortfall or a channel's reach may be claimed from (see
    :func:`segment_table`): "contacts", "rm", "reach" and "reach_<channel>"."""
    known = set()
    if book.contacts is not None:
        known.add("contacts")
    if book.accounts is not None and "rm_id" in book.accounts.columns:
        known.add("rm")
    if book.accounts is not None and any(f"{kind}_{ch}" in book.accounts.columns
                                         for kind in ("has", "consent") for ch in DIGITAL_CHANNELS):
        known.add("reach")
    # a channel's reach is known from its reach or consent column, or from the campaign's assumption
    known.update(f"reach_{ch}" for ch in CHANNELS if ch in spec.consent.assume_when_missing or (
        book.accounts is not None and {f"has_{ch}", f"consent_{ch}"} & set(book.accounts.columns)))
    return frozenset(known)


def shortfall_checks(s: pd.DataFrame, feats: pd.DataFrame, known: frozenset[str]) -> dict[str, np.ndarray]:
    """Where service fell short, per customer: the rule behind the segment table's ``shortfalls`` and
    the RM lists' ``shortfall``, one boolean array per check (rows of ``s`` and ``feats``, the scored
    targets and their features), in a fixed order. A check needing an input not in ``known`` (see
    :func:`known_inputs`) is left out: no contact file is not "never contacted"."""
    checks = {
        "no contact in 12 months": (s["contacts_12m"] == 0) if "contacts" in known else None,
        "no digital channel": (feats["digital_reach"].fillna(0) == 0) if "reach" in known else None,
        "no relationship manager": s["rm_id"].isna() if "rm" in known else None,
        "deposit matures in the horizon": feats["maturing_soon"] > 0,
        "term deposit matured and not rolled over": s["matured_not_rolled"],
        "near the regulatory dormancy date": s["event"] == "deadline",
    }
    return {k: np.asarray(v, dtype=bool) for k, v in checks.items() if v is not None}


def customer_shortfalls(s: pd.DataFrame, feats: pd.DataFrame, known: frozenset[str]) -> pd.Categorical:
    """Each customer's service shortfalls (:func:`shortfall_checks`) as one text, ``"; "``-joined in the
    checks' order ("" when none applies); built once per distinct combination, not per customer."""
    checks = shortfall_checks(s, feats, known)
    names = list(checks)
    mask = np.zeros(len(s), dtype=np.int64)
    for bit, hit in enumerate(checks.values()):  # one per check
        mask |= hit.astype(np.int64) << bit
    seen = np.bincount(mask, minlength=1 << len(names)) > 0  # the distinct combinations (np.unique, by counting)
    uniq = np.flatnonzero(seen)
    codes = (np.cumsum(seen) - 1)[mask]
    text = ["; ".join(n for bit, n in enumerate(names) if m >> bit & 1) for m in uniq.tolist()]  # per combination
    return pd.Categorical.from_codes(codes.reshape(-1), categories=pd.Index(text, dtype=object)) if len(s) \
        else pd.Categorical([], categories=pd.Index([], dtype=object))


def _shortfalls(s: pd.DataFrame, feats: pd.DataFrame, known: frozenset[str]) -> list[str]:
    """Where service fell short, per segment (in segment id order): the checks (:func:`shortfall_checks`)
    true of at least 40% of its members with their shares, or "none stands out"."""
    checks = shortfall_checks(s, feats, known)
    short = pd.DataFrame(checks, index=s.index).groupby(s["segment_id"], observed=True).mean()
    return [
        "; ".join(f"{name} ({share:.0%})" for name, share in row.items() if share >= 0.4) or "none stands out"
        for _, row in short.iterrows()  # one row per segment
    ]


def _start_weeks(s: pd.DataFrame, segment_ids: pd.Index, weeks: list[dt.date]) -> tuple[list[str], list[str]]:
    """The recommended start week of each segment of ``segment_ids`` and why: a dated event shared by
    many members, else the pilot week."""
    seg = pd.Categorical(s["segment_id"])
    k = len(seg.categories)
    at = pd.Index(seg.categories).get_indexer(segment_ids)
    code = np.asarray(seg.codes, dtype=np.int64)
    # deadlines and maturities move a whole segment; birthdays are spread over the year
    dated = s["event"].isin(["deadline", "maturity"]).to_numpy() & (code >= 0)
    week = s["best_week"].to_numpy(dtype=np.int64)[dated]
    first = int(week.min()) if len(week) else 0
    h = int(week.max()) - first + 1 if len(week) else 1
    members = np.bincount(code[code >= 0], minlength=k)
    n_dated = np.bincount(code[dated], minlength=k)
    # the most frequent week and event of each segment's dated members (ties: the earlier, as Series.mode)
    by_week = np.bincount(code[dated] * h + week - first, minlength=k * h).reshape(k, h)
    is_maturity = (s["event"] == "maturity").to_numpy()[dated].astype(np.int64)
    by_event = np.bincount(code[dated] * 2 + is_maturity, minlength=k * 2).reshape(k, 2)
    starts, why = [], []
    for j in at:  # one iteration per segment
        if j >= 0 and n_dated[j] and n_dated[j] >= 0.2 * members[j]:
            wk = int(by_week[j].argmax()) + first
            ev = ("deadline", "maturity")[int(by_event[j].argmax())]
            starts.append(weeks[wk].isoformat())
            why.append(f"{n_dated[j] / members[j]:.0%} have a deadline or maturity; most often {ev} "
                       f"in week {wk + 1}")
        else:
            starts.append(weeks[0].isoformat())
            why.append("pilot in week 1, then waves by priority")
    return starts, why


def _urgency(s: pd.DataFrame, t: pd.DataFrame, decay_per_week: float) -> tuple[pd.Series, list[str]]:
    """Each segment's urgency (rows of ``t``) and its explanation: the expected value lost by waiting a
    week, plus that of members whose regulatory date falls within two weeks."""
    dl_soon = (s["event"] == "deadline").to_numpy() & (s["best_week"].to_numpy() <= 1)
    lost_dl = pd.Series(np.where(dl_soon, s["expected_value"].to_numpy(), 0.0), index=s.index).groupby(
        s["segment_id"], observed=True).sum().reindex(t.index).fillna(0.0)
    n_dl = pd.Series(dl_soon, index=s.index).groupby(s["segment_id"], observed=True).sum().reindex(t.index).fillna(0)
    urgency = t["expected_value"] * decay_per_week + lost_dl
    reasons = [
        f"waiting a week costs about {u:,.0f} ({decay_per_week:.1%} of the chance"
        + (f"; {int(k)} customers reach the regulatory date within two weeks)" if k else ")")
        for u, k in zip(urgency, n_dl, strict=True)
    ]
    return urgency, reasons
