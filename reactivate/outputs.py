"""Writing a run's outputs: all or nothing.

Everything is written into a fresh sibling directory first and swapped into
place only when complete, so a failed run leaves the previous outputs as they
were. A directory that holds no ``run.json`` is never replaced (it is not
ours), unless it is empty.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from reactivate.errors import OutputError

SCORES_COLUMNS = ["customer_id", "dormancy_stage", "days_dormant", "segment_id", "segment_name",
                  "p_reactivate", "expected_value", "priority_rank", "best_week", "reason", "best_channel"]
PLAN_COLUMNS = ["customer_id", "segment_id", "wave", "week_start", "channel", "step", "rm_id", "theme", "reason"]
TARGET_COLUMNS = ["priority", "customer_id", "segment_name", "channel", "theme", "reason", "opener_en",
                  "opener_zh", "p_reactivate", "expected_value", "last_contact"]


def csv_bytes(df: pd.DataFrame) -> bytes:
    """Deterministic CSV written by Arrow: dates as YYYY-MM-DD, quotes only where needed, '\\n' line ends.

    Round floats before calling: they are written in their shortest exact form.
    """
    cols = {}
    for name in df.columns:
        s = df[name]
        if s.dtype.kind == "M":
            cols[str(name)] = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif isinstance(s.dtype, pd.CategoricalDtype):
            cats = pa.array(s.cat.categories.to_numpy(dtype=object).astype(str), type=pa.string())
            codes = pa.array(s.cat.codes.to_numpy(), mask=s.cat.codes.to_numpy() < 0)
            cols[str(name)] = pa.DictionaryArray.from_arrays(codes, cats)
        else:
            cols[str(name)] = pa.array(s.to_numpy(dtype=object) if s.dtype == object else s.array)
    table = pa.table(cols) if cols else pa.table({})
    buf = io.BytesIO()
    buf.write((",".join(_header_cell(c) for c in table.column_names) + "\n").encode())
    if table.num_rows:
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def _header_cell(name: str) -> str:
    return f'"{name}"' if any(ch in name for ch in ',"\n') else name


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_jsonable) + "\n").encode()


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
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

    def write(self, rel: str, data: bytes) -> None:
        p = self.tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

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
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_grouped_csv(stage: Staging, df: pd.DataFrame, keys: list[str], path_of) -> int:
    """Write one CSV per group of ``df`` (already sorted by ``keys``) without a per-row loop.

    The frame is rendered to CSV once; each group's lines are sliced out.
    """
    if len(df) == 0:
        return 0
    body = csv_bytes(df.drop(columns=keys))
    lines = body.split(b"\n")
    header, rows = lines[0], lines[1:-1]
    k = pd.factorize(pd.MultiIndex.from_arrays([df[key] for key in keys]))[0] if len(keys) > 1 else \
        pd.factorize(df[keys[0]])[0]
    cuts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    bounds = np.r_[cuts, len(k)]
    key_values = [df[key].to_numpy(dtype=object) for key in keys]
    one_line_rows = len(rows) == len(df)  # no quoted line breaks inside fields
    for a, b in itertools.pairwise(bounds):  # one iteration per file
        part = (header + b"\n" + b"\n".join(rows[a:b]) + b"\n") if one_line_rows else csv_bytes(
            df.iloc[a:b].drop(columns=keys))
        stage.write(path_of(*(v[a] for v in key_values)), part)
    return len(cuts)


def write_run(run, out: str | Path) -> dict[str, str]:
    """Write every output of a :class:`~reactivate.pipeline.PlanRun` into ``out``; returns what was written."""
    from reactivate.themes import THEMES

    stage = Staging(Path(out))
    try:
        sc = run.scores
        weeks = run.result.stats["weeks"]
        scores = pd.DataFrame({
            "customer_id": sc.index.to_numpy(),
            "dormancy_stage": sc["stage"].array,
            "days_dormant": sc["days_dormant"].round().astype(int).to_numpy(),
            "segment_id": sc["segment_id"].to_numpy(),
            "segment_name": sc["segment_name"].to_numpy(),
            "p_reactivate": sc["p_reactivate"].round(4).to_numpy(),
            "expected_value": sc["expected_value"].round(2).to_numpy(),
            "priority_rank": sc["priority_rank"].to_numpy(),
            "best_week": pd.Categorical.from_codes(sc["best_week"].to_numpy(), categories=weeks),
            "reason": sc["reason"].array,
            "best_channel": sc["best_channel"].to_numpy(),
        })
        scores = scores.iloc[np.argsort(scores["priority_rank"].to_numpy(), kind="stable")]
        stage.write("scores.csv", csv_bytes(scores))
        segs = run.segments.copy()
        stage.write("segments.csv", csv_bytes(segs))
        plan = run.result.plan
        stage.write("plan.csv", csv_bytes(plan[PLAN_COLUMNS]))
        stage.write("suppressed.csv", csv_bytes(run.result.suppressed))
        stage.write("holdout.csv", csv_bytes(run.result.holdout))
        stage.write("unscheduled.csv", csv_bytes(run.result.unscheduled))
        stage.write("capacity.csv", csv_bytes(run.result.capacity))

        # each RM's weekly list: calls and branch invitations first, then what their clients receive
        pos = plan["pos"].to_numpy()
        human = plan["channel"].isin(["phone", "branch"]).to_numpy()
        order = np.lexsort((plan["priority_rank"].to_numpy(), ~human, plan["rm_id"].cat.codes.to_numpy(),
                            plan["week_start"].cat.codes.to_numpy()))
        t = plan.iloc[order]
        p = pos[order]
        key = t["week_start"].cat.codes.to_numpy().astype(np.int64) * (len(t["rm_id"].cat.categories) + 1) + \
            t["rm_id"].cat.codes.to_numpy()
        first = np.r_[True, key[1:] != key[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
        theme = t["theme"]
        lists = pd.DataFrame({
            "week_start": t["week_start"].to_numpy(),
            "rm_id": t["rm_id"].to_numpy(),
            "priority": np.arange(len(key)) - start + 1,
            "customer_id": t["customer_id"].to_numpy(),
            "segment_name": sc["segment_name"].to_numpy()[p],
            "channel": t["channel"].array,
            "theme": theme.array,
            "reason": t["reason"].array,
            "opener_en": theme.map({k: v["en"] for k, v in THEMES.items()}).array,
            "opener_zh": theme.map({k: v["zh"] for k, v in THEMES.items()}).array,
            "p_reactivate": sc["p_reactivate"].to_numpy()[p].round(4),
            "expected_value": sc["expected_value"].to_numpy()[p].round(2),
            "last_contact": sc["last_contact"].to_numpy()[p],
        })
        n_lists = write_grouped_csv(
            stage, lists, ["week_start", "rm_id"], lambda week, rm: f"targets/{week}/{_safe(rm)}.csv",
        )
        run.summary["outputs"] = {"target_lists": n_lists}
        stage.write("summary.json", json_bytes(run.summary))
        stage.write("run.json", json_bytes(run.run))
        stage.commit()
    except BaseException:
        stage.abort()
        raise
    return {"out": str(Path(out))}


def _safe(name: str) -> str:
    """A file-name-safe version of an RM id."""
    out = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))
    return out.strip(".") or "_"
