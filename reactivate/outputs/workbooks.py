"""The RM workbooks: one Excel file per RM per week, with the row order they share with the RM lists.

:func:`write_workbooks` renders the rows and stages one workbook per RM and week (:func:`start_workbooks`
starts that in the background); :func:`stage_workbooks` makes the files (:mod:`reactivate.outputs.xlsx`),
by a pool of processes when there are thousands (:mod:`reactivate.outputs.workers`). :func:`target_order`
is the row order of both the workbooks and the RM lists of :mod:`reactivate.outputs.writer`.

A workbook has three sheets: a summary for the RM (this week's list in counts, the follow-ups due,
last week's results), the list itself (named by the week's first day; customer, why now, theme,
opener, channel, last contacts, best time, the ``[targets] show`` columns, segment, service shortfall,
products, balance band, then the outcome columns the RM fills in and the plan's step, hidden), and
``_meta``, very hidden, whose key/value rows tell :mod:`reactivate.outputs.lists`'s readers which run,
week and RM the list is and which column is which. The list sheet is protected: only the outcome
cells (contacted on, a date of the week; result, from a drop-down; next step / note) can be edited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from reactivate.labels import text_from_keys
from reactivate.outputs.files import Staging, file_names
from reactivate.outputs.lists import (
    CUSTOMER_KEYS,
    META_FORMAT,
    META_SHEET,
    NOTE_CHARS,
    RESULTS,
    ListContext,
    result_labels,
    workbook_keys,
)
from reactivate.outputs.workers import results, worker_count, worker_pool
from reactivate.outputs.xlsx import WORDS, Layout, workbook_batch, workbook_batch_to
from reactivate.scoring.timing import festival_ahead, festivals
from reactivate.themes import opener, theme_name

__all__ = ["Layout", "ListRows", "due_rows", "excel_header", "stage_workbooks", "start_workbooks", "target_order",
           "workbook_batch", "workbook_count", "write_workbooks"]

#: the first columns of each RM's weekly workbook (``lang`` sets the language of theme and opener)
EXCEL_COLUMNS = {
    "en": ["Customer", "Why now", "Theme", "Opener", "Channel", "Last contacts", "Best time"],
    "zh": ["客户", "为何现在", "主题", "开场白", "渠道", "最近联系", "最佳时间"],
}
#: the width of each of those columns, in characters
EXCEL_WIDTHS = [14, 48, 18, 60, 9, 24, 30]
#: the headers of the columns after the ``show`` columns (whose headers are their names)
TAIL_HEADERS = {
    "en": {"segment": "Segment", "shortfall": "Service shortfall", "products": "Products", "balance_band": "Balance",
           "contacted_on": "Contacted on", "result": "Result", "note": "Next step / note", "step": "Step"},
    "zh": {"segment": "客群", "shortfall": "服务不足", "products": "持有产品", "balance_band": "余额",
           "contacted_on": "联系日期", "result": "结果", "note": "下一步 / 备注", "step": "步骤"},
}
#: the widths of a ``show`` column and of the columns after them
SHOW_WIDTH = 16
TAIL_WIDTHS = {"segment": 24, "shortfall": 36, "products": 24, "balance_band": 12, "contacted_on": 13, "result": 22,
               "note": 40, "step": 6}
#: below this many workbooks they are written here; above, by a pool of processes (one per core)
POOL_WORKBOOKS = 300


class ListRows(NamedTuple):
    """Rows of the RM lists (:func:`target_order`): the plan rows in list order, the group (week x RM),
    week position and RM position of each."""

    order: np.ndarray
    group: np.ndarray
    week: np.ndarray
    rm: np.ndarray


def target_order(plan: pd.DataFrame):
    """Rows of the RM lists: by week, RM, calls and branch invitations first, then priority; and the group
    (week x RM) of each row."""
    week = plan["week_start"].cat.codes.to_numpy().astype(np.int64)
    rm = plan["rm_id"].cat.codes.to_numpy().astype(np.int64)
    human = plan["channel"].isin(["phone", "branch"]).to_numpy()
    order = np.lexsort((plan["step"].to_numpy(), plan["priority_rank"].to_numpy(), ~human, rm, week))
    group = week[order] * (len(plan["rm_id"].cat.categories) + 1) + rm[order]
    return order, group, week[order], rm[order]


def due_rows(plan: pd.DataFrame, n_weeks: int) -> ListRows:
    """The rows of the RM lists of the first ``n_weeks`` weeks (the weeks that are due), in list order."""
    order, group, w_sorted, r_sorted = target_order(plan)
    due = int(np.searchsorted(w_sorted, max(n_weeks, 0)))  # rows are sorted by week: the due ones lead
    return ListRows(order[:due], group[:due], w_sorted[:due], r_sorted[:due])


def excel_header(lang: str, show: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The header of a workbook's list sheet in ``lang``: the ``show`` columns under their own names."""
    tail = TAIL_HEADERS[lang]
    return [*EXCEL_COLUMNS[lang], *show, *(tail[k] for k in workbook_keys()[len(EXCEL_COLUMNS[lang]):])]


