"""Scoring: who is likely to come back, what it is worth, and channel fit.

``p_reactivate`` is the probability that a dormant customer initiates
activity again within the campaign horizon when contacted on their best
channel. This foundation uses a **documented prior** (below), calibrated to
the bank's own contact history when it has outcomes: the global level is set
to the observed reactivation rate and each segment's level is moved towards
its observed rate (shrunk by ``SHRINK`` pseudo-contacts, so a small segment
stays close to the prior). ``summary.json`` names the method used.

The prior (a logistic score):

===========================  ==========  ==================================
term                         weight      why
===========================  ==========  ==================================
years dormant minus 1        -0.9        coming back gets rarer with time
log balance (z-score)        +0.35       more at stake, more reason to act
products held minus 1        +0.25       broader relationships come back
term product maturing        +0.6        a natural moment to act
past responses (any)         +0.4        answered the bank before
has a relationship manager   +0.3        a person who knows them
digital reach (0..1)         +0.2        an easy way back
intercept                    -1.6
===========================  ==========  ==================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.dormancy.ids import codes_for
from reactivate.schema import CHANNELS

SHRINK = 30.0
PRIOR_WEIGHTS = {
    "years_dormant": -0.9,
    "log_balance_z": 0.35,
    "extra_products": 0.25,
    "maturing_soon": 0.6,
    "responded_before": 0.4,
    "has_rm": 0.3,
    "digital_reach": 0.2,
    "intercept": -1.6,
}


def prior_propensity(features: pd.DataFrame, customers: pd.DataFrame) -> np.ndarray:
    """The documented prior: recency, value, breadth, maturity, history, reach."""
    lb = np.log1p(features["balance"].fillna(0).to_numpy(dtype=float))
    return prior_from(
        days_dormant=features["days_dormant"].to_numpy(dtype=float),
        log_balance=lb, lb_mean=lb.mean(), lb_sd=lb.std(),
        n_products=features["n_products"].to_numpy(dtype=float),
        maturing=features["maturing_soon"].to_numpy(dtype=float),
        responded=customers["prior_responses"].to_numpy(dtype=float) > 0,
        has_rm=features["has_rm"].to_numpy(dtype=float),
        digital_reach=features["digital_reach"].to_numpy(dtype=float),
    )


def prior_from(*, days_dormant, log_balance, lb_mean, lb_sd, n_products, maturing, responded, has_rm,
               digital_reach) -> np.ndarray:
    """The prior's logistic score from its terms (arrays, one value per customer)."""
    w = PRIOR_WEIGHTS
    years = np.asarray(days_dormant, dtype=float) / 365.25
    lbz = (log_balance - lb_mean) / lb_sd if lb_sd > 0 else np.zeros_like(log_balance)
    prods = np.nan_to_num(n_products, nan=1.0)
    z = (
        w["intercept"]
        + w["years_dormant"] * (years - 1.0)
        + w["log_balance_z"] * lbz
        + w["extra_products"] * np.clip(prods - 1, 0, 5)
        + w["maturing_soon"] * maturing
        + w["responded_before"] * responded
        + w["has_rm"] * has_rm
        + w["digital_reach"] * np.nan_to_num(digital_reach)
    )
    return 1.0 / (1.0 + np.exp(-z))


