"""Deadlines: duration parsing, due times with their derivation, pauses, Chinese formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.deadlines.calendar import ROUND_THE_CLOCK, BusinessCalendar
from triage.deadlines.datefmt import format_clock, format_due, format_length
from triage.deadlines.durations import (
    Duration,
    Pause,
    compute_due,
    due_with_pauses,
    parse_duration,
    remaining,
)
from triage.errors import CalendarError

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("office")
ASSUME = BusinessCalendar("office", beyond_data="assume_weekends")
EPS = timedelta(microseconds=1)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def kinds(result: object) -> list[str]:
    return [s.kind for s in result.steps]  # type: ignore[attr-defined]


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [("30m", 30, "m"), ("2h", 2, "h"), ("48h", 48, "h"), ("3d", 3, "d"), ("2wd", 2, "wd"),
     ("4wh", 4, "wh"), ("90wm", 90, "wm"), (" 2WD ", 2, "wd"), ("same_day", 0, "same_day")],
)
def test_parse_durations(text: str, amount: int, unit: str) -> None:
    """Each documented unit parses to its amount and unit."""
    assert parse_duration(text) == Duration(amount, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [("3x", "'3x' is not a duration: expected a whole number and a unit"),
     ("1.5h", "is not a duration"), ("", "is not a duration"), ("wd", "is not a duration"),
     ("0wd", "'0wd': a duration must be at least 1wd"),
     ("5000wd", "'5000wd' is too long: at most 1000wd")],
)
def test_bad_durations(text: str, message: str) -> None:
    """A bad duration raises CalendarError (bad_duration) saying what is expected."""
    with pytest.raises(CalendarError) as info:
        parse_duration(text)
    assert info.value.code == "bad_duration" and message in str(info.value)


# -- worked examples (docs/deadlines.md) --------------------------------------------------


def test_friday_afternoon_plus_two_working_days() -> None:
    """Received Friday 17:00 + 2wd is Tuesday 18:00, the weekend skipped."""
    r = compute_due(OFFICE, sh(2026, 11, 20, 17, 0), "2wd")
    assert r.due == sh(2026, 11, 24, 18, 0)
    assert kinds(r) == ["start", "weekend", "workday", "workday", "due"]
    assert r.explain().splitlines() == [
        "收到：11月20日(周五)下午5:00",
        "跳过周末：11月21日(周六)–11月22日(周日)，共2天",
        "第 1 个工作日：11月23日(周一)",
        "第 2 个工作日：11月24日(周二)",
        "期限：11月24日(周二)下午6:00前",
    ]


def test_after_hours_receipt_counts_from_next_working_day() -> None:
    """Received Friday 19:00 + 2wd counts from Monday: Wednesday 18:00."""
    r = compute_due(OFFICE, sh(2026, 11, 20, 19, 0), "2wd")
    assert r.due == sh(2026, 11, 25, 18, 0)
    assert r.steps[2].label == "下班后收到，从下一个工作时间 11月23日(周一)上午9:00 起算"


def test_working_hours_across_lunch_and_weekend() -> None:
    """Friday 17:00 + 4wh: one hour Friday, three Monday morning, due Monday 12:00."""
    r = compute_due(OFFICE, sh(2026, 11, 20, 17, 0), "4wh")
    assert r.due == sh(2026, 11, 23, 12, 0)
    lunch = compute_due(OFFICE, sh(2026, 11, 23, 11, 0), "2wh")
    assert lunch.due == sh(2026, 11, 23, 14, 30)
    assert "跳过休息时间 12:00–13:30" in lunch.explain()


def test_same_day() -> None:
    """same_day is today's end of hours, or the next working day's when received off hours."""
    assert compute_due(OFFICE, sh(2026, 11, 23, 10), "same_day").due == sh(2026, 11, 23, 18)
    assert compute_due(OFFICE, sh(2026, 11, 23, 19), "same_day").due == sh(2026, 11, 24, 18)
    assert compute_due(OFFICE, sh(2026, 11, 22, 10), "same_day").due == sh(2026, 11, 23, 18)


def test_clock_and_calendar_days() -> None:
    """48h is elapsed time; 3d ends at 24:00 of the third day after the day of receipt."""
    assert compute_due(OFFICE, sh(2026, 11, 20, 17), "48h").due == sh(2026, 11, 22, 17)
    assert compute_due(OFFICE, sh(2026, 11, 20, 17), "30m").due == sh(2026, 11, 20, 17, 30)
    r = compute_due(OFFICE, sh(2026, 11, 20, 17), "3d")
    assert r.due == sh(2026, 11, 24, 0) and format_due(r.due) == "11月23日(周一)24:00前"


def test_spring_festival_2026() -> None:
    """Before Spring Festival 2026, make-up Saturday 2-14 counts and 2-15..2-23 is skipped."""
    r = compute_due(OFFICE, sh(2026, 2, 13, 11), "3wd")
    assert r.due == sh(2026, 2, 25, 18)
    lines = r.explain().splitlines()
    assert lines[1] == "第 1 个工作日：2月14日(周六)（春节调休上班）"
    assert lines[2] == "跳过春节假期：2月15日(周日)–2月23日(周一)，共9天"
    after = compute_due(OFFICE, sh(2026, 2, 27, 17), "1wd")
    assert after.due == sh(2026, 2, 28, 18)  # the second make-up Saturday


def test_labour_day_2026() -> None:
    """Labour Day 2026: received Thursday 4-30, 2wd skips 5-1..5-5 and the weekend: 5-7."""
    r = compute_due(OFFICE, sh(2026, 4, 30, 10), "2wd")
    assert r.due == sh(2026, 5, 7, 18)
    assert compute_due(OFFICE, sh(2026, 5, 8, 10), "1wd").due == sh(2026, 5, 9, 18)


def test_national_day_2026() -> None:
    """National Day 2026: 10-1..10-7 off, Thursday 10-8 and make-up Saturday 10-10 work."""
    r = compute_due(OFFICE, sh(2026, 9, 30, 10), "2wd")
    assert r.due == sh(2026, 10, 9, 18)
    assert "跳过国庆节假期：10月1日(周四)–10月7日(周三)，共7天" in r.explain()
    assert compute_due(OFFICE, sh(2026, 9, 30, 10), "3wd").due == sh(2026, 10, 10, 18)


def test_late_december_2026_with_error() -> None:
    """A deadline running into 2027 raises under beyond_data=error."""
    with pytest.raises(CalendarError) as info:
        compute_due(OFFICE, sh(2026, 12, 30, 10), "2wd")
    assert info.value.year == 2027 and info.value.calendar == "office"
    assert compute_due(OFFICE, sh(2026, 12, 28, 10), "2wd").warnings == ()


def test_late_december_2026_assume_weekends() -> None:
    """Under assume_weekends 2027-01-01 (a Friday) counts as working, with a warning."""
    r = compute_due(ASSUME, sh(2026, 12, 30, 10), "2wd")
    assert r.due == sh(2027, 1, 1, 18)
    assert r.warnings == ("2027 年的节假日安排尚未公布，按普通周末推算",)
    assert r.explain().endswith("注意：2027 年的节假日安排尚未公布，按普通周末推算")
    follow = compute_due(ASSUME, r, "2d", milestone="follow_up")
    assert follow.warnings == r.warnings


def test_2027_from_explicit_lists() -> None:
    """2027 holidays given by the policy (known_years) are used, with no warning."""
    cal = BusinessCalendar("office", known_years=[2027],
                           holidays={date(2027, 1, 1): "元旦"}, workdays=[])
    r = compute_due(cal, sh(2026, 12, 30, 10), "2wd")
    assert r.due == sh(2027, 1, 4, 18) and r.warnings == ()
    assert "跳过元旦假期：1月1日(周五)" in r.explain()


def test_half_day_holiday() -> None:
    """A half day (09:00-12:00) counts as a working day that ends at noon."""
    cal = BusinessCalendar("office", half_days={date(2026, 11, 24): ["09:00-12:00"]})
    assert compute_due(cal, sh(2026, 11, 23, 10), "1wd").due == sh(2026, 11, 24, 12)
    r = compute_due(cal, sh(2026, 11, 24, 11), "2wh")
    assert r.due == sh(2026, 11, 25, 10)
    assert "11月24日(周二)（半天工作） 11:00–12:00，计 1小时" in r.explain()


def test_round_the_clock_midnight() -> None:
    """On a 24-hour calendar 23:00 + 2wh is 01:00: no minute lost at midnight."""
    cal = BusinessCalendar("hotline", hours=ROUND_THE_CLOCK, chinese_holidays=False)
    assert compute_due(cal, sh(2026, 3, 1, 23), "2wh").due == sh(2026, 3, 2, 1)
    r = compute_due(cal, sh(2026, 3, 1, 23), "1wh")
    assert r.due == sh(2026, 3, 2, 0) and format_due(r.due) == "3月1日(周日)24:00前"
    assert compute_due(cal, sh(2026, 3, 1, 9), "same_day").due == sh(2026, 3, 2, 0)


def test_dst_berlin_versus_shanghai() -> None:
    """Across the last Sunday of March 4wh on a 24h calendar is 4 real hours in each zone."""
    de = BusinessCalendar("de", timezone="Europe/Berlin", hours=ROUND_THE_CLOCK,
                          chinese_holidays=False)
    cn = BusinessCalendar("cn", hours=ROUND_THE_CLOCK, chinese_holidays=False)
    start_de = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)
    due_de = compute_due(de, start_de, "4wh").due
    assert due_de == datetime(2026, 3, 29, 5, 30, tzinfo=BERLIN)  # 02:00 -> 03:00 skipped
    assert due_de.astimezone(UTC) - start_de.astimezone(UTC) == timedelta(hours=4)
    assert compute_due(cn, sh(2026, 3, 29, 0, 30), "4wh").due == sh(2026, 3, 29, 4, 30)
    clock = compute_due(de, start_de, "2h").due
    assert (clock.hour, clock.minute, str(clock.utcoffset())) == (3, 30, "2:00:00")
    office = BusinessCalendar("de-office", timezone="Europe/Berlin", chinese_holidays=False)
    friday = datetime(2026, 3, 27, 17, tzinfo=BERLIN)
    assert compute_due(office, friday, "2wh").due == datetime(2026, 3, 30, 10, tzinfo=BERLIN)


def test_anchor_on_another_milestone() -> None:
    """follow_up = resolution + 2d counts from resolution's due time and says so."""
    resolution = compute_due(OFFICE, sh(2026, 11, 20, 17), "2wd", milestone="resolution")
    follow = compute_due(OFFICE, resolution, "2d", milestone="follow_up")
    assert follow.start == resolution.due and follow.due == sh(2026, 11, 27, 0)
    assert follow.steps[0].label == "从「resolution」的期限（11月24日(周二)下午6:00前）起算"
    end_of_day = compute_due(OFFICE, sh(2026, 11, 20, 9), "1d", milestone="a")
    assert compute_due(OFFICE, end_of_day, "1d").due == sh(2026, 11, 23, 0)


