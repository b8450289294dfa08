"""The RM workbooks: one Excel file per RM per week, with the row order they share with the RM lists.

:func:`write_workbooks` renders the rows and stages one workbook per RM and week; :func:`workbook_files`
writes the bytes, with a pool of processes when there are thousands. :func:`target_order` is the row
order of both the workbooks and the RM lists of :mod:`reactivate.outputs.writer`.

A workbook has three sheets: a summary for the RM (this week's list in counts, the follow-ups due,
last week's results), the list itself (named by the week's first day; customer, why now, theme,
opener, channel, last contacts, best time, the ``[targets] show`` columns, segment, service shortfall,
products, balance band, then the outcome columns the RM fills in and the plan's step, hidden), and
``_meta``, very hidden, whose key/value rows tell :mod:`reactivate.outputs.lists`'s readers which run,
week and RM the list is and which column is which. The list sheet is protected: only the outcome
cells (contacted on, a date of the week; result, from a drop-down; next step / note) can be edited.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import re
import zipfile
from dataclasses import dataclass
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
from reactivate.scoring.timing import festival_ahead, festivals
from reactivate.themes import opener, theme_name

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
#: the words of the summary sheet, the header comments and the validation prompts
WORDS = {
    "en": {
        "summary": "Summary", "title": "{rm} · week of {week}",
        "list": "This week's list: sheet {sheet}, in the order to work through it",
        "phone": "calls", "branch": "branch invitations",
        "messages": "messages to your clients (SMS, WeChat, app, e-mail, mail)", "total": "total",
        "fill": "Fill in Contacted on, Result and Next step / note on sheet {sheet}, then hand this file back "
                "as it is.",
        "followups": "Follow-ups (回访) due this week", "none": "none",
        "last": "Last week's results", "not_recorded": "not recorded", "no_result": "no result recorded",
        "c_date": "Contacted on: the day you reached (or tried to reach) the customer, from {a} to {b}.",
        "c_result": "Result: choose from the list ({labels}).",
        "c_note": "Next step / note: free text, up to {n} characters. Only these three columns can be edited.",
        "p_date": ("Contacted on", "A date from {a} to {b} (yyyy-mm-dd)."),
        "p_result": ("Result", "Choose one from the list."),
        "p_note": ("Next step / note", "Up to {n} characters."),
        "e_date": "Enter a date from {a} to {b} (yyyy-mm-dd).",
        "e_result": "Choose one of the results in the list.",
        "e_note": "At most {n} characters.",
    },
    "zh": {
        "summary": "概览", "title": "{rm} · {week} 当周",
        "list": "本周名单：工作表 {sheet}，请按顺序逐一联系",
        "phone": "电话", "branch": "网点邀约", "messages": "发给客户的消息（短信、微信、App、邮件、信函）",
        "total": "合计",
        "fill": "请在工作表 {sheet} 中填写“联系日期”“结果”和“下一步 / 备注”，然后原样交回本文件。",
        "followups": "本周到期的回访", "none": "无",
        "last": "上周结果", "not_recorded": "未记录", "no_result": "未填结果",
        "c_date": "联系日期：您联系（或尝试联系）客户的日期，须在 {a} 至 {b} 之间。",
        "c_result": "结果：从下拉列表中选择（{labels}）。",
        "c_note": "下一步 / 备注：自由填写，最多 {n} 个字。只有这三列可以编辑。",
        "p_date": ("联系日期", "{a} 至 {b} 之间的日期（yyyy-mm-dd）。"),
        "p_result": ("结果", "请从列表中选择。"),
        "p_note": ("下一步 / 备注", "最多 {n} 个字。"),
        "e_date": "请输入 {a} 至 {b} 之间的日期（yyyy-mm-dd）。",
        "e_result": "请选择列表中的一项结果。",
        "e_note": "最多 {n} 个字。",
    },
}
#: below this many workbooks they are written here; above, by a pool of processes (one per core)
POOL_WORKBOOKS = 300
#: what a protected list sheet still allows
PROTECT = {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True}


class ListRows(NamedTuple):
    """Rows of the RM lists (:func:`target_order`): the plan rows in list order, the group (week x RM),
    week position and RM position of each."""

    order: np.ndarray
    group: np.ndarray
    week: np.ndarray
    rm: np.ndarray


@dataclass(frozen=True)
class Layout:
    """What every workbook of a run shares: the list sheet's header and widths, the position of its first
    outcome column (contacted on; result, note and the hidden step follow), the language and the
    creation date."""

    header: tuple[str, ...]
    widths: tuple[float, ...]
    outcome: int
    lang: str
    created: dt.datetime


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
    number of workbooks.
    """
    context = context or ListContext()
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    k = int(np.searchsorted(rows.week, max(n_weeks, 0)))
    if n_weeks <= 0 or k == 0 or len(weeks) == 0:
        return 0
    order, group, w_sorted, r_sorted = (a[:k] for a in rows)
    week_days = [dt.date.fromisoformat(w) for w in weeks]
    cells = _workbook_rows(plan, sc, ids, spec, lang, order, w_sorted, week_days, extra, k)
    steps = plan["step"].to_numpy()[order].astype(np.int64).tolist()
    channels = plan["channel"].to_numpy(dtype=object)[order]
    rm_ids = [str(r) for r in plan["rm_id"].cat.categories]
    rms = file_names(rm_ids)  # the names of the RM lists
    show = tuple(spec.targets.show)
    keys = ",".join(workbook_keys(show))
    header = excel_header(lang, show)
    tail = workbook_keys()[len(EXCEL_WIDTHS):]
    widths = [*EXCEL_WIDTHS, *[SHOW_WIDTH] * len(show), *(TAIL_WIDTHS[key] for key in tail)]
    layout = Layout(tuple(header), tuple(widths), len(header) - len(tail) + tail.index("contacted_on"), lang,
                    dt.datetime.combine(week_days[0], dt.time()))
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
    for path, data in workbook_files(books, layout):
        stage.write(path, data)
    return len(cuts)


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
        ids.take(pa.array(pos)).to_numpy(zero_copy_only=False),
        np.asarray(why, dtype=object),
        np.asarray(th_name, dtype=object),
        np.asarray(op, dtype=object),
        plan["channel"].to_numpy(dtype=object)[order],
        np.asarray(last_txt, dtype=object),
        plan["best_time"].to_numpy(dtype=object)[order],
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


