"""A plan in summary.json: its stats, touches by wave, channel and week, and the capacity it uses."""

from __future__ import annotations

import pandas as pd

from reactivate.planning.result import PlanResult


def counts(values) -> dict[str, int]:
    """How often each value occurs, by value as text (sorted); a categorical's unused values count 0."""
    s = pd.Series(values).value_counts()
    return {str(k): int(v) for k, v in sorted(s.items(), key=lambda kv: str(kv[0]))}


def capacity_use(capacity: pd.DataFrame) -> dict:
    """Use of each channel (used, capacity, share, peak week's share) and of the RMs' calls (capacity.csv)."""
    by_channel = capacity[capacity["resource"] == "channel"]
    channels = {}
    for name, g in by_channel.groupby("name", sort=True):  # one per channel
        total = int(g["capacity"].sum())
        used = int(g["used"].sum())
        channels[name] = {"used": used, "capacity": total, "share": round(used / total, 4) if total else 0.0,
                          "peak_week_share": round(float((g["used"] / g["capacity"].clip(lower=1)).max()), 4)}
    rm_rows = capacity[capacity["resource"].isin(["rm", "pool"])]
    rm_calls = {
        "calls": int(rm_rows["used"].sum()),
        "rm_weeks_at_capacity": int((rm_rows["used"] >= rm_rows["capacity"]).sum()),
        "max_share": round(float((rm_rows["used"] / rm_rows["capacity"].clip(lower=1)).max()), 4)
        if len(rm_rows) else 0.0,
    }
    return {"channels": channels, "rm_calls": rm_calls}


def plan_summary(result: PlanResult) -> dict:
    """A plan's part of summary.json.

    Returns
    -------
    dict with ``plan`` (the stats but the weeks; touches by wave, channel and week; suppressed and
    unscheduled by reason) and ``capacity_use`` (:func:`capacity_use`).
    """
    plan = result.plan
    return {
        "plan": {
            **{k: v for k, v in result.stats.items() if k not in ("weeks",)},
            "touches": len(plan),
            "by_wave": counts(plan["wave"]),
            "by_channel": counts(plan["channel"]),
            "by_week": counts(plan["week_start"]),
            "suppressed_by_reason": counts(result.suppressed["reason"]),
            "unscheduled_by_reason": counts(result.unscheduled["reason"]),
        },
        "capacity_use": capacity_use(result.capacity),
    }