def prior_scorer(customers: pd.DataFrame, contacts: pd.DataFrame | None, horizon_days: int,
                 targets_index: pd.Index, targets_pos: np.ndarray | None = None):
    """The prior for any customer at the end of any past day, from what was known that day.

    Returns ``at(pos, day, days_dormant)``: ``days_dormant`` is the time dormant as known
    that day (NaN when unknown: counted as ten years); a past response counts only if it came
    before the day; a maturity counts when it falls in the horizon after it. Balances are
    today's (a slowly changing attribute). The balance scale is the targets' so the scores
    are comparable with today's (``targets_pos``: their positions among the customers, when known).
    """

    c = customers
    bal = np.log1p(np.clip(np.nan_to_num(c["total_balance"].to_numpy(dtype=float)), 0, None))
    tpos = c.index.get_indexer(targets_index) if targets_pos is None else targets_pos
    lb_mean, lb_sd = bal[tpos].mean(), bal[tpos].std()
    mat = c["next_maturity"].to_numpy().astype("datetime64[D]").astype(np.int64)
    mat = np.where(c["next_maturity"].isna().to_numpy(), np.iinfo(np.int64).min, mat)
    dig = np.mean([(c[f"has_{ch}"] & c[f"consent_{ch}"]).to_numpy(dtype=float) for ch in ("app", "wechat", "email")],
                  axis=0)
    prods = c["n_products"].to_numpy(dtype=float)
    has_rm = c["rm_id"].notna().to_numpy(dtype=float)
    resp_key = np.zeros(0, dtype=np.int64)
    if contacts is not None and "outcome" in contacts.columns:
        cp = codes_for(contacts["customer_id"], c.index)
        ok = contacts["outcome"].isin(["responded", "reactivated"]).to_numpy() & (cp >= 0)
        d = contacts["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        resp_key = np.sort((cp[ok].astype(np.int64) << 32) | (d[ok] + 100_000))

    def at(pos, day, days_dormant):
        pos = np.asarray(pos, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        base = pos << 32
        responded = np.searchsorted(resp_key, base | (day + 1 + 100_000)) > np.searchsorted(resp_key, base)
        m = mat[pos]
        return prior_from(days_dormant=np.nan_to_num(np.asarray(days_dormant, dtype=float), nan=3650.0),
                          log_balance=bal[pos], lb_mean=lb_mean, lb_sd=lb_sd, n_products=prods[pos],
                          maturing=((m > day) & (m <= day + horizon_days)).astype(float),
                          responded=responded, has_rm=has_rm[pos], digital_reach=dig[pos])

    return at


def history_outcomes(contacts: pd.DataFrame | None, index: pd.Index,
                     positions: np.ndarray | None = None) -> pd.DataFrame | None:
    """Past contacts of the scored customers with a known outcome (customer position, channel, positive).
    ``positions``: each contact's position in ``index`` (-1 when absent), when the caller has them."""
    if contacts is None or "outcome" not in contacts.columns:
        return None
    known = contacts["outcome"].notna().to_numpy()
    if known.sum() == 0:
        return None

    pos_codes = codes_for(contacts["customer_id"], index) if positions is None else positions
    keep = known & (pos_codes >= 0)
    out = contacts.loc[keep, ["channel", "outcome"]].copy()
    out["pos"] = pos_codes[keep]
    n_re = int((out["outcome"] == "reactivated").sum())
    positive = ["reactivated"] if n_re >= 30 else ["reactivated", "responded"]
    out["positive"] = out["outcome"].isin(positive).to_numpy()
    out["channel"] = out["channel"].astype(str)
    return out


def calibrate(p_prior: np.ndarray, segment: pd.Categorical, hist: pd.DataFrame | None) -> tuple[np.ndarray, dict]:
    """Move the prior to the history's observed level, overall and per segment.

    Per segment: multiply by (observed + K·expected/n) / (expected + K·expected/n), the
    observed-over-expected ratio shrunk towards 1 by ``SHRINK`` pseudo-contacts.
    """
    if hist is None or len(hist) < 100 or hist["positive"].sum() < 10:
        return p_prior, {"method": "prior", "note": "documented prior (too little contact history to calibrate)"}
    pos = hist["pos"].to_numpy()
    obs = hist["positive"].to_numpy(dtype=float)
    exp = p_prior[pos]
    g = obs.sum() / exp.sum()
    k = len(segment.categories)
    seg_h = segment.codes[pos]
    n_s = np.bincount(seg_h, minlength=k)
    obs_s = np.bincount(seg_h, weights=obs, minlength=k)
    exp_s = np.bincount(seg_h, weights=exp * g, minlength=k)
    prior_n = SHRINK * exp_s / np.maximum(n_s, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mult = np.where(exp_s > 0, (obs_s + prior_n) / (exp_s + prior_n), 1.0)
    m = mult[segment.codes]
    p = np.clip(p_prior * g * m, 0.001, 0.95)
    info = {
        "method": "prior+history",
        "note": f"documented prior calibrated to {len(hist)} past contacts with outcomes, per segment",
        "contacts_used": len(hist),
        "observed_rate": round(float(obs.mean()), 4),
        "global_factor": round(float(g), 4),
    }
    return p, info


def channel_fit(segment: pd.Categorical, hist: pd.DataFrame | None, spec: CampaignSpec) -> pd.DataFrame:
    """Relative effectiveness (0..1, best channel = 1) of each channel per segment.

    The spec's ``response_prior`` per channel, moved towards the rates the
    history shows for the segment on that channel (shrunk, so a channel with
    few past contacts keeps its prior).
    """
    segs = pd.Index(np.asarray(segment.categories, dtype=object), name="segment_id")
    chans = [c for c in CHANNELS if c in spec.channels]
    prior = pd.Series({c: spec.channels[c].response_prior for c in chans}, dtype=float)
    fit = pd.DataFrame(np.tile(prior.to_numpy(), (len(segs), 1)), index=segs, columns=chans)
    if hist is not None and len(hist) >= 100 and hist["positive"].sum() >= 10:
        df = pd.DataFrame({"seg": segs.to_numpy()[segment.codes[hist["pos"].to_numpy()]],
                           "ch": hist["channel"].to_numpy(),
                           "y": hist["positive"].to_numpy(dtype=float)})
        df = df[df["ch"].isin(chans)]
        seg_rate = df.groupby("seg")["y"].mean()
        cnt = df.groupby(["seg", "ch"])["y"].agg(["sum", "count"])
        base = prior / prior.max()
        for (s, ch), row in cnt.iterrows():  # one row per segment x channel, not per customer
            if s not in fit.index:
                continue
            r0 = seg_rate.get(s, 0.0) * base[ch] * 1.5
            fit.loc[s, ch] = (row["sum"] + SHRINK * r0) / (row["count"] + SHRINK)
    fit = fit.div(fit.max(axis=1).replace(0, 1), axis=0)
    return fit


def customer_value(customers: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """Value of one reactivation: a fixed amount plus a yearly margin on the (capped) balance."""
    v = spec.value
    bal = np.clip(np.nan_to_num(customers["total_balance"].to_numpy(dtype=float)), 0, v.balance_cap)
    return v.per_reactivation + v.balance_margin * bal
