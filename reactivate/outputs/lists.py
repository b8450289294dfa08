"""The RM lists' shared vocabulary (result labels, column keys, the run's context) and per-customer columns.

The RM lists (CSV) and workbooks (xlsx) are written by :mod:`reactivate.outputs.writer` and
:mod:`reactivate.outputs.workbooks`; the bank fills in the outcome columns (contacted on, result,
note) and hands them back. What both sides must agree on lives here, once: :data:`RESULTS` (the
ledger's outcome codes and their labels in each language), :func:`result_code` (a filled cell back
to its code), the column keys (:data:`LEAD_KEYS`, :data:`TAIL_KEYS`, :data:`OUTCOME_KEYS`) and the
hidden ``_meta`` sheet's layout (:data:`META_SHEET`, :data:`META_KEYS`, :data:`META_FORMAT`).
:class:`ListContext` is what a weekly run knows beyond the plan (its ledger run, follow-ups, last
week's results, :func:`last_week_results`) for the first sheet of each workbook. The per-customer
columns of the lists are built here too, vectorised: the balance band (:func:`balance_column`) and the
products held (:func:`products_held`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reactivate.errors import ConfigError
from reactivate.outputs.i18n import phrase
from reactivate.schema import PRODUCTS

#: the result of a contact: the ledger's outcome code → its label in each language (the drop-down's)
RESULTS: dict[str, dict[str, str]] = {
    "responded": {"en": "reached", "zh": "已联系上"},
    "no_answer": {"en": "no answer", "zh": "未接通"},
    "declined": {"en": "declined", "zh": "拒绝"},
    "reactivated": {"en": "came back", "zh": "已回归"},
    "opted_out": {"en": "opted out of this channel", "zh": "退订此渠道"},
    "complaint": {"en": "complaint", "zh": "投诉"},
}
#: the workbook list's columns before the ``show`` columns (keys, as in the ``_meta`` sheet)
LEAD_KEYS: tuple[str, ...] = ("customer_id", "why_now", "theme", "opener", "channel", "last_contacts", "best_time")
#: the workbook list's columns after the ``show`` columns; ``step`` is hidden, at the far right
TAIL_KEYS: tuple[str, ...] = ("segment", "shortfall", "products", "balance_band", "contacted_on", "result", "note",
                              "step")
#: the CSV list's columns before the ``show`` columns (the RM lists of before issue 14)
TARGET_COLUMNS: tuple[str, ...] = ("priority", "customer_id", "segment_name", "channel", "step", "condition", "theme",
                                   "theme_name", "reason", "p_reactivate", "expected_value", "last_contact",
                                   "contacts_30d", "best_time")
#: the per-customer columns after the ``show`` columns, in the CSV list and the workbook
CUSTOMER_KEYS: tuple[str, ...] = ("shortfall", "products", "balance_band")
#: the columns the bank fills in (the only unlocked cells of a workbook)
OUTCOME_KEYS: tuple[str, ...] = ("contacted_on", "result", "note")
#: the CSV list's columns after the ``show`` and per-customer columns
CSV_TAIL_KEYS: tuple[str, ...] = ("run_id", "week_start", "rm_id", "contacted_on", "result", "note")
#: the name of the workbook's very hidden sheet of key/value rows
META_SHEET = "_meta"
#: the value of the ``format`` key of that sheet
META_FORMAT = "reactivate-list-1"
#: the keys of the ``_meta`` sheet, in order (column A; their values in column B)
META_KEYS: tuple[str, ...] = ("format", "campaign_id", "run_id", "week", "week_start", "rm_id", "lang", "columns")
#: the longest note accepted in the workbook (characters)
NOTE_CHARS = 500

_CODES: dict[str, str] = {
    **{code.casefold(): code for code in RESULTS},
    **{label.casefold(): code for code, labels in RESULTS.items() for label in labels.values()},
}


def check_show(spec) -> None:
    """``[targets] show`` names no column the RM lists already have (``segment``, ``note``...).

    Raises
    ------
    ConfigError
        A name of ``show`` is one of the lists' own columns.
    """
    own = {*TARGET_COLUMNS, *LEAD_KEYS, *TAIL_KEYS, *CUSTOMER_KEYS, *CSV_TAIL_KEYS}
    taken = [name for name in spec.targets.show if name in own]
    if taken:
        raise ConfigError(f"{spec.source}: targets.show names {', '.join(map(repr, taken))}: the RM lists have "
                          "such a column already (rename it under [data.accounts.columns])")


def result_labels(lang: str) -> list[str]:
    """The six result labels in ``lang`` ("en" or "zh"), in the order of :data:`RESULTS`."""
    return [labels[lang] for labels in RESULTS.values()]


def result_code(text) -> str | None:
    """The outcome code of a filled result cell: a label in either language or the code itself,
    case-insensitive, surrounding spaces ignored; None when it is none of them."""
    if text is None:
        return None
    return _CODES.get(str(text).strip().casefold())


def workbook_keys(show: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The column keys of a workbook's list sheet, in order, with the ``show`` columns after best_time."""
    return [*LEAD_KEYS, *show, *TAIL_KEYS]


