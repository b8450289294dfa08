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
from reactivate.data.spark_engine import spark_session
from reactivate.jobs.pipeline import PlanRun, run_plan
from reactivate.jobs.weekly import ledger_file, resolve, spec_inputs
from reactivate.loop.evaluate import Evaluation, evaluate_campaign, write_evaluation
from reactivate.loop.ledger import Ledger, ledger_location, open_ledger
from reactivate.loop.record import RecordResult, record_all
from reactivate.outputs.files import check_out
from reactivate.outputs.warehouse import write_warehouse
from reactivate.outputs.writer import write_ranking, write_run


def exact_campaign(campaign: str | Path | CampaignSpec | None) -> CampaignSpec:
    """The campaign spec with the exact (min-cost flow) allocation instead of the fast default."""
    spec = campaign if isinstance(campaign, CampaignSpec) else load_campaign(campaign)
    return dataclasses.replace(spec, optimizer=dataclasses.replace(spec.optimizer, method="exact"))


def input_files(campaign=None, **files) -> dict[str, Path | None]:
    """The files a command reads, by option (``--accounts``, ``--campaign``, ``rm.overrides_file`` ...):
    the outputs folder may hold none of them (:func:`~reactivate.outputs.files.check_out`).

    ``campaign`` is a spec file or a loaded :class:`CampaignSpec`; ``files`` are run_plan's table, spec and
    model arguments (a segmentation spec given as an object is not a file).
    """
    spec = campaign if isinstance(campaign, CampaignSpec) else load_campaign(campaign)
    found = spec_inputs(spec, None if isinstance(campaign, CampaignSpec) else campaign)
    found.update({f"--{k.replace('_', '-')}": v for k, v in files.items() if v is None or isinstance(v, (str, Path))})
    return found


def plan_to(out: str | Path, *, as_of: dt.date, lang: str = "en", report_lang: str | None = None,
            progress=None, **inputs) -> PlanRun:
    """``reactivate plan``: the whole job (:func:`~reactivate.jobs.pipeline.run_plan`) written into ``out``.

    ``inputs`` are run_plan's table, spec and model arguments; returns the written run (its summary
    counts the files written). An ``out`` that holds an input is refused before anything runs.
    """
    files = input_files(**inputs)
    check_out(out, files)
    run = run_plan(as_of=as_of, progress=progress, **inputs)
    written = write_run(run, out, lang=lang, report_lang=report_lang, progress=progress, inputs=files)
    spark = run.spec.engine
    if spark.name == "spark" and spark.spark.warehouse:  # scores, plan and lists also as partitioned Parquet
        write_warehouse(run, f"{spark.spark.warehouse.rstrip('/')}/{as_of.isoformat()}",
                        spark_session(spark.spark), lang)
    return written


def rank_to(out: str | Path, *, as_of: dt.date, **inputs) -> PlanRun:
    """``reactivate rank``: scores and the segment ranking (no plan) written into ``out``."""
    files = input_files(**inputs)
    check_out(out, files)
    run = run_plan(as_of=as_of, plan=False, **inputs)
    write_ranking(run, out, files)
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


def record_files(campaign: str | Path, outcomes: list[Path], *, lists: list[Path] = (), ledger: str | None = None,
                 as_of: dt.date | None = None, accept_unplanned: bool = False,
                 strict: bool = False) -> list[RecordResult]:
    """``reactivate record``: the outcome files and the returned RM lists (files or folders) recorded in
    the campaign's ledger in one transaction, under its lock; with ``strict`` nothing is recorded when
    any row is rejected or any list has a problem (see :func:`~reactivate.loop.record.record_all`)."""
    spec = load_campaign(campaign)
    led = campaign_ledger(campaign, spec, ledger, migrate=False)
    try:
        with led.lock(spec.campaign.id):
            led.migrate()
            return record_all(led, outcomes, spec, lists=lists, as_of=as_of, accept_unplanned=accept_unplanned,
                              strict=strict)
    except BaseException:
        led.discard_if_new()  # nothing recorded into a ledger this call made: leave none behind
        raise
    finally:
        led.close()


def evaluate_to(campaign: str | Path, out: str | Path, *, ledger: str | None = None, accounts=None,
                transactions=None, as_of: dt.date | None = None) -> Evaluation:
    """``reactivate evaluate``: uplift of the contacted against the holdout, written into ``out``."""
    spec = load_campaign(campaign)
    base = Path(campaign).resolve().parent
    acc = accounts or resolve(spec, base, spec.inputs.accounts, "")
    txn = transactions or resolve(spec, base, spec.inputs.transactions, "")
    url = ledger_location(spec.ledger.url, spec.inputs.out, base, override=ledger)
    files = {**spec_inputs(spec, campaign), ("--accounts" if accounts else "[inputs] accounts"): acc,
             ("--transactions" if transactions else "[inputs] transactions"): txn,
             ("--ledger" if ledger else "[ledger] url" if spec.ledger.url else "the ledger"): ledger_file(url)}
    check_out(out, files)
    led = campaign_ledger(campaign, spec, ledger)
    try:
        ev = evaluate_campaign(led, spec, accounts=acc, transactions=txn, as_of=as_of)
    finally:
        led.discard_if_new()  # evaluate only reads: a ledger it had to create is not kept
        led.close()
    write_evaluation(ev, out, files)
    return ev
