"""Who will come back: the propensity source, chosen from what the bank's data allows.

Four sources, strongest first (issue 4):

1. ``campaigns`` — past contacts with outcomes: a gradient-boosting classifier
   of "reactivated after contact" (calibrated with Platt scaling), trained on
   the older contacts and validated on the latest quarter of them (a later time
   slice). Features are those of the customer **on the contact day** (nothing
   after it: the log before the day, the prior as it stood that day) plus slowly
   changing attributes (products, RM, reach, age).
2. ``backtest`` — the bank's own history: examples from earlier snapshot dates
   (:mod:`reactivate.scoring.backtest`), features as they were at the snapshot, label =
   customer-initiated activity within the horizon after it.
3. ``bgnbd`` — a BG/NBD repeat-activity model (:mod:`reactivate.scoring.bgnbd`) on
   recency, frequency and tenure: P(active within the horizon).
4. ``prior`` — the documented prior of :mod:`reactivate.scoring.priors`.

Every source that the data allows is trained on what came before a **held-out
time slice** and scored on it: the latest contacts when there are campaign
outcomes, else the customers dormant one horizon before the as-of date (did
they come back?). The source with the best AUC is used, or a logistic blend of
all of them when it beats the best single source by at least ``BLEND_MARGIN``
in cross-validation on the slice. ``summary.json["scoring"]`` lists every
candidate with its AUC and top-decile lift, the slice, and the choice.

Training sets are sampled to at most ``MAX_TRAIN`` rows with the campaign seed
(a million-customer book trains in seconds); the same inputs and seed give the
same scores.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reactivate.dormancy.ids import codes_for
from reactivate.scoring.backtest import FEATURES, TransactionLog, build_examples, top_decile_lift
from reactivate.scoring.bgnbd import BGNBD

MAX_TRAIN = 60_000
MAX_EVAL = 100_000
MAX_BGNBD = 10_000
BLEND_MARGIN = 0.005
#: least data for a source to be tried
MIN_CONTACTS = 200
MIN_POSITIVES = 20
STATIC = ("n_products", "has_rm", "digital_reach", "age")
SOURCES = ("campaigns", "backtest", "bgnbd", "prior")


def _epoch_day(ts) -> int:
    return int(np.datetime64(pd.Timestamp(ts).date(), "D").astype(np.int64))


@dataclass
class Slice:
    """Held-out (customer position, day, label) triples and what they are."""

    kind: str  # "contacts" or "snapshot"
    start: int  # first day of the slice (epoch days): training data ends before it
    pos: np.ndarray
    day: np.ndarray
    y: np.ndarray
    note: str


class Context:
    """Everything the sources share: the customer table, the log, the contacts, static attributes."""

    def __init__(self, customers: pd.DataFrame, book, spec, as_of: dt.date, prior_fn):
        self.customers = customers
        self.spec = spec
        self.as_of = as_of
        self.today = _epoch_day(as_of)
        self.horizon = spec.campaign.horizon_weeks * 7
        self.dormant_days = spec.dormancy.dormant_days
        self.seed = spec.campaign.seed
        txn = book.transactions
        self.log = TransactionLog(txn, customers.index) if txn is not None and len(txn) else None
        self.prior_fn = prior_fn
        c = customers
        dig = [(c[f"has_{ch}"] & c[f"consent_{ch}"]).to_numpy(dtype=float) for ch in ("app", "wechat", "email")]
        self.static = pd.DataFrame({
            "n_products": c["n_products"].to_numpy(dtype=float),
            "has_rm": c["rm_id"].notna().to_numpy(dtype=float),
            "digital_reach": np.mean(dig, axis=0),
            "age": c["age"].to_numpy(dtype=float),
        })
        self.contacts = _contact_examples(book.contacts, customers.index)
        self._last = None

    def sample(self, n: int, most: int, salt: int) -> np.ndarray:
        """Sorted positions of at most ``most`` of ``n`` rows, drawn with the campaign seed."""
        if n <= most:
            return np.arange(n)
        rng = np.random.default_rng([self.seed, salt])
        return np.sort(rng.choice(n, size=most, replace=False))

    def features(self, pos: np.ndarray, day: np.ndarray) -> pd.DataFrame:
        """Model features of customers on given days: the log before the day plus static attributes.

        The last result is kept: several models score the same customers on the same day.
        """
        if self._last is not None and self._last[0] is pos and self._last[1] is day:
            return self._last[2]
        if self.log is not None:
            f = self.log.at(pos, day)
        else:
            f = pd.DataFrame({k: np.full(len(pos), np.nan) for k in FEATURES})
        for k in STATIC:
            f[k] = self.static[k].to_numpy()[pos]
        # the documented prior as known that day: the models learn corrections to it
        f["prior_logit"] = _logit(self.prior_fn(pos, day, f["recency_days"].to_numpy()))
        self._last = (pos, day, f)
        return f

    def prior_at(self, pos: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The documented prior with the dormancy as it was on each day."""
        if self._last is not None and self._last[0] is pos and self._last[1] is day:
            return 1.0 / (1.0 + np.exp(-self._last[2]["prior_logit"].to_numpy()))
        return self.prior_fn(pos, day)


