"""Model features: the numbers segmentation and scoring work on.

:data:`CATALOGUE` lists every feature with the words used to describe a
segment that is high or low on it, so segment names and profile cards are
built from what sets a segment apart. Features whose inputs are absent
(no transactions, no birth dates...) come out as all-missing and are dropped
by the callers; isolated gaps are filled with the median.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Feature:
    name: str
    doc: str
    high: str
    low: str


CATALOGUE: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("balance", "total balance over all accounts", "High balance", "Small balance"),
        Feature("days_dormant", "days since the last customer-initiated activity", "Long dormant",
                "Recently lapsed"),
        Feature("age", "age in years", "Older", "Young"),
        Feature("tenure_years", "years since the first account was opened", "Long-standing", "New"),
        Feature("n_products", "number of distinct products held", "Multi-product", "Single-product"),
        Feature("digital_reach", "share of app, WeChat and e-mail the bank may use", "Digital-reachable",
                "No digital channel"),
        Feature("phone_reach", "reachable by phone with consent", "Phone-reachable", "No phone consent"),
        Feature("txn_per_year", "customer-initiated transactions per year of tenure", "Once frequent user",
                "Rarely transacted"),
        Feature("txn_amount", "average transaction amount", "Large tickets", "Small tickets"),
        Feature("digital_share", "share of past transactions made online or by mobile", "Used digital",
                "Used branch/ATM"),
        Feature("maturing_soon", "a term product matures within the campaign horizon", "Deposit maturing",
                "No maturity"),
        Feature("contacts_12m", "contacts by the bank in the last 12 months", "Recently contacted",
                "Not contacted in 12 months"),
        Feature("has_rm", "has a relationship manager", "Has an RM", "No RM"),
    )
}


def model_features(customers: pd.DataFrame, as_of: dt.date, horizon_days: int) -> pd.DataFrame:
    """Raw (untransformed) model features, one row per customer.

    Columns are the names in :data:`CATALOGUE`; missing inputs give NaN.
    """
    c = customers
    asof = pd.Timestamp(as_of)
    f = pd.DataFrame(index=c.index)
    f["balance"] = c["total_balance"].clip(lower=0)
    f["days_dormant"] = c["days_dormant"]
    f["age"] = c["age"]
    f["tenure_years"] = c["tenure_days"] / 365.25
    f["n_products"] = c["n_products"].astype(float) if c["n_accounts"].sum() > 0 else np.nan
    dig = [f"{ch}" for ch in ("app", "wechat", "email")]
    f["digital_reach"] = np.mean([(c[f"has_{ch}"] & c[f"consent_{ch}"]).to_numpy() for ch in dig], axis=0)
    f["phone_reach"] = (c["has_phone"] & c["consent_phone"]).astype(float)
    f["txn_per_year"] = c["n_txn_total"] / np.maximum(f["tenure_years"], 0.25)
    f["txn_amount"] = c["txn_amount_mean"]
    f["digital_share"] = c["digital_share"]
    due = c["next_maturity"] <= asof + pd.Timedelta(days=horizon_days)
    f["maturing_soon"] = due.fillna(False).astype(float)
    f["contacts_12m"] = c["contacts_12m"]
    f["has_rm"] = c["rm_id"].notna().astype(float)
    return f.astype(float)
