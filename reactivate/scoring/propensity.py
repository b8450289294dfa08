"""Who will come back: every source validated on a held-out later slice, an honest choice, calibrated.

1. **The held-out slice** (:func:`held_out_slice`): the latest quarter of the
   past contacts with outcomes, when they hold at least ``MIN_POSITIVES``
   positives and as many negatives; else the customers dormant one horizon
   before the as-of day (did they come back within the horizon?), whatever the
   length of the history, when at least ``MIN_POSITIVES`` of them did.
2. **Every source** of :mod:`reactivate.scoring.sources` that the data allows
   (past campaigns, the backtest classifier, BG/NBD, the documented prior, and
   the simple heuristics recency and frequency/recency) is fitted on the data
   up to the slice and scores it. A learned source with nothing to learn from
   before the slice (a log too short for an earlier snapshot) is cross-fitted
   on the slice instead: trained on one half of its customers, scored on the
   other (said so in its ``validated``).
3. **An honest choice** (:func:`choose`): the slice's customers are split in two
   halves. On each half the source (or a logistic blend of all of them, when
   its cross-validated AUC beats the best single source by ``BLEND_MARGIN``) is
   chosen and calibrated, and the *other* half is scored with it. The AUC,
   lift and calibration that ``summary.json → scoring`` reports are those
   cross-fitted scores: not the figures any choice was made on. The source
   used today is chosen the same way on the whole slice (ties within ``TIE``
   go to the simpler source).
4. **Calibrated probabilities**: the chosen score is turned into a probability
   by :class:`reactivate.scoring.calibration.Calibrator` (Platt scaling;
   isotonic only with many returns) fitted on the slice. The reliability table
   (deciles: mean predicted vs observed), the Brier score and the expected
   calibration error are reported.
5. **Today**: the sources that learn nothing from outcomes are recomputed on
   the whole log; a learned source is used as it was validated (trained on the
   data before the slice), or, when it was cross-fitted, trained on every
   snapshot whose horizon has closed. Their models, the blend and the
   calibration make one :class:`~reactivate.scoring.scorer.Scorer`
   (:func:`fit_today`), applied to the targets by :func:`score_today` on this
   machine, or on Spark's executors (:mod:`reactivate.scoring.apply_spark`).

Without a slice nothing is chosen by comparison: the strongest source the data
allows is used (past campaigns, BG/NBD, else the documented prior), without
calibration, and the summary says so. Samples are drawn with the campaign's
seed: the same inputs and seed give the same scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reactivate.scoring.backtest import estimate_decay
from reactivate.scoring.calibration import Calibrator, auc, score_figures
from reactivate.scoring.learners import logistic
from reactivate.scoring.scorer import Scorer
from reactivate.scoring.sources import (
    FITTERS,
    LEARNED,
    MIN_POSITIVES,
    PROBABILISTIC,
    SOURCES,
    Context,
    Fitted,
    fit_learned,
    iso,
)

MAX_EVAL = 100_000  # customers of a snapshot slice (sampled with the campaign's seed)
TODAY_ROWS = 50_000  # targets scored at once today
BLEND_MARGIN = 0.005
TIE = 0.001
#: the prior's weekly decay: its logit falls 0.9 a year, about this share of the chance a week for small p
PRIOR_DECAY_PER_WEEK = round(1.0 - float(np.exp(-0.9 / 52.18)), 4)
NAMES = {"campaigns": "past campaigns (classifier of contact outcomes)",
         "backtest": "backtest on the bank's history (classifier of returns after earlier snapshots)",
         "bgnbd": "BG/NBD repeat-purchase model", "prior": "documented prior", "recency": "recency",
         "freq/recency": "frequency / recency", "blend": "blend"}


@dataclass
class Slice:
    """Held-out (customer position, day, outcome) rows, the halves they are split into, and what they are."""

    kind: str  # "contacts" or "snapshot"
    until: int  # the sources are fitted on the data up to the end of this day
    pos: np.ndarray
    day: np.ndarray
    y: np.ndarray
    half: np.ndarray  # 0 or 1 per row, by customer
    note: str
    first: int = 0  # the first day of the slice: its first contact, or the first day of its outcomes


def _halves(ctx: Context, pos: np.ndarray) -> np.ndarray:
    n = ctx.customers.shape[0]
    return (np.random.default_rng([ctx.seed, 9]).random(n)[pos] < 0.5).astype(np.int8)


def held_out_slice(ctx: Context) -> Slice | None:
    """The latest quarter of the contacts with outcomes, else the customers dormant one horizon ago."""
    ex = ctx.contacts
    if ex is not None and ex["y"].sum() >= 2 * MIN_POSITIVES:
        start = int(np.quantile(ex["day"].to_numpy(), 0.75))
        late = ex[ex["day"] >= start]
        if late["y"].sum() >= MIN_POSITIVES and (~late["y"]).sum() >= MIN_POSITIVES:
            late = late.iloc[ctx.sample(len(late), MAX_EVAL, 4)]
            pos = late["pos"].to_numpy()
            return Slice("contacts", start - 1, pos, late["day"].to_numpy(), late["y"].to_numpy(), _halves(ctx, pos),
                         f"{len(late)} contacts from {iso(start + 1)} (the sources learned from what came before)",
                         start + 1)
    if ctx.occ is None:
        return None
    d1 = ctx.today - ctx.horizon
    pool = ctx.draw(MAX_EVAL * 2, 5)
    rec = ctx.recency(pool, np.full(len(pool), d1))
    pos = pool[rec >= ctx.dormant_days]
    pos = pos[ctx.sample(len(pos), MAX_EVAL, 6)]
    day = np.full(len(pos), d1, dtype=np.int64)
    y = ctx.occ.came_back(pos, day, ctx.horizon)
    if y.sum() < MIN_POSITIVES or (~y).sum() < MIN_POSITIVES:
        return None
    return Slice("snapshot", d1, pos, day, y, _halves(ctx, pos),
                 f"{len(pos)} customers dormant on {iso(d1)}: back within {ctx.horizon} days?", d1 + 1)


def validate(ctx: Context, sl: Slice) -> tuple[dict[str, np.ndarray], dict[str, Fitted], dict]:
    """Every source fitted up to the slice and scored on it: scores on the slice, the fitted sources
    (or None where cross-fitted), and the candidates' description."""
    z, fitted, cand = {}, {}, {}
    for name in SOURCES:
        f = FITTERS[name](ctx, sl.until)
        if isinstance(f, str) and name == "backtest" and sl.kind == "snapshot":
            zz = _cross_fitted(ctx, name, sl)
            if zz is None:
                cand[name] = {"usable": False, "reason": f}
                continue
            z[name], fitted[name] = zz, None
            cand[name] = {"usable": True, "validated": "cross-fitted on the slice (nothing closed before it)"}
        elif isinstance(f, str):
            cand[name] = {"usable": False, "reason": f}
            continue
        else:
            z[name], fitted[name] = f.score(sl.pos, sl.day), f
            cand[name] = {"usable": True, "validated": "out of time", **f.info}
        fig = score_figures(sl.y, z[name], False)
        cand[name].update(auc=fig["auc"], top_decile_lift=fig["top_decile_lift"])
    return z, fitted, cand