@dataclass(frozen=True)
class ListContext:
    """What a run knows beyond its plan, for the RM lists and the first sheet of each workbook.

    Parameters
    ----------
    run_id : str
        The ledger's run id ("" when the plan is not recorded in a ledger).
    week : str
        The ISO week label of the run (``2026-W50``; "" when unknown).
    followups : pandas.DataFrame or None
        Follow-ups (回访) due (``followups.csv``): columns ``customer_id``, ``rm_id``, ``week_start`` (text
        or date) and ``outcome`` (what earned it); None when not known (a plain ``reactivate plan``).
    last_results : pandas.DataFrame or None
        Last week's recorded results per RM: columns ``rm_id``, ``outcome`` (a code of
        :data:`RESULTS`) and ``count``; None when not recorded.
    """

    run_id: str = ""
    week: str = ""
    followups: pd.DataFrame | None = None
    last_results: pd.DataFrame | None = None


def band_labels(bands: tuple[float, ...] | list[float]) -> list[str]:
    """The label of each balance band of ``bands`` (the upper ends, increasing): ``<10k``, ``10k–50k``, ...,
    ``≥1M``; one more label than ends."""
    ends = [_short_amount(b) for b in bands]
    if not ends:
        return ["all"]
    return [f"<{ends[0]}", *(f"{a}–{b}" for a, b in itertools.pairwise(ends)), f"≥{ends[-1]}"]


