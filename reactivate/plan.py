"""The staged plan: who is contacted, in which week, by which channel.

Steps, all vectorized over customers:

1. **Suppression** (absolute): deceased, legal hold, do-not-contact, minors,
   a recent complaint, or no channel that is both reachable and consented
   (opt-outs recorded in the contact history withdraw a channel).
2. **Holdout**: a share of each segment drawn from a hash of customer id and
   campaign id: stable across reruns, never contacted. Customers in hardship
   are never held out: care is not an experiment.
3. **Waves**: a pilot samples every segment in the first week(s); main waves
   start after the pilot's response window and release at most
   ``max_release_share`` of a segment each; a customer with a deadline or a
   maturity is released for their best week.
4. **Contact policy**: the history sets the earliest week (minimum gap, recent
   contacts, 30-day cap).
5. **Allocation** week by week: care first (hardship), then pilot, then by
   priority; each customer takes the best channel with capacity left (channel
   weekly capacity; for calls, their own RM's weekly calls or the pool's),
   falling back to a channel worth at least half as much.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reactivate.config import CampaignSpec
from reactivate.labels import text_from_keys
from reactivate.schema import CHANNELS
from reactivate.timing import festival_ahead, festivals, week_starts

POOL = "POOL"
#: a fallback channel must be worth at least this share of the best one
FALLBACK_RATIO = 0.5
MAX_CHOICES = 3


@dataclass
class PlanResult:
    plan: pd.DataFrame
    suppressed: pd.DataFrame
    holdout: pd.DataFrame
    unscheduled: pd.DataFrame
    capacity: pd.DataFrame
    stats: dict = field(default_factory=dict)


def hash01(ids: pd.Index | pd.Series, key: str) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per id, keyed by ``key`` (no global RNG)."""
    k = hashlib.sha256(key.encode()).hexdigest()[:16]
    h = pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=k, categorize=False)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def suppression_reasons(c: pd.DataFrame, eligible: np.ndarray, spec: CampaignSpec) -> np.ndarray:
    """The first reason each customer may not be contacted at all, '' when they may."""
    age = c["age"].to_numpy(dtype=float)
    conds = [
        c["deceased"].to_numpy(dtype=bool),
        c["legal_hold"].to_numpy(dtype=bool),
        c["do_not_contact"].to_numpy(dtype=bool),
        ~np.isnan(age) & (age < spec.policy.min_age),
        c["complaint_recent"].to_numpy(dtype=bool),
        ~eligible.any(axis=1),
    ]
    names = ["deceased", "legal hold", "do not contact", "minor", "recent complaint", "no consenting channel"]
    return np.select(conds, names, default="").astype(object)


def channel_eligibility(c: pd.DataFrame, spec: CampaignSpec) -> tuple[list[str], np.ndarray]:
    """Channels of the spec and an (n x channels) matrix: reachable, consented, not opted out."""
    chans = [ch for ch in CHANNELS if ch in spec.channels]
    hardship = c["hardship"].to_numpy(dtype=bool)
    cols = []
    for ch in chans:
        ok = (
            c[f"has_{ch}"].to_numpy(dtype=bool)
            & c[f"consent_{ch}"].to_numpy(dtype=bool)
            & ~c[f"opted_out_{ch}"].to_numpy(dtype=bool)
        )
        if not spec.channels[ch].human:
            ok &= ~hardship  # care first: people in hardship get a person, never an automated push
        cols.append(ok)
    mat = np.column_stack(cols) if cols else np.zeros((len(c), 0), dtype=bool)
    return chans, mat


