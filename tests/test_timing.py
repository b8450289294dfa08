from __future__ import annotations

import datetime as dt

import pandas as pd

from reactivate.config import load_campaign
from reactivate.timing import best_weeks, campaign_start, festivals, next_birthday, week_starts
from tests.conftest import AS_OF


def test_campaign_starts_on_the_next_week_start():
    spec = load_campaign(None)
    assert campaign_start(spec, AS_OF) == dt.date(2026, 12, 7)  # 2026-11-30 is a Monday
    assert campaign_start(spec, dt.date(2026, 12, 2)) == dt.date(2026, 12, 7)
    weeks = week_starts(spec, AS_OF)
    assert len(weeks) == 12 and weeks[-1] == dt.date(2027, 2, 22)


def _frame(**cols):
    n = len(next(iter(cols.values())))
    base = {k: [None] * n for k in ("deadline", "next_maturity", "birth_date")}
    base.update(cols)
    base = {k: pd.to_datetime(pd.Series(v)).astype("datetime64[s]").to_numpy() for k, v in base.items()}
    return pd.DataFrame(base, index=[f"C{i}" for i in range(n)])


def test_maturity_inside_the_horizon_gives_the_week_before():
    spec = load_campaign(None)
    f = _frame(next_maturity=["2026-12-24", "2027-06-01", None])
    bw = best_weeks(f, spec, AS_OF)
    # matures Thu 2026-12-24: the week before it starts Mon 2026-12-14 (week index 1)
    assert bw["best_week"].tolist() == [1, 0, 0]
    assert bw["event"].tolist() == ["maturity", "none", "none"]
    assert bw["reason"].iloc[0] == "deposit matures 2026-12-24"
    assert bw["reason"].iloc[2] == "no dated event: as early as capacity allows"


def test_deadline_beats_maturity_and_is_contacted_ahead():
    spec = load_campaign(None)  # 21 days of lead
    f = _frame(deadline=["2027-01-20", "2026-12-10", "2026-11-01"], next_maturity=["2026-12-24"] * 3)
    bw = best_weeks(f, spec, AS_OF)
    assert bw["event"].tolist() == ["deadline", "deadline", "maturity"]
    # 2027-01-20 minus 21 days = 2026-12-30, in the week of 2026-12-28 (index 3); an imminent one: week 0
    assert bw["best_week"].tolist() == [3, 0, 1]
    assert bw["reason"].iloc[0] == "becomes inoperative 2027-01-20"


def test_birthdays_including_29_february():
    b = next_birthday(pd.Series(pd.to_datetime(["1980-02-29", "1970-12-01", None])), dt.date(2026, 12, 7))
    assert b.tolist()[:2] == [pd.Timestamp("2027-03-01"), pd.Timestamp("2027-12-01")]
    assert pd.isna(b.iloc[2])


def test_chinese_festivals_come_from_the_holidays_package():
    f = dict((n, d) for d, n in festivals("CN", dt.date(2026, 12, 7), dt.date(2027, 3, 1)))
    assert f["Spring Festival"] == dt.date(2027, 2, 6)
    assert f["New Year's Day"] == dt.date(2027, 1, 1)
    assert festivals("XX", dt.date(2026, 1, 1), dt.date(2026, 2, 1)) == ()
