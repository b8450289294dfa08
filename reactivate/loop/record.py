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
It reads the RM lists the bank hands back too (``lists``: workbooks and CSV lists, matched by run
id, RM, customer and step -- :mod:`reactivate.loop.lists`): a list with a problem records nothing,
and :class:`RecordError` names every bad cell of every list.

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
from reactivate.loop.lists import find_lists, match_lists, read_lists, render_problems
from reactivate.schema import CHANNELS, OUTCOMES, TABLES

#: a delivery may be reported up to this many days after the start of the week it was issued for
MATCH_DAYS = 28


@dataclass
class RecordResult:
    """What one import did. Row numbers are file rows (1 = the first row under the header).

    For a returned list (``kind`` "list"), ``rows`` counts its filled rows and ``name`` is the file as
    found under the folder given; ``skipped`` says why it was not read (its workbook was)."""

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
    #: "outcomes" (an outcomes file) or "list" (a returned RM list, :mod:`reactivate.loop.lists`)
    kind: str = "outcomes"
    #: the file as messages name it ("" = its file name)
    name: str = ""
    #: a returned list not read, and why
    skipped: str = ""
    #: a returned list with a problem (reported in the error): nothing of it was recorded
    failed: bool = False

    @property
    def rejected(self) -> int:
        return len(self.unknown_customer) + len(self.unplanned)

    def lines(self) -> list[str]:
        name = self.name or Path(self.path).name
        if self.kind == "list" and (self.skipped or self.failed or (self.rows == 0 and not self.refused)):
            return []  # said once for all lists (list_lines), or in the error
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
        out = {"path": self.path, "sha256": self.sha256, "rows": self.rows, "new": self.new,
               "already": self.already, "unknown_customer": len(self.unknown_customer),
               "unplanned": len(self.unplanned), "accepted_unplanned": self.accepted_unplanned,
               "holdout_contacted": len(self.holdout_contacted)}
        if self.kind == "list":
            out.update(kind="list", name=self.name, skipped=self.skipped)
        return out


class RecordError(InputDataError):
    """Returned lists with problems (every one listed): nothing of those lists was recorded; the
    results of every file are in :attr:`results` (the good ones recorded, unless ``--strict``)."""

    def __init__(self, message: str, results: list[RecordResult]):
        super().__init__(message)
        self.results = results


def list_lines(results: list[RecordResult]) -> list[str]:
    """One line on the returned lists of an import: how many were read and recorded, and skipped."""
    lists = [r for r in results if r.kind == "list"]
    if not lists:
        return []
    read = [r for r in lists if not r.skipped]
    filled = [r for r in read if r.rows]
    rows = sum(r.rows for r in read)
    text = (f"returned lists: {len(read):,} read, {len(filled):,} with results ({rows:,} "
            f"row{'s' if rows != 1 else ''}")
    if any(r.failed for r in read):
        text += f"; {sum(r.failed for r in read):,} with problems, not recorded"
    if any(r.refused for r in read):
        text += "; nothing recorded (--strict))"
    else:
        text += f"; {sum(r.new for r in read):,} recorded, {sum(r.already for r in read):,} already in the ledger)"
    skipped = [r for r in lists if r.skipped]
    if skipped:
        text += (f"; {len(skipped):,} CSV list{'s' if len(skipped) != 1 else ''} skipped: the workbook of the same "
                 "RM and week is read instead (a bank works in one or the other)")
    return [text]


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


