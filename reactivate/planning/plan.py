"""The staged plan: who is contacted, in which week, by which channel.

Steps, all vectorized over customers:

1. **Suppression** (absolute): deceased, legal hold, do-not-contact, minors,
   a recent complaint, or no channel that is both reachable and consented
   (opt-outs recorded in the contact history withdraw a channel).
2. **Holdout**: a share of each segment (``holdout.share``, or
   ``holdout.segment_share``) drawn from a hash of customer id and campaign
   id: stable across reruns, never contacted, and with
   ``holdout.exclusive_with`` never overlapping other campaigns' holdouts.
   Customers in hardship are never held out: care is not an experiment.
3. **Waves**: a pilot samples every segment in the first week(s); main waves
   start after the pilot's response window and release at most
   ``max_release_share`` of a segment each; a customer with a deadline or a
   maturity is released for their best week.
4. **Contact policy**: the history sets the earliest week (minimum gap, recent
   contacts, 30-day cap); touches this campaign already made (``touches_campaign``,
   on a rerun mid-campaign) count against ``policy.max_touches``.
5. **Capacity**: each channel's weekly capacity, scaled by the days it is
   open that week (its weekdays, public holidays, ``campaign.blackout_dates``);
   each RM's weekly calls (``rm.overrides`` per RM), the pool's for customers
   without an RM.
6. **Allocation** by :mod:`reactivate.planning.optimizer`: maximize expected value minus
   contact cost (a small cost per week of waiting) under every capacity. Care
   first: customers in hardship get only human channels and are worth more
   than any sale, so they are placed first.
7. **Journeys**: the later steps of a customer's journey (e.g. WeChat, then an
   RM call a week later if no response) go into the capacity left, each step
   only on a channel the customer may be reached on and within the contact
   policy (touches per campaign, per 30 days, minimum gap).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

from reactivate.config.campaign import WEEKDAYS, CampaignSpec
from reactivate.labels import text_from_keys
from reactivate.planning.optimizer import _cumcount, _cumcount_sorted, allocate
from reactivate.schema import CHANNELS
from reactivate.scoring.timing import festival_ahead, festivals, week_starts

POOL = "POOL"
#: power and two-sided significance of the holdout comparison (minimum detectable effect)
MDE_POWER = 0.8
MDE_ALPHA = 0.05
#: why a customer was left unscheduled: the reason and its kind
UNSCHEDULED = {
    "no open channel the customer consented to": "consent",
    "no channel worth its cost": "value",
    "contact policy: contacted too recently": "policy",
    "contact policy: touches per campaign used": "policy",
    "released in a wave after the horizon": "policy",
    "no capacity left": "capacity",
}


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


def build_plan(scored: pd.DataFrame, fit: pd.DataFrame, spec: CampaignSpec, as_of: dt.date, *,
               method: str | None = None) -> PlanResult:
    """Schedule touches for the scored dormant customers.

    ``scored`` is indexed by customer_id and carries the customer columns
    (flags, reach, consent, opt-outs, rm_id, age, last_contact, contacts_30d)
    plus segment_id, segment_rank, p_reactivate, value, expected_value,
    priority_rank, best_week, event, reason. ``method`` overrides
    ``optimizer.method`` ("lagrangian" or "exact").
    """
    c = scored
    n = len(c)
    ids = c.index
    weeks = week_starts(spec, as_of)
    H = len(weeks)
    start = weeks[0]
    chans, elig = channel_eligibility(c, spec)
    C = len(chans)
    reason = suppression_reasons(c, elig, spec)
    suppressed = reason != ""
    hardship = c["hardship"].to_numpy(dtype=bool)
    seg_cat = c["segment_id"].astype("category").array
    seg_codes, seg_names = np.asarray(seg_cat.codes, dtype=np.int64), np.asarray(seg_cat.categories, dtype=object)
    camp = spec.campaign.id

    holdout = ~suppressed & ~hardship & holdout_draw(ids, seg_codes, seg_names, spec)
    pool = ~suppressed & ~holdout

    # -- capacity per channel and week (open days), per RM and week
    open_days, usual_days = channel_open_days(spec, chans, weeks)
    ch_cap = np.array([np.floor(spec.channels[ch].weekly_capacity * open_days[j] / max(usual_days[j], 1))
                       for j, ch in enumerate(chans)], dtype=np.int64).reshape(C, H)
    rm_codes, rm_names = rm_positions(c["rm_id"])
    calls = np.array([spec.rm.overrides.get(str(r), spec.rm.calls_per_week) for r in rm_names[:-1]]
                     + [spec.rm.pool_calls_per_week], dtype=float)
    phone = chans.index("phone") if "phone" in chans else -1
    phone_share = open_days[phone] / max(usual_days[phone], 1) if phone >= 0 else np.ones(H)
    rm_cap = np.floor(calls[:, None] * phone_share[None, :]).astype(np.int64)

    # -- value of each channel: expected value on it minus its cost
    p = c["p_reactivate"].to_numpy(dtype=float)
    value = c["value"].to_numpy(dtype=float)
    seg_fit = fit.reindex(index=seg_names, columns=chans).fillna(0.0).to_numpy()[seg_codes]
    cost = np.array([spec.channels[ch].cost for ch in chans])
    util = (p * value)[:, None] * seg_fit - cost[None, :]
    open_ch = ch_cap.sum(axis=1) > 0
    ok = elig & open_ch[None, :]
    sales = util[ok & ~hardship[:, None]]
    # care first: a care contact is worth more than any sale, more on the channel that fits better
    care_value = (float(sales.max()) if sales.size else 0.0) + 1.0
    util = np.where(hardship[:, None], care_value + seg_fit, util)
    util = np.where(ok, util, -np.inf)
    best_u = util.max(axis=1) if C else np.full(n, -np.inf)

    # -- contact policy from the history: the earliest week allowed
    pol = spec.policy
    last = c["last_contact"]
    gap = max(pol.min_gap_days, pol.skip_contacted_within_days)
    earliest = last + pd.Timedelta(days=gap)
    capped = (c["contacts_30d"].to_numpy(dtype=float) >= pol.max_touches_30d)
    # touches this campaign already made (a rerun mid-campaign) count against max_touches
    used_touches = (c["touches_campaign"].to_numpy(dtype=float) if "touches_campaign" in c.columns
                    else np.zeros(n))
    earliest = earliest.where(~capped, np.maximum(earliest, last + pd.Timedelta(days=30)))
    ew = np.ceil((earliest - pd.Timestamp(start)).dt.days.to_numpy(dtype=float) / 7.0)
    earliest_week = np.clip(np.nan_to_num(ew, nan=0.0), 0, None).astype(int)
    earliest_week = np.where(used_touches >= pol.max_touches, H, earliest_week)

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
    # within a wave, customers are released evenly over its weeks, higher priority first
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

    # -- themes and journeys (a journey's first step the customer can take is its first touch)
    # themes as codes into one list: events and care first, then each segment's theme
    theme_cats = ["care_checkin", "dormancy_notice", "maturity_reminder", "birthday_greeting", "welcome_back",
                  "festival_greeting"]
    for sg in seg_names:
        t_ = spec.themes.segments.get(str(sg), "welcome_back")
        if t_ not in theme_cats:
            theme_cats.append(t_)
    seg_theme = np.array([theme_cats.index(spec.themes.segments.get(str(sg), "welcome_back")) for sg in seg_names]
                         + [4], dtype=np.int64)
    base_code = np.select(
        [hardship, event == "deadline", event == "maturity", event == "birthday"], [0, 1, 2, 3],
        default=seg_theme[seg_codes] if len(seg_names) else 4,
    ).astype(np.int64)
    base_theme = np.asarray(theme_cats, dtype=object)[base_code] if spec.journeys else None
    jr = _journeys(spec, chans, seg_names[seg_codes] if len(seg_names) else np.zeros(n, dtype=object),
                   base_theme, ok)
    in_journey = jr["journey"] >= 0
    if in_journey.any():
        first_ch = jr["first_channel"]
        keep = np.zeros_like(ok)
        keep[np.flatnonzero(in_journey), first_ch[in_journey]] = True
        util = np.where(in_journey[:, None] & ~keep, -np.inf, util)

    # -- allocation of the first touch
    workable = pool & (target < H)
    lo = np.where(workable, target, H)
    order_key = prio + n * (~pilot) + 2.0 * n * (~hardship)  # care first, then the pilot, then priority
    opt = spec.optimizer
    alloc = allocate(np.where(workable[:, None], util, -np.inf), lo, rm_codes, ch_cap, rm_cap, phone,
                     delay_cost=opt.delay_cost, priority=order_key, method=method or opt.method,
                     iterations=opt.iterations, first=hardship & workable)
    sched_week, sched_ch = alloc.week, alloc.channel
    done = sched_week >= 0
    used_c = np.zeros((C, H), dtype=np.int64)
    np.add.at(used_c, (sched_ch[done], sched_week[done]), 1)
    used_r = np.zeros(rm_cap.shape, dtype=np.int64)
    first_calls = done & (sched_ch == phone)
    np.add.at(used_r, (rm_codes[first_calls], sched_week[first_calls]), 1)

    # -- later journey steps in the capacity left
    d = np.flatnonzero(done)
    steps = [(d, sched_week[d], sched_ch[d], np.where(in_journey[d], jr["first_step"][d], 0))]
    follow = {"scheduled": 0, "not_scheduled": {}}
    if in_journey.any():
        steps += _journey_followups(jr, done, sched_week, c, spec, as_of, weeks, ok, rm_codes, ch_cap, rm_cap,
                                    used_c, used_r, phone, order_key, follow)

    # -- capacity use: every channel, and every RM (the pool when someone has no RM) each week
    week_arr = np.array([wk.isoformat() for wk in weeks], dtype=object)
    ch_part = pd.DataFrame({"week_start": np.repeat(week_arr, C), "resource": "channel",
                            "name": np.tile(np.array(chans, dtype=object), H),
                            "capacity": ch_cap.T.ravel(), "used": used_c.T.ravel()})
    parts = [ch_part]
    if phone >= 0:
        R = len(rm_names)
        has = np.bincount(rm_codes, minlength=R) > 0
        has[:-1] = True  # every RM of the book; the pool only when someone has no RM
        ks = np.flatnonzero(has)
        parts.append(pd.DataFrame({
            "week_start": np.repeat(week_arr, len(ks)),
            "resource": np.tile(np.where(ks == R - 1, "pool", "rm").astype(object), H),
            "name": np.tile(rm_names[ks], H),
            "capacity": rm_cap[ks].T.ravel(), "used": used_r[ks].T.ravel()}))
    capacity = pd.concat(parts, ignore_index=True)
    capacity = capacity.iloc[np.lexsort((np.arange(len(capacity)), capacity["week_start"].to_numpy()))]
    capacity = capacity.reset_index(drop=True)

    # -- touches
    rows = np.concatenate([s_[0] for s_ in steps])
    t_week = np.concatenate([s_[1] for s_ in steps])
    t_ch = np.concatenate([s_[2] for s_ in steps])
    t_step = np.concatenate([s_[3] for s_ in steps])
    fests = festivals(spec.campaign.country, weeks[0], weeks[-1] + dt.timedelta(days=7))
    week_fest = np.array([festival_ahead(wk, fests) for wk in weeks], dtype=object)  # one per week
    # one order for every column: (week, priority, step); a customer has at most one touch a week
    o = np.lexsort((t_step, prio[rows], t_week))
    rows, t_week, t_ch, t_step = rows[o], t_week[o], t_ch[o], t_step[o]
    fest = week_fest[t_week]
    # a festival greeting replaces the plain welcome back
    theme = np.where((base_code[rows] == 4) & (fest != ""), 5, base_code[rows])
    r_codes, r_uniq = _codes(c["reason"])
    why = text_from_keys([r_codes[rows], hardship[rows], fest],
                         lambda r_, h_, f_: _touch_reason(r_uniq[r_], h_, f_))
    J = len(jr["names"])
    journey = np.where(in_journey[rows], jr["journey"][rows], J)
    cond_cats, cond_code = np.unique(jr["condition"].astype(str), return_inverse=True)
    cond_code = cond_code.reshape(jr["condition"].shape)
    empty_cond = int(np.searchsorted(cond_cats, ""))
    cond = np.where(t_step > jr["first_step"][rows], cond_code[jr["journey"][rows].clip(0), t_step.clip(0)],
                    empty_cond)
    bt_cats, bt_code = np.unique(np.asarray(best_times(spec, chans, weeks), dtype=str), return_inverse=True)
    plan = pd.DataFrame(
        {
            "customer_id": ids[rows],
            "segment_id": pd.Categorical.from_codes(seg_codes[rows], categories=seg_names),
            "wave": wave[rows],
            "week_start": pd.Categorical.from_codes(t_week, categories=week_arr, ordered=True),
            "channel": pd.Categorical.from_codes(t_ch, categories=chans),
            "step": np.where(in_journey[rows], t_step + 1, 1),
            "rm_id": pd.Categorical.from_codes(rm_codes[rows], categories=rm_names),
            "theme": pd.Categorical.from_codes(theme, categories=theme_cats),
            "reason": why,
            "journey": pd.Categorical.from_codes(journey, categories=[*jr["names"], ""]),
            "condition": pd.Categorical.from_codes(cond, categories=cond_cats),
            "best_time": pd.Categorical.from_codes(bt_code[t_ch * H + t_week], categories=bt_cats),
            "priority_rank": prio[rows].astype(int),
            "pos": rows,  # the customer's row in ``scored`` (not written)
        }
    )

    def seg_of(mask):
        return pd.Categorical.from_codes(seg_codes[mask], categories=seg_names)

    sup = pd.DataFrame({"customer_id": ids[suppressed], "segment_id": seg_of(suppressed),
                        "reason": reason[suppressed]})
    hold = pd.DataFrame({"customer_id": ids[holdout], "segment_id": seg_of(holdout)})
    un_reason = np.select(
        [~np.isfinite(best_u), ~(best_u > 0), used_touches >= pol.max_touches, earliest_week >= H, target >= H],
        ["no open channel the customer consented to", "no channel worth its cost",
         "contact policy: touches per campaign used", "contact policy: contacted too recently",
         "released in a wave after the horizon"],
        default="no capacity left",
    )
    un = pool & ~done
    unscheduled = pd.DataFrame({"customer_id": ids[un], "segment_id": seg_of(un),
                                "reason": pd.Categorical(un_reason[un], categories=list(UNSCHEDULED)),
                                "reason_kind": pd.Categorical(pd.Series(un_reason[un]).map(UNSCHEDULED),
                                                              categories=sorted(set(UNSCHEDULED.values())))})
    kinds = unscheduled["reason_kind"].value_counts().sort_index()
    stats = {
        "targets": int(n),
        "suppressed": int(suppressed.sum()),
        "holdout": int(holdout.sum()),
        "scheduled": int(done.sum()),
        "unscheduled": int(un.sum()),
        "unscheduled_by_kind": {str(k): int(v) for k, v in kinds.items() if v},
        "pilot": int((pilot & done).sum()),
        "touches": len(plan),
        "journey_steps": follow,
        "optimizer": {
            "method": alloc.method,
            # the objective counts care contacts at their placement value (above any sale)
            "objective": round(alloc.objective, 2),
            "bound": None if alloc.bound is None else round(alloc.bound, 2),
            "gap": None if alloc.gap is None else round(alloc.gap, 6),
            "expected_value_minus_cost": round(float(
                ((p * value)[:, None] * seg_fit - cost[None, :])[d, sched_ch[d]].sum()), 2) if len(d) else 0.0,
            # (no timings here: summary.json must be the same bytes on a rerun)
            **{k: v for k, v in alloc.stats.items() if k in ("iterations", "candidates")},
        },
        "holdout_mde": holdout_mde(seg_codes, seg_names, done & ~hardship, holdout, p, spec),
        "weeks": [wk.isoformat() for wk in weeks],
        "festivals": [{"date": d_.isoformat(), "name": nm} for d_, nm in fests],
    }
    stats["warnings"] = [m["warning"] for m in stats["holdout_mde"] if m["warning"]]
    return PlanResult(plan, sup, hold, unscheduled, capacity, stats)


def holdout_draw(ids: pd.Index, seg_codes: np.ndarray, seg_names: np.ndarray, spec: CampaignSpec) -> np.ndarray:
    """Who is in this campaign's holdout, before suppression and care are taken out.

    A hash of customer id and campaign id (no seed: it stays put across reruns
    and weeks). With ``exclusive_with``, customers in another campaign's
    holdout (the same hash under that campaign's id) are never in this one,
    and the share is drawn from the rest so the expected share stays the same.
    """
    h = spec.holdout
    shares = np.array([h.segment_share.get(str(sg), h.share) for sg in seg_names], dtype=float)
    share = shares[seg_codes] if len(seg_names) else np.zeros(len(ids))
    u = hash01(ids, f"{spec.campaign.id}:holdout")
    if not h.exclusive_with:
        return u < share
    other = np.zeros(len(ids), dtype=bool)
    free = 1.0
    for camp, s in sorted(h.exclusive_with.items()):
        other |= hash01(ids, f"{camp}:holdout") < s
        free *= 1.0 - s
    return ~other & (u < np.minimum(share / max(free, 1e-9), 1.0))


def holdout_mde(seg_codes, seg_names, treated, holdout, p, spec: CampaignSpec) -> list[dict]:
    """Minimum detectable effect per segment (two-sided 5%, power 80%) of the holdout comparison.

    The treated rate is the segment's mean p_reactivate among the scheduled
    (care customers left out: they are never held out), the control rate that
    times ``holdout.baseline_share``; the expected uplift is their difference.
    A warning when the MDE exceeds it (or there is no holdout).
    """
    z = NormalDist().inv_cdf(1 - MDE_ALPHA / 2) + NormalDist().inv_cdf(MDE_POWER)
    k = len(seg_names)
    n_t = np.bincount(seg_codes[treated], minlength=k)
    n_c = np.bincount(seg_codes[holdout], minlength=k)
    sum_p = np.bincount(seg_codes[treated], weights=p[treated], minlength=k)
    share0 = spec.holdout.baseline_share
    out = []
    for j, name in enumerate(seg_names):  # one row per segment
        if n_t[j] == 0:
            continue
        pt = sum_p[j] / n_t[j]
        p0 = pt * share0
        uplift = pt - p0
        mde = None if n_c[j] == 0 else z * np.sqrt(pt * (1 - pt) / n_t[j] + p0 * (1 - p0) / n_c[j])
        warn = ""
        if mde is None:
            warn = f"segment {name}: no holdout, the uplift cannot be measured"
        elif mde > uplift:
            warn = (f"segment {name}: holdout of {int(n_c[j])} can detect an uplift of {mde:.4f} or more, "
                    f"the expected uplift is {uplift:.4f}")
        out.append({"segment_id": str(name), "treated": int(n_t[j]), "holdout": int(n_c[j]),
                    "expected_rate": round(float(pt), 4), "baseline_rate": round(float(p0), 4),
                    "expected_uplift": round(float(uplift), 4),
                    "mde": None if mde is None else round(float(mde), 4), "warning": warn})
    return out


@lru_cache(maxsize=16)
def _holidays(country: str, start: dt.date, end: dt.date) -> frozenset:
    import holidays

    try:
        cal = holidays.country_holidays(country, years=range(start.year, end.year + 1))
    except (NotImplementedError, KeyError):
        return frozenset()
    return frozenset(d for d in cal if start <= d < end)


def open_days_detail(spec: CampaignSpec, chans: list[str], weeks: list[dt.date]) -> np.ndarray:
    """(channels, weeks, 7) booleans: is the channel open on each day of each week."""
    hol = _holidays(spec.campaign.country, weeks[0], weeks[-1] + dt.timedelta(days=7)) if weeks else frozenset()
    black = set(spec.campaign.blackout_dates)
    out = np.zeros((len(chans), len(weeks), 7), dtype=bool)
    for j, ch in enumerate(chans):  # channels x weeks x 7 days: a few hundred cells
        cfg = spec.channels[ch]
        days = {WEEKDAYS.index(d_) for d_ in cfg.days}
        for w, wk in enumerate(weeks):
            for k in range(7):
                day = wk + dt.timedelta(days=k)
                out[j, w, k] = (day.weekday() in days and day not in black
                                and not (cfg.closed_on_holidays and day in hol))
    return out


def channel_open_days(spec: CampaignSpec, chans: list[str], weeks: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
    """Open days per channel and week (C, H), and each channel's usual open days per week."""
    detail = open_days_detail(spec, chans, weeks)
    usual = np.array([len(set(spec.channels[ch].days)) for ch in chans], dtype=float)
    return detail.sum(axis=2).astype(float).reshape(len(chans), len(weeks)), usual


def best_times(spec: CampaignSpec, chans: list[str], weeks: list[dt.date]) -> list[str]:
    """Per (channel, week), channel-major: the open days of the week and the channel's best hours."""
    detail = open_days_detail(spec, chans, weeks)
    out = []
    for j, ch in enumerate(chans):  # channels x weeks
        hours = spec.channels[ch].hours
        for w, wk in enumerate(weeks):
            days = [wk + dt.timedelta(days=k) for k in range(7) if detail[j, w, k]]
            if not days:
                span = "closed"
            elif len(days) == 1:
                span = days[0].strftime("%a %m-%d")
            else:
                span = f"{days[0].strftime('%a %m-%d')} to {days[-1].strftime('%a %m-%d')}"
            out.append(f"{span} {hours}".strip())
    return out


def _journeys(spec: CampaignSpec, chans: list[str], seg: np.ndarray, theme: np.ndarray, ok: np.ndarray) -> dict:
    """Each customer's journey (-1: none), its first step the customer can take and that step's channel."""
    n = len(seg)
    names = list(spec.journeys)
    K = max((len(j.steps) for j in spec.journeys.values()), default=0)
    # one spare row (no journey) keeps the lookups below valid when there are none
    step_ch = np.full((len(names) + 1, max(K, 1)), -1, dtype=np.int64)
    gap = np.zeros((len(names) + 1, max(K, 1)), dtype=np.int64)
    condition = np.full((len(names) + 1, max(K, 1)), "", dtype=object)
    for a, name in enumerate(names):
        for k, st in enumerate(spec.journeys[name].steps):
            step_ch[a, k] = chans.index(st.channel) if st.channel in chans else -1
            gap[a, k] = st.gap_days
            condition[a, k] = st.condition
    journey = np.full(n, -1, dtype=np.int64)
    for a, name in reversed(list(enumerate(names))):  # the first matching journey wins
        j = spec.journeys[name]
        m = np.ones(n, dtype=bool)
        if j.segments:
            m &= np.isin(seg.astype(str), list(j.segments))
        if j.themes:
            m &= np.isin(theme.astype(str), list(j.themes))
        journey[m] = a
    # eligible steps per customer: (n, K)
    steps_ok = np.zeros((n, max(K, 1)), dtype=bool)
    on = journey >= 0
    if on.any():
        sc = step_ch[journey[on]]
        rows = np.flatnonzero(on)
        steps_ok[rows] = (sc >= 0) & np.take_along_axis(ok[rows], np.maximum(sc, 0), axis=1)
    has = steps_ok.any(axis=1)
    journey = np.where(has, journey, -1)
    first = np.where(has, np.argmax(steps_ok, axis=1), 0)
    first_ch = np.where(has, step_ch[journey.clip(0), first], -1)
    return {"journey": journey, "first_step": first, "first_channel": first_ch, "steps_ok": steps_ok,
            "step_channel": step_ch, "gap": gap, "condition": condition, "names": names, "K": K}


def _journey_followups(jr, done, sched_week, c, spec, as_of, weeks, ok, rm_codes, ch_cap, rm_cap, used_c, used_r,
                       phone, order_key, follow) -> list[tuple]:
    """Place the later steps of each journey in the capacity left (updates ``used_c``/``used_r``)."""
    H = len(weeks)
    pol = spec.policy
    K = jr["K"]
    journey = jr["journey"]
    alive = done & (journey >= 0)
    last_w = np.where(alive, sched_week, -1)
    touches = alive.astype(np.int64) + (c["touches_campaign"].to_numpy(dtype=float).astype(np.int64)
                                        if "touches_campaign" in c.columns else 0)
    hist30 = c["contacts_30d"].to_numpy(dtype=float)
    # weeks of the touches so far, for the 30-day window (four week starts = 28 days back)
    placed = np.full((len(journey), K), -99, dtype=np.int64)
    placed[np.flatnonzero(alive), jr["first_step"][alive]] = sched_week[alive]
    days_after = np.array([(wk - as_of).days for wk in weeks])
    pending_gap = np.zeros(len(journey), dtype=np.int64)
    out = []
    not_sched: dict[str, int] = {}
    for k in range(1, K):
        later = alive & (k > jr["first_step"])
        g = jr["gap"][journey.clip(0), k]
        pending_gap = np.where(later, pending_gap + g, pending_gap)
        cand = later & jr["steps_ok"][:, k]
        if not cand.any():
            continue
        ch = jr["step_channel"][journey.clip(0), k]
        gap_days = np.maximum(pending_gap, pol.min_gap_days)
        w = last_w + np.ceil(gap_days / 7).astype(np.int64)
        reason = np.full(len(journey), "", dtype=object)
        reason[cand & (w >= H)] = "after the horizon"
        reason[cand & (reason == "") & (touches >= pol.max_touches)] = "contact policy: touches per campaign"
        wc = np.clip(w, 0, H - 1)
        in30 = (placed >= (wc - 4)[:, None]).sum(axis=1) + np.where(days_after[wc] < 30, hist30, 0)
        reason[cand & (reason == "") & (in30 + 1 > pol.max_touches_30d)] = "contact policy: touches per 30 days"
        try_ = np.flatnonzero(cand & (reason == ""))
        try_ = try_[np.lexsort((try_, order_key[try_]))]
        cw, ww = ch[try_], w[try_]
        fits = np.ones(len(try_), dtype=bool)
        is_call = cw == phone
        if is_call.any():
            key = rm_codes[try_[is_call]] * H + ww[is_call]
            fits[is_call] = _cumcount(key) < (rm_cap - used_r).ravel()[key]
        rank = np.full(len(try_), np.iinfo(np.int64).max)
        rank[fits] = _cumcount((cw * H + ww)[fits])
        fits &= rank < (ch_cap - used_c).ravel()[cw * H + ww]
        took = try_[fits]
        np.add.at(used_c, (cw[fits], ww[fits]), 1)
        np.add.at(used_r, (rm_codes[took[cw[fits] == phone]], ww[fits & is_call]), 1)
        reason[try_[~fits]] = "no capacity left"
        for r_, cnt in zip(*np.unique(reason[cand & (reason != "")].astype(str), return_counts=True), strict=True):
            not_sched[r_] = not_sched.get(r_, 0) + int(cnt)
        out.append((took, ww[fits], cw[fits], np.full(len(took), k)))
        placed[took, k] = ww[fits]
        last_w[took] = ww[fits]
        touches[took] += 1
        pending_gap[took] = 0
        # a step that could not go ahead ends the journey: the sequence keeps its order
        got = np.zeros(len(journey), dtype=bool)
        got[took] = True
        alive &= ~(cand & ~got)
    follow["scheduled"] = int(sum(len(o[0]) for o in out))
    follow["not_scheduled"] = dict(sorted(not_sched.items()))
    return out


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the distinct values of a text column (categorical codes when it is one)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return np.asarray(col.cat.codes, dtype=np.int64), np.asarray(col.cat.categories, dtype=object)
    codes, uniq = pd.factorize(col, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=object)


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


def _rank_within(groups: np.ndarray, score: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rank (0-based) of ``score`` within each group, among rows where ``mask``; others get n."""
    n = len(groups)
    out = np.full(n, n, dtype=np.int64)
    sel = np.flatnonzero(mask)
    # two stable sorts (score, then group): ties keep the row order, as a lexsort would
    by_score = np.argsort(score[sel], kind="stable")
    o = sel[by_score[np.argsort(groups[sel][by_score], kind="stable")]]
    out[o] = _cumcount_sorted(groups[o])
    return out