def _cross_fitted(ctx: Context, name: str, sl: Slice) -> np.ndarray | None:
    """Scores of the backtest source on the slice, each half by a model trained on the other half's
    customers: their rows of the slice and of every other snapshot whose horizon has closed."""
    ex = ctx.examples()
    out = np.zeros(len(sl.y))
    for h in (0, 1):
        held = np.unique(sl.pos[sl.half == h])
        other = ~np.isin(ex.pos, held) & ((ex.day != sl.until) | ~np.isin(ex.pos, sl.pos))
        train = sl.half != h
        pos = np.concatenate([sl.pos[train], ex.pos[other]])
        day = np.concatenate([sl.day[train], ex.day[other]])
        y = np.concatenate([sl.y[train], ex.y[other]])
        f = fit_learned(ctx, name, pos, day, y, sl.until, 20 + h)
        if isinstance(f, str):
            return None
        out[~train] = f.score(sl.pos[~train], sl.day[~train])
    return out


class Blend:
    """A logistic blend of the sources' scores with non-negative weights: every source keeps its direction
    (higher = likelier back), so no source enters with its sign flipped to exploit another's quirks."""

    def __init__(self, Z: np.ndarray, y: np.ndarray):
        self.mean_, self.sd_ = Z.mean(axis=0), Z.std(axis=0)
        self.sd_[self.sd_ == 0] = 1.0
        self.w_ = logistic((Z - self.mean_) / self.sd_, np.zeros(len(y)), y.astype(float), 1.0, nonnegative=True)

    def decision_function(self, Z: np.ndarray) -> np.ndarray:
        return self.w_[0] + ((Z - self.mean_) / self.sd_) @ self.w_[1:]

    def weights(self, names: list[str]) -> dict[str, float]:
        w = self.w_[1:] / self.sd_
        return {**{k: round(float(v), 4) for k, v in zip(names, w, strict=True)},
                "intercept": round(float(self.w_[0] - (self.mean_ / self.sd_) @ self.w_[1:]), 4)}


def _blend_fit(Z: np.ndarray, y: np.ndarray) -> Blend:
    return Blend(Z, y)


