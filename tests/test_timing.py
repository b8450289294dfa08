from __future__ import annotations

import datetime as dt

import pandas as pd

from reactivate.config.campaign import load_campaign
from reactivate.scoring.timing import best_weeks, campaign_start, festivals, next_birthday, week_starts
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


def _days(*dates):
    import numpy as np

    return np.array([np.datetime64(d, "D").astype(np.int64) for d in dates])


def test_paydays_are_monthly_credits_on_the_same_day():
    import numpy as np

    from reactivate.dormancy.customers import paydays

    rows = [
        # C0: salary on the 25th (one month on the 24th, one extra credit in a month counts once)
        (0, "2025-01-25"), (0, "2025-02-24"), (0, "2025-03-25"), (0, "2025-03-28"), (0, "2025-04-25"),
        # C1: yearly interest on the same day: not a payday
        (1, "2022-02-10"), (1, "2023-02-10"), (1, "2024-02-10"), (1, "2025-02-10"),
        # C2: only two months
        (2, "2025-05-03"), (2, "2025-06-03"),
        # C3: monthly but on scattered days
        (3, "2025-01-02"), (3, "2025-02-11"), (3, "2025-03-20"), (3, "2025-04-28"),
    ]
    c = np.array([r[0] for r in rows])
    pay, last = paydays(c, _days(*[r[1] for r in rows]), 5)
    assert pay[0] == 25 and last[0] == _days("2025-04-25")[0]
    assert np.isnan(pay[1:]).all() and np.isnan(last[1:]).all()


def test_anniversary_and_payday_are_later_events_than_a_birthday():
    import numpy as np

    spec = load_campaign(None)  # weeks from Mon 2026-12-07
    f = _frame(birth_date=["1970-12-20", None, None, None])
    f["first_seen"] = pd.to_datetime(pd.Series([None, "2016-12-16", None, "2026-12-20"])).astype("datetime64[s]").to_numpy()
    f["payday"] = [np.nan, 25.0, 3.0, np.nan]
    f["age"] = [56.0, 40.0, 67.0, 30.0]
    bw = best_weeks(f, spec, AS_OF)
    assert bw["event"].tolist() == ["birthday", "anniversary", "payday", "none"]  # C3: not a full year yet
    # 2016-12-16 -> 2026-12-16 (week 1); the 3rd of the month after 2026-12-07 is 2027-01-03 (week 3)
    assert bw["best_week"].tolist() == [1, 1, 3, 0]
    assert bw["reason"].iloc[1] == "10 years with the bank on 2026-12-16"
    assert bw["reason"].iloc[2] == "pension credited around day 3 of the month"


def test_dates_outside_the_handled_range_are_clear_errors():
    import dataclasses

    import pytest

    from reactivate.errors import ConfigError, InputDataError

    spec = load_campaign(None)
    for day in (dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(1899, 12, 31)):
        with pytest.raises(InputDataError, match=rf"as-of date {day.isoformat()} is outside the dates reactivate "
                                                 r"handles \(1900-01-01\.\.2199-12-31\)"):
            campaign_start(spec, day)
    late = dataclasses.replace(spec, campaign=dataclasses.replace(spec.campaign, start_date=dt.date(9999, 1, 4)))
    with pytest.raises(ConfigError, match=r"campaign\.start_date 9999-01-04 is outside the dates"):
        week_starts(late, AS_OF)
