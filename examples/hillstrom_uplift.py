"""Uplift on a real randomized test: the Hillstrom (MineThatData) e-mail experiment.

64,000 customers who bought in the last 12 months were split at random into a
men's e-mail, a women's e-mail and no e-mail, and followed for two weeks. Each
e-mail arm is compared with the no-e-mail control by the same function that
measures a campaign against its holdout (reactivate.loop.evaluate.compare_rates),
on all customers and on the lapsed ones (no purchase for 7+ months).

    python examples/hillstrom_uplift.py [path/to/hillstrom.csv.gz] [--out DIR]

Reads tests/data/hillstrom/hillstrom.csv.gz (shipped with the repository; source
and licence in tests/data/README.md) unless given another path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from reactivate.loop.evaluate import compare_arms

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "hillstrom" / "hillstrom.csv.gz"
CONTROL = "No E-Mail"


def hillstrom_arms(df: pd.DataFrame) -> pd.DataFrame:
    """Visit and conversion rates and spend per customer of each e-mail arm against no e-mail,
    on everyone and on the lapsed (recency >= 7 months)."""
    every = compare_arms(df, "segment", CONTROL, ["visit", "conversion"], means=("spend",)).assign(customers="all")
    lapsed = compare_arms(df[df["recency"] >= 7], "segment", CONTROL, ["visit", "conversion"]).assign(
        customers="lapsed (recency >= 7)")
    return pd.concat([every, lapsed], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--out", help="write hillstrom_uplift.csv and a chart here")
    args = ap.parse_args(argv)
    path = Path(args.path)
    if not path.is_file():
        print(f"skipped: {path} not found (the Hillstrom data set ships in tests/data/hillstrom/)")
        return 0
    df = pd.read_csv(path)
    res = hillstrom_arms(df)
    n = df["segment"].value_counts()
    print(f"Hillstrom e-mail test: {len(df):,} customers; control {n[CONTROL]:,}")
    for r in res.itertuples():
        if r.outcome == "spend":
            print(f"  {r.customers:>22}  {r.arm:<14} spend/customer ${r.rate_treated:.4f} vs ${r.rate_control:.4f}:"
                  f" {r.uplift:+.4f} (95% CI {r.ci_low:+.4f} to {r.ci_high:+.4f})")
        else:
            print(f"  {r.customers:>22}  {r.arm:<14} {r.outcome:<10} {r.rate_treated:7.2%} vs {r.rate_control:6.2%}:"
                  f" uplift {r.uplift * 100:+.2f} pp (95% CI {r.ci_low * 100:+.2f} to {r.ci_high * 100:+.2f})")
    if args.out:
        from reactivate.outputs.charts import arms_chart, figure_bytes
        from reactivate.outputs.files import csv_bytes, staged

        with staged(args.out) as stage:
            stage.write("hillstrom_uplift.csv", csv_bytes(res.round(6)))
            stage.write("visit_uplift.png", figure_bytes(arms_chart, res[res["customers"] == "all"], "visit"))
            stage.write("run.json", b'{"example": "hillstrom_uplift"}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
