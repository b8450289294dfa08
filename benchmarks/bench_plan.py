#!/usr/bin/env python3
"""Benchmark `reactivate plan` end to end, stage by stage, with peak memory.

    python benchmarks/bench_plan.py                       # 100k and 1M customers (about 10 txns each)
    python benchmarks/bench_plan.py --customers 100000 --format csv
    python benchmarks/bench_plan.py --table --no-report   # 1M, 3M and 10M: time and memory per customer
    python benchmarks/bench_plan.py --customers 10000000 --engine spark   # the log on Spark, local[2]
    python benchmarks/bench_plan.py --customers 1000000 --engine spark --warehouse   # all three inputs via Spark

A book of more than a million customers is generated a million customers at a time (each chunk its own
seed, its ids prefixed with the chunk's number so that they stay distinct: a bank of many branches) and
written row group by row group, so that generating 10M customers never holds more than one chunk.

**total** is the job from reading the inputs to the last file written; *process wall* is the whole
subprocess, Python's start and the imports included (what `reactivate plan` takes from the shell).

With ``--engine spark`` the transaction log is aggregated by Spark in local mode (``local[2]``, the driver's
JVM given ``--spark-memory``): *peak RSS* is then the largest sum of the resident memory of the plan's
process and every process under it (the JVM), sampled four times a second.

Demo books are generated once and cached in benchmarks/.data/. Each plan runs
in a fresh subprocess so its peak memory (max RSS) is its own. Also times
`reactivate --help` (best of 5), which must stay under 0.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
AS_OF = dt.date(2026, 11, 30)


#: customers generated at once; a larger book is written chunk by chunk (Parquet only)
CHUNK = 1_000_000
#: id columns prefixed with the chunk's number in a chunked book
ID_COLUMNS = ("customer_id", "account_id", "rm_id", "branch_id")


def ensure_book(n: int, fmt: str, seed: int = 0) -> Path:
    out = DATA / f"book-{n}-{seed}-{fmt.replace('.', '')}"
    if n > CHUNK and not (out / "done").is_file():
        if fmt != "parquet":
            sys.exit(f"books of more than {CHUNK:,} customers are generated as Parquet only")
        chunked_book(n, out, seed)
    if not (out / "done").is_file():
        from reactivate.demo.book import generate_book, write_book

        t = time.perf_counter()
        book = generate_book(n, seed=seed, as_of=AS_OF)
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        write_book(book, out, fmt=fmt)
        t_write = time.perf_counter() - t
        (out / "done").write_text(json.dumps({"generate_s": round(t_gen, 2), "write_s": round(t_write, 2),
                                              "transactions": len(book.transactions)}))
    return out


def chunked_book(n: int, out: Path, seed: int) -> None:
    """A demo book of ``n`` customers generated ``CHUNK`` at a time and appended to Parquet files row group by
    row group (the demo generator itself holds one chunk); ids get the chunk's number as a prefix."""
    import tempfile

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from reactivate.demo.book import generate_book, write_book

    out.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    schemas: dict[str, pa.Schema] = {}
    rows, t_gen, t_write = 0, 0.0, 0.0
    try:
        for k, start in enumerate(range(0, n, CHUNK)):
            t = time.perf_counter()
            book = generate_book(min(CHUNK, n - start), seed=seed * 1000 + k, as_of=AS_OF)
            t_gen += time.perf_counter() - t
            t = time.perf_counter()
            with tempfile.TemporaryDirectory(dir=DATA) as tmp:
                write_book(book, tmp, fmt="parquet")
                del book
                for name in ("accounts", "transactions", "contacts"):
                    table = pq.read_table(Path(tmp) / f"{name}.parquet")
                    for col in ID_COLUMNS:
                        if col in table.column_names:
                            ids = pc.binary_join_element_wise(pa.scalar(f"K{k:02d}"), table[col].cast(pa.string()), "")
                            table = table.set_column(table.schema.get_field_index(col), col, ids)
                    if name not in writers:
                        schemas[name] = table.schema
                        writers[name] = pq.ParquetWriter(out / f"{name}.parquet", table.schema)
                    writers[name].write_table(table.cast(schemas[name]), row_group_size=1 << 20)
                    rows += table.num_rows if name == "transactions" else 0
            t_write += time.perf_counter() - t
            print(f"  chunk {k + 1}: {min(start + CHUNK, n):,} customers generated", file=sys.stderr, flush=True)
    finally:
        for w in writers.values():
            w.close()
    (out / "done").write_text(json.dumps({"generate_s": round(t_gen, 2), "write_s": round(t_write, 2),
                                          "transactions": rows, "chunks": k + 1}))


