"""One call per command: what ``plan``, ``rank``, ``validate``, ``record`` and ``evaluate`` run.

The CLI parses options, calls one of these and prints what it returns; a program that embeds
reactivate calls the same functions. Each reads its inputs, runs the stages and writes all or nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from reactivate.config.campaign import CampaignSpec, load_campaign
from reactivate.data.load import Book, load_book
from reactivate.jobs.pipeline import PlanRun, run_plan
from reactivate.jobs.weekly import resolve
from reactivate.loop.evaluate import Evaluation, evaluate_campaign, write_evaluation
from reactivate.loop.ledger import Ledger, ledger_location, open_ledger
from reactivate.loop.record import RecordResult, record_outcomes
from reactivate.outputs.writer import write_ranking, write_run


def exact_campaign(campaign: str | Path | CampaignSpec | None) -> CampaignSpec:
    """The campaign spec with the exact (min-cost flow) allocation instead of the fast default."""
    spec = campaign if isinstance(campaign, CampaignSpec) else load_campaign(campaign)
    return dataclasses.replace(spec, optimizer=dataclasses.replace(spec.optimizer, method="exact"))


def plan_to(out: str | Path, *, as_of: dt.date, lang: str = "en", report_lang: str | None = None,
            progress=None, **inputs) -> PlanRun:
    """``reactivate plan``: the whole job (:func:`~reactivate.jobs.pipeline.run_plan`) written into ``out``.

    ``inputs`` are run_plan's table, spec and model arguments; returns the written run (its summary
    counts the files written).
    """
    run = run_plan(as_of=as_of, progress=progress, **inputs)
    return write_run(run, out, lang=lang, report_lang=report_lang, progress=progress)


def rank_to(out: str | Path, *, as_of: dt.date, **inputs) -> PlanRun:
    """``reactivate rank``: scores and the segment ranking (no plan) written into ``out``."""
    run = run_plan(as_of=as_of, plan=False, **inputs)
    write_ranking(run, out)
    return run


def validate_inputs(*, as_of: dt.date, accounts=None, transactions=None, contacts=None,
                    campaign: str | Path | None = None) -> Book:
    """``reactivate validate``: load and check the tables (every problem at once, as InputDataError)."""
    spec = load_campaign(campaign)
    return load_book(accounts=accounts, transactions=transactions, contacts=contacts, spec=spec, as_of=as_of)


def campaign_ledger(campaign: str | Path, spec: CampaignSpec, ledger: str | None = None,
                    migrate: bool = True) -> Ledger:
    """The campaign's ledger, opened where :func:`~reactivate.loop.ledger.ledger_location` says."""
    base = Path(campaign).resolve().parent
    return open_ledger(ledger_location(spec.ledger.url, spec.inputs.out, base, override=ledger), migrate=migrate)


def record_files(campaign: str | Path, outcomes: list[Path], *, ledger: str | None = None,
                 as_of: dt.date | None = None, accept_unplanned: bool = False) -> list[RecordResult]:
    """``reactivate record``: each outcome file recorded in the campaign's ledger, under its lock."""
    spec = load_campaign(campaign)
    led = campaign_ledger(campaign, spec, ledger, migrate=False)
    try:
        with led.lock(spec.campaign.id):
            led.migrate()
            return [record_outcomes(led, p, spec, as_of=as_of, accept_unplanned=accept_unplanned)
                    for p in outcomes]
    finally:
        led.close()


def evaluate_to(campaign: str | Path, out: str | Path, *, ledger: str | None = None, accounts=None,
                transactions=None, as_of: dt.date | None = None) -> Evaluation:
    """``reactivate evaluate``: uplift of the contacted against the holdout, written into ``out``."""
    spec = load_campaign(campaign)
    base = Path(campaign).resolve().parent
    acc = accounts or resolve(spec, base, spec.inputs.accounts, "")
    txn = transactions or resolve(spec, base, spec.inputs.transactions, "")
    led = campaign_ledger(campaign, spec, ledger)
    try:
        ev = evaluate_campaign(led, spec, accounts=acc, transactions=txn, as_of=as_of)
    finally:
        led.close()
    write_evaluation(ev, out)
    return ev
