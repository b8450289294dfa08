"""Reading a run directory's outputs into the small summary tables a report is drawn from.

Only the columns a report needs are read (never customer ids), and every table
is reduced with Arrow/pandas group-bys, so a million-customer run summarises in
seconds and the report never lists customers one by one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reactivate.errors import InputDataError
from reactivate.outputs.i18n import phrase, t

REQUIRED = ("summary.json", "run.json", "segments.csv", "plan.csv", "capacity.csv")
UPLIFT_COLUMNS = ["dimension", "level", "n_treated", "n_holdout", "rate_treated", "rate_holdout", "uplift",
                  "ci_low", "ci_high"]
# the names ``reactivate evaluate`` writes for the same columns
UPLIFT_ALIASES = {"value": "level", "n_control": "n_holdout", "rate_control": "rate_holdout"}
# the RMs shown one by one in the capacity heatmap (the busiest); the rest are summarised in numbers
TOP_RMS = 25


@dataclass
class RunOutputs:
    """What a report shows, summarised from one run directory."""

    path: Path
    summary: dict
    run: dict
    segments: pd.DataFrame  # one row per segment (segments.csv)
    by_week_channel: pd.DataFrame  # touches: week_start x channel
    by_wave: pd.Series  # touches per wave
    channel_use: pd.DataFrame  # share of capacity used: channel x week
    channel_totals: pd.DataFrame  # per channel: used, capacity
    rm_use: pd.DataFrame  # share of call capacity used: busiest RMs x week
    rm_bands: pd.DataFrame  # every RM: how many RMs used how much of their call capacity, week x band
    n_rms: int
    suppressed_by_reason: pd.Series
    unscheduled_by_reason: pd.Series
    holdout_by_segment: pd.Series
    reasons: pd.DataFrame  # why customers rank high: event, top-decile count, all count
    uplift: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{path}: cannot read it as JSON ({exc})") from None


def _read_csv(path: Path, columns: list[str], optional: bool = False) -> pa.Table | None:
    """The named columns of a CSV output, all as text (types are converted where needed)."""
    if not path.is_file():
        if optional:
            return None
        raise InputDataError(f"{path}: missing; is this the output directory of reactivate plan?")
    try:
        with path.open("rb") as fh:
            first = fh.readline().decode("utf-8", "replace").strip().split(",")
        header = [h.strip('"') for h in first]
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read it ({exc.strerror})") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputDataError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header)}")
    try:
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=columns, column_types={c: pa.string() for c in columns}, strings_can_be_null=False))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputDataError(f"{path}: cannot read it ({exc})") from None


def as_text(columns: dict | None, names: list[str]) -> pa.Table | None:
    """The columns ``names`` of ``columns`` as :func:`_read_csv` reads them back from the CSV they were written
    to: text, a missing value as "". Only for text, whole numbers and categoricals (whose CSV text is their
    Arrow text); None for anything else (or no ``columns``): the file is read then."""
    if columns is None:
        return None
    out = {}
    for name in names:  # a few columns
        values = columns[name]
        values = values.array if isinstance(values, pd.Series) else values
        if isinstance(values, pd.Categorical):
            cats = pa.array(np.asarray(values.categories, dtype=object).astype(str), type=pa.string())
            codes = np.asarray(values.codes)
            arr = cats.take(pa.array(codes, mask=codes < 0))
        elif isinstance(values, pa.Array | pa.ChunkedArray):
            arr = values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) else values
        else:
            arr = pa.array(np.asarray(values))
        if not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)):
            return None
        out[name] = pc.cast(arr, pa.string()).fill_null("")
    return pa.table(out)


def givable(columns: dict, names: list[str]) -> bool:
    """Whether :func:`as_text` takes the columns ``names`` of ``columns`` (checked by type, nothing converted):
    if so, the file they are written to need not be written before the report reads them."""
    for name in names:  # a few columns
        values = columns[name]
        values = values.array if isinstance(values, pd.Series) else values
        if isinstance(values, pd.Categorical):
            continue
        if isinstance(values, pa.Array | pa.ChunkedArray):
            kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
            if not (pa.types.is_string(kind) or pa.types.is_integer(kind)):
                return False
        elif np.asarray(values).dtype.kind not in "iuU":
            return False
    return True


def _counts(table: pa.Table | None, column: str) -> pd.Series:
    """Rows per value of ``column``, largest first (ties by value)."""
    if table is None or table.num_rows == 0:
        return pd.Series(dtype="int64")
    vc = pc.value_counts(table[column]).to_pylist()
    s = pd.Series({d["values"]: d["counts"] for d in vc}, dtype="int64")
    return s.sort_index(kind="stable").sort_values(ascending=False, kind="stable")


def load_run_outputs(run_dir: str | Path, uplift: str | Path | None = None,
                     given: dict[str, dict] | None = None) -> RunOutputs:
    """Summarise the outputs of ``reactivate plan`` in ``run_dir`` for a report.

    ``uplift`` is an uplift table (e.g. the ``uplift.csv`` of ``reactivate evaluate``);
    by default ``run_dir/uplift.csv`` when it exists. ``given`` maps a file (``plan.csv``, ``scores.csv``) to
    the columns just written to it (text, whole numbers or categoricals: :func:`as_text`), so that the
    writer's report does not read back what it holds (nor needs it written yet).

    Raises
    ------
    InputDataError
        A required output is missing or unreadable, or ``uplift.csv`` lacks a column.
    """
    d = Path(run_dir)
    if not d.is_dir():
        raise InputDataError(f"{d}: no such directory (give the --out directory of reactivate plan)")
    given = given or {}
    missing = [f for f in REQUIRED if f not in given and not (d / f).is_file()]  # a file given may be unwritten
    if missing:
        raise InputDataError(f"{d}: not the output of reactivate plan (missing {', '.join(missing)})")
    summary = _read_json(d / "summary.json")
    run = _read_json(d / "run.json")
    if "plan" not in summary:
        raise InputDataError(f"{d / 'summary.json'}: has no plan (the output of reactivate rank?); "
                             "a report needs the output of reactivate plan")

    seg = pd.read_csv(d / "segments.csv", dtype={"segment_id": str, "segment_name": str}, keep_default_na=False,
                      na_values={c: [""] for c in ("median_balance",)})
    if "rank" not in seg.columns:
        raise InputDataError(f"{d / 'segments.csv'}: missing column rank")

    plan = as_text(given.get("plan.csv"), ["week_start", "channel", "wave"])
    plan = plan if plan is not None else _read_csv(d / "plan.csv", ["week_start", "channel", "wave"])
    weeks = summary.get("plan", {}).get("weeks") or sorted(set(summary["plan"].get("by_week", {})))
    channels = [c for c in summary.get("channels", []) if c in summary["plan"].get("by_channel", {})]
    if plan.num_rows:
        g = plan.group_by(["week_start", "channel"]).aggregate([("wave", "count")]).to_pandas()
        by_wc = g.pivot(index="week_start", columns="channel", values="wave_count")
    else:
        by_wc = pd.DataFrame()
    by_wave = _counts(plan, "wave")
    by_wave.index = by_wave.index.astype(int)
    by_wave = by_wave.sort_index()

    cap = pd.read_csv(d / "capacity.csv", dtype={"week_start": str, "resource": str, "name": str})
    # every week of the campaign (capacity has a row per week), also those without a touch
    all_weeks = sorted(set(weeks) | set(by_wc.index) | set(cap["week_start"]))
    chans = channels + sorted(set(by_wc.columns) - set(channels))
    by_wc = by_wc.reindex(index=all_weeks, columns=chans).fillna(0).astype("int64")
    ch = cap[cap["resource"] == "channel"]
    channel_use = _share(ch)
    order = [c for c in summary.get("channels", []) if c in channel_use.index]
    channel_use = channel_use.reindex(order + sorted(set(channel_use.index) - set(order)))
    channel_totals = ch.groupby("name", sort=True)[["used", "capacity"]].sum()
    rm = cap[cap["resource"].isin(["rm", "pool"])]
    busiest = (rm.groupby("name", sort=True)["used"].sum().sort_index(kind="stable")
               .sort_values(ascending=False, kind="stable"))
    rm_use = _share(rm[rm["name"].isin(busiest.index[:TOP_RMS])]).reindex(busiest.index[:TOP_RMS])
    rm_bands = _bands(rm)

    sup = _read_csv(d / "suppressed.csv", ["reason"], optional=True)
    uns = _read_csv(d / "unscheduled.csv", ["reason"], optional=True)
    hold = _read_csv(d / "holdout.csv", ["segment_id"], optional=True)
    suppressed = _counts(sup, "reason") if sup is not None else pd.Series(summary["plan"].get("suppressed_by_reason", {}))
    unscheduled = (_counts(uns, "reason") if uns is not None
                   else pd.Series(summary["plan"].get("unscheduled_by_reason", {})))

    return RunOutputs(
        path=d, summary=summary, run=run, segments=seg.sort_values("rank", kind="stable").reset_index(drop=True),
        by_week_channel=by_wc, by_wave=by_wave, channel_use=channel_use, channel_totals=channel_totals,
        rm_use=rm_use, rm_bands=rm_bands, n_rms=int(rm["name"].nunique()), suppressed_by_reason=suppressed,
        unscheduled_by_reason=unscheduled, holdout_by_segment=_counts(hold, "segment_id"),
        reasons=reason_events(d / "scores.csv", given.get("scores.csv")),
        uplift=read_uplift(Path(uplift) if uplift else d / "uplift.csv", required=uplift is not None),
    )


def _share(cap: pd.DataFrame) -> pd.DataFrame:
    """used / capacity per name (rows) and week (columns); NaN where there was no capacity."""
    if cap.empty:
        return pd.DataFrame()
    used = cap.pivot_table(index="name", columns="week_start", values="used", aggfunc="sum", sort=True)
    capacity = cap.pivot_table(index="name", columns="week_start", values="capacity", aggfunc="sum", sort=True)
    return used / capacity.where(capacity > 0)


# bands of the share of an RM's weekly call capacity used (i18n keys band_<name>)
BANDS = ("idle", "1-25", "25-50", "50-75", "75-99", "full")


def _bands(rm: pd.DataFrame) -> pd.DataFrame:
    """RMs per week (rows) in each band of call capacity used (columns, :data:`BANDS`)."""
    if rm.empty:
        return pd.DataFrame(columns=list(BANDS))
    share = (rm["used"] / rm["capacity"].clip(lower=1)).to_numpy(dtype=float)
    band = np.select([rm["used"].to_numpy() <= 0, share >= 1, share < 0.25, share < 0.5, share < 0.75],
                     [0, 5, 1, 2, 3], default=4)
    t = pd.crosstab(rm["week_start"].to_numpy(), band).reindex(columns=range(len(BANDS)), fill_value=0)
    t.columns = list(BANDS)
    t.index.name = "week_start"
    return t.sort_index()


# the dated event behind a score's reason (the reason texts of reactivate.scoring.timing)
_EVENTS = (("^becomes inoperative", "deadline"), ("^deposit matures", "maturity"), ("^birthday", "birthday"),
           (r"\d+ years? with the bank on", "anniversary"), ("credited around day", "payday"))


def reason_events(path: Path, given: dict | None = None) -> pd.DataFrame:
    """Why customers rank where they do: the dated event behind each score reason, in the top 10% and overall
    (from ``given``, the columns written to ``path``, when given)."""
    t = as_text(given, ["priority_rank", "reason"])
    t = t if t is not None else _read_csv(path, ["priority_rank", "reason"], optional=True)
    if t is None or t.num_rows == 0:
        return pd.DataFrame(columns=["event", "top_decile", "all"])
    # the patterns are matched once per distinct reason (a few hundred texts), not once per customer
    texts = pc.unique(t["reason"])
    names = ["none", *dict.fromkeys(name for _, name in _EVENTS)]
    of_text = np.zeros(len(texts), dtype=np.int64)
    for pattern, name in reversed(_EVENTS):  # the first matching pattern wins
        of_text[pc.match_substring_regex(texts, pattern).to_numpy(zero_copy_only=False)] = names.index(name)
    event = of_text[pc.index_in(t["reason"], value_set=texts).to_numpy()]
    rank = pc.cast(t["priority_rank"], pa.int64()).to_numpy()
    top = rank <= max(1, int(np.ceil(len(rank) * 0.1)))
    n_all = np.bincount(event, minlength=len(names))
    n_top = np.bincount(event[top], minlength=len(names))
    seen = sorted((names[i], i) for i in np.flatnonzero(n_all))  # by event name, as a group-by would
    out = pd.DataFrame({"event": np.array([name for name, _ in seen], dtype=object),
                        "top_decile": np.array([n_top[i] for _, i in seen], dtype=np.int64),
                        "all": np.array([n_all[i] for _, i in seen], dtype=np.int64)})
    return out.sort_values(["all", "event"], ascending=[False, True], kind="stable").reset_index(drop=True)


def read_uplift(path: Path, required: bool = False) -> pd.DataFrame | None:
    """An uplift table (written once outcomes are recorded), or None when there is none.

    Takes the columns of :data:`UPLIFT_COLUMNS` or the names ``reactivate evaluate``
    writes (:data:`UPLIFT_ALIASES`). Empty cells (a group without customers) are NaN.

    Raises
    ------
    InputDataError
        ``required`` and the file is missing; the file lacks a column or holds a
        value that is not a number.
    """
    if not path.is_file():
        if required:
            raise InputDataError(f"{path}: no such file (give an uplift.csv written by reactivate evaluate)")
        return None
    try:
        u = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{path}: cannot read it ({exc})") from None
    u = u.rename(columns={k: v for k, v in UPLIFT_ALIASES.items() if v not in u.columns})
    missing = [c for c in UPLIFT_COLUMNS if c not in u.columns]
    if missing:
        raise InputDataError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in UPLIFT_COLUMNS[2:]:
        text = u[c].str.strip()
        num = pd.to_numeric(text.where(~text.isin(["", "nan", "NaN"])), errors="coerce")
        bad = np.flatnonzero((num.isna() & ~text.isin(["", "nan", "NaN"])).to_numpy())
        if len(bad):
            rows = ", ".join(str(i + 2) for i in bad[:5])
            raise InputDataError(f"{path}: column {c}: {len(bad)} value(s) are not numbers "
                                 f"(first {u[c].iloc[bad[0]]!r}; rows {rows})")
        u[c] = num
    return u[UPLIFT_COLUMNS]


_START = re.compile(r"^(\d+)% have a deadline or maturity; most often (\w+) in week (\d+)$")


def start_reason(text: str, lang: str) -> str:
    """``segments.csv``'s start_reason in ``lang``."""

    if lang == "en":
        return text
    m = _START.match(str(text))
    if m:
        return t("start_dated", lang, share=int(m.group(1)) / 100, event=phrase(m.group(2), lang),
                 week=int(m.group(3)))
    if str(text).startswith("pilot in week 1"):
        return t("pilot_week1", lang)
    return str(text)


_APART = re.compile(r"(\w+) ([+-]\d+(?:\.\d+)?)σ")


def traits(apart: str) -> list[tuple[str, float]]:
    """``"n_products +1.8σ, balance +1.4σ"`` -> ``[("n_products", 1.8), ("balance", 1.4)]``."""
    return [(m.group(1), float(m.group(2))) for m in _APART.finditer(str(apart))]
