"""The HTML report of a run: ``build_report(run_dir, lang="en")``.

Reads a run directory's outputs (:mod:`reactivate.outputs.report.data`), draws the
charts (:mod:`reactivate.outputs.charts`) and writes one self-contained HTML file
(:mod:`reactivate.outputs.report.render`).
"""

from reactivate.outputs.report.data import RunOutputs, load_run_outputs
from reactivate.outputs.report.render import build_report, check_fonts, render_report, stage_report

__all__ = ["RunOutputs", "build_report", "check_fonts", "load_run_outputs", "render_report", "stage_report"]
