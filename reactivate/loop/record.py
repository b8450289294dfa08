"""Recording what happened: delivered touches and their outcomes into the ledger.

:func:`record_outcomes` reads an outcomes file (the contacts-table layout:
customer_id, date, channel, outcome -- see docs/data.md), checks it like any
input, matches each row to the touch the campaign issued for that customer on
that channel (the latest issued week starting at most ``MATCH_DAYS`` days
before the delivery date), and inserts the new rows in one transaction.
Importing the same file twice changes nothing (a row is identified by
campaign, customer, date, channel and outcome). Rows of customers the
campaign never planned, and touches it never issued, are reported and not
recorded (``accept_unplanned=True`` records the latter, marked unplanned).
:func:`record_all` imports several files in one transaction, every file read and matched
first; with ``strict=True`` it records nothing at all when any row of any file is rejected.

:func:`merge_history` is how the ledger reaches the plan: its touches and
outcomes are added to the book's contact history, so caps, gaps, opt-outs
(per channel), complaints (the whole customer) and the calibration all see them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from reactivate.config.campaign import CampaignSpec
from reactivate.data.io import Problem, fingerprint, read_table
from reactivate.data.load import Book
from reactivate.data.validate import check_day, check_table, render
from reactivate.errors import InputDataError
from reactivate.loop.ledger import Ledger
from reactivate.schema import CHANNELS, OUTCOMES, TABLES

#: a delivery may be reported up to this many days after the start of the week it was issued for
MATCH_DAYS = 28


@dataclass
class RecordResult:
    """What one import did. Row numbers are file rows (1 = the first row under the header)."""

    path: str
    sha256: str
    rows: int = 0
    new: int = 0
    already: int = 0
    unknown_customer: list[int] = field(default_factory=list)
    unplanned: list[int] = field(default_factory=list)
    accepted_unplanned: int = 0
    holdout_contacted: list[int] = field(default_factory=list)
    #: rows that pass every check (recorded now, or already in the ledger)
    accepted: int = 0
    #: strict and a row of some file was rejected: nothing of this file was recorded either
    refused: bool = False

    @property
    def rejected(self) -> int:
        return len(self.unknown_customer) + len(self.unplanned)

    def lines(self) -> list[str]:
        name = Path(self.path).name
        if self.refused:
            good = f"{self.accepted:,} good row{'s' if self.accepted != 1 else ''}"
            held = f": {good} held back too" if self.accepted else ""
            out = [f"{name}: {self.rows:,} rows; nothing recorded (--strict{held})"]
        else:
            out = [f"{name}: {self.rows:,} rows; {self.new:,} recorded, {self.already:,} already in the ledger"]
        for many, one, rows in (
            ("customers this campaign never planned", "a customer this campaign never planned", self.unknown_customer),
            ("touches this campaign never issued", "a touch this campaign never issued", self.unplanned),
            ("touches of holdout customers", "a touch of a holdout customer", self.holdout_contacted),
        ):
            if rows:
                first = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
                label = "s" if len(rows) > 1 else ""
                text = f"{len(rows):,} rows are {many}" if len(rows) > 1 else f"1 row is {one}"
                if rows is self.holdout_contacted:
                    text += " (the holdout must not be contacted)"
                out.append(f"{name}: {text}, not recorded (row{label} {first})")
        if self.accepted_unplanned:
            out.append(f"{name}: {self.accepted_unplanned:,} unplanned touches recorded as unplanned")
        return out

    def to_dict(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows, "new": self.new,
                "already": self.already, "unknown_customer": len(self.unknown_customer),
                "unplanned": len(self.unplanned), "accepted_unplanned": self.accepted_unplanned,
                "holdout_contacted": len(self.holdout_contacted)}


def read_outcomes(path: str | Path, spec: CampaignSpec, as_of: dt.date) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Read and check an outcomes file; returns the rows, their file row numbers and the file's sha256.

    Raises
    ------
    InputDataError
        Every problem at once: contract checks, rows of another campaign (its ``campaign`` column),
        and the ``outcome`` column missing or empty.
    """
    check_day(as_of, "as-of date")
    table = TABLES["contacts"]
    raw = read_table(path, table, spec.data.contacts, spec.data.encoding, spec.data.timezone)
    problems = check_table(raw, table, as_of)
    frame = raw.frame
    if "campaign" in frame.columns:  # an outcomes file is one campaign's: a row of another is not this one's
        other = ((frame["campaign"] != spec.campaign.id).fillna(False).to_numpy(dtype=bool)
                 & frame["campaign"].notna().to_numpy())
        if other.any():
            problems.append(Problem(Path(path).name, "campaign", f"rows of another campaign (this is "
                                    f"{spec.campaign.id!r}; an outcomes file holds one campaign's touches)",
                                    raw.file_rows(np.flatnonzero(other) + 1),
                                    str(frame["campaign"].iloc[int(np.flatnonzero(other)[0])])))
    rows = raw.file_rows(np.arange(1, len(frame) + 1))
    if not problems:
        if "outcome" not in frame.columns:
            raise InputDataError(f"{Path(path).name}: column 'outcome' is required in an outcomes file "
                                 f"(one of {', '.join(OUTCOMES)})")
        miss = frame["outcome"].isna().to_numpy()
        if miss.any():
            first = ", ".join(str(int(r)) for r in rows[miss][:5])
            raise InputDataError(f"{Path(path).name}: column 'outcome': missing in {int(miss.sum()):,} rows "
                                 f"(rows {first}{', ...' if miss.sum() > 5 else ''})")
    if problems:
        raise InputDataError(render(problems))
    out = pd.DataFrame({
        "customer_id": frame["customer_id"].astype(str).to_numpy(),
        "date": pd.to_datetime(frame["date"]).dt.normalize().to_numpy(),
        "channel": frame["channel"].astype(str).to_numpy(),
        "outcome": frame["outcome"].astype(str).to_numpy(),
    })
    return out, rows, fingerprint(Path(path))


