"""The BG/NBD repeat-activity model (Fader, Hardie & Lee 2005), for books with little history.

When the history is too short to backtest a classifier, a customer's chance of
being "alive" and their expected activity in the next weeks follow from three
numbers per customer: ``x`` (repeat active periods), ``t_x`` (time of the last
one, since the first) and ``T`` (time since the first). :class:`BGNBD` fits the
four population parameters by maximum likelihood (scipy's L-BFGS-B on their
logarithms) and is checked against the paper's CDNOW figures.

Estimator contract: ``fit(frequency, recency, T)``; fitted ``params_`` (r,
alpha, a, b) and ``log_likelihood_``; ``p_alive`` and ``expected_count``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from reactivate.errors import InputDataError, NotFittedError


def _check(x, t_x, T):
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if not (x.shape == t_x.shape == T.shape):
        raise InputDataError(f"frequency, recency and T need the same length, got {x.shape}, {t_x.shape}, {T.shape}")
    bad = (x < 0) | (t_x < 0) | (T < t_x) | ((x == 0) & (t_x != 0)) | ~np.isfinite(x + t_x + T)
    if bad.any():
        rows = np.flatnonzero(bad)[:5] + 1
        raise InputDataError(
            f"{int(bad.sum())} customers with impossible (frequency, recency, T): need frequency >= 0, "
            f"0 <= recency <= T and recency 0 when frequency is 0 (rows {', '.join(map(str, rows))})"
        )
    return x, t_x, T


def log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model (the paper's equation 6)."""
    r, alpha, a, b = params
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a2 = np.where(x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b)
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    return base + np.logaddexp(a1, a2)


def _distinct(x, t_x, T) -> tuple[np.ndarray, ...]:
    """The distinct values of x, t_x and T and where each row's is (``np.unique``'s inverse)."""
    return tuple(v for col in (x, t_x, T) for v in np.unique(col, return_inverse=True))


def _log_likelihood_and_gradient(params, x, t_x, T, distinct=None) -> tuple[float, np.ndarray]:
    """The summed log-likelihood and its gradient in (r, alpha, a, b).

    The special functions of a parameter and x (or of alpha and a time) are evaluated once per distinct
    value (``distinct``: :func:`_distinct`) and spread to the rows: the very numbers of evaluating them
    row by row, for a few hundred calls instead of a few hundred thousand.
    """
    r, alpha, a, b = params
    ux, ix, ut, it, uT, iT = _distinct(x, t_x, T) if distinct is None else distinct
    uxm = np.maximum(ux, 1)
    log_T, log_tx = np.log(alpha + uT)[iT], np.log(alpha + ut)[it]
    base = gammaln(r + ux)[ix] - gammaln(r) + r * np.log(alpha)
    a1 = betaln(a, b + ux)[ix] - betaln(a, b) - (r + x) * log_T
    a2 = np.where(x > 0, betaln(a + 1, b + uxm - 1)[ix] - betaln(a, b) - (r + x) * log_tx, -np.inf)
    lse = np.logaddexp(a1, a2)
    w1, w2 = np.exp(a1 - lse), np.exp(a2 - lse)
    dab, dabx = digamma(a + b), digamma(a + b + ux)[ix]
    g_r = digamma(r + ux)[ix] - digamma(r) + np.log(alpha) - w1 * log_T - w2 * log_tx
    g_alpha = r / alpha - w1 * (r + x) / (alpha + T) - w2 * (r + x) / (alpha + t_x)
    g_a = w1 * (dab - dabx) + w2 * (digamma(a + 1) - dabx - digamma(a) + dab)
    g_b = (w1 * (digamma(b + ux)[ix] - dabx - digamma(b) + dab)
           + w2 * (digamma(b + uxm - 1)[ix] - dabx - digamma(b) + dab))
    grad = np.array([g_r.sum(), g_alpha.sum(), g_a.sum(), g_b.sum()])
    return float((base + lse).sum()), grad


