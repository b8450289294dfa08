#!/usr/bin/env python3
"""Benchmark the HTML report of a 1M-customer plan: build time, size, and render time in headless Chromium.

    python benchmarks/bench_report.py                     # 1,000,000 customers
    python benchmarks/bench_report.py --customers 200000 --lang zh

The plan's output files are synthesised directly (shapes and sizes of a real
1M-customer run: ~60% dormant, one touch or more per planned customer, 2,000
RMs), not computed by the pipeline, so the benchmark measures the report only.
Chromium is Debian's /usr/bin/chromium driven by Playwright (tests/browser.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from reactivate.outputs.files import csv_bytes, json_bytes  # noqa: E402
from reactivate.schema import CHANNELS  # noqa: E402

WEEKS = [d.date().isoformat() for d in pd.date_range("2026-12-07", periods=12, freq="7D")]
STAGES = ["active", "at_risk", "dormant", "long_dormant"]
SUPPRESS = ["do not contact", "no consenting channel", "minor", "recent complaint", "deceased", "legal hold"]
UNSCHED = ["no capacity left", "no channel worth its cost", "contact policy: contacted too recently"]
NAMES = ["High balance · Older", "Digital-reachable · Young", "Long dormant · Small balance",
         "Deposit maturing · Long-standing", "Multi-product · Large tickets", "No RM · Rarely transacted",
         "Once frequent user · Used digital", "Phone-reachable · New", "Typical dormant"]


def synthesise(n: int, out: Path, seed: int = 0) -> dict:
    """Write the outputs of a plan of ``n`` customers into ``out``; returns their counts."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    stage = rng.choice(4, size=n, p=[0.25, 0.15, 0.33, 0.27])
    targets = int((stage >= 2).sum())
    ids = np.char.add("C", np.arange(targets).astype(str)).astype(object)
    k = len(NAMES) + 1
    seg_ids = ["hardship"] + [f"S{i:02d}" for i in range(1, k)]
    seg = rng.choice(k, size=targets, p=[0.02] + [0.98 / (k - 1)] * (k - 1))
    status = rng.choice(4, size=targets, p=[0.08, 0.09, 0.73, 0.10])  # suppressed, holdout, planned, later
    rms = np.array([f"RM{i:05d}" for i in range(2000)] + ["POOL"], dtype=object)
    rm = rng.integers(0, len(rms), size=targets)
    p = rng.beta(1.2, 14, size=targets)
    ev = p * rng.lognormal(8, 1.2, size=targets)
    order = np.argsort(-ev, kind="stable")
    rank = np.empty(targets, dtype=np.int64)
    rank[order] = np.arange(1, targets + 1)
    reasons = np.array(["no dated event: as early as capacity allows", "birthday week", "deposit matures 2027-01-15",
                        "becomes inoperative 2027-02-01"], dtype=object)
    (out / "scores.csv").write_bytes(csv_bytes({
        "customer_id": ids, "dormancy_stage": np.array(STAGES, dtype=object)[stage[stage >= 2]],
        "days_dormant": rng.integers(365, 3000, size=targets), "segment_id": np.array(seg_ids, dtype=object)[seg],
        "segment_name": np.array(["Hardship · care first", *NAMES], dtype=object)[seg], "p_reactivate": p.round(4),
        "expected_value": ev.round(2), "priority_rank": rank, "best_week": rng.choice(np.array(WEEKS, dtype=object), targets),
        "reason": reasons[rng.choice(4, size=targets, p=[0.6, 0.2, 0.15, 0.05])],
        "best_channel": rng.choice(np.array(CHANNELS, dtype=object), targets)}))
    planned = np.flatnonzero(status == 2)
    steps = 1 + (rng.random(len(planned)) < 0.35)  # some get a follow-up
    rows = np.repeat(planned, steps)
    week = rng.choice(12, size=len(rows), p=np.r_[0.12, 0.02, 0.02, np.full(9, 0.84 / 9)])
    chan = rng.choice(len(CHANNELS), size=len(rows), p=[0.25, 0.2, 0.2, 0.05, 0.2, 0.05, 0.05])
    wave = np.where(seg[rows] == 0, 0, np.where(week < 1, 1, 2 + week // 3))
    (out / "plan.csv").write_bytes(csv_bytes({
        "customer_id": ids[rows], "segment_id": np.array(seg_ids, dtype=object)[seg[rows]], "wave": wave,
        "week_start": np.array(WEEKS, dtype=object)[week], "channel": np.array(CHANNELS, dtype=object)[chan],
        "step": np.arange(len(rows)) - np.repeat(np.cumsum(steps) - steps, steps) + 1,
        "rm_id": rms[rm[rows]], "theme": np.full(len(rows), "welcome_back", dtype=object),
        "reason": np.full(len(rows), reasons[0], dtype=object)}))
    for name, code, extra in (("suppressed.csv", 0, SUPPRESS), ("holdout.csv", 1, None), ("unscheduled.csv", 3, UNSCHED)):
        m = status == code
        cols = {"customer_id": ids[m], "segment_id": np.array(seg_ids, dtype=object)[seg[m]]}
        if extra:
            cols["reason"] = np.array(extra, dtype=object)[rng.integers(0, len(extra), m.sum())]
        (out / name).write_bytes(csv_bytes(cols))
    # capacity: per week, every channel, every RM (30 calls a week) and the pool
    phone = chan == 0
    used_rm = pd.crosstab(rm[rows][phone], week[phone]).reindex(index=range(len(rms)), columns=range(12), fill_value=0)
    used_ch = pd.crosstab(chan, week).reindex(index=range(len(CHANNELS)), columns=range(12), fill_value=0)
    cap_rows = []
    for w in range(12):  # one iteration per week
        cap_rows.append(pd.DataFrame({"week_start": WEEKS[w], "resource": "channel", "name": list(CHANNELS),
                                      "capacity": [100000, 200000, 200000, 200000, 200000, 5000, 20000],
                                      "used": used_ch[w].to_numpy()}))
        cap_rows.append(pd.DataFrame({"week_start": WEEKS[w], "resource": ["rm"] * (len(rms) - 1) + ["pool"],
                                      "name": rms, "capacity": [30] * (len(rms) - 1) + [600],
                                      "used": used_rm[w].to_numpy()}))
    (out / "capacity.csv").write_bytes(csv_bytes(pd.concat(cap_rows, ignore_index=True)))
    size = np.bincount(seg, minlength=k)
    exp_r = np.bincount(seg, weights=p, minlength=k)
    exp_v = np.bincount(seg, weights=ev, minlength=k)
    segs = pd.DataFrame({"segment_id": seg_ids, "segment_name": ["Hardship · care first", *NAMES],
                         "kind": ["carve-out"] + ["cluster"] * (k - 1), "size": size, "share": (size / targets).round(4),
                         "expected_reactivations": exp_r.round(1), "expected_value": exp_v.round(2),
                         "mean_p": (exp_r / size).round(4), "start_week": WEEKS[0],
                         "start_reason": "pilot in week 1, then waves by priority", "rank_reason": "",
                         "apart": ["rule: hardship"] + ["balance +1.2σ, age +0.8σ"] * (k - 1),
                         "shortfalls": "no contact in 12 months (76%); no digital channel (45%)", "note": ""})
    for ch in CHANNELS:
        segs[f"reach_{ch}"] = rng.random(k).round(3)
    segs = segs.sort_values("expected_value", ascending=False, kind="stable")
    segs.insert(3, "rank", np.arange(1, k + 1))
    (out / "segments.csv").write_bytes(csv_bytes(segs))

    def counts(values) -> dict:
        return {str(a): int(b) for a, b in zip(*np.unique(values, return_counts=True), strict=True)}

    sup = pd.read_csv(out / "suppressed.csv", usecols=["reason"])["reason"]
    summary = {
        "customers": n, "targets": targets, "by_stage": counts(np.array(STAGES)[stage]), "channels": list(CHANNELS),
        "segments": [], "notes": ["accounts.csv: 1,204 rows with a balance below zero (kept; first rows 17, 98)"],
        "scoring": {"note": "documented prior calibrated to past contacts, per segment"},
        "plan": {"targets": targets, "suppressed": int((status == 0).sum()), "holdout": int((status == 1).sum()),
                 "scheduled": len(planned), "unscheduled": int((status == 3).sum()), "pilot": int((week == 0).sum()),
                 "touches": len(rows), "by_channel": counts(np.array(CHANNELS)[chan]), "weeks": WEEKS,
                 "by_week": counts(np.array(WEEKS)[week]), "by_wave": counts(wave),
                 "suppressed_by_reason": counts(sup.to_numpy(dtype=str))},
        "capacity_use": {"channels": {}, "rm_calls": {"calls": int(phone.sum()), "rm_weeks_at_capacity": 0,
                                                      "max_share": 0.5}},
    }
    (out / "summary.json").write_bytes(json_bytes(summary))
    run = {"as_of": "2026-11-30", "version": "bench", "seed": 0,
           "campaign": {"dormancy": {"target_stages": ["dormant", "long_dormant"]}},
           "inputs": {"accounts": {"path": "accounts.parquet", "rows": int(n * 2.05)}}}
    (out / "run.json").write_bytes(json_bytes(run))
    return {"customers": n, "targets": targets, "touches": len(rows), "rms": len(rms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lang", default="en", choices=["en", "zh"])
    ap.add_argument("--keep", type=Path, help="Keep the run directory here (default: a temporary one).")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        run_dir = args.keep or Path(tmp) / "run"
        t = time.perf_counter()
        info = synthesise(args.customers, run_dir)
        t_syn = time.perf_counter() - t
        t = time.perf_counter()
        from reactivate.outputs.report import build_report

        page = build_report(run_dir, lang=args.lang)
        t_build = time.perf_counter() - t
        result = {**info, "lang": args.lang, "synthesise_s": round(t_syn, 2), "build_s": round(t_build, 2),
                  "report_bytes": page.stat().st_size,
                  "report_mib": round(page.stat().st_size / 2**20, 2),
                  "charts_bytes": sum(p.stat().st_size for p in (page.parent / "charts").glob("*.png"))}
        from tests.browser import have_chromium, open_in_chromium

        if have_chromium():
            load = open_in_chromium(page)
            result.update(browser_load_s=round(load.load_seconds, 2), browser_load_and_screenshot_s=round(load.seconds, 2),
                          images=len(load.images), broken_images=sum(i["naturalWidth"] == 0 for i in load.images),
                          console_errors=len(load.console_errors),
                          other_requests=len([u for u in load.requests if u != page.resolve().as_uri()]))
        else:
            result["browser"] = "skipped: no /usr/bin/chromium"
        print(json.dumps(result, indent=2))
        ok = result["report_bytes"] < 5 * 2**20 and result.get("browser_load_and_screenshot_s", 0) < 5
        if not ok:
            sys.exit("report over 5 MB or slower than 5 s in the browser")


if __name__ == "__main__":
    main()
