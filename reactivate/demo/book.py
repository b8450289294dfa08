"""A realistic synthetic bank book: accounts, transactions, contact history and the truth.

The generator draws customers from five latent personas and four activity states,
then derives every table from the same customer-level draws so that the tables
agree with each other (a customer's ``last_activity_date`` is the latest of their
accounts' and the latest of their customer-initiated transactions). The truth
table records what a pipeline should recover: the persona, the activity state,
the true probability of reactivating when contacted on the best channel, and that
channel. The model and every parameter are described in ``docs/demo.md``.

Everything is vectorised with numpy and pyarrow; one ``numpy.random.Generator``
seeded with ``seed`` drives every draw in a fixed order, so the same
``n_customers``, ``seed`` and ``as_of`` always give identical frames and files.
"""

from __future__ import annotations

import gzip
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reactivate.dormancy.ids import days_to_datetime
from reactivate.errors import ConfigError, OutputError
from reactivate.outputs.files import csv_bytes
from reactivate.schema import (
    ACCOUNTS,
    CHANNELS,
    CONTACTS,
    INITIATORS,
    OUTCOMES,
    PRODUCTS,
    TRANSACTIONS,
    TRUTH_COLUMNS,
    TXN_CHANNELS,
    Table,
)

__all__ = [
    "ACTIVITY_STATES",
    "DEMO_ACCOUNT_COLUMNS",
    "FORMATS",
    "PERSONAS",
    "PERSONA_BASE_RATE",
    "DemoBook",
    "contact_outcome_probs",
    "draw_outcomes",
    "generate_book",
    "spontaneous_hazard",
    "write_book",
]

# ---------------------------------------------------------------------------
# Parameters of the generative model (mirrored in docs/demo.md).
# Rows of the per-persona tables follow PERSONAS; columns follow the schema's
# tuples (CHANNELS, PRODUCTS, TXN_CHANNELS, OUTCOMES) or ACTIVITY_STATES.
# ---------------------------------------------------------------------------

PERSONAS: tuple[str, ...] = (
    "elderly_saver",
    "young_digital_drifter",
    "lapsed_affluent",
    "salary_leaver",
    "forgotten_small_balance",
)
ACTIVITY_STATES: tuple[str, ...] = ("active", "at_risk", "dormant", "long_dormant")
FORMATS: tuple[str, ...] = ("csv", "csv.gz", "parquet")

_ELD, _YNG, _AFF, _SAL, _FGT = range(5)
_PROD = {p: i for i, p in enumerate(PRODUCTS)}
_CH = {c: i for i, c in enumerate(CHANNELS)}
_TCH = {c: i for i, c in enumerate(TXN_CHANNELS)}
_CUSTOMER, _BANK = INITIATORS.index("customer"), INITIATORS.index("bank")

#: share of each persona in the whole book
PERSONA_SHARE = np.array([0.22, 0.22, 0.12, 0.22, 0.22])
#: P(activity state | persona); columns follow ACTIVITY_STATES
STATE_PROBS = np.array(
    [
        [0.25, 0.15, 0.35, 0.25],
        [0.30, 0.18, 0.30, 0.22],
        [0.30, 0.18, 0.30, 0.22],
        [0.28, 0.17, 0.30, 0.25],
        [0.12, 0.09, 0.19, 0.60],
    ]
)
#: days since the last customer-initiated activity, inclusive range per state
STATE_DAYS = np.array([[1, 179], [180, 364], [365, 729], [730, 1800]])
#: Beta(a, b) shape of the position inside the state's day range
ACTIVE_BETA = (0.8, 3.0)
AT_RISK_BETA = (1.0, 1.5)
DORMANT_BETA = np.array([[1.5, 1.5], [1.3, 2.0], [1.5, 1.5], [1.5, 1.5], [3.0, 1.2]])

#: age in years, uniform range per persona
AGE_RANGE = np.array([[60.0, 85.0], [20.0, 35.0], [40.0, 65.0], [25.0, 50.0], [18.0, 85.0]])
#: share of all customers who are minors (taken from forgotten_small_balance), age range
MINOR_SHARE = 0.005
MINOR_AGE = (8.0, 17.9)
#: youngest age at which an adult opened the first account (ages are raised to fit)
MIN_OPEN_AGE = 16
#: years the customer was active before the last activity (tenure = days since + span)
ACTIVE_SPAN_YEARS = np.array([[8.0, 30.0], [0.5, 4.0], [5.0, 20.0], [2.0, 10.0], [1.0, 15.0]])

#: total of the non-negative balances: log10 median and log10 sd per persona
BALANCE_LOG10 = np.array([[4.9, 0.35], [2.7, 0.30], [5.8, 0.30], [3.9, 0.30], [np.nan, np.nan]])
#: forgotten_small_balance: log10 of the balance is uniform on this range (0.32 .. 97.7)
SMALL_BALANCE_LOG10 = (-0.5, 1.99)

#: P(number of accounts = 1, 2, 3, 4 | persona)
N_ACCOUNTS_PROBS = np.array(
    [
        [0.00, 0.50, 0.35, 0.15],
        [0.55, 0.40, 0.05, 0.00],
        [0.00, 0.00, 0.40, 0.60],
        [0.10, 0.50, 0.40, 0.00],
        [1.00, 0.00, 0.00, 0.00],
    ]
)
#: product of account slot 1..4 per persona (slot 1 is the primary, most used account)
SLOT_PRODUCTS: dict[str, tuple[dict[str, float], ...]] = {
    "elderly_saver": (
        {"savings": 1.0},
        {"term_deposit": 1.0},
        {"term_deposit": 0.5, "insurance": 0.4, "other": 0.1},
        {"insurance": 0.5, "wealth": 0.3, "fund": 0.2},
    ),
    "young_digital_drifter": (
        {"savings": 0.5, "current": 0.5},
        {"card": 0.8, "fund": 0.2},
        {"fund": 0.6, "insurance": 0.2, "other": 0.2},
        {"other": 1.0},
    ),
    "lapsed_affluent": (
        {"current": 1.0},
        {"wealth": 1.0},
        {"fund": 0.6, "term_deposit": 0.4},
        {"insurance": 0.5, "card": 0.2, "term_deposit": 0.15, "mortgage": 0.15},
    ),
    "salary_leaver": (
        {"current": 1.0},
        {"savings": 0.5, "card": 0.5},
        {"card": 0.3, "fund": 0.3, "loan": 0.4},
        {"other": 1.0},
    ),
    "forgotten_small_balance": (
        {"savings": 1.0},
        {"other": 1.0},
        {"other": 1.0},
        {"other": 1.0},
    ),
}
#: share of non-primary accounts that were never used (empty last_activity_date)
NEVER_USED_SHARE = 0.06
#: relative weight of an asset product when the customer's balance is split over accounts
ASSET_WEIGHT = {
    "savings": 1.0,
    "current": 1.0,
    "term_deposit": 3.0,
    "wealth": 4.0,
    "fund": 2.0,
    "insurance": 1.5,
    "other": 0.5,
}
#: liabilities: (share with a non-zero balance, median owed, sd of log); balances are negative
LIABILITY = {"card": (0.7, 1_500.0, 0.6), "loan": (1.0, 30_000.0, 0.5), "mortgage": (1.0, 400_000.0, 0.4)}
#: maturity of term_deposit/wealth accounts: P(in 0-120 days, in 121-1095 days, 1-720 days ago)
MATURITY_PROBS = np.array(
    [[0.45, 0.40, 0.15], [0.25, 0.55, 0.20], [0.25, 0.55, 0.20], [0.25, 0.55, 0.20], [0.25, 0.55, 0.20]]
)
MATURITY_SOON_DAYS = 120

