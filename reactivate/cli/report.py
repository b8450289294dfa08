"""``reactivate report``: the HTML report of a plan's outputs, in English or Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactivate.cli.common import REPORT_STEPS, Lang, Quiet, check_lang, guarded, say
from reactivate.cli.progress import bar


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
