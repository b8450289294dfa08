"""The optimizer: hand-worked cases, feasibility on random instances, and the default's gap to the optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactivate.planning.optimizer import allocate, assign_weeks, lexsort_ints, stable_argsort

NEG = -np.inf


def random_instance(n: int, H: int, C: int, R: int, seed: int, tight: float = 0.6):
    """A random book: values, eligibility, release weeks, RMs, and capacities for about ``tight`` of it."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 8, n)
    v = rng.lognormal(5, 1, n)
    fit = rng.uniform(0.2, 1.0, C)
    fit[0] = 1.0
    cost = np.r_[6.0, rng.uniform(0, 2, C - 1)]
    util = (p * v)[:, None] * fit[None, :] * rng.uniform(0.7, 1.3, (n, C)) - cost
    util[rng.random((n, C)) < 0.3] = NEG
    lo = rng.integers(0, H + 1, n)
    lo[rng.random(n) < 0.5] = 0
    rm = rng.integers(0, R, n)
    per = max(1, int(tight * n / C / H))
    ch_cap = np.maximum(per + rng.integers(-per // 2 - 1, per // 2 + 2, (C, H)), 0)
    rm_cap = np.maximum(rng.integers(0, max(2, int(tight * n * 0.6 / R / H)), (R, H)), 0)
    return util, lo, rm, ch_cap, rm_cap


def check_feasible(alloc, util, lo, rm, ch_cap, rm_cap, phone):
    on = alloc.week >= 0
    assert ((alloc.channel >= 0) == on).all()
    assert np.isfinite(util[on, alloc.channel[on]]).all() and (util[on, alloc.channel[on]] > 0).all()
    assert (alloc.week[on] >= lo[on]).all() and (alloc.week[on] < ch_cap.shape[1]).all()
    used = np.zeros_like(ch_cap)
    np.add.at(used, (alloc.channel[on], alloc.week[on]), 1)
    assert (used <= ch_cap).all()
    calls = on & (alloc.channel == phone)
    used_r = np.zeros_like(rm_cap)
    np.add.at(used_r, (rm[calls], alloc.week[calls]), 1)
    assert (used_r <= rm_cap).all()


@pytest.mark.parametrize("method", ["lagrangian", "exact"])
def test_the_most_valuable_take_the_scarce_slot(method):
    util = np.array([[3.0], [10.0], [5.0]])
    a = allocate(util, np.zeros(3, int), np.zeros(3, int), np.array([[1]]), np.array([[0]]), method=method)
    assert a.channel.tolist() == [-1, 0, -1] and a.week.tolist() == [-1, 0, -1]
    assert a.objective == pytest.approx(10.0)


@pytest.mark.parametrize("method", ["lagrangian", "exact"])
def test_calls_respect_each_rm_and_the_phone_channel(method):
    # 6 customers, 2 RMs with 2 calls a week each, the phone channel 3 a week, 1 week; sms as a fallback
    util = np.array([[9, 1], [8, 1], [7, 1], [6, 1], [5, 1], [4, 1]], dtype=float)
    rm = np.array([0, 0, 0, 1, 1, 1])
    a = allocate(util, np.zeros(6, int), rm, np.array([[3], [10]]), np.array([[2], [2]]), phone=0, method=method)
    assert a.channel.tolist() == [0, 0, 1, 0, 1, 1]
    assert a.objective == pytest.approx(9 + 8 + 1 + 6 + 1 + 1)


@pytest.mark.parametrize("method", ["lagrangian", "exact"])
def test_release_weeks_and_the_cost_of_waiting(method):
    # one slot a week; the customer released in week 1 cannot use week 0, the other waits as little as it can
    util = np.array([[10.0], [10.0]])
    lo = np.array([0, 1])
    a = allocate(util, lo, np.zeros(2, int), np.array([[1, 1, 1]]), np.zeros((1, 3), int), delay_cost=0.5,
                 method=method)
    assert a.week.tolist() == [0, 1]
    assert a.objective == pytest.approx(20.0)


def test_weeks_go_to_the_most_urgent_first():
    chan = np.array([0, 0, 0])
    week = np.array([0, 1, 2])
    lo = np.array([0, 0, 2])
    out = assign_weeks(chan, week, lo, np.zeros(3, int), np.array([3.0, 1.0, 2.0]), phone=-1)
    # customer 1 is the most urgent and released: week 0; customer 2 is released only in week 2
    assert out.tolist() == [1, 0, 2]


@pytest.fixture
def pure_lagrangian(monkeypatch):
    """The price iterations even on small instances (which the default solves exactly)."""
    import reactivate.planning.optimizer as mod

    monkeypatch.setattr(mod, "EXACT_BELOW", 0)
    monkeypatch.setattr(mod, "SAMPLE_SIZE", 2_000)  # and the sampled start on the larger ones


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 400), H=st.integers(1, 12), C=st.integers(1, 5), R=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1), tight=st.floats(0.05, 1.5), delay=st.sampled_from([0.0, 0.05, 1.0]))
def test_feasible_with_a_valid_bound_on_any_instance(pure_lagrangian, n, H, C, R, seed, tight, delay):
    inst = random_instance(n, H, C, R, seed, tight)
    exact = allocate(*inst, phone=0, delay_cost=delay, method="exact")
    fast = allocate(*inst, phone=0, delay_cost=delay)
    assert fast.method == "lagrangian"
    check_feasible(exact, *inst, phone=0)
    check_feasible(fast, *inst, phone=0)
    assert fast.objective <= exact.objective + 1e-6 * max(1.0, exact.objective)
    # the Lagrangian bound is an upper bound on the optimum
    assert fast.bound >= exact.objective * (1 - 1e-9) - 1e-6
    again = allocate(*inst, phone=0, delay_cost=delay)
    assert np.array_equal(again.week, fast.week) and np.array_equal(again.channel, fast.channel)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(n=st.integers(2000, 5000), H=st.integers(4, 12), C=st.integers(2, 5), R=st.integers(5, 60),
       seed=st.integers(0, 2**32 - 1), tight=st.floats(0.1, 1.5), delay=st.sampled_from([0.0, 0.05, 1.0]))