#: customers per RM and per branch (at least two of each)
CUSTOMERS_PER_RM = 300
CUSTOMERS_PER_BRANCH = 2_000
#: a customer with a total balance at or above this nearly always has an RM
HIGH_BALANCE = 100_000.0
P_RM_HIGH_BALANCE = 0.98
#: P(has an RM) below HIGH_BALANCE, per persona
P_RM = np.array([0.85, 0.85, 1.00, 0.85, 0.25])

#: P(has_<channel>) per persona; columns follow CHANNELS
REACH = np.array(
    [
        [0.95, 0.60, 0.15, 0.08, 0.05, 0.90, 0.85],
        [0.50, 0.75, 0.90, 0.85, 0.95, 0.05, 0.30],
        [0.98, 0.70, 0.60, 0.75, 0.45, 0.60, 0.70],
        [0.70, 0.92, 0.88, 0.25, 0.35, 0.10, 0.40],
        [0.25, 0.60, 0.05, 0.05, 0.03, 0.20, 0.90],
    ]
)
#: P(consent_<channel> | has_<channel>)
CONSENT_RATE = 0.80
#: how well a channel works for a persona (1 = the persona's best channel); columns follow CHANNELS
CHANNEL_FIT = np.array(
    [
        [1.00, 0.40, 0.20, 0.10, 0.10, 0.80, 0.50],
        [0.20, 0.40, 0.80, 0.50, 1.00, 0.10, 0.10],
        [1.00, 0.30, 0.50, 0.50, 0.40, 0.70, 0.20],
        [0.40, 0.80, 1.00, 0.30, 0.60, 0.20, 0.20],
        [0.30, 1.00, 0.30, 0.30, 0.20, 0.40, 0.80],
    ]
)

#: customer flags
P_DO_NOT_CONTACT = 0.03
DNC_REASONS: tuple[str, ...] = ("customer request", "complaint", "regulatory")
DNC_REASON_PROBS = np.array([0.60, 0.25, 0.15])
P_HARDSHIP = np.array([0.0125, 0.0125, 0.0125, 0.05, 0.0125])
P_DECEASED = np.array([0.006, 0.001, 0.001, 0.001, 0.001])
P_LEGAL_HOLD = 0.001

#: true propensity: base rate per persona times individual factors, clipped
PERSONA_BASE_RATE = np.array([0.25, 0.12, 0.30, 0.15, 0.04])
DECAY_DAYS = 600.0  # factor exp(-(days_since - 365) / DECAY_DAYS) once dormant
BALANCE_SLOPE = 0.12  # factor 1 + slope * (log10(1 + balance) - 3), clipped to BALANCE_FACTOR_CLIP
BALANCE_FACTOR_CLIP = (0.5, 1.5)
MATURITY_UPLIFT = 1.8  # a term product matures within HORIZON_DAYS after as_of
HORIZON_DAYS = 84  # the 12-week campaign
PRODUCT_UPLIFT = 0.10  # factor 1 + uplift * (number of accounts - 1)
P_CLIP = (0.005, 0.9)

#: transactions: the log covers this many days before as_of
HISTORY_DAYS = 1826
#: customer-initiated transactions per active year on the primary account, and the cap on years
TXN_RATE = np.array([1.0, 3.0, 1.0, 0.8, 0.3])
TXN_YEARS_CAP = 2.0
#: median size of a customer-initiated transaction and the sd of its log
TXN_AMOUNT_MEDIAN = np.array([2_000.0, 60.0, 20_000.0, 300.0, 30.0])
TXN_AMOUNT_SIGMA = 0.9
#: share of customer-initiated transactions that are credits (deposits)
TXN_CREDIT_SHARE = np.array([0.45, 0.25, 0.40, 0.35, 0.40])
#: transaction channel weights per persona; columns follow TXN_CHANNELS
TXN_CHANNEL_WEIGHTS = np.array(
    [
        [0.50, 0.35, 0.00, 0.00, 0.10, 0.00, 0.00, 0.00, 0.05],
        [0.00, 0.00, 0.05, 0.45, 0.00, 0.20, 0.30, 0.00, 0.00],
        [0.25, 0.00, 0.40, 0.20, 0.15, 0.00, 0.00, 0.00, 0.00],
        [0.00, 0.30, 0.05, 0.25, 0.00, 0.25, 0.15, 0.00, 0.00],
        [0.45, 0.50, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.05],
    ]
)
#: salary credits (salary_leaver only): share paid a salary, median monthly salary and log sd,
#: length of the salary spell in months, gap in days between the last salary and the last activity
SALARY_SHARE = 0.95
SALARY_MEDIAN = 8_000.0
SALARY_SIGMA = 0.4
SALARY_SPELL_MONTHS = (3, 9)
SALARY_GAP_DAYS = (0, 45)
#: bank-initiated rows: yearly interest on these products (rate), yearly fees (amount)
INTEREST_RATE = {"savings": 0.0035, "current": 0.0035}
ANNUAL_FEE = {"card": -50.0}

#: contact history
CONTACT_HISTORY_DAYS = 730
CONTACTED_SHARE = 0.30
N_CONTACTS_PROBS = np.array([0.5, 0.3, 0.2])  # 1, 2 or 3 contacts
RECENT_CONTACT_SHARE = 0.15  # of contacts dated in the last RECENT_CONTACT_DAYS
RECENT_CONTACT_DAYS = 30
#: how often the bank picked each channel (among those the customer consented to)
CONTACT_CHANNEL_WEIGHT = np.array([2.0, 3.0, 2.0, 1.5, 2.0, 0.5, 0.7])
#: P(outcome) per contact: reactivated = true_p * fit * REACTIVATED_SCALE,
#: responded = RESPONSE_BASE[persona] * fit, the rest fixed, no_answer takes what is left
REACTIVATED_SCALE = 0.7
RESPONSE_BASE = np.array([0.25, 0.20, 0.30, 0.20, 0.08])
P_DECLINED = 0.12
P_COMPLAINT = 0.006
P_OPTED_OUT = 0.012
#: coming back without a touch (the simulated weeks of reactivate.demo.respond): this share of
#: true_p_reactivate within the campaign's HORIZON_DAYS, at a constant daily hazard
SPONTANEOUS_SHARE = 0.1
#: share of do-not-contact customers (reason complaint / customer request) whose history
#: ends with the complaint / opt-out that caused it
P_DNC_CAUSE_RECORDED = 0.6
#: a reactivation is recorded this many days (at most) before the activity it caused
REACTIVATION_LAG_DAYS = 84

