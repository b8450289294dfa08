"""Writing a run's outputs (plan, scores, segments, RM lists and workbooks, report), all or nothing.

The files are staged by :mod:`reactivate.outputs.files` and swapped into place only when complete;
the RM workbooks are rendered by :mod:`reactivate.outputs.workbooks`, the report by
:mod:`reactivate.outputs.report`.
"""

from __future__ import annotations

import contextlib
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
from reactivate.outputs.lists import (
    CSV_TAIL_KEYS,
    ListContext,
    balance_column,
    check_show,
    products_held,
    translated,
)
from reactivate.outputs.lists import TARGET_COLUMNS as LIST_COLUMNS
from reactivate.outputs.report import render_report, stage_report
from reactivate.outputs.report.data import givable
from reactivate.outputs.workbooks import POOL_WORKBOOKS, ListRows, due_rows, start_workbooks, workbook_count
from reactivate.outputs.workers import results, worker_pool
from reactivate.scoring.timing import week_starts
from reactivate.themes import LANGS, theme_name, theme_text

PLAN_COLUMNS = ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id", "theme", "reason",
                "journey", "condition", "best_time"]
#: the RM lists' columns before the ``show`` and per-customer columns (:mod:`reactivate.outputs.lists`)
TARGET_COLUMNS = list(LIST_COLUMNS)


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
    order = rank_order(sc["priority_rank"].to_numpy())
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
        "best_channel": _taken(sc["best_channel"], order),
    }
    return columns, ids, seg_name


def rank_order(rank: np.ndarray) -> np.ndarray:
    """``np.argsort(rank, kind="stable")``; when ``rank`` is 1..n in some order (the scores' priority rank)
    its inverse permutation, without sorting."""
    n = len(rank)
    if n and rank.dtype.kind in "iu" and rank.min() == 1 and rank.max() == n:
        order = np.full(n, -1, dtype=np.int64)
        order[rank - 1] = np.arange(n)
        if order.min() >= 0:  # no rank twice
            return order
    return np.argsort(rank, kind="stable")


