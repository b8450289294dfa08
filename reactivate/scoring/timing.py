"""The right week for each customer (找准唤醒契机): dated events inside the campaign.

Events, most urgent first:

1. the **regulatory dormancy clock**: the day an account becomes inoperative
   or reportable (last activity + ``dormancy.inoperative_days``); contact at
   least ``deadline_lead_days`` before it;
2. **maturity** of a term deposit or wealth product: the week before it;
3. the customer's **birthday** week;
4. the **anniversary** of their first account (years with the bank);
5. their **salary or pension day** (a standing credit on the same day each
   month, found in the transactions): the week it falls in, so that the call
   comes when money has just arrived.

Customers without a dated event get the first week ("as early as capacity
allows"). Public holidays and festivals come from the ``holidays`` package
for the campaign's country; the plan mentions the festival a touch falls
before.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd

from reactivate.config.campaign import WEEKDAYS, CampaignSpec
from reactivate.data.validate import check_day
from reactivate.errors import ConfigError
from reactivate.labels import text_from_keys


def campaign_start(spec: CampaignSpec, as_of: dt.date) -> dt.date:
    """First day of the campaign: the spec's start date or the first week start after as-of.

    Raises
    ------
    InputDataError, ConfigError
        The as-of date or ``campaign.start_date`` lies outside the dates reactivate handles.
    """
    check_day(as_of, "as-of date")
    if spec.campaign.start_date is not None:
        check_day(spec.campaign.start_date, "campaign.start_date", ConfigError)
        return spec.campaign.start_date
    target = WEEKDAYS.index(spec.campaign.week_start)
    ahead = (target - as_of.weekday()) % 7 or 7
    return as_of + dt.timedelta(days=ahead)


def week_starts(spec: CampaignSpec, as_of: dt.date) -> list[dt.date]:
    start = campaign_start(spec, as_of)
    return [start + dt.timedelta(weeks=i) for i in range(spec.campaign.horizon_weeks)]


def _days(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each date (time of day dropped), NaN where missing."""
    sec = dates.to_numpy(dtype="datetime64[s]")
    days = np.floor_divide(sec.astype(np.int64), 86400).astype(float)
    return np.where(np.isnat(sec), np.nan, days)


def _week_of(days: np.ndarray, start_day: int) -> np.ndarray:
    """The campaign week (0-based, from ``start_day``) of each day (NaN stays NaN)."""
    return np.floor((days - start_day) / 7.0)


def best_weeks(customers: pd.DataFrame, spec: CampaignSpec, as_of: dt.date) -> pd.DataFrame:
    """Per customer: ``best_week`` (0-based index into the campaign weeks), ``event`` and ``reason``.

    ``event`` is one of deadline, maturity, birthday or none.
    """
    start = campaign_start(spec, as_of)
    s0 = int(np.datetime64(start, "D").astype(np.int64))
    H = spec.campaign.horizon_weeks
    idx = customers.index

    deadline = _days(customers["deadline"])
    dl_week = _week_of(deadline - spec.dormancy.deadline_lead_days, s0)
    # the deadline must still be ahead; if the lead time has begun, contact at once
    dl_ok = (deadline >= s0) & (dl_week < H)
    dl_week = np.clip(dl_week, 0, H - 1)

    mat = _days(customers["next_maturity"])
    mat_week = _week_of(mat - 7, s0)
    mat_ok = (mat >= s0) & (mat_week < H)
    mat_week = np.clip(np.nan_to_num(mat_week, nan=0.0), 0, H - 1)

    bday, _ = _next_anniversary(customers["birth_date"], start)
    bd_week = _week_of(bday, s0)
    bd_ok = ~np.isnan(bd_week) & (bd_week < H) & (bd_week >= 0)
    bd_week = np.nan_to_num(bd_week, nan=0.0)

    first_seen = customers["first_seen"] if "first_seen" in customers.columns else pd.Series(pd.NaT, index=idx)
    anniv, years = _next_anniversary(first_seen, start)
    an_week = _week_of(anniv, s0)
    an_ok = ~np.isnan(an_week) & (an_week < H) & (an_week >= 0) & (years >= 1)
    an_week = np.nan_to_num(an_week, nan=0.0)

    pay = customers["payday"].to_numpy(dtype=float) if "payday" in customers.columns else np.full(len(idx), np.nan)
    pay_day = next_payday(pay, start)
    pay_week = np.floor((pay_day - np.datetime64(start, "D")).astype(float) / 7.0)
    pay_ok = ~np.isnan(pay) & (pay_week < H)
    pay_week = np.nan_to_num(pay_week, nan=0.0)

    conds = [dl_ok, mat_ok, bd_ok, an_ok, pay_ok]
    week = np.select(conds, [dl_week, mat_week, bd_week, an_week, pay_week], default=0.0).astype(int)
    event = np.select(conds, np.arange(5), default=5)  # a code of EVENTS
    day = np.select([dl_ok, mat_ok, an_ok], [deadline, mat, anniv], default=np.nan)
    day = np.where(np.isnan(day), NO_DAY, np.nan_to_num(day)).astype(np.int64)
    age = customers["age"].to_numpy(dtype=float) if "age" in customers.columns else np.full(len(idx), np.nan)
    extra = np.where(event == 3, np.nan_to_num(years), np.where(event == 4, pay, 0.0))
    pension = (event == 4) & (age >= 60)
    reason = text_from_keys([event * 2 + pension, day, extra], _reason_of_keys)
    return pd.DataFrame({"best_week": week, "event": pd.Categorical.from_codes(event, categories=EVENTS),
                         "reason": reason}, index=idx)


