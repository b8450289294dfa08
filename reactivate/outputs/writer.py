"""Writing a run's outputs (plan, scores, segments, RM lists and workbooks, report), all or nothing.

The files are staged by :mod:`reactivate.outputs.files` and swapped into place only when complete;
the RM workbooks are rendered by :mod:`reactivate.outputs.workbooks`, the report by
:mod:`reactivate.outputs.report`.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.outputs.files import (
    Staging,
    csv_bytes,
    file_names,
    json_bytes,
    sheet_csv_bytes,
    spreadsheet_columns,
    staged,
)
from reactivate.outputs.report import render_report
from reactivate.outputs.workbooks import target_order, write_workbooks
from reactivate.scoring.timing import week_starts
from reactivate.themes import LANGS, theme_name, theme_text

PLAN_COLUMNS = ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id", "theme", "reason",
                "journey", "condition", "best_time"]
TARGET_COLUMNS = ["priority", "customer_id", "segment_name", "channel", "step", "condition", "theme", "theme_name",
                  "reason", "p_reactivate", "expected_value", "last_contact", "contacts_30d", "best_time"]


def write_grouped_csv(stage: Staging, columns: dict, group: np.ndarray, path_of) -> int:
    """Write one CSV per run of equal ``group`` codes (rows already sorted by group), no per-row loop.

    The rows are rendered to CSV once; each group's lines are sliced out.
    ``path_of(i)`` gives the file of the group starting at row ``i``.
    """
    if len(group) == 0:
        return 0
    body = csv_bytes(columns)
    lines = body.split(b"\n")
    header, rows = lines[0], lines[1:-1]
    cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    bounds = np.r_[cuts, len(group)]
    one_line_rows = len(rows) == len(group)  # no quoted line breaks inside fields
    for a, b in itertools.pairwise(bounds):  # one iteration per file
        if one_line_rows:
            part = header + b"\n" + b"\n".join(rows[a:b]) + b"\n"
        else:
            part = csv_bytes({k: v.slice(a, b - a) if isinstance(v, pa.Array) else v[a:b]
                              for k, v in columns.items()})
        stage.write(path_of(a), part)
    return len(cuts)


def scores_columns(run):
    """The columns of scores.csv (highest priority first), and the customer ids and segment names as
    Arrow arrays in the scores' row order, to be taken by position by the other outputs."""

    sc = run.scores
    weeks = [w.isoformat() for w in week_starts(run.spec, run.as_of)]
    order = np.argsort(sc["priority_rank"].to_numpy(), kind="stable")
    # per-customer text is converted to Arrow once and then taken by position
    ids = pa.array(sc.index.to_numpy(dtype=object), type=pa.string())
    seg = sc["segment_id"].array
    names = run.segments.set_index("segment_id")["segment_name"].reindex(seg.categories).fillna("")
    seg_name = pa.DictionaryArray.from_arrays(pa.array(np.asarray(seg.codes)), pa.array(names.to_numpy(dtype=object)))
    columns = {
        "customer_id": ids.take(order),
        "dormancy_stage": sc["stage"].array.take(order),
        "days_dormant": sc["days_dormant"].to_numpy()[order].round().astype(int),
        "segment_id": seg.take(order),
        "segment_name": seg_name.take(order),
        "p_reactivate": sc["p_reactivate"].to_numpy()[order].round(4),
        "expected_value": sc["expected_value"].to_numpy()[order].round(2),
        "priority_rank": sc["priority_rank"].to_numpy()[order],
        "best_week": pd.Categorical.from_codes(sc["best_week"].to_numpy()[order], categories=weeks),
        "reason": sc["reason"].array.take(order),
        "best_channel": sc["best_channel"].to_numpy()[order],
    }
    return columns, ids, seg_name


def write_ranking(run, out: str | Path, inputs: dict | None = None) -> list[str]:
    """``reactivate rank``: scores.csv, segments_ranked.csv, summary.json and run.json, all or nothing.

    ``inputs`` (how each was given → path) may not lie inside ``out`` (:func:`~reactivate.outputs.files.check_out`).
    """
    with staged(out, inputs) as stage:
        scores, _, _ = scores_columns(run)
        stage.write("scores.csv", csv_bytes(scores))
        stage.write("segments_ranked.csv", csv_bytes(run.segments.sort_values("rank", kind="stable")))
        stage.write("summary.json", json_bytes(run.summary))
        stage.write("run.json", json_bytes(run.run))
    return ["scores.csv", "segments_ranked.csv", "summary.json", "run.json"]


