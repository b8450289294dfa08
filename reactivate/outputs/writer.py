"""Writing a run's outputs: all or nothing.

Everything is written into a fresh sibling directory first and swapped into
place only when complete, so a failed run leaves the previous outputs as they
were. A directory that holds no ``run.json`` is never replaced (it is not
ours), unless it is empty. The replaced outputs are deleted by a detached
background process (a weekly run replaces tens of thousands of RM lists, and
deleting them is slow on some file systems); leftovers of an interrupted
deletion are swept by the next run.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reactivate.errors import OutputError

PLAN_COLUMNS = ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id", "theme", "reason",
                "journey", "condition", "best_time"]
TARGET_COLUMNS = ["priority", "customer_id", "segment_name", "channel", "step", "condition", "theme", "theme_name",
                  "reason", "p_reactivate", "expected_value", "last_contact", "contacts_30d", "best_time"]
#: the columns of each RM's weekly workbook (``lang`` sets the language of theme and opener)
EXCEL_COLUMNS = {
    "en": ["Customer", "Why now", "Theme", "Opener", "Channel", "Last contacts", "Best time"],
    "zh": ["客户", "为何现在", "主题", "开场白", "渠道", "最近联系", "最佳时间"],
}
#: a spreadsheet reads a cell starting with one of these as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _arrow(values) -> pa.Array:
    """One output column as Arrow: dates as date32, categoricals as dictionaries, text as strings."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, pd.Series):
        values = values.to_numpy() if values.dtype.kind == "M" else values.array
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes)
        cats = pa.array(np.asarray(values.categories, dtype=object).astype(str), type=pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), cats)
    arr = np.asarray(values) if not isinstance(values, pd.api.extensions.ExtensionArray) else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
        return pa.array(arr.astype("datetime64[D]"), type=pa.date32())
    if isinstance(arr, np.ndarray) and arr.dtype == object:
        return pa.array(arr, type=pa.string(), from_pandas=True)
    return pa.array(arr, from_pandas=True)


def csv_bytes(columns: pd.DataFrame | dict) -> bytes:
    """Deterministic CSV written by Arrow: dates as YYYY-MM-DD, quotes only where needed, '\\n' line ends.

    Takes a DataFrame or a dict of column arrays (no pandas round trip). Round
    floats before calling: they are written in their shortest exact form.
    """
    items = columns.items() if isinstance(columns, dict) else ((c, columns[c]) for c in columns.columns)
    cols = {str(name): _arrow(values) for name, values in items}
    buf = io.BytesIO()
    buf.write((",".join(_header_cell(c) for c in cols) + "\n").encode())
    table = pa.table(cols) if cols else None
    if table is not None and table.num_rows:
        # Arrow's "needed" style quotes every text value; quote nothing unless some value must be
        style = "needed" if any(_needs_quotes(a) for a in cols.values()) else "none"
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style=style))
    return buf.getvalue()


def _needs_quotes(arr: pa.Array) -> bool:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    return bool(pc.any(pc.match_substring_regex(arr, '[,"\r\n]')).as_py())


def _header_cell(name: str) -> str:
    return f'"{name}"' if any(ch in name for ch in ',"\n') else name


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_jsonable) + "\n").encode()


def _jsonable(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


class Staging:
    """A temporary directory beside ``out`` that replaces it on :meth:`commit`."""

    def __init__(self, out: Path):
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"{self.out}: exists and is not a directory")
        if self.out.is_dir() and any(self.out.iterdir()) and not (self.out / "run.json").is_file():
            raise OutputError(
                f"{self.out}: not empty and holds no run.json; refusing to replace a directory "
                "reactivate did not write (choose another --out)"
            )
        parent = self.out.resolve().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=parent))
        except OSError as exc:
            raise OutputError(f"{parent}: cannot write here ({exc.strerror})") from None
        self._root = str(self.tmp)
        self._dirs: set[str] = set()

    def write(self, rel: str, data: bytes) -> None:
        folder, _, _ = rel.rpartition("/")
        if folder and folder not in self._dirs:
            os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            self._dirs.add(folder)
        with open(os.path.join(self._root, rel), "wb") as fh:
            fh.write(data)

    def commit(self) -> None:
        old = None
        try:
            if self.out.exists():
                old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
                os.replace(self.out, old)
            os.replace(self.tmp, self.out)
        except OSError as exc:
            if old is not None and not self.out.exists():
                os.replace(old, self.out)
            raise OutputError(f"{self.out}: cannot put the outputs in place ({exc.strerror})") from None
        stale = sorted(self.out.parent.glob(f".{self.out.name}.old-*"))
        if stale:
            _remove_in_background(stale)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def staged(out: str | Path):
    """``with staged(out) as stage:`` write into ``stage``; the outputs replace ``out`` only on success."""
    stage = Staging(Path(out))
    try:
        yield stage
        stage.commit()
    except BaseException:
        stage.abort()
        raise


def _remove_in_background(paths: list[Path]) -> None:
    code = "import shutil, sys\nfor p in sys.argv[1:]:\n    shutil.rmtree(p, ignore_errors=True)\n"
    try:
        subprocess.Popen([sys.executable, "-c", code, *map(str, paths)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        for p in paths:
            shutil.rmtree(p, ignore_errors=True)


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
    from reactivate.scoring.timing import week_starts

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


def neutralise(values) -> np.ndarray:
    """Text safe to open in a spreadsheet: a value starting with = + - @ (or a tab or carriage return)
    gets a leading apostrophe, so it is shown as text and never run as a formula."""
    arr = np.asarray(values, dtype=object)
    if len(arr) == 0:
        return arr
    text = pd.Series(arr).astype(str)
    bad = text.str.startswith(FORMULA_START).to_numpy()
    if not bad.any():
        return arr
    out = arr.copy()
    out[bad] = ("'" + text[bad]).to_numpy()
    return out


def _neutral_categorical(values) -> pd.Categorical:
    """A categorical column with its categories neutralised (one pass over the distinct values)."""
    cat = pd.Categorical(values)
    cats = neutralise(np.asarray(cat.categories, dtype=object).astype(str))
    return pd.Categorical.from_codes(cat.codes, categories=pd.Index(cats).unique()) if len(set(cats)) == len(cats) \
        else pd.Categorical(np.asarray(cats, dtype=object)[cat.codes])


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
    from reactivate.themes import LANGS, theme_text

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
            from reactivate.outputs.report import render_report

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
    from reactivate.themes import theme_name

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
        "reason": _neutral_categorical(plan["reason"].array.take(order)),
        "p_reactivate": sc["p_reactivate"].to_numpy()[pos].round(4),
        "expected_value": sc["expected_value"].to_numpy()[pos].round(2),
        "last_contact": sc["last_contact"].to_numpy()[pos],
        "contacts_30d": sc["contacts_30d"].to_numpy()[pos].astype(np.int64),
        "best_time": plan["best_time"].array.take(order),
    }
    weeks = np.asarray(plan["week_start"].cat.categories, dtype=object)
    rms = [_safe(r) for r in plan["rm_id"].cat.categories]  # one per RM
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

    from reactivate.labels import text_from_keys
    from reactivate.themes import opener, theme_name
    from reactivate.scoring.timing import festival_ahead, festivals

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
    rms = [_safe(r) for r in plan["rm_id"].cat.categories]
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
    import os

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


def _safe(name: str) -> str:
    """A file-name-safe version of an RM id."""
    out = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))
    return out.strip(".") or "_"
