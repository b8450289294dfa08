"""Writing a run's outputs (plan, scores, segments, RM lists and workbooks, report), all or nothing.

The files are staged by :mod:`reactivate.outputs.files` and swapped into place only when complete.
"""

from __future__ import annotations

import io
import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.labels import text_from_keys
from reactivate.outputs.files import (
    Staging,
    csv_bytes,
    json_bytes,
    neutral_categorical,
    neutralise,
    safe_name,
    staged,
)
from reactivate.outputs.report import render_report
from reactivate.scoring.timing import festival_ahead, festivals, week_starts
from reactivate.themes import LANGS, opener, theme_name, theme_text

PLAN_COLUMNS = ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id", "theme", "reason",
                "journey", "condition", "best_time"]
TARGET_COLUMNS = ["priority", "customer_id", "segment_name", "channel", "step", "condition", "theme", "theme_name",
                  "reason", "p_reactivate", "expected_value", "last_contact", "contacts_30d", "best_time"]
#: the columns of each RM's weekly workbook (``lang`` sets the language of theme and opener)
EXCEL_COLUMNS = {
    "en": ["Customer", "Why now", "Theme", "Opener", "Channel", "Last contacts", "Best time"],
    "zh": ["客户", "为何现在", "主题", "开场白", "渠道", "最近联系", "最佳时间"],
}
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


def write_ranking(run, out: str | Path) -> list[str]:
    """``reactivate rank``: scores.csv, segments_ranked.csv, summary.json and run.json, all or nothing."""
    with staged(out) as stage:
        scores, _, _ = scores_columns(run)
        stage.write("scores.csv", csv_bytes(scores))
        stage.write("segments_ranked.csv", csv_bytes(run.segments.sort_values("rank", kind="stable")))
        stage.write("summary.json", json_bytes(run.summary))
        stage.write("run.json", json_bytes(run.run))
    return ["scores.csv", "segments_ranked.csv", "summary.json", "run.json"]


def write_run(run, out: str | Path, extra: dict[str, bytes] | None = None, before_commit=None, *,
              lang: str = "en", excel_weeks: int | None = None, report_lang: str | None = None,
              progress=None) -> dict[str, str]:
    """Write every output of a :class:`~reactivate.jobs.pipeline.PlanRun` into ``out``; returns what was written.

    ``lang`` ("en" or "zh") is the language of themes and openers in the RM lists and workbooks;
    ``excel_weeks`` overrides the campaign's ``targets.excel_weeks`` (workbooks for the first N weeks).
    ``extra`` maps more relative paths to their bytes (written in the same staging);
    ``before_commit()`` is called when everything is staged, just before the swap.
    With ``report_lang`` ("en" or "zh") the HTML report (``report.html`` and
    ``charts/*.png``, see :mod:`reactivate.outputs.report`) is built from the staged
    outputs and swapped in with them. ``progress`` is called as steps end.
    """

    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} should be one of {', '.join(LANGS)}")
    spec = run.spec
    n_excel = spec.targets.excel_weeks if excel_weeks is None else excel_weeks
    with staged(out) as stage:
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
        n_lists = _write_target_lists(stage, plan, sc, ids, seg_name, lang)
        n_books = _write_workbooks(stage, plan, sc, ids, spec, lang, n_excel)
        # the opener lines, once per theme (repeating them on every row made the lists 5x larger)
        stage.write("targets/openers.csv", csv_bytes(pd.DataFrame(
            [(k, v["en"], v["zh"]) for k, v in theme_text(spec.themes.text).items()],
            columns=["theme", "opener_en", "opener_zh"])))
        run.summary["outputs"] = {"target_lists": n_lists, "workbooks": n_books, "workbook_weeks": n_excel}
        stage.write("summary.json", json_bytes(run.summary))
        stage.write("run.json", json_bytes(run.run))
        if progress is not None:
            progress("write")
        if report_lang is not None:

            for rel, data in render_report(stage.tmp, report_lang, progress).items():
                stage.write(rel, data)
        if before_commit is not None:
            before_commit()
    return {"out": str(Path(out))}


