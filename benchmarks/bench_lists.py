#!/usr/bin/env python3
"""Benchmark ``reactivate record --lists``: reading and matching thousands of returned RM workbooks.

    python benchmarks/bench_lists.py                       # 3,000 workbooks of 40 rows, 3 filled each
    python benchmarks/bench_lists.py --workbooks 300 --rows 200 --filled 20
    python benchmarks/bench_lists.py --dir /tmp/lists      # keep the lists there; time again with --reuse

1. Writes N workbooks in the format of the RM lists (reactivate/outputs/lists.py: the list sheet, the
   very hidden ``_meta`` sheet; one per RM, ``targets/<week>/<rm>.xlsx``) with ``--rows`` customers each
   and the first ``--filled`` of them given a date, a result and a note, and a SQLite ledger holding
   the run that planned them (N x rows planned touches).
2. Times ``reactivate record --lists DIR`` as a command (a new process: imports, the lock, reading by
   a pool of processes, matching, one transaction), and the CPU time of the same record in one
   process (a figure that a busy machine inflates less than the wall-clock).

The budget (issue 14) is 60 s for 3,000 workbooks. Timings on a shared machine are noisy: run it twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import reactivate.loop.lists as lists_module  # noqa: E402
from reactivate.config.campaign import load_campaign  # noqa: E402
from reactivate.loop.ledger import open_ledger  # noqa: E402
from reactivate.loop.record import record_all  # noqa: E402
from tests.test_ledger import _meta, _write  # noqa: E402
from tests.test_record_lists import listed, touches, workbook  # noqa: E402

START = dt.date(2026, 12, 7)
RESULTS = ["reached", "no answer", "declined", "came back", "opted out of this channel", "complaint"]


def write_inputs(folder: Path, n: int, rows: int, filled: int) -> tuple[Path, Path]:
    """N returned workbooks under ``folder/targets/<week>/``, the ledger and the campaign file."""
    lists = folder / "targets" / START.isoformat()
    planned = []
    for b in range(n):
        rm = f"RM{b:05d}"
        customers = [f"C{b:05d}{i:03d}" for i in range(rows)]
        planned += [(c, rm, 1, "sms") for c in customers]
        cells = [listed(c, **({"contacted_on": START + dt.timedelta(days=i % 7), "result": RESULTS[i % 6],
                                "note": "call back next week"} if i < filled else {}))
                 for i, c in enumerate(customers)]
        workbook(lists / f"{rm}.xlsx", cells, context={"rm_id": rm})
    db = folder / "ledger.sqlite"
    db.unlink(missing_ok=True)
    led = open_ledger(db)
    _write(led, _meta(), touches(planned))
    led.close()
    camp = folder / "campaign.toml"
    camp.write_text('[campaign]\nid = "camp"\n')
    return db, camp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workbooks", type=int, default=3000)
    ap.add_argument("--rows", type=int, default=40, help="customers on each RM's list")
    ap.add_argument("--filled", type=int, default=3, help="rows with a result in each workbook")
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="time the workbooks already in --dir")
    args = ap.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-lists-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.reuse:
        db, camp = folder / "ledger.sqlite", folder / "campaign.toml"
        led = open_ledger(db)  # a fresh copy of the outcomes: the command records them all again
        with led.begin() as conn:
            conn.exec_driver_sql("DELETE FROM outcomes")
        led.close()
    else:
        db, camp = write_inputs(folder, args.workbooks, args.rows, args.filled)
    load = os.getloadavg()[0]
    print(f"inputs: {args.workbooks:,} workbooks x {args.rows} rows ({args.filled} filled) in {folder} "
          f"({time.perf_counter() - t0:.1f} s to write)")

    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "reactivate", "record", "--lists", str(folder), "--campaign", str(camp),
           "--ledger", str(db), "--as-of", "2027-01-31"]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    print(f"reactivate record --lists: {wall:.1f} s wall-clock (load average before {load:.1f}), exit "
          f"{done.returncode}; {done.stderr.splitlines()[-1]}")

    led = open_ledger(db)
    n_out = len(led.outcomes("camp"))
    with led.begin() as conn:  # record them all again, in this process, to measure its CPU time
        conn.exec_driver_sql("DELETE FROM outcomes")
    lists_module.POOL_LISTS = 10**9  # one process: no pool
    c0 = time.process_time()
    res = record_all(led, [], load_campaign(camp), lists=[folder], as_of=dt.date(2027, 1, 31))
    cpu = time.process_time() - c0
    led.close()
    print(f"in one process: {cpu:.1f} s CPU time to read, match and record {len(res):,} workbooks "
          f"({cpu / max(len(res), 1) * 1000:.1f} ms each; {sum(r.new for r in res):,} rows recorded; "
          f"cpu_count {os.cpu_count()})")
    problems = [r for r in res if r.failed]
    ok = done.returncode == 0 and n_out == args.workbooks * args.filled and not problems
    budget = 60 * args.workbooks / 3000
    print(f"budget {budget:.0f} s: wall-clock {'met' if wall <= budget else 'NOT met'} ({wall:.1f} s, load average "
          f"{load:.1f}), CPU time in one process {'within' if cpu <= budget else 'OVER'} it ({cpu:.1f} s); "
          f"{'all rows recorded' if ok else 'CHECK THE COUNTS'}")

if __name__ == "__main__":
    main()