def test_pause_shifts_by_business_time() -> None:
    """A pause Monday 11:00 to Tuesday 11:00 moves a 2wd deadline by 7.5 working hours."""
    start = sh(2026, 11, 23, 10)
    pause = Pause(sh(2026, 11, 23, 11), sh(2026, 11, 24, 11), "等待客户")
    r = due_with_pauses(OFFICE, start, "2wd", [pause])
    assert r.due == sh(2026, 11, 26, 18)
    assert "（等待客户），期限顺延 7小时30分钟" in r.explain()
    clock = due_with_pauses(OFFICE, start, "48h", [(sh(2026, 11, 23, 12), sh(2026, 11, 23, 13))])
    assert clock.due == sh(2026, 11, 25, 11)
    assert due_with_pauses(OFFICE, start, "2wd", []).due == sh(2026, 11, 25, 18)


def test_remaining_time() -> None:
    """Time left is business time before the due; negative once overdue."""
    r = compute_due(OFFICE, sh(2026, 11, 20, 17), "4wh")
    assert remaining(OFFICE, r, sh(2026, 11, 21, 10)) == timedelta(hours=3)
    assert remaining(OFFICE, r, sh(2026, 11, 23, 14)) == -timedelta(minutes=30)
    clock = compute_due(OFFICE, sh(2026, 11, 20, 17), "2h")
    assert remaining(OFFICE, clock, sh(2026, 11, 20, 18)) == timedelta(hours=1)