def _target_order(plan: pd.DataFrame):
    """Rows of the RM lists: by week, RM, calls and branch invitations first, then priority; and the group
    (week x RM) of each row."""
    week = plan["week_start"].cat.codes.to_numpy().astype(np.int64)
    rm = plan["rm_id"].cat.codes.to_numpy().astype(np.int64)
    human = plan["channel"].isin(["phone", "branch"]).to_numpy()
    order = np.lexsort((plan["step"].to_numpy(), plan["priority_rank"].to_numpy(), ~human, rm, week))
    group = week[order] * (len(plan["rm_id"].cat.categories) + 1) + rm[order]
    return order, group, week[order], rm[order]


def _write_target_lists(stage: Staging, plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array,
                        seg_name: pa.Array, lang: str = "en") -> int:
    """Each RM's weekly list: calls and branch invitations first, then what their clients receive
    (``theme_name`` in ``lang``)."""

    order, group, w_sorted, r_sorted = _target_order(plan)
    pos = plan["pos"].to_numpy()[order]
    first = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
    names = seg_name.dictionary.to_numpy(zero_copy_only=False)
    safe_names = pa.DictionaryArray.from_arrays(seg_name.indices, pa.array(neutralise(names), type=pa.string()))
    columns = {
        "priority": np.arange(len(group)) - start + 1,
        "customer_id": ids.take(pos),
        "segment_name": safe_names.take(pos),
        "channel": plan["channel"].array.take(order),
        "step": plan["step"].to_numpy()[order],
        "condition": plan["condition"].array.take(order),
        "theme": plan["theme"].array.take(order),
        "theme_name": _renamed(plan["theme"].array.take(order), lambda t: theme_name(t, lang)),
        "reason": neutral_categorical(plan["reason"].array.take(order)),
        "p_reactivate": sc["p_reactivate"].to_numpy()[pos].round(4),
        "expected_value": sc["expected_value"].to_numpy()[pos].round(2),
        "last_contact": sc["last_contact"].to_numpy()[pos],
        "contacts_30d": sc["contacts_30d"].to_numpy()[pos].astype(np.int64),
        "best_time": plan["best_time"].array.take(order),
    }
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    rms = [safe_name(r) for r in plan["rm_id"].cat.categories]  # one per RM
    return write_grouped_csv(stage, columns, group,
                             lambda i: f"targets/{weeks[w_sorted[i]]}/{rms[r_sorted[i]]}.csv")


def _renamed(cat: pd.Categorical, name) -> pd.Categorical:
    """A categorical with each category replaced by ``name(category)`` (names may repeat)."""
    names = np.array([name(str(c)) for c in cat.categories], dtype=object)  # one per category
    uniq, inverse = np.unique(names.astype(str), return_inverse=True) if len(names) else (names, names)
    codes = np.asarray(cat.codes)
    return pd.Categorical.from_codes(np.where(codes >= 0, np.asarray(inverse)[np.maximum(codes, 0)], -1)
                                     if len(names) else codes, categories=uniq)


