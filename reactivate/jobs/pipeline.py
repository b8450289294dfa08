"""The whole job, stage by stage: load → dormancy → features → segments → scores → plan.

Each stage is a function of DataFrames in its own module; this module wires
them together and times them. :func:`run_plan` returns everything the
outputs are made of; :mod:`reactivate.outputs.writer` writes it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import reactivate.segmentation.cluster  # noqa: F401
from reactivate import __version__
from reactivate.config.campaign import CampaignSpec, load_campaign
from reactivate.data.engine import give_back_memory
from reactivate.data.load import Book, load_book
from reactivate.data.shown import check_show_input, read_shown
from reactivate.data.spark_engine import spark_for
from reactivate.dormancy.customers import build_customers
from reactivate.dormancy.features import model_features
from reactivate.errors import ConfigError, InputDataError
from reactivate.loop.record import merge_history
from reactivate.outputs.lists import check_show
from reactivate.planning.diagnosis import cannot_contact
from reactivate.planning.plan import build_plan
from reactivate.planning.result import PlanResult
from reactivate.planning.summary import counts, plan_summary
from reactivate.schema import CHANNELS
from reactivate.scoring.learn import apply_learning
from reactivate.scoring.rank import customer_shortfalls, known_inputs, score_targets
from reactivate.segmentation.assign_spark import SegmentsOnSpark, segments_on_spark
from reactivate.segmentation.cluster import (
    assign_segments,
    describe_segments,
    left_out_note,
    segment_customers,
)
from reactivate.segmentation.spec import SegmentSpec, load_segment_spec
from reactivate.segmentation.store import (
    read_model,  # read before the (slow) load of the book: fail fast
    segment_drift,
)


@dataclass(frozen=True)
class PlanRun:
    """Everything a run's outputs are made of. Frozen: a step that adds to it returns a new one
    (:func:`dataclasses.replace`), with new ``summary``/``run`` dicts rather than edited ones."""

    as_of: dt.date
    spec: CampaignSpec
    seg_spec: SegmentSpec
    book: Book
    #: every customer of the book: stage, recency, flags, reach, consent (the columns read after the targets are
    #: cut, :func:`cut_targets`; the targets' own rows have every column in ``scores``)
    customers: pd.DataFrame
    #: the scored targets (the plan's input)
    scores: pd.DataFrame
    #: one profile row per segment
    segments: pd.DataFrame
    #: the plan; None when the run stopped after scoring (``reactivate rank``)
    result: PlanResult | None
    #: summary.json
    summary: dict
    #: run.json (:func:`run_metadata`)
    run: dict
    timings: dict[str, float] = field(default_factory=dict)
    #: channel fit per segment (segments x channels), as used by the plan
    fit: pd.DataFrame | None = None
    #: the ``[targets] show`` columns of the accounts file, as text, one row per scored target (in the
    #: order of ``scores``); personal data: for the RM lists and workbooks only, never summary/run.json
    shown: pa.Table | None = None
    #: each scored target's service shortfalls (:func:`~reactivate.scoring.rank.customer_shortfalls`)
    shortfall: pd.Categorical | None = None


class _Clock:
    def __init__(self, progress=None):
        self.t = time.perf_counter()
        self.laps: dict[str, float] = {}
        self.progress = progress  # called with each stage's name as it ends (a progress bar)

    def lap(self, name: str) -> None:
        # what the stage freed goes back to the system before the next one allocates (threads' heaps keep
        # theirs otherwise: segmentation's two threads left 150 MB per million customers resident)
        give_back_memory()
        now = time.perf_counter()
        self.laps[name] = round(now - self.t, 3)
        self.t = now
        if self.progress is not None:
            self.progress(name)


def load_specs(campaign=None, segments=None, segments_model=None):
    """The campaign spec, the segmentation spec and the saved segment model (or None), all checked.

    A saved model carries the spec it was fitted with, so it cannot be combined
    with another segmentation spec.

    Raises
    ------
    ConfigError
    """
    spec = campaign if isinstance(campaign, CampaignSpec) else load_campaign(campaign)
    if segments_model is None:
        seg_spec = segments if isinstance(segments, SegmentSpec) else load_segment_spec(segments)
        return spec, seg_spec, None
    if segments is not None:
        raise ConfigError("give either a segmentation spec or a saved segment model, not both "
                          "(the model carries the spec it was fitted with)")

    saved = read_model(segments_model)
    return spec, saved.spec, saved


@dataclass
class Targets:
    """The customers a campaign targets and their model features (the input of segmentation)."""

    spec: CampaignSpec
    book: Book
    customers: pd.DataFrame
    targets: pd.DataFrame
    features: pd.DataFrame


def load_targets(
    *,
    as_of: dt.date,
    accounts: str | Path | None = None,
    transactions: str | Path | None = None,
    contacts: str | Path | None = None,
    spec: CampaignSpec,
    clock: _Clock | None = None,
    history: pd.DataFrame | None = None,
    slim: bool = False,
) -> Targets:
    """Load and check the book, find the dormant, and compute the target customers' features.

    ``slim``: once the accounts are folded, the book's accounts keep only the columns a plan reads later
    (:func:`accounts_after_dormancy`), and once the targets are cut, so do the customers
    (:func:`cut_targets`); a job that reads them again (a backtest) leaves it False.

    Raises
    ------
    InputDataError
        Invalid input, or no customer is in the target stages.
    """
    clock = clock or _Clock()
    book = load_book(accounts=accounts, transactions=transactions, contacts=contacts, spec=spec, as_of=as_of)
    if history is not None:  # the ledger's touches and outcomes count like the contact history
        book = merge_history(book, history)
    clock.lap("load")
    def slim_accounts():
        book.accounts = accounts_after_dormancy(book.accounts)

    customers = build_customers(book, spec, as_of, accounts_folded=slim_accounts if slim else None)
    clock.lap("dormancy")
    is_target = customers["stage"].isin(spec.dormancy.target_stages).to_numpy()
    if not is_target.any():
        stages = customers["stage"].value_counts().to_dict()
        raise InputDataError(
            f"no customer is in the target stages ({', '.join(spec.dormancy.target_stages)}) on "
            f"{as_of.isoformat()}; stages found: " + ", ".join(f"{k} {v}" for k, v in stages.items())
        )
    targets, customers = cut_targets(customers, is_target) if slim else (customers[is_target], customers)
    horizon_days = spec.campaign.horizon_weeks * 7
    feats = model_features(targets, as_of, horizon_days)
    clock.lap("features")
    return Targets(spec, book, customers, targets, feats)


def segment_targets(t: Targets, seg_spec: SegmentSpec, saved=None):
    """Segment the targets: fit on them, or assign them to a saved model's segments.

    Parameters
    ----------
    saved : reactivate.segmentation.store.SavedModel or None; when given its spec, segments
        and names are used (``seg_spec`` is ignored) and the drift is measured.

    Returns
    -------
    seg : pd.Categorical of segment ids, one per target
    model : the Segmenter (None when every customer was carved out)
    profiles : segment id -> name, apart, note, kind
    drift : dict (see :func:`reactivate.segmentation.store.segment_drift`), None without a saved model
    """
    spark = spark_for(t.book, t.spec)  # the Spark engine: every target assigned on its executors
    if saved is not None:
        seg = (segments_on_spark(spark, t.targets, t.features, saved.spec, saved.model, saved.segment_ids)
               if spark is not None and saved.model is not None else
               assign_segments(t.targets, t.features, saved.spec, saved.model, saved.segment_ids))
        drift = segment_drift(seg, saved.fit_counts, customer_ids=t.targets.index, assignment=saved.assignment)
        return seg, saved.model, saved.profiles, drift
    # on Spark: the fitting sample drawn there and every target assigned there, their columns sent once
    on = None if spark is None else SegmentsOnSpark(spark, t.targets, t.features, seg_spec)
    seg, model = segment_customers(t.targets, t.features, seg_spec, assign=None if on is None else on.assign,
                                   draw=None if on is None else on.draw)
    return seg, model, describe_segments(seg, t.features, model, seg_spec), None


def run_plan(
    *,
    as_of: dt.date,
    accounts: str | Path | None = None,
    transactions: str | Path | None = None,
    contacts: str | Path | None = None,
    campaign: str | Path | CampaignSpec | None = None,
    segments: str | Path | SegmentSpec | None = None,
    segments_model: str | Path | None = None,
    plan: bool = True,
    history: pd.DataFrame | None = None,
    learned: pd.DataFrame | None = None,
    progress=None,
) -> PlanRun:
    """Run every stage and return the results (nothing is written).

    ``plan=False`` stops after scoring (``reactivate rank``): ``result`` is None.
    ``progress``, when given, is called with each stage's name as it ends.

    With ``segments_model`` (a file written by ``reactivate segments fit``) the
    targets are assigned to the saved segments, so ids and names stay the same
    from one weekly run to the next, and ``summary["segments_drift"]`` reports
    how far the segment mix has moved since the fit.

    ``history`` (contacts-table columns, e.g. :meth:`reactivate.loop.ledger.Ledger.history`) is added
    to the contact history, so earlier touches count for caps, gaps, opt-outs and calibration.
    ``learned`` (segment_id, channel, successes, trials; see :mod:`reactivate.scoring.learn`) updates the
    channel fit per segment after scoring.

    Raises
    ------
    ConfigError, InputDataError
    """
    clock = _Clock(progress)
    spec, seg_spec, saved = load_specs(campaign, segments, segments_model)
    check_show(spec)
    check_show_input(spec, accounts)
    t = load_targets(as_of=as_of, accounts=accounts, transactions=transactions, contacts=contacts, spec=spec,
                     clock=clock, history=history, slim=True)
    book, customers, targets, feats = t.book, t.customers, t.targets, t.features
    shown = read_shown(accounts, spec, targets.index) if spec.targets.show else None

    seg, model, profiles, drift = segment_targets(t, seg_spec, saved)
    clock.lap("segment")
    scores, seg_table, score_info, fit = score_targets(targets, feats, seg, profiles, book, spec, as_of, customers)
    if learned is not None:
        scores, fit, score_info["learning"] = apply_learning(scores, fit, learned, spec, as_of)
    shortfall = customer_shortfalls(scores, feats, known_inputs(book, spec))
    del t, targets, feats  # the scores hold what the plan needs: the targets' own frames go (gigabytes at 10M)
    clock.lap("score")

    result = None
    if plan:
        result = build_plan(scores, fit, spec, as_of)
        clock.lap("plan")

    summary = _summary(customers, scores, seg_table, result, score_info, book, spec, model)
    if saved is not None:
        summary["segments_drift"] = drift
    run = run_metadata(as_of, spec, seg_spec, book.inputs, saved)
    return PlanRun(as_of, spec, seg_spec, book, customers, scores, seg_table, result, summary, run, clock.laps,
                   fit=fit, shown=shown, shortfall=shortfall)


#: the accounts' columns a plan reads after the dormancy stage (which folded the others into the customers):
#: the products held (the RM lists), the last activity (the weekly run's uplift), and the RM, reach and consent
#: columns whose presence says what the book knows (the shortfalls, the consent diagnosis)
ACCOUNT_COLUMNS_KEPT = ("customer_id", "product", "last_activity_date", "rm_id")
ACCOUNT_PREFIXES_KEPT = ("has_", "consent_")


def accounts_after_dormancy(accounts: pd.DataFrame | None) -> pd.DataFrame | None:
    """The accounts table with only the columns read after the dormancy stage (:data:`ACCOUNT_COLUMNS_KEPT`):
    balances, dates, flags and reasons of ten million accounts are gigabytes the later stages never read."""
    if accounts is None:
        return None
    keep = [c for c in accounts.columns if c in ACCOUNT_COLUMNS_KEPT or c.startswith(ACCOUNT_PREFIXES_KEPT)]
    # a copy: a view of the kept columns would keep their blocks (and the dropped columns in them) alive
    return accounts[keep].copy() if len(keep) < accounts.shape[1] else accounts


#: the customers' numeric and date columns a plan reads after the targets are cut (:func:`cut_targets`; every flag,
#: reach, consent and category column is kept too): the recency (and days dormant, which a reader of the run asks
#: of every customer) and the static attributes scoring learns from
CUSTOMER_COLUMNS_KEPT = ("last_activity", "days_dormant", "total_balance", "next_maturity", "n_products", "age",
                         "prior_responses")


def cut_targets(customers: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The targets (the customers where ``rows``, a boolean mask, holds: every column) and the customers with only
    the columns read once the targets are cut: the :data:`CUSTOMER_COLUMNS_KEPT` and every bool and categorical
    column (flags, reach, consent, stage, RM). A column the customers no longer need is dropped from them (in
    place) as soon as the targets have their copy: the book's columns are never all held twice (gigabytes at 10M)."""
    cols = {}
    for c in list(customers.columns):
        column = customers[c]
        cols[c] = column.array[rows]
        if not (c in CUSTOMER_COLUMNS_KEPT or column.dtype == bool or isinstance(column.dtype, pd.CategoricalDtype)):
            del customers[c]
    return pd.DataFrame(cols, index=customers.index[rows], copy=False), customers


