"""Charts of an evaluation (the charts.py conventions: ``ax=None`` in, the Axes out, Agg backend)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from reactivate.outputs.charts import _axes


def uplift_chart(uplift: pd.DataFrame, ax=None):
    """Uplift (percentage points) with its 95% interval per row of uplift.csv, grouped by dimension."""
    t = uplift.reset_index(drop=True)
    labels = [f"{d}: {v}" for d, v in zip(t["dimension"], t["value"], strict=True)]
    ax = _axes(ax, (8, 0.35 * len(t) + 1.5))
    y = np.arange(len(t))[::-1]
    mid = t["uplift"].to_numpy(dtype=float) * 100
    lo = mid - t["ci_low"].to_numpy(dtype=float) * 100
    hi = t["ci_high"].to_numpy(dtype=float) * 100 - mid
    ax.errorbar(mid, y, xerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="o", color="#4C72B0", capsize=3)
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("uplift, percentage points (contacted − holdout), 95% CI")
    ax.set_title("Reactivation uplift against the holdout")
    return ax


def uplift_at_k_chart(at_k: pd.DataFrame, ax=None):
    """Uplift of the top-ranked share k of the contacted against the top k of the holdout."""
    ax = _axes(ax)
    x = at_k["top_share"].to_numpy(dtype=float) * 100
    mid = at_k["uplift"].to_numpy(dtype=float) * 100
    ax.plot(x, mid, marker="o", color="#4C72B0", label="uplift")
    ax.fill_between(x, at_k["ci_low"].to_numpy(dtype=float) * 100, at_k["ci_high"].to_numpy(dtype=float) * 100,
                    color="#4C72B0", alpha=0.2, label="95% CI")
    ax.axhline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("top-ranked share k (%)")
    ax.set_ylabel("uplift, percentage points")
    ax.set_title("Uplift@k: top-ranked contacted vs top-ranked holdout")
    ax.legend(loc="best", fontsize=8)
    return ax


def arms_chart(arms: pd.DataFrame, outcome: str, ax=None):
    """Each arm's uplift on ``outcome`` (percentage points) with its 95% interval (randomized tests)."""
    t = arms[arms["outcome"] == outcome].reset_index(drop=True)
    ax = _axes(ax)
    mid = t["uplift"].to_numpy(dtype=float) * 100
    err = [mid - t["ci_low"].to_numpy(dtype=float) * 100, t["ci_high"].to_numpy(dtype=float) * 100 - mid]
    ax.bar(t["arm"], mid, yerr=err, capsize=4, color="#4C72B0")
    ax.axhline(0, color="grey", linewidth=1)
    ax.set_ylabel(f"uplift in {outcome} rate, percentage points")
    ax.set_title(f"{outcome}: each arm against the control, 95% CI")
    return ax


def figure_bytes(chart, data, *args) -> bytes:
    """PNG bytes of ``chart(data, *args)``, without timestamps (same data, same bytes)."""
    import matplotlib.pyplot as plt

    ax = chart(data, *args)
    fig = ax.figure
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
