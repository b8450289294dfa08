#!/usr/bin/env python3
"""Who comes back, on real books: reactivate's ranking against textbook baselines.

    .venv/bin/python benchmarks/real_books.py                   # both logs, two cutoffs each
    .venv/bin/python benchmarks/real_books.py --json real_books.json --plan
    .venv/bin/python benchmarks/real_books.py --books cdnow --cutoffs cdnow=1997-09-30,1998-04-02
    git archive HEAD reactivate | tar -x -C /tmp/rx   # a fixed reactivate while the tree is being edited
    .venv/bin/python benchmarks/real_books.py --reactivate-src /tmp/rx --plan

Runs in under a minute on one core (both logs, two cutoffs each, with --plan).

Protocol (issue "Who comes back, on real books"): a plain transaction log
(``customer_id,timestamp,amount``) up to a cutoff (the cutoff day included), a
campaign with ``dormant_days = 90``, ``long_dormant_days = 180`` and a 13-week
horizon; label = any purchase in the 13 weeks (91 days) after the cutoff day.
Every score is compared on the same customers: the dormant customers that
``reactivate rank`` scores (or, when it crashes, the customers its dormancy
rule would select: at least ``dormant_days`` whole days from the last
purchase day to the cutoff).

Scores compared
---------------
* ``reactivate``    p_reactivate of ``reactivate rank`` run through the CLI.
* ``prior``         diagnostic: reactivate's documented prior on a plain log
                    (a fixed function of recency; its level is the intercept's).
* ``recency``       minus the days since the last purchase (ranking only).
* ``freq/recency``  n / (1 + days since last / 30), n = purchase occasions (ranking only).
* ``bgnbd``         BG/NBD (Fader, Hardie & Lee 2005) fitted on every customer's
                    purchase occasions (distinct days) in weeks;
                    P(alive) x P(a purchase within 13 weeks | alive), exact.
* ``bgnbd-rows``    diagnostic: BG/NBD as reactivate's ``bgnbd`` source uses it
                    (transaction rows counted, rows of the cutoff day left out,
                    1 - exp(-expected count)).
* ``learned-hgb``,  prototype (:class:`LearnedModel`): gradient boosting / a
  ``learned-logit`` penalised logistic regression on transaction-log features
                    of stacked backtest snapshots, calibrated on cross-fitted scores.
* ``bgnbd+cal``     prototype: the BG/NBD probability recalibrated on the snapshots.
* ``chosen``        prototype: the source (recency, freq/recency, BG/NBD or a
                    learner, calibrated) with the best AUC out of time on the
                    latest snapshot before the cutoff, else cross-fitted: a
                    choice made before the cutoff's outcome is known.

Metrics: AUC (sklearn), top-decile lift (ties broken at random, in
expectation), mean predicted / observed rate (probabilistic scores), Brier.

Data: /work/shared/data (see its README.md); override with ``--data``.
Reactivate runs in a subprocess with OMP_NUM_THREADS=1; a crash is recorded as
"crash" with the error's last line and the other scores are still reported.
Inputs and outputs of each run are kept in ``--workdir``
(default benchmarks/.data/real_books/, git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # 2 shared cores: no OpenMP fan-out in sklearn

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("REACTIVATE_SHARED_DATA", ROOT.parent / "shared" / "data"))
REACTIVATE = ROOT / ".venv" / "bin" / "reactivate"
#: a reactivate source tree to run instead of the installed one (--reactivate-src)
SRC: Path | None = None

HORIZON_WEEKS = 13
HORIZON_DAYS = 7 * HORIZON_WEEKS
DORMANT_DAYS = 90
LONG_DORMANT_DAYS = 180
AT_RISK_DAYS = 60  # must be < dormant_days; only the dormant and long dormant are targeted

CUTOFFS = {
    "cdnow": ("1997-09-30", "1997-12-31"),
    "online_retail": ("2011-06-30", "2011-09-08"),
}

CAMPAIGN_TOML = """\
# written by benchmarks/real_books.py: the protocol of the issue "Who comes back, on real books"
[campaign]
id = "real-books"
horizon_weeks = {horizon_weeks}
seed = 0

[dormancy]
at_risk_days = {at_risk_days}
dormant_days = {dormant_days}
long_dormant_days = {long_dormant_days}
target_stages = ["dormant", "long_dormant"]