def workbook_files(books: list[tuple], layout: Layout):
    """(path, bytes) of each workbook of ``books`` ((path, sheet name, rows, steps, summary rows, meta rows)
    each), in order.

    A pool of processes shares the work for :data:`POOL_WORKBOOKS` or more (XlsxWriter is pure
    Python: threads would not help). The bytes do not depend on who wrote them.
    """
    jobs = max(1, min(os.cpu_count() or 1, 4))
    if len(books) < POOL_WORKBOOKS or jobs == 1:
        yield from workbook_batch(books, layout)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(books) // (jobs * 8))
    batches = [books[i:i + size] for i in range(0, len(books), size)]
    # forkserver: never fork a process that holds OpenMP or Arrow threads
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("forkserver")) as pool:
        for out in pool.map(_workbook_batch_list, batches, [layout] * len(batches)):
            yield from out


def _workbook_batch_list(books, layout) -> list[tuple[str, bytes]]:
    """:func:`workbook_batch` as a list (what a pool's worker sends back)."""
    return list(workbook_batch(books, layout))


def workbook_batch(books, layout: Layout):
    """(path, bytes) of each workbook of ``books``, written here one after the other.

    Each has the summary sheet, the list sheet (named by the book, its bold header frozen, protected but
    for the outcome cells) and the very hidden ``_meta`` sheet, with ``layout.created`` as its creation
    date; no cell is read as a formula, number or URL.

    XlsxWriter writes, once per week, a template workbook with every part but the cells (styles, column
    widths, comments, validations, protection, the sheets' names and states); each workbook is that
    template with its cells rendered into the three sheets (text as inline strings, escaped as XlsxWriter
    escapes them). A workbook's fixed parts cost XlsxWriter more than its few rows: this is what keeps
    thousands of workbooks fast.
    """
    templates: dict[str, _Template] = {}
    cache: dict[str, str] = {}  # the XML of each distinct text of the batch
    for path, sheet, rows, steps, summary, meta in books:  # one iteration per workbook
        tpl = templates.get(sheet) or templates.setdefault(sheet, _template(layout, sheet))
        strings = _Strings(cache)
        sheets = ((_summary_xml(summary, tpl, strings), len(summary), 2),
                  (_list_xml(rows, steps, layout, tpl, strings), len(rows) + 1, len(layout.header)),
                  (_rows_xml([((a, None), (b, None)) for a, b in meta], strings), len(meta), 2))
        yield path, _zip(tpl, sheets, strings)