def _pick(z: dict[str, np.ndarray], y: np.ndarray, rows: np.ndarray, seed: int) -> tuple[str, object, dict]:
    """The best source on ``rows`` (ties within TIE to the simpler), or the blend when its cross-validated
    AUC is at least BLEND_MARGIN better; the blend's model (fitted on ``rows``) or None; the AUCs seen."""
    names = list(z)
    aucs = {k: auc(y[rows], z[k][rows]) or 0.5 for k in names}
    top = max(aucs.values())
    best = next(k for k in names if aucs[k] >= top - TIE)
    if len(names) < 2:
        return best, None, aucs
    Z = np.column_stack([z[k][rows] for k in names])
    yy = y[rows]
    fold = np.random.default_rng([seed, 8]).random(len(yy)) < 0.5
    pred = np.zeros(len(yy))
    for f in (fold, ~fold):
        if len(np.unique(yy[~f])) < 2 or not f.any():
            return best, None, aucs
        pred[f] = _blend_fit(Z[~f], yy[~f]).decision_function(Z[f])
    aucs["blend"] = auc(yy, pred) or 0.5
    if aucs["blend"] >= aucs[best] + BLEND_MARGIN:
        return "blend", _blend_fit(Z, yy), aucs
    return best, None, aucs


def _combined(z: dict[str, np.ndarray], name: str, blend, rows=None) -> np.ndarray:
    if name != "blend":
        return z[name] if rows is None else z[name][rows]
    Z = np.column_stack([z[k] if rows is None else z[k][rows] for k in z])
    return blend.decision_function(Z)


def cross_fitted_choice(z: dict[str, np.ndarray], sl: Slice, seed: int) -> tuple[np.ndarray, list[str]]:
    """Calibrated probabilities of the slice's rows, each half scored by the source chosen and calibrated on
    the other half; and the two choices."""
    p = np.full(len(sl.y), np.nan)
    chosen = []
    for h in (0, 1):
        pick, report = sl.half != h, sl.half == h
        name, blend, _ = _pick(z, sl.y, pick, seed)
        cal = Calibrator().fit(_combined(z, name, blend, pick), sl.y[pick])
        p[report] = cal(_combined(z, name, blend, report))
        chosen.append(name)
    return p, chosen


def choose(ctx: Context, target_pos: np.ndarray, every_source: bool = False,
           apply: Callable | None = None) -> tuple[np.ndarray, dict, dict]:
    """Probabilities of the target customers coming back within the horizon after today; the description
    of the choice (summary.json's ``scoring``); with ``every_source``, each usable source's own calibrated
    probabilities of the targets too (name -> array; else empty).

    The sources are fitted, chosen and calibrated here (:func:`fit_today`); today's pass over the targets is
    ``apply(ctx, scorer, target_pos)``: :func:`score_today` on this machine (the default), or
    :func:`reactivate.scoring.apply_spark.score_on_spark` on Spark's executors, with the same scorer.
    """
    from threadpoolctl import threadpool_limits

    # OpenMP's spinning threads make gradient boosting many times slower on a busy 2-core machine
    with threadpool_limits(limits=1):
        scorer, info = fit_today(ctx, every_source)
        out = (apply or score_today)(ctx, scorer, target_pos)
    p = out["p"]
    info["mean_p_today"] = round(float(p.mean()), 4) if len(p) else None
    return p, info, {k: out[f"p:{k}"] for k in scorer.each}


def score_today(ctx: Context, scorer: Scorer, target_pos: np.ndarray) -> dict[str, np.ndarray]:
    """``scorer`` (:class:`reactivate.scoring.scorer.Scorer`) applied to the targets at the end of today, on
    this machine: its answer's arrays, one value per target.

    In slices of the targets, so that the features and the model's matrices of a large book are never all in
    memory at once (a score is the row's own: the slices change nothing).
    """
    day = np.full(len(target_pos), ctx.today, dtype=np.int64)
    parts = [scorer(ctx.frame(scorer.reads, target_pos[i:i + TODAY_ROWS], day[i:i + TODAY_ROWS]))
             for i in range(0, len(target_pos), TODAY_ROWS)]
    return {k: np.concatenate([part[k] for part in parts]) if parts else np.zeros(0) for k in scorer.outputs()}


