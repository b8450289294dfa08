"""Use reactivate as a library: make a demo book, plan, and read the results.

    python examples/library_quickstart.py [OUT_DIR]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from reactivate.demo.book import generate_book, write_book
from reactivate.jobs.pipeline import run_plan
from reactivate.outputs.writer import write_run

AS_OF = dt.date(2026, 11, 30)


def main(out: Path) -> None:
    book_dir = out / "book"
    write_book(generate_book(5000, seed=1, as_of=AS_OF), book_dir, fmt="parquet")
    run = run_plan(
        as_of=AS_OF,
        accounts=book_dir / "accounts.parquet",
        transactions=book_dir / "transactions.parquet",
        contacts=book_dir / "contacts.parquet",
    )
    write_run(run, out / "plan")

    print(f"{len(run.scores):,} dormant customers in {len(run.segments)} segments:")
    for seg in run.segments.itertuples():
        print(f"  #{seg.rank} {seg.segment_id:9} {seg.segment_name:50} {seg.size:5d} customers, "
              f"expected {seg.expected_reactivations:6.1f} back; start {seg.start_week}")
        print(f"      shortfalls: {seg.shortfalls}")
    plan = run.result.plan
    print(f"{len(plan):,} touches; first week by channel:")
    first = plan[plan["week_start"] == plan["week_start"].min()]
    print(first.groupby("channel").size().to_string())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="reactivate-")))