def _taken(column: pd.Series, order: np.ndarray):
    """``column.to_numpy()[order]``, but an Arrow-backed column stays Arrow (no Python objects)."""
    if isinstance(column.array, pd.arrays.ArrowExtensionArray):
        return pa.array(column.array).take(pa.array(order))
    return column.to_numpy()[order]


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
              report_lang: str | None = None, progress=None, inputs: dict | None = None,
              context: ListContext | None = None):
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
    outputs and swapped in with them. A large run's workbooks and report are made by a pool of processes
    (:mod:`reactivate.outputs.workers`) while this one writes the rest, each writing its files into the
    staging folder; the bytes are the same. ``progress`` is called as steps end. ``inputs`` (how each was
    given → path) may not lie inside ``out`` (:func:`~reactivate.outputs.files.check_out`).

    The CSV files made for a spreadsheet (RM lists, openers) have every text cell neutralised (a leading
    apostrophe before = + - @); the workbooks hold text as string cells, which are never formulas;
    the RM lists and workbooks are named by :func:`~reactivate.outputs.files.file_names`. They also
    carry the ``[targets] show`` columns (``run.shown``: personal data, written nowhere else), each
    customer's segment, service shortfall, products and balance band, and the outcome columns the
    bank fills in; ``context`` (:class:`~reactivate.outputs.lists.ListContext`) is what a weekly run
    knows beyond the plan (its ledger run id, follow-ups, last week's results).
    """

    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} should be one of {', '.join(LANGS)}")
    spec = run.spec
    check_show(spec)
    context = context or ListContext()
    n_list = spec.targets.list_weeks if list_weeks is None else list_weeks
    n_excel = min(spec.targets.excel_weeks if excel_weeks is None else excel_weeks, n_list)
    with staged(out, inputs) as stage, contextlib.ExitStack() as stack:
        for rel, data in sorted((extra or {}).items()):
            stage.write(rel, data)
        sc, plan = run.scores, run.result.plan
        scores, ids, seg_name = scores_columns(run)
        rows = due_rows(plan, n_list)
        n_books = workbook_count(rows, n_excel)
        run = dataclasses.replace(run, summary={**run.summary, "outputs": {
            "target_lists": _runs(rows.group), "list_weeks": n_list, "workbooks": n_books, "workbook_weeks": n_excel}})
        _write_small(stage, run)
        # a large run's workbooks and report are made by a pool of processes while this one writes the rest
        pool = worker_pool(stack) if n_books >= POOL_WORKBOOKS else None
        given = {"plan.csv": {c: plan[c] for c in ("week_start", "channel", "wave")},
                 "scores.csv": {c: scores[c] for c in ("priority_rank", "reason")}}  # not read back
        report = _start_report(stage, report_lang, given, pool)
        extra_cols = customer_columns(run, plan["pos"].to_numpy()[rows.order], seg_name, lang)
        _, books = start_workbooks(plan, sc, ids, spec, lang, n_excel, rows, extra_cols, context, stage, pool)
        stage.write_csv("scores.csv", scores)
        stage.write_csv("plan.csv", {"customer_id": ids.take(plan["pos"].to_numpy()),
                                     **{c: plan[c] for c in PLAN_COLUMNS[1:]}})
        _write_target_lists(stage, plan, sc, ids, seg_name, lang, rows, extra_cols, context)
        if progress is not None:  # the workbooks and the report may still be in the making
            progress("write")
        for step in report():  # the report's steps, as each ends (or ended in a worker)
            if progress is not None:
                progress(step)
        books()
        if before_commit is not None:
            before_commit()
    return run


def _runs(group: np.ndarray) -> int:
    """How many runs of equal values ``group`` holds (one RM list per run)."""
    return int(np.count_nonzero(group[1:] != group[:-1]) + 1) if len(group) else 0


def _write_small(stage: Staging, run) -> None:
    """The small outputs, written first (the report reads them): segments, the plan's other tables, the
    opener lines, summary.json and run.json."""
    stage.write_csv("segments.csv", run.segments)
    for name in ("suppressed", "holdout", "unscheduled", "capacity"):
        stage.write_csv(f"{name}.csv", getattr(run.result, name))
    # the opener lines, once per theme (repeating them on every row made the lists 5x larger)
    stage.write("targets/openers.csv", sheet_csv_bytes(pd.DataFrame(
        [(k, v["en"], v["zh"]) for k, v in theme_text(run.spec.themes.text).items()],
        columns=["theme", "opener_en", "opener_zh"])))
    stage.write("summary.json", json_bytes(run.summary))
    stage.write("run.json", json_bytes(run.run))


def _start_report(stage: Staging, lang: str | None, given: dict, pool):
    """The report (:func:`~reactivate.outputs.report.render_report`) of what is staged: with a ``pool``, made
    by a worker as this returns; the function returned finishes it (makes it here without a pool) and
    yields the report's steps as they end."""
    if lang is None:
        return lambda: iter(())
    if pool is not None and all(givable(given[f], list(given[f])) for f in given):  # else plan.csv must be written
        future = pool.submit(stage_report, str(stage.tmp), lang, given, str(stage.out))
        return lambda: iter(results([future])[0])

    def here():
        steps = []
        files = render_report(stage.tmp, lang, steps.append, given=given)
        for rel, data in files.items():  # the page and its charts
            stage.write(rel, data)
        return iter(steps)
    return here


def customer_columns(run, pos: np.ndarray, seg_name: pa.Array, lang: str = "en") -> dict:
    """The per-customer columns of the RM lists for the scores rows ``pos``: the ``show`` columns (Arrow
    text, null when the customer has none), then ``segment`` (its name in ``lang``), ``shortfall``,
    ``products`` and ``balance_band`` (:mod:`reactivate.outputs.lists`)."""
    sc = run.scores
    out: dict = {}
    shown = getattr(run, "shown", None)
    for name in run.spec.targets.show:  # one per show column
        out[name] = (shown.column(name).take(pa.array(pos)).combine_chunks() if shown is not None
                     else pa.nulls(len(pos), pa.string()))
    seg = seg_name.take(pa.array(pos))
    out["segment"] = translated(pd.Categorical.from_codes(
        seg.indices.to_numpy(zero_copy_only=False), categories=pd.Index(seg.dictionary.to_pylist(), dtype=object)),
        lang) if len(pos) else pd.Categorical([])
    shortfall = getattr(run, "shortfall", None)
    out["shortfall"] = (translated(shortfall.take(pos), lang) if shortfall is not None
                        else pd.Categorical.from_codes(np.full(len(pos), -1), categories=pd.Index([], dtype=object)))
    uniq, back = np.unique(pos, return_inverse=True)  # a customer with two touches is looked up once
    held = products_held(run.book.accounts, sc.index.to_numpy(dtype=object)[uniq], lang)
    out["products"] = held.take(back.reshape(-1)) if len(pos) else held
    balance = sc["total_balance"].to_numpy(dtype=float)[pos] if "total_balance" in sc.columns else np.full(len(pos),
                                                                                                         np.nan)
    out["balance_band"] = balance_column(balance, run.spec.targets)
    return out


def _write_target_lists(stage: Staging, plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, seg_name: pa.Array,
                        lang: str, rows: ListRows, extra: dict, context: ListContext) -> int:
    """Each RM's weekly list for the due weeks (:func:`target_list_columns`), every text cell neutralised, one
    file per RM and week."""
    columns = spreadsheet_columns(target_list_columns(plan, sc, ids, seg_name, lang, rows, extra, context))
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    rms = file_names(plan["rm_id"].cat.categories)
    return write_grouped_csv(stage, columns, rows.group,
                             lambda i: f"targets/{weeks[rows.week[i]]}/{rms[rows.rm[i]]}.csv")


def target_list_columns(plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, seg_name: pa.Array, lang: str,
                        rows: ListRows, extra: dict, context: ListContext) -> dict:
    """The columns of the RM lists' rows for the due weeks (``rows``, :func:`~reactivate.outputs.workbooks.due_rows`),
    in list order: each RM's calls and branch invitations first, then what their clients receive (``theme_name``
    in ``lang``), the ``show`` and per-customer columns (``extra``), the run, week and RM, and the empty outcome
    columns the bank fills in. As they are: a spreadsheet's file neutralises them (:func:`_write_target_lists`)."""
    order, group, w_sorted, _ = rows
    pos = plan["pos"].to_numpy()[order]
    n = len(group)
    first = np.r_[True, group[1:] != group[:-1]] if n else np.zeros(0, dtype=bool)
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    return {
        "priority": np.arange(n) - start + 1,
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
        **{k: v for k, v in extra.items() if k != "segment"},
        "run_id": pd.Categorical.from_codes(np.full(n, 0 if context.run_id else -1), categories=[context.run_id]),
        "week_start": pd.Categorical.from_codes(w_sorted, categories=pd.Index(weeks.astype(str), dtype=object)),
        "rm_id": plan["rm_id"].array.take(order),
        **{k: pa.nulls(n, pa.string()) for k in CSV_TAIL_KEYS[3:]},
    }


def _renamed(cat: pd.Categorical, name) -> pd.Categorical:
    """A categorical with each category replaced by ``name(category)`` (names may repeat)."""
    names = np.array([name(str(c)) for c in cat.categories], dtype=object)  # one per category
    uniq, inverse = np.unique(names.astype(str), return_inverse=True) if len(names) else (names, names)
    codes = np.asarray(cat.codes)
    return pd.Categorical.from_codes(np.where(codes >= 0, np.asarray(inverse)[np.maximum(codes, 0)], -1)
                                     if len(names) else codes, categories=uniq)