#: the demo's own accounts columns after the contract's: a clearly fake name and mobile number per
#: customer, for the RM lists' ``[targets] show`` (the pipeline reads only the contract's columns)
DEMO_ACCOUNT_COLUMNS: tuple[str, ...] = ("name", "mobile")
#: fake names: "<given> <family> (demo)", the family names plainly fictional
GIVEN_NAMES: tuple[str, ...] = (
    "Ada", "Ben", "Chen", "Dana", "Eli", "Fang", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lin",
    "Mei", "Nora", "Omar", "Ping", "Qi", "Rui", "Sam", "Tao", "Uma", "Wei", "Xin", "Yan", "Zoe",
)
FAMILY_NAMES: tuple[str, ...] = (
    "Sample", "Example", "Placeholder", "Fictional", "Madeup", "Testcase", "Nobody", "Notreal",
)
NAME_MARK = " (demo)"
#: mobiles in the range North American numbering keeps for fiction, 555-0100 .. 555-0199, written
#: "(<area>) 555-01xx" (no leading "+": a spreadsheet would take it for a formula); customer i (from 0)
#: gets area 200 + (i // 100) % 800 and line 0100 + i % 100, so the first 80,000 customers have
#: distinct numbers; a customer reachable by neither phone nor sms has none
MOBILE_AREAS = 800

_EPOCH = date(1970, 1, 1)
_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class DemoBook:
    """A generated book: the three input tables of the data contract and the truth.

    Attributes
    ----------
    accounts, transactions, contacts : pandas.DataFrame
        Exactly the columns of ``schema.ACCOUNTS``, ``schema.TRANSACTIONS`` and
        ``schema.CONTACTS`` in that order. Ids and enums are strings, dates are
        ``datetime64[s]`` at midnight (``NaT`` when missing), flags are bool.
    truth : pandas.DataFrame
        One row per customer with ``schema.TRUTH_COLUMNS``: persona, activity
        state, ``true_p_reactivate`` and ``best_channel``. Not an input of the
        pipeline; use it to evaluate segmentation, ranking and channel choice.
    """

    accounts: pd.DataFrame
    transactions: pd.DataFrame
    contacts: pd.DataFrame
    truth: pd.DataFrame


# ---------------------------------------------------------------------------
# small vectorised helpers
# ---------------------------------------------------------------------------


