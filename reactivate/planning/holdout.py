"""The holdout: who is never contacted, so that the campaign's effect can be measured.

A share of each segment (``holdout.share``, or ``holdout.segment_share``) drawn from a hash of
customer id and campaign id: stable across reruns and weeks, and with ``holdout.exclusive_with``
never overlapping other campaigns' holdouts. Customers in hardship are never held out: care is not
an experiment. :func:`holdout_mde` says how small an uplift each segment's holdout can detect.
"""

from __future__ import annotations

import hashlib
from statistics import NormalDist

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec

#: power and two-sided significance of the holdout comparison (minimum detectable effect)
MDE_POWER = 0.8
MDE_ALPHA = 0.05
#: the holdout shares :func:`share_needed` tries: 5-point steps up to half of a segment
SHARE_STEPS = tuple(round(0.05 * k, 2) for k in range(1, 11))


#: ids hashed per block: hashing text ids encodes each one first, a transient copy of every id
HASH_BLOCK = 500_000


def hash01(ids: pd.Index | pd.Series, key: str) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per id, keyed by ``key`` (no global RNG)."""
    k = hashlib.sha256(key.encode()).hexdigest()[:16]
    values = np.asarray(ids, dtype=object)
    out = np.empty(len(values), dtype=np.float64)
    for a in range(0, len(values), HASH_BLOCK):  # in blocks: bounded memory on a large book
        h = pd.util.hash_array(values[a:a + HASH_BLOCK], hash_key=k, categorize=False)
        out[a:a + HASH_BLOCK] = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out


def holdout_draw(ids: pd.Index, seg_codes: np.ndarray, seg_names: np.ndarray, spec: CampaignSpec) -> np.ndarray:
    """Who is in this campaign's holdout, before suppression and care are taken out.

    A hash of customer id and campaign id (no seed: it stays put across reruns
    and weeks). With ``exclusive_with``, customers in another campaign's
    holdout (the same hash under that campaign's id) are never in this one,
    and the share is drawn from the rest so the expected share stays the same.

    Parameters
    ----------
    ids : customer ids.
    seg_codes : (n,) int, each customer's position in ``seg_names``.
    seg_names : segment ids (their ``holdout.segment_share`` overrides ``holdout.share``).
    spec : the campaign (``campaign.id``, ``holdout``).

    Returns
    -------
    (n,) bool
    """
    h = spec.holdout
    shares = np.array([h.segment_share.get(str(sg), h.share) for sg in seg_names], dtype=float)
    share = shares[seg_codes] if len(seg_names) else np.zeros(len(ids))
    u = hash01(ids, f"{spec.campaign.id}:holdout")
    if not h.exclusive_with:
        return u < share
    other = np.zeros(len(ids), dtype=bool)
    free = 1.0
    for camp, s in sorted(h.exclusive_with.items()):  # a few other campaigns
        other |= hash01(ids, f"{camp}:holdout") < s
        free *= 1.0 - s
    return ~other & (u < np.minimum(share / max(free, 1e-9), 1.0))


def holdout_mask(ids: pd.Index, seg_codes: np.ndarray, seg_names: np.ndarray, suppressed: np.ndarray,
                 hardship: np.ndarray, spec: CampaignSpec) -> np.ndarray:
    """The holdout: the draw of :func:`holdout_draw` less the suppressed and the customers in hardship.

    Returns
    -------
    (n,) bool
    """
    return ~suppressed & ~hardship & holdout_draw(ids, seg_codes, seg_names, spec)


def holdout_mde(seg_codes, seg_names, treated, holdout, p, spec: CampaignSpec) -> list[dict]:
    """Minimum detectable effect per segment (two-sided 5%, power 80%) of the holdout comparison.

    The treated rate is the segment's mean p_reactivate among the scheduled
    (care customers left out: they are never held out), the control rate that
    times ``holdout.baseline_share``; the expected uplift is their difference.
    A warning when the MDE exceeds it (or there is no holdout).

    Parameters
    ----------
    seg_codes, seg_names : each customer's segment, as codes into the segment ids.
    treated, holdout : (n,) bool, the customers scheduled (less care) and those held out.
    p : (n,) float, p_reactivate.
    spec : the campaign (``holdout.baseline_share``).

    Returns
    -------
    One dict per segment with someone treated: segment_id, treated, holdout, expected_rate,
    baseline_rate, expected_uplift, mde (None without a holdout), share_needed (see
    :func:`share_needed`) and warning ("" when none).
    """
    z = NormalDist().inv_cdf(1 - MDE_ALPHA / 2) + NormalDist().inv_cdf(MDE_POWER)
    k = len(seg_names)
    n_t = np.bincount(seg_codes[treated], minlength=k)
    n_c = np.bincount(seg_codes[holdout], minlength=k)
    sum_p = np.bincount(seg_codes[treated], weights=p[treated], minlength=k)
    share0 = spec.holdout.baseline_share
    out = []
    for j, name in enumerate(seg_names):  # one row per segment
        if n_t[j] == 0:
            continue
        pt = sum_p[j] / n_t[j]
        p0 = pt * share0
        uplift = pt - p0
        mde = None if n_c[j] == 0 else z * np.sqrt(pt * (1 - pt) / n_t[j] + p0 * (1 - p0) / n_c[j])
        warn = ""
        if mde is None:
            warn = f"segment {name}: no holdout, the uplift cannot be measured"
        elif mde > uplift:
            warn = (f"segment {name}: holdout of {int(n_c[j])} can detect an uplift of {mde:.4f} or more, "
                    f"the expected uplift is {uplift:.4f}")
        out.append({"segment_id": str(name), "treated": int(n_t[j]), "holdout": int(n_c[j]),
                    "expected_rate": round(float(pt), 4), "baseline_rate": round(float(p0), 4),
                    "expected_uplift": round(float(uplift), 4),
                    "mde": None if mde is None else round(float(mde), 4),
                    "share_needed": share_needed(int(n_t[j] + n_c[j]), pt, share0), "warning": warn})
    return out


def share_needed(customers: int, rate: float, baseline_share: float) -> float | None:
    """The smallest holdout share (of :data:`SHARE_STEPS`) whose MDE is within the expected uplift.

    ``customers`` (treated and held out) are split anew at each share; the treated rate is ``rate``,
    the control rate ``rate * baseline_share``. None when even half of them held out would not
    detect the uplift: the segment is too small for its expected rate (or expects no uplift).
    """
    z = NormalDist().inv_cdf(1 - MDE_ALPHA / 2) + NormalDist().inv_cdf(MDE_POWER)
    p0 = rate * baseline_share
    uplift = rate - p0
    if customers < 2 or uplift <= 0:
        return None
    for share in SHARE_STEPS:  # ten steps
        n_c = share * customers
        mde = z * np.sqrt(rate * (1 - rate) / (customers - n_c) + p0 * (1 - p0) / n_c)
        if mde <= uplift:
            return share
    return None
