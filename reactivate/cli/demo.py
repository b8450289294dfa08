"""``reactivate demo-data`` and ``demo``: a synthetic bank book (and a simulated week of the bank on it),
and the whole job run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import PLAN_STEPS, REPORT_STEPS, fail, guarded, parse_date, say
from reactivate.cli.progress import bar
from reactivate.cli.summary import print_plan

#: the default of demo-data --as-of (the day reactivate.demo.job.DEMO_AS_OF, which demo uses)
DEMO_AS_OF = "2026-11-30"


def demo_data(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo files.")] = Path("demo-data"),
    customers: Annotated[int, typer.Option("--customers", help="Number of customers.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 0,
    as_of: Annotated[str, typer.Option("--as-of", help="The book's extraction day.")] = DEMO_AS_OF,
    fmt: Annotated[str, typer.Option("--format", help="csv, csv.gz or parquet.")] = "csv",
    respond: Annotated[Path | None, typer.Option(
        "--respond", help="Instead of writing a book: fill in the RM lists of this run's week "
        "(RUN_DIR/targets/<week>/) from the demo truth, as the bank hands them back.")] = None,
    truth: Annotated[Path | None, typer.Option(
        "--truth", help="With --respond: the demo book's truth file (default: beside the book the run read).")] = None,
    book: Annotated[Path | None, typer.Option(
        "--book", help="With --respond: add the week's comebacks to this demo book's transactions and "
        "accounts, for the next run and evaluate.")] = None,
) -> None:
    """Write a synthetic bank book: accounts, transactions, contact history and the ground truth.

    The ground truth (persona, true propensity, best channel) goes to truth.<ext>; the generative
    model is described in docs/demo.md. With --respond RUN_DIR it plays the bank's week instead: the
    run's RM workbooks and lists get contacted_on, result and note, drawn from the truth (--seed),
    ready for reactivate record --lists; with --book DIR the week's comebacks go into that book.

    Example:

        reactivate demo-data --customers 100000 --seed 7 --out demo-data --format parquet

        reactivate demo-data --respond runs/wake-2026q4/2026-W49 --seed 1
    """
    if respond is None:
        for name, option in (("truth", "--truth"), ("book", "--book")):
            if ctx.params.get(name) is not None:
                raise fail(f"{option} goes with --respond RUN_DIR")
        day = parse_date(as_of, "--as-of")

        def go():
            from reactivate.demo.job import write_demo_book

            return write_demo_book(out, customers, seed=seed, as_of=day, fmt=fmt)

        paths = guarded(go)
        say(_wrote(customers, out, paths))
        return
    for name, option in (("out", "--out"), ("customers", "--customers"), ("as_of", "--as-of"), ("fmt", "--format")):
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":  # click's ParameterSource (typer may vendor it)
            raise fail(f"{option} writes a new book: leave it out with --respond (which fills in a run's lists)")

    def respond_go():
        from reactivate.demo.job import respond_week

        return respond_week(respond, truth=truth, seed=seed, book=book)

    res, added = guarded(respond_go)
    for line in _responded(res, added, book):
        say(line)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("demo-output"),
    customers: Annotated[int, typer.Option("--customers", help="Number of customers.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Run the whole job on a built-in demo book: demo-data, then plan, into OUT.

    The book goes to OUT/book/, the plan's outputs to OUT/plan/.

    Example:

        reactivate demo --customers 50000 --out demo-output
    """

    def go():
        from reactivate.demo.job import run_demo

        with bar("demo", ["book", *PLAN_STEPS, *REPORT_STEPS]) as step:
            return run_demo(out, customers=customers, seed=seed, progress=step)

    res = guarded(go)
    say(_wrote(customers, out / "book", res.book))
    print_plan(res.run, res.plan_dir, report=True)
    check = res.check
    say(f"against the demo's ground truth: customer AUC {check['auc']:.3f} (the truth itself: "
        f"{check['oracle_auc']:.3f}), segment ranking Spearman {check['segment_spearman']:.2f} "
        f"-> {res.check_path}")


def _wrote(customers: int, out: Path, paths: dict) -> str:
    return f"wrote {customers:,} customers to {out}/: " + ", ".join(Path(p).name for p in paths.values())


def _responded(res, added: int | None, book: Path | None) -> list[str]:
    counts = res.counts()
    folder = Path(res.files[0]).parent if res.files else None
    lines = [f"filled {len(res.files):,} RM lists in {folder}/: {len(res.touches):,} touches: "
             + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items())
             + f" (truth {res.truth})"]
    if added is not None:
        lines.append(f"added {added:,} comebacks to the book in {book}/ (the touches' and those on their own)")
    return lines