def _draw_by_group(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """One categorical draw per row, with probabilities ``table[group[row]]``."""
    u = rng.random(group.shape[0])
    cum = np.cumsum(table, axis=1)
    out = np.zeros(group.shape[0], dtype=np.int64)
    for g in range(table.shape[0]):
        sel = group == g
        if sel.any():
            out[sel] = np.searchsorted(cum[g], u[sel] * cum[g, -1], side="right")
    return out


def _uniform_int(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integers uniform on [lo, hi] (inclusive, elementwise; hi >= lo)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    return lo + np.floor(rng.random(np.broadcast(lo, hi).shape) * (hi - lo + 1)).astype(np.int64)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i]-1 for each group i, concatenated."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(_group_starts(counts), counts)


def _ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` as an Arrow string array (null where not valid)."""
    mask = None if valid is None else ~valid
    digits = pc.cast(pa.array(numbers, type=pa.int64(), mask=mask), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width, "0"), "")


def _labels(codes: np.ndarray, values: tuple[str, ...], valid: np.ndarray | None = None) -> pd.Series:
    mask = None if valid is None else ~valid
    arr = pa.array(values, type=pa.string()).take(pa.array(codes, type=pa.int64(), mask=mask))
    return _series(arr)


def _series(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    return arr.to_pandas().reset_index(drop=True)


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------


def _check_args(n_customers: object, seed: object, as_of: object) -> date:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise ConfigError(f"n_customers={n_customers!r} should be an integer >= 1.")
    if n_customers < 1:
        raise ConfigError(f"n_customers={n_customers} should be >= 1.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r} should be a non-negative integer.")
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if not isinstance(as_of, date):
        raise ConfigError(f"as_of={as_of!r} should be a datetime.date.")
    if as_of.year < 1990:
        raise ConfigError(f"as_of={as_of.isoformat()} should be in 1990 or later.")
    return as_of


def generate_book(n_customers: int, seed: int = 0, as_of: date = date(2026, 11, 30)) -> DemoBook:
    """Generate a synthetic bank book of ``n_customers`` customers.

    Parameters
    ----------
    n_customers : int
        Number of customers (>= 1). Accounts are about 2.1 per customer,
        transactions about 10 per customer, contacts about 0.5 per customer.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same ``n_customers``, ``seed``
        and ``as_of`` always give the same book.
    as_of : datetime.date, default 2026-11-30
        The reference day. No date or timestamp of the book falls after it
        (maturity dates excepted: they lie in the future by design).

    Returns
    -------
    DemoBook

    Raises
    ------
    ConfigError
        ``n_customers`` < 1 or not an integer, a negative ``seed``, or an ``as_of``
        that is not a date or is before 1990.
    """
    as_of = _check_args(n_customers, seed, as_of)
    n = int(n_customers)
    rng = np.random.default_rng(int(seed))
    asof = (as_of - _EPOCH).days

    cust = _customers(rng, n, asof)
    acc = _accounts(rng, cust, asof)
    p_true = _propensity(cust, acc, asof)
    txn = _transactions(rng, cust, acc, asof)
    con = _contacts(rng, cust, p_true, asof)
    cust["given"] = rng.integers(0, len(GIVEN_NAMES), size=n)  # drawn last: the tables above do not change
    cust["family"] = rng.integers(0, len(FAMILY_NAMES), size=n)

    return _frames(cust, acc, txn, con, p_true)


def _customers(rng: np.random.Generator, n: int, asof: int) -> dict[str, np.ndarray]:
    """The customer-level draws every table derives from (one row per customer, in draw order)."""
    persona = rng.choice(len(PERSONAS), size=n, p=PERSONA_SHARE)
    state = _draw_by_group(rng, persona, STATE_PROBS)
    days = _days_since_activity(rng, persona, state)
    opened, birth = _open_and_birth_days(rng, persona, days, asof)
    balance = _total_balance(rng, persona)
    n_acc = _draw_by_group(rng, persona, N_ACCOUNTS_PROBS) + 1
    reach = _reach(rng, persona)
    flags = _flags(rng, persona)
    staff = _branches_and_rms(rng, persona, balance)
    return {"persona": persona, "state": state, "days": days, "last": asof - days, "opened": opened,
            "birth": birth, "balance": balance, "n_acc": n_acc, **reach, **flags, **staff}


def _days_since_activity(rng: np.random.Generator, persona: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Days since the last customer-initiated activity: a beta position within the state's range."""
    n = persona.shape[0]
    a = np.empty(n)
    b = np.empty(n)
    a[state == 0], b[state == 0] = ACTIVE_BETA
    a[state == 1], b[state == 1] = AT_RISK_BETA
    dormant = state >= 2
    a[dormant] = DORMANT_BETA[persona[dormant], 0]
    b[dormant] = DORMANT_BETA[persona[dormant], 1]
    pos = rng.beta(a, b)
    lo, hi = STATE_DAYS[state, 0], STATE_DAYS[state, 1]
    return np.minimum(lo + np.floor(pos * (hi - lo + 1)).astype(np.int64), hi)


def _open_and_birth_days(
    rng: np.random.Generator, persona: np.ndarray, days: np.ndarray, asof: int
) -> tuple[np.ndarray, np.ndarray]:
    """The customer's open day (their first account's) and birth day, from age and tenure."""
    n = persona.shape[0]
    age_lo, age_hi = AGE_RANGE[persona, 0], AGE_RANGE[persona, 1]
    age_years = age_lo + rng.random(n) * (age_hi - age_lo)
    minor_p = min(1.0, MINOR_SHARE / PERSONA_SHARE[_FGT])
    minor = (persona == _FGT) & (rng.random(n) < minor_p)
    age_years[minor] = MINOR_AGE[0] + rng.random(int(minor.sum())) * (MINOR_AGE[1] - MINOR_AGE[0])
    age_days = np.floor(age_years * 365.25).astype(np.int64)
    span_lo, span_hi = ACTIVE_SPAN_YEARS[persona, 0], ACTIVE_SPAN_YEARS[persona, 1]
    span_days = np.floor((span_lo + rng.random(n) * (span_hi - span_lo)) * 365.25).astype(np.int64)
    tenure = days + np.maximum(span_days, 60)
    # minors: the account was opened for them after birth; adults: raise the age to fit the tenure
    tenure = np.where(minor, np.clip(tenure, days + 30, age_days - 30), tenure)
    age_days = np.where(minor, age_days, np.maximum(age_days, tenure + int(MIN_OPEN_AGE * 365.25)))
    return asof - tenure, asof - age_days


def _total_balance(rng: np.random.Generator, persona: np.ndarray) -> np.ndarray:
    """The total of a customer's non-negative balances (log-normal; log-uniform for small balances)."""
    log_bal = BALANCE_LOG10[persona, 0] + BALANCE_LOG10[persona, 1] * rng.standard_normal(persona.shape[0])
    small = persona == _FGT
    log_bal[small] = rng.uniform(*SMALL_BALANCE_LOG10, size=int(small.sum()))
    return 10.0**log_bal


def _reach(rng: np.random.Generator, persona: np.ndarray) -> dict[str, np.ndarray]:
    """The channels a customer can be reached on, those they consented to, and the best of them."""
    n = persona.shape[0]
    has = rng.random((n, len(CHANNELS))) < REACH[persona]
    nothing = ~has.any(axis=1)
    has[nothing, _CH["mail"]] = True  # everyone has a postal address on file
    consent = has & (rng.random((n, len(CHANNELS))) < CONSENT_RATE)
    fit = np.where(has, CHANNEL_FIT[persona], -1.0)
    return {"has": has, "consent": consent, "best": np.argmax(fit, axis=1)}


def _flags(rng: np.random.Generator, persona: np.ndarray) -> dict[str, np.ndarray]:
    """Do-not-contact (with its reason), hardship, deceased and legal hold."""
    n = persona.shape[0]
    dnc = rng.random(n) < P_DO_NOT_CONTACT
    dnc_reason = _draw_by_group(rng, np.zeros(n, dtype=np.int64), DNC_REASON_PROBS[None, :])
    hardship = rng.random(n) < P_HARDSHIP[persona]
    deceased = rng.random(n) < P_DECEASED[persona]
    legal_hold = rng.random(n) < P_LEGAL_HOLD
    return {"dnc": dnc, "dnc_reason": dnc_reason, "hardship": hardship, "deceased": deceased,
            "legal_hold": legal_hold}


def _branches_and_rms(rng: np.random.Generator, persona: np.ndarray, balance: np.ndarray) -> dict[str, np.ndarray]:
    """Branches and relationship managers; RM r works in branch r % n_branch."""
    n = persona.shape[0]
    n_branch = max(2, int(n / CUSTOMERS_PER_BRANCH + 0.5))
    n_rm = max(2, int(n / CUSTOMERS_PER_RM + 0.5))
    branch = rng.integers(0, n_branch, size=n)
    rms_in_branch = (n_rm - branch + n_branch - 1) // n_branch
    rm = branch + n_branch * np.floor(rng.random(n) * rms_in_branch).astype(np.int64)
    p_rm = np.where(balance >= HIGH_BALANCE, P_RM_HIGH_BALANCE, P_RM[persona])
    p_rm[persona == _AFF] = 1.0
    has_rm = rng.random(n) < p_rm
    return {"branch": branch, "rm": rm, "has_rm": has_rm, "n_rm": np.int64(n_rm), "n_branch": np.int64(n_branch)}


def _accounts(rng: np.random.Generator, cust: dict[str, np.ndarray], asof: int) -> dict[str, np.ndarray]:
    persona, n_acc = cust["persona"], cust["n_acc"]
    n = persona.shape[0]
    owner = np.repeat(np.arange(n), n_acc)
    slot = _rank_in_group(n_acc)
    m = owner.shape[0]

    slot_table = np.zeros((len(PERSONAS) * 4, len(PRODUCTS)))
    for i, name in enumerate(PERSONAS):
        for s, probs in enumerate(SLOT_PRODUCTS[name]):
            for prod, p in probs.items():
                slot_table[i * 4 + s, _PROD[prod]] = p
    product = _draw_by_group(rng, persona[owner] * 4 + slot, slot_table)

    # open and last-activity days: the primary account carries the customer's dates
    c_open, c_last = cust["opened"][owner], cust["last"][owner]
    secondary = slot > 0
    opened = np.where(secondary, _uniform_int(rng, c_open, c_last), c_open)
    last = np.where(secondary, _uniform_int(rng, opened, c_last), c_last)
    used = ~(secondary & (rng.random(m) < NEVER_USED_SHARE))

    # balances: split the customer's total over the asset accounts; liabilities are negative
    weight_of = np.zeros(len(PRODUCTS))
    for prod, w in ASSET_WEIGHT.items():
        weight_of[_PROD[prod]] = w
    weight = weight_of[product] * rng.gamma(2.0, size=m)
    total_weight = np.bincount(owner, weights=weight, minlength=n)
    balance = cust["balance"][owner] * weight / total_weight[owner]
    u_liab = rng.random(m)
    z_liab = rng.standard_normal(m)
    for prod, (share, median, sigma) in LIABILITY.items():
        sel = product == _PROD[prod]
        owed = np.exp(np.log(median) + sigma * z_liab[sel])
        balance[sel] = np.where(u_liab[sel] < share, -owed, 0.0)
    balance = np.round(balance, 2) + 0.0  # + 0.0 turns -0.0 into 0.0

    # maturity of term products
    term = (product == _PROD["term_deposit"]) | (product == _PROD["wealth"])
    kind = _draw_by_group(rng, persona[owner], MATURITY_PROBS)
    kind[(kind == 2) & (opened + 30 > asof - 1)] = 0  # too new to have matured already
    soon = asof + _uniform_int(rng, np.zeros(m), np.full(m, MATURITY_SOON_DAYS))
    later = asof + _uniform_int(rng, np.full(m, MATURITY_SOON_DAYS + 1), np.full(m, 1095))
    past = np.minimum(
        np.maximum(asof - _uniform_int(rng, np.ones(m), np.full(m, 720)), opened + 30), asof - 1
    )
    maturity = np.select([kind == 0, kind == 1], [soon, later], past)

    return {
        "owner": owner,
        "slot": slot,
        "product": product,
        "opened": opened,
        "last": last,
        "used": used,
        "balance": balance,
        "term": term,
        "maturity": maturity,
    }


def _propensity(cust: dict[str, np.ndarray], acc: dict[str, np.ndarray], asof: int) -> np.ndarray:
    n = cust["persona"].shape[0]
    owner = acc["owner"]
    decay = np.exp(-np.maximum(cust["days"] - 365, 0) / DECAY_DAYS)
    positive = np.bincount(owner, weights=np.maximum(acc["balance"], 0.0), minlength=n)
    bal = np.clip(1.0 + BALANCE_SLOPE * (np.log10(1.0 + positive) - 3.0), *BALANCE_FACTOR_CLIP)
    to_maturity = acc["maturity"] - asof
    in_horizon = acc["term"] & (to_maturity >= 0) & (to_maturity <= HORIZON_DAYS)
    maturing = np.bincount(owner, weights=in_horizon, minlength=n) > 0
    mat = np.where(maturing, MATURITY_UPLIFT, 1.0)
    prod = 1.0 + PRODUCT_UPLIFT * (cust["n_acc"] - 1)
    p = PERSONA_BASE_RATE[cust["persona"]] * decay * bal * mat * prod
    return np.round(np.clip(p, *P_CLIP), 4)


class _TxnLog:
    """The transaction log as it is drawn: pieces of (customer, account, seconds since the start of the
    log, amount, channel, initiator), sorted into one table by :meth:`table`."""

    def __init__(self, rng: np.random.Generator, persona: np.ndarray, window: int):
        self.rng = rng
        self.persona = persona
        self.window = window  # first day of the log
        self.pieces: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        who: np.ndarray,
        account: np.ndarray,
        day: np.ndarray,
        second: np.ndarray,
        amount: np.ndarray,
        channel: np.ndarray | int,
        initiator: int,
    ) -> None:
        k = who.shape[0]
        when = (day - self.window) * 86_400 + second
        channel = np.broadcast_to(np.asarray(channel, dtype=np.int8), (k,))
        self.pieces.append((who, account, when, amount, channel, np.full(k, initiator, dtype=np.int8)))

    def customer_rows(self, who: np.ndarray, account: np.ndarray, day: np.ndarray, sign: np.ndarray | None) -> None:
        """Customer-initiated rows: amount (credit or debit unless ``sign`` is given), channel, time of day."""
        rng = self.rng
        k = who.shape[0]
        p = self.persona[who]
        size = np.exp(np.log(TXN_AMOUNT_MEDIAN[p]) + TXN_AMOUNT_SIGMA * rng.standard_normal(k))
        if sign is None:
            sign = np.where(rng.random(k) < TXN_CREDIT_SHARE[p], 1.0, -1.0)
        amount = np.maximum(np.round(size, 2), 0.01) * sign
        channel = _draw_by_group(rng, p, TXN_CHANNEL_WEIGHTS)
        second = _uniform_int(rng, np.full(k, 7 * 3600), np.full(k, 23 * 3600 - 1))
        self.add(who, account, day, second, amount, channel, _CUSTOMER)

    def table(self) -> dict[str, np.ndarray]:
        who, account, when, amount, channel, initiator = (
            np.concatenate(col) for col in zip(*self.pieces, strict=True)
        )
        # order by customer, then time (< 2**28 s); a stable sort keeps ties in generation order
        order = np.argsort((who.astype(np.int64) << 28) | when, kind="stable")
        return {
            "owner": who[order],
            "account": account[order],
            "timestamp": (when[order] + self.window * 86_400).astype("datetime64[s]"),
            "amount": amount[order],
            "channel": channel[order],
            "initiator": initiator[order],
        }


def _transactions(
    rng: np.random.Generator, cust: dict[str, np.ndarray], acc: dict[str, np.ndarray], asof: int
) -> dict[str, np.ndarray]:
    window = asof - HISTORY_DAYS  # first day of the log
    log = _TxnLog(rng, cust["persona"], window)
    primary = _group_starts(cust["n_acc"])  # index of each customer's slot-0 account
    start = np.maximum(cust["opened"], window)  # the open day, or the start of the log
    _everyday_rows(log, cust, start, primary)
    _anchor_rows(log, acc)
    _salary_rows(log, cust, start, primary)
    _bank_rows(log, acc, asof)
    return log.table()


def _everyday_rows(log: _TxnLog, cust: dict[str, np.ndarray], start: np.ndarray, primary: np.ndarray) -> None:
    """1. Everyday transactions on the primary account, from ``start`` to the last activity day."""
    c_last = cust["last"]
    n = c_last.shape[0]
    years = np.minimum((c_last - start) / 365.25, TXN_YEARS_CAP)
    k = log.rng.poisson(TXN_RATE[log.persona] * years)
    who = np.repeat(np.arange(n), k)
    log.customer_rows(who, primary[who], _uniform_int(log.rng, start[who], c_last[who]), None)


def _anchor_rows(log: _TxnLog, acc: dict[str, np.ndarray]) -> None:
    """2. One transaction on each used account at its last activity day (the primary's is the customer's
    last activity), and an opening credit for used accounts opened in the log."""
    window = log.window
    anchor = acc["used"] & (acc["last"] >= window)
    idx = np.flatnonzero(anchor)
    log.customer_rows(acc["owner"][idx], idx, acc["last"][idx], None)
    opening = anchor & (acc["slot"] > 0) & (acc["opened"] >= window) & (acc["opened"] < acc["last"])
    idx = np.flatnonzero(opening)
    log.customer_rows(acc["owner"][idx], idx, acc["opened"][idx], np.ones(idx.shape[0]))


def _salary_rows(log: _TxnLog, cust: dict[str, np.ndarray], start: np.ndarray, primary: np.ndarray) -> None:
    """3. Monthly salary credits that stopped (salary_leaver)."""
    rng, persona, c_last = log.rng, log.persona, cust["last"]
    n = persona.shape[0]
    paid = (persona == _SAL) & (rng.random(n) < SALARY_SHARE)
    stop = c_last - _uniform_int(rng, np.full(n, SALARY_GAP_DAYS[0]), np.full(n, SALARY_GAP_DAYS[1]))
    spell = _uniform_int(rng, np.full(n, SALARY_SPELL_MONTHS[0]), np.full(n, SALARY_SPELL_MONTHS[1]))
    fits = np.where(stop >= start, np.floor((stop - start) / 30.44).astype(np.int64) + 1, 0)
    months = np.where(paid, np.minimum(spell, fits), 0)
    salary = np.exp(np.log(SALARY_MEDIAN) + SALARY_SIGMA * rng.standard_normal(n))
    who = np.repeat(np.arange(n), months)
    j = _rank_in_group(months)
    k = who.shape[0]
    amount = np.round(salary[who] * (1.0 + 0.03 * rng.standard_normal(k)), 2)
    second = _uniform_int(rng, np.full(k, 8 * 3600), np.full(k, 10 * 3600 - 1))
    day = stop[who] - np.floor(j * 30.44).astype(np.int64)
    log.add(who, primary[who], day, second, amount, _TCH["auto"], _CUSTOMER)


def _bank_rows(log: _TxnLog, acc: dict[str, np.ndarray], asof: int) -> None:
    """4. Bank-initiated rows that go on after dormancy: yearly interest and fees on the account's
    anniversaries (fees half a year later)."""
    for table, offset in ((INTEREST_RATE, 0), (ANNUAL_FEE, 182)):
        for prod, value in table.items():
            sel = acc["product"] == _PROD[prod]
            if table is INTEREST_RATE:
                sel &= acc["balance"] > 0
            idx = np.flatnonzero(sel)
            first = acc["opened"][idx] + offset
            k_lo = np.maximum(1, np.ceil((log.window - first) / 365).astype(np.int64))
            k_hi = np.floor((asof - 1 - first) / 365).astype(np.int64)
            count = np.maximum(k_hi - k_lo + 1, 0)
            rows = np.repeat(idx, count)
            day = np.repeat(first + 365 * k_lo, count) + 365 * _rank_in_group(count)
            if table is INTEREST_RATE:
                amount = np.maximum(np.round(acc["balance"][rows] * value, 2), 0.01)
            else:
                amount = np.full(rows.shape[0], value)
            log.add(acc["owner"][rows], rows, day, np.full(rows.shape[0], 3600), amount, _TCH["auto"], _BANK)


def _contacts(
    rng: np.random.Generator, cust: dict[str, np.ndarray], p_true: np.ndarray, asof: int
) -> dict[str, np.ndarray]:
    persona, consent, has = cust["persona"], cust["consent"], cust["has"]
    n = persona.shape[0]
    first_day = asof - CONTACT_HISTORY_DAYS

    # ordinary campaign contacts: never a do-not-contact or deceased customer, only channels
    # the customer consented to
    eligible = ~cust["dnc"] & ~cust["deceased"] & consent.any(axis=1)
    contacted = eligible & (rng.random(n) < CONTACTED_SHARE / max(eligible.mean(), 1e-9))
    count = np.where(
        contacted, _draw_by_group(rng, np.zeros(n, dtype=np.int64), N_CONTACTS_PROBS[None]) + 1, 0
    )
    who = np.repeat(np.arange(n), count)
    k = who.shape[0]
    recent = rng.random(k) < RECENT_CONTACT_SHARE
    day = np.where(
        recent,
        _uniform_int(rng, np.full(k, asof - RECENT_CONTACT_DAYS), np.full(k, asof - 1)),
        _uniform_int(rng, np.full(k, first_day), np.full(k, asof - 1)),
    )
    gumbel = -np.log(-np.log(rng.random((k, len(CHANNELS))) + 1e-300) + 1e-300)
    score = np.where(consent[who], np.log(CONTACT_CHANNEL_WEIGHT) + gumbel, -np.inf)
    channel = np.argmax(score, axis=1)

    outcome = draw_outcomes(rng.random(k), contact_outcome_probs(persona[who], channel, p_true[who]))

    # a reactivation is followed by activity: date it up to 12 weeks before the customer's
    # last activity; when that falls before the history, record a response instead
    react = outcome == OUTCOMES.index("reactivated")
    c_last = cust["last"][who]
    possible = c_last >= first_day
    lag = _uniform_int(rng, np.zeros(k), np.clip(c_last - first_day, 0, REACTIVATION_LAG_DAYS))
    moved = c_last - lag
    day = np.where(react & possible, moved, day)
    outcome = np.where(react & ~possible, OUTCOMES.index("responded"), outcome)

    # do-not-contact customers whose history ends with the complaint or opt-out behind it
    cause = {"complaint": "complaint", "customer request": "opted_out"}
    reason = cust["dnc_reason"]
    extra_who, extra_day, extra_channel, extra_outcome = [], [], [], []
    u_cause = rng.random(n)
    for reason_name, outcome_name in cause.items():
        sel = cust["dnc"] & (reason == DNC_REASONS.index(reason_name)) & (u_cause < P_DNC_CAUSE_RECORDED)
        sel &= has.any(axis=1) & ~cust["deceased"]
        idx = np.flatnonzero(sel)
        g = -np.log(-np.log(rng.random((idx.shape[0], len(CHANNELS))) + 1e-300) + 1e-300)
        ch = np.argmax(np.where(has[idx], np.log(CONTACT_CHANNEL_WEIGHT) + g, -np.inf), axis=1)
        extra_who.append(idx)
        extra_day.append(_uniform_int(rng, np.full(idx.shape[0], first_day), np.full(idx.shape[0], asof - 1)))
        extra_channel.append(ch)
        extra_outcome.append(np.full(idx.shape[0], OUTCOMES.index(outcome_name)))
    who = np.concatenate([who, *extra_who])
    day = np.concatenate([day, *extra_day])
    channel = np.concatenate([channel, *extra_channel])
    outcome = np.concatenate([outcome, *extra_outcome])

    # an opt-out withdraws consent for that channel; no later contact on it
    opted = outcome == OUTCOMES.index("opted_out")
    pair = who.astype(np.int64) * len(CHANNELS) + channel
    opt_day = np.full(n * len(CHANNELS), _BIG, dtype=np.int64)
    np.minimum.at(opt_day, pair[opted], day[opted])
    keep = (day < opt_day[pair]) | (opted & (day == opt_day[pair]))
    who, day, channel, outcome = who[keep], day[keep], channel[keep], outcome[keep]
    opted = outcome == OUTCOMES.index("opted_out")
    consent[who[opted], channel[opted]] = False  # updates cust["consent"] in place

    order = np.argsort(day.astype(np.int64) * (n + 1) + who, kind="stable")
    return {"owner": who[order], "day": day[order], "channel": channel[order], "outcome": outcome[order]}


def contact_outcome_probs(persona: np.ndarray, channel: np.ndarray, p_true: np.ndarray) -> np.ndarray:
    """The demo's contact outcome model: P(outcome) of each contact, (k, len(OUTCOMES)).

    ``persona`` (positions in :data:`PERSONAS`), ``channel`` (positions in ``schema.CHANNELS``) and
    ``p_true`` (``true_p_reactivate``) per contact. With ``fit = CHANNEL_FIT[persona, channel]``:
    reactivated ``min(REACTIVATED_SCALE * p_true * fit, 0.5)``, responded ``RESPONSE_BASE[persona] * fit``,
    declined, complaint and opted out fixed, no answer the rest. The contact history of the book and the
    simulated weeks of :mod:`reactivate.demo.respond` both draw from it.
    """
    persona = np.asarray(persona, dtype=np.int64)
    fit = CHANNEL_FIT[persona, np.asarray(channel, dtype=np.int64)]
    probs = np.zeros((persona.shape[0], len(OUTCOMES)))
    probs[:, OUTCOMES.index("reactivated")] = np.minimum(np.asarray(p_true) * fit * REACTIVATED_SCALE, 0.5)
    probs[:, OUTCOMES.index("responded")] = RESPONSE_BASE[persona] * fit
    probs[:, OUTCOMES.index("declined")] = P_DECLINED
    probs[:, OUTCOMES.index("complaint")] = P_COMPLAINT
    probs[:, OUTCOMES.index("opted_out")] = P_OPTED_OUT
    probs[:, OUTCOMES.index("no_answer")] = np.maximum(1.0 - probs.sum(axis=1), 0.0)
    return probs


def spontaneous_hazard(p_true: np.ndarray) -> np.ndarray:
    """The daily hazard of coming back without a touch: ``SPONTANEOUS_SHARE * p_true`` come back within
    ``HORIZON_DAYS`` (so ``1 - exp(-hazard * d)`` within ``d`` days, whenever the ``d`` days start)."""
    return -np.log1p(-SPONTANEOUS_SHARE * np.asarray(p_true, dtype=float)) / HORIZON_DAYS


def draw_outcomes(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One outcome per row (positions in ``schema.OUTCOMES``) from uniforms ``u`` on [0, 1) and ``probs``
    (:func:`contact_outcome_probs`)."""
    scaled = np.asarray(u)[:, None] * probs.sum(axis=1, keepdims=True)
    return (scaled >= np.cumsum(probs, axis=1)).sum(axis=1)


def _campaign_labels(days: np.ndarray) -> pd.Series:
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12
    code = year * 4 + month // 3
    uniq, inverse = np.unique(code, return_inverse=True)
    names = tuple(f"CAMP{c // 4}Q{c % 4 + 1}" for c in uniq.tolist())
    return _labels(inverse.reshape(-1), names)


def _frames(
    cust: dict[str, np.ndarray],
    acc: dict[str, np.ndarray],
    txn: dict[str, np.ndarray],
    con: dict[str, np.ndarray],
    p_true: np.ndarray,
) -> DemoBook:
    n = cust["persona"].shape[0]
    m = acc["owner"].shape[0]
    customer_id = _ids("C", np.arange(1, n + 1), max(7, len(str(n))))
    account_id = _ids("A", np.arange(1, m + 1), max(8, len(str(m))))
    n_rm, n_branch = int(cust["n_rm"]), int(cust["n_branch"])
    rm_id = _ids("RM", cust["rm"] + 1, max(4, len(str(n_rm))), cust["has_rm"])
    branch_id = _ids("BR", cust["branch"] + 1, max(3, len(str(n_branch))))

    owner = pa.array(acc["owner"])
    accounts: dict[str, object] = {
        "customer_id": _series(customer_id.take(owner)),
        "account_id": _series(account_id),
        "product": _labels(acc["product"], PRODUCTS),
        "open_date": days_to_datetime(acc["opened"]),
        "last_activity_date": days_to_datetime(acc["last"], ~acc["used"]),
        "balance": acc["balance"],
        "maturity_date": days_to_datetime(acc["maturity"], ~acc["term"]),
        "rm_id": _series(rm_id.take(owner)),
        "branch_id": _series(branch_id.take(owner)),
        "birth_date": days_to_datetime(cust["birth"][acc["owner"]]),
    }
    for i, ch in enumerate(CHANNELS):
        accounts[f"has_{ch}"] = cust["has"][acc["owner"], i]
    for i, ch in enumerate(CHANNELS):
        accounts[f"consent_{ch}"] = cust["consent"][acc["owner"], i]
    dnc = cust["dnc"][acc["owner"]]
    accounts["do_not_contact"] = dnc
    accounts["dnc_reason"] = _labels(cust["dnc_reason"][acc["owner"]], DNC_REASONS, dnc)
    for flag in ("hardship", "deceased", "legal_hold"):
        accounts[flag] = cust[flag][acc["owner"]]
    name, mobile = _names_and_mobiles(cust)
    accounts["name"] = _series(name.take(owner))
    accounts["mobile"] = _series(mobile.take(owner))

    transactions = {
        "customer_id": _series(customer_id.take(pa.array(txn["owner"]))),
        "timestamp": txn["timestamp"],
        "amount": txn["amount"],
        "channel": _labels(txn["channel"], TXN_CHANNELS),
        "initiated_by": _labels(txn["initiator"], INITIATORS),
        "account_id": _series(account_id.take(pa.array(txn["account"]))),
    }
    contacts = {
        "customer_id": _series(customer_id.take(pa.array(con["owner"]))),
        "date": days_to_datetime(con["day"]),
        "channel": _labels(con["channel"], CHANNELS),
        "campaign": _campaign_labels(con["day"]),
        "outcome": _labels(con["outcome"], OUTCOMES),
    }
    truth = {
        "customer_id": _series(customer_id),
        "persona": _labels(cust["persona"], PERSONAS),
        "activity_state": _labels(cust["state"], ACTIVITY_STATES),
        "true_p_reactivate": p_true,
        "best_channel": _labels(cust["best"], CHANNELS),
    }
    return DemoBook(
        accounts=_frame(accounts, ACCOUNTS.names + DEMO_ACCOUNT_COLUMNS),
        transactions=_frame(transactions, TRANSACTIONS.names),
        contacts=_frame(contacts, CONTACTS.names),
        truth=_frame(truth, TRUTH_COLUMNS),
    )


def _names_and_mobiles(cust: dict[str, np.ndarray]) -> tuple[pa.Array, pa.Array]:
    """Each customer's fake name and mobile (null without phone or sms reach), as Arrow strings."""
    n = cust["persona"].shape[0]
    given = pa.array(GIVEN_NAMES).take(pa.array(cust["given"]))
    family = pa.array(FAMILY_NAMES).take(pa.array(cust["family"]))
    name = pc.binary_join_element_wise(given, " ", family, NAME_MARK, "")
    i = np.arange(n, dtype=np.int64)
    has = cust["has"]
    reach = has[:, _CH["phone"]] | has[:, _CH["sms"]]
    area = _ids("(", 200 + (i // 100) % MOBILE_AREAS, 3)
    line = _ids(") 555-01", i % 100, 2, reach)
    return name, pc.binary_join_element_wise(area, line, "")


def _frame(columns: dict[str, object], names: tuple[str, ...]) -> pd.DataFrame:
    assert tuple(columns) == names, (tuple(columns), names)
    return pd.DataFrame({name: columns[name] for name in names}, copy=False)


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


#: columns with few distinct values: dictionary-encoded in Parquet (ids are not: it is slower)
_DICTIONARY_COLUMNS = frozenset(
    {"product", "rm_id", "branch_id", "dnc_reason", "channel", "initiated_by", "campaign", "outcome"}
    | {"persona", "activity_state", "best_channel"}
)
#: CSV: rows per chunk; each chunk is written by outputs.files.csv_bytes (text values quoted only
#: in a chunk that holds a comma, quote or line break) and, in csv.gz, is one gzip member (members
#: are compressed in parallel and concatenated)
_CSV_ROWS = 65_536
_GZIP_LEVEL = 6
_WORKERS = 2


def _to_arrow(df: pd.DataFrame, table: Table | None) -> pa.Table:
    tbl = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    if table is not None:
        for c in table.columns:
            if c.kind == "date":
                i = tbl.schema.get_field_index(c.name)
                tbl = tbl.set_column(i, c.name, tbl.column(i).cast(pa.date32()))
    return tbl


def _csv_chunk(tbl: pa.Table, start: int) -> bytes:
    """Rows ``start`` to ``start + _CSV_ROWS`` as CSV, with the header line in the first chunk only."""
    part = tbl.slice(start, _CSV_ROWS)
    data = csv_bytes({name: col.combine_chunks() for name, col in zip(part.column_names, part.columns, strict=True)})
    return data if start == 0 else data[data.index(b"\n") + 1 :]


def _chunk_starts(tbl: pa.Table) -> range:
    return range(0, max(tbl.num_rows, 1), _CSV_ROWS)


def _write_csv(tbl: pa.Table, path: Path) -> None:
    with open(path, "wb") as sink:
        for start in _chunk_starts(tbl):
            sink.write(_csv_chunk(tbl, start))


def _gzip_member(tbl: pa.Table, start: int) -> bytes:
    # mtime=0: no time in the header, the same bytes on every run
    return gzip.compress(_csv_chunk(tbl, start), compresslevel=_GZIP_LEVEL, mtime=0)


def _write_csv_gz(tbl: pa.Table, path: Path, pool: ThreadPoolExecutor) -> None:
    with open(path, "wb") as sink:
        for member in pool.map(lambda start: _gzip_member(tbl, start), _chunk_starts(tbl)):
            sink.write(member)


def _write_parquet(tbl: pa.Table, path: Path) -> None:
    dictionary = [c for c in tbl.column_names if c in _DICTIONARY_COLUMNS]
    pq.write_table(tbl, str(path), compression="zstd", use_dictionary=dictionary)


def write_book(book: DemoBook, out_dir: Path | str, fmt: str = "csv") -> dict[str, Path]:
    """Write the four tables of ``book`` into ``out_dir``.

    Files are ``accounts.<ext>``, ``transactions.<ext>``, ``contacts.<ext>`` and
    ``truth.<ext>``. In CSV, dates are ``YYYY-MM-DD``, timestamps
    ``YYYY-MM-DD HH:MM:SS``, flags ``true``/``false`` and missing values empty;
    in Parquet, dates are ``date32`` and timestamps ``timestamp[s]``. Every file
    is written to a temporary name in ``out_dir`` first and moved into place
    only when all four are complete, so a failed run leaves the previous files
    as they were. The same book always gives the same bytes.

    Parameters
    ----------
    book : DemoBook
    out_dir : pathlib.Path or str
        Created if missing.
    fmt : {"csv", "csv.gz", "parquet"}, default "csv"

    Returns
    -------
    dict of str to pathlib.Path
        Table name (``accounts``, ``transactions``, ``contacts``, ``truth``) to path.

    Raises
    ------
    ConfigError
        An unknown ``fmt``.
    OutputError
        The directory or a file could not be written.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"fmt={fmt!r} is not a known format; use one of: {', '.join(FORMATS)}.")
    out_dir = Path(out_dir)
    tables = {
        "accounts": (book.accounts, ACCOUNTS),
        "transactions": (book.transactions, TRANSACTIONS),
        "contacts": (book.contacts, CONTACTS),
        "truth": (book.truth, None),
    }
    for name, (df, table) in tables.items():
        expected = TRUTH_COLUMNS if table is None else table.names
        extra = DEMO_ACCOUNT_COLUMNS if name == "accounts" else ()
        if tuple(df.columns) not in (expected, expected + extra):
            raise OutputError(
                f"{name}: columns {list(df.columns)} differ from the contract {list(expected)}"
                + (f" (optionally followed by the demo's {list(extra)})." if extra else ".")
            )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output directory {out_dir}: {exc.strerror}.") from exc

    paths = {name: out_dir / f"{name}.{fmt}" for name in tables}
    temps = {name: out_dir / f".{name}.{fmt}.{os.getpid()}.tmp" for name in tables}
    try:
        arrow = {name: _to_arrow(df, table) for name, (df, table) in tables.items()}
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            if fmt == "csv.gz":  # one file at a time, its gzip members in parallel
                for name, tbl in arrow.items():
                    _write_csv_gz(tbl, temps[name], pool)
            else:  # the files in parallel
                write = _write_parquet if fmt == "parquet" else _write_csv
                futures = [pool.submit(write, tbl, temps[name]) for name, tbl in arrow.items()]
                for future in futures:
                    future.result()
        for name in tables:
            os.replace(temps[name], paths[name])
    except OSError as exc:
        raise OutputError(f"cannot write the demo book into {out_dir}: {exc}.") from exc
    finally:
        for tmp in temps.values():
            if tmp.exists():
                tmp.unlink()
    return paths
