"""The loop on the demo book: weeks of plan, the bank's week, record, learn -- against the truth.

Every simulated week runs what a bank runs, through the same library functions as the commands:

1. ``reactivate run --week W`` (:func:`reactivate.jobs.weekly.run_week`) plans the week on the
   book as it stands, with the ledger's history and what it has learned;
2. ``reactivate demo-data --respond RUN_DIR --book BOOK`` (:func:`reactivate.demo.job.respond_week`)
   plays the bank: the week's RM workbooks and lists are filled in from the demo truth, and the
   week's comebacks (by a touch, or on their own) are added to the book's transactions;
3. ``reactivate record --lists RUN_DIR`` (:func:`reactivate.jobs.commands.record_files`) records
   the returned lists in the ledger, where the next week learns from them.

After the last planned week the book goes on for the weeks it takes the last cohort's evaluation
window (``[learning] window_days``) to close, with comebacks on their own only. Once the window of
the customers first contacted (or held out) in week ``w`` is over, ``reactivate evaluate --as-of``
(:func:`reactivate.jobs.commands.evaluate_to`) measures the uplift of weeks 1..w against the holdout.

The table, one row per planned week:

* touches -- on the week's lists; on best channel -- the share on the customer's true best channel
  (the truth's ``best_channel``: the reachable channel that fits the persona best; consent and
  capacity may rule it out); came back -- results "came back";
* uplift -- ``evaluate``'s overall uplift with its 95% interval, contacted in weeks 1..w against
  the holdout, once their windows are over;
* true uplift -- the mean over the same contacted customers of P(back within the window | touched on
  their channel) − P(back | not touched) (:func:`reactivate.demo.respond.true_uplift`); covered --
  whether the interval holds it.

Usage::

    python benchmarks/loop_simulation.py --customers 20000 --weeks 6 --seed 0 --out loop-sim

writes the book, campaign, ledger, runs and evaluations into OUT and the table to OUT/loop.csv, and
prints it. The same arguments give the same table. ``--learning off`` runs the same weeks with the
learning reported but not used: the control for what learning does.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import sys
import time
from pathlib import Path

import pandas as pd

from reactivate.demo.book import generate_book, write_book
from reactivate.demo.campaign import demo_campaign, write_campaign
from reactivate.demo.job import DEMO_AS_OF, respond_week
from reactivate.demo.respond import advance_book, read_truth, true_uplift
from reactivate.jobs.commands import evaluate_to, record_files
from reactivate.jobs.weekly import run_week, week_of

COLUMNS = ["week", "touches", "on_best_channel", "came_back", "n_contacted", "n_holdout", "uplift", "ci_low",
           "ci_high", "true_uplift", "covered"]


def setup(out: Path, customers: int, seed: int, learning: str | None = None) -> tuple[Path, pd.DataFrame]:
    """The demo book in OUT/book and its campaign in OUT/campaign.toml (ledger, runs under OUT); ``learning``
    replaces the campaign's ``[learning] method`` (thompson, ucb, off)."""
    out.mkdir(parents=True, exist_ok=True)
    write_book(generate_book(customers, seed=seed, as_of=DEMO_AS_OF), out / "book", fmt="csv")
    spec = demo_campaign(customers)
    spec = dataclasses.replace(
        spec,
        inputs=dataclasses.replace(spec.inputs, accounts="book/accounts.csv", transactions="book/transactions.csv",
                                   contacts="book/contacts.csv", out="runs"),
        ledger=dataclasses.replace(spec.ledger, url="ledger.sqlite"),
        learning=dataclasses.replace(spec.learning, method=learning or spec.learning.method))
    campaign = write_campaign(spec, out / "campaign.toml", header=(
        f"The demo campaign for {customers:,} customers, run week after week by benchmarks/loop_simulation.py."))
    return campaign, read_truth(out / "book" / "truth.csv")