def build_plan(scored: pd.DataFrame, fit: pd.DataFrame, spec: CampaignSpec, as_of: dt.date) -> PlanResult:
    """Schedule touches for the scored dormant customers.

    ``scored`` is indexed by customer_id and carries the customer columns
    (flags, reach, consent, opt-outs, rm_id, age, last_contact, contacts_30d)
    plus segment_id, segment_rank, p_reactivate, value, expected_value,
    priority_rank, best_week, event, reason.
    """
    c = scored
    n = len(c)
    ids = c.index
    weeks = week_starts(spec, as_of)
    H = len(weeks)
    start = weeks[0]
    chans, elig = channel_eligibility(c, spec)
    reason = suppression_reasons(c, elig, spec)
    suppressed = reason != ""
    hardship = c["hardship"].to_numpy(dtype=bool)
    seg_cat = c["segment_id"].astype("category").array
    seg_codes, seg_names = np.asarray(seg_cat.codes, dtype=np.int64), np.asarray(seg_cat.categories, dtype=object)
    camp = spec.campaign.id

    holdout = ~suppressed & ~hardship & (hash01(ids, f"{camp}:holdout") < spec.holdout.share)
    pool = ~suppressed & ~holdout

    # -- utility of each channel: expected value on it minus its cost
    p = c["p_reactivate"].to_numpy(dtype=float)
    value = c["value"].to_numpy(dtype=float)
    seg_fit = fit.reindex(index=seg_names, columns=chans).fillna(0.0).to_numpy()[seg_codes]
    cost = np.array([spec.channels[ch].cost for ch in chans])
    util = (p * value)[:, None] * seg_fit - cost[None, :]
    # care contacts are not judged by value: any eligible human channel, by fit
    util = np.where(hardship[:, None], seg_fit + 1.0, util)
    open_ch = np.array([spec.channels[ch].weekly_capacity > 0 for ch in chans], dtype=bool)
    util = np.where(elig & open_ch[None, :], util, -np.inf)
    order = np.argsort(-util, axis=1, kind="stable")[:, :MAX_CHOICES]
    best_u = np.take_along_axis(util, order[:, :1], axis=1)[:, 0]
    choice_u = np.take_along_axis(util, order, axis=1)
    usable = np.isfinite(choice_u) & (choice_u > 0) & (choice_u >= FALLBACK_RATIO * best_u[:, None])
    worth = usable[:, 0]

    # -- contact policy from the history: the earliest week allowed
    pol = spec.policy
    last = c["last_contact"]
    gap = max(pol.min_gap_days, pol.skip_contacted_within_days)
    earliest = last + pd.Timedelta(days=gap)
    capped = (c["contacts_30d"].to_numpy(dtype=float) >= pol.max_touches_30d)
    earliest = earliest.where(~capped, np.maximum(earliest, last + pd.Timedelta(days=30)))
    ew = np.ceil((earliest - pd.Timestamp(start)).dt.days.to_numpy(dtype=float) / 7.0)
    earliest_week = np.clip(np.nan_to_num(ew, nan=0.0), 0, None).astype(int)

    # -- waves
    wv = spec.waves
    seg_size = np.bincount(seg_codes[pool], minlength=len(seg_names))
    u_pilot = hash01(ids, f"{camp}:{spec.campaign.seed}:pilot")  # the holdout ignores the seed: it stays put
    pilot_rank = _rank_within(seg_codes, u_pilot, pool & ~hardship)
    n_pilot = np.ceil(seg_size * wv.pilot_share).astype(int)
    n_pilot[seg_size < max(wv.pilot_min_customers, 1)] = 0
    pilot = pool & ~hardship & (pilot_rank < n_pilot[seg_codes])
    prio = c["priority_rank"].to_numpy(dtype=float)
    main = pool & ~hardship & ~pilot
    main_rank = _rank_within(seg_codes, prio, main)
    per_wave = np.maximum(np.floor(seg_size * wv.max_release_share), 1).astype(int)
    r = main_rank // per_wave[seg_codes]
    # within a wave, customers are spread evenly over its weeks, higher priority first
    offset = (main_rank % per_wave[seg_codes]) * wv.wave_weeks // per_wave[seg_codes]
    main_start = wv.pilot_weeks + int(np.ceil(wv.response_window_days / 7))
    release = np.where(pilot, 0, main_start + r * wv.wave_weeks + offset)
    best = c["best_week"].to_numpy(dtype=int)
    event = c["event"].to_numpy(dtype=object)
    # dated events pull the release forward: deadlines at once, maturities after the pilot
    is_dl = main & (event == "deadline")
    release = np.where(is_dl, np.minimum(release, best), release)
    # maturities and birthdays: the week the event asks for, once the pilot has been read
    is_mat = main & np.isin(event, ["maturity", "birthday"])
    release = np.where(is_mat, np.maximum(best, main_start), release)
    release = np.where(hardship, 0, release)
    wave = np.where(hardship, 0, np.where(pilot, 1, 2 + r))
    target = np.maximum(release, earliest_week)

    # -- allocation, week by week
    rm_codes, rm_names = rm_positions(c["rm_id"])
    rm_cap = np.full(len(rm_names), spec.rm.calls_per_week, dtype=np.int64)
    rm_cap[-1] = spec.rm.pool_calls_per_week  # the pool is last
    ch_cap = np.array([spec.channels[ch].weekly_capacity for ch in chans], dtype=np.int64)
    phone = chans.index("phone") if "phone" in chans else -1

    # one global order: care first, then pilot, then priority (ids break ties)
    key = np.lexsort((np.arange(n), prio, np.where(pilot, 0, 1), np.where(hardship, 0, 1)))
    sched_week = np.full(n, -1)
    sched_ch = np.full(n, -1)
    seen_candidate = np.zeros(n, dtype=bool)
    cap_rows = []
    workable = pool & worth & (target < H)
    for w in range(H):
        rm_left = rm_cap.copy()
        ch_left = ch_cap.copy()
        for level in range(order.shape[1]):
            cand = workable & (sched_week < 0) & (target <= w) & usable[:, level]
            seen_candidate |= cand
            pos = key[cand[key]]  # candidates in priority order
            if len(pos) == 0:
                continue
            ch = order[pos, level]
            ok = np.ones(len(pos), dtype=bool)
            if phone >= 0:
                is_call = ch == phone
                rrank = _cumcount(rm_codes[pos[is_call]])
                ok_call = rrank < rm_left[rm_codes[pos[is_call]]]
                ok[np.flatnonzero(is_call)] = ok_call
            crank = np.full(len(pos), np.iinfo(np.int64).max)
            crank[ok] = _cumcount(ch[ok])
            ok &= crank < ch_left[ch]
            took = pos[ok]
            sched_week[took] = w
            sched_ch[took] = ch[ok]
            ch_left -= np.bincount(ch[ok], minlength=len(chans))
            if phone >= 0:
                rm_left -= np.bincount(rm_codes[took[ch[ok] == phone]], minlength=len(rm_names))
        ws = weeks[w].isoformat()
        for j, name in enumerate(chans):
            cap_rows.append((ws, "channel", name, int(ch_cap[j]), int(ch_cap[j] - ch_left[j])))
        if phone >= 0:
            used = rm_cap - rm_left
            for k in np.flatnonzero(used > 0):  # RMs that made calls this week
                cap_rows.append((ws, "pool" if k == len(rm_names) - 1 else "rm", rm_names[k], int(rm_cap[k]),
                                 int(used[k])))
    capacity = pd.DataFrame(cap_rows, columns=["week_start", "resource", "name", "capacity", "used"])

    # -- touches: only the scheduled rows from here on
    d = np.flatnonzero(sched_week >= 0)
    done = sched_week >= 0
    fests = festivals(spec.campaign.country, weeks[0], weeks[-1] + dt.timedelta(days=7))
    week_fest = np.array([festival_ahead(wk, fests) for wk in weeks], dtype=object)  # one per week
    fest = week_fest[sched_week[d]]
    ev = event[d]
    theme = np.select(
        [hardship[d], ev == "deadline", ev == "maturity", ev == "birthday", fest != ""],
        ["care_checkin", "dormancy_notice", "maturity_reminder", "birthday_greeting", "festival_greeting"],
        default="welcome_back",
    )
    why = text_from_keys([c["reason"].to_numpy(dtype=object)[d], hardship[d], fest], _touch_reason)
    week_arr = np.array([wk.isoformat() for wk in weeks], dtype=object)
    plan = pd.DataFrame(
        {
            "customer_id": ids[d],
            "segment_id": pd.Categorical.from_codes(seg_codes[d], categories=seg_names),
            "wave": wave[d],
            "week_start": pd.Categorical.from_codes(sched_week[d], categories=week_arr, ordered=True),
            "channel": pd.Categorical.from_codes(sched_ch[d], categories=chans),
            "step": 1,
            "rm_id": pd.Categorical.from_codes(rm_codes[d], categories=rm_names),
            "theme": pd.Categorical(theme),
            "reason": why,
            "priority_rank": prio[d].astype(int),
            "pos": d,  # the customer's row in ``scored`` (not written)
        }
    )
    # customer ids are unique, so (week, priority) already orders every row
    plan = plan.iloc[np.lexsort((plan["priority_rank"].to_numpy(), sched_week[d]))].reset_index(drop=True)

    def seg_of(mask):
        return pd.Categorical.from_codes(seg_codes[mask], categories=seg_names)

    sup = pd.DataFrame({"customer_id": ids[suppressed], "segment_id": seg_of(suppressed),
                        "reason": reason[suppressed]})
    hold = pd.DataFrame({"customer_id": ids[holdout], "segment_id": seg_of(holdout)})
    un_reason = np.select(
        [~np.isfinite(best_u), ~worth, earliest_week >= H, target >= H, seen_candidate],
        ["no open channel the customer consented to", "no channel worth its cost", "contact policy: contacted too recently",
         "released in a wave after the horizon", "no capacity left"],
        default="no capacity left",
    )
    un = pool & ~done
    unscheduled = pd.DataFrame({"customer_id": ids[un], "segment_id": seg_of(un),
                                "reason": pd.Categorical(un_reason[un])})
    stats = {
        "targets": int(n),
        "suppressed": int(suppressed.sum()),
        "holdout": int(holdout.sum()),
        "scheduled": int(done.sum()),
        "unscheduled": int(un.sum()),
        "pilot": int((pilot & done).sum()),
        "weeks": [wk.isoformat() for wk in weeks],
        "festivals": [{"date": d.isoformat(), "name": nm} for d, nm in fests],
    }
    return PlanResult(plan, sup, hold, unscheduled, capacity, stats)


