"""A plain transaction log is enough: plan on the real UCI Online Retail log.

The log (541,909 invoice lines of a UK online retailer, 2010-12-01 to
2011-12-09) stands in for a bank's transaction table: no accounts, no
balances, no consent flags. We map its columns, treat e-mail as consented
(these are account holders of an online shop), judge dormancy in days that
fit a one-year log, and plan a small e-mail campaign for the lapsed.

    python examples/online_retail.py [OUT_DIR]

Needs ../shared/data/online-retail/ beside the project; exits with a message
(code 0) when it is absent.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import pandas as pd

from reactivate.jobs.pipeline import run_plan
from reactivate.jobs.segments import profile_cards
from reactivate.outputs.writer import write_run

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online-retail" / "onlineretail.csv.gz"
AS_OF = dt.date(2011, 12, 9)

CAMPAIGN = """
[campaign]
id = "retail-winback"
country = "GB"
currency = "GBP"
horizon_weeks = 8
[dormancy]
at_risk_days = 60
dormant_days = 91
long_dormant_days = 181
inoperative_days = 365
[consent]
assume_when_missing = ["email"]
[channels.phone]
weekly_capacity = 0
[channels.branch]
weekly_capacity = 0
[channels.mail]
weekly_capacity = 0
[channels.email]
weekly_capacity = 300
[value]
per_reactivation = 50.0
"""


def main(out: Path) -> None:
    if not DATA.is_file():
        print(f"skipped: {DATA} is not here")
        return
    raw = pd.read_csv(DATA, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"})
    raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C")]
    txn = pd.DataFrame({
        "customer_id": "U" + raw["CustomerID"].astype(str),
        "timestamp": raw["InvoiceDate"],
        "amount": (raw["Quantity"] * raw["UnitPrice"]).round(2),
        "channel": "online",
        "initiated_by": "customer",
    })
    out.mkdir(parents=True, exist_ok=True)
    txn.to_csv(out / "transactions.csv", index=False)
    (out / "campaign.toml").write_text(CAMPAIGN)

    run = run_plan(as_of=AS_OF, transactions=out / "transactions.csv", campaign=out / "campaign.toml")
    write_run(run, out / "plan")
    stages = run.customers["stage"].value_counts()
    print(f"{len(run.customers):,} customers with purchases; "
          + ", ".join(f"{k} {stages.get(k, 0):,}" for k in ("active", "at_risk", "dormant", "long_dormant")))
    print(f"lapsed over 90 days: {int((run.customers['days_dormant'] > 90).sum()):,}; "
          f"over 180 days: {int((run.customers['days_dormant'] > 180).sum()):,}")
    print("segments of the lapsed:")
    print(profile_cards(run.segments))
    print(f"plan: {len(run.result.plan):,} e-mails over {run.spec.campaign.horizon_weeks} weeks; "
          f"holdout {len(run.result.holdout):,}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="reactivate-retail-")))