[consent]
# a plain log says nothing about consent; [] keeps the built-in default (no consent)
assume_when_missing = {assume}
"""


# ----------------------------------------------------------------------------------------------------------
# the logs


def load_cdnow(data: Path) -> pd.DataFrame:
    """CDNOW 1/10 sample: one row per line of the file (id, id in full file, YYYYMMDD, CDs, dollars)."""
    raw = pd.read_csv(
        data / "cdnow-sample" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["id", "id_full", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": "c" + raw["id"].astype(str),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollars"].astype(float),
        }
    )


def load_online_retail(data: Path) -> pd.DataFrame:
    """UCI Online Retail: invoice lines with a CustomerID, cancellations dropped; amount = Quantity x UnitPrice."""
    raw = pd.read_csv(
        data / "online-retail" / "onlineretail.csv.gz",
        usecols=["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
        dtype={"InvoiceNo": str},
    )
    raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C")]
    return pd.DataFrame(
        {
            "customer_id": "u" + raw["CustomerID"].astype(np.int64).astype(str),
            "timestamp": pd.to_datetime(raw["InvoiceDate"]),
            "amount": (raw["Quantity"] * raw["UnitPrice"]).astype(float),
        }
    ).reset_index(drop=True)


LOADERS = {"cdnow": load_cdnow, "online_retail": load_online_retail}


# ----------------------------------------------------------------------------------------------------------
# purchase occasions: the unit every model here counts


def _epoch_day(ts) -> int:
    return int(np.datetime64(pd.Timestamp(ts).date(), "D").astype(np.int64))


@dataclass
class Occasions:
    """A log folded to purchase occasions (customer x distinct day), sorted by customer then day.

    ``c`` customer code (position in ``ids``), ``day`` days since 1970-01-01,
    ``amount`` the day's total, ``rows`` log rows that day, ``gap`` days since
    the customer's previous occasion (NaN on their first).
    """

    ids: pd.Index
    c: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    rows: np.ndarray
    gap: np.ndarray

    @classmethod
    def from_log(cls, log: pd.DataFrame) -> Occasions:
        codes, ids = pd.factorize(log["customer_id"], sort=True)
        day = log["timestamp"].to_numpy().astype("datetime64[D]").astype(np.int64)
        amount = log["amount"].to_numpy(dtype=float) if "amount" in log.columns else np.zeros(len(log))
        occ = (
            pd.DataFrame({"c": codes, "day": day, "amount": np.nan_to_num(amount)})
            .groupby(["c", "day"], sort=True)
            .agg(amount=("amount", "sum"), rows=("amount", "size"))
            .reset_index()
        )
        c, d = occ["c"].to_numpy(), occ["day"].to_numpy()
        same = np.r_[False, c[1:] == c[:-1]]
        gap = np.where(same, d - np.r_[d[0] if len(d) else 0, d[:-1]], np.nan)
        return cls(pd.Index(ids), c, d, occ["amount"].to_numpy(float), occ["rows"].to_numpy(float), gap)

    @property
    def first_day(self) -> int:
        return int(self.day.min())

    def came_back(self, s: int, horizon_days: int) -> np.ndarray:
        """Per customer code: any occasion in (s, s + horizon]."""
        m = (self.day > s) & (self.day <= s + horizon_days)
        return np.bincount(self.c[m], minlength=len(self.ids)) > 0

    def rfm(self, s: int, unit_days: float = 7.0) -> pd.DataFrame:
        """BG/NBD inputs at the end of day ``s`` for customers seen by then: x repeat occasions, t_x, T (weeks)."""
        m = self.day <= s
        g = pd.DataFrame({"c": self.c[m], "day": self.day[m]}).groupby("c", sort=True)["day"]
        first, last, n = g.min(), g.max(), g.size()
        return pd.DataFrame(
            {"x": (n - 1).astype(float), "t_x": (last - first) / unit_days, "T": (s - first) / unit_days},
            index=n.index,
        )


def snapshot_features(occ: Occasions, s: int, horizon_days: int) -> pd.DataFrame:
    """Features of every customer seen by the end of day ``s``, from their occasions up to ``s`` only.

    One row per customer code (index). Vectorised: one groupby over the
    occasions before ``s``. Ratios that need two or three occasions are NaN
    below that; ``bought_same_window_last_year`` is NaN when the log does not
    reach back a year before ``s``.
    """
    m = occ.day <= s
    df = pd.DataFrame(
        {"c": occ.c[m], "day": occ.day[m], "amount": occ.amount[m], "rows": occ.rows[m], "gap": occ.gap[m]}
    )
    age = s - df["day"]
    df["in_90_180"] = (age >= 90) & (age < 180)
    df["in_180_365"] = (age >= 180) & (age < 365)
    df["in_365"] = age < 365
    df["amt_365"] = np.where(df["in_365"], df["amount"], 0.0)
    # the same horizon one year earlier: (s - 365, s - 365 + horizon]
    df["last_year_window"] = (age < 365) & (age >= 365 - horizon_days)
    g = df.groupby("c", sort=True)
    f = g.agg(
        first=("day", "min"),
        last=("day", "max"),
        n=("day", "size"),
        rows=("rows", "sum"),
        amount_sum=("amount", "sum"),
        amount_last=("amount", "last"),
        gap_last=("gap", "last"),
        gap_std=("gap", "std"),
        gap_max=("gap", "max"),
        n_90_180=("in_90_180", "sum"),
        n_180_365=("in_180_365", "sum"),
        n_365=("in_365", "sum"),
        amount_365=("amt_365", "sum"),
        last_year=("last_year_window", "max"),
    )
    n = f["n"].astype(float)
    recency = (s - f["last"]).astype(float)
    tenure = (s - f["first"]).astype(float)
    span = (f["last"] - f["first"]).astype(float)
    gap_mean = (span / (n - 1)).where(n > 1)
    out = pd.DataFrame(
        {
            "recency_days": recency,
            "n_occasions": n,
            "tenure_days": tenure,
            "active_span_days": span,
            "occasions_per_year": n / np.maximum(tenure, 30.0) * 365.25,
            "rows_per_occasion": f["rows"] / n,
            "gap_mean": gap_mean,
            "gap_last": f["gap_last"],
            "gap_std_rel": f["gap_std"] / gap_mean,
            "gap_max": f["gap_max"],
            "recency_over_gap": recency / gap_mean,
            "recency_over_max_gap": recency / f["gap_max"],
            "n_90_180": f["n_90_180"].astype(float),
            "n_180_365": f["n_180_365"].astype(float),
            "n_365": f["n_365"].astype(float),
            # recent trend: share of the occasions that fell in the last year, against the share of the tenure it is
            "trend_365": f["n_365"] / n - np.minimum(365.0, tenure + 1) / (tenure + 1),
            "amount_mean": f["amount_sum"] / n,
            "amount_last": f["amount_last"],
            "amount_365": f["amount_365"],
            "bought_same_window_last_year": f["last_year"].astype(float),
        }
    )
    if s - 365 < occ.first_day:
        out["bought_same_window_last_year"] = np.nan
    return out


# ----------------------------------------------------------------------------------------------------------
# BG/NBD on occasions, with the exact chance of a purchase within the horizon


def _bgnbd_loglik(params, x, t_x, T):
    r, alpha, a, b = params
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a2 = np.where(
            x > 0,
            betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return base + np.logaddexp(a1, a2)


def fit_bgnbd(x, t_x, T, penalizer: float = 0.0) -> dict:
    """BG/NBD parameters (r, alpha, a, b) by maximum likelihood: reactivate's own BGNBD when importable.

    Raises when the fit does not converge (reactivate's InputDataError, or RuntimeError here).
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            from reactivate.scoring.bgnbd import BGNBD
        except Exception:  # the package is being reorganised: the same likelihood, here
            BGNBD = None
        if BGNBD is not None:
            m = BGNBD(penalizer=penalizer).fit(x, t_x, T)
            return {
                **m.params_,
                "log_likelihood": m.log_likelihood_,
                "fitted_by": "reactivate.scoring.bgnbd.BGNBD",
            }
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))

        def nll(lp):
            p = np.exp(lp)
            return -_bgnbd_loglik(p, x, t_x, T).sum() + penalizer * (p**2).sum()

        res = minimize(nll, np.log([1.0, max(T.mean(), 1e-3), 1.0, 1.0]), method="L-BFGS-B")
        if not res.success and not np.isfinite(res.fun):
            raise RuntimeError(f"BG/NBD did not converge: {res.message}")
        p = np.exp(res.x)
        return {
            "r": p[0],
            "alpha": p[1],
            "a": p[2],
            "b": p[3],
            "log_likelihood": float(-nll(res.x) + penalizer * (p**2).sum()),
            "fitted_by": "local",
        }