#: the day of no dated event (days since 1970-01-01)
NO_DAY = np.iinfo(np.int64).min


def _reason_of_keys(event_kind: int, day: int, extra: float) -> str:
    """:func:`_reason_text` of an event's code (times two, plus one for a pension) and day number."""
    when = np.datetime64("NaT") if day == NO_DAY else np.datetime64(int(day), "D")
    return _reason_text(EVENTS[event_kind // 2], when, extra, "pension" if event_kind % 2 else "salary")


def _next_anniversary(dates: pd.Series, start: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """The day (since 1970-01-01) of the first anniversary of each date on or after ``start`` (29 February
    falls on 1 March) and the years it completes; NaN for a missing date."""
    missing = dates.isna().to_numpy()
    parts = [np.nan_to_num(getattr(dates.dt, k).to_numpy(dtype=float), nan=1.0).astype(np.int64)
             for k in ("year", "month", "day")]
    year, month, day = parts
    leap = (month == 2) & (day == 29)
    month, day = np.where(leap, 3, month), np.where(leap, 1, day)
    start_day = int(np.datetime64(start, "D").astype(np.int64))
    this = _civil_days(start.year, month, day)
    late = this < start_day
    nxt = np.where(late, _civil_days(start.year + 1, month, day), this)
    days = np.where(missing, np.nan, nxt.astype(float))
    years = np.where(missing, np.nan, (start.year + late - year).astype(float))
    return days, years


def _civil_days(year: int, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the dates (year, month, day) of the proleptic Gregorian calendar (the
    days_from_civil algorithm of H. Hinnant: integer arithmetic, no date objects)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


EVENTS = ("deadline", "maturity", "birthday", "anniversary", "payday", "none")


def _reason_text(event: str, day, extra: float = 0.0, kind: str = "salary") -> str:
    if event == "deadline":
        return f"becomes inoperative {pd.Timestamp(day).date().isoformat()}"
    if event == "maturity":
        return f"deposit matures {pd.Timestamp(day).date().isoformat()}"
    if event == "birthday":
        return "birthday week"
    if event == "anniversary":
        n = int(extra)
        return f"{n} year{'s' if n != 1 else ''} with the bank on {pd.Timestamp(day).date().isoformat()}"
    if event == "payday":
        return f"{kind} credited around day {int(extra)} of the month"
    return "no dated event: as early as capacity allows"


def next_payday(payday: np.ndarray, start: dt.date) -> np.ndarray:
    """The first date on or after ``start`` with the given day of the month (clipped to the month's end)."""
    m0 = np.datetime64(start, "M")
    out = np.full(len(payday), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(payday)
    d = np.nan_to_num(payday, nan=1.0).astype(np.int64)
    for k in (0, 1):  # this month, else the next
        month = m0 + k
        last = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
        cand = month.astype("datetime64[D]") + (np.minimum(d, last) - 1)
        take = ok & np.isnat(out) & (cand >= np.datetime64(start, "D"))
        out[take] = cand[take]
    return out


def next_birthday(birth: pd.Series, start: dt.date) -> pd.Series:
    """The first birthday on or after ``start`` (29 February falls on 1 March)."""
    days, _ = _next_anniversary(birth, start)
    out = np.where(np.isnan(days), np.datetime64("NaT"), np.nan_to_num(days).astype(np.int64).astype("datetime64[D]"))
    return pd.Series(out.astype("datetime64[s]"), index=birth.index)


@lru_cache(maxsize=16)
def festivals(country: str, start: dt.date, end: dt.date) -> tuple[tuple[dt.date, str], ...]:
    """Public holidays and festivals in [start, end): first day of each, substitute days dropped."""
    import holidays

    try:
        cal = holidays.country_holidays(country, years=range(start.year, end.year + 1), language="en_US")
    except (NotImplementedError, KeyError):
        return ()
    seen: dict[str, dt.date] = {}
    for day, name in sorted(cal.items()):
        if not start <= day < end or "Day off" in name or "observed" in name:
            continue
        key = name.split(" (")[0] if "Spring Festival" not in name else "Spring Festival"
        seen.setdefault(key, day)
    return tuple(sorted((d, n) for n, d in seen.items()))


def festival_ahead(week_start: dt.date, fests: tuple[tuple[dt.date, str], ...], days: int = 14) -> str:
    """Name of a festival within ``days`` after the start of a week, or ''."""
    for day, name in fests:
        if week_start <= day < week_start + dt.timedelta(days=days):
            return f"{name} {day.isoformat()}"
    return ""
