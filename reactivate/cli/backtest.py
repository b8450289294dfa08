"""``reactivate backtest``: how good is the ranking on this book? Plan as of past cutoffs, then look."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import (
    Accounts,
    AsOf,
    Campaign,
    Contacts,
    Out,
    Quiet,
    Spec,
    Transactions,
    guarded,
    parse_date,
    say,
)
from reactivate.cli.progress import bar


def backtest_cmd(
    as_of: AsOf,
    out: Out,
    transactions: Transactions = None,
    accounts: Accounts = None,
    contacts: Contacts = None,
    campaign: Campaign = None,
    segments: Spec = None,
    cutoff: Annotated[list[str] | None, typer.Option(
        "--cutoff", help="A past day to plan as of (YYYY-MM-DD; repeat for several). Default: one and two "
                         "campaign horizons before --as-of.")] = None,
    quiet: Quiet = False,
) -> None:
    """How well does reactivate rank who comes back on THIS book? Run it first on a new book.

    For each cutoff the book is cut back to what was known at the end of that day and scored exactly
    as plan would score it; then the transactions within the campaign's horizon after the cutoff
    show who came back. Every score is judged on the same customers: the chosen p_reactivate, each
    propensity source, and the baselines (recency only, frequency/recency, BG/NBD). Figures: AUC,
    top-decile lift, mean predicted vs observed rate, Brier score, expected calibration error.
    Writes backtest.csv, backtest.json (with each cutoff's choice and reliability table),
    backtest_auc.png, backtest_calibration.png and run.json into OUT. Needs a transaction log (the outcome
    is read from it); a cutoff whose horizon has not ended by --as-of is an error (exit code 2).

    Example:

        reactivate backtest --as-of 2026-11-30 --transactions book/transactions.csv
        --campaign campaigns/default.toml --out backtest-2026-11-30
    """
    day = parse_date(as_of, "--as-of")
    cutoffs = [parse_date(c, "--cutoff") for c in cutoff or []]

    def go():
        from reactivate.jobs.backtest import backtest_to

        steps = ["load", *(c.isoformat() for c in cutoffs)] if cutoffs else ["load"]
        with bar("backtest", steps, quiet) as step:
            return backtest_to(out, as_of=day, cutoffs=cutoffs or None, accounts=accounts,
                               transactions=transactions, contacts=contacts, campaign=campaign, segments=segments,
                               progress=step)

    bt = guarded(go)
    if not quiet:
        say("\n".join(backtest_lines(bt, out)))


def backtest_lines(bt, out: Path) -> list[str]:
    """What ``reactivate backtest`` prints: per cutoff, every score's figures side by side."""
    lines = [f"reactivate backtest: {len(bt.cutoffs)} cutoff(s), outcome = any transaction within "
             f"{bt.horizon_days} days after each"]
    head = f"    {'score':<24}{'AUC':>7}{'lift@10%':>10}{'mean p':>9}{'observed':>10}{'Brier':>9}{'ECE':>8}"
    for c in bt.cutoffs:
        s = c.scoring
        lines.append(f"  cutoff {c.cutoff.isoformat()}: {c.targets:,} dormant, {c.returns:,} came back"
                     + (f" ({c.returns / c.targets:.1%})" if c.targets else ""))
        if s:
            held = s.get("held_out")
            lines.append(f"    chosen: {s.get('note', s.get('source'))}"
                         + (f"; validated on {held['rows']:,} held-out {held['kind']} rows from {held['from']}"
                            if held else "; not validated (no held-out slice)"))
        if c.rows:
            lines.append(head)
        for r in c.rows:  # a dozen scores at most
            lines.append(f"    {r['score']:<24}{_f(r['auc'], '7.3f')}{_f(r['top_decile_lift'], '10.2f')}"
                         f"{_f(r['mean_predicted'], '9.3f')}{_f(r['observed'], '10.3f')}{_f(r['brier'], '9.4f')}"
                         f"{_f(r['ece'], '8.3f')}")
        lines.extend(f"    note: {n}" for n in c.notes if n not in bt.notes)
    lines.extend(f"  note: {n}" for n in bt.notes)
    lines.append(f"  outputs in {out}/ (backtest.csv, backtest.json, backtest_auc.png, backtest_calibration.png, "
                 "run.json)")
    return lines


def _f(v, spec: str) -> str:
    width = int(spec.split(".")[0])
    return "-".rjust(width) if v is None else format(v, spec)