def write_workbooks(stage: Staging, plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, spec, lang: str,
                    n_weeks: int, rows: ListRows, extra: dict, context: ListContext | None = None) -> int:
    """One Excel workbook per RM per week for the first ``n_weeks`` weeks of the RM lists ``rows``
    (``extra``: their per-customer columns, :func:`reactivate.outputs.writer.customer_columns`);
    every text cell a string cell, never a formula (written as it is: an apostrophe would show in Excel).

    A fixed creation date (the campaign's first week) so that a rerun gives the same bytes. Returns the
    number of workbooks. :func:`start_workbooks` does the same in the background.
    """
    with contextlib.ExitStack() as stack:
        pool = worker_pool(stack) if workbook_count(rows, n_weeks) >= POOL_WORKBOOKS else None
        n, finish = start_workbooks(plan, sc, ids, spec, lang, n_weeks, rows, extra, context, stage, pool)
        finish()
    return n


def workbook_count(rows: ListRows, n_weeks: int) -> int:
    """How many workbooks :func:`write_workbooks` writes: one per RM and week of the first ``n_weeks``."""
    k = int(np.searchsorted(rows.week, max(n_weeks, 0)))
    return int(np.count_nonzero(np.diff(rows.group[:k])) + 1) if n_weeks > 0 and k > 0 else 0


def start_workbooks(plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, spec, lang: str, n_weeks: int,
                    rows: ListRows, extra: dict, context: ListContext | None, stage: Staging,
                    pool=None) -> tuple[int, Callable[[], None]]:
    """:func:`write_workbooks` started: the number of workbooks, and the function that finishes staging
    them (:func:`stage_workbooks`; call it before the commit). With a ``pool`` its workers are at work as
    this returns, so the caller can do other work meanwhile."""
    context = context or ListContext()
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    k = int(np.searchsorted(rows.week, max(n_weeks, 0)))
    if n_weeks <= 0 or k == 0 or len(weeks) == 0:
        return 0, lambda: None
    order, group, w_sorted, r_sorted = (a[:k] for a in rows)
    week_days = [dt.date.fromisoformat(w) for w in weeks]
    cells = _workbook_rows(plan, sc, ids, spec, lang, order, w_sorted, week_days, extra, k)
    steps = plan["step"].to_numpy()[order].astype(np.int64).tolist()
    channels = _rows_of(plan["channel"], order)
    rm_ids = [str(r) for r in plan["rm_id"].cat.categories]
    rms = file_names(rm_ids)  # the names of the RM lists
    show = tuple(spec.targets.show)
    keys = ",".join(workbook_keys(show))
    header = excel_header(lang, show)
    tail = workbook_keys()[len(EXCEL_WIDTHS):]
    widths = [*EXCEL_WIDTHS, *[SHOW_WIDTH] * len(show), *(TAIL_WIDTHS[key] for key in tail)]
    layout = Layout(tuple(header), tuple(widths), len(header) - len(tail) + tail.index("contacted_on"), lang,
                    dt.datetime.combine(week_days[0], dt.time()), tuple(result_labels(lang)), NOTE_CHARS, META_SHEET)
    follow, last = _followups_by_week_rm(context.followups), _results_by_rm(context.last_results)
    cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    books = []
    for a, b in itertools.pairwise(np.r_[cuts, len(group)]):  # one per workbook
        week, rm = str(weeks[w_sorted[a]]), rm_ids[r_sorted[a]]
        summary = _summary_rows(lang, rm, week, channels[a:b], follow.get((week, rm), []),
                                last.get(rm, {}) if w_sorted[a] == 0 and context.last_results is not None else None)
        meta = [("format", META_FORMAT), ("campaign_id", spec.campaign.id), ("run_id", context.run_id),
                ("week", _iso_week(week)), ("week_start", week), ("rm_id", rm), ("lang", lang), ("columns", keys)]
        books.append((f"targets/{week}/{rms[r_sorted[a]]}.xlsx", week, cells[a:b], steps[a:b], summary, meta))
    return len(cuts), stage_workbooks(books, layout, stage, pool)


