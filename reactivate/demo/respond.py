"""A simulated week of the demo bank: the RM lists filled in from the demo book's truth.

``reactivate demo-respond RUN_DIR`` plays the bank's part of the weekly loop on a demo book: it fills
in the outcome columns (contacted on, result, note) of the week's returned lists in
``RUN_DIR/targets/<week start>/`` -- every RM's workbook (``.xlsx``) and CSV list -- as a wealth
manager would hand them back, and, with ``--book``, adds the week's comebacks to the book as
customer-initiated transactions, so that the next ``reactivate run`` and ``reactivate evaluate`` see
them.

The world the simulation draws from is the generator's (:mod:`reactivate.demo.book`), with one
definition of each rule:

* **a touch** has the outcome of the generator's contact model
  (:func:`~reactivate.demo.book.contact_outcome_probs`): it brings the customer back (``came back``)
  with probability ``min(0.7 * true_p_reactivate * fit, 0.5)``, ``fit`` being the channel fit of the
  customer's persona on the touch's channel (``CHANNEL_FIT``); the customer answers (``reached``)
  with ``RESPONSE_BASE[persona] * fit``; declines, complains and opts out at fixed rates;
* **without a touch** a customer comes back on their own at a constant daily hazard
  (:func:`~reactivate.demo.book.spontaneous_hazard`): ``SPONTANEOUS_SHARE * true_p_reactivate`` of
  them within the campaign's 84 days. A touched customer can come back on their own too.

``contacted_on`` is a day of the week (uniform), a comeback by a touch is dated between the contact
and the end of the week, a spontaneous one on a day of the week; about a third of the results carry
a note. Every draw comes from ``numpy.random.default_rng([seed, week start])`` in a fixed order over
the touches sorted by customer and step, so the same lists, truth and seed give the same cells,
and both the workbook and the CSV list of an RM get the same values (recording both changes nothing
twice). Workbooks are written back with openpyxl: their protection, validation, comments and hidden
sheets stay as they were; the files are replaced whole (a failure leaves the previous file).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import load_workbook

from reactivate.demo.book import (
    PERSONAS,
    TXN_AMOUNT_MEDIAN,
    TXN_CHANNEL_WEIGHTS,
    contact_outcome_probs,
    draw_outcomes,
    spontaneous_hazard,
)
from reactivate.errors import InputDataError, OutputError
from reactivate.outputs.files import csv_bytes
from reactivate.outputs.lists import META_SHEET, RESULTS
from reactivate.schema import CHANNELS, OUTCOMES, TXN_CHANNELS

#: the truth files :func:`find_truth` looks for beside the book's accounts (or transactions)
TRUTH_NAMES = ("truth.parquet", "truth.csv", "truth.csv.gz")
#: share of the results that carry a note
NOTE_SHARE = 0.35
#: the notes a wealth manager writes, per outcome, in each language (the same position in both)
NOTES: dict[str, dict[str, tuple[str, ...]]] = {
    "responded": {"en": ("asked to be called back next week", "interested in the deposit rates",
                         "will visit the branch"),
                  "zh": ("请下周再联系", "对存款利率感兴趣", "会去网点看看")},
    "no_answer": {"en": ("voicemail left", "number busy"), "zh": ("已留言", "占线")},
    "declined": {"en": ("not interested for now", "banks elsewhere now"), "zh": ("暂时没有兴趣", "已在他行办理")},
    "reactivated": {"en": ("made a deposit", "moved savings back", "used the app again"),
                    "zh": ("已存入资金", "资金已转回", "已重新使用手机银行")},
    "opted_out": {"en": ("asked not to be contacted this way",), "zh": ("要求不再通过此渠道联系",)},
    "complaint": {"en": ("unhappy about being contacted",), "zh": ("对被联系表示不满",)},
}
#: the cell format of ``contacted_on`` in a workbook (as the contract writes it)
DATE_FORMAT = "yyyy-mm-dd"
#: the time a zip entry of a rewritten workbook carries (a rerun gives the same bytes)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_KEYS = ["customer_id", "step"]


@dataclass(frozen=True)
class Responses:
    """What :func:`respond` filled in.

    ``touches`` has one row per (customer, step) of the week's lists: customer_id, step, channel,
    outcome (a code of ``schema.OUTCOMES``), contacted_on, came_back_on (the day the touch brought the
    customer back, ``NaT`` otherwise), note (in English; the files get the run's language), persona
    and true_p_reactivate (from the truth).
    """

    week_start: dt.date
    files: list[Path]
    touches: pd.DataFrame
    truth: Path

    def counts(self) -> dict[str, int]:
        """Touches per outcome code, in the order of ``schema.OUTCOMES`` (zeros left out)."""
        vc = self.touches["outcome"].value_counts()
        return {o: int(vc[o]) for o in OUTCOMES if vc.get(o, 0)}


# --------------------------------------------------------------------------- the truth


def find_truth(run_dir: str | Path) -> Path:
    """The demo book's truth file for a run: beside the accounts (else transactions) its ``run.json`` names.

    Raises
    ------
    InputDataError
        The run has no run.json, or no truth file lies beside its book.
    """
    run_json = Path(run_dir) / "run.json"
    try:
        inputs = json.loads(run_json.read_text(encoding="utf-8")).get("inputs", {})
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{run_json}: cannot read the run's inputs ({exc}); give --truth") from None
    looked = []
    for table in ("accounts", "transactions"):
        path = (inputs.get(table) or {}).get("path")
        if not path:
            continue
        for name in TRUTH_NAMES:
            candidate = Path(path).parent / name
            looked.append(str(candidate))
            if candidate.is_file():
                return candidate
    raise InputDataError(f"no demo truth beside the run's book (looked for {', '.join(looked) or 'its inputs'}); "
                         "give --truth PATH (the truth.csv or truth.parquet that reactivate demo-data wrote)")


def read_truth(path: str | Path) -> pd.DataFrame:
    """The truth table (customer_id, persona, true_p_reactivate, best_channel), indexed by customer_id.

    Raises
    ------
    InputDataError
        The file cannot be read or lacks a column.
    """
    path = Path(path)
    need = ["customer_id", "persona", "true_p_reactivate", "best_channel"]
    try:
        if path.name.endswith(".parquet"):
            df = pd.read_parquet(path, columns=need)
        else:
            df = pd.read_csv(path, usecols=need, dtype={"customer_id": str, "persona": str, "best_channel": str})
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputDataError(f"{path}: cannot read the demo truth ({exc})") from None
    bad = ~df["persona"].isin(PERSONAS)
    if bad.any():
        raise InputDataError(f"{path}: persona {df['persona'][bad].iloc[0]!r} is not one of the demo's "
                             f"({', '.join(PERSONAS)}), row {int(np.flatnonzero(bad)[0]) + 2}")
    df["customer_id"] = df["customer_id"].astype(str)
    return df.set_index("customer_id")


def _truth_rows(truth: pd.DataFrame, ids: pd.Series, source: str) -> pd.DataFrame:
    """The truth of each id (raises when an id is not in the truth: the wrong book's truth)."""
    pos = truth.index.get_indexer(ids.to_numpy(dtype=object))
    if (pos < 0).any():
        missing = ids[pos < 0]
        raise InputDataError(f"{source}: {len(missing):,} customers are not in the demo truth (first "
                             f"{missing.iloc[0]!r}); give the --truth of the book this run planned on")
    return truth.iloc[pos]


# --------------------------------------------------------------------------- the world's rules


def true_uplift(truth: pd.DataFrame, customer_id, channel, window_days: int) -> np.ndarray:
    """Each touch's true effect on coming back within ``window_days`` of its week's start.

    ``P(back | touched on the channel) - P(back | not touched)`` = ``r * (1 - s)``: ``r`` the touch's
    chance to bring the customer back (the contact model), ``s`` their chance to come back on their own
    within the window (:func:`~reactivate.demo.book.spontaneous_hazard`).
    """
    ids = pd.Series(np.asarray(customer_id, dtype=object))
    rows = _truth_rows(truth, ids, "true_uplift")
    persona = _persona_codes(rows["persona"])
    p = rows["true_p_reactivate"].to_numpy(dtype=float)
    r = contact_outcome_probs(persona, _channel_codes(channel, "true_uplift"), p)[:, OUTCOMES.index("reactivated")]
    s = 1.0 - np.exp(-spontaneous_hazard(p) * window_days)
    return r * (1.0 - s)


def _persona_codes(persona: pd.Series) -> np.ndarray:
    return pd.Categorical(persona, categories=list(PERSONAS)).codes.astype(np.int64)


def _channel_codes(channel, source: str) -> np.ndarray:
    codes = pd.Categorical(np.asarray(channel, dtype=object), categories=list(CHANNELS)).codes.astype(np.int64)
    if (codes < 0).any():
        bad = np.asarray(channel, dtype=object)[codes < 0][0]
        raise InputDataError(f"{source}: channel {bad!r} is not one of {', '.join(CHANNELS)}")
    return codes


def draw_responses(touches: pd.DataFrame, truth: pd.DataFrame, week_start: dt.date, seed: int = 0,
                   source: str = "the lists") -> pd.DataFrame:
    """The outcome of each touch (customer_id, step, channel), drawn from the truth (see the module doc).

    Returns the touches sorted by customer and step with outcome, contacted_on, came_back_on, note,
    persona and true_p_reactivate.
    """
    t = touches.drop_duplicates(_KEYS).sort_values(_KEYS, kind="stable").reset_index(drop=True)
    rows = _truth_rows(truth, t["customer_id"], source)
    k = len(t)
    rng = np.random.default_rng([int(seed), week_start.toordinal()])
    u_outcome, u_day, u_back, u_note, u_which = (rng.random(k) for _ in range(5))
    persona = _persona_codes(rows["persona"])
    p = rows["true_p_reactivate"].to_numpy(dtype=float)
    outcome = draw_outcomes(u_outcome, contact_outcome_probs(persona, _channel_codes(t["channel"], source), p))
    day = np.floor(u_day * 7).astype(np.int64)  # a day of the week
    back = day + np.floor(u_back * (7 - day)).astype(np.int64)  # from the contact to the end of the week
    start = np.datetime64(week_start, "D")
    reactivated = outcome == OUTCOMES.index("reactivated")
    t["outcome"] = np.asarray(OUTCOMES, dtype=object)[outcome]
    t["contacted_on"] = (start + day).astype("datetime64[s]")
    t["came_back_on"] = np.where(reactivated, start + back, np.datetime64("NaT")).astype("datetime64[s]")
    t["note"] = _notes(t["outcome"].to_numpy(dtype=object), u_note < NOTE_SHARE, u_which, "en")
    t["persona"] = rows["persona"].to_numpy(dtype=object)
    t["true_p_reactivate"] = p
    return t


def _notes(outcome: np.ndarray, has_note: np.ndarray, which: np.ndarray, lang: str) -> np.ndarray:
    """A note per row ("" when none) in ``lang``, the ``which`` uniform picking among the outcome's notes."""
    out = np.full(len(outcome), "", dtype=object)
    for code, texts in NOTES.items():  # one per outcome
        sel = has_note & (outcome == code)
        choices = np.asarray(texts[lang], dtype=object)
        out[sel] = choices[np.floor(which[sel] * len(choices)).astype(np.int64)]
    return out


def _translated(notes: pd.Series, lang: str) -> pd.Series:
    """English notes (as :func:`draw_responses` writes them) in ``lang``."""
    if lang == "en":
        return notes
    table = {en: other for texts in NOTES.values() for en, other in zip(texts["en"], texts[lang], strict=True)}
    return notes.map(table).fillna(notes)


# --------------------------------------------------------------------------- the lists


def list_folder(run_dir: str | Path) -> tuple[dt.date, Path]:
    """The run's own week: its earliest folder ``targets/<week start>/`` (the week the ledger issued).

    Raises
    ------
    InputDataError
        The run has no week of lists.
    """
    targets = Path(run_dir) / "targets"
    weeks = []
    if targets.is_dir():
        for child in targets.iterdir():  # a few week folders
            try:
                weeks.append((dt.date.fromisoformat(child.name), child))
            except ValueError:
                continue
    weeks = [w for w in weeks if w[1].is_dir()]
    if not weeks:
        raise InputDataError(f"{targets}: no week of RM lists (targets/<week start>/) to fill in; is {run_dir} "
                             "the folder of a reactivate run or plan?")
    return min(weeks)


def _clean_ids(values) -> pd.Series:
    """Customer ids as the lists hold them, with the one leading apostrophe of a neutralised cell taken off."""
    s = pd.Series(np.asarray(values, dtype=object)).astype(str)
    return s.where(~s.str.startswith("'"), s.str[1:])


def _read_csv_list(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{path}: cannot read the RM list ({exc})") from None
    missing = [c for c in ("customer_id", "channel", "step", "contacted_on", "result", "note") if c not in df.columns]
    if missing:
        raise InputDataError(f"{path}: no column {', '.join(missing)}: not a list to hand back (one with "
                             "contacted_on, result and note, as reactivate writes them)")
    return df


def _workbook_meta(wb, path: Path) -> dict[str, str]:
    if META_SHEET not in wb.sheetnames:
        raise InputDataError(f"{path}: no {META_SHEET} sheet: not an RM workbook to hand back")
    meta = {str(k): "" if v is None else str(v) for k, v, *_ in wb[META_SHEET].iter_rows(values_only=True) if k}
    if "columns" not in meta or meta.get("week_start", "") not in wb.sheetnames:
        raise InputDataError(f"{path}: sheet {META_SHEET} names no columns or no list sheet (week_start "
                             f"{meta.get('week_start', '')!r})")
    return meta


def _workbook_rows(ws, keys: list[str]) -> pd.DataFrame:
    """customer_id, step and channel of a list sheet's rows (from row 2), with their row numbers."""
    want = [keys.index(k) for k in ("customer_id", "step", "channel")]
    cells = [tuple(row[i] if i < len(row) else None for i in want)
             for row in ws.iter_rows(min_row=2, values_only=True)]
    df = pd.DataFrame(cells, columns=["customer_id", "step", "channel"], dtype=object)
    df["row"] = np.arange(2, len(df) + 2)
    return df[df["customer_id"].notna()]


def _read_workbook(path: Path) -> tuple[pd.DataFrame, str]:
    try:
        wb = load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InputDataError(f"{path}: cannot read the RM workbook ({exc})") from None
    try:
        meta = _workbook_meta(wb, path)
        keys = meta["columns"].split(",")
        missing = [k for k in ("customer_id", "step", "channel", "contacted_on", "result", "note") if k not in keys]
        if missing:
            raise InputDataError(f"{path}: sheet {META_SHEET} lists no column {', '.join(missing)}")
        rows = _workbook_rows(wb[meta["week_start"]], keys)
    finally:
        wb.close()
    return rows, meta.get("lang", "en") or "en"


def _as_touches(ids, steps, channels, path: Path) -> pd.DataFrame:
    step = pd.to_numeric(pd.Series(np.asarray(steps, dtype=object)), errors="coerce")
    if step.isna().any() or (step % 1 != 0).any():
        raise InputDataError(f"{path}: a step that is not a whole number ({step[step.isna()].index[:1].tolist()})")
    return pd.DataFrame({"customer_id": _clean_ids(ids), "step": step.astype("int64").to_numpy(),
                         "channel": pd.Series(np.asarray(channels, dtype=object)).astype(str).to_numpy()})


def read_lists(folder: Path) -> tuple[pd.DataFrame, dict[Path, str]]:
    """Every touch on the week's lists (customer_id, step, channel) and each list file with its language.

    A CSV list takes the language of its RM's workbook (the same name), else of any workbook, else English.
    """
    files: dict[Path, str] = {}
    parts = []
    for path in sorted(folder.glob("*.xlsx")):  # one per RM
        rows, lang = _read_workbook(path)
        files[path] = lang
        parts.append(_as_touches(rows["customer_id"], rows["step"], rows["channel"], path))
    some = next(iter(files.values()), "en")
    for path in sorted(folder.glob("*.csv")):  # one per RM
        df = _read_csv_list(path)
        files[path] = files.get(path.with_suffix(".xlsx"), some)
        parts.append(_as_touches(df["customer_id"], df["step"], df["channel"], path))
    if not files:
        raise InputDataError(f"{folder}: no RM lists (.xlsx or .csv) to fill in")
    touches = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["customer_id", "step", "channel"])
    return touches, files


def _cells(df: pd.DataFrame, responses: pd.DataFrame, lang: str, path: Path) -> pd.DataFrame:
    """The responses of a file's rows (its customer_id and step), in its order, with result labels in ``lang``."""
    keys = _as_touches(df["customer_id"], df["step"], df["channel"], path)
    got = keys.merge(responses[[*_KEYS, "outcome", "contacted_on", "note"]], on=_KEYS, how="left")
    labels = {code: names[lang if lang in names else "en"] for code, names in RESULTS.items()}
    got["result"] = got["outcome"].map(labels)
    got["note"] = _translated(got["note"].fillna(""), lang if lang in ("en", "zh") else "en")
    return got


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def fill_csv(path: Path, responses: pd.DataFrame, lang: str = "en") -> None:
    """Write contacted_on, result and note into an RM's CSV list (the other cells as they were)."""
    df = _read_csv_list(path)
    got = _cells(df, responses, lang, path)
    day = got["contacted_on"].to_numpy(dtype="datetime64[D]").astype(str)
    df["contacted_on"] = np.where(got["outcome"].notna(), day, None)
    df["result"] = got["result"].to_numpy(dtype=object)
    note = got["note"].to_numpy(dtype=object)
    df["note"] = np.where(note == "", None, note)
    _replace(path, csv_bytes({c: pa.array(df[c].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
                              for c in df.columns}))


def fill_workbook(path: Path, responses: pd.DataFrame, week_start: dt.date) -> None:
    """Write contacted_on, result and note into an RM's workbook, in place; protection, validation,
    comments and the hidden sheets stay as they were, and the same cells give the same bytes."""
    try:
        wb = load_workbook(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InputDataError(f"{path}: cannot read the RM workbook ({exc})") from None
    meta = _workbook_meta(wb, path)
    keys = meta["columns"].split(",")
    ws = wb[meta["week_start"]]
    rows = _workbook_rows(ws, keys)
    got = _cells(rows, responses, meta.get("lang", "en") or "en", path)
    col = {k: keys.index(k) + 1 for k in ("contacted_on", "result", "note")}
    filled = got["outcome"].notna().to_numpy()
    days = got["contacted_on"].dt.date.to_numpy(dtype=object)
    for row, day, result, note, ok in zip(rows["row"], days, got["result"], got["note"], filled, strict=True):
        if not ok:  # a row of another week or run: left as it is
            continue
        cell = ws.cell(row=int(row), column=col["contacted_on"], value=day)
        cell.number_format = DATE_FORMAT
        ws.cell(row=int(row), column=col["result"], value=result)
        ws.cell(row=int(row), column=col["note"], value=note or None)
    buf = io.BytesIO()
    wb.save(buf)
    _replace(path, _fixed_zip(buf.getvalue(), week_start + dt.timedelta(days=6)))


def _fixed_zip(data: bytes, modified: dt.date) -> bytes:
    """The same zip with no time of saving in it (openpyxl stamps it on every entry and as the workbook's
    modified time): the entries' times fixed, the modified time ``modified``."""
    stamp = f">{modified.isoformat()}T00:00:00Z</dcterms:modified>".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # a few dozen parts
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            part = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                part = re.sub(rb">[^<]*</dcterms:modified>", stamp, part)
            dst.writestr(fixed, part)
    return out.getvalue()


def respond(run_dir: str | Path, truth: str | Path | None = None, seed: int = 0) -> Responses:
    """Fill in the week's RM lists of ``run_dir`` from the demo truth (``reactivate demo-respond``).

    Parameters
    ----------
    run_dir : a run's output folder (``reactivate run`` or ``plan``): its ``targets/<week start>/``
        workbooks and CSV lists are filled in place.
    truth : the demo book's truth file (default: beside the book the run read, :func:`find_truth`).
    seed : the same lists, truth and seed give the same cells.

    Raises
    ------
    InputDataError, OutputError
    """
    week_start, folder = list_folder(run_dir)
    truth_path = Path(truth) if truth is not None else find_truth(run_dir)
    table = read_truth(truth_path)
    touches, files = read_lists(folder)
    responses = draw_responses(touches, table, week_start, seed, source=str(folder))
    for path, lang in files.items():  # one per RM list
        if path.suffix == ".xlsx":
            fill_workbook(path, responses, week_start)
        else:
            fill_csv(path, responses, lang)
    return Responses(week_start, list(files), responses, truth_path)


# --------------------------------------------------------------------------- the book moves on


def spontaneous_comebacks(truth: pd.DataFrame, week_start: dt.date, seed: int = 0) -> pd.DataFrame:
    """Customers who come back on their own in the week from ``week_start``: customer_id, day.

    Each customer of the truth, touched or not, comes back in a week with probability
    ``1 - exp(-7 * hazard)`` (:func:`~reactivate.demo.book.spontaneous_hazard`), on a day of the week.
    """
    n = len(truth)
    rng = np.random.default_rng([int(seed), week_start.toordinal(), 1])
    u, u_day = rng.random(n), rng.random(n)
    q = 1.0 - np.exp(-7.0 * spontaneous_hazard(truth["true_p_reactivate"].to_numpy(dtype=float)))
    hit = u < q
    day = np.datetime64(week_start, "D") + np.floor(u_day[hit] * 7).astype(np.int64)
    return pd.DataFrame({"customer_id": truth.index.to_numpy(dtype=object)[hit], "day": day.astype("datetime64[s]")})


def _book_file(book_dir: Path, table: str) -> Path:
    for ext in ("csv", "csv.gz", "parquet"):
        path = book_dir / f"{table}.{ext}"
        if path.is_file():
            return path
    raise InputDataError(f"{book_dir}: no {table}.csv, {table}.csv.gz or {table}.parquet (the demo book's folder)")


def _read_book_table(path: Path) -> pa.Table:
    """A book table: CSV as text columns (written back as they were), Parquet with its types."""
    try:
        if path.name.endswith(".parquet"):
            return pq.read_table(path)
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            header = f.readline().rstrip("\r\n").split(",")
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=True)
        return pacsv.read_csv(path, convert_options=convert)
    except (OSError, pa.ArrowException) as exc:
        raise InputDataError(f"{path}: cannot read the demo book ({exc})") from None


def _write_book_table(table: pa.Table, path: Path) -> None:
    if path.name.endswith(".parquet"):
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf, compression="zstd")
        _replace(path, buf.getvalue().to_pybytes())
        return
    data = csv_bytes({name: col.combine_chunks() for name, col in zip(table.column_names, table.columns, strict=True)})
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    _replace(path, data)


def _comeback_rows(back: pd.DataFrame, truth: pd.DataFrame, accounts: pa.Table, rng: np.random.Generator,
                   types: pa.Schema) -> pa.Table:
    """One customer-initiated transaction per comeback, on the customer's first account, typed as ``types``."""
    ids = pd.Index(accounts.column("customer_id").to_numpy(zero_copy_only=False).astype(object))
    primary = np.flatnonzero(~ids.duplicated(keep="first"))  # the primary account is the customer's first row
    at = pd.Index(ids[primary]).get_indexer(back["customer_id"].to_numpy(dtype=object))
    if (at < 0).any():
        raise InputDataError(f"{int((at < 0).sum()):,} customers of the truth are not in the book's accounts "
                             f"(first {back['customer_id'].to_numpy()[at < 0][0]!r}): is it the same book?")
    k = len(back)
    persona = _persona_codes(_truth_rows(truth, back["customer_id"], "the book")["persona"])
    seconds = 9 * 3600 + np.floor(rng.random(k) * 9 * 3600).astype(np.int64)
    amount = np.round(TXN_AMOUNT_MEDIAN[persona] * np.exp(0.5 * rng.standard_normal(k)), 2)
    weights = np.cumsum(TXN_CHANNEL_WEIGHTS[persona], axis=1)
    channel = (rng.random(k)[:, None] * weights[:, -1:] >= weights).sum(axis=1)
    when = back["day"].to_numpy(dtype="datetime64[s]") + seconds.astype("timedelta64[s]")
    rows = {"customer_id": pa.array(back["customer_id"].to_numpy(dtype=object), type=pa.string()),
            "timestamp": pa.array(when, type=pa.timestamp("s")),
            "amount": pa.array(np.maximum(amount, 0.01)),
            "channel": pa.array(np.asarray(TXN_CHANNELS, dtype=object)[channel], type=pa.string()),
            "initiated_by": pa.array(["customer"] * k, type=pa.string()),
            "account_id": accounts.column("account_id").take(pa.array(primary[at]))}
    return pa.table({f.name: pc.cast(rows[f.name], f.type) for f in types})


def advance_book(book_dir: str | Path, truth: pd.DataFrame, week_start: dt.date, touches: pd.DataFrame | None = None,
                 seed: int = 0) -> int:
    """Add the week's comebacks to the demo book in ``book_dir``; returns how many transactions were added.

    The customers the week's ``touches`` brought back (their ``came_back_on``, :attr:`Responses.touches`;
    None: a week without touches) and those who come back on their own in the week from ``week_start``
    (:func:`spontaneous_comebacks`) each get a customer-initiated transaction (a deposit on their first
    account, on that day), and that account's ``last_activity_date`` moves up to it, so the next run
    sees them active and ``reactivate evaluate`` counts them. Adding the same week again adds nothing.

    Raises
    ------
    InputDataError, OutputError
    """
    book_dir = Path(book_dir)
    parts = [spontaneous_comebacks(truth, week_start, seed)]
    if touches is not None and len(touches):
        touched = touches.loc[touches["came_back_on"].notna(), ["customer_id", "came_back_on"]]
        parts.insert(0, touched.set_axis(["customer_id", "day"], axis=1))
    back = pd.concat(parts, ignore_index=True).sort_values(["customer_id", "day"], kind="stable")
    acc_path, txn_path = _book_file(book_dir, "accounts"), _book_file(book_dir, "transactions")
    accounts, txn = _read_book_table(acc_path), _read_book_table(txn_path)
    rng = np.random.default_rng([int(seed), week_start.toordinal(), 2])
    new = _comeback_rows(back.reset_index(drop=True), truth, accounts, rng, txn.schema)
    new = new.filter(pc.invert(pc.is_in(_txn_key(new), value_set=_txn_key(txn))))
    if new.num_rows == 0:
        return 0
    both = pa.concat_tables([txn, new])
    both = both.take(pc.sort_indices(both, [("customer_id", "ascending"), ("timestamp", "ascending")]))
    _write_book_table(_moved_activity(accounts, new), acc_path)
    _write_book_table(both, txn_path)
    return new.num_rows


def _txn_key(table: pa.Table) -> pa.Array:
    """customer|timestamp|account of each transaction, as text (the same row added twice has the same key)."""
    cols = [pc.cast(table.column(c), pa.string()) for c in ("customer_id", "timestamp", "account_id")]
    return pc.binary_join_element_wise(*cols, "|")


def _moved_activity(accounts: pa.Table, new: pa.Table) -> pa.Table:
    """``accounts`` with each new transaction's account's last_activity_date moved up to its day."""
    col = accounts.schema.get_field_index("last_activity_date")
    typ = accounts.schema.field(col).type
    day = pc.cast(pc.utf8_slice_codeunits(pc.cast(new.column("timestamp"), pa.string()), 0, 10), typ)
    pos = pc.index_in(new.column("account_id"), value_set=accounts.column("account_id")).to_numpy(zero_copy_only=False)
    last = accounts.column(col).to_numpy(zero_copy_only=False).astype(object)
    for_day = day.to_numpy(zero_copy_only=False).astype(object)
    current = pd.to_datetime(pd.Series(last[pos]))
    later = (current.isna() | (pd.to_datetime(pd.Series(for_day)) > current)).to_numpy()
    last[pos[later]] = for_day[later]  # rows are by customer and day: the latest day is written last
    return accounts.set_column(col, "last_activity_date", pa.array(last, type=typ))