def bgnbd_p_active(params: dict, t: float, x, t_x, T) -> np.ndarray:
    """P(at least one purchase in (T, T + t] | x, t_x, T) under BG/NBD, exactly.

    A BG/NBD customer can only drop out right after a purchase, so one who is
    alive at T stays alive until the next purchase: P(X(t) > 0) = P(alive) x
    (1 - E[exp(-lambda t) | alive]) with lambda | alive ~ Gamma(r + x, alpha + T),
    i.e. 1 - P(X(t) = 0) = P(alive) x (1 - ((alpha + T) / (alpha + T + t))^(r + x)).
    """
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(
            x > 0, a / (b + x - 1) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x))), 0.0
        )
    p_alive = 1.0 / (1.0 + odds)
    return p_alive * (1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))))


def bgnbd_expected_count(params: dict, t: float, x, t_x, T) -> np.ndarray:
    """E[X(t) | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10)."""
    from scipy.special import hyp2f1

    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return first / (1 + odds)


def bgnbd_at(occ: Occasions, s: int, horizon_days: int) -> tuple[pd.Series, dict]:
    """Fit BG/NBD on every customer's occasions up to day ``s``; P(active in the horizon) per customer code."""
    rfm = occ.rfm(s)
    params = fit_bgnbd(rfm["x"], rfm["t_x"], rfm["T"])
    p = bgnbd_p_active(params, horizon_days / 7.0, rfm["x"], rfm["t_x"], rfm["T"])
    return pd.Series(p, index=rfm.index), params


def bgnbd_rows_like_reactivate(log: pd.DataFrame, s: int, horizon_days: int, ids: pd.Index) -> pd.Series:
    """Diagnostic: BG/NBD the way reactivate's ``bgnbd`` source feeds it (propensity.fit_bgnbd + _Log.span).

    Rows strictly before the cutoff day counted as events (an invoice of 20
    lines is 20 purchases), and P = 1 - exp(-expected count). reactivate fits
    on a sample of at most 10,000 customers (all of them here).
    """
    day = log["timestamp"].to_numpy().astype("datetime64[D]").astype(np.int64)
    keep = day < s
    g = pd.DataFrame({"c": log["customer_id"].to_numpy()[keep], "day": day[keep]}).groupby("c")["day"]
    cnt, first, last = g.size(), g.min(), g.max()
    x = np.maximum(cnt - 1, 0).astype(float)
    t_x = np.where(x > 0, (last - first) / 7.0, 0.0)
    T = np.maximum((s - first) / 7.0, t_x)
    params = fit_bgnbd(x, t_x, T, penalizer=1e-4)  # reactivate's penalizer; it drops the source on failure
    with np.errstate(all="ignore"):
        p = 1.0 - np.exp(-bgnbd_expected_count(params, horizon_days / 7.0, x, t_x, T))
    return pd.Series(p, index=cnt.index).reindex(ids)


# ----------------------------------------------------------------------------------------------------------
# prototype: a learned model on stacked backtest snapshots, cross-fitted, chosen and calibrated


def snapshot_days(
    first_day: int, cutoff: int, horizon_days: int, dormant_days: int, step_days: int | None = None
) -> list[int]:
    """Snapshot days before the cutoff, ``step_days`` apart (default: one horizon), back to the log's start.

    The latest is ``cutoff - horizon`` (its outcome window ends on the cutoff
    day); a snapshot needs ``dormant_days`` of log before it, else nobody can be
    dormant there. Oldest first.
    """
    step = step_days or horizon_days
    out, s = [], cutoff - horizon_days
    while s - first_day >= dormant_days:
        out.append(s)
        s -= step
    return out[::-1]


def _logit(p):
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _signed_log1p(X):
    X = np.asarray(X, float)
    return np.sign(X) * np.log1p(np.abs(X))


class DropAllMissing:
    """Pipeline step: drop the columns with no value in the training rows (scikit-learn transformer API).

    Any training subset can have them (a fold, the snapshots before the latest
    one, a book without amounts), and HistGradientBoosting in scikit-learn 1.9
    fails on them with "window shape cannot be larger than input array shape".
    """

    def fit(self, X, y=None):
        self.keep_ = np.flatnonzero(~np.isnan(np.asarray(X, float)).all(axis=0))
        return self

    def transform(self, X):
        return np.asarray(X, float)[:, self.keep_]

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def make_learner(kind: str, seed: int = 0):
    """The two learned candidates, both regularised for books with a few hundred returns.

    ``hgb``: shallow gradient boosting (missing values handled natively).
    ``logit``: L2 logistic regression on signed log1p features, median-imputed
    with missing-value indicators, standardised: it extrapolates smoothly beyond
    the recency and tenure seen at the snapshots, which trees cannot.
    """
    from sklearn.pipeline import make_pipeline

    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return make_pipeline(
            DropAllMissing(),
            HistGradientBoostingClassifier(
                max_iter=100,
                learning_rate=0.05,
                max_depth=3,
                min_samples_leaf=100,
                l2_regularization=5.0,
                random_state=seed,
            ),
        )
    if kind == "logit":
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import FunctionTransformer, StandardScaler

        return make_pipeline(
            DropAllMissing(),
            FunctionTransformer(_signed_log1p),
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(C=0.3, max_iter=2000),
        )
    raise ValueError(f"unknown learner {kind!r}")


