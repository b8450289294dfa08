"""The propensity sources: what each reads, how it is fitted on the data before a day, and its score.

Every source gives a real-valued score ``z`` of (customer, day) pairs, higher =
likelier back within the horizon after the end of that day; the choice and the
calibration into probabilities are :mod:`reactivate.scoring.propensity`'s.

``recency``       minus the log of the days dormant (needs no fit).
``freq/recency``  log of occasions / (1 + days dormant / 30) (needs no fit).
``prior``         the documented prior of :mod:`reactivate.scoring.priors`, as known that day.
``bgnbd``         BG/NBD fitted on the purchase occasions up to the day it is fitted on
                  (:mod:`reactivate.scoring.bgnbd`); P(an occasion within the horizon), exact.
``backtest``      a classifier (:mod:`reactivate.scoring.learners`) of "came back within the
                  horizon" trained on the stacked backtest snapshots whose horizon had closed
                  (:mod:`reactivate.scoring.backtest`).
``campaigns``     a classifier of "reactivated after contact" trained on the past contacts.

:class:`Context` holds what they share: the purchase occasions, the customers'
slowly changing attributes (dropped when missing or the same for everyone, with
a note), the prior, the contacts with outcomes and the backtest examples. A
fitted source's own numbers are a model of :mod:`reactivate.scoring.scorer` that
reads plain columns (:meth:`Context.frame` builds them), so that today's pass
over the targets runs wherever the model is shipped (Spark's executors too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.data import engine as log_engine
from reactivate.dormancy.ids import codes_for
from reactivate.errors import InputDataError
from reactivate.scoring.backtest import Examples, fit_bgnbd_at, snapshot_days, stacked_examples
from reactivate.scoring.calibration import logit
from reactivate.scoring.learners import Learner, informative_columns
from reactivate.scoring.occasions import LogOccasions, Occasions
from reactivate.scoring.priors import prior_scorer
from reactivate.scoring.scorer import (
    COLUMNS,
    RFM,
    BGNBDModel,
    FreqRecencyModel,
    LearnedModel,
    PriorModel,
    RecencyModel,
)

#: simplest first: a tie goes to the earlier
SOURCES = ("recency", "freq/recency", "prior", "bgnbd", "backtest", "campaigns")
#: sources whose score is a probability before any calibration
PROBABILISTIC = ("prior", "bgnbd", "backtest", "campaigns")
#: slowly changing attributes of the customer table a learned source may read
STATIC = {"n_products": "products held", "has_rm": "a relationship manager", "digital_reach": "digital reach",
          "age": "age", "log_balance": "balance"}
MAX_TRAIN = 60_000  # rows a learned source trains on (sampled with the campaign's seed)
MAX_POOL = 10_000  # customers drawn per backtest snapshot, at least (more when there are few snapshots)
MAX_BGNBD = 30_000  # customers BG/NBD is fitted on
MIN_POSITIVES = 20
MIN_CONTACTS = 200
#: the learner of the backtest and campaigns sources (:mod:`reactivate.scoring.learners`)
LEARNER = "linear"
#: the learned sources learn corrections to this column (the documented prior's log-odds)
OFFSET: str | None = "prior_logit"
#: days between backtest snapshots (None: half a horizon)
SNAPSHOT_STEP: int | None = None


def epoch_day(day: dt.date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


@dataclass
class Fitted:
    """A source fitted on the data up to the end of ``until``: ``score(pos, day)`` gives z, ``model``
    (:mod:`reactivate.scoring.scorer`) the same z from the columns :meth:`Context.frame` builds."""

    name: str
    until: int
    score: Callable[[np.ndarray, np.ndarray], np.ndarray]
    info: dict = field(default_factory=dict)
    model: object = None


def fitted(ctx: Context, name: str, until: int, model, info: dict | None = None) -> Fitted:
    """The source ``name`` whose fitted numbers are ``model``: it scores any (customer, day) pairs by the
    model on what the context tells of them (:meth:`Context.frame`)."""

    def score(pos, day):
        return model.z(ctx.frame(model.reads, pos, day))

    return Fitted(name, until, score, info or {}, model)


class Context:
    """Everything the sources share, built once per run.

    ``customers`` is every customer of the book (the sources learn from all of them),
    ``targets_index`` the ids of those scored today (``targets_pos``: their positions among the customers,
    when known); ``occasions`` the book's transactions already folded for ``customers`` (built here when
    not given).
    """

    def __init__(self, customers: pd.DataFrame, book, spec, as_of: dt.date, targets_index: pd.Index,
                 occasions: Occasions | None = None, targets_pos: np.ndarray | None = None):
        self.customers = customers
        self.spec = spec
        self.as_of = as_of
        self.today = epoch_day(as_of)
        self.horizon = spec.campaign.horizon_weeks * 7
        self.dormant_days = spec.dormancy.dormant_days
        self.long_dormant_days = spec.dormancy.long_dormant_days
        self.seed = spec.campaign.seed
        log = book.log
        self.contacts = _contact_examples(book.contacts, customers.index)
        #: sorted positions of the customers whose history the models read (None: every customer's)
        self.history: np.ndarray | None = None
        if occasions is None and log is not None and log.check().rows:
            if log.bound() is None:
                log.bind(pa.array(customers.index.to_numpy(dtype=object), type=pa.string()))
            if log.samples_history(len(customers)):
                self.history, self.contacts = self._history(len(customers), self.contacts)
            occasions = LogOccasions(log, customers.index, self.today, self.horizon, spec.dormancy.occasion_days,
                                     self.history)
        self.occ = occasions
        la = customers["last_activity"]
        self.last_activity = np.where(la.isna().to_numpy(), np.iinfo(np.int64).max,
                                      la.to_numpy().astype("datetime64[D]").astype(np.int64))
        self.static, self.dropped = _static_features(customers)
        self.prior_fn = prior_scorer(customers, book.contacts, self.horizon, targets_index, targets_pos)
        self.notes: list[str] = []
        if self.history is not None:
            self.notes.append(f"scoring: the models looked back on the history of {len(self.history):,} of the "
                              f"{len(customers):,} customers (drawn with the campaign's seed, and every one "
                              "contacted with a known outcome): the log's engine keeps the others' days where "
                              "they lie")
        if self.dropped:
            self.notes.append("scoring: " + ", ".join(STATIC[c] for c in self.dropped)
                              + " missing or the same for every customer in this book: no model reads them")
        self._examples: Examples | None = None
        self._kept: dict[str, list] = {"recency": [], "features": []}

    def sample(self, n: int, most: int, salt: int) -> np.ndarray:
        """Sorted positions of at most ``most`` of ``n`` rows, drawn with the campaign seed."""
        if n <= most:
            return np.arange(n)
        rng = np.random.default_rng([self.seed, salt])
        return np.sort(rng.choice(n, size=most, replace=False))

    def draw(self, most: int, salt: int) -> np.ndarray:
        """Sorted positions of at most ``most`` customers whose history the models may read (every customer,
        or those of :attr:`history`), drawn with the campaign seed."""
        if self.history is None:
            return self.sample(self.customers.shape[0], most, salt)
        return self.history[self.sample(len(self.history), most, salt)]

    def _history(self, n: int, contacts: pd.DataFrame | None) -> tuple[np.ndarray, pd.DataFrame | None]:
        """The customers whose occasions are fetched (:data:`~reactivate.data.engine.HISTORY_CUSTOMERS` of the
        ``n`` drawn with the campaign seed, and those of the contacts with an outcome, as many again at most)
        and the contacts' examples of those customers."""
        drawn = self.sample(n, log_engine.HISTORY_CUSTOMERS, 7)
        if contacts is None:
            return drawn, None
        asked = np.unique(contacts["pos"].to_numpy(dtype=np.int64))
        asked = asked[self.sample(len(asked), log_engine.HISTORY_CUSTOMERS, 8)]
        contacts = contacts[np.isin(contacts["pos"].to_numpy(dtype=np.int64), asked)].reset_index(drop=True)
        return np.union1d(drawn, asked), contacts

    def recency(self, pos, day) -> np.ndarray:
        """Days dormant at the end of ``day`` as known then: from the accounts' last activity when it is
        on or before the day, else from the occasions before it (NaN when neither tells). The last few
        results are kept (several sources read the same rows)."""
        if (kept := self._recall("recency", pos, day)) is not None:
            return kept
        key = (pos, day)
        pos = np.asarray(pos, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        la = self.last_activity[pos]
        rec = self.occ.recency(pos, day) if self.occ is not None else np.full(len(pos), np.nan)
        out = np.where(la <= day, day - np.minimum(la, day), rec).astype(float)
        return self._keep("recency", *key, out)

    def features(self, pos, day) -> pd.DataFrame:
        """What a learned source reads of customer ``pos[i]`` at the end of ``day[i]``: the log's features,
        the static attributes and the prior as known that day. The last few results of earlier days are
        kept (several sources fit on and score the same rows; today's are read once per source, a slice of
        the targets at a time)."""
        if (kept := self._recall("features", pos, day)) is not None:
            return kept
        key = (pos, day)
        pos = np.asarray(pos, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        f = self.occ.features(pos, day, self.horizon) if self.occ is not None else pd.DataFrame(index=range(len(pos)))
        rec = self.recency(pos, day)
        f["recency_days"] = rec
        for k in self.static.columns:
            f[k] = self.static[k].to_numpy()[pos]
        f["prior_logit"] = logit(self.prior_fn(pos, day, rec))
        return f if len(day) and (day == self.today).all() else self._keep("features", *key, f)

    def frame(self, columns, pos, day) -> pd.DataFrame:
        """The ``columns`` a fitted source reads (:mod:`reactivate.scoring.scorer`) of customer ``pos[i]`` at
        the end of ``day[i]``, one row per pair: those of :data:`~reactivate.scoring.scorer.COLUMNS` asked for,
        and, when any other is asked for, every feature a learned source reads (:meth:`features`)."""
        columns = tuple(columns)
        f = self.features(pos, day) if set(columns) - set(COLUMNS) else pd.DataFrame(index=range(len(pos)))
        missing = [c for c in columns if c not in f.columns]
        if missing and len(f.columns):
            f = f.copy(deep=False)  # the features may be kept for the next call: they gain no columns
        if "recency_days" in missing or "prior_logit" in missing:
            rec = self.recency(pos, day)
            if "recency_days" in missing:
                f["recency_days"] = rec
            if "prior_logit" in missing:
                f["prior_logit"] = logit(self.prior_fn(pos, day, rec))
        if "n_occasions" in missing:
            f["n_occasions"] = self.occ.span(pos, day)[0].astype(float)
        if any(c in missing for c in RFM):
            x, t_x, T, seen = self.occ.rfm(pos, day, period_days=self.spec.dormancy.occasion_days)
            f["rfm_x"], f["rfm_t_x"], f["rfm_T"], f["rfm_seen"] = x, t_x, T, seen
        return f

    def _recall(self, what: str, pos, day):
        return next((v for p, d, v in self._kept[what] if p is pos and d is day), None)

    def _keep(self, what: str, pos, day, value, most: int = 3):
        """Keep ``value`` as the answer for the arrays ``pos`` and ``day`` (these very objects)."""
        self._kept[what] = [(pos, day, value), *self._kept[what][:most - 1]]
        return value

    def examples(self) -> Examples | None:
        """The backtest examples over the whole history (each fit takes those whose horizon closed before
        its day), built once. On a large book each snapshot draws its own sample of customers, about four
        times what a fit trains on in all (``MAX_TRAIN``), at least ``MAX_POOL``."""
        if self.occ is None:
            return None
        if self._examples is None:
            days, pools = self._pools()
            self._examples = stacked_examples(self.occ, self.recency, pools, days, self.horizon, self.dormant_days)
        return self._examples

    def _pools(self) -> tuple[list[int], list[np.ndarray]]:
        """The backtest snapshots' days and the customers drawn for each."""
        days = snapshot_days(self.occ.first_day, self.today, self.horizon, self.dormant_days,
                             SNAPSHOT_STEP or (self.horizon + 1) // 2)
        most = max(MAX_POOL, 4 * MAX_TRAIN // max(1, len(days)))
        return days, [self.draw(most, 1000 + k) for k in range(len(days))]


def _static_features(customers: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The static attributes a learned source reads, and those left out (missing or constant for all)."""
    c = customers
    dig = [(c[f"has_{ch}"] & c[f"consent_{ch}"]).to_numpy(dtype=float) for ch in ("app", "wechat", "email")]
    f = pd.DataFrame({
        "n_products": c["n_products"].to_numpy(dtype=float),
        "has_rm": c["rm_id"].notna().to_numpy(dtype=float),
        "digital_reach": np.mean(dig, axis=0),
        "age": c["age"].to_numpy(dtype=float),
        "log_balance": np.log1p(np.clip(c["total_balance"].to_numpy(dtype=float), 0, None)),
    })
    keep = informative_columns(f)
    return f[keep], [k for k in f.columns if k not in keep]


def _contact_examples(contacts: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    """Past contacts with a known outcome: position, day (the end of the day before the contact: what was
    known when it was made) and positive (reactivated; or responded when reactivations are rare)."""
    if contacts is None or "outcome" not in contacts.columns:
        return None
    pos = codes_for(contacts["customer_id"], index)
    keep = contacts["outcome"].notna().to_numpy() & (pos >= 0)
    if keep.sum() == 0:
        return None
    out = contacts["outcome"].to_numpy(dtype=object)[keep]
    positive = ["reactivated"] if (out == "reactivated").sum() >= 30 else ["reactivated", "responded"]
    day = contacts["date"].to_numpy().astype("datetime64[D]").astype(np.int64)[keep] - 1
    ex = pd.DataFrame({"pos": pos[keep], "day": day, "y": np.isin(out, positive)})
    return ex.sort_values(["day", "pos"], kind="stable").reset_index(drop=True)


# -- the sources: each fits on the data up to the end of ``until`` (labels included) or says why it cannot


def fit_recency(ctx: Context, until: int) -> Fitted | str:
    return fitted(ctx, "recency", until, RecencyModel())


def fit_freq_recency(ctx: Context, until: int) -> Fitted | str:
    if ctx.occ is None:
        return "no transaction log"
    return fitted(ctx, "freq/recency", until, FreqRecencyModel())


def fit_prior(ctx: Context, until: int) -> Fitted | str:
    return fitted(ctx, "prior", until, PriorModel())


def fit_bgnbd(ctx: Context, until: int) -> Fitted | str:
    """BG/NBD on the purchase occasions up to ``until`` (a sample of at most ``MAX_BGNBD`` customers)."""
    if ctx.occ is None:
        return "no transaction log"
    period = ctx.spec.dormancy.occasion_days
    pool = ctx.draw(3 * MAX_BGNBD, 3)
    n, _, _ = ctx.occ.span(pool, np.full(len(pool), until))
    seen = pool[n > 0]
    if len(seen) < 50:
        return f"{len(seen)} customers with purchases by {iso(until)}: too few to fit"
    try:
        model = fit_bgnbd_at(ctx.occ, until, seen[ctx.sample(len(seen), MAX_BGNBD, 4)], period)
    except InputDataError as exc:
        return str(exc)
    return fitted(ctx, "bgnbd", until, BGNBDModel(model, ctx.horizon / 7.0),
                  {"params": {k: round(v, 4) for k, v in model.params_.items()},
                   "fitted_on": int(min(len(seen), MAX_BGNBD)), "occasion_days": period})


def fit_learned(ctx: Context, name: str, pos: np.ndarray, day: np.ndarray, y: np.ndarray, until: int,
                salt: int) -> Fitted | str:
    """A learned source trained on the rows (pos, day, y) (sampled to at most ``MAX_TRAIN``)."""
    if y.sum() < MIN_POSITIVES or (~y).sum() < MIN_POSITIVES:
        return f"too few outcomes to learn from before {iso(until + 1)} ({int(y.sum())} of {len(y)} positive)"
    rows = ctx.sample(len(y), MAX_TRAIN, salt)
    learner = Learner(LEARNER, ctx.seed, offset=OFFSET).fit(ctx.features(pos[rows], day[rows]), y[rows], pos[rows])
    info = {"learner": LEARNER, "trained_on": len(rows), "positives": int(y[rows].sum())}
    if LEARNER == "linear":
        info["penalty"] = learner.penalty_
    return fitted(ctx, name, until, LearnedModel(learner), info)


def fit_backtest(ctx: Context, until: int) -> Fitted | str:
    """The backtest classifier from the snapshots whose horizon closed by ``until``."""
    ex = ctx.examples()
    if ex is None:
        return "no transaction log"
    ok = ex.day + ctx.horizon <= until
    if not ok.any():
        return f"no backtest snapshot closed before {iso(until + 1)} (the log starts {iso(ctx.occ.first_day)})"
    e = ex.take(np.flatnonzero(ok))
    return fit_learned(ctx, "backtest", e.pos, e.day, e.y, until, 2)


def fit_campaigns(ctx: Context, until: int) -> Fitted | str:
    """The classifier of 'reactivated after contact' from the contacts made by ``until``."""
    ex = ctx.contacts
    if ex is None:
        return "no contact history with outcomes"
    ok = (ex["day"] <= until).to_numpy()
    if ok.sum() < MIN_CONTACTS:
        return f"{int(ok.sum())} contacts with outcomes before {iso(until + 1)}: too few to learn from"
    e = ex[ok]
    return fit_learned(ctx, "campaigns", e["pos"].to_numpy(), e["day"].to_numpy(), e["y"].to_numpy(), until, 1)


FITTERS = {"recency": fit_recency, "freq/recency": fit_freq_recency, "prior": fit_prior, "bgnbd": fit_bgnbd,
           "backtest": fit_backtest, "campaigns": fit_campaigns}
#: the sources that learn from outcomes (cross-fitted when nothing closed before the held-out slice)
LEARNED = ("backtest", "campaigns")


def iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))
