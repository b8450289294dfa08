"""Shared fixtures: tiny hand-made books and one demo run shared by the end-to-end tests."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# small public data sets copied into the repository (source and licence: tests/data/README.md)
TEST_DATA = ROOT / "tests" / "data"
AS_OF = dt.date(2026, 11, 30)

# keep test runs quiet and single-threaded where libraries would oversubscribe 2 cores
os.environ.setdefault("OMP_NUM_THREADS", "1")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


CHANNEL_COLS = ",".join(
    [f"has_{c}" for c in ("phone", "sms", "wechat", "email", "app", "branch", "mail")]
    + [f"consent_{c}" for c in ("phone", "sms", "wechat", "email", "app", "branch", "mail")]
)


@pytest.fixture
def tiny_accounts(tmp_path) -> Path:
    """Four customers, worked out by hand (as of 2026-11-30).

    C1: two accounts; the savings one was used 2026-10-01 -> active (60 days).
    C2: last used 2025-09-01 -> 455 days -> dormant; term deposit matures 2026-12-20.
    C3: last used 2023-06-30 -> 1249 days -> long_dormant; do not contact.
    C4: last used 2025-03-01 -> 639 days -> dormant; hardship.
    """
    header = ("customer_id,account_id,product,open_date,last_activity_date,balance,maturity_date,rm_id,"
              "branch_id,birth_date,do_not_contact,dnc_reason,hardship")
    rows = [
        "C1,A1,savings,2015-01-01,2026-10-01,1000,,RM1,B1,1970-05-05,false,,false",
        "C1,A2,current,2016-01-01,2024-01-01,50,,RM1,B1,1970-05-05,false,,false",
        "C2,A3,term_deposit,2020-12-20,2025-09-01,50000,2026-12-20,RM1,B1,1950-01-15,false,,false",
        "C3,A4,savings,2010-01-01,2023-06-30,20,,,B1,1980-02-29,true,customer request,false",
        "C4,A5,savings,2019-01-01,2025-03-01,300,,RM2,B1,1990-07-01,false,,true",
    ]
    return write(tmp_path / "accounts.csv", header + "\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory) -> Path:
    """A 6,000-customer demo book written as CSV (shared, read-only)."""
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp("book")
    write_book(generate_book(6000, seed=3, as_of=AS_OF), out, fmt="csv")
    return out


@pytest.fixture(scope="session")
def demo_run(demo_book, tmp_path_factory):
    """The plan run on the demo book, and its written outputs."""
    from reactivate.jobs.pipeline import run_plan
    from reactivate.outputs.writer import write_run

    run = run_plan(
        as_of=AS_OF,
        accounts=demo_book / "accounts.csv",
        transactions=demo_book / "transactions.csv",
        contacts=demo_book / "contacts.csv",
        campaign=ROOT / "campaigns" / "default.toml",
    )
    out = tmp_path_factory.mktemp("run") / "out"
    write_run(run, out)
    return run, out


@pytest.fixture(scope="session")
def hostile_book(tmp_path_factory) -> Path:
    """A small good demo book (400 customers, CSV) that the hostile-input cases spoil copies of."""
    from reactivate.demo.book import generate_book, write_book

    out = tmp_path_factory.mktemp("hostile_book")
    write_book(generate_book(400, seed=5, as_of=AS_OF), out, fmt="csv")
    return out


@pytest.fixture(scope="module")
def spark():
    """The Spark tests' local session (:data:`tests.spark_local.LOCAL`); only a Spark test asks for it."""
    from reactivate.data.spark_engine import spark_session
    from tests.spark_local import LOCAL

    return spark_session(LOCAL)
