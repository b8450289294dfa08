"""``reactivate report``: the HTML report of a plan's outputs, in English or Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import guarded, say
from reactivate.cli.progress import bar

# the options plan and report share, declared once
Lang = Annotated[str, typer.Option("--lang", help="Language of the report and its charts: en or zh.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary lines (errors only).")]
NoReport = Annotated[bool, typer.Option("--no-report", help="Do not write report.html and charts/.")]

# the steps of reactivate.outputs.report.render_report, for the progress bar
REPORT_STEPS = ["read outputs", *(f"chart {c}" for c in ("dormancy", "suppressed", "funnel", "ranking", "calendar",
                                                          "capacity_channels", "capacity_rms", "capacity_rm_load")),
                "write html"]
PLAN_STEPS = ["load", "dormancy", "features", "segment", "score", "plan", "write"]


def check_lang(lang: str) -> None:
    """Fail fast, before a long run, on an unknown language or a zh report without a Chinese font."""

    def go():
        from reactivate.outputs.i18n import check_lang as check

        check(lang)
        if lang == "zh":
            from reactivate.outputs.report import check_fonts

            check_fonts(lang)

    guarded(go)


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)


def report_cmd(
    run: Annotated[Path, typer.Option("--run", help="A directory written by reactivate plan.")],
    lang: Lang = "en",
    out: Annotated[Path | None, typer.Option(
        "--out", help="The HTML file to write (default RUN/report.html); charts go to charts/ beside it.")] = None,
    quiet: Quiet = False,
    uplift: Annotated[Path | None, typer.Option(
        "--uplift", help="An uplift.csv to show (e.g. written by reactivate evaluate); default RUN/uplift.csv "
        "when it exists.")] = None,
) -> None:
    """Build the report of a plan: one self-contained HTML file (charts embedded, opens offline).

    Shows the book by dormancy stage, who is suppressed and why, the funnel, a profile card per segment,
    the ranking with reasons, the wave calendar, capacity use per channel and per RM, data-quality notes
    and, once outcomes are recorded (RUN/uplift.csv or --uplift), uplift with intervals. Every chart is also saved as
    PNG in charts/. Exit code 2 when RUN is not the output of reactivate plan.

    Example:

        reactivate report --run plan-2026-11-30 --lang zh --out plan-2026-11-30/report-zh.html
    """
    check_lang(lang)

    def go():
        from reactivate.outputs.report import build_report

        with bar("report", REPORT_STEPS, quiet) as step:
            return build_report(run, lang=lang, out=out, progress=step, uplift=uplift)

    path = guarded(go)
    if not quiet:
        say(f"report written to {path} (charts in {path.parent / 'charts'}/)")
