"""The plan's result: its tables (touches, suppressed, holdout, unscheduled, capacity) and its stats.

The functions here turn what the planning steps decided into :class:`PlanResult`'s tables; they
decide nothing themselves, except why a customer of the pool was left unscheduled
(:func:`unscheduled_reasons`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec, ContactPolicy
from reactivate.labels import text_from_keys
from reactivate.planning.allocation import Touches
from reactivate.planning.audience import Audience
from reactivate.planning.capacity import Capacity, best_times
from reactivate.planning.holdout import holdout_mde
from reactivate.planning.journeys import Journeys, journey_columns
from reactivate.planning.optimizer import Allocation
from reactivate.planning.policy import ContactWindow
from reactivate.planning.themes import ThemeChoice, touch_themes, week_festivals
from reactivate.planning.values import ChannelValues
from reactivate.planning.waves import Release

NO_OPEN_CHANNEL = "no open channel the customer consented to"
NOT_WORTH_ITS_COST = "no channel worth its cost"
CONTACTED_TOO_RECENTLY = "contact policy: contacted too recently"
TOUCHES_USED = "contact policy: touches per campaign used"
RELEASED_TOO_LATE = "released in a wave after the horizon"
NO_CAPACITY = "no capacity left"
#: why a customer was left unscheduled: the reason and its kind
UNSCHEDULED = {
    NO_OPEN_CHANNEL: "consent",
    NOT_WORTH_ITS_COST: "value",
    CONTACTED_TOO_RECENTLY: "policy",
    TOUCHES_USED: "policy",
    RELEASED_TOO_LATE: "policy",
    NO_CAPACITY: "capacity",
}
#: the touch reason of customers in hardship
CARE_REASON = "hardship: care check-in first"


@dataclass(frozen=True)
class PlanResult:
    """The staged plan (see :func:`reactivate.planning.plan.build_plan`)."""

    #: one row per touch; ``pos`` is the customer's row in the scored table (not written)
    plan: pd.DataFrame
    #: customer_id, segment_id, reason
    suppressed: pd.DataFrame
    #: customer_id, segment_id
    holdout: pd.DataFrame
    #: customer_id, segment_id, reason, reason_kind: the pool's customers without a touch
    unscheduled: pd.DataFrame
    #: week_start, resource, name, capacity, used
    capacity: pd.DataFrame
    stats: dict = field(default_factory=dict)


def customer_list(audience: Audience, mask: np.ndarray, **columns) -> pd.DataFrame:
    """customer_id and segment_id of the customers in ``mask``, then ``columns``."""
    return pd.DataFrame({"customer_id": audience.ids[mask], "segment_id": audience.segments_of(mask), **columns})


def suppressed_table(audience: Audience) -> pd.DataFrame:
    """suppressed.csv: the suppressed customers and why."""
    return customer_list(audience, audience.suppressed, reason=audience.suppression[audience.suppressed])


def holdout_table(audience: Audience) -> pd.DataFrame:
    """holdout.csv: the customers held out."""
    return customer_list(audience, audience.holdout)


def unscheduled_reasons(values: ChannelValues, window: ContactWindow, start: np.ndarray, n_weeks: int,
                        policy: ContactPolicy) -> np.ndarray:
    """(n,) str: why each customer would be left without a touch, the first that applies.

    No open channel; no channel worth its cost; the touches per campaign used; contacted too
    recently (the earliest week after the horizon); released after the horizon (``start``, the
    first week allowed by waves and policy); else no capacity left.
    """
    best = values.best
    texts = np.array([NO_OPEN_CHANNEL, NOT_WORTH_ITS_COST, TOUCHES_USED, CONTACTED_TOO_RECENTLY, RELEASED_TOO_LATE,
                      NO_CAPACITY], dtype=object)
    # codes first, then the few texts shared by reference (no text array the width of the longest)
    code = np.select(
        [~np.isfinite(best), ~(best > 0), window.touches_used >= policy.max_touches,
         window.earliest_week >= n_weeks, start >= n_weeks],
        [0, 1, 2, 3, 4],
        default=5,
    )
    return texts[code]


def unscheduled_table(audience: Audience, left: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    """unscheduled.csv: the customers ``left`` without a touch, their reason and its kind."""
    reason = pd.Categorical(reasons[left], categories=list(UNSCHEDULED))
    kinds = sorted(set(UNSCHEDULED.values()))
    # each reason's kind, through the reasons' codes (-1, a reason of no kind, stays missing)
    kind_of = np.array([kinds.index(k) for k in UNSCHEDULED.values()] + [-1], dtype=np.int64)
    return customer_list(
        audience, left, reason=reason,
        reason_kind=pd.Categorical.from_codes(kind_of[reason.codes], categories=kinds),
    )


def touch_reason(reason: str, hardship: bool, festival: str) -> str:
    """The reason shown with a touch: care for customers in hardship, and the festival it comes before."""
    text = CARE_REASON if hardship else reason
    return f"{text}; ahead of {festival}" if festival else text


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the distinct values of a text column (categorical codes when it is one)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        # the Categorical's own arrays: np.asarray on a Series of codes would look the customer ids up
        # (a hash table of the whole index, the slowest step of the plan table on a large book)
        cat = col.array
        return np.asarray(cat.codes, dtype=np.int64), np.asarray(cat.categories, dtype=object)
    codes, uniq = pd.factorize(col, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=object)


def touch_table(touches: Touches, scored: pd.DataFrame, audience: Audience, capacity: Capacity, release: Release,
                themes: ThemeChoice, journeys: Journeys, weeks: list[dt.date], spec: CampaignSpec) -> pd.DataFrame:
    """plan.csv (with ``pos``, the customer's row in ``scored``): one row per touch, in ``touches``' order.

    Parameters
    ----------
    touches : every touch, ordered (:meth:`~reactivate.planning.allocation.Touches.ordered`).
    scored : ``reason`` and ``priority_rank`` per customer.
    audience, capacity, release, themes, journeys : the planning steps' results.
    weeks : the campaign's week starts.
    spec : the campaign (festivals' country, channels' hours).
    """
    rows, week, chans = touches.rows, touches.week, audience.channels
    ahead = week_festivals(spec, weeks)[1]
    festival = ahead[week]
    reason_codes, reasons = _codes(scored["reason"])
    # keyed by the week (an integer), not by its festival's text per touch
    why = text_from_keys([reason_codes[rows], audience.hardship[rows], week],
                         lambda r, h, w: touch_reason(reasons[r], h, ahead[w]))
    best_cats, best_code = np.unique(np.asarray(best_times(spec, chans, weeks), dtype=str), return_inverse=True)
    in_journey = journey_columns(journeys, touches)
    week_names = np.array([wk.isoformat() for wk in weeks], dtype=object)
    return pd.DataFrame({
        "customer_id": audience.ids[rows],
        "segment_id": pd.Categorical.from_codes(audience.segment_codes[rows], categories=audience.segment_names),
        "wave": release.wave[rows],
        "week_start": pd.Categorical.from_codes(week, categories=week_names, ordered=True),
        "channel": pd.Categorical.from_codes(touches.channel, categories=chans),
        "step": in_journey["step"],
        "rm_id": pd.Categorical.from_codes(capacity.rm_codes[rows], categories=capacity.rm_names),
        "theme": pd.Categorical.from_codes(touch_themes(themes, rows, festival), categories=themes.categories),
        "reason": why,
        "journey": in_journey["journey"],
        "condition": in_journey["condition"],
        "best_time": pd.Categorical.from_codes(best_code[touches.channel * len(weeks) + week], categories=best_cats),
        "priority_rank": scored["priority_rank"].to_numpy(dtype=float)[rows].astype(int),
        "pos": rows,  # the customer's row in ``scored`` (not written)
    })


def plan_stats(scored: pd.DataFrame, audience: Audience, release: Release, values: ChannelValues,
               alloc: Allocation, unscheduled: pd.DataFrame, n_touches: int, journey_steps: dict,
               weeks: list[dt.date], spec: CampaignSpec) -> dict:
    """The plan's stats (summary.json's ``plan``): counts, the optimizer's figures, the holdout's MDE.

    Parameters
    ----------
    scored : ``p_reactivate`` per customer.
    audience, release, values, alloc : the planning steps' results.
    unscheduled : the unscheduled table; n_touches : the touches planned.
    journey_steps : later journey steps scheduled and not (:func:`~reactivate.planning.journeys.schedule_later_steps`).
    weeks, spec : the campaign's week starts and the campaign.
    """
    done = alloc.week >= 0
    placed = np.flatnonzero(done)
    kinds = unscheduled["reason_kind"].value_counts().sort_index()
    mde = holdout_mde(audience.segment_codes, audience.segment_names, done & ~audience.hardship, audience.holdout,
                      scored["p_reactivate"].to_numpy(dtype=float), spec)
    net = round(float(values.net[placed, alloc.channel[placed]].sum()), 2) if len(placed) else 0.0
    return {
        "targets": len(audience.ids),
        "suppressed": int(audience.suppressed.sum()),
        "holdout": int(audience.holdout.sum()),
        "scheduled": int(done.sum()),
        "unscheduled": len(unscheduled),
        "unscheduled_by_kind": {str(k): int(v) for k, v in kinds.items() if v},
        "pilot": int((release.pilot & done).sum()),
        "touches": n_touches,
        "journey_steps": journey_steps,
        "optimizer": {
            "method": alloc.method,
            # the objective counts care contacts at their placement value (above any sale)
            "objective": round(alloc.objective, 2),
            "bound": None if alloc.bound is None else round(alloc.bound, 2),
            "gap": None if alloc.gap is None else round(alloc.gap, 6),
            "expected_value_minus_cost": net,
            # (no timings here: summary.json must be the same bytes on a rerun)
            **{k: v for k, v in alloc.stats.items() if k in ("iterations", "candidates")},
        },
        "holdout_mde": mde,
        "weeks": [wk.isoformat() for wk in weeks],
        "festivals": [{"date": d.isoformat(), "name": name} for d, name in week_festivals(spec, weeks)[0]],
        "warnings": [m["warning"] for m in mde if m["warning"]],
    }


def with_held_back(part: PlanResult, kept: np.ndarray, scored: pd.DataFrame, everyone: Audience,
                   held_back: np.ndarray) -> PlanResult:
    """The plan of everyone, from the plan of the customers not held back.

    Parameters
    ----------
    part : the plan of the ``kept`` rows of ``scored``, planned on their own.
    kept : (kept,) int, their rows in ``scored``.
    scored : every scored customer.
    everyone : the audience of all of ``scored`` (:func:`~reactivate.planning.audience.select_audience`).
    held_back : (n,) object, why each customer was held back ("" for the kept).

    Returns
    -------
    PlanResult: the part's touches (``pos`` into ``scored``) and capacity; everyone's suppressed and
    holdout; the part's unscheduled plus the held-back customers of the pool with their reason; the
    part's stats with everyone's counts.
    """
    plan = part.plan.copy()
    plan["pos"] = kept[plan["pos"].to_numpy()]
    out = (held_back != "") & everyone.pool
    extra = pd.DataFrame({"customer_id": everyone.ids[out], "segment_id": scored["segment_id"].to_numpy()[out],
                          "reason": held_back[out]})
    unscheduled = pd.concat([part.unscheduled.astype({"segment_id": object, "reason": object}), extra],
                            ignore_index=True)
    unscheduled = unscheduled.sort_values("customer_id", kind="stable").reset_index(drop=True)
    unscheduled["segment_id"] = pd.Categorical(unscheduled["segment_id"])
    unscheduled["reason"] = pd.Categorical(unscheduled["reason"])
    stats = {**part.stats, "targets": len(everyone.ids), "suppressed": int(everyone.suppressed.sum()),
             "holdout": int(everyone.holdout.sum()), "unscheduled": len(unscheduled)}
    return PlanResult(plan, suppressed_table(everyone), holdout_table(everyone), unscheduled, part.capacity, stats)
