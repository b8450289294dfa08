"""The learned models behind the ``backtest`` and ``campaigns`` sources, and what every fit drops.

A :class:`Learner` is fitted on a feature table and gives a real-valued score
(the log-odds) for new rows. Before anything is fitted, the columns that tell
nothing in the training rows are dropped: entirely missing (a plain log has no
age, no balance, no channel) or constant (no RM anywhere). Any training subset
can have them, and HistGradientBoosting in scikit-learn 1.9 fails on an
all-missing column ("window shape cannot be larger than input array shape").

Two kinds, both regularised for books with a few hundred returns:

``gbm``
    shallow gradient boosting (HistGradientBoosting; missing values handled
    natively, no early stopping so that the fit is the same whatever the size).
``linear``
    L2-penalised logistic regression on signed log1p features, median-imputed
    with a missing-value indicator where a column has gaps, standardised: it
    extrapolates smoothly beyond the recency and tenure seen in training. With
    an ``offset`` column (the documented prior's log-odds) it learns corrections
    *to* that column rather than a model from scratch: with few outcomes it stays
    close to what the prior says, with many it moves as far as the data asks.
    The penalty is chosen from :data:`PENALTIES` by two-fold cross-validation
    (log loss).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("gbm", "linear")
#: the L2 penalties the linear learner chooses from (on standardised features, summed log loss)
PENALTIES = (1.0, 10.0, 100.0, 1000.0)
#: rows the penalty is chosen on at most
CV_ROWS = 10_000


def informative_columns(X: pd.DataFrame) -> list[str]:
    """Columns with at least two distinct non-missing values (the others tell a model nothing)."""
    v = X.to_numpy(dtype=float)
    if len(v) == 0:
        return []
    seen = ~np.isnan(v)
    lo = np.where(seen, v, np.inf).min(axis=0)
    hi = np.where(seen, v, -np.inf).max(axis=0)
    return [c for c, ok in zip(X.columns, seen.any(axis=0) & (hi > lo), strict=True) if ok]


def logistic(B: np.ndarray, offset: np.ndarray, y: np.ndarray, penalty: float, nonnegative: bool = False) -> np.ndarray:
    """Intercept and coefficients of an L2-penalised logistic regression with an offset (L-BFGS);
    ``nonnegative`` keeps the coefficients (not the intercept) at zero or above."""
    from scipy.optimize import minimize

    def loss(w):
        eta = offset + w[0] + B @ w[1:]
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # the logistic function, without overflow
        r = p - y
        value = (np.logaddexp(0.0, eta) - y * eta).sum() + 0.5 * penalty * (w[1:] @ w[1:])
        return value, np.r_[r.sum(), B.T @ r + penalty * w[1:]]

    start = np.zeros(B.shape[1] + 1)
    rate = min(max(y.mean(), 1e-4), 1 - 1e-4)
    start[0] = np.log(rate / (1 - rate)) - float(np.mean(offset))
    bounds = [(None, None)] + [(0.0, None) if nonnegative else (None, None)] * B.shape[1]
    return minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds).x


class Learner:
    """A classifier of a yes/no outcome on a feature table, giving log-odds (:meth:`z`).

    ``offset`` (linear only): the name of a column added to the log-odds as it is (not learned).
    """

    def __init__(self, kind: str = "gbm", seed: int = 0, offset: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown learner {kind!r}; one of {', '.join(KINDS)}")
        self.kind = kind
        self.seed = seed
        self.offset = offset

    def fit(self, X: pd.DataFrame, y, groups=None) -> Learner:
        """Fit on ``X`` and outcomes ``y``; ``groups`` (e.g. customers) keep rows together in the
        cross-validation of the penalty."""
        y = np.asarray(y, dtype=bool)
        off = self.offset if self.kind == "linear" and self.offset in X.columns else None
        self.offset_ = off
        self.columns_ = [c for c in informative_columns(X) if c != off]
        self.dropped_ = [c for c in X.columns if c not in self.columns_ and c != off]
        self.constant_ = None
        if y.all() or not y.any() or (not self.columns_ and off is None):
            # nothing to learn from: the training rate for everyone
            rate = min(max(float(y.mean()) if len(y) else 0.5, 1e-4), 1 - 1e-4)
            self.constant_ = float(np.log(rate / (1 - rate)))
            return self
        A = X[self.columns_].to_numpy(dtype=float)
        if self.kind == "gbm":
            self.model_ = self._gbm(len(y)).fit(A, y)
        else:
            o = X[off].to_numpy(dtype=float) if off else np.zeros(len(y))
            self._linear(A, np.nan_to_num(o), y, groups)
        return self

    def _gbm(self, n: int):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=60, learning_rate=0.08, max_depth=3, min_samples_leaf=max(20, min(200, n // 100)),
            l2_regularization=1.0, early_stopping=False, random_state=self.seed)

    def _linear(self, A: np.ndarray, o: np.ndarray, y: np.ndarray, groups) -> None:
        A = np.sign(A) * np.log1p(np.abs(A))
        self.gappy_ = np.isnan(A).any(axis=0)
        self.median_ = np.zeros(A.shape[1])
        for j in np.flatnonzero(self.gappy_):  # one per column with gaps
            self.median_[j] = np.median(A[~np.isnan(A[:, j]), j])
        B = self._design(A)
        self.mean_, self.sd_ = B.mean(axis=0), B.std(axis=0)
        self.sd_[self.sd_ == 0] = 1.0
        B = (B - self.mean_) / self.sd_
        yf = y.astype(float)
        self.penalty_ = self._choose_penalty(B, o, yf, groups)
        self.w_ = logistic(B, o, yf, self.penalty_)

    def _choose_penalty(self, B: np.ndarray, o: np.ndarray, y: np.ndarray, groups) -> float:
        """The penalty of :data:`PENALTIES` with the least held-out log loss over two folds (by group)."""
        rng = np.random.default_rng([self.seed, 11])
        rows = np.sort(rng.choice(len(y), CV_ROWS, replace=False)) if len(y) > CV_ROWS else np.arange(len(y))
        g = np.asarray(groups)[rows] if groups is not None else rows
        _, inv = np.unique(g, return_inverse=True)
        fold = rng.random(inv.max() + 1 if len(inv) else 0)[inv] < 0.5
        yr = y[rows]
        if min(yr[fold].sum(), yr[~fold].sum(), (1 - yr[fold]).sum(), (1 - yr[~fold]).sum()) < 5:
            return PENALTIES[len(PENALTIES) // 2]
        losses = np.zeros((len(PENALTIES), len(rows)))
        for i, lam in enumerate(PENALTIES):
            for f in (fold, ~fold):
                tr, te = rows[~f], rows[f]
                w = logistic(B[tr], o[tr], y[tr], lam)
                eta = o[te] + w[0] + B[te] @ w[1:]
                losses[i, f] = np.logaddexp(0.0, eta) - y[te] * eta
        return PENALTIES[int(np.argmin(losses.sum(axis=1)))]

    def _design(self, A: np.ndarray) -> np.ndarray:
        miss = np.isnan(A)
        filled = np.where(miss, self.median_, A)
        return np.hstack([filled, miss[:, self.gappy_].astype(float)])

    def z(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of the outcome for each row of ``X`` (the columns the fit kept are read by name)."""
        if self.constant_ is not None:
            return np.full(len(X), self.constant_)
        A = X[self.columns_].to_numpy(dtype=float)
        if self.kind == "gbm":
            return self.model_.decision_function(A)
        A = np.sign(A) * np.log1p(np.abs(A))
        B = (self._design(A) - self.mean_) / self.sd_
        o = np.nan_to_num(X[self.offset_].to_numpy(dtype=float)) if self.offset_ else 0.0
        return o + self.w_[0] + B @ self.w_[1:]
