#!/usr/bin/env python3
"""Benchmark the plan's optimizer: speed at 1M customers and the default's gap to the exact optimum.

    python benchmarks/bench_allocate.py                  # 1M scored customers, 12 weeks x 6 channels, 500 RMs
    python benchmarks/bench_allocate.py --customers 100000 --sweep 20
    python benchmarks/bench_allocate.py --skip-exact --sweep 0

1. ``build_plan`` on a synthetic scored frame built directly (no CSVs, no
   scoring): capacities for about 60% of the customers (RM calls, pool, SMS,
   WeChat, e-mail, app, branch), default (Lagrangian) and exact (min-cost flow)
   mode, each timed; the objective of both and the default's share of the
   optimum.
2. ``--sweep N``: N random instances per size (1,000 and 5,000 customers x
   12 weeks x 5 channels, and one at 100,000) solved both ways; prints the
   distribution of the default's share of the optimum.

Timings on a shared machine are noisy: run it twice and read the lower figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_allocate import random_instance  # the tests' family of random instances

AS_OF = dt.date(2026, 11, 30)
CHANNELS6 = ("phone", "sms", "wechat", "email", "app", "branch")


def synthetic_scored(n: int, n_rm: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A scored frame as ``build_plan`` takes it, and the channel fit per segment (vectorized)."""
    from reactivate.schema import CHANNELS

    rng = np.random.default_rng(seed)
    segs = np.array([f"S{i:02d}" for i in range(1, 9)] + ["hardship"], dtype=object)
    seg = segs[np.minimum(rng.geometric(0.25, n) - 1, len(segs) - 1)]
    p = rng.beta(1.5, 12, n)
    value = rng.lognormal(5.5, 1.0, n)
    prio = np.empty(n, dtype=np.int64)
    prio[np.argsort(-(p * value), kind="stable")] = np.arange(1, n + 1)
    has_rm = rng.random(n) < 0.8
    rm = pd.Categorical.from_codes(np.where(has_rm, rng.integers(0, n_rm, n), -1),
                                   categories=[f"RM{i:04d}" for i in range(1, n_rm + 1)])
    last = np.where(rng.random(n) < 0.2, np.datetime64("2026-11-10"), np.datetime64("NaT"))
    cols = {
        "segment_id": seg,
        "rm_id": rm,
        "p_reactivate": p,
        "value": value,
        "expected_value": p * value,
        "priority_rank": prio,
        "best_week": np.where(rng.random(n) < 0.1, rng.integers(0, 12, n), 0),
        "event": np.where(rng.random(n) < 0.05, "maturity", np.where(rng.random(n) < 0.03, "deadline", "none")),
        "reason": "no dated event: as early as capacity allows",
        "age": rng.uniform(18, 90, n),
        "last_contact": pd.Series(last, dtype="datetime64[s]"),
        "contacts_30d": (rng.random(n) < 0.1).astype(float),
        "hardship": seg == "hardship",
        "deceased": rng.random(n) < 0.002,
        "legal_hold": rng.random(n) < 0.001,
        "do_not_contact": rng.random(n) < 0.03,
        "complaint_recent": rng.random(n) < 0.005,
    }
    for ch in CHANNELS:
        cols[f"has_{ch}"] = rng.random(n) < {"phone": 0.9, "branch": 0.6}.get(ch, 0.7)
        cols[f"consent_{ch}"] = rng.random(n) < 0.85
        cols[f"opted_out_{ch}"] = rng.random(n) < 0.02
    scored = pd.DataFrame(cols, index=pd.Index([f"C{i:08d}" for i in range(n)], name="customer_id"))
    fit = pd.DataFrame(rng.uniform(0.3, 1.0, (len(segs), len(CHANNELS))), index=segs, columns=list(CHANNELS))
    fit["phone"] = 1.0
    return scored, fit


