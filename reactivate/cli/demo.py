"""``reactivate demo-data`` and ``demo``: a synthetic bank book, and the whole job run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import PLAN_STEPS, REPORT_STEPS, guarded, parse_date, say
from reactivate.cli.progress import bar
from reactivate.cli.summary import print_plan

#: the default of demo-data --as-of (the day reactivate.demo.job.DEMO_AS_OF, which demo uses)
DEMO_AS_OF = "2026-11-30"


def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo files.")] = Path("demo-data"),
    customers: Annotated[int, typer.Option("--customers", help="Number of customers.", min=1)] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 0,
    as_of: Annotated[str, typer.Option("--as-of", help="The book's extraction day.")] = DEMO_AS_OF,
    fmt: Annotated[str, typer.Option("--format", help="csv, csv.gz or parquet.")] = "csv",
) -> None:
    """Write a synthetic bank book: accounts, transactions, contact history and the ground truth.

    The ground truth (persona, true propensity, best channel) goes to truth.<ext>; the generative
    model is described in docs/demo.md.

    Example:

        reactivate demo-data --customers 100000 --seed 7 --out demo-data --format parquet
    """
    day = parse_date(as_of, "--as-of")

    def go():
        from reactivate.demo.job import write_demo_book

        return write_demo_book(out, customers, seed=seed, as_of=day, fmt=fmt)

    paths = guarded(go)
    say(_wrote(customers, out, paths))


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