def _write_workbooks(stage: Staging, plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, spec, lang: str,
                     n_weeks: int) -> int:
    """One Excel workbook per RM per week for the first ``n_weeks`` weeks: customer, why now, theme,
    opener, channel, last contacts, best time; every text cell neutralised against formulas.

    XlsxWriter in constant-memory mode, with a fixed creation date (the campaign's first week) so a
    rerun gives the same bytes.
    """
    import datetime as dt


    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    if n_weeks <= 0 or len(plan) == 0 or len(weeks) == 0:
        return 0
    order, group, w_sorted, r_sorted = _target_order(plan)
    keep = w_sorted < n_weeks
    order, group, w_sorted, r_sorted = order[keep], group[keep], w_sorted[keep], r_sorted[keep]
    if len(order) == 0:
        return 0
    pos = plan["pos"].to_numpy()[order]
    week_days = [dt.date.fromisoformat(w) for w in weeks]
    fests = festivals(spec.campaign.country, week_days[0], week_days[-1] + dt.timedelta(days=7))
    week_fest = np.array([festival_ahead(w, fests).rsplit(" ", 1)[0] for w in week_days], dtype=object)
    theme = plan["theme"].to_numpy(dtype=object)[order]
    # text per distinct combination, not per row
    th_name = text_from_keys([theme], lambda t: theme_name(t, lang))
    op = text_from_keys([theme, week_fest[w_sorted]], lambda t, f: opener(t, lang, f, spec.themes.text))
    last = pd.Series(sc["last_contact"].to_numpy()[pos]).dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    n30 = sc["contacts_30d"].to_numpy()[pos].astype(np.int64)
    label = ("{} ({} in 30 days)", "none") if lang == "en" else ("{}（30天内{}次）", "无")
    last_txt = text_from_keys([last, n30], lambda d, k: label[0].format(d, k) if d else label[1])
    cond = plan["condition"].to_numpy(dtype=object)[order]
    why = plan["reason"].to_numpy(dtype=object)[order]
    why = np.where(cond != "", why.astype(str) + "; step " + plan["step"].to_numpy()[order].astype(str) + " "
                   + cond.astype(str), why)
    cols = [
        neutralise(ids.take(pa.array(pos)).to_numpy(zero_copy_only=False)),
        neutralise(why),
        neutralise(np.asarray(th_name, dtype=object)),
        neutralise(np.asarray(op, dtype=object)),
        neutralise(plan["channel"].to_numpy(dtype=object)[order]),
        neutralise(np.asarray(last_txt, dtype=object)),
        neutralise(plan["best_time"].to_numpy(dtype=object)[order]),
    ]
    rows = list(zip(*cols, strict=True))
    rms = [safe_name(r) for r in plan["rm_id"].cat.categories]
    created = dt.datetime.combine(week_days[0], dt.time())
    header = EXCEL_COLUMNS[lang]
    widths = [14, 48, 18, 60, 9, 24, 30]
    cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    bounds = np.r_[cuts, len(group)]
    books = [(f"targets/{weeks[w_sorted[a]]}/{rms[r_sorted[a]]}.xlsx", str(weeks[w_sorted[a]]), rows[a:b])
             for a, b in itertools.pairwise(bounds)]
    for path, data in _workbooks(books, header, widths, created):
        stage.write(path, data)
    return len(cuts)


#: below this many workbooks they are written here; above, by a pool of processes (one per core)
POOL_WORKBOOKS = 300


def _workbooks(books: list[tuple[str, str, list[tuple]]], header, widths, created):
    """(path, bytes) of each workbook, in order; a pool of processes shares the work for thousands of them
    (XlsxWriter is pure Python: threads would not help). The bytes do not depend on who wrote them."""

    jobs = max(1, min(os.cpu_count() or 1, 4))
    if len(books) < POOL_WORKBOOKS or jobs == 1:
        yield from _workbook_batch(books, header, widths, created)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(books) // (jobs * 8))
    batches = [books[i:i + size] for i in range(0, len(books), size)]
    # forkserver: never fork a process that holds OpenMP or Arrow threads
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("forkserver")) as pool:
        for out in pool.map(_workbook_batch_list, batches, *([x] * len(batches) for x in (header, widths,
                                                                                             created))):
            yield from out


def _workbook_batch_list(books, header, widths, created) -> list[tuple[str, bytes]]:
    return list(_workbook_batch(books, header, widths, created))


def _workbook_batch(books, header, widths, created):
    import xlsxwriter

    for path, sheet, rows in books:  # one iteration per workbook
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": True,
                                       "strings_to_formulas": False, "strings_to_numbers": False,
                                       "strings_to_urls": False})
        wb.set_properties({"created": created})
        ws = wb.add_worksheet(sheet)
        bold = wb.add_format({"bold": True})
        for j, wdt in enumerate(widths):
            ws.set_column(j, j, wdt)
        ws.write_row(0, 0, header, bold)
        for k, row in enumerate(rows, start=1):  # the rows of one RM's week
            ws.write_row(k, 0, row)
        ws.freeze_panes(1, 0)
        wb.close()
        yield path, buf.getvalue()


