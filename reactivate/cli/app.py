"""``reactivate``: plan the reactivation of a bank's dormant customers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reactivate import __version__
from reactivate.cli.common import (
    Accounts,
    AsOf,
    Campaign,
    Contacts,
    Out,
    SegmentsModel,
    Spec,
    Transactions,
    guarded,
    parse_date,
    say,
)
from reactivate.cli.progress import bar
from reactivate.cli.report import PLAN_STEPS, REPORT_STEPS, Lang, NoReport, Quiet, check_lang

app = typer.Typer(
    name="reactivate",
    help=(
        "Plan the reactivation of a bank's dormant customers: find who is dormant, profile them, rank "
        "who to wake and when, and build a staged, capacity-aware contact plan.\n\n"
        "Try it:  reactivate demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reactivate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass


@app.command("plan")
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
) -> None:
    """Find the dormant, profile and rank them, and write a staged contact plan.

    Writes scores.csv, segments.csv, plan.csv, targets/<week>/<rm>.csv (and an .xlsx workbook per RM
    for the first weeks), suppressed.csv, holdout.csv, unscheduled.csv, capacity.csv, summary.json,
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
    spec = campaign
    if exact:
        import dataclasses

        from reactivate.config.campaign import load_campaign

        spec = guarded(lambda: load_campaign(campaign))
        spec = dataclasses.replace(spec, optimizer=dataclasses.replace(spec.optimizer, method="exact"))

    if ledger is not None:
        from reactivate.jobs.weekly import plan_recorded

        res = guarded(lambda: plan_recorded(
            as_of=day, ledger=ledger, out=out, campaign=spec, accounts=accounts, transactions=transactions,
            contacts=contacts, segments=segments, segments_model=segments_model,
            report_lang=None if no_report else lang))
        if json_out:
            typer.echo(json.dumps(res.summary, indent=2, sort_keys=True, ensure_ascii=False))
        elif not quiet:
            p = res.summary.get("plan", {})
            say(f"reactivate plan: {p.get('touches', 0):,} touches planned "
                f"({p.get('by_week', {}).get(res.week_start.isoformat(), 0):,} in {res.week}), holdout "
                f"{p.get('holdout', 0):,}; run {res.run_id} recorded in the ledger; outputs in {out}/")
        return

    def go():
        from reactivate.jobs.pipeline import run_plan
        from reactivate.outputs.writer import write_run

        steps = PLAN_STEPS + ([] if no_report else REPORT_STEPS)
        with bar("plan", steps, quiet) as step:
            run = run_plan(as_of=day, accounts=accounts, transactions=transactions, contacts=contacts,
                           campaign=spec, segments=segments, segments_model=segments_model, progress=step)
            write_run(run, out, lang=lang, report_lang=None if no_report else lang, progress=step)
        return run

    run = guarded(go)
    if not quiet:
        _report(run, out, json_out, verbose, report=not no_report)
    elif json_out:
        typer.echo(json.dumps(run.summary, indent=2, sort_keys=True, ensure_ascii=False))


def _scoring_text(info: dict) -> str:
    """The propensity source and how it did on the held-out slice, in one line."""
    text = info["note"]
    held = info.get("held_out")
    if held and info.get("auc") is not None:
        lift = info.get("top_decile_lift")
        text += (f" (AUC {info['auc']:.3f}" + (f", top-decile lift {lift:.1f}" if lift else "")
                 + f" on {held['rows']:,} held-out {'contacts' if held['kind'] == 'contacts' else 'customers'}"
                 f" from {held['from']})")
    return text


def _report(run, out: Path, json_out: bool, verbose: bool, report: bool = False) -> None:
    s = run.summary
    p = s["plan"]
    lines = [
        (f"reactivate {__version__}: {s['customers']:,} customers on {run.as_of.isoformat()}, "
        f"{s['targets']:,} targeted ({', '.join(f'{k} {v:,}' for k, v in s['by_stage'].items())})"),
        f"  {len(s['segments'])} segments; scoring: {_scoring_text(s['scoring'])}",
        (f"  plan: {p['touches']:,} touches over {len(run.result.stats['weeks'])} weeks "
        f"(pilot {p['pilot']:,}); holdout {p['holdout']:,}; suppressed {p['suppressed']:,}; "
        f"unscheduled {p['unscheduled']:,}"),
        "  by channel: " + ", ".join(f"{k} {v:,}" for k, v in p["by_channel"].items()),
    ]
    opt = p.get("optimizer")
    if opt:
        gap = f", within {opt['gap']:.2%} of the bound" if opt.get("gap") is not None else ""
        lines.append(f"  optimizer: {opt['method']}{gap}")
    for warning in p.get("warnings", []):
        lines.append(f"  warning: {warning}")
    if "segments_drift" in s:
        lines.append(f"  segment drift: {s['segments_drift']['reason']}")
    for note in s["notes"]:
        lines.append(f"  note: {note}")
    if verbose:
        lines.append("  stage timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items()))
    lines.append(f"  outputs in {out}/ (scores.csv, segments.csv, plan.csv, targets/, summary.json"
                 + (", report.html)" if report else ")"))
    say("\n".join(lines))
    if json_out:
        typer.echo(json.dumps(s, indent=2, sort_keys=True, ensure_ascii=False))


@app.command("rank")
def rank_cmd(
    as_of: AsOf,
    out: Out,
    accounts: Accounts = None,
    transactions: Transactions = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    segments_model: SegmentsModel = None,
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

    def go():
        from reactivate.jobs.pipeline import run_plan
        from reactivate.outputs.writer import write_ranking

        run = run_plan(as_of=day, accounts=accounts, transactions=transactions, contacts=contacts,
                       campaign=campaign, segments=segments, segments_model=segments_model, plan=False)
        write_ranking(run, out)
        return run

    run = guarded(go)
    s = run.summary
    lines = [f"reactivate {__version__}: {s['targets']:,} dormant customers ranked in {len(s['segments'])} segments",
             f"  scoring: {_scoring_text(s['scoring'])}"]
    for r in run.segments.sort_values("rank", kind="stable").itertuples():
        lines.append(f"  #{r.rank} {r.segment_id} {r.segment_name}: {r.rank_reason}; start {r.start_week}")
    lines.append(f"  outputs in {out}/ (scores.csv, segments_ranked.csv, summary.json)")
    say("\n".join(lines))


@app.command("validate")
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
        from reactivate.config.campaign import load_campaign
        from reactivate.data.load import load_book

        spec = load_campaign(campaign)
        return load_book(accounts=accounts, transactions=transactions, contacts=contacts, spec=spec, as_of=day)

    book = guarded(go)
    for name, info in book.inputs.items():
        say(f"{name}: {info['rows']:,} rows OK ({Path(info['path']).name})")
    for note in book.notes:
        say(f"note: {note}")


from reactivate.cli import demo as _demo  # noqa: E402  (registers the demo commands)

_demo.register(app)

from reactivate.cli import segments as _segments  # noqa: E402

app.add_typer(_segments.app, name="segments")

from reactivate.cli import loop as _loop  # noqa: E402  (record, evaluate, run)

_loop.register(app)
from reactivate.cli import report as _report_cli  # noqa: E402  (registers reactivate report)

_report_cli.register(app)


def main() -> None:
    app()
