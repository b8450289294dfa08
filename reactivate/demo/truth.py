"""How well a run recovered the demo book's ground truth (the demo only: a bank has no truth table)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DRAWS = 10


def check_against_truth(scores: pd.DataFrame, truth: pd.DataFrame, seed: int = 0) -> dict:
    """Customer-level AUC and segment-ranking agreement of ``scores`` with the demo's truth.

    ``scores`` has customer_id (column or index), segment_id and p_reactivate;
    ``truth`` has customer_id and true_p_reactivate. Outcomes are drawn
    ``DRAWS`` times from the true propensity (a fixed seed); the AUC of the
    scores on them is averaged, beside the AUC the truth itself reaches on the
    same draws (the best any score can do). Segments are compared by mean
    predicted vs mean true propensity (Spearman).
    """
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    s = scores.reset_index() if "customer_id" not in scores.columns else scores
    m = s[["customer_id", "segment_id", "p_reactivate"]].merge(
        truth[["customer_id", "true_p_reactivate"]], on="customer_id", how="inner")
    p_true = m["true_p_reactivate"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    ys = [rng.random(len(m)) < p_true for _ in range(DRAWS)]
    auc = float(np.mean([roc_auc_score(y, m["p_reactivate"]) for y in ys]))
    oracle = float(np.mean([roc_auc_score(y, p_true) for y in ys]))
    by_seg = m.groupby("segment_id", observed=True)[["p_reactivate", "true_p_reactivate"]].mean()
    rho = float(spearmanr(by_seg["p_reactivate"], by_seg["true_p_reactivate"]).correlation)
    return {"customers": len(m), "auc": round(auc, 4), "oracle_auc": round(oracle, 4),
            "segment_spearman": round(rho, 4), "segments": len(by_seg)}
