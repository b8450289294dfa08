"""Shared CLI plumbing: the options commands share, and library errors turned into one line and an exit code."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from reactivate.errors import ReactivateError

T = TypeVar("T")

# the options the commands share, declared once
AsOf = Annotated[str, typer.Option("--as-of", help="The day the book was extracted (YYYY-MM-DD).")]
Out = Annotated[Path, typer.Option("--out", help="Output directory (replaced whole on success).")]
Accounts = Annotated[Path | None, typer.Option(help="Accounts table (.csv, .csv.gz, .parquet; on the Spark engine "
                                                    "also a folder of Parquet, a URI or table:db.name).")]
Transactions = Annotated[Path | None, typer.Option(help="Transactions table (optional; as --accounts).")]
Contacts = Annotated[Path | None, typer.Option(help="Contact history (optional; as --accounts).")]
Campaign = Annotated[Path | None, typer.Option(help="Campaign spec (TOML); defaults built in.")]
Spec = Annotated[Path | None, typer.Option("--segments", help="Segmentation spec (TOML); defaults built in.")]
SegmentsModel = Annotated[
    Path | None,
    typer.Option("--segments-model", help="A model saved by reactivate segments fit: keeps segment ids "
                 "and names from run to run and reports drift (instead of --segments)."),
]
EngineName = Annotated[
    str | None,
    typer.Option("--engine", help="What aggregates the transaction log: duckdb (this machine) or spark (a Spark "
                 "cluster or local mode; needs pip install 'reactivate[spark]'). Default: the campaign's "
                 "[engine] name."),
]
# the options of the commands that write a report (plan, report, run, demo)
Lang = Annotated[str, typer.Option("--lang", help="Language of the report and its charts: en or zh.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary lines (errors only).")]
NoReport = Annotated[bool, typer.Option("--no-report", help="Do not write report.html and charts/.")]

# the steps of reactivate.jobs.pipeline.run_plan and reactivate.outputs.report.render_report, for progress bars
PLAN_STEPS = ["load", "dormancy", "features", "segment", "score", "plan", "write"]
REPORT_STEPS = ["read outputs", *(f"chart {c}" for c in ("dormancy", "suppressed", "funnel", "ranking", "calendar",
                                                          "capacity_channels", "capacity_rms", "capacity_rm_load")),
                "write html"]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; a ReactivateError becomes ``Error: ...`` on stderr and its exit code."""
    try:
        return fn()
    except ReactivateError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted; nothing was written.", err=True)
        raise typer.Exit(130) from None


def parse_date(value: str, option: str) -> dt.date:
    """The date an option gives; not a date, or one outside the dates reactivate handles, is an error (exit 2)."""
    from reactivate.config.campaign import FIRST_DATE, LAST_DATE

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}={value!r} is not a date like 2026-11-30") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise fail(f"{option}={value!r} is outside the dates reactivate handles "
                   f"({FIRST_DATE.isoformat()}..{LAST_DATE.isoformat()})")
    return day


def say(text: str) -> None:
    sys.stderr.write(text + "\n")


def check_lang(lang: str) -> None:
    """Fail fast, before a long run, on an unknown language or a zh report without a Chinese font."""

    def go():
        from reactivate.outputs.i18n import check_lang as check

        check(lang)
        if lang == "zh":
            from reactivate.outputs.report import check_fonts

            check_fonts(lang)

    guarded(go)


def check_engine(engine: str | None) -> None:
    """``--engine``: a known engine; ``spark`` only with pyspark installed (else one line, exit 2)."""
    if engine is None:
        return
    from reactivate.config.campaign import ENGINES

    if engine not in ENGINES:
        raise fail(f"--engine={engine!r} should be one of {', '.join(ENGINES)}")
    if engine == "spark":
        from reactivate.data.spark_engine import SPARK_MISSING, spark_available

        if not spark_available():
            raise fail(SPARK_MISSING)


def engine_campaign(campaign, engine: str | None):
    """The campaign (a spec file, None or a spec) with ``--engine`` applied: a spec whose ``[engine] name`` is
    ``engine``; ``campaign`` itself without ``--engine``. ``--engine spark`` without pyspark fails (exit 2)."""
    if engine is None:
        return campaign
    check_engine(engine)

    def go():
        import dataclasses

        from reactivate.config.campaign import CampaignSpec, load_campaign

        spec = campaign if isinstance(campaign, CampaignSpec) else load_campaign(campaign)
        return dataclasses.replace(spec, engine=dataclasses.replace(spec.engine, name=engine))

    return guarded(go)