def plan_and_respond(campaign: Path, out: Path, start: dt.date, seed: int, truth: pd.DataFrame) -> pd.DataFrame:
    """One planned week: run, the bank's week (lists filled, comebacks into the book), record the lists.

    Returns the week's touches with their outcome, the truth's best channel and each one's true uplift."""
    week = run_week(campaign, week_of(start), report_lang=None)
    res, _ = respond_week(week.out, truth=out / "book" / "truth.csv", seed=seed, book=out / "book")
    record_files(campaign, [], lists=[week.out], as_of=start + dt.timedelta(days=6))
    t = res.touches
    return t.assign(best=truth["best_channel"].reindex(t["customer_id"]).to_numpy())


def evaluation_row(campaign: Path, out: Path, w: int, as_of: dt.date, contacted: pd.DataFrame,
                   window: int, truth: pd.DataFrame) -> dict:
    """evaluate as of ``as_of`` (week ``w``'s window just over) against the true uplift of weeks 1..w."""
    ev = evaluate_to(campaign, out / "evaluate" / f"week-{w}", as_of=as_of)
    o = ev.summary["overall"]
    first = contacted[contacted["week"] <= w].drop_duplicates("customer_id")
    truth_uplift = float(true_uplift(truth, first["customer_id"], first["channel"], window).mean())
    return {"n_contacted": o["n_treated"], "n_holdout": o["n_control"], "uplift": o["uplift"],
            "ci_low": o["ci_low"], "ci_high": o["ci_high"], "true_uplift": truth_uplift,
            "covered": bool(o["ci_low"] <= truth_uplift <= o["ci_high"])}


def simulate(customers: int, weeks: int, seed: int, out: str | Path, log=None, learning: str | None = None
             ) -> pd.DataFrame:
    """Run the loop for ``weeks`` weeks on a demo book of ``customers``; returns the table (:data:`COLUMNS`)."""
    out = Path(out).resolve()
    campaign, truth = setup(out, customers, seed, learning)
    window = demo_campaign(customers).learning.window_days
    lag = max(0, math.ceil((window - 7) / 7))  # weeks until a week's window is over at the end of a week
    rows: dict[int, dict] = {}
    touched = []
    for k in range(1, weeks + lag + 1):  # the planned weeks, then the weeks their windows need
        t0 = time.perf_counter()
        start = DEMO_AS_OF + dt.timedelta(days=7 * (k - 1))
        if k <= weeks:
            t = plan_and_respond(campaign, out, start, seed, truth).assign(week=k)
            touched.append(t)
            rows[k] = {"week": k, "touches": len(t), "on_best_channel": float((t["channel"] == t["best"]).mean()),
                       "came_back": int((t["outcome"] == "reactivated").sum())}
        else:
            advance_book(out / "book", truth, start, None, seed=seed)  # no plan: comebacks on their own only
        w = k - lag
        if 1 <= w <= weeks:
            rows[w].update(evaluation_row(campaign, out, w, start + dt.timedelta(days=6), pd.concat(touched),
                                          window, truth))
        if log is not None:
            log(f"week {k} ({start.isoformat()}) done in {time.perf_counter() - t0:.0f} s")
    table = pd.DataFrame([rows[w] for w in sorted(rows)], columns=COLUMNS)
    table.to_csv(out / "loop.csv", index=False)
    return table


def markdown(table: pd.DataFrame) -> str:
    """The table as the ledger's docs show it."""
    lines = ["| week | touches | on best channel | came back | uplift, weeks 1..w [95% CI] | true uplift | covered |",
             "|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):  # one per week
        lines.append(f"| {r.week} | {r.touches:,} | {r.on_best_channel:.1%} | {r.came_back:,} | "
                     f"{r.uplift * 100:+.2f} pp [{r.ci_low * 100:+.2f}, {r.ci_high * 100:+.2f}] | "
                     f"{r.true_uplift * 100:+.2f} pp | {'yes' if r.covered else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--weeks", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("loop-sim"))
    ap.add_argument("--learning", choices=["thompson", "ucb", "off"], default=None,
                    help="the campaign's [learning] method (default: the demo campaign's, thompson)")
    args = ap.parse_args(argv)
    table = simulate(args.customers, args.weeks, args.seed, args.out,
                     log=lambda text: print(text, file=sys.stderr, flush=True), learning=args.learning)
    print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