def _touch_reason(reason: str, hardship: bool, festival: str) -> str:
    text = "hardship: care check-in first" if hardship else reason
    return f"{text}; ahead of {festival}" if festival else text


def rm_positions(rm_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes into sorted RM names with the POOL (customers without an RM) last."""
    cat = rm_id if isinstance(rm_id.dtype, pd.CategoricalDtype) else rm_id.astype("category")
    cats = cat.cat.categories.astype(str).to_numpy()
    order = np.argsort(cats, kind="stable")
    remap = np.empty(len(cats), dtype=np.int64)
    remap[order] = np.arange(len(cats))
    codes = cat.cat.codes.to_numpy()
    names = np.array([*cats[order], POOL], dtype=object)
    if len(cats) == 0:
        return np.zeros(len(codes), dtype=np.int64), names
    return np.where(codes >= 0, remap[np.maximum(codes, 0)], len(cats)), names


def _cumcount(codes: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each code, in the given order."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    return pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()


def _rank_within(groups: np.ndarray, score: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rank (0-based) of ``score`` within each group, among rows where ``mask``; others get n."""
    n = len(groups)
    out = np.full(n, n, dtype=np.int64)
    sel = np.flatnonzero(mask)
    o = sel[np.lexsort((sel, score[sel], groups[sel]))]
    out[o] = _cumcount(groups[o])
    return out
