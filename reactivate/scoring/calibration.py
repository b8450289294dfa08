"""Calibrated probabilities and the figures that judge a score on held-out outcomes.

A source's raw score (a logit, a log rate, minus the log of the days dormant)
is turned into a probability by :class:`Calibrator`, fitted on held-out
outcomes: Platt scaling (a logistic regression on the score), or isotonic
regression when the held-out data has many returns *and* many non-returns.
Platt keeps the ranking exactly (it is strictly increasing) and extends beyond
the scores it saw; isotonic regression follows any monotone shape but needs
many outcomes to be stable (its steps are tie-broken by the score, so the
ranking stays the score's).

:func:`score_figures` gives, for outcomes ``y`` and a score: the AUC, the
top-decile lift and, for probabilities, the mean predicted against the observed
rate, the Brier score, the expected calibration error and a reliability table
(deciles of the prediction: mean predicted vs observed).
"""

from __future__ import annotations

import numpy as np

#: isotonic regression only with at least this many returns and as many non-returns
MIN_ISOTONIC = 1000
#: probabilities are kept inside [EPS, 1 - EPS]
EPS = 1e-4


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, dtype=float), -700, 700)))


class Calibrator:
    """A monotone map from a real-valued score to a probability, fitted on held-out outcomes.

    ``kind`` is "platt" or "isotonic" (see the module's docstring for when);
    ``fit`` takes the scores ``z`` and the outcomes ``y`` of the held-out rows.
    """

    def fit(self, z, y, isotonic_ok: bool = True) -> Calibrator:
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        z = np.nan_to_num(np.asarray(z, dtype=float))
        y = np.asarray(y, dtype=bool)
        self.rate_ = float(y.mean()) if len(y) else 0.0
        if len(y) == 0 or y.all() or not y.any():
            self.kind, self._m = "constant", None
        elif isotonic_ok and min(int(y.sum()), int((~y).sum())) >= MIN_ISOTONIC:
            self.kind = "isotonic"
            self._m = IsotonicRegression(out_of_bounds="clip", y_min=EPS, y_max=1 - EPS).fit(z, y)
        else:
            self.kind = "platt"
            # almost no penalty: two parameters, fitted on thousands of rows
            self._m = LogisticRegression(C=1e4).fit(z[:, None], y)
        return self

    def __call__(self, z) -> np.ndarray:
        z = np.nan_to_num(np.asarray(z, dtype=float))
        if self.kind == "constant":
            return np.full(len(z), min(max(self.rate_, EPS), 1 - EPS))
        if self.kind == "isotonic":
            # a step function: ties within a step are broken by the score itself (a millionth at most),
            # so the ranking, and the AUC, are the score's
            return np.clip(self._m.predict(z) + 1e-6 * np.arctan(z) / np.pi, EPS / 2, 1 - EPS / 2)
        return np.clip(self._m.predict_proba(z[:, None])[:, 1], EPS, 1 - EPS)

    def describe(self) -> dict:
        if self.kind == "platt":
            return {"method": "platt", "slope": round(float(self._m.coef_[0, 0]), 4),
                    "intercept": round(float(self._m.intercept_[0]), 4)}
        return {"method": self.kind}


def auc(y, score) -> float | None:
    """Area under the ROC curve (ties count one half); None without both outcomes.

    Counted as the pairs (positive, negative) ranked right, ties one half (the Mann-Whitney U of the
    ranks, exactly: a whole or half number), by a binary search of each positive among the sorted negatives.
    """
    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    s = np.nan_to_num(np.asarray(score, dtype=float))
    neg = np.sort(s[~y])
    below = np.searchsorted(neg, s[y], side="left")
    tied = np.searchsorted(neg, s[y], side="right") - below
    return float((np.float64(below.sum()) + tied.sum() / 2) / (n1 * n0))


def top_decile_lift(y, score) -> float | None:
    """Return rate among the top 10% by score over the overall rate; ties at the boundary shared out
    evenly (so a constant score has a lift of exactly 1)."""
    y = np.asarray(y, dtype=float)
    score = np.nan_to_num(np.asarray(score, dtype=float))
    if len(y) == 0 or y.mean() == 0:
        return None
    k = max(1, round(len(y) / 10))
    t = np.partition(score, len(score) - k)[len(score) - k]
    above, at = score > t, score == t
    hits = y[above].sum() + (k - above.sum()) * y[at].mean()
    return float(hits / k / y.mean())


def reliability(y, p, bins: int = 10) -> list[dict]:
    """Deciles of the prediction (equal counts, ties kept together): rows, mean predicted, observed."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return []
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1]))
    group = np.searchsorted(edges, p, side="right")
    k = len(edges) + 1
    n = np.bincount(group, minlength=k)
    mean_p = np.bincount(group, weights=p, minlength=k) / np.maximum(n, 1)
    rate = np.bincount(group, weights=y, minlength=k) / np.maximum(n, 1)
    return [{"rows": int(c), "mean_predicted": round(float(a), 4), "observed": round(float(b), 4)}
            for c, a, b in zip(n, mean_p, rate, strict=True) if c]


def ece(y, p, bins: int = 10, table: list[dict] | None = None) -> float | None:
    """Expected calibration error: the row-weighted mean |predicted - observed| over the deciles."""
    table = reliability(y, p, bins) if table is None else table
    n = sum(r["rows"] for r in table)
    if not n:
        return None
    return float(sum(r["rows"] * abs(r["mean_predicted"] - r["observed"]) for r in table) / n)


def score_figures(y, score, probability: bool, table: bool = False) -> dict:
    """AUC and top-decile lift of ``score`` on outcomes ``y``; for a probability also the mean predicted,
    the observed rate, their ratio, the Brier score, the ECE and (``table``) the reliability table."""
    y = np.asarray(y, dtype=bool)
    a, lift = auc(y, score), top_decile_lift(y, score)
    out: dict = {"rows": len(y), "positives": int(y.sum()),
                 "auc": None if a is None else round(a, 4), "top_decile_lift": None if lift is None else round(lift, 3)}
    if probability:
        p = np.asarray(score, dtype=float)
        rate = float(y.mean()) if len(y) else 0.0
        out.update({
            "mean_predicted": round(float(p.mean()), 4) if len(p) else None,
            "observed": round(rate, 4),
            "predicted_over_observed": round(float(p.mean()) / rate, 3) if rate > 0 else None,
            "brier": round(float(np.mean((p - y) ** 2)), 5) if len(p) else None,
        })
        deciles = reliability(y, p)
        out["ece"] = None if (e := ece(y, p, table=deciles)) is None else round(e, 4)
        if table:
            out["reliability"] = deciles
    return out
