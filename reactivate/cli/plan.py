"""``reactivate plan``, ``rank`` and ``validate``: the plan job, its ranking alone, and the input check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import (
    PLAN_STEPS,
    REPORT_STEPS,
    Accounts,
    AsOf,
    Campaign,
    Contacts,
    EngineName,
    Lang,
    NoReport,
    Out,
    Quiet,
    SegmentsModel,
    Spec,
    Transactions,
    check_lang,
    engine_campaign,
    guarded,
    parse_date,
    say,
)
from reactivate.cli.progress import bar
from reactivate.cli.summary import print_json, print_plan, rank_lines


def plan_cmd(
    as_of: AsOf,
    out: Out,
    accounts: Accounts = None,
    transactions: Transactions = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    segments_model: SegmentsModel = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print stage timings.")] = False,
    no_report: NoReport = False,
    lang: Lang = "en",
    quiet: Quiet = False,
    ledger: Annotated[str | None, typer.Option(
        "--ledger", help="Contact ledger (SQLite file or SQLAlchemy URL): plan with its history and record the "
                         "first week's touches and holdout in it.")] = None,
    exact: Annotated[bool, typer.Option(
        "--exact", help="Solve the allocation exactly (min-cost flow) instead of the fast default.")] = False,
    engine: EngineName = None,
) -> None:
    """Find the dormant, profile and rank them, and write a staged contact plan.

    Writes scores.csv, segments.csv, plan.csv (the whole horizon), targets/<week>/<rm>.csv for the
    weeks that are due (targets.list_weeks, default the first; an .xlsx workbook per RM for the first
    targets.excel_weeks of them), suppressed.csv, holdout.csv, unscheduled.csv, capacity.csv, summary.json,
    run.json and (unless --no-report) the HTML report report.html with its charts/*.png into OUT.
    Nothing is written when the input is invalid (exit code 2). --lang sets the language of the report,
    the theme names and openers in the RM lists and workbooks.
    With --ledger, earlier touches and outcomes in the ledger count (caps, gaps, opt-outs, follow-ups,
    learning) and the plan's first week is recorded there under a run id (as `reactivate run` does);
    a ledger locked by another run exits 3.

    Example:

        reactivate plan --as-of 2026-11-30 --accounts book/accounts.csv --transactions book/transactions.csv
        --contacts book/contacts.csv --campaign campaigns/default.toml --out plan-2026-11-30
    """
    day = parse_date(as_of, "--as-of")
    check_lang(lang)
    spec = guarded(lambda: _exact_spec(campaign)) if exact else campaign
    spec = engine_campaign(spec, engine)
    report_lang = None if no_report else lang
    inputs = {"accounts": accounts, "transactions": transactions, "contacts": contacts, "segments": segments,
              "segments_model": segments_model}
    if ledger is not None:
        _plan_recorded(day, out, spec, inputs, ledger=ledger, report_lang=report_lang, json_out=json_out,
                       quiet=quiet)
        return

    def go():
        from reactivate.jobs.commands import plan_to

        with bar("plan", PLAN_STEPS + ([] if no_report else REPORT_STEPS), quiet) as step:
            return plan_to(out, as_of=day, campaign=spec, lang=lang, report_lang=report_lang, progress=step,
                           **inputs)

    run = guarded(go)
    if not quiet:
        print_plan(run, out, json_out, verbose, report=not no_report)
    elif json_out:
        print_json(run.summary)


def _exact_spec(campaign: Path | None):
    """The campaign spec with the exact (min-cost flow) allocation (``plan --exact``)."""
    from reactivate.jobs.commands import exact_campaign

    return exact_campaign(campaign)


def _plan_recorded(day, out: Path, spec, inputs: dict, *, ledger: str, report_lang: str | None, json_out: bool,
                   quiet: bool) -> None:
    """``plan --ledger``: plan with the ledger's history and record the first week in it."""

    def go():
        from reactivate.jobs.weekly import plan_recorded

        return plan_recorded(as_of=day, ledger=ledger, out=out, campaign=spec, report_lang=report_lang, **inputs)

    res = guarded(go)
    if json_out:
        print_json(res.summary)
    elif not quiet:
        p = res.summary.get("plan", {})
        say(f"reactivate plan: {p.get('touches', 0):,} touches planned "
            f"({p.get('by_week', {}).get(res.week_start.isoformat(), 0):,} in {res.week}), holdout "
            f"{p.get('holdout', 0):,}; run {res.run_id} recorded in the ledger; outputs in {out}/")


def rank_cmd(
    as_of: AsOf,
    out: Out,
    accounts: Accounts = None,
    transactions: Transactions = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    segments_model: SegmentsModel = None,
    engine: EngineName = None,
) -> None:
    """Score and rank the dormant customers and their segments, without planning contacts.

    Writes scores.csv (every dormant customer: p_reactivate, expected value, priority, best week and
    why), segments_ranked.csv (segments by expected value, with start week and reasons), summary.json
    and run.json into OUT. The plan command uses the same functions.

    Example:

        reactivate rank --as-of 2026-11-30 --accounts book/accounts.csv --transactions book/transactions.csv
        --contacts book/contacts.csv --out rank-2026-11-30
    """
    day = parse_date(as_of, "--as-of")
    campaign = engine_campaign(campaign, engine)

    def go():
        from reactivate.jobs.commands import rank_to

        return rank_to(out, as_of=day, accounts=accounts, transactions=transactions, contacts=contacts,
                       campaign=campaign, segments=segments, segments_model=segments_model)

    run = guarded(go)
    say("\n".join(rank_lines(run, out)))


def validate_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="The day the book was extracted (YYYY-MM-DD).")],
    accounts: Annotated[Path | None, typer.Option(help="Accounts table.")] = None,
    transactions: Annotated[Path | None, typer.Option(help="Transactions table.")] = None,
    contacts: Annotated[Path | None, typer.Option(help="Contact history.")] = None,
    campaign: Annotated[Path | None, typer.Option(help="Campaign spec (column mapping, formats).")] = None,
) -> None:
    """Check input files against the data contract and report every problem at once.

    Exit code 0 when the data is usable, 2 when it is not.

    Example:

        reactivate validate --as-of 2026-11-30 --accounts book/accounts.csv --transactions book/transactions.csv
    """
    day = parse_date(as_of, "--as-of")

    def go():
        from reactivate.jobs.commands import validate_inputs

        return validate_inputs(as_of=day, accounts=accounts, transactions=transactions, contacts=contacts,
                               campaign=campaign)

    book = guarded(go)
    for name, info in book.inputs.items():
        say(f"{name}: {info['rows']:,} rows OK ({Path(info['path']).name})")
    for note in book.notes:
        say(f"note: {note}")
