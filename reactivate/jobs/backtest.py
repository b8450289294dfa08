"""``reactivate backtest``: how good is the ranking on *this* book? Plan as of past cutoffs, then look.

For each cutoff the book is cut back to what was known at the end of that day
(:func:`book_before`), and the customers are scored exactly as ``plan`` scores
them on it (:func:`reactivate.jobs.pipeline.load_targets`' stages, the
segmentation, :func:`reactivate.scoring.rank.score_targets`). The outcome is
then read from the whole log: any customer-initiated transaction within the
campaign's horizon after the cutoff. Every score is judged on the same
customers (the targets at the cutoff): the chosen one (``p_reactivate``), each
source the choice was made from (with its own calibration), and the textbook
baselines (recency, frequency/recency, BG/NBD fitted at the cutoff).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reactivate.data.load import Book, load_book
from reactivate.dormancy.customers import build_customers
from reactivate.dormancy.features import model_features
from reactivate.dormancy.ids import codes_for, customer_index
from reactivate.errors import InputDataError
from reactivate.jobs.pipeline import Targets, load_specs, run_metadata, segment_targets
from reactivate.outputs import charts
from reactivate.outputs.files import check_out, csv_bytes, json_bytes, staged
from reactivate.scoring.backtest import baselines, fit_bgnbd_at
from reactivate.scoring.calibration import score_figures
from reactivate.scoring.occasions import Occasions
from reactivate.scoring.rank import score_targets
from reactivate.scoring.sources import PROBABILISTIC, epoch_day

#: how many customers the baseline BG/NBD is fitted on at most (a large sample of a large book)
BASELINE_BGNBD = 50_000
#: the columns of backtest.csv
COLUMNS = ("cutoff", "score", "role", "rows", "positives", "auc", "top_decile_lift", "mean_predicted", "observed",
           "predicted_over_observed", "brier", "ece")


@dataclass
class CutoffResult:
    cutoff: dt.date
    targets: int
    returns: int
    #: one row per score (COLUMNS)
    rows: list[dict]
    #: summary.json's ``scoring`` of the plan as of the cutoff
    scoring: dict
    #: deciles of the chosen score: mean predicted vs observed
    reliability: list[dict]
    notes: list[str] = field(default_factory=list)


@dataclass
class Backtest:
    as_of: dt.date
    horizon_days: int
    cutoffs: list[CutoffResult]
    notes: list[str]
    run: dict


def default_cutoffs(as_of: dt.date, horizon_days: int, n: int = 2) -> list[dt.date]:
    """The last ``n`` horizons: cutoffs one and two horizons before the as-of day (oldest first), so that
    each outcome window has closed by the as-of day."""
    return [as_of - dt.timedelta(days=k * horizon_days) for k in range(n, 0, -1)]


def book_before(book: Book, cutoff: dt.date, horizon_days: int) -> Book:
    """The book as it was known at the end of ``cutoff``: transactions and contacts on or before it, the
    outcomes of the contacts of its last horizon not yet known, accounts opened by then (their last
    activity when it is on or before the cutoff; balances, flags and consent stay the extract's)."""
    end = pd.Timestamp(cutoff) + pd.Timedelta(days=1)
    txn = book.transactions
    txn = txn[(txn["timestamp"] < end).to_numpy()].reset_index(drop=True) if txn is not None else None
    con = book.contacts
    if con is not None:
        con = con[(con["date"] < end).to_numpy()].reset_index(drop=True)
        if "outcome" in con.columns:
            recent = (con["date"] >= end - pd.Timedelta(days=horizon_days)).to_numpy()
            con = con.assign(outcome=con["outcome"].where(~recent))
    acc = book.accounts
    if acc is not None:
        acc = acc[(acc["open_date"] < end).to_numpy()].reset_index(drop=True)
        if "last_activity_date" in acc.columns:
            acc = acc.assign(last_activity_date=acc["last_activity_date"].where(acc["last_activity_date"] < end))
    return dataclasses.replace(book, accounts=acc, transactions=txn, contacts=con, notes=list(book.notes))


def run_backtest(*, as_of: dt.date, cutoffs: list[dt.date] | None = None, accounts=None, transactions=None,
                 contacts=None, campaign=None, segments=None, progress=None) -> Backtest:
    """Score the book as of each cutoff as ``plan`` would, and judge every score on what happened next.

    ``cutoffs`` default to the last two horizons (:func:`default_cutoffs`). ``progress``, when given, is
    called with ``"load"`` and then each cutoff (ISO) as it ends.

    Raises
    ------
    ConfigError, InputDataError
        No transaction log (nothing to read the outcome from), or a cutoff whose horizon has not
        closed by the as-of day, or one before the log starts.
    """
    spec, seg_spec, _ = load_specs(campaign, segments)
    horizon = spec.campaign.horizon_weeks * 7
    cutoffs = sorted(set(cutoffs or default_cutoffs(as_of, horizon)))
    late = [c for c in cutoffs if c + dt.timedelta(days=horizon) > as_of]
    if late:
        raise InputDataError(f"cutoff {late[0].isoformat()}: its {horizon}-day horizon ends after the as-of day "
                             f"{as_of.isoformat()}, so what happened next is not known yet; the latest possible "
                             f"cutoff is {(as_of - dt.timedelta(days=horizon)).isoformat()}")
    book = load_book(accounts=accounts, transactions=transactions, contacts=contacts, spec=spec, as_of=as_of)
    if book.transactions is None or not len(book.transactions):
        raise InputDataError("backtest reads what happened after each cutoff from the transactions: give "
                             "--transactions")
    ids, _ = customer_index(book.transactions["customer_id"])
    whole = Occasions(book.transactions, ids)  # sorted once, cut at each cutoff
    first = dt.date(1970, 1, 1) + dt.timedelta(days=whole.first_day)
    early = [c for c in cutoffs if c < first]
    if early:
        raise InputDataError(f"cutoff {early[0].isoformat()} is before the transaction log starts "
                             f"({first.isoformat()})")
    if progress is not None:
        progress("load")
    results = []
    for c in cutoffs:  # one plan per cutoff
        results.append(evaluate_cutoff(book, spec, seg_spec, c, (whole, ids)))
        if progress is not None:
            progress(c.isoformat())
    if not any(r.targets for r in results):
        raise InputDataError("nothing to backtest: no customer was in the target stages ("
                             + ", ".join(spec.dormancy.target_stages) + ") at "
                             + ", ".join(c.isoformat() for c in cutoffs))
    notes = list(book.notes)
    if book.accounts is not None:
        notes.append("balances, flags and consent are the extract's, not as they were at each cutoff")
    run = run_metadata(as_of, spec, seg_spec, book.inputs)
    return Backtest(as_of, horizon, results, notes, run)


def evaluate_cutoff(book: Book, spec, seg_spec, cutoff: dt.date, whole: tuple | None = None) -> CutoffResult:
    """The plan's scoring as of ``cutoff`` and every score's figures on the outcome after it.

    ``whole``: the whole log's :class:`Occasions` and its customer index, when already built (it is cut
    at the cutoff instead of folding the cut log again)."""
    horizon = spec.campaign.horizon_weeks * 7
    b = book_before(book, cutoff, horizon)
    if b.transactions is None or not len(b.transactions):
        return CutoffResult(cutoff, 0, 0, [], {}, [], [f"{cutoff.isoformat()}: no transaction on or before it"])
    customers = build_customers(b, spec, cutoff)
    targets = customers[customers["stage"].isin(spec.dormancy.target_stages).to_numpy()]
    if len(targets) == 0:
        return CutoffResult(cutoff, 0, 0, [], {}, [], [f"{cutoff.isoformat()}: no customer in the target stages"])
    feats = model_features(targets, cutoff, horizon)
    t = Targets(spec, b, customers, targets, feats)
    seg, _, profiles, _ = segment_targets(t, seg_spec)
    # the log up to the end of the cutoff, shared with the scoring
    occ = whole[0].until(epoch_day(cutoff), whole[1], customers.index) if whole else Occasions(b.transactions,
                                                                                              customers.index)
    s, _, info, _ = score_targets(targets, feats, seg, profiles, b, spec, cutoff, customers, every_source=True,
                                  occasions=occ)
    each = info.pop("each_source", {})
    y = came_back_after(book.transactions, targets.index, cutoff, horizon)
    scores = {"chosen": ("chosen", s["p_reactivate"].to_numpy(dtype=float), True)}
    for name, p in each.items():
        scores[name] = ("source", p, True)
    pos = customers.index.get_indexer(targets.index)
    for name, (sc, prob) in _baselines(occ, pos, epoch_day(cutoff), horizon).items():
        scores[f"baseline {name}"] = ("baseline", sc, prob)
    rows = []
    for name, (role, sc, prob) in scores.items():
        fig = score_figures(y, sc, prob or name in PROBABILISTIC)
        rows.append({"cutoff": cutoff.isoformat(), "score": name, "role": role,
                     **{k: fig.get(k) for k in COLUMNS[3:]}})
    chosen = score_figures(y, scores["chosen"][1], True, table=True)
    return CutoffResult(cutoff, len(y), int(y.sum()), rows, info, chosen["reliability"], list(b.notes))


def came_back_after(txn: pd.DataFrame, ids: pd.Index, cutoff: dt.date, horizon_days: int) -> np.ndarray:
    """Whether each customer of ``ids`` has a customer-initiated transaction in the ``horizon_days`` after
    the end of ``cutoff`` (read from the whole log: the outcome)."""
    start = pd.Timestamp(cutoff) + pd.Timedelta(days=1)
    m = ((txn["timestamp"] >= start) & (txn["timestamp"] < start + pd.Timedelta(days=horizon_days))).to_numpy()
    if "initiated_by" in txn.columns:
        m = m & (txn["initiated_by"] != "bank").to_numpy()
    c = codes_for(txn["customer_id"][m], ids)
    return np.bincount(c[c >= 0], minlength=len(ids)) > 0


def _baselines(occ: Occasions, pos: np.ndarray, day: int, horizon: int) -> dict:
    """The textbook scores of the targets at the end of ``day``, BG/NBD fitted on (a large sample of)
    every customer seen by then."""
    pool = np.sort(np.random.default_rng(0).choice(occ.n, BASELINE_BGNBD, replace=False)) \
        if occ.n > BASELINE_BGNBD else np.arange(occ.n)
    try:
        model = fit_bgnbd_at(occ, day, pool)
    except InputDataError:
        model = None
    return baselines(occ, pos, day, horizon, model)


def backtest_to(out: str | Path, *, as_of: dt.date, cutoffs: list[dt.date] | None = None, accounts=None,
                transactions=None, contacts=None, campaign=None, segments=None, progress=None) -> Backtest:
    """``reactivate backtest``: :func:`run_backtest` written into ``out`` (checked before the long run)."""
    files = {"--accounts": accounts, "--transactions": transactions, "--contacts": contacts}
    check_out(out, files)
    bt = run_backtest(as_of=as_of, cutoffs=cutoffs, accounts=accounts, transactions=transactions,
                      contacts=contacts, campaign=campaign, segments=segments, progress=progress)
    write_backtest(bt, out, files)
    return bt


def write_backtest(bt: Backtest, out: str | Path, inputs: dict | None = None) -> list[str]:
    """backtest.csv (one row per cutoff and score), backtest.json (everything, with each cutoff's scoring
    and reliability table), backtest_auc.png, backtest_calibration.png and run.json (version, resolved
    specs, input fingerprints); all or nothing."""
    table = pd.DataFrame([r for c in bt.cutoffs for r in c.rows], columns=list(COLUMNS))
    doc = {"as_of": bt.as_of.isoformat(), "horizon_days": bt.horizon_days, "notes": bt.notes,
           "cutoffs": [{"cutoff": c.cutoff.isoformat(), "targets": c.targets, "returns": c.returns,
                        "scores": c.rows, "reliability_chosen": c.reliability, "scoring": c.scoring,
                        "notes": c.notes} for c in bt.cutoffs]}
    names = ["backtest.csv", "backtest.json", "backtest_auc.png", "backtest_calibration.png", "run.json"]
    with staged(out, inputs) as stage:
        stage.write(names[0], csv_bytes(table))
        stage.write(names[1], json_bytes(doc))
        stage.write(names[2], charts.figure_bytes(charts.backtest_auc, table))
        rel = pd.DataFrame([{"cutoff": c.cutoff.isoformat(), **r} for c in bt.cutoffs for r in c.reliability],
                           columns=["cutoff", "rows", "mean_predicted", "observed"])
        stage.write(names[3], charts.figure_bytes(charts.reliability, rel))
        stage.write(names[4], json_bytes(bt.run))
    return names
