"""Learning between waves: Beta–Binomial posteriors per segment × channel.

Each delivered touch with an outcome is a Bernoulli trial of its segment and
channel: a success when the customer responded or reactivated, a failure
otherwise (no answer, declined, complaint, opt-out). The prior of every cell
is a Beta centred on what the plan already believes -- the channel fit of the
segment (:func:`reactivate.scoring.priors.channel_fit`) times the base rate
``prior_alpha / (prior_alpha + prior_beta)`` -- with the strength of
``prior_alpha + prior_beta`` pseudo-touches, so a cell with few touches keeps
its prior and one with many follows its own record.

**Whose segment.** A touch is planned in the segmentation of its week, and segment
ids mean something only within one segmentation: fitted afresh each week (no saved
segment model), the same customers may be numbered differently, or two segments
merged. :func:`current_counts` therefore carries the record into the segments of
the run it informs through the customers: the trials of each past (week, segment)
are shared among today's segments in the proportions its customers who are still
segmented today fall into (those who came back and left the dormant book count
like their group). With a saved model the ids stay and this changes nothing;
without it, learning by id alone gave one segment's record to another (on the demo
book, the week the clustering found five segments instead of six, young customers
were moved off the app and elderly ones off the phone).

The next run uses the posteriors for its channel choice:

* ``method = "thompson"`` (default): one draw per cell from its posterior with
  a generator seeded by the campaign seed, campaign id and week, so a rerun of
  a week draws the same numbers; uncertain cells are sometimes drawn high, so
  they keep being tried (exploration), and capacity drifts toward what works.
* ``method = "ucb"``: the posterior mean plus ``ucb_z`` standard deviations
  (optimism under uncertainty, no randomness).
* ``method = "off"``: the posteriors are reported but not used.

The drawn (or upper-bound) rates, divided by the segment's best, replace the
channel fit of every segment the campaign has outcomes of (the others keep
their fit: draws from the prior alone would only shuffle their channels); the
scores' ``best_channel`` follows. The propensity scores learn
through the calibration, which counts the ledger's outcomes as contact
history (:func:`reactivate.loop.record.merge_history`). The holdout is untouched:
it is drawn from the customer and campaign ids only.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
from scipy import stats

from reactivate.config.campaign import CampaignSpec
from reactivate.errors import ConfigError
from reactivate.scoring.channels import best_channels

POSITIVE = ("responded", "reactivated")
METHODS = ("thompson", "ucb", "off")
LEARNED_COLUMNS = ["segment_id", "channel", "successes", "trials"]
#: :func:`outcome_counts`: the record of each customer's touches on a channel, with the segment and week
#: they were planned in (segment ids mean something only within one run's segmentation)
RECORD_COLUMNS = ["customer_id", "week_start", *LEARNED_COLUMNS]


def outcome_counts(outcomes: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    """Successes and trials per customer × channel, with the segment and week they were planned in.

    ``outcomes``: customer_id, channel, outcome (and date); ``touches``: the issued touches
    (customer_id, channel, segment_id, week_start), which give each outcome the segment and week the
    customer was planned in (a customer who reactivated has left the dormant book since). Returns
    :data:`RECORD_COLUMNS`; :func:`apply_learning` carries the record into the segments of the run it
    informs (:func:`current_counts`), since a segmentation fitted again may number its segments
    differently.
    """
    if len(outcomes) == 0 or len(touches) == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("successes", "trials") else
                                          "datetime64[ns]" if c == "week_start" else object)
                             for c in RECORD_COLUMNS})
    seg = (touches.sort_values("week_start", kind="stable")
           .drop_duplicates(["customer_id", "channel"], keep="last")[["customer_id", "channel", "segment_id",
                                                                      "week_start"]])
    m = outcomes.merge(seg, on=["customer_id", "channel"], how="inner")
    m["y"] = m["outcome"].isin(POSITIVE).astype("int64")
    g = (m.groupby(["customer_id", "week_start", "segment_id", "channel"], sort=True)["y"]
         .agg(successes="sum", trials="count").reset_index())
    return g[RECORD_COLUMNS]


def current_counts(learned: pd.DataFrame, segment_now: pd.Series) -> tuple[pd.DataFrame, int]:
    """The record carried into today's segments: successes and trials per (today's) segment × channel.

    The segments of each past run (its week and segment id) are translated into today's through the
    customers they share: a past group's successes and trials are shared among today's segments in the
    proportions its customers who are still in today's segmentation (``segment_now``: segment id by
    customer id) now fall into. Its customers who left (many because they came back) count like their
    group. A saved segment model keeps the ids, and the translation is then the identity; a
    segmentation fitted afresh each week may number the same segments differently (or merge two),
    and learning by id alone would give one segment's record to another.

    A table without ``customer_id`` (segment_id, channel, successes, trials) is taken to be in today's
    segments already. Returns the counts (successes and trials may be fractions) and the number of
    trials that could not be carried over (no customer of their group is in today's segmentation).
    """
    if "customer_id" not in learned.columns or len(learned) == 0:
        return learned[LEARNED_COLUMNS] if len(learned) else learned.reindex(columns=LEARNED_COLUMNS), 0
    rec = learned.assign(group=learned["week_start"].astype(str) + "\x1f" + learned["segment_id"].astype(str))
    known = segment_now.notna().to_numpy()  # a customer outside every segment (NaN) counts nowhere
    now = pd.Series(segment_now.astype(str).to_numpy(dtype=object)[known],
                    index=segment_now.index.astype(str)[known])
    people = rec.drop_duplicates(["group", "customer_id"])
    people = people.assign(now=now.reindex(people["customer_id"].astype(str)).to_numpy())
    size = people.dropna(subset=["now"]).groupby(["group", "now"], sort=True).size()
    share = (size / size.groupby(level="group").transform("sum")).rename("share").reset_index()
    per = rec.groupby(["group", "channel"], sort=True)[["successes", "trials"]].sum().reset_index()
    moved = per.merge(share, on="group", how="inner")
    lost = int(per["trials"].sum() - per.loc[per["group"].isin(share["group"]), "trials"].sum())
    moved["successes"] = moved["successes"] * moved["share"]
    moved["trials"] = moved["trials"] * moved["share"]
    out = (moved.groupby(["now", "channel"], sort=True)[["successes", "trials"]].sum().reset_index()
           .rename(columns={"now": "segment_id"}))
    return out[LEARNED_COLUMNS], lost


def posteriors(fit: pd.DataFrame, learned: pd.DataFrame, spec: CampaignSpec) -> pd.DataFrame:
    """Posterior Beta(alpha, beta) per segment × channel of ``fit`` (segments × channels).

    Returns a long table: segment_id, channel, prior_mean, successes, trials, alpha, beta, mean, sd.
    """
    lc = spec.learning
    if lc.prior_alpha <= 0 or lc.prior_beta <= 0:
        raise ConfigError(f"{spec.source}: learning.prior_alpha and learning.prior_beta must be > 0, got "
                          f"{lc.prior_alpha} and {lc.prior_beta}")
    strength = lc.prior_alpha + lc.prior_beta
    base = lc.prior_alpha / strength
    long = fit.rename_axis(index="segment_id", columns="channel").stack().rename("fit").reset_index()
    long["segment_id"] = long["segment_id"].astype(str)
    long = long.merge(learned.assign(segment_id=learned["segment_id"].astype(str)),
                      on=["segment_id", "channel"], how="left")
    long[["successes", "trials"]] = long[["successes", "trials"]].fillna(0).astype(float)
    prior_mean = np.clip(base * long["fit"].to_numpy(dtype=float), 1e-4, 1 - 1e-4)
    a = strength * prior_mean + long["successes"].to_numpy()
    b = strength * (1 - prior_mean) + (long["trials"] - long["successes"]).to_numpy()
    long["prior_mean"] = prior_mean
    long["alpha"] = a
    long["beta"] = b
    long["mean"] = a / (a + b)
    long["sd"] = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return long.drop(columns="fit")


def _rng(spec: CampaignSpec, as_of: dt.date) -> np.random.Generator:
    key = hashlib.sha256(f"{spec.campaign.id}:{spec.campaign.seed}:{as_of.isoformat()}".encode()).digest()
    return np.random.default_rng(int.from_bytes(key[:8], "big"))


def apply_learning(scores: pd.DataFrame, fit: pd.DataFrame, learned: pd.DataFrame, spec: CampaignSpec,
                   as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The channel fit replaced by the posterior draws (or upper bounds); returns scores, fit, info.

    Raises
    ------
    ConfigError
        ``learning.method`` is not one of thompson, ucb, off; or a prior parameter is not positive.
    """
    method = spec.learning.method
    if method not in METHODS:
        raise ConfigError(f"{spec.source}: learning.method={method!r} should be one of {', '.join(METHODS)}")
    counts, lost = current_counts(learned, scores["segment_id"])
    post = posteriors(fit, counts, spec)
    info = {"method": method, "touches_learned_from": round(float(post["trials"].sum())),
            "cells_with_data": int((post["trials"] > 0).sum())}
    if lost:
        info["touches_not_carried_over"] = lost
    if method == "off" or len(post) == 0:
        return scores, fit, info
    if method == "thompson":
        value = stats.beta.rvs(post["alpha"].to_numpy(), post["beta"].to_numpy(), random_state=_rng(spec, as_of))
    else:
        value = post["mean"].to_numpy() + spec.learning.ucb_z * post["sd"].to_numpy()
    # a segment the campaign has no outcome of yet keeps its fit: random draws from the prior alone would
    # only shuffle its channels; once a segment has outcomes, all its channels are drawn (exploration)
    learned_segs = post.groupby("segment_id")["trials"].transform("sum").to_numpy() > 0
    value = np.where(learned_segs, value, np.nan)
    table = pd.Series(value, index=pd.MultiIndex.from_frame(post[["segment_id", "channel"]])).unstack("channel")
    new = table.reindex(index=fit.index.astype(str), columns=fit.columns).to_numpy()
    with np.errstate(invalid="ignore"):
        top = np.nanmax(np.where(np.isnan(new), -np.inf, new), axis=1, keepdims=True)
    new = new / np.maximum(top, 1e-12)
    fit = pd.DataFrame(np.where(np.isnan(new), fit.to_numpy(), new), index=fit.index, columns=fit.columns)
    scores = scores.copy()
    seg = scores["segment_id"].array
    scores["best_channel"] = best_channels(seg, fit, scores, spec)
    info["best_channel"] = {str(k): str(v) for k, v in fit.idxmax(axis=1).items()}
    return scores, fit, info
