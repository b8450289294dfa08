"""What ``plan``, ``rank`` and ``demo`` print about a run: its summary in a few lines."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reactivate import __version__
from reactivate.cli.common import say


def scoring_text(info: dict) -> str:
    """The propensity source and how it did on the held-out slice, in one line."""
    text = info["note"]
    held = info.get("held_out")
    if held and info.get("auc") is not None:
        lift = info.get("top_decile_lift")
        text += (f" (AUC {info['auc']:.3f}" + (f", top-decile lift {lift:.1f}" if lift else "")
                 + f" on {held['rows']:,} held-out {'contacts' if held['kind'] == 'contacts' else 'customers'}"
                 f" from {held['from']})")
    return text


def plan_lines(run, out: Path, verbose: bool = False, report: bool = False) -> list[str]:
    """The lines ``reactivate plan`` prints about a finished run (a jobs.pipeline.PlanRun) written to ``out``."""
    s = run.summary
    p = s["plan"]
    lines = [
        (f"reactivate {__version__}: {s['customers']:,} customers on {run.as_of.isoformat()}, "
        f"{s['targets']:,} targeted ({', '.join(f'{k} {v:,}' for k, v in s['by_stage'].items())})"),
        *([f"  warning: {s['cannot_contact']['message']}"] if "cannot_contact" in s else []),
        f"  {len(s['segments'])} segments; scoring: {scoring_text(s['scoring'])}",
        (f"  plan: {p['touches']:,} touches over {len(run.result.stats['weeks'])} weeks "
        f"(pilot {p['pilot']:,}); holdout {p['holdout']:,}; suppressed {p['suppressed']:,}; "
        f"unscheduled {p['unscheduled']:,}"),
        "  by channel: " + ", ".join(f"{k} {v:,}" for k, v in p["by_channel"].items()),
    ]
    opt = p.get("optimizer")
    if opt:
        gap = f", within {opt['gap']:.2%} of the bound" if opt.get("gap") is not None else ""
        lines.append(f"  optimizer: {opt['method']}{gap}")
    lines.extend(f"  warning: {w}" for w in warning_lines(p))
    if "segments_drift" in s:
        lines.append(f"  segment drift: {s['segments_drift']['reason']}")
    for note in s["notes"]:
        lines.append(f"  note: {note}")
    if verbose:
        lines.append("  stage timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items()))
    lines.append(f"  outputs in {out}/ (scores.csv, segments.csv, plan.csv, targets/, summary.json"
                 + (", report.html)" if report else ")"))
    return lines


def warning_lines(plan: dict) -> list[str]:
    """The plan's warnings, the holdouts too small to measure a segment's uplift in one line (the
    detail per segment is in summary.json's ``holdout_mde`` and the report)."""
    mde = [m for m in plan.get("holdout_mde", []) if m.get("warning")]
    text = {m["warning"] for m in mde}
    lines = [w for w in plan.get("warnings", []) if w not in text]
    if mde:
        n = len(plan.get("holdout_mde", []))
        larger = [f"{m['segment_id']} {m['share_needed']:.0%}" for m in mde if m.get("share_needed")]
        never = [m["segment_id"] for m in mde if not m.get("share_needed")]
        parts = ([f"holdout share needed: {', '.join(larger)}"] if larger else []) + (
            [f"too few customers for their expected rate even at 50%: {', '.join(never)}"] if never else [])
        lines.append(f"{len(mde)} of {n} segments' holdouts cannot detect the expected uplift "
                     f"({'; '.join(parts)}); detail per segment in summary.json holdout_mde and the report")
    return lines


def print_plan(run, out: Path, json_out: bool = False, verbose: bool = False, report: bool = False) -> None:
    """Print :func:`plan_lines` on stderr and, with ``json_out``, the summary as JSON on stdout."""
    say("\n".join(plan_lines(run, out, verbose, report)))
    if json_out:
        print_json(run.summary)


def print_json(summary: dict) -> None:
    typer.echo(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False))


def rank_lines(run, out: Path) -> list[str]:
    """The lines ``reactivate rank`` prints: the ranked segments with their reasons and start weeks."""
    s = run.summary
    lines = [f"reactivate {__version__}: {s['targets']:,} dormant customers ranked in {len(s['segments'])} segments",
             f"  scoring: {scoring_text(s['scoring'])}"]
    for r in run.segments.sort_values("rank", kind="stable").itertuples():
        lines.append(f"  #{r.rank} {r.segment_id} {r.segment_name}: {r.rank_reason}; start {r.start_week}")
    lines.append(f"  outputs in {out}/ (scores.csv, segments_ranked.csv, summary.json)")
    return lines