def fit_today(ctx: Context, every_source: bool = False) -> tuple[Scorer, dict]:
    """Today's scorer: the sources chosen (fitted as validated, or on the whole log), their blend and the
    calibration, as numbers only (:class:`reactivate.scoring.scorer.Scorer`); and the description of the
    choice (``mean_p_today`` left None: it is the targets' once scored)."""
    ex = ctx.examples()
    rec, back = (ex.recency, ex.y) if ex is not None else (np.zeros(0), np.zeros(0, dtype=bool))
    info: dict = {"decay": estimate_decay(rec, back, ctx.dormant_days, ctx.long_dormant_days, PRIOR_DECAY_PER_WEEK)}
    if ctx.dropped:
        info["features_left_out"] = list(ctx.dropped)
    sl = held_out_slice(ctx)
    if sl is None:
        return _unvalidated(ctx, info)
    z, fitted, cand = validate(ctx, sl)
    p_cv, halves = cross_fitted_choice(z, sl, ctx.seed)
    name, blend, aucs = _pick(z, sl.y, np.ones(len(sl.y), dtype=bool), ctx.seed)
    cal = Calibrator().fit(_combined(z, name, blend), sl.y)
    if "blend" in aucs:
        cand["blend"] = {"usable": True, "auc": round(aucs["blend"], 4), "validated": "cross-validated on the slice",
                         "of": list(z)}
        if blend is not None:
            cand["blend"]["weights"] = blend.weights(list(z))
    today = {k: _today(ctx, k, fitted[k]) for k in (z if name == "blend" or every_source else [name])}
    today = {k: v for k, v in today.items() if v is not None}
    if name == "blend" and len(today) < len(z):  # a source could not be refitted today: the best single one
        name = max((k for k in today), key=lambda k: aucs[k])
        cal = Calibrator().fit(z[name], sl.y)
    scorer = Scorer({k: m for k, m in today.items() if every_source or name in ("blend", k)}, name,
                    blend if name == "blend" else None, cal,
                    {k: Calibrator().fit(z[k], sl.y) for k in today} if every_source else {})
    fig = score_figures(sl.y, p_cv, True, table=True)
    info.update({
        "source": name, "note": NAMES[name] + (" of " + ", ".join(NAMES[k] for k in z) if name == "blend" else ""),
        "candidates": cand,
        "held_out": {"kind": sl.kind, "from": iso(sl.first), "rows": len(sl.y), "positives": int(sl.y.sum()),
                     "note": sl.note},
        "choice": {"rule": "best AUC on one half of the held-out slice, figures from the other half "
                           "(cross-fitting); the source used today chosen on the whole slice",
                   "chosen_on_each_half": halves},
        "auc": fig["auc"], "top_decile_lift": fig["top_decile_lift"],
        "calibration": {**cal.describe(), "held_out": {k: fig[k] for k in (
            "mean_predicted", "observed", "predicted_over_observed", "brier", "ece", "reliability")}},
        "mean_p_today": None,
        "learned_from_contacts": sl.kind == "contacts",
        "calibrated": True,
    })
    return scorer, info


def _today(ctx: Context, name: str, fitted: Fitted | None):
    """A source's model for today (None when it cannot be fitted): refitted on the whole log when it learns
    nothing from outcomes, as validated when it does (or, when cross-fitted, trained on every closed snapshot)."""
    f = fitted if name in LEARNED and fitted is not None else FITTERS[name](ctx, ctx.today)
    return None if isinstance(f, str) else f.model


def _unvalidated(ctx: Context, info: dict) -> tuple[Scorer, dict]:
    """No held-out slice: the strongest source the data allows (past campaigns, BG/NBD, the prior),
    uncalibrated."""
    why = ("no held-out slice to validate on: too few contacts with outcomes and too few customers back "
           f"within the horizon after {iso(ctx.today - ctx.horizon)}") if ctx.occ is not None else \
        "no held-out slice to validate on: no transaction log and too few contacts with outcomes"
    cand = {}
    chosen = None
    for name in ("campaigns", "bgnbd", "prior"):
        f = FITTERS[name](ctx, ctx.today) if chosen is None else None
        if isinstance(f, str):
            cand[name] = {"usable": False, "reason": f}
        elif f is not None:
            chosen = f
    for name in SOURCES:
        cand.setdefault(name, {"usable": False, "reason": why} if ctx.occ is not None or name in ("recency", "prior")
                        else {"usable": False, "reason": "no transaction log"})
    cand[chosen.name] = {"usable": True, "reason": why, **chosen.info}
    info.update({"source": chosen.name, "note": NAMES[chosen.name] + " (not validated: no held-out slice)",
                 "candidates": cand, "held_out": None, "calibrated": False, "why_unvalidated": why,
                 "learned_from_contacts": chosen.name == "campaigns", "mean_p_today": None})
    return Scorer({chosen.name: chosen.model}, chosen.name), info


__all__ = ["NAMES", "PRIOR_DECAY_PER_WEEK", "PROBABILISTIC", "Context", "choose", "fit_today", "held_out_slice",
           "score_today"]