class Calibrator:
    """A monotone map from a real-valued score ``z`` (a logit, a log rate...) to a probability.

    Platt scaling (p = sigmoid(a z + b)) unless the held-out data has at least
    ``MIN_ISOTONIC_CUSTOMERS`` distinct customers who came back (stacked
    snapshots repeat customers, so rows overstate the evidence), then isotonic
    regression. Platt is strictly monotone: it keeps the ranking (the AUC) and
    extends beyond the range of scores seen in calibration; isotonic regression
    is a step function that ties customers and clips at the ends of that range.
    """

    MIN_ISOTONIC_CUSTOMERS = 1000

    def fit(self, z: np.ndarray, y: np.ndarray, customer: np.ndarray | None = None) -> Calibrator:
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y, bool)
        z = np.asarray(z, float)
        back = len(np.unique(customer[y])) if customer is not None else int(y.sum())
        stayed = len(np.unique(customer[~y])) if customer is not None else int((~y).sum())
        if min(back, stayed) >= self.MIN_ISOTONIC_CUSTOMERS:
            self.kind = "isotonic"
            self._m = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4).fit(z, y)
        else:
            self.kind = "platt"
            self._m = LogisticRegression(C=1e4).fit(z[:, None], y)
        return self

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, float)
        return self._m.predict(z) if self.kind == "isotonic" else self._m.predict_proba(z[:, None])[:, 1]


def heuristic_z(X: pd.DataFrame) -> dict[str, np.ndarray]:
    """The textbook scores as real numbers to calibrate: minus log recency, log of n / (1 + days / 30)."""
    rec = X["recency_days"].to_numpy(float)
    return {
        "recency": -np.log1p(rec),
        "freq/recency": np.log(X["n_occasions"].to_numpy(float) / (1 + rec / 30)),
    }


@dataclass
class Stacked:
    X: pd.DataFrame  # features, one row per (snapshot, customer dormant at it)
    y: np.ndarray
    snapshot: np.ndarray  # the snapshot's day
    customer: np.ndarray  # customer code
    bgnbd: np.ndarray  # BG/NBD P(active in the horizon), fitted on the log up to the snapshot