def spark_campaign(memory: str):
    """The benchmark's campaign with the log on Spark in local mode (two cores, ``memory`` for the JVM)."""
    import dataclasses

    from reactivate.config.campaign import EngineSpec, SparkSettings, load_campaign

    spec = load_campaign(HERE.parent / "campaigns" / "default.toml")
    conf = {"spark.driver.memory": memory, "spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "false"}
    return dataclasses.replace(spec, engine=EngineSpec("spark", SparkSettings(master="local[2]", conf=conf)))


def warehouse_folders(book: Path) -> dict[str, Path]:
    """The book's Parquet files as folders of Parquet files (each holding its file, hard-linked: no copy), as a
    warehouse keeps its tables: with ``--warehouse`` Spark reads all three inputs, the accounts and contacts too."""
    folders = {}
    for name in ("accounts", "transactions", "contacts"):
        folder = book / f"{name}.folder"
        folder.mkdir(exist_ok=True)
        part = folder / "part-00000.parquet"
        if not part.exists():
            os.link(book / f"{name}.parquet", part)
        folders[name] = folder
    return folders


def run_one(book: Path, fmt: str, out: Path, report: bool = True, spark_memory: str | None = None,
            warehouse: bool = False) -> None:
    """Child process: run the plan as `reactivate plan` does (:func:`~reactivate.jobs.commands.plan_to`), print
    timings as JSON."""
    from reactivate.jobs.commands import plan_to

    ext = {"csv": "csv", "csv.gz": "csv.gz", "parquet": "parquet"}[fmt]
    marks = {}

    def progress(step: str) -> None:  # "write" comes once the outputs are staged, before the report ends
        marks.setdefault(step, time.perf_counter())

    inputs = warehouse_folders(book) if warehouse else \
        {name: book / f"{name}.{ext}" for name in ("accounts", "transactions", "contacts")}
    t0 = time.perf_counter()
    run = plan_to(out, as_of=AS_OF, accounts=inputs["accounts"], transactions=inputs["transactions"],
                  contacts=inputs["contacts"],
                  campaign=spark_campaign(spark_memory) if spark_memory else HERE.parent / "campaigns" / "default.toml",
                  report_lang="en" if report else None, progress=progress)
    end = time.perf_counter()
    timings = dict(run.timings)
    t = marks[list(run.timings)[-1]]  # the plan's last stage ended: the outputs begin
    timings["write"] = round(marks.get("write", end) - t, 3)
    timings["report"] = round(end - marks.get("write", end), 3)
    timings["total"] = round(end - t0, 3)
    print(json.dumps({"timings": timings, "peak_mib": round(peak_rss_mib()), "targets": len(run.scores),
                      "touches": len(run.result.plan)}))


def peak_rss_mib() -> float:
    """This process's own peak resident memory, MiB: the kernel's high-water mark of its memory (``VmHWM``).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the spawning process's peak over an ``exec``
    into it (Python spawns with vfork), so a plan started right after this script generated a book (2 GiB
    at 1M) reported the generator's peak instead of its own. Elsewhere than Linux, ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: the reference workload's time on this project's 2-core machine when quiet (:func:`machine_check`)
QUIET_REFERENCE_S = 1.53


def machine_check() -> float:
    """Seconds for a fixed numpy workload (12 sorts of 2M floats, one core): the same machine is up to a quarter
    slower when its host is busy, so a table's figures are read beside this one (quiet: ``QUIET_REFERENCE_S``)."""
    import numpy as np

    a = np.random.default_rng(0).random(2_000_000)
    t = time.perf_counter()
    for _ in range(12):
        np.sort(a)
    return time.perf_counter() - t


def tree_rss_kib(pid: int) -> int:
    """Resident KiB of process ``pid`` and every process under it (Linux /proc)."""
    parents: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(parents.get(p, []))
        try:
            total += next((int(line.split()[1]) for line in Path(f"/proc/{p}/status").read_text().splitlines()
                           if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


def run_sampled(cmd: list[str]) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``cmd``; also the peak resident MiB of it and its children together, sampled every 0.25 s."""
    import threading

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_kib(proc.pid))
            time.sleep(0.25)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), peak[0] // 1024


def help_time() -> float:
    exe = Path(sys.executable).with_name("reactivate")
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([str(exe), "--help"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--format", default="parquet", choices=["csv", "csv.gz", "parquet"])
    ap.add_argument("--no-report", action="store_true", help="leave out report.html (as plan --no-report)")
    ap.add_argument("--table", action="store_true", help="1M, 3M and 10M customers (unless --customers says "
                    "otherwise), then time and memory per customer")
    ap.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"],
                    help="the log's engine; spark runs in local mode (needs the spark extra and Java)")
    ap.add_argument("--spark-memory", default="8g", help="the Spark driver's memory (--engine spark)")
    ap.add_argument("--warehouse", action="store_true", help="with --engine spark: every input (the accounts and "
                    "contacts too) given as a folder of Parquet files, so that Spark reads all three")
    ap.add_argument("--run-one", nargs=3, metavar=("BOOK", "FORMAT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        run_one(Path(args.run_one[0]), args.run_one[1], Path(args.run_one[2]), report=not args.no_report,
                spark_memory=args.spark_memory if args.engine == "spark" else None, warehouse=args.warehouse)
        return
    if args.warehouse and (args.engine != "spark" or args.format != "parquet"):
        ap.error("--warehouse needs --engine spark (and Parquet, the default --format)")
    if args.table and "--customers" not in sys.argv:
        args.customers = [1_000_000, 3_000_000, 10_000_000]
    print(f"`reactivate --help`: {help_time():.3f} s (best of 5)")
    print(f"machine check: {machine_check():.2f} s (a fixed numpy workload; {QUIET_REFERENCE_S} s on a quiet machine)")
    print()
    results = []
    print(f"engine: {args.engine}" + (f" (local[2], driver {args.spark_memory})" if args.engine == "spark" else "")
          + (": every input a folder of Parquet, read by Spark" if args.warehouse else ""))
    print("| customers | transactions | format | load | dormancy | features | segment | score | plan | write "
          "| report | **total** | process wall | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.customers:
        book = ensure_book(n, args.format)
        meta = json.loads((book / "done").read_text())
        out = DATA / f"out-{n}"
        os.sync()  # start from clean page cache writeback: the generator may have left a gigabyte dirty
        t_proc = time.perf_counter()
        cmd = [sys.executable, __file__, "--run-one", str(book), args.format, str(out)] \
            + (["--no-report"] if args.no_report else []) \
            + (["--engine", "spark", "--spark-memory", args.spark_memory] if args.engine == "spark" else []) \
            + (["--warehouse"] if args.warehouse else [])
        r, tree_mib = run_sampled(cmd)
        if r.returncode:
            sys.stderr.write(r.stderr)
            sys.exit(r.returncode)
        wall = time.perf_counter() - t_proc  # the whole process: Python's start and the imports too
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if args.engine == "spark":  # the JVM is a process of its own: count the whole tree
            res["peak_mib"] = max(res["peak_mib"], tree_mib)
        t = res["timings"]
        cells = [t.get(k, 0.0) for k in ("load", "dormancy", "features", "segment", "score", "plan", "write",
                                          "report")]
        print(f"| {n:,} | {meta['transactions']:,} | {args.format} | "
              + " | ".join(f"{c:.2f}" for c in cells)
              + f" | **{t['total']:.2f} s** | {wall:.2f} s | {res['peak_mib'] / 1024:.2f} GiB |")
        print(f"  (machine check after it: {machine_check():.2f} s)", file=sys.stderr)
        sys.stdout.flush()
        results.append((n, meta["transactions"], t["total"], res["peak_mib"]))
    if args.table:
        print()
        print("| customers | transactions | total | peak RSS | time per customer | memory per customer |")
        print("|---|---|---|---|---|---|")
        for n, rows, total, mib in results:
            print(f"| {n:,} | {rows:,} | {total:.1f} s | {mib / 1024:.2f} GiB | {total / n * 1e6:.1f} µs "
                  f"| {mib * 1024 / n:.2f} KiB |")


if __name__ == "__main__":
    main()
