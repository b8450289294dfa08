"""``reactivate record``, ``evaluate`` and ``run``: closing the loop week after week."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import (
    EngineName,
    Lang,
    NoReport,
    check_engine,
    check_lang,
    fail,
    guarded,
    parse_date,
    say,
)
from reactivate.errors import ReactivateError

CampaignFile = Annotated[Path, typer.Option("--campaign", help="Campaign spec (TOML) with [inputs] and [ledger].")]
LedgerOpt = Annotated[
    str | None,
    typer.Option("--ledger", help="Ledger: a SQLite file or an SQLAlchemy URL (default: [ledger] url of the "
                 "campaign, else <out>/ledger.sqlite)."),
]
LogJson = Annotated[bool, typer.Option("--log-json", help="Log events as JSON lines on stderr (no personal data).")]

EXIT_CODES = "Exit codes: 0 done, 2 bad input or config, 3 locked by another run (or outputs not writable), 1 unexpected."


def run_cmd(
    campaign: CampaignFile,
    week: Annotated[str, typer.Option("--week", help="ISO week to plan, e.g. 2026-W49.")],
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Outputs root (default: [inputs] out); the "
                                             "week goes to <out>/<campaign>/<week>/.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day the book was extracted (default: the "
                                              "day before the week starts).")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts table (instead of [inputs] accounts).")] = None,
    transactions: Annotated[Path | None, typer.Option(help="Transactions (instead of [inputs]).")] = None,
    contacts: Annotated[Path | None, typer.Option(help="Contact history (instead of [inputs]).")] = None,
    log_json: LogJson = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step as a text line.")] = False,
    no_report: NoReport = False,
    lang: Lang = "en",
    engine: EngineName = None,
) -> None:
    """The weekly batch: record outcomes, learn, plan the week, schedule follow-ups, write, update the ledger.

    Reads the files named in the campaign's [inputs], records the outcome files not yet recorded,
    plans the week with the ledger's history, and writes <out>/<campaign>/<week>/ (the plan outputs,
    followups.csv, followups/<week>/<rm>.csv). The same week run twice gives the same outputs and
    ledger. A failed or killed run leaves the previous outputs and the ledger as they were.
    Exit codes: 0 done, 2 bad input or config, 3 locked by another run of the campaign (or the
    outputs cannot be written), 1 unexpected error.

    Example:

        reactivate run --campaign examples/weekly/campaign.toml --week 2026-W50 --log-json
    """
    from reactivate.jobs.weekly import configure_logging

    configure_logging(log_json, verbose)
    check_lang(lang)
    check_engine(engine)
    day = parse_date(as_of, "--as-of") if as_of else None

    def go():
        from reactivate.jobs.weekly import run_week

        return run_week(campaign, week, ledger=ledger, out=out, as_of=day,
                        inputs={"accounts": accounts, "transactions": transactions, "contacts": contacts},
                        report_lang=None if no_report else lang, engine=engine)

    res = _logged(go, log_json)
    if not log_json:
        say("\n".join(week_lines(res)))


def week_lines(res) -> list[str]:
    """What ``reactivate run`` prints about a finished week (a jobs.weekly.WeekResult)."""
    p = res.summary.get("plan", {})
    loop = res.summary.get("loop", {})
    lines = [f"reactivate run {res.campaign_id} {res.week}: {p.get('touches', 0):,} touches planned "
             f"({p.get('by_week', {}).get(res.week_start.isoformat(), 0):,} this week), "
             f"{loop.get('followups', 0):,} follow-ups, holdout {p.get('holdout', 0):,}"]
    if "cannot_contact" in res.summary:
        lines.append(f"  warning: {res.summary['cannot_contact']['message']}")
    for r in res.recorded:
        lines.extend("  " + line for line in r.lines())
    ex = loop.get("excluded", {})
    if any(ex.values()):
        lines.append("  held back: " + ", ".join(f"{k} {v:,}" for k, v in ex.items()))
    lines.append(f"  outputs in {os.path.normpath(res.out)}/; run {res.run_id} recorded in the ledger")
    return lines


def record_cmd(
    campaign: CampaignFile,
    outcomes: Annotated[list[Path] | None, typer.Option("--outcomes", metavar="<path>", help="Outcomes file (customer_id, date, "
                                                        "channel, outcome); repeat for several.")] = None,
    lists: Annotated[list[Path] | None, typer.Option("--lists", metavar="<path>", help="Returned RM lists: an outputs folder (its "
                                                     "targets/), a folder of returned .xlsx/.csv lists, or one "
                                                     "list; repeat for several.")] = None,
    ledger: LedgerOpt = None,
    accept_unplanned: Annotated[bool, typer.Option("--accept-unplanned", help="Record touches the campaign "
                                                   "never issued too (marked unplanned; outcome files only).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="All or nothing: when any row is rejected or any list "
                                         "has a problem, record nothing (of any file) and exit 2.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Latest possible date in the files (default: "
                                              "today).")] = None,
) -> None:
    """Record delivered touches and their outcomes in the ledger: outcome files, or the RM lists handed back.

    Outcomes: no_answer, declined, responded, reactivated, complaint, opted_out. Importing the same
    file twice changes nothing. Rows of customers the campaign never planned, and touches it never
    issued, are reported with their row numbers and not recorded; with --strict nothing at all is
    recorded then (exit 2). The files are recorded in one transaction: a file that breaks the data
    contract records nothing of any file. Opt-outs withdraw the channel and complaints suppress the
    customer in every later plan.

    --lists reads the workbooks (targets/<week>/<rm>.xlsx) and CSV lists the RMs filled in (contacted
    on, result, note), as saved by Excel, LibreOffice or WPS, and matches each row to its touch by run,
    RM, customer and step. When both the workbook and the CSV list of an RM's week are there, the
    workbook is read. Every bad cell is reported with file, sheet, row, column and value, and a list
    with a problem records nothing (exit 2; the other files are recorded, unless --strict).

    Example:

        reactivate record --outcomes outcomes-2026-W50.csv --campaign examples/weekly/campaign.toml

        reactivate record --lists returned/2026-W50 --campaign examples/weekly/campaign.toml
    """
    if not outcomes and not lists:
        raise fail("nothing to record: give --outcomes FILE or --lists DIR (or both)")
    day = parse_date(as_of, "--as-of") if as_of else None

    def go():
        from reactivate.jobs.commands import record_files
        from reactivate.loop.record import RecordError, list_lines

        try:
            return record_files(campaign, outcomes or [], lists=lists or [], ledger=ledger, as_of=day,
                                accept_unplanned=accept_unplanned, strict=strict)
        except RecordError as exc:  # what was recorded, then the problems as the error
            _say_results(exc.results, list_lines(exc.results))
            raise

    results = guarded(go)
    from reactivate.loop.record import list_lines

    _say_results(results, list_lines(results))
    if any(r.refused for r in results):
        rejected, good = sum(r.rejected for r in results), sum(r.accepted for r in results)
        held = f", not even the {good:,} good one{'s' if good != 1 else ''}" if good else ""
        raise fail(f"--strict: {rejected:,} row{'s' if rejected != 1 else ''} rejected (see above), so nothing was "
                   f"recorded{held}; fix or remove the rejected rows, or record without --strict")


def _say_results(results, totals: list[str]) -> None:
    for r in results:
        for line in r.lines():
            say(line)
    for line in totals:
        say(line)


def evaluate_cmd(
    campaign: CampaignFile,
    out: Annotated[Path, typer.Option("--out", help="Output directory (replaced whole on success).")],
    ledger: LedgerOpt = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts table (default: [inputs]).")] = None,
    transactions: Annotated[Path | None, typer.Option(help="Transactions table (default: [inputs]).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day the data was extracted (default: the "
                                              "latest transaction).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON on stdout.")] = False,
) -> None:
    """Measure the campaign: reactivation of the contacted against the holdout, with confidence intervals.

    Reactivation is customer-initiated activity within [learning] window_days after the first
    contact (for the holdout: after the week they were held out), from the latest transactions.
    Writes uplift.csv (overall and per segment, channel, wave and theme), uplift_at_k.csv (the
    top-ranked shares), evaluation.json and charts (uplift.png, uplift_at_k.png) into OUT.

    Example:

        reactivate evaluate --campaign examples/weekly/campaign.toml --transactions book/transactions.csv
        --out eval-2026-W52
    """
    day = parse_date(as_of, "--as-of") if as_of else None

    def go():
        from reactivate.jobs.commands import evaluate_to

        return evaluate_to(campaign, out, ledger=ledger, accounts=accounts, transactions=transactions, as_of=day)

    ev = guarded(go)
    for line in ev.lines():
        say(line)
    say(f"  outputs in {out}/ (uplift.csv, uplift_at_k.csv, evaluation.json, uplift.png)")
    if json_out:
        typer.echo(json.dumps(ev.summary, indent=2, sort_keys=True, ensure_ascii=False))


def _logged(fn, log_json: bool):
    """``guarded``, and with --log-json every failure is one JSON error line too (no personal data)."""
    log = logging.getLogger("reactivate.jobs.weekly")

    def logged_fn():
        try:
            return fn()
        except ReactivateError as exc:  # messages name files, keys and counts, never a customer
            if log_json:
                log.error("failed", extra={"fields": {"event": "failed", "exit_code": exc.exit_code,
                                                      "error": type(exc).__name__, "detail": str(exc)}})
            raise

    try:
        return guarded(logged_fn)
    except typer.Exit:
        raise
    except Exception as exc:
        if log_json:
            log.error("unexpected error", extra={"fields": {"event": "failed", "exit_code": 1,
                                                            "error": type(exc).__name__}})
        raise
