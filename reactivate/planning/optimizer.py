"""The optimizer behind the staged plan: who gets which week and channel.

The problem (one first touch per customer):

    maximize   sum_i  util[i, c] - delay_cost * (w - lo[i])      over chosen (i, c, w)
    subject to at most one (c, w) per customer, w >= lo[i] (release and contact policy),
               touches on channel c in week w        <= ch_cap[c, w]
               calls by RM r (or the pool) in week w  <= rm_cap[r, w]   (channel ``phone`` only)

``util[i, c]`` is the expected reactivation value on channel c minus its cost
(-inf where the customer may not be reached on c). Because every customer's
window is a suffix of the weeks and the delay cost is linear, the problem is a
min-cost flow on a small network: customer -> (channel, release week), a chain
of weeks per channel (moving one week later costs ``delay_cost``), and for
calls a chain per RM whose weekly arcs carry the RM's capacity into the
phone channel's weekly capacity. Its LP relaxation is integral.

Two methods:

``"lagrangian"`` (default)
    Prices on every capacity (channel x week, RM x week) are adjusted by
    projected subgradient steps (Polyak step sizes towards the plain greedy's
    value); at given prices each customer picks its best (channel, week) in
    O(channels), because the best week of a channel for a release week is a
    suffix minimum of the prices, shared by all customers: an iteration is
    one pass over the candidates (:func:`price_step`, folded into loads per
    channel-week and RM-week), made here or, with the Spark engine, on Spark
    (:mod:`reactivate.planning.prices_spark`), and :func:`dual_prices` moves
    the prices by the same rule either way. Above
    ``SAMPLE_SIZE`` candidates the prices are learnt on an even sample with
    scaled capacities and refined on everyone for a few steps. Every price
    vector gives an upper bound (the Lagrangian dual); the best one is
    reported. A feasibility repair then lets customers take their
    price-adjusted best option among those with room (the most valuable
    proposals first), fills what is left at zero prices, and a local
    improvement lets customers left out take a slot with room or evict a
    less valuable holder. Below ``EXACT_BELOW`` candidates the exact method is
    used instead (as fast there, and more reliable on small books).
``"exact"``
    The min-cost flow above, solved by OR-Tools' ``SimpleMinCostFlow`` on
    integer costs (values scaled to about 1e-7 of the largest).

With ``first`` (care first), those customers are placed exactly on their
own, and the others by the chosen method in the capacity left. In that exact
stage, the customers who are sure to get their best option (it fits, whatever
the others do: :func:`_settled`) take it, and only the others go to the
solver, whose time grows faster than the number of customers.

In all cases, the weeks within one resource (a channel, or one RM's calls)
are finally handed out so that the most urgent customers go first
(:func:`assign_weeks`); that does not change the objective.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from reactivate.config.campaign import METHODS

#: below this many candidates the Lagrangian method solves exactly: as fast there, and the price
#: iteration is least reliable on small books with many RMs of a few calls each (it reached 97.7% of
#: the optimum on one such instance of 2,800 customers; see benchmarks/bench_allocate.py)
EXACT_BELOW = 20_000
#: rounds of the local improvement after the repair
IMPROVE_ROUNDS = 4
#: above this many candidates the prices are first learnt on an even sample of this size
SAMPLE_SIZE = 100_000
#: price iterations on everyone after the sample
REFINE_ITERATIONS = 4
#: the customers' choices are made in slices of this many (a slice's rows stay in the cache)
CHOOSE_SLICE = 65_536


@dataclass
class Allocation:
    """Result of :func:`allocate`: ``week`` and ``channel`` per customer (-1 = none)."""

    week: np.ndarray
    channel: np.ndarray
    objective: float
    #: an upper bound on the optimum (the exact optimum in exact mode), None when unknown
    bound: float | None
    method: str
    stats: dict = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap to the bound, (bound - objective) / bound."""
        if self.bound is None or self.bound <= 0:
            return None
        return max(0.0, (self.bound - self.objective) / self.bound)


def objective(util: np.ndarray, lo: np.ndarray, week: np.ndarray, channel: np.ndarray, delay_cost: float) -> float:
    """The value of an allocation: sum of util minus the delay cost of the weeks waited."""
    on = week >= 0
    if not on.any():
        return 0.0
    rows = np.flatnonzero(on)
    return float(util[rows, channel[rows]].sum() - delay_cost * (week[rows] - lo[rows]).sum())