def _contact_examples(contacts: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    """Past contacts with a known outcome: position, day, positive (reactivated; or responded when rare)."""
    if contacts is None or "outcome" not in contacts.columns:
        return None
    pos = codes_for(contacts["customer_id"], index)
    keep = contacts["outcome"].notna().to_numpy() & (pos >= 0)
    if keep.sum() == 0:
        return None
    out = contacts["outcome"].to_numpy(dtype=object)[keep]
    positive = ["reactivated"] if (out == "reactivated").sum() >= 30 else ["reactivated", "responded"]
    day = contacts["date"].to_numpy().astype("datetime64[D]").astype(np.int64)[keep]
    ex = pd.DataFrame({"pos": pos[keep], "day": day, "y": np.isin(out, positive)})
    return ex.sort_values(["day", "pos"], kind="stable").reset_index(drop=True)


# -- the sources: each fits on data before ``until`` (epoch day) and returns a scorer of (pos, day) pairs


def _hgb(random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=80, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=40,
                                          l2_regularization=1.0, random_state=random_state)


def fit_campaigns(ctx: Context, until: int):
    """A classifier of 'reactivated after contact' from the contacts before ``until``.

    Trained on the older 80% of those contacts and calibrated (Platt scaling)
    on the newer 20%, so the probabilities hold forward in time.
    """
    from sklearn.linear_model import LogisticRegression

    ex = ctx.contacts
    ex = ex[ex["day"] < until]  # sorted by day
    if len(ex) < MIN_CONTACTS or ex["y"].sum() < MIN_POSITIVES:
        return None
    cut = int(len(ex) * 0.8)
    fit_part, cal_part = ex.iloc[:cut], ex.iloc[cut:]
    if cal_part["y"].nunique() < 2 or fit_part["y"].sum() < MIN_POSITIVES // 2:
        return None
    fit_part = fit_part.iloc[ctx.sample(len(fit_part), MAX_TRAIN, 1)]
    model = _hgb(ctx.seed).fit(ctx.features(fit_part["pos"].to_numpy(), fit_part["day"].to_numpy()),
                               fit_part["y"].to_numpy())
    # Platt scaling: a logistic regression on the model's decision function
    z = model.decision_function(ctx.features(cal_part["pos"].to_numpy(), cal_part["day"].to_numpy()))
    platt = LogisticRegression().fit(z[:, None], cal_part["y"].to_numpy())
    return lambda pos, day: platt.predict_proba(model.decision_function(ctx.features(pos, day))[:, None])[:, 1]


def build_examples_for(ctx: Context):
    """Backtest examples over the whole history, built once (each fit takes the snapshots it may see)."""
    if ctx.log is None:
        return None
    return build_examples(None, ctx.customers.index, ctx.as_of, ctx.horizon, ctx.dormant_days, log=ctx.log,
                          features=False)


def fit_backtest(ctx: Context, until: int, examples):
    """A classifier of 'came back within the horizon' from snapshots whose horizon ended before ``until``."""
    if examples is None or len(examples.dates) == 0:
        return None
    snap_day = np.array([_epoch_day(d) for d in examples.dates])
    ok = snap_day[examples.snapshot] + ctx.horizon <= until
    y = examples.y[ok]
    if y.sum() < MIN_POSITIVES or (~y).sum() < MIN_POSITIVES:
        return None
    rows = np.flatnonzero(ok)[ctx.sample(int(ok.sum()), MAX_TRAIN, 2)]
    X = ctx.features(examples.customer[rows], snap_day[examples.snapshot[rows]])
    model = _hgb(ctx.seed).fit(X, examples.y[rows])
    return lambda pos, day: model.predict_proba(ctx.features(pos, day))[:, 1]


def fit_bgnbd(ctx: Context, until: int):
    """BG/NBD on weekly recency/frequency/tenure from the log before ``until``; P(active in the horizon)."""

    if ctx.log is None:
        return None
    n = ctx.log.n
    day = np.full(n, until)
    cnt, first, last = ctx.log.span(np.arange(n), day)
    have = np.flatnonzero(cnt > 0)
    if len(have) < 50:
        return None
    take = have[ctx.sample(len(have), MAX_BGNBD, 3)]  # plenty for four parameters
    x, t_x, T = _rfm(cnt[take], first[take], last[take], until)
    try:
        model = BGNBD(penalizer=1e-4).fit(x, t_x, T)
    except Exception:  # a book the model cannot describe: the source is simply not available
        return None
    weeks = ctx.horizon / 7.0

    def score(pos, day):
        c, f, la = ctx.log.span(pos, day)
        p = np.zeros(len(pos))
        ok = c > 0
        x, t_x, T = _rfm(c[ok], f[ok], la[ok], day[ok])
        p[ok] = 1.0 - np.exp(-model.expected_count(weeks, x, t_x, T))
        return p

    return score


def _rfm(count, first, last, day):
    x = np.maximum(count - 1, 0).astype(float)
    t_x = np.where(x > 0, (last - first) / 7.0, 0.0)
    T = np.maximum((day - first) / 7.0, t_x)
    return x, t_x, T


def fit_prior(ctx: Context, until: int):
    return ctx.prior_at


# -- the held-out slice and the choice


def held_out_slice(ctx: Context, examples) -> Slice | None:
    """The latest quarter of the contacts with outcomes, else the customers dormant one horizon ago."""
    ex = ctx.contacts
    if ex is not None and len(ex) >= MIN_CONTACTS and ex["y"].sum() >= 2 * MIN_POSITIVES:
        start = int(np.quantile(ex["day"].to_numpy(), 0.75))
        late = ex[ex["day"] >= start]
        if late["y"].sum() >= 10 and (~late["y"]).sum() >= 10 and (ex["day"] < start).sum() >= MIN_CONTACTS:
            late = late.iloc[ctx.sample(len(late), MAX_EVAL, 4)]
            return Slice("contacts", start, late["pos"].to_numpy(), late["day"].to_numpy(), late["y"].to_numpy(),
                         f"{len(late)} contacts from {_iso(start)} (trained on the contacts before)")
    if examples is not None and len(examples.dates):
        last = len(examples.dates) - 1
        m = examples.snapshot == last
        y = examples.y[m]
        if y.sum() >= 10 and (~y).sum() >= 10:
            rows = np.flatnonzero(m)[ctx.sample(int(m.sum()), MAX_EVAL, 5)]
            d = _epoch_day(examples.dates[last])
            return Slice("snapshot", d, examples.customer[rows], np.full(len(rows), d), examples.y[rows],
                         f"{len(rows)} customers dormant on {_iso(d)}: back within {ctx.horizon} days?")
    return None


def _iso(day: int) -> str:
    return str(np.datetime64(day, "D"))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def choose(ctx: Context, target_pos: np.ndarray) -> tuple[np.ndarray, dict]:
    """Score the target customers today with the best source (or blend); describe the choice."""
    from threadpoolctl import threadpool_limits

    # OpenMP's spinning threads make gradient boosting many times slower on a busy 2-core machine
    with threadpool_limits(limits=1):
        return _choose(ctx, target_pos)


def _choose(ctx: Context, target_pos: np.ndarray) -> tuple[np.ndarray, dict]:
    from sklearn.metrics import roc_auc_score

    examples = build_examples_for(ctx)
    fitters = {
        "campaigns": (lambda until: fit_campaigns(ctx, until)) if ctx.contacts is not None else None,
        "backtest": (lambda until: fit_backtest(ctx, until, examples)) if examples is not None else None,
        "bgnbd": (lambda until: fit_bgnbd(ctx, until)) if ctx.log is not None else None,
        "prior": lambda until: fit_prior(ctx, until),
    }
    sl = held_out_slice(ctx, examples)
    candidates: dict[str, dict] = {}
    slice_scores: dict[str, np.ndarray] = {}
    for name in SOURCES:
        fit = fitters[name]
        if fit is None:
            candidates[name] = {"usable": False, "reason": _missing_reason(name)}
            continue
        if sl is None:
            candidates[name] = {"usable": name == "prior" or fit(ctx.today) is not None,
                                "reason": "no held-out slice to validate on"}
            continue
        scorer = fit(sl.start)
        if scorer is None:
            candidates[name] = {"usable": False, "reason": "too little data before the held-out slice"}
            continue
        s = scorer(sl.pos, sl.day)
        slice_scores[name] = s
        candidates[name] = {"usable": True, "auc": round(float(roc_auc_score(sl.y, s)), 4),
                            "top_decile_lift": round(top_decile_lift(sl.y.astype(float), s), 3)}

    info: dict = {"candidates": candidates, "decay": estimate_decay(examples)}
    if sl is None:
        # nothing to compare on: the strongest source the data allows
        name = next(n for n in SOURCES if candidates[n]["usable"])
        chosen, weights = [name], None
        info["held_out"] = None
    else:
        info["held_out"] = {"kind": sl.kind, "from": _iso(sl.start), "rows": len(sl.y),
                            "positives": int(sl.y.sum()), "note": sl.note}
        best = max(slice_scores, key=lambda k: (candidates[k]["auc"], -SOURCES.index(k)))
        chosen, weights = [best], None
        if len(slice_scores) > 1:
            blend_auc, blend_lift, w = _blend(sl, slice_scores, ctx.seed)
            candidates["blend"] = {"usable": True, "auc": round(blend_auc, 4),
                                   "top_decile_lift": round(blend_lift, 3) if np.isfinite(blend_lift) else None,
                                   "of": list(slice_scores),
                                   "weights": {k: round(v, 4) for k, v in w.items()}}
            if blend_auc >= candidates[best]["auc"] + BLEND_MARGIN:
                chosen, weights = list(slice_scores), w

    day = np.full(len(target_pos), ctx.today)
    today = {}
    for name in chosen:
        scorer = fitters[name](ctx.today)
        today[name] = scorer(target_pos, day) if scorer is not None else ctx.prior_at(target_pos, day)
    if weights is None:
        p = today[chosen[0]]
        info["source"] = chosen[0]
    else:
        z = weights["intercept"] + sum(weights[k] * _logit(today[k]) for k in chosen)
        p = 1.0 / (1.0 + np.exp(-z))
        info["source"] = "blend"
    # a classifier of contact outcomes, or a blend fitted on them, is already on the contact scale
    info["learned_from_contacts"] = sl is not None and sl.kind == "contacts" and info["source"] in ("campaigns",
                                                                                                   "blend")
    if info["source"] in candidates and "auc" in candidates[info["source"]]:
        info["auc"] = candidates[info["source"]]["auc"]
    if info["source"] == "blend":
        info["auc"] = candidates["blend"]["auc"]
        info["top_decile_lift"] = candidates["blend"]["top_decile_lift"]
    elif "top_decile_lift" in candidates.get(info["source"], {}):
        info["top_decile_lift"] = candidates[info["source"]]["top_decile_lift"]
    return np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0), info


