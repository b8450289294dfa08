"""Load and validate a bank's book: accounts, transactions, contact history.

:func:`load_book` reads whatever tables are given, checks them all and raises
one :class:`~reactivate.errors.InputDataError` listing every problem, or
returns a :class:`Book`. Optional columns that are absent are reported in
``Book.notes`` (the pipeline degrades gracefully without them).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.data.io import RawTable, fingerprint, read_table
from reactivate.data.validate import check_table, render
from reactivate.errors import InputDataError
from reactivate.schema import TABLES


@dataclass
class Book:
    """A validated book. ``accounts`` may be None when only transactions were given."""

    accounts: pd.DataFrame | None
    transactions: pd.DataFrame | None
    contacts: pd.DataFrame | None
    #: human-readable notes on degraded inputs (absent optional columns, ...)
    notes: list[str] = field(default_factory=list)
    #: table name -> {"path": ..., "sha256": ..., "rows": ...}
    inputs: dict[str, dict] = field(default_factory=dict)
    #: absent optional columns per table
    absent: dict[str, list[str]] = field(default_factory=dict)


def load_book(
    *,
    accounts: str | Path | None = None,
    transactions: str | Path | None = None,
    contacts: str | Path | None = None,
    spec: CampaignSpec,
    as_of: dt.date,
) -> Book:
    """Read and check the given tables.

    Raises
    ------
    InputDataError
        No accounts nor transactions were given, a file cannot be read, or any
        contract check fails (all problems are listed in the message).
    """
    if accounts is None and transactions is None:
        raise InputDataError("no input: give --accounts, --transactions or both")
    paths = {"accounts": accounts, "transactions": transactions, "contacts": contacts}
    raws: dict[str, RawTable] = {}
    given = {name: Path(path) for name, path in paths.items() if path is not None}
    # the input fingerprints (sha256) are computed beside the parsing: hashlib releases the GIL
    with ThreadPoolExecutor(max_workers=2) as pool:
        prints = {name: pool.submit(fingerprint, path) for name, path in given.items() if path.is_file()}
        for name, path in given.items():
            raws[name] = read_table(path, TABLES[name], getattr(spec.data, name), spec.data.encoding)
        for name, fut in prints.items():
            raws[name].fingerprint = fut.result()
    problems = []
    for name, raw in raws.items():
        problems.extend(check_table(raw, TABLES[name], as_of))
    if problems:
        raise InputDataError(render(problems))

    book = Book(
        accounts=raws["accounts"].frame if "accounts" in raws else None,
        transactions=raws["transactions"].frame if "transactions" in raws else None,
        contacts=raws["contacts"].frame if "contacts" in raws else None,
    )
    for name, raw in raws.items():
        book.inputs[name] = {"path": str(raw.path), "sha256": raw.fingerprint, "rows": len(raw.frame)}
        book.absent[name] = raw.absent_optional
        if raw.absent_optional:
            book.notes.append(_absent_note(raw))
    if book.transactions is not None and "initiated_by" in book.absent.get("transactions", []):
        book.notes.append("transactions: no initiated_by column, so every transaction counts as activity")
    if book.accounts is None:
        book.notes.append(
            "no accounts file: customers come from the transactions; no balances, RMs, consent or flags"
        )
    return book


def _absent_note(raw: RawTable) -> str:
    table = TABLES[raw.name]
    parts = []
    for name in raw.absent_optional:
        col = table.column(name)
        if name.startswith(("has_", "consent_")):
            continue
        parts.append(f"{name} ({col.default_doc})" if col.default_doc else name)
    reach = [n for n in raw.absent_optional if n.startswith("has_")]
    consent = [n for n in raw.absent_optional if n.startswith("consent_")]
    if reach:
        parts.append(f"{len(reach)} reach columns ({', '.join(reach)}: assumed reachable)")
    if consent:
        parts.append(
            f"{len(consent)} consent columns ({', '.join(consent)}: no consent unless "
            "consent.assume_when_missing lists the channel)"
        )
    return f"{raw.path.name}: optional columns absent: " + "; ".join(parts)