@dataclass(frozen=True)
class _Template:
    """The parts of a template workbook (name → bytes, in order); the three sheets as the XML before and
    after their cells, with the dimension element to replace; the style ids of bold text, an outcome date
    and an outcome text."""

    parts: tuple[tuple[str, bytes], ...]
    sheets: tuple[tuple[str, str, str, str], ...]
    #: the shared strings part's XML before its counts
    sst: str
    bold: int
    day: int
    free: int


#: the three sheets of a workbook, in the template's parts
SHEET_PARTS = ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml")
#: the workbook's shared strings
STRINGS_PART = "xl/sharedStrings.xml"
#: Excel's last row (validations cover the outcome columns down to it; only the list's cells are unlocked)
LAST_ROW = 1_048_575


def _template(layout: Layout, sheet: str) -> _Template:
    """The template of the workbooks of week ``sheet`` (see :func:`workbook_batch`)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": layout.created})
    bold = wb.add_format({"bold": True})
    first = wb.add_worksheet(WORDS[layout.lang]["summary"])
    first.set_column(0, 0, 60)
    first.set_column(1, 1, 24)
    first.write_blank(0, 0, None, bold)
    ws = wb.add_worksheet(sheet)
    day, free = _list_template(wb, ws, layout, dt.date.fromisoformat(sheet), bold)
    hidden = wb.add_worksheet(META_SHEET)
    hidden.write_string(0, 0, "-", bold)  # a string: the template has the shared strings part
    hidden.very_hidden()
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        parts = tuple((name, z.read(name)) for name in z.namelist())
    sheets = []
    for name in SHEET_PARTS:  # three
        xml = dict(parts)[name].decode("utf-8")
        head, rest = xml.split("<sheetData>", 1)
        dim = re.search(r"<dimension ref=\"[^\"]*\"/>", head).group(0)
        sheets.append((name, head + "<sheetData>", "</sheetData>" + rest.split("</sheetData>", 1)[1], dim))
    sst = dict(parts)[STRINGS_PART].decode("utf-8").split(' count="', 1)[0]
    return _Template(parts, tuple(sheets), sst, bold.xf_index, day.xf_index, free.xf_index)


def _list_template(wb, ws, layout: Layout, start: dt.date, bold):
    """The list sheet of a template: columns, the comments on the outcome headers, the validations of the
    outcome columns, the frozen header and the protection; returns the formats of the outcome cells."""
    w, c = WORDS[layout.lang], layout.outcome
    day = wb.add_format({"locked": False, "num_format": "yyyy-mm-dd"})
    free = wb.add_format({"locked": False})
    for j, width in enumerate(layout.widths):
        ws.set_column(j, j, width, None, {"hidden": True} if j == c + 3 else None)
    ws.write_blank(0, 0, None, bold)
    ws.write_blank(1, c, None, day)
    ws.write_blank(1, c + 1, None, free)
    a, b, labels = start.isoformat(), (start + dt.timedelta(days=6)).isoformat(), result_labels(layout.lang)
    comments = (w["c_date"].format(a=a, b=b), w["c_result"].format(labels=", ".join(labels)),
                w["c_note"].format(n=NOTE_CHARS))
    for j, text in enumerate(comments):
        ws.write_comment(0, c + j, text, {"x_scale": 2.5, "y_scale": 1.5})
    ws.data_validation(1, c, LAST_ROW, c, {
        "validate": "date", "criteria": "between", "minimum": start, "maximum": start + dt.timedelta(days=6),
        "input_title": w["p_date"][0], "input_message": w["p_date"][1].format(a=a, b=b),
        "error_message": w["e_date"].format(a=a, b=b)})
    ws.data_validation(1, c + 1, LAST_ROW, c + 1, {"validate": "list", "source": labels, "input_title": w["p_result"][0],
                                                   "input_message": w["p_result"][1], "error_message": w["e_result"]})
    ws.data_validation(1, c + 2, LAST_ROW, c + 2, {
        "validate": "length", "criteria": "<=", "value": NOTE_CHARS, "input_title": w["p_note"][0],
        "input_message": w["p_note"][1].format(n=NOTE_CHARS), "error_message": w["e_note"].format(n=NOTE_CHARS)})
    ws.freeze_panes(1, 0)
    ws.protect("", PROTECT)
    return day, free


class _Strings:
    """The shared strings of one workbook: each distinct text once, in the order first used."""

    def __init__(self, cache: dict[str, str]):
        self.cache = cache  # text -> its escaped XML, shared by the workbooks of a batch
        self.index: dict[str, int] = {}
        self.count = 0

    def ref(self, text: str) -> int:
        """The index of ``text`` in the table (added when new)."""
        self.count += 1
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def xml(self, head: str) -> str:
        """The shared strings part, after ``head`` (its XML declaration and ``<sst`` element's namespace)."""
        cache = self.cache
        items = []
        for text in self.index:  # one per distinct text of the workbook
            x = cache.get(text)
            if x is None:
                x = cache[text] = _si(text)
            items.append(x)
        return f'{head} count="{self.count}" uniqueCount="{len(self.index)}">{"".join(items)}</sst>'


def _summary_xml(summary: list[tuple], tpl: _Template, strings: _Strings) -> str:
    """The cells of the summary sheet: rows of (text, value, bold)."""
    return _rows_xml([((a, tpl.bold if strong else None), (b, tpl.bold if strong else None))
                      for a, b, strong in summary], strings)


def _list_xml(rows: list[tuple], steps: list[int], layout: Layout, tpl: _Template, strings: _Strings) -> str:
    """The cells of the list sheet: the bold header, then per row its cells, the outcome cells (unlocked,
    empty) and the step."""
    bold = tpl.bold
    lines = [_rows_xml([tuple((h, bold) for h in layout.header)], strings)]
    n = len(layout.header)
    c = layout.outcome
    letters = [_column(j) for j in range(n)]
    day, free = f' s="{tpl.day}"/>', f' s="{tpl.free}"/>'
    for k, (row, step) in enumerate(zip(rows, steps, strict=True), start=2):  # the rows of one RM's week
        cells = [_cell(letters[j], k, v, None, strings) for j, v in enumerate(row) if v is not None and v != ""]
        cells.append(f'<c r="{letters[c]}{k}"{day}<c r="{letters[c + 1]}{k}"{free}<c r="{letters[c + 2]}{k}"{free}'
                     f'<c r="{letters[c + 3]}{k}"><v>{int(step)}</v></c>')
        lines.append(f'<row r="{k}" spans="1:{n}">{"".join(cells)}</row>')
    return "".join(lines)


def _rows_xml(rows: list[tuple], strings: _Strings, first: int = 1) -> str:
    """Rows of cells, each a (value, style id or None); a value None or "" without a style is no cell."""
    out = []
    for k, row in enumerate(rows, start=first):  # a few rows (a summary, a header, the meta sheet)
        cells = "".join(_cell(_column(j), k, None if v == "" else v, st, strings) for j, (v, st) in enumerate(row)
                        if (v is not None and v != "") or st is not None)
        out.append(f'<row r="{k}" spans="1:{len(row)}">{cells}</row>' if cells else "")
    return "".join(out)


def _cell(col: str, row: int, value, style: int | None, strings: _Strings) -> str:
    """One cell: text as a shared string, a number, or an empty cell with a style."""
    s = f' s="{style}"' if style is not None else ""
    if value is None:
        return f'<c r="{col}{row}"{s}/>'
    if isinstance(value, str):
        return f'<c r="{col}{row}"{s} t="s"><v>{strings.ref(value)}</v></c>'
    return f'<c r="{col}{row}"{s}><v>{value}</v></c>'


_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _si(text: str) -> str:
    """A text as XlsxWriter writes a shared string: cut to Excel's 32,767 characters, control
    characters as ``_xHHHH_`` (and a literal ``_xHHHH_`` escaped), ``& < >`` escaped, leading or trailing
    space preserved."""
    text = text[:32767]
    if "_x" in text:
        text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    keep = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{keep}>{text}</t></si>"


def _column(j: int) -> str:
    """The letters of column ``j`` (0 → A, 26 → AA)."""
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _zip(tpl: _Template, sheets: tuple[tuple[str, int, int], ...], strings: _Strings) -> bytes:
    """The workbook: the template's parts, its three sheets with their cells (each the cells' XML, the
    rows and the columns they span) and their shared strings, zipped as XlsxWriter zips."""
    own = {STRINGS_PART: strings.xml(tpl.sst).encode("utf-8")}
    for (name, head, tail, dim), (xml, n_rows, n_cols) in zip(tpl.sheets, sheets, strict=True):  # three
        ref = f'<dimension ref="A1:{_column(max(n_cols, 1) - 1)}{max(n_rows, 1)}"/>' if xml else '<dimension ref="A1"/>'
        own[name] = (head.replace(dim, ref, 1) + xml + tail).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in tpl.parts:  # a dozen parts
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, own.get(name, data))
    return buf.getvalue()