#: the prior's weekly decay: its logit falls 0.9 a year, about this share of the chance a week for small p
PRIOR_DECAY_PER_WEEK = round(1.0 - float(np.exp(-0.9 / 52.18)), 4)
DECAY_BINS = (365, 455, 545, 730, 910, 1095, 1460, 2190, 100_000)


def estimate_decay(examples) -> dict:
    """How fast the chance of coming back falls with time dormant, from the backtest examples.

    The return rate per band of days dormant at the snapshot, and an exponential
    fitted to it by weighted least squares on the log rate: ``per_week`` is the
    share of the chance lost by waiting one more week. Falls back to the prior's
    rate when the history cannot tell (too few examples, or no decline).
    """
    fallback = {"source": "prior", "per_week": PRIOR_DECAY_PER_WEEK,
                "note": "implied by the documented prior (-0.9 on the log-odds per year dormant)"}
    if examples is None or len(examples.y) == 0:
        return fallback
    rec = examples.X["recency_days"].to_numpy()
    band = np.digitize(rec, DECAY_BINS[1:-1])
    n = np.bincount(band, minlength=len(DECAY_BINS) - 1)
    k = np.bincount(band, weights=examples.y.astype(float), minlength=len(DECAY_BINS) - 1)
    mid = np.array([(a + min(b, 3650)) / 2 for a, b in itertools.pairwise(DECAY_BINS)])
    ok = (n >= 50) & (k > 0)
    rows = [{"days_dormant": f"{a}-{b if b < 100_000 else ''}", "examples": int(c), "rate": round(r, 4)}
            for a, b, c, r in zip(DECAY_BINS[:-1], DECAY_BINS[1:], n, np.divide(k, np.maximum(n, 1)),
                                  strict=True) if c > 0]
    if ok.sum() < 3:
        return {**fallback, "by_days_dormant": rows}
    slope, _ = np.polyfit(mid[ok], np.log(k[ok] / n[ok]), 1, w=np.sqrt(k[ok]))
    if slope >= 0:
        return {**fallback, "by_days_dormant": rows, "note": fallback["note"] + "; the history shows no decline"}
    per_week = float(1.0 - np.exp(7.0 * slope))
    return {"source": "backtest", "per_week": round(per_week, 4), "half_life_days": round(float(np.log(2) / -slope)),
            "note": "exponential fit of the return rate by days dormant at the backtest snapshots",
            "by_days_dormant": rows}


def _missing_reason(name: str) -> str:
    return {"campaigns": "no contact history with outcomes", "backtest": "no transaction log",
            "bgnbd": "no transaction log"}.get(name, "")


def _blend(sl: Slice, scores: dict[str, np.ndarray], seed: int) -> tuple[float, float, dict[str, float]]:
    """Cross-validated AUC and top-decile lift of a logistic blend of the sources' logits on the slice,
    and its weights fitted on all of it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    names = list(scores)
    X = np.column_stack([_logit(scores[k]) for k in names])
    y = sl.y.astype(int)
    fold = np.random.default_rng([seed, 6]).random(len(y)) < 0.5
    pred = np.zeros(len(y))
    for f in (fold, ~fold):
        if len(np.unique(y[~f])) < 2:
            return 0.0, float("nan"), {}
        m = LogisticRegression(C=1.0).fit(X[~f], y[~f])
        pred[f] = m.decision_function(X[f])
    auc = float(roc_auc_score(y, pred))
    lift = top_decile_lift(y.astype(float), pred)
    m = LogisticRegression(C=1.0).fit(X, y)
    w = {k: float(c) for k, c in zip(names, m.coef_[0], strict=True)}
    w["intercept"] = float(m.intercept_[0])
    return auc, lift, w