def write_run(run, out: str | Path, extra: dict[str, bytes] | None = None, before_commit=None, *,
              lang: str = "en", excel_weeks: int | None = None, list_weeks: int | None = None,
              report_lang: str | None = None, progress=None, inputs: dict | None = None):
    """Write every output of a :class:`~reactivate.jobs.pipeline.PlanRun` into ``out``.

    Returns a new run whose ``summary`` also counts what was written (``summary["outputs"]``: RM lists,
    list weeks, workbooks, workbook weeks), as in ``summary.json``; the run passed in is left as it was.

    ``plan.csv`` holds the whole horizon; the RM lists are written for the weeks that are due, the first
    ``list_weeks`` (default the campaign's ``targets.list_weeks``), and the workbooks for the first
    ``excel_weeks`` of those (default ``targets.excel_weeks``; never a week whose lists are not written).
    ``lang`` ("en" or "zh") is the language of themes and openers in the RM lists and workbooks.
    ``extra`` maps more relative paths to their bytes (written in the same staging);
    ``before_commit()`` is called when everything is staged, just before the swap.
    With ``report_lang`` ("en" or "zh") the HTML report (``report.html`` and
    ``charts/*.png``, see :mod:`reactivate.outputs.report`) is built from the staged
    outputs and swapped in with them. ``progress`` is called as steps end. ``inputs`` (how each was
    given → path) may not lie inside ``out`` (:func:`~reactivate.outputs.files.check_out`).

    The files made for a spreadsheet (RM lists, workbooks, openers) have every text cell neutralised;
    the RM lists and workbooks are named by :func:`~reactivate.outputs.files.file_names`.
    """

    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} should be one of {', '.join(LANGS)}")
    spec = run.spec
    n_list = spec.targets.list_weeks if list_weeks is None else list_weeks
    n_excel = min(spec.targets.excel_weeks if excel_weeks is None else excel_weeks, n_list)
    with staged(out, inputs) as stage:
        for rel, data in sorted((extra or {}).items()):
            stage.write(rel, data)
        sc = run.scores
        scores, ids, seg_name = scores_columns(run)
        stage.write("scores.csv", csv_bytes(scores))
        stage.write("segments.csv", csv_bytes(run.segments))
        plan = run.result.plan
        stage.write("plan.csv", csv_bytes({"customer_id": ids.take(plan["pos"].to_numpy()),
                                           **{c: plan[c] for c in PLAN_COLUMNS[1:]}}))
        stage.write("suppressed.csv", csv_bytes(run.result.suppressed))
        stage.write("holdout.csv", csv_bytes(run.result.holdout))
        stage.write("unscheduled.csv", csv_bytes(run.result.unscheduled))
        stage.write("capacity.csv", csv_bytes(run.result.capacity))
        n_lists = _write_target_lists(stage, plan, sc, ids, seg_name, lang, n_list)
        n_books = write_workbooks(stage, plan, sc, ids, spec, lang, n_excel)
        # the opener lines, once per theme (repeating them on every row made the lists 5x larger)
        stage.write("targets/openers.csv", sheet_csv_bytes(pd.DataFrame(
            [(k, v["en"], v["zh"]) for k, v in theme_text(spec.themes.text).items()],
            columns=["theme", "opener_en", "opener_zh"])))
        run = dataclasses.replace(run, summary={**run.summary, "outputs": {
            "target_lists": n_lists, "list_weeks": n_list, "workbooks": n_books, "workbook_weeks": n_excel}})
        stage.write("summary.json", json_bytes(run.summary))
        stage.write("run.json", json_bytes(run.run))
        if progress is not None:
            progress("write")
        if report_lang is not None:
            for rel, data in render_report(stage.tmp, report_lang, progress).items():
                stage.write(rel, data)
        if before_commit is not None:
            before_commit()
    return run


def _write_target_lists(stage: Staging, plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array,
                        seg_name: pa.Array, lang: str = "en", n_weeks: int = 1) -> int:
    """Each RM's weekly list for the first ``n_weeks`` weeks of the plan: calls and branch invitations
    first, then what their clients receive (``theme_name`` in ``lang``); every text cell neutralised,
    one file per RM and week."""

    order, group, w_sorted, r_sorted = target_order(plan)
    due = int(np.searchsorted(w_sorted, max(n_weeks, 0)))  # rows are sorted by week: the due ones lead
    order, group, w_sorted, r_sorted = order[:due], group[:due], w_sorted[:due], r_sorted[:due]
    pos = plan["pos"].to_numpy()[order]
    first = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
    columns = spreadsheet_columns({
        "priority": np.arange(len(group)) - start + 1,
        "customer_id": ids.take(pos),
        "segment_name": seg_name.take(pos),
        "channel": plan["channel"].array.take(order),
        "step": plan["step"].to_numpy()[order],
        "condition": plan["condition"].array.take(order),
        "theme": plan["theme"].array.take(order),
        "theme_name": _renamed(plan["theme"].array.take(order), lambda t: theme_name(t, lang)),
        "reason": plan["reason"].array.take(order),
        "p_reactivate": sc["p_reactivate"].to_numpy()[pos].round(4),
        "expected_value": sc["expected_value"].to_numpy()[pos].round(2),
        "last_contact": sc["last_contact"].to_numpy()[pos],
        "contacts_30d": sc["contacts_30d"].to_numpy()[pos].astype(np.int64),
        "best_time": plan["best_time"].array.take(order),
    })
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    rms = file_names(plan["rm_id"].cat.categories)
    return write_grouped_csv(stage, columns, group,
                             lambda i: f"targets/{weeks[w_sorted[i]]}/{rms[r_sorted[i]]}.csv")


def _renamed(cat: pd.Categorical, name) -> pd.Categorical:
    """A categorical with each category replaced by ``name(category)`` (names may repeat)."""
    names = np.array([name(str(c)) for c in cat.categories], dtype=object)  # one per category
    uniq, inverse = np.unique(names.astype(str), return_inverse=True) if len(names) else (names, names)
    codes = np.asarray(cat.codes)
    return pd.Categorical.from_codes(np.where(codes >= 0, np.asarray(inverse)[np.maximum(codes, 0)], -1)
                                     if len(names) else codes, categories=uniq)
