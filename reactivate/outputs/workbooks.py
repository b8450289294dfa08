"""The RM workbooks: one Excel file per RM per week, with the row order they share with the RM lists.

:func:`write_workbooks` renders the rows (customer, why now, theme, opener, channel, last contacts,
best time) and stages one workbook per RM and week; :func:`workbook_files` writes the bytes, with a
pool of processes when there are thousands. :func:`target_order` is the row order of both the
workbooks and the RM lists of :mod:`reactivate.outputs.writer`.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.labels import text_from_keys
from reactivate.outputs.files import Staging, file_names, neutralise
from reactivate.scoring.timing import festival_ahead, festivals
from reactivate.themes import opener, theme_name

#: the columns of each RM's weekly workbook (``lang`` sets the language of theme and opener)
EXCEL_COLUMNS = {
    "en": ["Customer", "Why now", "Theme", "Opener", "Channel", "Last contacts", "Best time"],
    "zh": ["客户", "为何现在", "主题", "开场白", "渠道", "最近联系", "最佳时间"],
}
#: the width of each workbook column, in characters
EXCEL_WIDTHS = [14, 48, 18, 60, 9, 24, 30]
#: below this many workbooks they are written here; above, by a pool of processes (one per core)
POOL_WORKBOOKS = 300


def target_order(plan: pd.DataFrame):
    """Rows of the RM lists: by week, RM, calls and branch invitations first, then priority; and the group
    (week x RM) of each row."""
    week = plan["week_start"].cat.codes.to_numpy().astype(np.int64)
    rm = plan["rm_id"].cat.codes.to_numpy().astype(np.int64)
    human = plan["channel"].isin(["phone", "branch"]).to_numpy()
    order = np.lexsort((plan["step"].to_numpy(), plan["priority_rank"].to_numpy(), ~human, rm, week))
    group = week[order] * (len(plan["rm_id"].cat.categories) + 1) + rm[order]
    return order, group, week[order], rm[order]


def write_workbooks(stage: Staging, plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, spec, lang: str,
                    n_weeks: int) -> int:
    """One Excel workbook per RM per week for the first ``n_weeks`` weeks: customer, why now, theme,
    opener, channel, last contacts, best time; every text cell neutralised against formulas.

    XlsxWriter in constant-memory mode, with a fixed creation date (the campaign's first week) so a
    rerun gives the same bytes. Returns the number of workbooks.
    """
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    if n_weeks <= 0 or len(plan) == 0 or len(weeks) == 0:
        return 0
    order, group, w_sorted, r_sorted = target_order(plan)
    keep = w_sorted < n_weeks
    order, group, w_sorted, r_sorted = order[keep], group[keep], w_sorted[keep], r_sorted[keep]
    if len(order) == 0:
        return 0
    week_days = [dt.date.fromisoformat(w) for w in weeks]
    rows = _workbook_rows(plan, sc, ids, spec, lang, order, w_sorted, week_days)
    rms = file_names(plan["rm_id"].cat.categories)  # the names of the RM lists
    created = dt.datetime.combine(week_days[0], dt.time())
    cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    bounds = np.r_[cuts, len(group)]
    books = [(f"targets/{weeks[w_sorted[a]]}/{rms[r_sorted[a]]}.xlsx", str(weeks[w_sorted[a]]), rows[a:b])
             for a, b in itertools.pairwise(bounds)]
    for path, data in workbook_files(books, EXCEL_COLUMNS[lang], EXCEL_WIDTHS, created):
        stage.write(path, data)
    return len(cuts)


def _workbook_rows(plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, spec, lang: str, order: np.ndarray,
                   w_sorted: np.ndarray, week_days: list[dt.date]) -> list[tuple]:
    """The cells of the plan rows ``order`` (``w_sorted``: their week positions), one tuple per row in the
    columns of :data:`EXCEL_COLUMNS`; text is rendered once per distinct combination, then neutralised."""
    pos = plan["pos"].to_numpy()[order]
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
    # object arrays: string + works elementwise on every numpy we allow (numpy < 2 has no add for str arrays)
    step = plan["step"].to_numpy()[order].astype(str).astype(object)
    why = np.where(cond != "", why.astype(str).astype(object) + "; step " + step + " " + cond.astype(str).astype(object),
                   why)
    cols = [
        neutralise(ids.take(pa.array(pos)).to_numpy(zero_copy_only=False)),
        neutralise(why),
        neutralise(np.asarray(th_name, dtype=object)),
        neutralise(np.asarray(op, dtype=object)),
        neutralise(plan["channel"].to_numpy(dtype=object)[order]),
        neutralise(np.asarray(last_txt, dtype=object)),
        neutralise(plan["best_time"].to_numpy(dtype=object)[order]),
    ]
    return list(zip(*cols, strict=True))


def workbook_files(books: list[tuple[str, str, list[tuple]]], header, widths, created):
    """(path, bytes) of each workbook of ``books`` ((path, sheet name, rows) each), in order.

    A pool of processes shares the work for :data:`POOL_WORKBOOKS` or more (XlsxWriter is pure
    Python: threads would not help). The bytes do not depend on who wrote them.
    """
    jobs = max(1, min(os.cpu_count() or 1, 4))
    if len(books) < POOL_WORKBOOKS or jobs == 1:
        yield from workbook_batch(books, header, widths, created)
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
    """:func:`workbook_batch` as a list (what a pool's worker sends back)."""
    return list(workbook_batch(books, header, widths, created))


def workbook_batch(books, header, widths, created):
    """(path, bytes) of each workbook of ``books``, written here one after the other.

    Each has one sheet (named by the book) with the bold ``header`` row frozen, columns of
    ``widths`` and ``created`` as its creation date; no cell is read as a formula, number or URL.
    """
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
