"""The HTML report of a run: ``build_report(run_dir, lang="en")``.

Reads a run directory's outputs (:mod:`reactivate.report.data`), draws the
charts (:mod:`reactivate.charts`) and writes one self-contained HTML file
(:mod:`reactivate.report.render`).
"""

from reactivate.report.data import RunOutputs, load_run_outputs
from reactivate.report.render import build_report, check_fonts, render_report

__all__ = ["RunOutputs", "build_report", "check_fonts", "load_run_outputs", "render_report"]