def test_price_iteration_near_the_optimum_on_small_books(pure_lagrangian, n, H, C, R, seed, tight, delay):
    # the price iteration itself (with the sampled start), on books the default would solve exactly:
    # within 3% (within 2% on most: 98.3% to 99.9% over 40 random books of 2,000 to 5,000; below
    # 1,000 customers it fell to 96%, one customer being a large share of the objective there)
    inst = random_instance(n, H, C, R, seed, tight)
    exact = allocate(*inst, phone=0, delay_cost=delay, method="exact")
    fast = allocate(*inst, phone=0, delay_cost=delay)
    check_feasible(fast, *inst, phone=0)
    assert fast.objective >= 0.97 * exact.objective


def test_the_default_is_exact_on_small_books():
    inst = random_instance(3000, 12, 5, 20, 0, 0.6)
    exact = allocate(*inst, phone=0, delay_cost=0.05, method="exact")
    default = allocate(*inst, phone=0, delay_cost=0.05)
    assert default.method == "exact" and default.objective == pytest.approx(exact.objective)


def test_care_first_is_placed_exactly_then_the_rest():
    # two care customers share one RM's single call slot with a sale; branch has one slot
    util = np.array([[1001.0, 1000.5], [1001.0, -np.inf], [50.0, -np.inf]])
    a = allocate(util, np.zeros(3, int), np.zeros(3, int), np.array([[5], [1]]), np.array([[1]]), phone=0,
                 first=np.array([True, True, False]))
    # the one who can only be called gets the call; the other goes to the branch; the sale waits
    assert a.channel.tolist() == [1, 0, -1]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_gap_above_the_exact_threshold(seed):
    # 40,000 customers x 12 weeks x 5 channels, 200 RMs: the default runs the price iteration here
    inst = random_instance(40_000, 12, 5, 200, seed, tight=[0.3, 0.7, 1.2][seed])
    exact = allocate(*inst, phone=0, delay_cost=0.05, method="exact")
    fast = allocate(*inst, phone=0, delay_cost=0.05)
    assert fast.method == "lagrangian"
    check_feasible(fast, *inst, phone=0)
    assert fast.objective >= 0.98 * exact.objective
    assert fast.gap is not None and fast.gap < 0.08  # the bound is looser than the plan (typically 1-6%)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(0, 60), st.sampled_from(["int", "float", "bool", "fraction", "huge"]))
def test_lexsort_ints_is_lexsort(seed, n, kind):
    """The packed sort gives np.lexsort's order exactly (ties by position), and falls back when it cannot pack."""
    rng = np.random.default_rng(seed)
    keys = [rng.integers(-3, 4, n), rng.integers(0, 3, n).astype(float), rng.integers(0, 2, n).astype(bool)]
    if kind == "float":
        keys[1] = keys[1] * 1e6
    elif kind == "bool":
        keys = keys[2:]
    elif kind == "fraction":
        keys[1] = keys[1] / 3  # not whole: the fallback
    elif kind == "huge":
        keys.append(rng.integers(-2**62, 2**62, n))  # too wide to pack: the fallback
    keys = tuple(keys)
    assert np.array_equal(lexsort_ints(keys), np.lexsort(keys))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(0, 80), st.sampled_from([3, 300, 70_000, 2**40, 2**50]),
       st.sampled_from(["int", "float", "fraction", "uint"]))
def test_stable_argsort_is_a_stable_argsort(seed, n, span, kind):
    """The digit-by-digit radix sort gives numpy's stable order exactly, whatever the span of the values."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-span, span, n)
    if kind == "float":
        a = a.astype(float)
    elif kind == "fraction":
        a = a / 7
    elif kind == "uint":
        a = np.abs(a).astype(np.uint64)
    assert np.array_equal(stable_argsort(a), np.argsort(a, kind="stable"))