def stacked_examples(occ: Occasions, days: list[int], horizon_days: int, dormant_days: int) -> Stacked:
    """Customers dormant at each snapshot, their features up to it and whether they came back within the horizon."""
    parts, ys, snaps, custs, bg = [], [], [], [], []
    for s in days:  # one vectorised pass per snapshot day
        f = snapshot_features(occ, s, horizon_days)
        f = f[f["recency_days"] >= dormant_days]
        p_bg, _ = bgnbd_at(occ, s, horizon_days)
        parts.append(f)
        ys.append(occ.came_back(s, horizon_days)[f.index.to_numpy()])
        snaps.append(np.full(len(f), s))
        custs.append(f.index.to_numpy())
        bg.append(p_bg.reindex(f.index).to_numpy())
    if not parts:
        return Stacked(pd.DataFrame(), np.zeros(0, bool), np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    return Stacked(
        pd.concat(parts, ignore_index=True),
        np.concatenate(ys),
        np.concatenate(snaps),
        np.concatenate(custs),
        np.concatenate(bg),
    )


class LearnedModel:
    """Who comes back within the horizon, learned from the log's own past.

    1. Snapshots ``step_days`` apart back to the log's start (the latest one
       horizon before the cutoff, so every label is known by then); at each,
       the customers dormant then, features from their occasions up to it
       (:func:`snapshot_features`), and the label "an occasion within the
       horizon after it"; all snapshots stacked.
    2. Columns missing on every training row are dropped (nothing to learn;
       they also crash HistGradientBoosting in scikit-learn 1.9), and so are
       columns the history cannot give at half the snapshots or more (a
       "same window last year" on a log of barely a year); every learner also
       drops the columns empty in its own training rows (:class:`DropAllMissing`).
    3. Cross-fitting: folds grouped by customer (a customer's snapshots stay in
       one fold); each fold is scored by learners trained on the others. These
       out-of-fold scores are honest, and comparable with the sources that
       learn nothing from labels: BG/NBD fitted at each snapshot on the log up
       to it, recency, and n / (1 + days / 30).
    4. Every source gets a calibrator (Platt, or isotonic with many returns)
       fitted on its out-of-fold / snapshot scores.
    5. Choice (ties to 3 decimals: the simpler source): the best AUC
       *out of time* -- on the latest snapshot, learners trained only on
       snapshots whose horizon ended before it -- when the history allows it;
       else the best cross-fitted AUC.
    6. The learners are refitted on all snapshots and score the customers at
       the cutoff.
    """

    N_FOLDS = 5
    MIN_POSITIVES = 20
    LEARNERS = ("hgb", "logit")
    #: simplest first: a tie in AUC goes to the earlier one
    SOURCES = ("recency", "freq/recency", "bgnbd", "logit", "hgb")
    MAX_TRAIN = 200_000  # stacked rows kept (sampled) on large books

    def __init__(
        self,
        horizon_days: int = HORIZON_DAYS,
        dormant_days: int = DORMANT_DAYS,
        step_days: int = 14,
        seed: int = 0,
        use_bgnbd_feature: bool = False,
    ):
        self.horizon_days = horizon_days
        self.dormant_days = dormant_days
        self.step_days = step_days
        self.seed = seed
        self.use_bgnbd_feature = use_bgnbd_feature

    def _design(self, X: pd.DataFrame, p_bgnbd: np.ndarray) -> pd.DataFrame:
        return X.assign(bgnbd_logit=_logit(p_bgnbd)) if self.use_bgnbd_feature else X

    def fit(self, occ: Occasions, cutoff: int) -> LearnedModel:
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import GroupKFold

        self.snapshots = snapshot_days(
            occ.first_day, cutoff, self.horizon_days, self.dormant_days, self.step_days
        )
        ex = stacked_examples(occ, self.snapshots, self.horizon_days, self.dormant_days)
        if len(ex.y) > self.MAX_TRAIN:
            keep = np.sort(np.random.default_rng(self.seed).choice(len(ex.y), self.MAX_TRAIN, replace=False))
            ex = Stacked(
                ex.X.iloc[keep].reset_index(drop=True),
                ex.y[keep],
                ex.snapshot[keep],
                ex.customer[keep],
                ex.bgnbd[keep],
            )
        self.info = {
            "snapshots": len(self.snapshots),
            "step_days": self.step_days,
            "first_snapshot": str(np.datetime64(self.snapshots[0], "D")) if self.snapshots else None,
            "last_snapshot": str(np.datetime64(self.snapshots[-1], "D")) if self.snapshots else None,
            "examples": len(ex.y),
            "returns": int(ex.y.sum()),
            "customers": len(np.unique(ex.customer)),
        }
        if ex.y.sum() < self.MIN_POSITIVES or (~ex.y).sum() < self.MIN_POSITIVES:
            self.usable = False
            self.info["reason"] = f"too few examples ({int(ex.y.sum())} returns of {len(ex.y)})"
            return self
        self.usable = True
        X = self._design(ex.X, ex.bgnbd)
        # a column the history cannot give at most snapshots (e.g. "same window last year" on a log of barely a
        # year) would be learned from a few of them and its missing flag would stand for time: dropped
        present = X.notna().groupby(ex.snapshot).any().mean()
        self.columns = [c for c in X.columns if present[c] >= 0.5]
        self.info["dropped_all_missing"] = [c for c in X.columns if not X[c].notna().any()]
        self.info["dropped_mostly_unavailable"] = [
            c for c in X.columns if c not in self.columns and X[c].notna().any()
        ]
        X = X[self.columns]
        oof = {k: np.zeros(len(ex.y)) for k in self.LEARNERS}
        folds = GroupKFold(n_splits=min(self.N_FOLDS, len(np.unique(ex.customer))))
        for tr, te in folds.split(X, ex.y, groups=ex.customer):
            for k in self.LEARNERS:
                if ex.y[tr].min() == ex.y[tr].max():
                    oof[k][te] = ex.y[tr].mean()
                else:
                    oof[k][te] = (
                        make_learner(k, self.seed).fit(X.iloc[tr], ex.y[tr]).predict_proba(X.iloc[te])[:, 1]
                    )
        z = {**heuristic_z(ex.X), "bgnbd": _logit(ex.bgnbd), **{k: _logit(v) for k, v in oof.items()}}
        self.cv_auc = {k: float(roc_auc_score(ex.y, z[k])) for k in self.SOURCES}
        self.calibrators = {k: Calibrator().fit(z[k], ex.y, ex.customer) for k in self.SOURCES}
        self.models = {k: make_learner(k, self.seed).fit(X, ex.y) for k in self.LEARNERS}
        self.forward_auc = self._forward(ex, X)
        basis, auc = ("out-of-time", self.forward_auc) if self.forward_auc else ("cross-fitted", self.cv_auc)
        self.chosen = max(self.SOURCES, key=lambda k: (round(auc[k], 3), -self.SOURCES.index(k)))
        self.info.update(
            {
                "cv_auc": {k: round(v, 4) for k, v in self.cv_auc.items()},
                "forward_auc": {k: round(v, 4) for k, v in self.forward_auc.items()} or None,
                "calibrators": {k: c.kind for k, c in self.calibrators.items()},
                "chosen": self.chosen,
                "chosen_on": basis,
                "observed_rate": round(float(ex.y.mean()), 4),
                "rate_by_snapshot": {
                    str(np.datetime64(s, "D")): round(float(ex.y[ex.snapshot == s].mean()), 4)
                    for s in self.snapshots
                    if (ex.snapshot == s).any()
                },
            }
        )
        return self

    def _forward(self, ex: Stacked, X: pd.DataFrame) -> dict[str, float]:
        """AUC of every source on the latest snapshot, learners trained on snapshots whose horizon ended before it.

        The honest test of "does it hold on a later time than it learned from";
        empty when the history is too short for it (then the choice is made on
        the cross-fitted AUC).
        """
        from sklearn.metrics import roc_auc_score

        last = self.snapshots[-1]
        val = ex.snapshot == last
        tr = ex.snapshot <= last - self.horizon_days
        if min(ex.y[tr].sum(), (~ex.y[tr]).sum(), ex.y[val].sum(), (~ex.y[val]).sum()) < self.MIN_POSITIVES:
            return {}
        Xv = ex.X[val]
        z = {**heuristic_z(Xv), "bgnbd": _logit(ex.bgnbd[val])}
        for k in self.LEARNERS:
            z[k] = make_learner(k, self.seed).fit(X[tr], ex.y[tr]).predict_proba(X[val])[:, 1]
        return {k: float(roc_auc_score(ex.y[val], z[k])) for k in self.SOURCES}

    def score(self, features: pd.DataFrame, p_bgnbd: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated scores at the cutoff (``features`` from :func:`snapshot_features`, BG/NBD fitted up to it)."""
        X = self._design(features, p_bgnbd)[self.columns]
        z = {
            **heuristic_z(features),
            "bgnbd": _logit(p_bgnbd),
            **{k: _logit(m.predict_proba(X)[:, 1]) for k, m in self.models.items()},
        }
        out = {
            "learned-hgb": self.calibrators["hgb"](z["hgb"]),
            "learned-logit": self.calibrators["logit"](z["logit"]),
            "bgnbd+cal": self.calibrators["bgnbd"](z["bgnbd"]),
            "chosen": self.calibrators[self.chosen](z[self.chosen]),
        }
        return out


# ----------------------------------------------------------------------------------------------------------
# metrics


def top_decile_lift(y: np.ndarray, score: np.ndarray) -> float:
    """Return rate among the top 10% by score over the overall rate; ties at the boundary shared out evenly."""
    y = np.asarray(y, float)
    score = np.asarray(score, float)
    if len(y) == 0 or y.mean() == 0:
        return float("nan")
    k = max(1, round(len(y) / 10))
    t = np.sort(score)[::-1][k - 1]
    above, at = score > t, score == t
    hits = y[above].sum() + (k - above.sum()) * y[at].mean()
    return float(hits / k / y.mean())


def _auc_rows(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """AUC of each row of (y, score) matrices, from average ranks (the Mann-Whitney statistic)."""
    from scipy.stats import rankdata

    r = rankdata(score, axis=1)
    n1 = y.sum(axis=1)
    n0 = y.shape[1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((r * y).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def auc_delta_ci(y, a, b, n_boot: int = 400, seed: int = 0) -> tuple[float, float]:
    """95% paired-bootstrap interval of AUC(a) - AUC(b) on the same customers."""
    y = np.asarray(y, bool)
    idx = np.random.default_rng(seed).integers(0, len(y), size=(n_boot, len(y)))
    yy = y[idx]
    d = _auc_rows(yy, np.asarray(a, float)[idx]) - _auc_rows(yy, np.asarray(b, float)[idx])
    lo, hi = np.nanpercentile(d, [2.5, 97.5])
    return float(lo), float(hi)


def metrics(y: np.ndarray, score: np.ndarray, probabilistic: bool) -> dict:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, bool)
    score = np.nan_to_num(np.asarray(score, float), nan=0.0)
    out = {
        "auc": float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan"),
        "top_decile_lift": top_decile_lift(y, score),
    }
    if probabilistic:
        out["mean_pred"] = float(score.mean())
        out["pred_over_obs"] = float(score.mean() / y.mean()) if y.mean() > 0 else float("nan")
        out["brier"] = float(np.mean((score - y) ** 2))
    return out


# ----------------------------------------------------------------------------------------------------------
# running reactivate


def write_inputs(
    log: pd.DataFrame, cutoff: pd.Timestamp, where: Path, assume: list[str]
) -> tuple[Path, Path]:
    where.mkdir(parents=True, exist_ok=True)
    before = log[log["timestamp"] < cutoff + pd.Timedelta(days=1)]
    txn = where / "transactions.csv"
    fmt = (
        "%Y-%m-%d"
        if (before["timestamp"].dt.normalize() == before["timestamp"]).all()
        else "%Y-%m-%d %H:%M:%S"
    )
    before.assign(timestamp=before["timestamp"].dt.strftime(fmt)).to_csv(
        txn, index=False, float_format="%.4f"
    )
    toml = where / "campaign.toml"
    toml.write_text(
        CAMPAIGN_TOML.format(
            horizon_weeks=HORIZON_WEEKS,
            at_risk_days=AT_RISK_DAYS,
            dormant_days=DORMANT_DAYS,
            long_dormant_days=LONG_DORMANT_DAYS,
            assume=json.dumps(assume),
        )
    )
    return txn, toml


def _last_line(text: str) -> str:
    """The error's last line: from the last "SomethingError: ..." line to the end (rich wraps long messages)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    starts = [i for i, ln in enumerate(lines) if re.match(r"^[\w.]*(Error|Exception|Interrupt)\b", ln)]
    return " ".join(lines[starts[-1] :]) if starts else lines[-1]


def run_reactivate(command: str, cutoff: str, txn: Path, toml: Path, out: Path, timeout: int) -> dict:
    """Run ``reactivate rank|plan`` in a subprocess; the outcome, its time, and scores/summary when it worked."""
    base = [sys.executable, "-m", "reactivate"] if SRC is not None else [str(REACTIVATE)]
    args = [
        *base,
        command,
        "--as-of",
        cutoff,
        "--transactions",
        str(txn),
        "--campaign",
        str(toml),
        "--out",
        str(out),
    ]
    if command == "plan":
        args += ["--no-report", "-q"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if SRC is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    t = time.perf_counter()
    try:
        # from the source tree's folder: `python -m` puts the working directory first on sys.path
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=SRC if SRC is not None else None,
        )
    except subprocess.TimeoutExpired:
        return {"status": "crash", "error": f"timeout after {timeout} s", "seconds": timeout}
    res = {"seconds": round(time.perf_counter() - t, 1)}
    if proc.returncode != 0:
        return {
            **res,
            "status": "crash",
            "exit_code": proc.returncode,
            "error": _last_line(proc.stderr or proc.stdout),
        }
    res["status"] = "ok"
    res["scores"] = pd.read_csv(out / "scores.csv", dtype={"customer_id": str})
    res["summary"] = json.loads((out / "summary.json").read_text())
    if command == "plan":
        for name in ("plan", "suppressed"):
            f = out / f"{name}.csv"
            res[name] = pd.read_csv(f, dtype={"customer_id": str}) if f.is_file() else None
    return res


# ----------------------------------------------------------------------------------------------------------
# one (log, cutoff)


def documented_prior(days_dormant: np.ndarray) -> np.ndarray:
    """Diagnostic: reactivate's documented prior on a plain log (no balance, products, RM, consent or contacts).

    Every term but the years dormant is then constant, so the prior is a fixed
    decreasing function of recency: the ranking of ``recency``, at a level set
    by the intercept (-1.6), whatever the book's own return rate.
    """
    kw = dict(
        log_balance=np.zeros(len(days_dormant)),
        lb_mean=0.0,
        lb_sd=0.0,
        n_products=np.zeros(len(days_dormant)),
        maturing=0.0,
        responded=False,
        has_rm=0.0,
        digital_reach=0.0,
    )
    try:
        from reactivate.scoring.priors import prior_from
    except Exception:  # being reorganised: the same formula
        return 1.0 / (1.0 + np.exp(-(-1.6 - 0.9 * (np.asarray(days_dormant, float) / 365.25 - 1.0))))
    return prior_from(days_dormant=np.asarray(days_dormant, float), **kw)


def dormant_like_reactivate(log: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Index:
    """Customers reactivate's stage rule calls dormant: whole days from the last purchase day to the cutoff."""
    last = log[log["timestamp"] < cutoff + pd.Timedelta(days=1)].groupby("customer_id")["timestamp"].max()
    days = (cutoff - last.dt.normalize()) / pd.Timedelta(days=1)
    return pd.Index(last.index[days >= DORMANT_DAYS])


def evaluate(book: str, log: pd.DataFrame, occ: Occasions, cutoff_s: str, workdir: Path, args) -> dict:
    cutoff = pd.Timestamp(cutoff_s)
    s = _epoch_day(cutoff)
    res: dict = {"book": book, "cutoff": cutoff_s}
    where = workdir / f"{book}-{cutoff_s}"
    txn, toml = write_inputs(log, cutoff, where, args.assume_consent)
    res["log_rows"] = int((log["timestamp"] < cutoff + pd.Timedelta(days=1)).sum())
    if log["timestamp"].max() < cutoff + pd.Timedelta(days=HORIZON_DAYS):
        res["warning"] = "the log ends before the horizon after this cutoff: the labels are censored"

    rx = run_reactivate("rank", cutoff_s, txn, toml, where / "rank", args.timeout)
    res["reactivate"] = {k: v for k, v in rx.items() if k not in ("scores", "summary")}
    own = dormant_like_reactivate(log, cutoff)
    if rx["status"] == "ok":
        sc = rx["scores"]
        target = pd.Index(sc["customer_id"])
        scoring = rx["summary"].get("scoring", {})
        res["reactivate"].update(
            {
                "source": scoring.get("source"),
                "method": scoring.get("method"),
                "held_out": scoring.get("held_out"),
                "candidates": scoring.get("candidates"),
            }
        )
        res["dormant_set_mismatch"] = len(target.symmetric_difference(own))
        p_rx = sc.set_index("customer_id")["p_reactivate"].reindex(target).to_numpy(float)
        stage = sc["dormancy_stage"].to_numpy() if "dormancy_stage" in sc.columns else None
    else:
        target, p_rx = own, None
    res["population"] = (
        "reactivate's scored customers" if p_rx is not None else "reactivate's dormancy rule (crash)"
    )

    code = occ.ids.get_indexer(target)
    y = occ.came_back(s, HORIZON_DAYS)[code]
    res["n"], res["returns"] = len(y), int(y.sum())
    res["observed_rate"] = float(y.mean())
    res["brier_of_constant_rate"] = float(y.mean() * (1 - y.mean()))
    if p_rx is not None and stage is not None:
        res["reactivate"]["by_stage"] = {
            str(st): {
                "n": int((stage == st).sum()),
                "observed": round(float(y[stage == st].mean()), 4),
                "mean_p": round(float(p_rx[stage == st].mean()), 4),
                "pred_over_obs": round(float(p_rx[stage == st].mean() / max(y[stage == st].mean(), 1e-9)), 2),
            }
            for st in pd.unique(stage)
        }

    feats = snapshot_features(occ, s, HORIZON_DAYS)
    f = feats.reindex(code)
    p_bg, params = bgnbd_at(occ, s, HORIZON_DAYS)
    res["bgnbd_params"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in params.items()}
    scores = {
        "prior": (documented_prior(f["recency_days"].to_numpy()), True),
        "recency": (-f["recency_days"].to_numpy(), False),
        "freq/recency": ((f["n_occasions"] / (1 + f["recency_days"] / 30)).to_numpy(), False),
        "bgnbd": (p_bg.reindex(code).to_numpy(), True),
    }
    try:
        scores["bgnbd-rows"] = (
            bgnbd_rows_like_reactivate(
                log[log["timestamp"] < cutoff + pd.Timedelta(days=1)], s, HORIZON_DAYS, target
            ).to_numpy(),
            True,
        )
    except Exception as exc:  # reactivate then drops its bgnbd source
        res["bgnbd_rows_error"] = _last_line(str(exc))
    if p_rx is not None:
        scores = {"reactivate": (p_rx, True), **scores}
    if not args.no_learned:
        t = time.perf_counter()
        lm = LearnedModel(step_days=args.snapshot_step, use_bgnbd_feature=args.bgnbd_feature).fit(occ, s)
        res["learned"] = lm.info
        if lm.usable:
            for name, p in lm.score(f, p_bg.reindex(code).to_numpy()).items():
                scores[name] = (p, True)
        res["learned"]["seconds"] = round(time.perf_counter() - t, 1)
    res["scores"] = {name: metrics(y, sc_, prob) for name, (sc_, prob) in scores.items()}
    ref = "reactivate" if "reactivate" in scores else "recency"
    res["auc_delta_reference"] = ref
    for name, (sc_, _) in scores.items():
        if name != ref:
            lo, hi = auc_delta_ci(y, np.nan_to_num(sc_), np.nan_to_num(scores[ref][0]))
            res["scores"][name]["auc_delta_ci95"] = [round(lo, 4), round(hi, 4)]
    if p_rx is None:
        res["scores"] = {"reactivate": {"crash": res["reactivate"]["error"]}, **res["scores"]}

    if args.plan:
        px = run_reactivate("plan", cutoff_s, txn, toml, where / "plan", args.timeout)
        res["plan"] = {"status": px["status"], "seconds": px.get("seconds")}
        if px["status"] == "ok":
            sup = px.get("suppressed")
            res["plan"]["touches"] = 0 if px.get("plan") is None else len(px["plan"])
            res["plan"]["suppressed"] = 0 if sup is None else len(sup)
            res["plan"]["suppressed_by_reason"] = (
                {}
                if sup is None or not len(sup)
                else {str(k): int(v) for k, v in sup["reason"].value_counts().items()}
            )
        else:
            res["plan"]["error"] = px["error"]
    return res


# ----------------------------------------------------------------------------------------------------------
# output


def _fmt(v, spec: str) -> str:
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def print_table(results: list[dict]) -> None:
    for r in results:
        head = (
            f"\n== {r['book']} cutoff {r['cutoff']}: {r['n']} dormant ({r['population']}), "
            f"{r['returns']} back within {HORIZON_WEEKS} weeks = {r['observed_rate']:.1%}; "
            f"Brier of the constant rate {r['brier_of_constant_rate']:.4f}"
        )
        print(head)
        rx = r["reactivate"]
        if rx["status"] == "ok":
            ho = rx.get("held_out")
            print(
                f"   reactivate rank: {rx['seconds']} s, source {rx.get('source')!r}; held-out slice: "
                + (f"{ho['note']}" if ho else "none (no validation)")
                + (
                    f"; dormant-set mismatch {r['dormant_set_mismatch']}"
                    if r.get("dormant_set_mismatch")
                    else ""
                )
            )
        if rx.get("by_stage"):
            print(
                "   reactivate by stage: "
                + "; ".join(
                    f"{st} n={v['n']} observed {v['observed']:.1%}, mean p {v['mean_p']:.1%} ({v['pred_over_obs']:.2f}x)"
                    for st, v in rx["by_stage"].items()
                )
            )
        if "warning" in r:
            print(f"   WARNING: {r['warning']}")
        ref = r.get("auc_delta_reference", "reactivate")
        print(
            f"   {'score':<14}{'AUC':>7}{'lift@10%':>10}{'pred/obs':>10}{'mean p':>8}{'Brier':>8}"
            f"   AUC - AUC({ref}), 95% CI"
        )
        for name, m in r["scores"].items():
            if "crash" in m:
                print(f"   {name:<14}  crash: {m['crash']}")
                continue
            print(
                f"   {name:<14}{_fmt(m['auc'], '7.3f')}{_fmt(m['top_decile_lift'], '10.2f')}"
                f"{_fmt(m.get('pred_over_obs'), '10.2f')}{_fmt(m.get('mean_pred'), '8.3f')}"
                f"{_fmt(m.get('brier'), '8.4f')}"
                + (
                    f"   {m['auc'] - r['scores'][ref]['auc']:+.3f} [{m['auc_delta_ci95'][0]:+.3f}, "
                    f"{m['auc_delta_ci95'][1]:+.3f}]"
                    if "auc_delta_ci95" in m
                    else ""
                )
            )
        p = r["bgnbd_params"]
        if "bgnbd_rows_error" in r:
            print(f"   bgnbd-rows    crash: {r['bgnbd_rows_error']} (reactivate drops its bgnbd source then)")
        print(
            f"   BG/NBD on occasions: r={p['r']:.3f} alpha={p['alpha']:.3f} a={p['a']:.3f} b={p['b']:.3f} "
            f"LL={p['log_likelihood']:.1f}"
        )
        if "learned" in r:
            li = r["learned"]
            if "cv_auc" in li:
                print(
                    f"   learned: {li['snapshots']} snapshots {li['step_days']} days apart, {li['first_snapshot']} to "
                    f"{li['last_snapshot']}: {li['examples']} examples of {li['customers']} customers, "
                    f"{li['returns']} returns ({li['observed_rate']:.1%})\n      cross-fitted AUC "
                    + ", ".join(f"{k} {v:.3f}" for k, v in li["cv_auc"].items())
                    + (
                        "\n      out-of-time AUC "
                        + ", ".join(f"{k} {v:.3f}" for k, v in li["forward_auc"].items())
                        if li["forward_auc"]
                        else "\n      out-of-time: history too short"
                    )
                    + f"\n      -> chosen {li['chosen']} ({li['chosen_on']}); calibrators "
                    f"{'/'.join(li['calibrators'].values())}; "
                    f"{li['seconds']} s"
                    + (
                        f"; dropped all-missing {li['dropped_all_missing']}"
                        if li["dropped_all_missing"]
                        else ""
                    )
                    + (
                        f"; dropped (missing at most snapshots) {li['dropped_mostly_unavailable']}"
                        if li.get("dropped_mostly_unavailable")
                        else ""
                    )
                )
            else:
                print(f"   learned: not usable ({li.get('reason')})")
        if "plan" in r:
            pl = r["plan"]
            print(
                "   reactivate plan: "
                + (
                    f"{pl['touches']} touches, {pl['suppressed']} suppressed {pl['suppressed_by_reason']}"
                    if pl["status"] == "ok"
                    else f"crash: {pl['error']}"
                )
            )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--books", default="cdnow,online_retail", help="comma-separated: cdnow, online_retail")
    ap.add_argument(
        "--cutoffs",
        action="append",
        default=[],
        help="BOOK=YYYY-MM-DD[,YYYY-MM-DD...] (repeatable); default: "
        + "; ".join(f"{b}={','.join(c)}" for b, c in CUTOFFS.items()),
    )
    ap.add_argument("--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})")
    ap.add_argument("--workdir", type=Path, default=HERE / ".data" / "real_books")
    ap.add_argument("--json", type=Path, help="also save the results as JSON")
    ap.add_argument("--plan", action="store_true", help="also run `reactivate plan` and count touches")
    ap.add_argument(
        "--assume-consent",
        action="append",
        default=[],
        metavar="CHANNEL",
        help="put CHANNEL in consent.assume_when_missing of the campaign (repeatable)",
    )
    ap.add_argument("--no-learned", action="store_true", help="skip the learned prototype")
    ap.add_argument(
        "--snapshot-step",
        type=int,
        default=14,
        metavar="DAYS",
        help="days between the learned prototype's training snapshots (default 14; 91 = one horizon)",
    )
    ap.add_argument(
        "--bgnbd-feature",
        action="store_true",
        help="give the learned prototype BG/NBD's probability as a feature",
    )
    ap.add_argument(
        "--reactivate-src",
        type=Path,
        metavar="DIR",
        help="run reactivate from this source tree (e.g. `git archive HEAD | tar -x -C DIR`) instead of "
        "the installed one; also used for BGNBD and the prior",
    )
    ap.add_argument("--timeout", type=int, default=600, help="seconds per reactivate run")
    args = ap.parse_args(argv)

    if args.reactivate_src is not None:
        global SRC
        SRC = args.reactivate_src.resolve()
        sys.path.insert(0, str(SRC))
    if not args.data.is_dir():
        print(f"no shared data at {args.data}: nothing to benchmark", file=sys.stderr)
        return 2
    cutoffs = {b: list(c) for b, c in CUTOFFS.items()}
    for spec in args.cutoffs:
        book, _, days = spec.partition("=")
        cutoffs[book] = days.split(",")
    results = []
    for book in args.books.split(","):
        t = time.perf_counter()
        log = LOADERS[book](args.data)
        occ = Occasions.from_log(log)
        print(
            f"{book}: {len(log):,} rows, {len(occ.ids):,} customers, {len(occ.day):,} purchase occasions, "
            f"{log['timestamp'].min():%Y-%m-%d} to {log['timestamp'].max():%Y-%m-%d} "
            f"(read in {time.perf_counter() - t:.1f} s)",
            flush=True,
        )
        for c in cutoffs[book]:
            r = evaluate(book, log, occ, c, args.workdir, args)
            results.append(r)
            print_table([r])
            sys.stdout.flush()
    if args.json:
        args.json.write_text(
            json.dumps(results, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
        )
        print(f"\nsaved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