def record_outcomes(ledger: Ledger, path: str | Path, spec: CampaignSpec, *, as_of: dt.date | None = None,
                    accept_unplanned: bool = False) -> RecordResult:
    """Import one outcomes file into the ledger for ``spec.campaign.id`` (see the module doc).

    Raises
    ------
    InputDataError
        The file breaks the data contract (nothing is recorded).
    """
    return record_all(ledger, [path], spec, as_of=as_of, accept_unplanned=accept_unplanned)[0]


def record_all(ledger: Ledger, paths: list[str | Path], spec: CampaignSpec, *, as_of: dt.date | None = None,
               accept_unplanned: bool = False, strict: bool = False) -> list[RecordResult]:
    """Import outcome files into the ledger in one transaction: all or nothing.

    Every file is read, checked and matched before anything is written, so a file that breaks the
    data contract records nothing of any file. With ``strict``, a single rejected row (a customer the
    campaign never planned, a touch it never issued) anywhere also records nothing: each result is
    then marked ``refused`` and the ledger is not touched.

    Raises
    ------
    InputDataError
        A file breaks the data contract (nothing is recorded).
    """
    matched = [match_outcomes(ledger, p, spec, as_of=as_of, accept_unplanned=accept_unplanned) for p in paths]
    results = [res for res, _ in matched]
    if strict and any(res.rejected for res in results):
        for res in results:
            res.refused = True
        return results
    with ledger.begin() as conn:
        ledger.ensure_campaign(conn, spec.campaign.id, spec.campaign.name,
                               dt.datetime.now(dt.UTC).replace(tzinfo=None))
        for res, new in matched:
            res.new = ledger.add_outcomes(conn, new)
            res.already = res.accepted - res.new
    return results