def _iso_week(day: str) -> str:
    y, w, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def _workbook_rows(plan: pd.DataFrame, sc: pd.DataFrame, ids: pa.Array, spec, lang: str, order: np.ndarray,
                   w_sorted: np.ndarray, week_days: list[dt.date], extra: dict, k: int) -> list[tuple]:
    """The cells of the plan rows ``order`` (``w_sorted``: their week positions), one tuple per row up to
    the outcome columns (:func:`excel_header`); text is rendered once per distinct combination and
    written as string cells as it is (a string cell is never a formula: no apostrophe, which Excel would
    show). ``extra`` holds the per-customer columns of the lists' rows, whose first ``k`` are these."""
    pos = plan["pos"].to_numpy()[order]
    fests = festivals(spec.campaign.country, week_days[0], week_days[-1] + dt.timedelta(days=7))
    week_fest = np.array([festival_ahead(w, fests).rsplit(" ", 1)[0] for w in week_days], dtype=object)
    theme = _rows_of(plan["theme"], order)
    # text per distinct combination, not per row
    th_name = text_from_keys([theme], lambda t: theme_name(t, lang))
    op = text_from_keys([theme, week_fest[w_sorted]], lambda t, f: opener(t, lang, f, spec.themes.text))
    last = pd.Series(sc["last_contact"].to_numpy()[pos]).dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    n30 = sc["contacts_30d"].to_numpy()[pos].astype(np.int64)
    label = ("{} ({} in 30 days)", "none") if lang == "en" else ("{}（30天内{}次）", "无")
    last_txt = text_from_keys([last, n30], lambda d, k: label[0].format(d, k) if d else label[1])
    cond = _rows_of(plan["condition"], order)
    why = _rows_of(plan["reason"], order)
    # object arrays: string + works elementwise on every numpy we allow (numpy < 2 has no add for str arrays)
    step = plan["step"].to_numpy()[order].astype(str).astype(object)
    why = np.where(cond != "", why.astype(str).astype(object) + "; step " + step + " " + cond.astype(str).astype(object),
                   why)
    cols = [
        ids.take(pa.array(pos)).to_numpy(zero_copy_only=False),
        np.asarray(why, dtype=object),
        np.asarray(th_name, dtype=object),
        np.asarray(op, dtype=object),
        _rows_of(plan["channel"], order),
        np.asarray(last_txt, dtype=object),
        _rows_of(plan["best_time"], order),
        *(_cells(extra[name], k) for name in [*spec.targets.show, "segment", *CUSTOMER_KEYS]),
    ]
    return list(zip(*cols, strict=True))