def allocate(
    util: np.ndarray,
    lo: np.ndarray,
    rm: np.ndarray,
    ch_cap: np.ndarray,
    rm_cap: np.ndarray,
    phone: int = -1,
    *,
    delay_cost: float = 0.0,
    priority: np.ndarray | None = None,
    method: str = "lagrangian",
    iterations: int = 35,
    first: np.ndarray | None = None,
    candidates: np.ndarray | None = None,
    settle: bool = False,
    price_pass=None,
) -> Allocation:
    """Choose at most one (week, channel) per customer under channel and RM weekly capacities.

    Parameters
    ----------
    util : (n, C) float
        Net value of reaching customer i on channel c; ``-inf`` (or NaN) where not allowed.
        Only positive values are ever taken.
    lo : (n,) int
        First allowed week (0-based); ``>= H`` means none.
    rm : (n,) int
        The customer's RM (an index into ``rm_cap`` rows; the pool is one of them).
    ch_cap : (C, H) int
        Touches per channel per week.
    rm_cap : (R, H) int
        Calls per RM per week (used by channel ``phone`` only).
    phone : int
        Column of the phone channel in ``util`` (-1: none).
    delay_cost : float
        Cost of each week a touch waits after ``lo`` (makes earlier weeks preferred).
    priority : (n,) float, optional
        Lower is more urgent; orders customers within a resource's weeks (default: by value).
    method : "lagrangian" or "exact"
    iterations : int
        Price iterations of the Lagrangian method.
    first : (n,) bool, optional
        Customers placed first (care; their values are meant to exceed any other's): in the Lagrangian method
        exactly on their own, then the others in the capacity left (the exact method solves everyone at once).
    candidates : (n,) bool, optional
        Only these customers may be placed (default: everyone): as ``util`` at ``-inf`` for the others.
    settle : bool
        Exact method: who is sure to get their best option takes it, the solver places the others
        (:func:`_settled`; the same objective, but among tied optima the pick may differ).
    price_pass : callable, optional
        Lagrangian method: ``price_pass(util, lo, rm, phone, delay_cost)`` makes the price passes over the
        candidates (:class:`LocalPrices`; on Spark :class:`reactivate.planning.prices_spark.SparkPrices`).
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} should be one of {', '.join(METHODS)}")
    if first is not None and method == "lagrangian" and np.any(first):
        return _staged(util, lo, rm, ch_cap, rm_cap, phone, np.asarray(first, dtype=bool), delay_cost=delay_cost,
                       priority=priority, iterations=iterations, candidates=candidates, price_pass=price_pass)
    t0 = time.perf_counter()
    util, lo, rm, ch_cap, rm_cap = _as_arrays(util, lo, rm, ch_cap, rm_cap)
    n, H = len(util), ch_cap.shape[1]
    active, u_a = _candidate_rows(util, lo, _options(util, ch_cap, candidates), H)
    week, chan = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    stats: dict = {"customers": int(n), "candidates": len(active)}
    if len(active) == 0:
        return Allocation(week, chan, 0.0, 0.0, method, {**stats, "seconds": 0.0})
    loa, rma = lo[active], rm[active]
    method = "exact" if len(active) < EXACT_BELOW else method  # small: exact is faster than the price iterations
    if method == "exact":
        ch_a, w_a, bound = _exact(u_a, loa, rma, ch_cap, rm_cap, phone, delay_cost, settle=settle)
    else:
        ch_a, w_a, bound, it = _lagrangian(u_a, loa, rma, ch_cap, rm_cap, phone, delay_cost, iterations, price_pass)
        stats["iterations"] = it
    prio = -u_a.max(axis=1) if priority is None else np.asarray(priority, dtype=np.float64)[active]
    w_a = assign_weeks(ch_a, w_a, loa, rma, prio, phone)
    week[active], chan[active] = w_a, ch_a
    obj = objective(util, lo, week, chan, delay_cost)  # placed options are options: util is their value
    bound = obj if method == "exact" else bound  # exact: the optimum (the solver's figure, costs rounded, differs)
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    return Allocation(week, chan, obj, bound, method, stats)


def _staged(util, lo, rm, ch_cap, rm_cap, phone, first, *, delay_cost, priority, iterations,
            candidates=None, price_pass=None) -> Allocation:
    """Customers in ``first`` exactly on their own, then the others (Lagrangian) in the capacity left."""
    t0 = time.perf_counter()
    util, lo, rm, ch_cap, rm_cap = _as_arrays(util, lo, rm, ch_cap, rm_cap)
    pr = None if priority is None else np.asarray(priority, dtype=np.float64)
    # the first are a few: solved on their rows alone (the same candidates, in the same order, as on a
    # copy of everyone with the others' values at -inf)
    cand = np.ones(len(util), dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    rows = np.flatnonzero(first & cand)
    a = allocate(util[rows], lo[rows], rm[rows], ch_cap, rm_cap, phone, delay_cost=delay_cost,
                 priority=None if pr is None else pr[rows], method="exact", settle=True)
    a = Allocation(_spread(a.week, rows, len(util)), _spread(a.channel, rows, len(util)), a.objective, a.bound,
                   a.method, a.stats)
    on = a.week >= 0
    left_c = ch_cap.copy()
    left_c -= counts2d(a.channel[on], a.week[on], left_c.shape)
    left_r = rm_cap.copy()
    calls = on & (a.channel == phone)
    left_r -= counts2d(rm[calls], a.week[calls], left_r.shape)
    b = allocate(util, lo, rm, left_c, left_r, phone, delay_cost=delay_cost, priority=pr, iterations=iterations,
                 candidates=~first & cand, price_pass=price_pass)
    week = np.where(on, a.week, b.week)
    chan = np.where(on, a.channel, b.channel)
    stats = {"customers": len(util), "candidates": a.stats["candidates"] + b.stats["candidates"],
             "first": int(first.sum()), "iterations": b.stats.get("iterations", 0),
             "seconds": round(time.perf_counter() - t0, 3)}
    bound = None if b.bound is None else a.objective + b.bound
    return Allocation(week, chan, a.objective + b.objective, bound, "lagrangian", stats)


# --------------------------------------------------------------------------- shared pieces


def _options(util: np.ndarray, ch_cap: np.ndarray, candidates: np.ndarray | None) -> np.ndarray:
    """(n, C) bool: the options, finite and positive values of the candidates; a channel with no capacity
    in any week is not one. (A mask, not a masked copy of ``util``: on a large book the (n, C) copies
    were the plan's peak memory.)"""
    ok = np.isfinite(util)
    ok &= util > 0
    ok[:, ch_cap.sum(axis=1) == 0] = False
    if candidates is not None:
        ok &= np.asarray(candidates, dtype=bool)[:, None]
    return ok


def _candidate_rows(util: np.ndarray, lo: np.ndarray, ok: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows with an option and a week left, by release week (see :func:`_choose`), and their values,
    ``-inf`` where no option (np.take and an in-place mask: on a large book several times faster than
    np.where over two gathered (n, C) arrays)."""
    active = np.flatnonzero((lo < H) & ok.any(axis=1))
    active = active[stable_argsort(lo[active])]
    u_a = np.take(util, active, axis=0)
    np.copyto(u_a, -np.inf, where=~np.take(ok, active, axis=0))
    return active, u_a


def counts2d(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(R, H) int64: how many times each (row, col) pair occurs (``np.add.at`` of ones, by a bincount: several
    times faster)."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    return np.bincount(rows * shape[1] + cols, minlength=shape[0] * shape[1]).astype(np.int64).reshape(shape)


def _spread(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """(n,) int: ``values`` at ``rows``, -1 elsewhere."""
    out = np.full(n, -1, dtype=np.int64)
    out[rows] = values
    return out


def _as_arrays(util, lo, rm, ch_cap, rm_cap):
    """The inputs of :func:`allocate` as arrays of the types the methods work on (rm_cap as (R, H))."""
    ch_cap = np.asarray(ch_cap, dtype=np.int64)
    rm_cap = np.asarray(rm_cap, dtype=np.int64).reshape(-1, ch_cap.shape[1])
    return (np.asarray(util, dtype=np.float64), np.asarray(lo, dtype=np.int64), np.asarray(rm, dtype=np.int64),
            ch_cap, rm_cap)


def _suffix_min(price: np.ndarray, delay_cost: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows of weekly prices (k, H): min over w >= lo of price + delay * w, its (earliest) argmin,
    and the second smallest value over the other weeks.

    Returns arrays of shape (k, H + 1); column H (no week left) is +inf / -1.
    """
    k, H = price.shape
    eff = price + delay_cost * np.arange(H)[None, :]
    best = np.full((k, H + 1), np.inf)
    second = np.full((k, H + 1), np.inf)
    arg = np.full((k, H + 1), -1, dtype=np.int64)
    for w in range(H - 1, -1, -1):  # H <= 104 steps over (k,) vectors
        e = eff[:, w]
        take = e <= best[:, w + 1]
        best[:, w] = np.where(take, e, best[:, w + 1])
        arg[:, w] = np.where(take, w, arg[:, w + 1])
        second[:, w] = np.where(take, best[:, w + 1], np.minimum(second[:, w + 1], e))
    return best, arg, second


def assign_weeks(chan: np.ndarray, week: np.ndarray, lo: np.ndarray, rm: np.ndarray, prio: np.ndarray,
                 phone: int) -> np.ndarray:
    """Hand the weeks used by each resource to its customers, most urgent (lowest ``prio``) first.

    A resource is a channel, or one RM's calls. The number of touches per
    resource and week stays the same, so every capacity still holds and the
    objective does not change (windows are suffixes: whoever could take an
    earlier week can take a later one). Week by week, the week's touches go
    to the most urgent customers already released.
    """
    on = np.flatnonzero(chan >= 0)
    if len(on) == 0:
        return week.copy()
    C = int(chan[on].max()) + 1
    group = np.where(chan[on] == phone, C + rm[on], chan[on])
    H = int(max(week[on].max(), lo[on].max())) + 1
    slots = np.zeros((int(group.max()) + 1, H), dtype=np.int64)
    slots += counts2d(group, week[on], slots.shape)
    out = week.copy()
    out[on] = _hand_out(group, lo[on], prio[on], on, slots)
    return out


def _hand_out(group: np.ndarray, lo: np.ndarray, prio: np.ndarray, tie: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Weeks for customers of each group: ``slots[g, w]`` of them in week w, lowest ``prio`` first among
    those with ``lo <= w`` (a loop over weeks, vectorized over customers)."""
    # ``tie`` ascending (the customers' rows) is the order a stable sort keeps anyway
    order = lexsort_ints((prio, group)) if np.all(tie[1:] > tie[:-1]) else np.lexsort((tie, prio, group))
    g, lo_s = group[order], lo[order]
    starts = np.searchsorted(g, np.arange(slots.shape[0]))
    placed = np.zeros(len(order), dtype=bool)
    new_week = np.full(len(order), -1, dtype=np.int64)
    for w in range(slots.shape[1]):
        cand = ~placed & (lo_s <= w)
        csum = np.r_[0, np.cumsum(cand)]
        rank = csum[1:] - 1 - csum[starts][g]
        take = cand & (rank < slots[g, w])
        new_week[take] = w
        placed |= take
    res = np.empty(len(order), dtype=np.int64)
    res[order] = new_week
    return res


def _choose(ua, lo, rm, pc, pr, phone, delay_cost):
    """Each customer's best (channel, week) at prices ``pc`` (C, H) and ``pr`` (R, H).

    ``ua`` is (util + delay_cost * lo).T, shape (C, n), and ``lo`` is sorted ascending, so the price
    of a release week is subtracted from a whole block of customers at once. Returns the score
    (value minus price), channel and week. The customers are taken in slices of ``CHOOSE_SLICE`` (each
    customer on its own: the slices, on two threads, give the same result as one pass).
    """
    n = ua.shape[1]
    best_c, arg_c, _ = _suffix_min(pc, delay_cost)
    best_p = arg_p = None
    if phone >= 0:
        best_p, arg_p, _ = _suffix_min(pc[phone][None, :] + pr, delay_cost)
    s = np.empty(n, dtype=ua.dtype)
    c = np.empty(n, dtype=np.int64)
    w = np.empty(n, dtype=np.int64)

    # slices of about equal size (two at least, for the two threads, once there are a few thousand)
    size = -(-n // max(-(-n // CHOOSE_SLICE), 2 if n >= 8192 else 1))

    def part(a):
        _choose_slice(ua, lo, rm, best_c, arg_c, best_p, arg_p, phone, (s, c, w), a, min(n, a + size))

    starts = range(0, n, max(size, 1))
    if len(starts) > 1:
        list(_threads().map(part, starts))
    else:
        for a in starts:
            part(a)
    return s, c, w


def _threads():
    """Two worker threads (numpy releases the GIL in the element-wise work), made once."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(2, thread_name_prefix="choose")
    return _POOL


_POOL = None


def _choose_slice(ua, lo, rm, best_c, arg_c, best_p, arg_p, phone, out, a0, b0):
    """:func:`_choose` for the customers ``a0:b0``, into ``out`` (score, channel, week)."""
    C = ua.shape[0]
    H1 = best_c.shape[1]  # the weeks and "none left"
    lo = lo[a0:b0]
    n = len(lo)
    cuts = np.searchsorted(lo, np.arange(H1 + 1))
    blocks = [(week0, cuts[week0], cuts[week0 + 1]) for week0 in range(H1) if cuts[week0 + 1] > cuts[week0]]
    s = out[0][a0:b0]
    s[:] = -np.inf
    c = np.zeros(n, dtype=np.int8)  # a few channels: a byte each, widened at the end
    row = np.empty(n, dtype=ua.dtype)
    better = np.empty(n, dtype=bool)
    pidx = rm[a0:b0] * H1 + lo if phone >= 0 else None
    for j in range(C):  # a few channels: one pass each over contiguous rows
        if j == phone:
            np.subtract(ua[j, a0:b0], best_p.ravel()[pidx], out=row)
        else:
            for week0, a, b in blocks:
                np.subtract(ua[j, a0 + a:a0 + b], best_c[j, week0], out=row[a:b])
        np.greater(row, s, out=better)
        np.copyto(s, row, where=better)
        np.copyto(c, j, where=better)
    cw = out[1][a0:b0]
    cw[:] = c
    w = out[2][a0:b0]
    np.take(arg_c.ravel(), cw * H1 + lo, out=w)
    if phone >= 0:
        call = np.flatnonzero(c == phone)
        w[call] = arg_p.ravel()[pidx[call]]


def _greedy_fill(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, pc, pr, chan, week, rounds=200):
    """Feasibility repair: customers propose their best option among those with room (at prices
    ``pc``/``pr``); each resource accepts the most valuable proposals up to what is left."""
    H = ch_cap.shape[1]
    ch_left = ch_cap.copy()
    rm_left = rm_cap.copy()
    on = chan >= 0
    if on.any():
        ch_left -= counts2d(chan[on], week[on], ch_left.shape)
        ph = on & (chan == phone)
        rm_left -= counts2d(rm[ph], week[ph], rm_left.shape)
    todo = np.flatnonzero(~on)
    for _ in range(rounds):
        if len(todo) == 0:
            break
        pcm = np.where(ch_left > 0, pc, np.inf)
        prm = np.where(rm_left > 0, pr, np.inf)
        if len(todo) == len(lo):  # everyone (a first fill): no copy of the values
            s, c, w = _choose(ua, lo, rm, pcm, prm, phone, delay_cost)
        else:
            s, c, w = _choose(ua[:, todo], lo[todo], rm[todo], pcm, prm, phone, delay_cost)
        raw = u[todo, c] - delay_cost * (w - lo[todo])
        want = np.isfinite(s) & (s > 0) & (raw > 0) & (w >= 0)
        if not want.any():
            break
        # prices only rise within a fill (full resources close), so who wants nothing now never will
        todo, s, c, w, raw = todo[want], s[want], c[want], w[want], raw[want]
        # most valuable proposals first (ties in the customers' order: ``todo`` is ascending)
        idx = np.argsort(-s, kind="stable")
        ci, wi = c[idx], w[idx]
        ok = np.ones(len(idx), dtype=bool)
        is_call = ci == phone
        if is_call.any():
            key = rm[todo[idx[is_call]]] * H + wi[is_call]
            ok[is_call] = cumcount(key) < rm_left.ravel()[key]
        key = ci * H + wi
        rank = np.full(len(idx), np.iinfo(np.int64).max)
        rank[ok] = cumcount(key[ok])
        ok &= rank < ch_left.ravel()[key]
        if not ok.any():
            break
        took = todo[idx[ok]]
        chan[took], week[took] = ci[ok], wi[ok]
        ch_left -= counts2d(ci[ok], wi[ok], ch_left.shape)
        cl = ok & is_call
        rm_left -= counts2d(rm[todo[idx[cl]]], wi[cl], rm_left.shape)
        done = np.zeros(len(todo), dtype=bool)
        done[idx[ok]] = True
        todo = todo[~done]
    return chan, week


def lexsort_ints(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``np.lexsort(keys)`` (the last key first; ties keep their positions), in one stable sort when
    every key holds whole numbers: the keys are packed into one int64 key (:func:`stable_argsort`), which
    sorts several times faster than a sort per key. Falls back to ``np.lexsort`` when a key is not whole
    or the packed key would not fit."""
    n = len(keys[0])
    if n == 0:
        return np.lexsort(keys)
    packed = np.zeros(n, dtype=np.int64)
    span = 1
    for k in keys:  # a few keys, least significant first
        k = _whole(k)
        if k is None:
            return np.lexsort(keys)
        lo, hi = int(k.min()), int(k.max())
        if (hi - lo + 1) * span >= 2**62:
            return np.lexsort(keys)
        packed += (k - lo).astype(np.int64) * span
        span *= hi - lo + 1
    return stable_argsort(packed)


def stable_argsort(a: np.ndarray) -> np.ndarray:
    """``np.argsort(a, kind="stable")``; whole numbers spanning less than 2**48 are sorted by 16-bit digits,
    least significant first (a radix sort per digit: linear, where a comparison sort is not)."""
    k = _whole(a) if len(a) else None
    if k is None:
        return np.argsort(a, kind="stable")
    lo, hi = int(k.min()), int(k.max())
    if hi - lo >= 2**48:
        return np.argsort(a, kind="stable")
    d = (k - lo).astype(np.uint64) if hi - lo >= 2**16 else (k - lo).astype(np.uint16)
    order = np.argsort((d & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while (hi - lo) >> shift:  # at most two more digits
        order = order[np.argsort(((d[order] >> np.uint64(shift)) & 0xFFFF).astype(np.uint16), kind="stable")]
        shift += 16
    return order


def _whole(a: np.ndarray) -> np.ndarray | None:
    """``a`` as integers when it holds whole numbers (bool, int, or floats without a fraction), else None."""
    if a.dtype.kind == "b":
        return a.view(np.uint8)
    if a.dtype.kind in "iu":
        return a
    if a.dtype.kind == "f" and np.isfinite(a).all() and np.array_equal(a, np.floor(a)) and np.abs(a).max() < 2**62:
        return a.astype(np.int64)
    return None


def cumcount(codes: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each code, in the given order."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    o = stable_argsort(codes)
    sc = codes[o]
    first = np.r_[True, sc[1:] != sc[:-1]]
    idx = np.arange(len(sc))
    start = np.maximum.accumulate(np.where(first, idx, 0))
    out = np.empty(len(codes), dtype=np.int64)
    out[o] = idx - start
    return out


# --------------------------------------------------------------------------- Lagrangian


def _lagrangian(u, lo, rm, ch_cap, rm_cap, phone, delay_cost, iterations, price_pass=None):
    """Prices by :func:`dual_prices`, a repair at them, the improvement; the channel, week, bound and
    iterations. ``price_pass(u, lo, rm, phone, delay_cost)`` makes the passes over everyone (default:
    :class:`LocalPrices`); the repair and the improvement run here, whatever makes the passes."""
    n, _C = u.shape
    zc, zr = np.where(ch_cap <= 0, np.inf, 0.0), np.where(rm_cap <= 0, np.inf, 0.0)
    empty = np.full(n, -1, dtype=np.int64)
    # single precision halves the memory traffic of the choices; values and objective stay in double
    ua = shifted_values(u, lo, delay_cost, np.float32)
    everyone = LocalPrices(u, ua, lo, rm, phone, delay_cost) if price_pass is None else \
        price_pass(u, lo, rm, phone, delay_cost)
    try:
        pc, pr, it, chan, week, lower = _learn_prices(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, iterations,
                                                      everyone)
        # repair at the prices, then fill what is left at zero prices; keep it unless the greedy was better
        ch2, wk2 = _greedy_fill(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, pc, pr, empty.copy(),
                                empty.copy())
        ch2, wk2 = _greedy_fill(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, zc, zr, ch2, wk2)
        if objective(u, lo, wk2, ch2, delay_cost) > lower:
            chan, week = ch2, wk2
        chan, week = _improve(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, chan, week)
        # the bound at the best prices, again in double precision so that it is a true upper bound
        bound = dual_bound(everyone(pc, pr, exact=True), pc, pr, ch_cap, rm_cap)
    finally:
        everyone.close()
    return chan, week, bound, it


def _learn_prices(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, iterations, everyone):
    """The prices of :func:`_lagrangian` and the iterations run, with the plain greedy's channel, week and
    value (the first primal value, the target of the Polyak steps; -1 and -inf when learnt on a sample)."""
    n = len(u)
    zc, zr = np.where(ch_cap <= 0, np.inf, 0.0), np.where(rm_cap <= 0, np.inf, 0.0)
    empty = np.full(n, -1, dtype=np.int64)
    if n > SAMPLE_SIZE:
        # prices learnt on an even sample (every k-th customer by release week) with capacities scaled
        # to it, then refined for a few iterations on everyone
        k = -(-n // SAMPLE_SIZE)
        sm = np.arange(0, n, k)
        f = len(sm) / n
        su, sua, slo, srm = u[sm], ua[:, sm], lo[sm], rm[sm]
        scc, src = ch_cap * f, rm_cap * f
        sch, swk = _greedy_fill(su, sua, slo, srm, np.floor(scc).astype(np.int64), np.floor(src).astype(np.int64),
                                phone, delay_cost, zc, zr, np.full(len(sm), -1), np.full(len(sm), -1))
        slower = objective(su, slo, swk, sch, delay_cost)
        sample = LocalPrices(su, sua, slo, srm, phone, delay_cost)
        pc, pr, _, it = dual_prices(sample, scc, src, iterations, slower)
        pc, pr, _, it2 = dual_prices(everyone, ch_cap, rm_cap, REFINE_ITERATIONS, slower / f, start=(pc, pr),
                                     theta=0.25)
        return pc, pr, it + it2, empty, empty, -np.inf
    chan, week = _greedy_fill(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, zc, zr, empty.copy(), empty.copy())
    lower = objective(u, lo, week, chan, delay_cost)
    pc, pr, _, it = dual_prices(everyone, ch_cap, rm_cap, iterations, lower)
    return pc, pr, it, chan, week, lower


def shifted_values(u: np.ndarray, lo: np.ndarray, delay_cost: float, dtype) -> np.ndarray:
    """``(u + delay_cost * lo[:, None]).T`` as a C-contiguous (C, n) array of ``dtype``, a slice of
    customers at a time (the sums in double precision, then converted: the same values, without an
    (n, C) temporary; each slice of ``u`` read once, where a channel at a time read all of it per channel)."""
    shift = delay_cost * lo
    out = np.empty((u.shape[1], len(u)), dtype=dtype)
    for a in range(0, len(u), CHOOSE_SLICE):  # slices of rows that stay in the cache
        b = a + CHOOSE_SLICE
        out[:, a:b] = (u[a:b] + shift[a:b, None]).T
    return out


def _improve(u, ua, lo, rm, ch_cap, rm_cap, phone, delay_cost, chan, week, rounds=IMPROVE_ROUNDS):
    """Local improvement: a customer left out takes a slot with room or evicts the least valuable holder
    of a full one (same channel and week; for calls, the same RM and week) when that gains value.
    Every move raises the objective; the evicted may come back elsewhere in the next round."""
    _n, C = u.shape
    H = ch_cap.shape[1]
    R = rm_cap.shape[0]
    n_keys = C * H + R * H
    big = np.iinfo(np.int64).max
    for _ in range(rounds):
        todo = np.flatnonzero(chan < 0)
        if len(todo) == 0:
            break
        on = np.flatnonzero(chan >= 0)
        val = u[on, chan[on]] - delay_cost * (week[on] - lo[on])
        call = chan[on] == phone
        key = np.where(call, C * H + rm[on] * H + week[on], chan[on] * H + week[on])
        used = np.bincount(key, minlength=n_keys)
        used_c = used[:C * H].reshape(C, H).copy()
        if phone >= 0:
            used_c[phone] = np.bincount(week[on][call], minlength=H)
        left_c = ch_cap - used_c
        left_r = rm_cap - used[C * H:].reshape(R, H)
        # the least valuable holder of each resource (the price of evicting it)
        minval = np.full(n_keys, np.inf)
        np.minimum.at(minval, key, val)
        pc = np.where(left_c > 0, 0.0, minval[:C * H].reshape(C, H))
        pc[ch_cap <= 0] = np.inf
        pr = np.where(left_r > 0, 0.0, minval[C * H:].reshape(R, H))
        if phone >= 0:
            # a call needs room (or an eviction) at the RM and room on the phone channel that week
            pr = np.where((left_r > 0) & (left_c[phone][None, :] <= 0), np.inf, pr)
            pc[phone] = 0.0
        s, c, w = _choose(ua[:, todo], lo[todo], rm[todo], pc, pr, phone, delay_cost)
        want = (s > 1e-9) & (w >= 0)
        if not want.any():
            break
        idx = np.flatnonzero(want)
        ci, wi = c[idx], w[idx]
        is_call = ci == phone
        k = np.where(is_call, C * H + rm[todo[idx]] * H + wi, ci * H + wi)
        room = np.where(is_call, left_r.ravel()[np.maximum(k - C * H, 0)], left_c.ravel()[np.minimum(k, C * H - 1)])
        order = np.lexsort((todo[idx], -s[idx], k))
        rank = np.empty(len(idx), dtype=np.int64)
        rank[order] = cumcount_sorted(k[order])
        # into free room: up to the room left; into a full resource: the r-th best proposal evicts the
        # r-th least valuable holder while that still gains (a full resource always has holders)
        full = room <= 0
        holders, g_start = _holders_by_value(key, val, k[full], n_keys)
        pos = g_start[k] + np.minimum(rank, np.maximum(used[k] - 1, 0))
        out_val = np.zeros(len(idx))
        out_val[full] = val[holders[pos[full]]]
        gain = s[idx] + minval[k] - out_val
        ok = np.where(full, (rank < used[k]) & (gain > 1e-9), rank < room)
        # calls into free room also need room on the phone channel that week, across RMs
        free_call = ok & is_call & (room > 0)
        if free_call.any():
            r2 = np.full(len(idx), big)
            sel = np.flatnonzero(free_call)
            sel = sel[np.lexsort((todo[idx[sel]], -s[idx[sel]]))]
            r2[sel] = cumcount(wi[sel])
            ok &= ~free_call | (r2 < left_c[phone][wi])
        if not ok.any():
            break
        evict = ok & full
        out_who = on[holders[pos[evict]]]
        chan[out_who], week[out_who] = -1, -1
        took = todo[idx[ok]]
        chan[took], week[took] = ci[ok], wi[ok]
    return chan, week


def _holders_by_value(key: np.ndarray, val: np.ndarray, wanted: np.ndarray, n_keys: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The holders of the resources ``wanted`` (positions into ``key``), grouped by resource and least
    valuable first (ties in position order), and each resource's first position in that order.

    Only the resources asked for are sorted: on a large book most holders sit in resources nobody left
    out asks for, and sorting them all every round cost more than the rest of the improvement.
    """
    pick = np.zeros(n_keys, dtype=bool)
    pick[wanted] = True
    sub = np.flatnonzero(pick[key])
    sub = sub[np.lexsort((val[sub], key[sub]))]  # stable: ties keep the customers' order
    ks = key[sub]
    g_start = np.zeros(n_keys, dtype=np.int64)
    if len(ks):
        first = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        g_start[ks[first]] = first
    return sub, g_start


@dataclass(frozen=True)
class Loads:
    """One pass of the price iteration over (some of) the candidates, at given prices (:func:`price_step`).

    The passes over parts of the candidates add up: the loads are counts, and the score a sum.
    """

    #: the sum of the positive scores (value minus prices): the customers' term of the dual bound
    score: float
    #: (C, H) int: the touches asked for per channel and week (calls count on the phone channel too)
    channel: np.ndarray
    #: (R, H) int: the calls asked for per RM and week
    rm: np.ndarray


def price_step(ua: np.ndarray, lo: np.ndarray, rm: np.ndarray, pc: np.ndarray, pr: np.ndarray, phone: int,
               delay_cost: float) -> Loads:
    """The price iteration's pass over the candidates: each picks its best (channel, week) at prices ``pc``
    (C, H) and ``pr`` (R, H), and the picks are folded into loads per channel-week and RM-week.

    The one definition of a pass, on this machine (:class:`LocalPrices`) and on Spark, a pandas batch at a
    time (:mod:`reactivate.planning.prices_spark`): each customer's pick depends on the prices alone.

    Parameters
    ----------
    ua : (C, n) the values shifted by the delay cost of the release week (:func:`shifted_values`).
    lo : (n,) int, the release weeks, ascending.
    rm : (n,) int, the customers' RMs (rows of ``pr``).
    pc, pr : the prices of the channels' and the RMs' weekly capacities (``inf``: closed).
    phone : the phone channel's column (-1: none).
    delay_cost : the cost of a week of waiting.
    """
    C, H = pc.shape
    R = pr.shape[0]
    s, c, w = _choose(ua, lo, rm, pc, pr, phone, delay_cost)
    take = s > 0
    load_c = np.bincount(c[take] * H + w[take], minlength=C * H).reshape(C, H)
    call = take & (c == phone)
    load_r = np.bincount(rm[call] * H + w[call], minlength=R * H).reshape(R, H)
    return Loads(float(s[take].sum(dtype=np.float64)), load_c, load_r)


class LocalPrices:
    """The price iteration's pass over every candidate on this machine (the default).

    Called with the prices (and ``exact=True`` for the final bound, in double precision), returns the
    :class:`Loads`; :meth:`close` frees what the passes hold. Another engine's passes (Spark's:
    :class:`reactivate.planning.prices_spark.SparkPrices`) have the same two methods.
    """

    def __init__(self, u, ua, lo, rm, phone, delay_cost):
        self.u, self.ua, self.lo, self.rm, self.phone, self.delay_cost = u, ua, lo, rm, phone, delay_cost

    def __call__(self, pc: np.ndarray, pr: np.ndarray, exact: bool = False) -> Loads:
        ua = shifted_values(self.u, self.lo, self.delay_cost, np.float64) if exact else self.ua
        return price_step(ua, self.lo, self.rm, pc, pr, self.phone, self.delay_cost)

    def close(self) -> None:
        self.ua = None


def dual_bound(loads: Loads, pc: np.ndarray, pr: np.ndarray, ch_cap: np.ndarray, rm_cap: np.ndarray) -> float:
    """The Lagrangian dual bound at prices ``pc``/``pr``: the customers' scores plus the price of every
    open capacity."""
    fin_c, fin_r = ch_cap > 0, rm_cap > 0
    return float(loads.score + (pc[fin_c] * ch_cap[fin_c]).sum() + (pr[fin_r] * rm_cap[fin_r]).sum())


def dual_prices(step, ch_cap, rm_cap, iterations, lower, start=None, theta=1.0):
    """Projected subgradient steps on the capacity prices (Polyak step towards ``lower``, a primal
    value); returns the prices of the best (lowest) dual bound, the bound and the iterations run.

    ``step(pc, pr)`` is the pass over the candidates at the prices (:class:`LocalPrices`, or Spark's): the
    rule that moves the prices is this function's, wherever the passes run.
    """
    fin_c, fin_r = ch_cap > 0, rm_cap > 0
    pc = np.where(fin_c, 0.0, np.inf) if start is None else start[0]
    pr = np.where(fin_r, 0.0, np.inf) if start is None else start[1]
    best_bound, best = np.inf, (pc, pr)
    since, it = 0, 0
    for it in range(1, iterations + 1):  # noqa: B007 - the count is returned
        loads = step(pc, pr)
        bound = dual_bound(loads, pc, pr, ch_cap, rm_cap)
        if bound < best_bound:
            best_bound, best, since = bound, (pc, pr), 0
        else:
            since += 1
            if since >= 5:
                theta, since = theta / 2, 0
        gc = loads.channel - ch_cap
        gr = loads.rm - rm_cap
        # projected: a price at zero cannot go lower; closed resources keep their infinite price
        gc = np.where(fin_c & ((pc > 0) | (gc > 0)), gc, 0)
        gr = np.where(fin_r & ((pr > 0) | (gr > 0)), gr, 0)
        norm = float((gc.astype(float) ** 2).sum() + (gr.astype(float) ** 2).sum())
        if norm == 0 or best_bound - lower <= 1e-9 * max(abs(lower), 1.0):
            break  # the prices are optimal (or the greedy is provably optimal)
        t = theta * (bound - lower) / norm
        pc = np.where(fin_c, np.maximum(0.0, pc + t * gc), np.inf)
        pr = np.where(fin_r, np.maximum(0.0, pr + t * gr), np.inf)
    return best[0], best[1], best_bound, it


def _clearing(key: np.ndarray, margin: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Per resource: the margin of the (cap + 1)-th largest-margin customer asking for it (0 if fewer)."""
    out = np.zeros(len(cap))
    if len(key) == 0:
        return out
    o = np.lexsort((-margin, key))
    k = key[o]
    rank = cumcount_sorted(k)
    hit = rank == cap[k]
    out[k[hit]] = margin[o][hit]
    return out


def cumcount_sorted(k: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each run of equal codes (``k`` already grouped, e.g. sorted)."""
    first = np.r_[True, k[1:] != k[:-1]]
    idx = np.arange(len(k))
    return idx - np.maximum.accumulate(np.where(first, idx, 0))


# --------------------------------------------------------------------------- exact


def _exact(u, lo, rm, ch_cap, rm_cap, phone, delay_cost, *, settle=False):
    """Min-cost flow (OR-Tools) on the week-chain network; returns channel, week and the optimum.

    With ``settle``, the customers whose best option is theirs in every optimum (:func:`_settled`) take
    it; the solver places the others, in the capacity left.
    """
    n, C = u.shape
    H = ch_cap.shape[1]
    R = rm_cap.shape[0]
    fin = np.isfinite(u)
    big = float(np.abs(u[fin]).max()) if fin.any() else 1.0
    unit = big / 1e7  # integer costs: value units of about 1e-7 of the largest value
    kappa = round(delay_cost / unit)
    chan = np.full(n, -1, dtype=np.int64)
    ch_counts, rm_counts, cost = np.zeros((C, H), dtype=np.int64), np.zeros((R, H), dtype=np.int64), 0
    settled = _settled(u, lo, rm, ch_cap, rm_cap, phone, unit, kappa) if settle else None
    rest = np.arange(n)
    if settled is not None:
        rest, chan[settled[0]], ch_counts, rm_counts, cost = settled[1], settled[2], settled[3], settled[4], settled[5]
    if len(rest):
        # only the RMs of the customers left are in their network (with settle; else all, as they are)
        rms, rm_r = np.unique(rm[rest], return_inverse=True) if settle else (np.arange(R), rm[rest])
        c_r, cc, rc, cost_r = _min_cost_flow(u[rest], lo[rest], rm_r.ravel(), ch_cap - ch_counts,
                                             (rm_cap - rm_counts)[rms], phone, unit, kappa)
        chan[rest] = c_r
        rm_counts = rm_counts.copy()
        rm_counts[rms] += rc
        ch_counts, cost = ch_counts + cc, cost + cost_r
    week = _weeks_from_counts(chan, lo, rm, ch_counts, rm_counts, phone)
    return chan, week, -float(cost) * unit


def _int_values(u, unit):
    """(n, C) the solver's integer values (``-inf`` where no option)."""
    val = np.full(u.shape, -np.inf)
    np.rint(u / unit, out=val, where=np.isfinite(u))
    return val


def _settled(u, lo, rm, ch_cap, rm_cap, phone, unit, kappa):
    """The customers whose best option is theirs in every optimum, and that option; or None.

    A customer is settled when their best option (strictly, in the solver's integer values) is on a
    resource (a channel, or for calls the RM and the phone channel) that all the customers whose best it
    is fit in, each in their first week; the others are contested. When, in every week a settled customer
    takes, the settled ones plus every contested customer who could take that week still fit, the settled
    customers cannot be in the way of anyone, so every optimum gives them their best (anything else earns
    them less and nobody more; ``kappa > 0`` makes waiting cost). Then the flow is needed for the
    contested customers only (e.g. the care customers, who rarely fill a resource): the solver's time grows
    faster than the number of customers.

    Returns
    -------
    None when the split does not hold; else (settled rows, contested rows, their channels, channel and RM
    weekly counts (C, H) and (R, H) of the settled, their integer cost)
    """
    n, C = u.shape
    H = ch_cap.shape[1]
    if kappa <= 0 or n == 0:
        return None
    val = _int_values(u, unit)
    best_c = val.argmax(axis=1)
    best = val[np.arange(n), best_c]
    ok = (best >= 1) & ((val == best[:, None]).sum(axis=1) == 1)
    # load of everyone's best option: a resource over its capacity in some week is contested
    call = best_c == phone
    res = np.where(call, C + rm, best_c)  # resource chains: the channels, then the RMs
    load = np.zeros((C + rm_cap.shape[0], H), dtype=np.int64)
    load += counts2d(res[ok], lo[ok], load.shape)
    cap = np.vstack([ch_cap, rm_cap])
    if phone >= 0:
        load[phone] = np.bincount(lo[ok & call], minlength=H)
    over = (load > cap).any(axis=1)
    ok &= ~over[res] & ~(call & (over[phone] if phone >= 0 else False))
    rows, rest = np.flatnonzero(ok), np.flatnonzero(~ok)
    used = np.zeros_like(cap)
    used += counts2d(res[rows], lo[rows], used.shape)
    if phone >= 0:
        used[phone] = np.bincount(lo[rows][call[rows]], minlength=H)
    # what the contested could take, week by week: every option from their first week on
    can = np.zeros_like(cap)
    fin = np.isfinite(val[rest])
    for j in range(C):  # a few channels
        who = rest[fin[:, j]]
        first = np.bincount(lo[who], minlength=H)
        if j == phone:
            can += counts2d(C + rm[who], lo[who], can.shape)
        can[j] += first
    can = np.cumsum(can, axis=1)
    if np.any((used > 0) & (used + can > cap)):
        return None
    cost = -int(best[rows].astype(np.int64).sum())
    return rows, rest, best_c[rows], used[:C], used[C:], cost


def _min_cost_flow(u, lo, rm, ch_cap, rm_cap, phone, unit, kappa):
    """The week-chain network's min-cost flow: each customer's channel (-1: none), the channel and RM
    weekly counts (C, H) and (R, H), and the integer optimal cost."""
    from ortools.graph.python import min_cost_flow

    n, C = u.shape
    H = ch_cap.shape[1]
    R = rm_cap.shape[0]
    fin = np.isfinite(u)
    # nodes: customers, T[c, w] (non-phone chains), TR[r, w] (RM call chains), P[w] (phone weeks), sink
    t0 = n
    tr0 = t0 + C * H
    p0 = tr0 + R * H
    sink = p0 + H
    parts: dict[str, tuple] = {}

    def arcs(name, s, e, cap, cost):
        s = np.asarray(s, dtype=np.int64)
        parts[name] = (s, *(np.broadcast_to(np.asarray(x, dtype=np.int64), s.shape) for x in (e, cap, cost)))

    i_idx, c_idx = np.nonzero(fin)
    val = np.rint(u[i_idx, c_idx] / unit).astype(np.int64)
    call = c_idx == phone
    entry = np.where(call, tr0 + rm[i_idx] * H, t0 + c_idx * H) + lo[i_idx]
    arcs("choice", i_idx, entry, 1, -val)
    arcs("none", np.arange(n), sink, 1, 0)  # not contacted
    cw = np.arange(C * H)
    later = cw % H < H - 1
    arcs("wait", t0 + cw[later], t0 + cw[later] + 1, n, kappa)  # a week later
    not_phone = cw // H != phone
    arcs("channel", t0 + cw[not_phone], sink, ch_cap.ravel()[not_phone], 0)
    rw = np.arange(R * H)
    later_r = rw % H < H - 1
    arcs("rm_wait", tr0 + rw[later_r], tr0 + rw[later_r] + 1, n, kappa)
    arcs("rm", tr0 + rw, p0 + rw % H, rm_cap.ravel(), 0)
    if phone >= 0:
        arcs("phone", p0 + np.arange(H), sink, ch_cap[phone], 0)
    names = list(parts)
    S, E, K, W = (np.concatenate([parts[k][j] for k in names]) for j in range(4))
    flow = min_cost_flow.SimpleMinCostFlow()
    arc_ids = flow.add_arcs_with_capacity_and_unit_cost(S, E, K, W)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:  # pragma: no cover - the network always has a feasible flow
        raise RuntimeError(f"min-cost flow failed with status {status}")
    f = np.asarray(flow.flows(arc_ids))
    bounds = np.cumsum([0, *(len(parts[k][0]) for k in names)])
    seg = {k: f[bounds[j]:bounds[j + 1]] for j, k in enumerate(names)}
    used = seg["choice"] > 0
    chan = np.full(n, -1, dtype=np.int64)
    chan[i_idx[used]] = c_idx[used]
    ch_counts = np.zeros(C * H, dtype=np.int64)
    ch_counts[cw[not_phone]] = seg["channel"]
    if phone >= 0:
        ch_counts.reshape(C, H)[phone] = seg["phone"]
    return chan, ch_counts.reshape(C, H), seg["rm"].reshape(R, H).astype(np.int64), int(flow.optimal_cost())


def _weeks_from_counts(chan, lo, rm, ch_counts, rm_counts, phone):
    """Give each chosen customer a week so that each resource's weekly counts match the flow."""
    week = np.full(len(chan), -1, dtype=np.int64)
    on = np.flatnonzero(chan >= 0)
    if len(on) == 0:
        return week
    C = ch_counts.shape[0]
    group = np.where(chan[on] == phone, C + rm[on], chan[on])
    week[on] = _hand_out(group, lo[on], lo[on], on, np.vstack([ch_counts, rm_counts]))
    return week