def match_outcomes(ledger: Ledger, path: str | Path, spec: CampaignSpec, *, as_of: dt.date | None = None,
                   accept_unplanned: bool = False) -> tuple[RecordResult, pd.DataFrame]:
    """Read one outcomes file and match its rows to the touches the campaign issued; writes nothing.

    Returns the result so far (rows, rejections, accepted) and the accepted rows, ready to insert.
    """
    as_of = as_of or dt.date.today()
    camp = spec.campaign.id
    df, rows, sha = read_outcomes(path, spec, as_of)
    res = RecordResult(path=str(path), sha256=sha, rows=len(df))
    issued = ledger.issued(camp)
    assigned = ledger.assignments(camp)
    known = pd.Index(pd.concat([issued["customer_id"], assigned["customer_id"]]).unique())
    is_known = df["customer_id"].isin(known).to_numpy()
    held = set(assigned.loc[assigned["grp"] == "holdout", "customer_id"])
    planned_week = _match_issued(df, issued)
    is_planned = planned_week != ""
    res.unknown_customer = rows[~is_known].astype(int).tolist()
    res.holdout_contacted = rows[df["customer_id"].isin(held).to_numpy() & ~is_planned].astype(int).tolist()
    unplanned = is_known & ~is_planned
    keep = is_known & (is_planned | accept_unplanned)
    if accept_unplanned:
        res.accepted_unplanned = int(unplanned.sum())
    else:
        res.unplanned = rows[unplanned].astype(int).tolist()
    new = df[keep].assign(campaign_id=camp, planned_week=planned_week[keep], source_sha256=sha,
                          recorded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
    res.accepted = int(keep.sum())
    return res, new.drop_duplicates(["customer_id", "date", "channel", "outcome"])


def _match_issued(df: pd.DataFrame, issued: pd.DataFrame) -> np.ndarray:
    """Per outcome row, the run week of the issued touch it delivers ('' when none matches)."""
    out = np.full(len(df), "", dtype=object)
    if len(df) == 0 or len(issued) == 0:
        return out
    left = df[["customer_id", "channel", "date"]].assign(_row=np.arange(len(df)))
    right = issued[["customer_id", "channel", "week_start", "week"]]
    m = left.merge(right, on=["customer_id", "channel"], how="inner")
    delta = (m["date"] - m["week_start"]).dt.days
    m = m[(delta >= 0) & (delta < MATCH_DAYS)]
    m = m.sort_values(["_row", "week_start"], kind="stable").drop_duplicates("_row", keep="last")
    out[m["_row"].to_numpy()] = m["week"].to_numpy(dtype=object)
    return out


def merge_history(book: Book, history: pd.DataFrame) -> Book:
    """The book with ``history`` (contacts-table columns) added to its contact history.

    Rows already in the book's contacts (same customer, date, channel and outcome) are not
    counted twice: a bank may load the outcomes it reported into its own contact history too.
    """
    if history is None or len(history) == 0:
        return book
    h = pd.DataFrame({
        "customer_id": history["customer_id"].astype(str).to_numpy(dtype=object),
        "date": pd.to_datetime(history["date"]).to_numpy(dtype="datetime64[s]"),
        "channel": history["channel"].astype(str).to_numpy(dtype=object),
        "campaign": history["campaign"].astype(str).to_numpy(dtype=object),
        "outcome": history["outcome"].to_numpy(dtype=object),
    })
    h = h[h["channel"].isin(CHANNELS).to_numpy()]
    old = book.contacts
    if old is None:
        both = h
    else:
        cols = [c for c in h.columns if c in old.columns]
        both = pd.concat([pd.DataFrame({c: np.asarray(old[c].astype(object)) for c in cols}), h[cols]],
                         ignore_index=True)
        both = both.drop_duplicates(["customer_id", "date", "channel", "outcome"], keep="first")
    both = both.reset_index(drop=True)
    both["customer_id"] = both["customer_id"].astype("category")
    both["channel"] = pd.Categorical(both["channel"], categories=list(CHANNELS))
    both["outcome"] = pd.Categorical(both["outcome"], categories=list(OUTCOMES))
    both["date"] = both["date"].astype("datetime64[s]")
    notes = [*book.notes, f"contact history: {len(h):,} touches and outcomes from the ledger added"]
    return replace(book, contacts=both, notes=notes)
