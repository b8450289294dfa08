"""The staged plan: who is contacted, in which week, by which channel.

:func:`build_plan` runs the planning steps in order, all vectorized over customers; each step is a
function of its own module:

1. **Suppression** (absolute; :mod:`~reactivate.planning.suppression`): deceased, legal hold,
   do-not-contact, minors, a recent complaint, or no channel that is both reachable and consented
   (opt-outs recorded in the contact history withdraw a channel).
2. **Holdout** (:mod:`~reactivate.planning.holdout`): a share of each segment drawn from a hash of
   customer id and campaign id, stable across reruns, never contacted; never the customers in hardship.
3. **Waves** (:mod:`~reactivate.planning.waves`): a pilot samples every segment first; main waves
   release at most ``max_release_share`` of a segment each; dated events move the release.
4. **Contact policy** (:mod:`~reactivate.planning.policy`): the history sets the earliest week
   (minimum gap, recent contacts, 30-day cap, touches this campaign already made).
5. **Capacity** (:mod:`~reactivate.planning.capacity`): each channel's and each RM's weekly
   capacity, scaled by the days open that week.
6. **Value** of each channel (:mod:`~reactivate.planning.values`), care first; the **theme** of each
   customer (:mod:`~reactivate.planning.themes`) and their **journey** (:mod:`~reactivate.planning.journeys`).
7. **Allocation** of the first touch (:mod:`~reactivate.planning.allocation`, by
   :mod:`~reactivate.planning.optimizer`): expected value minus contact cost under every capacity.
8. **Journeys**' later steps in the capacity left, within the contact policy.
9. The **result** (:mod:`~reactivate.planning.result`): the touches, suppressed, holdout,
   unscheduled and capacity tables, and the stats.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.allocation import Touches, allocate_first_touches, first_touches, priority_order
from reactivate.planning.audience import select_audience
from reactivate.planning.capacity import CapacityUse, capacity_table, weekly_capacity
from reactivate.planning.journeys import assign_journeys, first_steps_only, schedule_later_steps
from reactivate.planning.policy import contact_window
from reactivate.planning.result import (
    PlanResult,
    holdout_table,
    plan_stats,
    suppressed_table,
    touch_table,
    unscheduled_reasons,
    unscheduled_table,
    with_held_back,
)
from reactivate.planning.themes import base_themes
from reactivate.planning.values import channel_values
from reactivate.planning.waves import release_weeks
from reactivate.scoring.timing import week_starts


def build_plan(scored: pd.DataFrame, fit: pd.DataFrame, spec: CampaignSpec, as_of: dt.date, *,
               method: str | None = None, held_back: np.ndarray | None = None) -> PlanResult:
    """Schedule touches for the scored dormant customers.

    Parameters
    ----------
    scored : indexed by customer_id; the customer columns (flags, reach, consent, opt-outs, rm_id,
        age, last_contact, contacts_30d, optionally touches_campaign) plus segment_id, p_reactivate,
        value, priority_rank, best_week, event and reason.
    fit : channel fit per segment (segment ids x channels).
    spec : the campaign.
    as_of : the day the book was extracted.
    method : overrides ``optimizer.method`` ("lagrangian" or "exact").
    held_back : (n,) str, a reason per customer to leave them out of this plan ("" for none; the
        weekly loop's rest, touch limit and follow-ups). The held-back customers are planned as
        though absent; the suppression and the holdout are still decided on everyone, and those of
        the pool are listed as unscheduled with their reason.

    Returns
    -------
    PlanResult
    """
    if held_back is not None and (np.asarray(held_back, dtype=object) != "").any():
        held_back = np.asarray(held_back, dtype=object)
        kept = np.flatnonzero(held_back == "")
        part = build_plan(scored.iloc[kept], fit, spec, as_of, method=method)
        return with_held_back(part, kept, scored, select_audience(scored, spec), held_back)
    weeks = week_starts(spec, as_of)
    audience = select_audience(scored, spec)
    release = release_weeks(scored, audience, spec)
    window = contact_window(scored, spec, weeks)
    start = np.maximum(release.week, window.earliest_week)
    capacity = weekly_capacity(scored["rm_id"], spec, audience.channels, weeks)
    values = channel_values(scored, fit, audience, capacity, spec)
    themes = base_themes(scored, audience, spec)
    journeys = assign_journeys(spec, audience.channels, audience.segment_ids, themes.names, values.reachable)
    order = priority_order(scored["priority_rank"].to_numpy(dtype=float), release.pilot, audience.hardship)
    alloc = allocate_first_touches(first_steps_only(values.util, journeys), start, audience.pool, order,
                                   audience.hardship, capacity, spec, method)
    first = first_touches(alloc, journeys.first_step)
    use = CapacityUse.none(capacity).plus(capacity, first.rows, first.week, first.channel)
    later, use, journey_steps = schedule_later_steps(
        journeys, alloc.week, window.touches_used, scored["contacts_30d"].to_numpy(dtype=float), capacity, use,
        order, weeks, as_of, spec.policy)
    touches = Touches.concat([first, *later]).ordered(scored["priority_rank"].to_numpy(dtype=float))
    reasons = unscheduled_reasons(values, window, start, len(weeks), spec.policy)
    unscheduled = unscheduled_table(audience, audience.pool & (alloc.week < 0), reasons)
    return PlanResult(
        plan=touch_table(touches, scored, audience, capacity, release, themes, journeys, weeks, spec),
        suppressed=suppressed_table(audience),
        holdout=holdout_table(audience),
        unscheduled=unscheduled,
        capacity=capacity_table(capacity, use, weeks),
        stats=plan_stats(scored, audience, release, values, alloc, unscheduled, len(touches.rows), journey_steps,
                         weeks, spec),
    )
