"""The weekly loop's own rules, on top of the plan: rest, the campaign's touch limit, follow-ups.

Customers who declined (in any campaign) rest for ``followup.rest_days``; a customer never gets more
than ``policy.max_touches`` planned touches in the campaign; responders (``followup.after``, within
``followup.within_days``) get a follow-up (回访) on ``followup.channel`` by their own RM, in the first
week that RM has calls left after the plan. Those three groups are held back from the week's plan
(:func:`held_back_reasons`, passed to :func:`~reactivate.planning.plan.build_plan`), so the capacity
they would have used goes to others. The holdout is never followed up, and a follow-up goes only to
a customer the plan's rules let be contacted on its channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.audience import select_audience
from reactivate.planning.capacity import POOL
from reactivate.planning.result import PlanResult
from reactivate.planning.suppression import may_contact_on

FOLLOWUP_COLUMNS = ["customer_id", "rm_id", "week_start", "channel", "theme", "outcome", "outcome_date", "reason"]
#: the theme (and ledger kind) of a follow-up; the ledger kind of the plan's touches
FOLLOW_UP = "follow_up"
PLANNED = "plan"
#: outcomes the rules read
DECLINED = "declined"
REACTIVATED = "reactivated"
#: why a target is held back from the week's plan (the touch limit's reason names the limit)
FOLLOWING_UP = "follow-up by their RM instead"
RESTING = "resting after declining"


def followup_candidates(customers: pd.DataFrame, scored: pd.DataFrame, spec: CampaignSpec, issued: pd.DataFrame,
                        outcomes: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """Who earns a follow-up this week: their latest positive outcome, if not yet followed up.

    Parameters
    ----------
    customers : every customer of the book (flags, reach, consent, opt-outs), indexed by customer_id.
    scored : the scored targets (for the holdout, which is never followed up).
    spec : the campaign (``followup``; the plan's rules for who may be contacted).
    issued : the ledger's touches issued before the week (customer_id, kind, week_start).
    outcomes : this campaign's outcomes (customer_id, outcome, date).
    start : the week's first day.

    Returns
    -------
    DataFrame with customer_id, outcome, date: outcomes in ``followup.after`` within
    ``followup.within_days`` before ``start``, the latest per customer (reactivated first on the same
    day), without a follow-up issued since, of customers who may be contacted on the follow-up channel
    and are not in the holdout.
    """
    fu = spec.followup
    cols = ["customer_id", "outcome", "date"]
    if not fu.enabled or len(outcomes) == 0:
        return pd.DataFrame(columns=cols)
    since = pd.Timestamp(start) - pd.Timedelta(days=fu.within_days)
    pos = outcomes[outcomes["outcome"].isin(fu.after) & (outcomes["date"] >= since)]
    if len(pos) == 0:
        return pd.DataFrame(columns=cols)
    rank = pos["outcome"].map({REACTIVATED: 0}).fillna(1)
    pos = pos.assign(_r=rank).sort_values(["customer_id", "date", "_r"], ascending=[True, False, True], kind="stable")
    pos = pos.drop_duplicates("customer_id")[cols]
    done = issued[issued["kind"] == FOLLOW_UP].groupby("customer_id")["week_start"].max()
    last_fu = done.reindex(pos["customer_id"]).to_numpy()
    pos = pos[~(pd.notna(last_fu) & (last_fu >= pos["date"].to_numpy()))]
    callable_ids = customers.index[may_contact_on(customers, spec, fu.channel)]
    pos = pos[pos["customer_id"].isin(callable_ids)].reset_index(drop=True)
    held_out = scored.index[select_audience(scored, spec).holdout]
    return pos[~pos["customer_id"].isin(held_out)].reset_index(drop=True)


def held_back_reasons(ids: pd.Index, candidates: pd.DataFrame, issued: pd.DataFrame, outcomes: pd.DataFrame,
                      spec: CampaignSpec, start: dt.date) -> tuple[np.ndarray, dict[str, int]]:
    """Why each target is held back from the week's plan ("" when they are not).

    Parameters
    ----------
    ids : the targets' customer ids.
    candidates : the follow-up candidates (:func:`followup_candidates`).
    issued : the ledger's touches issued before the week (customer_id, kind).
    outcomes : every campaign's outcomes (customer_id, outcome, date).
    spec : the campaign (``followup.rest_days``, ``policy.max_touches``).
    start : the week's first day.

    Returns
    -------
    reasons : (n,) object, the first of: follow-up by their RM, resting after declining, the
        campaign's touch limit reached.
    excluded : the count of each group (summary.json's ``loop.excluded``), each customer counted once.
    """
    rest_from = pd.Timestamp(start) - pd.Timedelta(days=spec.followup.rest_days)
    declined = outcomes[(outcomes["outcome"] == DECLINED) & (outcomes["date"] >= rest_from)]
    n_issued = issued[issued["kind"] == PLANNED].groupby("customer_id").size()
    following = ids.isin(candidates["customer_id"])
    resting = ids.isin(declined["customer_id"])
    limit = ids.isin(n_issued[n_issued >= spec.policy.max_touches].index)
    limit_reason = f"campaign touch limit reached (policy.max_touches={spec.policy.max_touches})"
    reasons = np.select([following, resting, limit], [FOLLOWING_UP, RESTING, limit_reason], default="")
    excluded = {"follow-up": int(following.sum()), "resting": int((resting & ~following).sum()),
                "touch limit": int((limit & ~following & ~resting).sum())}
    return reasons.astype(object), excluded


def schedule_followups(candidates: pd.DataFrame, rm_id: pd.Series, result: PlanResult,
                       spec: CampaignSpec) -> tuple[pd.DataFrame, int]:
    """Each follow-up in the first week its RM (or the pool) has calls left after the plan.

    Reactivated customers first, then the most recent outcome, then by id; a week's follow-ups also
    fit in the follow-up channel's weekly capacity left.

    Parameters
    ----------
    candidates : from :func:`followup_candidates`.
    rm_id : every customer's RM (missing: the pool), indexed by customer_id.
    result : the week's plan (its weeks and the capacity it uses).
    spec : the campaign (``followup.channel``, ``rm``).

    Returns
    -------
    followups : followups.csv (:data:`FOLLOWUP_COLUMNS`), by week, RM and customer
    not_placed : how many candidates found no week
    """
    if len(candidates) == 0:
        return pd.DataFrame(columns=FOLLOWUP_COLUMNS), 0
    weeks = result.stats["weeks"]
    rm_of = rm_id.reindex(candidates["customer_id"].to_numpy())
    rm = rm_of.astype(object).where(rm_of.notna(), POOL).astype(str).to_numpy()
    order = np.lexsort((candidates["customer_id"].to_numpy(),
                        -candidates["date"].to_numpy().astype("datetime64[D]").astype(np.int64),
                        (candidates["outcome"] != REACTIVATED).to_numpy()))
    week = _followup_weeks(order, rm, result.capacity, weeks, spec)
    placed = week >= 0
    d = candidates[placed]
    out = pd.DataFrame({
        "customer_id": d["customer_id"].to_numpy(dtype=object),
        "rm_id": rm[placed],
        "week_start": np.asarray(weeks, dtype=object)[week[placed]],
        "channel": spec.followup.channel,
        "theme": FOLLOW_UP,
        "outcome": d["outcome"].to_numpy(dtype=object),
        "outcome_date": d["date"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
    })
    out["reason"] = "follow-up (回访): " + out["outcome"] + " on " + out["outcome_date"]
    out = out.sort_values(["week_start", "rm_id", "customer_id"], kind="stable").reset_index(drop=True)
    return out[FOLLOWUP_COLUMNS], int((~placed).sum())


def _followup_weeks(order: np.ndarray, rm: np.ndarray, capacity: pd.DataFrame, weeks: list[str],
                    spec: CampaignSpec) -> np.ndarray:
    """(candidates,) the week index of each follow-up (-1: none), candidates taken in ``order``."""
    channel = spec.followup.channel
    channel_cap = spec.channels[channel].weekly_capacity if channel in spec.channels else 0
    week = np.full(len(rm), -1)
    for w, ws in enumerate(weeks):  # a few weeks, vectorized over candidates
        todo = order[week[order] < 0]
        if len(todo) == 0:
            break
        this_week = capacity["week_start"] == ws
        used = capacity[this_week & capacity["resource"].isin(["rm", "pool"])].set_index("name")["used"]
        channel_used = capacity[this_week & (capacity["resource"] == "channel") & (capacity["name"] == channel)]
        r = rm[todo]
        limit = np.where(r == POOL, spec.rm.pool_calls_per_week, spec.rm.calls_per_week)
        left = limit - used.reindex(r).fillna(0).to_numpy()
        nth = pd.Series(r).groupby(r, sort=False).cumcount().to_numpy()
        ok = nth < left
        ok &= np.cumsum(ok) <= max(channel_cap - int(channel_used["used"].sum()), 0)
        week[todo[ok]] = w
    return week


def add_followup_use(capacity: pd.DataFrame, followups: pd.DataFrame, spec: CampaignSpec) -> pd.DataFrame:
    """capacity.csv with the follow-up calls counted.

    Parameters
    ----------
    capacity : the plan's capacity table.
    followups : from :func:`schedule_followups`.
    spec : the campaign (``rm``: the usual calls of an RM who had no row).

    Returns
    -------
    The table with the follow-ups in ``used`` (rows added, in order, for RMs it did not list).
    """
    if len(followups) == 0:
        return capacity
    cap = capacity.copy()
    rows = []
    for (ws, rm), n in followups.groupby(["week_start", "rm_id"]).size().items():  # one per RM and week
        m = (cap["week_start"] == ws) & cap["resource"].isin(["rm", "pool"]) & (cap["name"] == rm)
        if m.any():
            cap.loc[m, "used"] += int(n)
        else:
            kind = "pool" if rm == POOL else "rm"
            rows.append((ws, kind, rm, spec.rm.pool_calls_per_week if kind == "pool" else spec.rm.calls_per_week,
                         int(n)))
    for (ws, ch), n in followups.groupby(["week_start", "channel"]).size().items():
        m = (cap["week_start"] == ws) & (cap["resource"] == "channel") & (cap["name"] == ch)
        cap.loc[m, "used"] += int(n)
    if rows:
        cap = pd.concat([cap, pd.DataFrame(rows, columns=cap.columns)], ignore_index=True)
        kind_order = cap["resource"].map({"channel": 0, "rm": 1, "pool": 2})
        cap = (cap.assign(_k=kind_order).sort_values(["week_start", "_k", "name"], kind="stable")
               .drop(columns="_k").reset_index(drop=True))
    return cap


def with_followups(result: PlanResult, followups: pd.DataFrame, spec: CampaignSpec) -> PlanResult:
    """The week's plan with its capacity table counting the follow-ups.

    Returns
    -------
    A new PlanResult (:func:`add_followup_use` applied to its capacity).
    """
    return replace(result, capacity=add_followup_use(result.capacity, followups, spec))