def _short_amount(x: float) -> str:
    """10000 → 10k, 1500000 → 1.5M, 500 → 500."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:.3g}{suffix}"
    return f"{x:.3g}"


def balance_column(balance: np.ndarray, targets_spec):
    """The balance of the RM lists: its band (a categorical of :func:`band_labels`), or with
    ``exact_balance`` the amount itself, rounded to cents. A missing balance (no accounts) is empty."""
    bal = np.asarray(balance, dtype=float)
    if targets_spec.exact_balance:
        return bal.round(2)
    bands = np.asarray(targets_spec.balance_bands, dtype=float)
    codes = np.searchsorted(bands, np.nan_to_num(bal, nan=0.0), side="right")
    return pd.Categorical.from_codes(np.where(np.isnan(bal), -1, codes),
                                     categories=pd.Index(band_labels(bands.tolist()), dtype=object))


def products_held(accounts: pd.DataFrame | None, customers: np.ndarray, lang: str = "en") -> pd.Categorical:
    """The products each of ``customers`` (ids) holds in ``accounts``, as one text in the order of
    :data:`reactivate.schema.PRODUCTS` (``"savings, term_deposit"``; translated for ``zh``); empty for
    a customer without accounts. Vectorised: a bit per product, one text per distinct combination."""
    n = len(customers)
    if accounts is None or n == 0 or "product" not in accounts.columns:
        return pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype=object))
    acc_ids = accounts["customer_id"]
    acc_ids = acc_ids if isinstance(acc_ids.dtype, pd.CategoricalDtype) else acc_ids.astype("category")
    cats = pa.array(np.asarray(acc_ids.cat.categories, dtype=object), type=pa.string())
    # each account's customer looked up among ``customers`` (a hash of the few customers asked about, not
    # of every customer of the book); a category with no such customer, and a missing id, give -1
    row_of = pc.index_in(cats, value_set=pa.array(np.asarray(customers, dtype=object), type=pa.string()))
    row_of = np.append(row_of.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), -1)
    owner = row_of[acc_ids.cat.codes.to_numpy()]
    product = accounts["product"].astype("category")
    names = [str(c) for c in product.cat.categories]
    rank = np.array([PRODUCTS.index(c) if c in PRODUCTS else len(PRODUCTS) for c in names], dtype=np.int64)
    pcodes = product.cat.codes.to_numpy()
    ok = (owner >= 0) & (pcodes >= 0)
    owner, pcodes = owner[ok], pcodes[ok]
    mask = np.zeros(n, dtype=np.int64)
    for k in np.unique(pcodes).tolist():  # one per product held (a bit each)
        mask[owner[pcodes == k]] |= 1 << k
    uniq, inverse = np.unique(mask, return_inverse=True)
    order = np.argsort(rank, kind="stable")
    text = [", ".join(names[k] for k in order if m >> int(k) & 1) for m in uniq.tolist()]  # per combination
    text = [phrase(t, lang) if t else "" for t in text]
    return pd.Categorical.from_codes(inverse.reshape(-1), categories=pd.Index(text, dtype=object)) \
        if len(set(text)) == len(text) else pd.Categorical(np.asarray(text, dtype=object)[inverse.reshape(-1)])


def translated(cat: pd.Categorical, lang: str) -> pd.Categorical:
    """A categorical of generated text (segment names, shortfalls) in ``lang``, once per category."""
    if lang == "en":
        return cat
    names = [phrase(str(c), lang) for c in cat.categories]  # one per category
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(np.asarray(cat.codes), categories=pd.Index(names, dtype=object))
    codes = np.asarray(cat.codes)
    return pd.Categorical(np.where(codes >= 0, np.asarray(names, dtype=object)[np.maximum(codes, 0)], None))


def last_week_results(issued: pd.DataFrame, outcomes: pd.DataFrame, campaign_id: str,
                      week_start: dt.date) -> pd.DataFrame:
    """Last week's results per RM: each touch the campaign issued for the week before ``week_start``
    with the outcome recorded for it (the latest; "" when none), counted.

    ``issued`` and ``outcomes`` are the ledger's (:meth:`~reactivate.loop.ledger.Ledger.issued`,
    :meth:`~reactivate.loop.ledger.Ledger.outcomes`). An outcome belongs to a touch of the same customer
    and channel whose week it names (``planned_week``), or, naming none, dated in that week.

    Returns
    -------
    DataFrame with columns rm_id, outcome (a code of :data:`RESULTS`, or "") and count.
    """
    prev = pd.Timestamp(week_start - dt.timedelta(days=7))
    t = issued[(pd.to_datetime(issued["week_start"]) == prev).to_numpy()]
    if "campaign_id" in t.columns:
        t = t[(t["campaign_id"] == campaign_id).to_numpy()]
    if len(t) == 0:
        return pd.DataFrame({"rm_id": pd.Series(dtype=object), "outcome": pd.Series(dtype=object),
                             "count": pd.Series(dtype=np.int64)})
    label = str(t["week"].iloc[0]) if "week" in t.columns else ""
    o = outcomes[(outcomes["campaign_id"] == campaign_id).to_numpy()]
    date = pd.to_datetime(o["date"])
    in_week = ((date >= prev) & (date < prev + pd.Timedelta(days=7))).to_numpy()
    named = o["planned_week"].fillna("").astype(str).to_numpy()
    o = o[(named == label) | ((named == "") & in_week)]
    keys = ["customer_id", "channel"]
    touch = t[[*keys, "rm_id", "step"]].astype({"customer_id": str, "channel": str, "rm_id": str})
    got = o.assign(customer_id=o["customer_id"].astype(str), channel=o["channel"].astype(str))
    got = got.sort_values("date", kind="stable").drop_duplicates(keys, keep="last")[[*keys, "outcome"]]
    m = touch.merge(got, on=keys, how="left")
    m["outcome"] = m["outcome"].fillna("").astype(str)
    out = m.groupby(["rm_id", "outcome"], sort=True).size().rename("count").reset_index()
    return out.astype({"count": np.int64})