def test_due_time_is_immutable_and_serialisable() -> None:
    """A DueTime is frozen and its dict form carries steps, labels and warnings."""
    r = compute_due(ASSUME, sh(2026, 12, 31, 10), "1wd", milestone="reply")
    with pytest.raises(AttributeError):
        r.due = sh(2026, 1, 1)  # type: ignore[misc]
    d = r.to_dict()
    assert d["milestone"] == "reply" and d["due_text"] == "1月1日(周五)下午6:00前"
    assert d["steps"][-1]["kind"] == "due" and d["warnings"]


# -- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "text"),
    [(0, 30, "凌晨0:30"), (5, 59, "凌晨5:59"), (6, 0, "上午6:00"), (9, 0, "上午9:00"),
     (11, 59, "上午11:59"), (12, 0, "中午12:00"), (12, 30, "中午12:30"), (13, 0, "下午1:00"),
     (15, 0, "下午3:00"), (18, 0, "下午6:00"), (18, 30, "晚上6:30"), (23, 59, "晚上11:59")],
)
def test_format_clock(hour: int, minute: int, text: str) -> None:
    """Periods of the day follow the documented 凌晨/上午/中午/下午/晚上 boundaries."""
    assert format_clock(sh(2026, 11, 24, hour, minute)) == text


def test_format_due_and_length() -> None:
    """A due time reads like staff say it; lengths are in hours and minutes."""
    assert format_due(sh(2026, 11, 24, 15)) == "11月24日(周二)下午3:00前"
    assert format_due(sh(2027, 1, 4, 9), with_year=True) == "2027年1月4日(周一)上午9:00前"
    assert format_length(timedelta(hours=1, minutes=30)) == "1小时30分钟"
    assert format_length(timedelta(hours=48)) == "48小时"
    assert format_length(timedelta(seconds=20)) == "不到1分钟"