def record_all(ledger: Ledger, paths: list[str | Path], spec: CampaignSpec, *, lists: list[str | Path] = (),
               as_of: dt.date | None = None, accept_unplanned: bool = False,
               strict: bool = False) -> list[RecordResult]:
    """Import outcome files and returned RM lists into the ledger in one transaction.

    Every file is read, checked and matched before anything is written, so a file that breaks the
    data contract records nothing of any file. ``lists`` are returned lists, or folders of them
    (:func:`~reactivate.loop.lists.find_lists`): a list with any problem records nothing, the others
    are recorded, then :class:`RecordError` lists every problem of every list. With ``strict``, a
    single rejected row (a customer the campaign never planned, a touch it never issued) or a list
    with a problem anywhere records nothing at all: each result is then marked ``refused`` and the
    ledger is not touched.

    Raises
    ------
    InputDataError
        An outcomes file breaks the data contract, or a path of ``lists`` does not exist (nothing is
        recorded).
    RecordError
        A returned list has a problem (an InputDataError: exit 2).
    """
    as_of = as_of or dt.date.today()
    matched = [match_outcomes(ledger, p, spec, as_of=as_of, accept_unplanned=accept_unplanned) for p in paths]
    from_lists, list_rows, problems = match_returned(ledger, lists, spec, as_of) if lists else ([], None, [])
    results = [res for res, _ in matched] + from_lists
    if strict and (problems or any(res.rejected for res in results)):
        for res in results:
            res.refused = True
    else:
        with ledger.begin() as conn:
            ledger.ensure_campaign(conn, spec.campaign.id, spec.campaign.name,
                                   dt.datetime.now(dt.UTC).replace(tzinfo=None))
            for res, new in matched:
                res.new = ledger.add_outcomes(conn, new)
                res.already = res.accepted - res.new
            if from_lists:
                add_list_rows(ledger, conn, spec.campaign.id, from_lists, list_rows)
    if problems:
        failed = sum(r.failed for r in results)
        others = any(not r.failed and not r.skipped for r in results)
        what = ("nothing was recorded (--strict)" if strict else
                f"nothing of {'that list' if failed == 1 else 'those lists'} was recorded"
                + (" (the other files were)" if others else ""))
        n = len(problems)
        raise RecordError(f"{n:,} problem{'s' if n != 1 else ''} in {failed:,} returned list"
                          f"{'s' if failed != 1 else ''}; {what}\n" + "\n".join("  " + p for p in problems), results)
    return results


def match_returned(ledger: Ledger, lists: list[str | Path], spec: CampaignSpec,
                   as_of: dt.date) -> tuple[list[RecordResult], pd.DataFrame, list[str]]:
    """Read the returned lists in ``lists`` (files or folders) and match their filled rows to the touches
    their runs planned (:mod:`reactivate.loop.lists`); writes nothing.

    Returns the result so far of each list, the outcome rows ready to insert (``file``: the position of
    their list's result; none of a list with a problem), and every problem, one line each.
    """
    check_day(as_of, "as-of date")
    found = read_lists(find_lists(list(lists)))
    rows, problems = match_lists(ledger, found, spec.campaign.id, as_of)
    bad = {p.file for p in problems}
    accepted = np.bincount(rows["file"].to_numpy(), minlength=len(found))
    results = [RecordResult(path=x.path, sha256=x.sha256, rows=len(x.rows), accepted=int(accepted[i]), kind="list",
                            name=x.name, skipped=x.skipped, failed=i in bad) for i, x in enumerate(found)]
    rows = rows.assign(campaign_id=spec.campaign.id, source_sha256=np.array([x.sha256 for x in found],
                                                                            dtype=object)[rows["file"].to_numpy()],
                       recorded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
    return results, rows, render_problems(problems, found)


def add_list_rows(ledger: Ledger, conn, campaign_id: str, results: list[RecordResult], rows: pd.DataFrame) -> None:
    """Within ``conn``'s transaction: insert the returned lists' rows not yet in the ledger, in one go,
    and count each list's new and already recorded rows (a row twice in a batch counts once)."""
    keys = ["customer_id", "date", "channel", "outcome"]
    known = ledger.outcome_keys(conn, campaign_id, rows["customer_id"].unique())
    seen = rows[keys].merge(known.assign(_seen=True), on=keys, how="left")["_seen"].notna().to_numpy()
    fresh = ~seen & ~rows.duplicated(keys).to_numpy()
    ledger.add_outcomes(conn, rows[fresh])
    new = np.bincount(rows["file"].to_numpy()[fresh], minlength=len(results))
    for i, res in enumerate(results):
        res.new = int(new[i])
        res.already = res.accepted - res.new


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
