"""The demo job: a synthetic book, the plan on it (as ``reactivate plan`` makes it) and the truth check.

``reactivate demo`` and ``reactivate demo-data`` (and its ``--respond``: a simulated week of the bank)
call these functions; the plan uses the specs shipped in the package (:mod:`reactivate.config.shipped`),
so an installed ``reactivate`` runs the same demo as the repository: the demo campaign
``campaigns/demo.toml`` with its capacities scaled to the book (:mod:`reactivate.demo.campaign`),
written to OUT/campaign.toml, and ``segments/default.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reactivate.config.shipped import segments_file
from reactivate.demo.book import generate_book, write_book
from reactivate.demo.campaign import DEMO_CUSTOMERS, demo_campaign, write_campaign
from reactivate.demo.respond import Responses, advance_book, read_truth, respond
from reactivate.demo.truth import check_against_truth
from reactivate.errors import OutputError
from reactivate.jobs.pipeline import PlanRun, run_plan
from reactivate.outputs.files import check_out
from reactivate.outputs.writer import write_run

#: the demo book's extraction day
DEMO_AS_OF = dt.date(2026, 11, 30)


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` wrote: the book's files, the plan run and the truth check."""

    #: table name (accounts, transactions, contacts, truth) to its file in OUT/book/
    book: dict[str, Path]
    #: the plan, as written into OUT/plan/
    run: PlanRun
    #: customer AUC, the truth's own AUC and the segment ranking's Spearman (OUT/truth_check.json)
    check: dict
    plan_dir: Path
    check_path: Path
    #: the campaign the plan used (OUT/campaign.toml)
    campaign_path: Path | None = None


def write_demo_book(out: str | Path, customers: int, seed: int = 0, as_of: dt.date = DEMO_AS_OF,
                    fmt: str = "csv") -> dict[str, Path]:
    """Generate a demo book and write it into ``out``; returns table name to path (``reactivate demo-data``).

    Raises
    ------
    ConfigError, OutputError
    """
    return write_book(generate_book(customers, seed=seed, as_of=as_of), out, fmt=fmt)


def respond_week(run_dir: str | Path, truth: str | Path | None = None, seed: int = 0,
                 book: str | Path | None = None) -> tuple[Responses, int | None]:
    """The bank's part of a demo week (``reactivate demo-data --respond``): the run's RM lists filled in from
    the truth (:func:`~reactivate.demo.respond.respond`) and, with ``book``, the week's comebacks added to
    that book (:func:`~reactivate.demo.respond.advance_book`; None without ``book``).

    Raises
    ------
    InputDataError, OutputError
    """
    res = respond(run_dir, truth=truth, seed=seed)
    added = None if book is None else advance_book(book, read_truth(res.truth), res.week_start, res.touches,
                                                   seed=seed)
    return res, added


def run_demo(out: str | Path, customers: int = 20_000, seed: int = 0, progress=None) -> DemoResult:
    """The whole job on a demo book (``reactivate demo``): the book into OUT/book/, the plan into OUT/plan/.

    The plan is what ``reactivate plan`` writes with the demo campaign (``campaigns/demo.toml`` with its
    capacities scaled to ``customers``, written to OUT/campaign.toml) and the shipped segmentation spec
    (English RM lists and report); its scores are then checked against the book's ground truth
    (OUT/truth_check.json). ``progress``, when given, is called with ``"book"`` once the book is written,
    then with each step of the plan and its report.

    Raises
    ------
    ConfigError, InputDataError, OutputError
    """
    out = Path(out)
    check_out(out / "plan", option="--out", subject=f"the demo's plan folder {out / 'plan'}")  # before the book
    book = write_demo_book(out / "book", customers, seed=seed, as_of=DEMO_AS_OF, fmt="csv")
    if progress is not None:
        progress("book")
    campaign = write_campaign(demo_campaign(customers), out / "campaign.toml", header=(
        f"The demo campaign for a book of {customers:,} customers: campaigns/demo.toml with every channel's\n"
        f"weekly_capacity and rm.pool_calls_per_week scaled by {customers:,} / {DEMO_CUSTOMERS:,} "
        "(written by reactivate demo)."))
    run = run_plan(as_of=DEMO_AS_OF, accounts=book["accounts"], transactions=book["transactions"],
                   contacts=book["contacts"], campaign=campaign, segments=segments_file(), progress=progress)
    plan_dir = out / "plan"
    run = write_run(run, plan_dir, lang="en", report_lang="en", progress=progress)
    check = truth_check(plan_dir / "scores.csv", book["truth"])
    check_path = out / "truth_check.json"
    try:
        check_path.write_text(json.dumps(check, indent=2) + "\n")
    except OSError as exc:
        raise OutputError(f"{check_path}: cannot write ({exc.strerror})") from None
    return DemoResult(book=book, run=run, check=check, plan_dir=plan_dir, check_path=check_path,
                      campaign_path=campaign)


def truth_check(scores_csv: Path, truth_csv: Path) -> dict:
    """The plan's written scores against the book's ground truth (:func:`~reactivate.demo.truth.check_against_truth`)."""
    scores = pd.read_csv(scores_csv, usecols=["customer_id", "segment_id", "p_reactivate"])
    truth = pd.read_csv(truth_csv, usecols=["customer_id", "true_p_reactivate"])
    return check_against_truth(scores, truth)