def spec_for(n: int, n_rm: int):
    """The default spec cut to 6 channels with capacity for about 60% of ``n`` over 12 weeks."""
    from reactivate.config.campaign import load_campaign

    spec = load_campaign(None)
    per_week = 0.6 * n / 12
    share = {"sms": 0.2, "wechat": 0.2, "email": 0.1, "app": 0.2, "branch": 0.03}
    chans = {ch: dataclasses.replace(spec.channels[ch], weekly_capacity=int(per_week * share.get(ch, 1.0)))
             for ch in CHANNELS6}
    calls = max(1, int(per_week * 0.25 / n_rm))  # RM calls: a quarter of the capacity
    return dataclasses.replace(spec, channels=chans,
                               rm=dataclasses.replace(spec.rm, calls_per_week=calls,
                                                      pool_calls_per_week=int(per_week * 0.02)))


def plan_once(n: int, n_rm: int, methods: list[str]) -> dict:
    from reactivate.planning.plan import build_plan

    scored, fit = synthetic_scored(n, n_rm)
    spec = spec_for(n, n_rm)
    out: dict = {"customers": n, "rms": n_rm, "weeks": 12, "channels": len(CHANNELS6)}
    for m in methods:
        t = time.perf_counter()
        res = build_plan(scored, fit, spec, AS_OF, method=m)
        secs = time.perf_counter() - t
        o = res.stats["optimizer"]
        out[m] = {"seconds": round(secs, 2), "objective": o["objective"], "bound": o["bound"],
                  "touches": len(res.plan), "scheduled": res.stats["scheduled"]}
    if "exact" in out and "lagrangian" in out:
        out["default_share_of_optimum"] = round(out["lagrangian"]["objective"] / out["exact"]["objective"], 5)
    return out


def sweep(k: int) -> dict:
    """The default's share of the optimum per size; below ``EXACT_BELOW`` candidates the default is
    exact, so the price iteration is also measured on its own there ("lagrangian_only")."""
    import reactivate.planning.optimizer as mod

    out = {}
    for n, R, reps in ((1000, 10, k), (5000, 40, k), (100_000, 500, 1 if k else 0)):
        shares: dict[str, list] = {"default": [], "lagrangian_only": []}
        secs = []
        for seed in range(reps):
            rng = np.random.default_rng(1000 + seed)
            inst = random_instance(n, 12, 5, R, seed, tight=float(rng.uniform(0.2, 1.2)))
            ex = mod.allocate(*inst, phone=0, delay_cost=0.05, method="exact")
            t = time.perf_counter()
            fa = mod.allocate(*inst, phone=0, delay_cost=0.05)
            secs.append(time.perf_counter() - t)
            shares["default"].append(fa.objective / ex.objective if ex.objective > 0 else 1.0)
            if n < mod.EXACT_BELOW:
                keep = mod.EXACT_BELOW
                mod.EXACT_BELOW = 0
                try:
                    pl = mod.allocate(*inst, phone=0, delay_cost=0.05)
                finally:
                    mod.EXACT_BELOW = keep
                shares["lagrangian_only"].append(pl.objective / ex.objective if ex.objective > 0 else 1.0)
        for name, vals in shares.items():
            if vals:
                q = np.quantile(vals, [0, 0.1, 0.5, 0.9, 1])
                out[f"{n}x12x5 {name}"] = {"instances": reps, "min": round(q[0], 5), "p10": round(q[1], 5),
                                           "median": round(q[2], 5), "p90": round(q[3], 5), "max": round(q[4], 5)}
        if secs:
            out[f"{n}x12x5 default"]["seconds_median"] = round(float(np.median(secs)), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rms", type=int, default=500)
    ap.add_argument("--skip-exact", action="store_true")
    ap.add_argument("--sweep", type=int, default=10, help="random instances per size for the gap distribution")
    args = ap.parse_args()
    methods = ["lagrangian"] + ([] if args.skip_exact else ["exact"])
    print(json.dumps({"plan": plan_once(args.customers, args.rms, methods)}, indent=2))
    if args.sweep:
        print(json.dumps({"gap_sweep": sweep(args.sweep)}, indent=2))


if __name__ == "__main__":
    main()