class BGNBD:
    """Beta-geometric / negative binomial distribution model of repeat activity.

    Parameters
    ----------
    penalizer : float, L2 penalty on the parameters (0 = plain maximum likelihood)
    """

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    def fit(self, frequency, recency, T):
        """Maximum likelihood on the logarithms of (r, alpha, a, b), with the analytic gradient.

        The logarithms are bounded to [-15, 15]: a book where nobody seems to drop out drives ``a``
        towards 0, a limit the model still predicts well from (it is reached, not wandered past).
        """
        x, t_x, T_ = _check(frequency, recency, T)
        if len(x) == 0:
            raise InputDataError("BG/NBD needs at least one customer")

        distinct = _distinct(x, t_x, T_)

        def nll(logp):
            p = np.exp(logp)
            ll, grad = _log_likelihood_and_gradient(p, x, t_x, T_, distinct)
            return -ll + self.penalizer * (p**2).sum(), -grad * p + 2 * self.penalizer * p**2

        start = np.log([1.0, max(float(T_.mean()), 1e-3), 1.0, 1.0])
        with np.errstate(all="ignore"):
            res = minimize(nll, start, jac=True, method="L-BFGS-B", bounds=[(-15.0, 15.0)] * 4)
        if not np.isfinite(res.fun) or not np.isfinite(res.x).all():
            raise InputDataError(f"BG/NBD did not converge: {res.message}")
        self.params_ = dict(zip(("r", "alpha", "a", "b"), np.exp(res.x).tolist(), strict=True))
        self.log_likelihood_ = float(-res.fun + self.penalizer * (np.exp(res.x) ** 2).sum())
        self.converged_ = bool(res.success)
        return self

    def _p(self):
        if not hasattr(self, "params_"):
            raise NotFittedError("this BGNBD is not fitted yet; call fit first")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """Probability that each customer is still 'alive' (may act again)."""
        r, alpha, a, b = self._p()
        x, t_x, T_ = _check(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_odds = (np.log(a) - np.log(b + np.maximum(x, 1) - 1)
                        + (r + x) * (np.log(alpha + T_) - np.log(alpha + t_x)))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0))), 1.0)

    def expected_count(self, t, frequency, recency, T) -> np.ndarray:
        """Expected number of active periods in the next ``t`` time units (the paper's equation 10)."""
        r, alpha, a, b = self._p()
        x, t_x, T_ = _check(frequency, recency, T)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T_ + t))
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T_) / (alpha + T_ + t)) ** (r + x) * hyp)
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T_) / (alpha + t_x)) ** (r + x), 0.0)
        return first / (1 + odds)

    def p_active(self, t, frequency, recency, T) -> np.ndarray:
        """P(at least one active period in the next ``t`` time units), exactly.

        A BG/NBD customer can only drop out right after a purchase, so one alive now stays alive
        until the next one: P(X(t) > 0) = P(alive) x (1 - E[exp(-lambda t) | alive]), with lambda |
        alive ~ Gamma(r + x, alpha + T), i.e. P(alive) x (1 - ((alpha + T) / (alpha + T + t))^(r + x)).
        """
        r, alpha, _, _ = self._p()
        x, t_x, T_ = _check(frequency, recency, T)
        with np.errstate(over="ignore"):
            none = np.exp((r + x) * (np.log(alpha + T_) - np.log(alpha + T_ + t)))
        return self.p_alive(x, t_x, T_) * (1.0 - none)


def rfm_from_events(customer, when, end, unit_days: float = 7.0):
    """Frequency, recency and T per customer from dated activity, same-day events merged.

    ``when`` are datetime64 values; ``end`` the end of the calibration period.
    Returns (customer ids, x, t_x, T) with times in ``unit_days``.
    """
    import pandas as pd

    df = pd.DataFrame({"c": np.asarray(customer), "d": pd.Series(pd.to_datetime(np.asarray(when))).dt.normalize()})
    df = df[df["d"] <= pd.Timestamp(end)].drop_duplicates()
    g = df.groupby("c", sort=True)["d"]
    first, last, n = g.min(), g.max(), g.size()
    x = (n - 1).to_numpy(dtype=float)
    t_x = ((last - first).dt.days / unit_days).to_numpy(dtype=float)
    T = ((pd.Timestamp(end) - first).dt.days / unit_days).to_numpy(dtype=float)
    return n.index.to_numpy(), x, t_x, T
