"""The harness itself: a bad option value fails cleanly and the earlier outputs survive."""

from __future__ import annotations

import pytest

from tests.hostile import Case, check

CASES = [
    Case("plan-as-of-not-a-date", ("plan", "--as-of", "30/11/2026", "--accounts", "{book}/accounts.csv",
                                   "--out", "{out}"), ("--as-of='30/11/2026'", "is not a date")),
    Case("validate-missing-file", ("validate", "--as-of", "2026-11-30", "--accounts", "{tmp}/nope.csv"),
         ("nope.csv",), previous=False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case, tmp_path, hostile_book):
    check(case, tmp_path, hostile_book)