def run_metadata(as_of: dt.date, spec: CampaignSpec, seg_spec: SegmentSpec, inputs: dict, saved=None, *,
                 full: bool = True) -> dict:
    """run.json: the version, the as-of date, the resolved specs, the inputs' fingerprints and the saved
    segment model used (if any).

    Parameters
    ----------
    inputs : the book's input fingerprints (:attr:`reactivate.data.load.Book.inputs`).
    saved : reactivate.segmentation.store.SavedModel or None.
    full : also the campaign's seed and source file and the library versions (``plan``, ``rank``,
        ``run``); ``segments describe`` writes without them.
    """
    run = {"version": __version__, "as_of": as_of.isoformat(), "campaign": spec.to_dict(),
           "segmentation": seg_spec.to_dict(), "segmentation_source": seg_spec.source, "inputs": inputs}
    if full:
        run.update(seed=spec.campaign.seed, campaign_source=spec.source, libraries=_libraries())
    if saved is not None:
        run["segments_model"] = {"path": saved.path, "sha256": saved.sha256, "fitted_by": saved.version}
    return run


def _libraries() -> dict[str, str]:
    import sklearn

    return {"pandas": pd.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__}


def _summary(customers, scores, seg_table, result, score_info, book: Book, spec, model) -> dict:
    out = {
        "customers": len(customers),
        "by_stage": counts(customers["stage"].astype(str)),
        "targets": len(scores),
        "segments": [
            {"segment_id": r.segment_id, "segment_name": r.segment_name, "size": int(r.size), "rank": int(r.rank)}
            for r in seg_table.itertuples()
        ],
        "k": int(model.n_clusters_) if model is not None else 0,
        "k_choice": {"reason": model.k_reason_, "scores": {str(k): v for k, v in model.k_scores_.items()}}
        if model is not None else {},
        "scoring": score_info,
        "notes": list(book.notes) + left_out_note(getattr(model, "left_out_", {})),
        "channels": list(CHANNELS),
    }
    if result is not None:
        out.update(plan_summary(result))
        blocked = cannot_contact(result, spec, book.accounts)
        if blocked is not None:
            out["cannot_contact"] = blocked
    return out
