"""Business calendars: weekly hours, Chinese holidays and 调休, policy dates, zones, years."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.deadlines.calendar import CN_YEARS, ROUND_THE_CLOCK, BusinessCalendar
from triage.deadlines.days import Interval, parse_intervals
from triage.errors import CalendarError, TriageError

from ..conftest import ROOT

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("office")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def test_package_years_and_2026_data() -> None:
    """The installed chinesecalendar knows 2004-2026 and has the 2026 plan we rely on."""
    assert min(CN_YEARS) == 2004 and max(CN_YEARS) == 2026
    makeup_2026 = sorted(d for d in chinese_calendar.workdays if d.year == 2026)
    assert makeup_2026 == [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
                           date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)]


def test_spring_festival_2026() -> None:
    """Spring Festival 2026 is off 2-15..2-23; Saturdays 2-14 and 2-28 are make-up days."""
    for d in range(15, 24):
        plan = OFFICE.day(date(2026, 2, d))
        assert plan.kind == "holiday" and plan.name == "春节" and not plan.is_working
    for d in (date(2026, 2, 14), date(2026, 2, 28)):
        plan = OFFICE.day(d)
        assert plan.kind == "makeup" and plan.hours == OFFICE.day(date(2026, 2, 24)).hours
    assert OFFICE.day(date(2026, 2, 14)).label == "调休上班日"
    assert OFFICE.day(date(2026, 2, 16)).label == "春节假期"


def test_labour_and_national_day_2026() -> None:
    """Labour Day 5-1..5-5 with make-up 5-9; National Day 10-1..10-7 with make-up 10-10."""
    assert all(OFFICE.day(date(2026, 5, d)).kind == "holiday" for d in range(1, 6))
    assert OFFICE.day(date(2026, 5, 9)).kind == "makeup"
    assert all(OFFICE.day(date(2026, 10, d)).name == "国庆节" for d in range(1, 8))
    assert OFFICE.day(date(2026, 10, 10)).kind == "makeup"
    assert OFFICE.day(date(2026, 10, 8)).kind == "workday"


def test_weekly_hours_and_lunch_break() -> None:
    """Mon-Fri 09:00-12:00 and 13:30-18:00: the lunch break and evenings are not working time."""
    assert OFFICE.is_working_time(sh(2026, 11, 23, 9, 0))
    assert not OFFICE.is_working_time(sh(2026, 11, 23, 12, 0))
    assert not OFFICE.is_working_time(sh(2026, 11, 23, 13, 29))
    assert OFFICE.is_working_time(sh(2026, 11, 23, 13, 30))
    assert not OFFICE.is_working_time(sh(2026, 11, 23, 18, 0))
    assert OFFICE.next_working_moment(sh(2026, 11, 23, 12, 10)) == sh(2026, 11, 23, 13, 30)
    assert OFFICE.next_working_moment(sh(2026, 11, 20, 18, 0)) == sh(2026, 11, 23, 9, 0)
    assert OFFICE.working_time_between(sh(2026, 11, 23, 11, 0), sh(2026, 11, 23, 14, 0)) == (
        timedelta(hours=1, minutes=30))


def test_working_time_between_is_signed() -> None:
    """Reversed bounds give the negative business time (how far overdue)."""
    a, b = sh(2026, 11, 20, 17, 0), sh(2026, 11, 23, 10, 0)
    assert OFFICE.working_time_between(a, b) == timedelta(hours=2)
    assert OFFICE.working_time_between(b, a) == -timedelta(hours=2)


def test_policy_days_override_the_package() -> None:
    """Policy holidays, make-up days and half days win over chinesecalendar and weekly hours."""
    cal = BusinessCalendar(
        "c", holidays={date(2026, 11, 23): "公司年会"}, workdays=[date(2026, 2, 16)],
        half_days={date(2026, 2, 13): ["09:00-12:00"]}, makeup_hours=["10:00-16:00"],
    )
    assert cal.day(date(2026, 11, 23)).label == "公司年会假期"
    assert cal.day(date(2026, 2, 16)).hours == (Interval(600, 960),)
    assert cal.day(date(2026, 2, 14)).hours == (Interval(600, 960),)
    half = cal.day(date(2026, 2, 13))
    assert half.kind == "half_day" and half.hours == (Interval(540, 720),)
    assert cal.working_time_between(sh(2026, 2, 13, 0), sh(2026, 2, 14, 0)) == timedelta(hours=3)


def test_makeup_hours_default_to_usual_weekday_hours() -> None:
    """Without makeup_hours a make-up day is worked with the most common Mon-Fri hours."""
    cal = BusinessCalendar("c", hours={"mon-thu": ["08:00-17:00"], "fri": ["08:00-12:00"]})
    assert cal.makeup_hours == (Interval(480, 1020),)


def test_midnight_end_loses_no_minute() -> None:
    """An interval ending at 24:00 runs into the next day without a gap at midnight."""
    cal = BusinessCalendar("hotline", hours=ROUND_THE_CLOCK, chinese_holidays=False)
    assert cal.working_time_between(sh(2026, 3, 1, 23, 30), sh(2026, 3, 2, 0, 30)) == (
        timedelta(hours=1))
    assert cal.is_working_time(sh(2026, 3, 2, 0, 0))
    evening = BusinessCalendar("late", hours={"daily": ["18:00-24:00"]}, chinese_holidays=False)
    assert evening.working_time_between(sh(2026, 3, 1), sh(2026, 3, 2)) == timedelta(hours=6)


def test_dst_day_has_real_hours() -> None:
    """In Europe/Berlin the last Sunday of March has 23 real hours, the last of October 25."""
    cal = BusinessCalendar("de", timezone="Europe/Berlin", hours=ROUND_THE_CLOCK,
                           chinese_holidays=False)
    spring = cal.working_time_between(datetime(2026, 3, 29, tzinfo=BERLIN),
                                      datetime(2026, 3, 30, tzinfo=BERLIN))
    autumn = cal.working_time_between(datetime(2026, 10, 25, tzinfo=BERLIN),
                                      datetime(2026, 10, 26, tzinfo=BERLIN))
    assert spring == timedelta(hours=23) and autumn == timedelta(hours=25)
    china = BusinessCalendar("cn", hours=ROUND_THE_CLOCK, chinese_holidays=False)
    assert china.working_time_between(sh(2026, 3, 29), sh(2026, 3, 30)) == timedelta(hours=24)


def test_naive_times_are_read_in_the_calendar_zone() -> None:
    """A naive datetime is local time of the calendar, as ``Complaint.received_at`` is."""
    assert OFFICE.next_working_moment(datetime(2026, 11, 21, 10)) == sh(2026, 11, 23, 9)


def test_unknown_year_raises_with_name_and_year() -> None:
    """With beyond_data=error a date in 2027 raises CalendarError naming the calendar and year."""
    with pytest.raises(CalendarError) as info:
        OFFICE.working_time_between(sh(2026, 12, 31, 10), sh(2027, 1, 4, 10))
    err = info.value
    assert isinstance(err, TriageError)
    assert (err.code, err.calendar, err.year) == ("unknown_year", "office", 2027)
    assert "'office' has no holiday data for 2027" in str(err)


def test_unknown_year_assumed_weekends_warn() -> None:
    """With assume_weekends 2027 uses the weekly hours and says so in Chinese."""
    cal = BusinessCalendar("office", beyond_data="assume_weekends")
    assert cal.check_years(date(2026, 12, 1).toordinal(), date(2027, 1, 5).toordinal()) == (
        "2027 年的节假日安排尚未公布，按普通周末推算",)
    assert cal.day(date(2027, 1, 1)).kind == "workday"


def test_known_years_from_the_policy() -> None:
    """A year the policy declares in known_years is known: no error, its lists apply."""
    cal = BusinessCalendar("office", known_years=[2027],
                           holidays={date(2027, 1, 1): "元旦"})
    assert cal.check_years(date(2026, 12, 31).toordinal(), date(2027, 1, 4).toordinal()) == ()
    assert cal.day(date(2027, 1, 1)).label == "元旦假期"


def test_foreign_calendar_without_chinese_holidays() -> None:
    """chinese_holidays=False ignores the package; all years are known unless listed."""
    hk = BusinessCalendar("hk", timezone="Asia/Hong_Kong", chinese_holidays=False,
                          holidays=[date(2026, 12, 25)])
    assert hk.day(date(2026, 10, 1)).kind == "workday"
    assert hk.day(date(2026, 12, 25)).kind == "holiday"
    assert hk.known_years is None
    listed = BusinessCalendar("hk2", chinese_holidays=False, known_years=[2026])
    with pytest.raises(CalendarError):
        listed.working_time_between(sh(2026, 12, 31), sh(2027, 1, 2))


@pytest.mark.parametrize(
    ("kwargs", "code", "text"),
    [
        ({"timezone": "Mars/Olympus"}, "bad_timezone", "unknown time zone 'Mars/Olympus'"),
        ({"hours": {"mon-fri": ["9-12"]}}, "bad_hours", "'9-12' is not a working interval"),
        ({"hours": {"mon": ["12:00-09:00"]}}, "bad_hours", "must come before the end"),
        ({"hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "bad_hours", "overlap"),
        ({"hours": {"mon": ["09:00-24:30"]}}, "bad_hours", "not a time of day"),
        ({"hours": {"fri-mon": ["09:00-12:00"]}}, "bad_hours", "not a day of the week"),
        ({"hours": {"mon": [], "sat": []}}, "no_working_hours", "no working hours"),
        ({"holidays": [date(2026, 3, 2)], "workdays": [date(2026, 3, 2)]},
         "conflicting_days", "2026-03-02 is listed both"),
        ({"beyond_data": "guess"}, "bad_option", "beyond_data is 'guess'"),
    ],
)
def test_bad_calendars_are_rejected(kwargs: dict[str, object], code: str, text: str) -> None:
    """Each malformed option raises CalendarError with a code and a message saying what's wrong."""
    with pytest.raises(CalendarError) as info:
        BusinessCalendar("x", **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code and text in str(info.value)


def test_calendar_is_immutable() -> None:
    """Assigning to a compiled calendar raises, like a compiled Policy."""
    with pytest.raises(AttributeError):
        OFFICE.name = "other"  # type: ignore[misc]


def test_touching_intervals_merge() -> None:
    """09:00-12:00 and 12:00-13:00 become one interval; 24:00 is accepted as an end."""
    assert parse_intervals(["12:00-13:00", "09:00-12:00"]) == (Interval(540, 780),)
    assert str(Interval.parse("00:00-24:00")) == "00:00-24:00"


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 20)))
def test_next_working_moment_is_working(moment: datetime) -> None:
    """The next working moment is working time, not before the given time, and idempotent."""
    nxt = OFFICE.next_working_moment(moment)
    assert OFFICE.is_working_time(nxt)
    assert nxt >= moment.replace(tzinfo=SH)
    assert OFFICE.next_working_moment(nxt) == nxt


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 1)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
)
def test_working_time_is_additive(a: datetime, d1: timedelta, d2: timedelta) -> None:
    """Business time from a to c is the time from a to b plus from b to c."""
    b, c = a + d1, a + d1 + d2
    total = OFFICE.working_time_between(a, c)
    assert total == OFFICE.working_time_between(a, b) + OFFICE.working_time_between(b, c)
    assert timedelta(0) <= total <= c - a


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2045, 12, 1)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_working_time_from_the_day_table_equals_the_walk(a: datetime,
                                                         span: timedelta) -> None:
    """Two lookups in the day table give the working time a day-by-day walk adds up,
    inside the table's years, before and after them, across holidays and lunch breaks."""
    us_a, oa = OFFICE.to_epoch(a.replace(tzinfo=SH))
    us_b, ob = OFFICE.to_epoch((a + span).replace(tzinfo=SH))
    assert OFFICE.working_us(us_a, us_b, oa, ob) == OFFICE.walk_us(us_a, us_b, oa, ob)


def test_docs_calendar_example_builds() -> None:
    """The calendar example at the top of docs/deadlines.md constructs as written."""
    text = (ROOT / "docs" / "deadlines.md").read_text("utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    namespace: dict[str, object] = {}
    exec(match.group(1), namespace)
    office = namespace["office"]
    assert isinstance(office, BusinessCalendar)
    assert office.day(date(2026, 11, 23)).label == "公司年会假期"
