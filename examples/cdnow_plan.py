"""A plain purchase log gives a plan: the CDNOW sample with ``campaigns/purchase_log.toml``.

The CDNOW sample (Fader, Hardie & Lee 2005; 2,357 customers who first bought CDs in the first
quarter of 1997, followed to June 1998) has no accounts, no consent flags and no contact history:
only purchases. This script converts it to the contract's transaction columns
(``customer_id,timestamp,amount``), then plans it twice, as ``reactivate plan`` does:

1. with the bank template (``campaigns/default.toml``): nobody may be contacted, since unknown
   consent is no consent, and the run says why and what to set;
2. with ``campaigns/purchase_log.toml`` (retail dormancy in days, e-mail and app assumed consented,
   phone off): a plan on the owned channels.

    python examples/cdnow_plan.py [OUT_DIR]

Writes OUT_DIR/transactions.csv and the plan into OUT_DIR/plan/. Needs ../shared/data/cdnow-sample/
beside the project; exits with a message (code 0) when it is absent.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import pandas as pd

from reactivate.jobs.pipeline import run_plan
from reactivate.outputs.writer import write_run

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "cdnow-sample" / "CDNOW_sample.txt"
#: the day after the log's last purchase (1998-06-30)
AS_OF = dt.date(1998, 7, 1)


def convert(src: Path, dest: Path) -> int:
    """CDNOW_sample.txt (id, id in the full file, date YYYYMMDD, CDs, dollars; blank-separated) to
    ``customer_id,timestamp,amount``; returns the number of purchases."""
    raw = pd.read_csv(src, sep=r"\s+", header=None, names=["id", "full_id", "date", "cds", "dollars"],
                      dtype={"id": str, "full_id": str, "date": str})
    log = pd.DataFrame({"customer_id": raw["id"],
                        "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
                        "amount": raw["dollars"]})
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.to_csv(dest, index=False)
    return len(log)


def main(out: Path) -> None:
    if not DATA.is_file():
        print(f"skipped: {DATA} is not here")
        return
    log = out / "transactions.csv"
    rows = convert(DATA, log)
    print(f"{rows:,} purchases written to {log}")

    bank = run_plan(as_of=AS_OF, transactions=log, campaign=ROOT / "campaigns" / "default.toml")
    print(f"with campaigns/default.toml: {len(bank.result.plan):,} touches; "
          f"{bank.summary['cannot_contact']['message']}")

    run = run_plan(as_of=AS_OF, transactions=log, campaign=ROOT / "campaigns" / "purchase_log.toml")
    write_run(run, out / "plan")
    p = run.summary["plan"]
    print(f"with campaigns/purchase_log.toml: {p['touches']:,} touches for {run.summary['targets']:,} lapsed "
          f"customers over {run.spec.campaign.horizon_weeks} weeks; by channel: "
          + ", ".join(f"{k} {v:,}" for k, v in p["by_channel"].items() if v)
          + f"; holdout {p['holdout']:,}")
    for seg in run.segments.sort_values("rank").itertuples():
        print(f"  #{seg.rank} {seg.segment_id} {seg.segment_name}: {seg.size:,} customers, "
              f"mean p {seg.mean_p:.1%}; shortfalls: {seg.shortfalls}")
    print(f"outputs in {out / 'plan'}/")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="reactivate-cdnow-")))