# -- properties ----------------------------------------------------------------------------

RECEIPTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31))
WORKING = st.one_of(
    st.builds(Duration, st.integers(1, 60), st.just("wh")),
    st.builds(Duration, st.integers(1, 600), st.just("wm")),
    st.builds(Duration, st.integers(1, 12), st.just("wd")),
    st.just(Duration(0, "same_day")),
)


def _half_hours(points: list[int]) -> list[str]:
    """Pairs of sorted half-hour marks (0..48) as ``HH:MM-HH:MM`` intervals."""
    xs = sorted(points)
    return [f"{a // 2:02d}:{a % 2 * 30:02d}-{b // 2:02d}:{b % 2 * 30:02d}"
            for a, b in zip(xs[::2], xs[1::2], strict=False)]


INTERVALS = st.lists(st.integers(0, 48), min_size=2, max_size=6, unique=True).map(_half_hours)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Random weekly hours (up to 24:00), with or without Chinese holidays, in two zones."""
    week = {day: draw(INTERVALS) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            if draw(st.booleans())}
    if not any(week.values()):
        week["mon"] = ["09:00-18:00"]
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin"]))
    return BusinessCalendar("random", timezone=zone, hours=week,
                            chinese_holidays=draw(st.booleans()), beyond_data="assume_weekends")


@settings(max_examples=200)
@given(calendars(), RECEIPTS, WORKING)
def test_due_is_at_or_in_working_time(cal: BusinessCalendar, start: datetime,
                                      dur: Duration) -> None:
    """A wh/wm/wd/same_day due time lies inside working time or at the end of it."""
    due = compute_due(cal, start, dur).due
    assert cal.is_working_time(_instant_before(due))
    assert due.tzinfo is cal.tz


def _instant_before(moment: datetime) -> datetime:
    """The instant 1 µs before ``moment``, in its zone. ``moment - EPS`` is wall-clock
    arithmetic: from 02:00 of the second pass of a repeated hour it steps back to 01:59
    before the first pass, an hour too early."""
    return (moment.astimezone(UTC) - EPS).astimezone(moment.tzinfo)


def test_a_due_time_in_the_repeated_hour_is_in_working_time() -> None:
    """Found by the property above in CI: Sunday hours 02:00-04:00 in Berlin on the day
    clocks go back (2025-10-26) hold three real hours; the first working hour there ends
    at 02:00 of the second pass, and the instant before it is working time (a wall-clock
    step back lands at 01:59, before the hours start)."""
    cal = BusinessCalendar("sunday", timezone="Europe/Berlin", hours={"sun": ["02:00-04:00"]},
                           beyond_data="assume_weekends")
    due = compute_due(cal, datetime(2025, 10, 20), Duration(1, "wh")).due
    assert (due.hour, due.fold) == (2, 1)
    assert due.astimezone(UTC) == datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
    assert cal.is_working_time(_instant_before(due))
    assert not cal.is_working_time(due - EPS)  # the wall-clock step the property once took


@settings(max_examples=200)
@given(calendars(), RECEIPTS, st.timedeltas(timedelta(0), timedelta(days=5)), WORKING)
def test_later_receipt_never_earlier_due(cal: BusinessCalendar, start: datetime,
                                         later: timedelta, dur: Duration) -> None:
    """Receiving a complaint later never gives it an earlier deadline."""
    assert compute_due(cal, start, dur).due <= compute_due(cal, start + later, dur).due


@given(RECEIPTS, st.dates(date(2025, 1, 1), date(2026, 11, 30)), WORKING)
def test_adding_a_holiday_never_earlier(start: datetime, extra: date, dur: Duration) -> None:
    """Declaring one more holiday never makes a deadline earlier."""
    more = BusinessCalendar("office", holidays=[extra])
    assert compute_due(OFFICE, start, dur).due <= compute_due(more, start, dur).due


@settings(max_examples=200)
@given(calendars(), RECEIPTS, st.integers(1, 3000))
def test_business_time_to_due_equals_duration(cal: BusinessCalendar, start: datetime,
                                              minutes: int) -> None:
    """The business time between start and due is exactly the working duration asked for."""
    r = compute_due(cal, start, Duration(minutes, "wm"))
    assert cal.working_time_between(start, r.due) == timedelta(minutes=minutes)


@given(
    RECEIPTS, WORKING | st.sampled_from([Duration(2, "h"), Duration(3, "d")]),
    st.lists(st.tuples(st.timedeltas(timedelta(hours=-24), timedelta(days=10)),
                       st.timedeltas(timedelta(0), timedelta(days=3))), max_size=3),
)
def test_pause_moves_due_by_at_most_its_length(start: datetime, dur: Duration,
                                               raw: list[tuple[timedelta, timedelta]]) -> None:
    """A pause of length p never moves a due time earlier, nor by more than p of its time."""
    local = start.replace(tzinfo=SH)
    pauses = [(local + off, local + off + length) for off, length in raw]
    p = sum((length for _, length in raw), timedelta(0))
    base = compute_due(OFFICE, local, dur).due
    paused = due_with_pauses(OFFICE, local, dur, pauses).due
    assert paused >= base
    moved = OFFICE.working_time_between(base, paused) if dur.uses_calendar else paused - base
    assert moved <= p


@given(RECEIPTS, WORKING)
def test_steps_start_and_end_right(start: datetime, dur: Duration) -> None:
    """The derivation starts with the receipt and ends with the due time."""
    r = compute_due(OFFICE, start, dur)
    steps = r.steps
    assert steps[0].kind == "start" and steps[-1].kind == "due" and steps[-1].at == r.due
    assert all(s.label for s in steps)
