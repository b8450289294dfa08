"""Demo commands: a synthetic bank book, and the whole job run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import guarded, parse_date, say

DEMO_AS_OF = "2026-11-30"


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)
    app.command("demo")(demo)


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
        from reactivate.demo.book import generate_book, write_book

        return write_book(generate_book(customers, seed=seed, as_of=day), out, fmt=fmt)

    paths = guarded(go)
    say(f"wrote {customers:,} customers to {out}/: " + ", ".join(Path(p).name for p in paths.values()))


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
    from reactivate.cli.app import plan_cmd

    book = out / "book"
    demo_data(out=book, customers=customers, seed=seed, as_of=DEMO_AS_OF, fmt="csv")
    here = Path(__file__).resolve().parents[2]
    campaign = here / "campaigns" / "default.toml"
    segments = here / "segments" / "default.toml"
    plan_cmd(
        as_of=DEMO_AS_OF,
        out=out / "plan",
        accounts=book / "accounts.csv",
        transactions=book / "transactions.csv",
        contacts=book / "contacts.csv",
        campaign=campaign if campaign.is_file() else None,
        segments=segments if segments.is_file() else None,
        json_out=False,
        verbose=False,
    )
    _truth_check(out)


def _truth_check(out: Path) -> None:
    """Compare the plan's scores with the book's ground truth; print and save it (OUT/truth_check.json)."""
    import json

    import pandas as pd

    from reactivate.demo.truth import check_against_truth

    scores = pd.read_csv(out / "plan" / "scores.csv", usecols=["customer_id", "segment_id", "p_reactivate"])
    truth = pd.read_csv(out / "book" / "truth.csv", usecols=["customer_id", "true_p_reactivate"])
    check = check_against_truth(scores, truth)
    (out / "truth_check.json").write_text(json.dumps(check, indent=2) + "\n")
    say(f"against the demo's ground truth: customer AUC {check['auc']:.3f} (the truth itself: "
        f"{check['oracle_auc']:.3f}), segment ranking Spearman {check['segment_spearman']:.2f} "
        f"-> {out / 'truth_check.json'}")