def _cells(values, k: int) -> np.ndarray:
    """The first ``k`` values of a per-customer column as workbook cells: text as it is (string cells),
    numbers as numbers, missing values as None (an empty cell)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.slice(0, k).to_numpy(zero_copy_only=False)
    if isinstance(values, pd.Categorical):
        cats = np.asarray(values.categories, dtype=object).astype(str)
        codes = np.asarray(values.codes[:k])
        out = np.asarray(cats, dtype=object)[np.maximum(codes, 0)] if len(cats) else np.full(k, None, dtype=object)
        return np.where(codes >= 0, out, None)
    num = np.asarray(values[:k], dtype=float)
    return np.where(np.isfinite(num), num.astype(object), None)


def _followups_by_week_rm(followups: pd.DataFrame | None) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """The follow-ups due, by (week start, RM): (customer id, outcome code) each, in their order."""
    if followups is None or len(followups) == 0:
        return {}
    week = pd.to_datetime(followups["week_start"]).dt.strftime("%Y-%m-%d")
    outcome = followups["outcome"].astype(str) if "outcome" in followups.columns else pd.Series("", index=week.index)
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (w, rm), g in pd.DataFrame({"w": week, "rm": followups["rm_id"].astype(str),
                                    "c": followups["customer_id"].astype(str), "o": outcome}).groupby(
            ["w", "rm"], sort=True):  # one per RM and week
        out[(w, rm)] = list(zip(g["c"], g["o"], strict=True))
    return out


def _results_by_rm(results: pd.DataFrame | None) -> dict[str, dict[str, int]]:
    """Last week's results (:func:`reactivate.outputs.lists.last_week_results`) by RM: outcome → count."""
    if results is None or len(results) == 0:
        return {}
    out: dict[str, dict[str, int]] = {}
    for rm, outcome, n in zip(results["rm_id"].astype(str), results["outcome"].astype(str), results["count"],
                              strict=True):  # one per RM and outcome
        out.setdefault(rm, {})[outcome] = int(n)
    return out


def _summary_rows(lang: str, rm: str, week: str, channels: np.ndarray, followups: list[tuple[str, str]],
                  last: dict[str, int] | None) -> list[tuple]:
    """The summary sheet of one workbook, as rows of (text, value, bold): this week's list in counts, the
    follow-ups due (customer and why), last week's results (outcome code → count; "" no result recorded;
    empty: the RM had no touches; None: not recorded, as in a plan without a ledger)."""
    w = WORDS[lang]
    phone, branch = int((channels == "phone").sum()), int((channels == "branch").sum())
    rows = [(w["title"].format(rm=rm, week=week), None, True), (None, None, False),
            (w["list"].format(sheet=week), None, True), (w["phone"], phone, False), (w["branch"], branch, False),
            (w["messages"], len(channels) - phone - branch, False), (w["total"], len(channels), False),
            (w["fill"].format(sheet=week), None, False), (None, None, False),
            (w["followups"], len(followups) if followups else w["none"], True)]
    rows += [(cust, RESULTS.get(code, {}).get(lang, code), False) for cust, code in followups]
    rows += [(None, None, False), (w["last"], w["not_recorded"] if last is None else None if last else w["none"],
                                   True)]
    if last:
        rows += [(labels[lang], last[code], False) for code, labels in RESULTS.items() if code in last]
        rows += [(w["no_result"], last[""], False)] if "" in last else []
    return rows


def stage_workbooks(books: list[tuple], layout: Layout, stage: Staging, pool=None) -> Callable[[], None]:
    """Stage each workbook of ``books`` ((path, sheet name, rows, steps, summary rows, meta rows) each);
    returns the function that finishes it (call it before the commit).

    With a ``pool`` (:func:`~reactivate.outputs.workers.worker_pool`; XlsxWriter is pure Python: threads
    would not help) the batches are at work as this returns, each worker writing its files straight into
    the staging folder, and the function waits for them (a worker's error is raised there); without, the
    function makes the files here. The bytes do not depend on who wrote them.
    """
    if pool is None:
        def here() -> None:
            for path, data in workbook_batch(books, layout):  # one per workbook
                stage.write(path, data)
        return here
    size = max(50, len(books) // (worker_count() * 8))
    futures = [pool.submit(workbook_batch_to, books[i:i + size], layout, str(stage.tmp), str(stage.out))
               for i in range(0, len(books), size)]

    def wait() -> None:
        results(futures)
    return wait


def _rows_of(column: pd.Series, order: np.ndarray) -> np.ndarray:
    """``column.to_numpy(dtype=object)[order]``, converting only the rows taken (the plan holds every week)."""
    return column.array.take(order).to_numpy(dtype=object)
