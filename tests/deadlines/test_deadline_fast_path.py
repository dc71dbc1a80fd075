"""Deadline arithmetic: the fast path (``compute_due``) against the day-by-day walk.

``compute_due`` without recording may take shortcuts; the recorded computation (the one
``DueTime.steps`` replays) walks the calendar day by day, interval by interval, and is the
reference. Both must agree on everything: due time (instant, fields, zone, fold), the
start, the warnings, and the error raised, for any calendar, start and duration.
"""

from __future__ import annotations

import pickle
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.deadlines.calendar import BusinessCalendar
from triage.deadlines.durations import DueTime, Duration, _compute, compute_due
from triage.errors import CalendarError

from ..conftest import scale

#: Fixed-offset zones (east, half-hour, west of UTC) and one with daylight saving.
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Kolkata", "Etc/GMT+5", "UTC",
         "Europe/Berlin")
DEFAULT_CALENDARS = triage.load_policy().calendars
SETTINGS = settings(max_examples=scale(250, 20_000), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(run: Any) -> tuple[Any, ...]:
    """What a computation gives, in a form that compares every detail."""
    try:
        r: DueTime = run()
    except CalendarError as exc:
        return ("error", exc.code, str(exc), getattr(exc, "year", None))
    return ("ok", r.calendar, r.duration, r.milestone, r.start, r.start.isoformat(),
            r.start.tzinfo, r.start.fold, r.due, r.due.isoformat(), r.due.tzinfo, r.due.fold,
            r.warnings)


def reference_epoch(cal: BusinessCalendar, moment: datetime) -> tuple[int, int]:
    """``BusinessCalendar.to_epoch`` as first written (the walk shares the faster one)."""
    local = moment.replace(tzinfo=cal.tz) if moment.tzinfo is None else moment.astimezone(
        cal.tz)
    o = local.toordinal()
    off = cal.tz.utcoffset(local)
    off_us = 0 if off is None else (off.days * 86_400 + off.seconds) * 1_000_000
    wall = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
    return (o - 719_163) * 86_400_000_000 + wall + local.microsecond - off_us, o


def agree(cal: BusinessCalendar, start: datetime | DueTime, dur: Duration,
          milestone: str | None = None) -> tuple[Any, ...]:
    """Compare the fast and the walked computation; return the (common) outcome."""
    fast = outcome(lambda: compute_due(cal, start, dur, milestone=milestone))
    slow = outcome(lambda: _compute(cal, start, dur, milestone, True))
    assert fast == slow
    origin = start.due if isinstance(start, DueTime) else start
    us, o = reference_epoch(cal, origin)
    assert cal.to_epoch(origin) == (us, o)
    if fast[0] == "ok":  # the start as first computed: read in the zone, to the µs
        local = origin if origin.tzinfo is cal.tz else cal.from_epoch(us)
        assert fast[4:8] == (local, local.isoformat(), local.tzinfo, local.fold)
    return fast


# -- strategies ----------------------------------------------------------------------------


def _intervals(points: list[int]) -> list[str]:
    xs = sorted(points)
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"
            for a, b in zip(xs[::2], xs[1::2], strict=False)]


#: Grid points (half hours) or any minute, so bounds fall on odd minutes too.
POINTS = st.one_of(st.integers(0, 48).map(lambda h: h * 30), st.integers(0, 1440))
INTERVALS = st.lists(POINTS, min_size=2, max_size=6, unique=True).map(_intervals).filter(bool)
TYPICAL = st.sampled_from([
    {"mon-fri": ["09:00-12:00", "13:30-18:00"]},
    {"mon-fri": ["08:30-12:00", "13:00-17:30"]},
    {"daily": ["08:30-18:00"]},
    {"daily": ["00:00-24:00"]},
    {"mon-sat": ["00:00-12:00", "12:00-24:00"]},
    {"sun": ["10:00-11:00"]},
])
#: Dates around the edges of the holiday data (2004-2026) and of the years 2000-2100.
DATES = st.one_of(
    st.dates(date(2003, 6, 1), date(2028, 6, 1)),
    st.dates(date(1998, 1, 1), date(2105, 12, 31)),
    st.sampled_from([date(1999, 12, 31), date(2000, 1, 1), date(2100, 12, 31),
                     date(2101, 1, 1), date(2004, 1, 1), date(2026, 12, 31)]),
)


@st.composite
def calendar_args(draw: st.DrawFn) -> dict[str, Any]:
    """A calendar's arguments: random hours, zone, holidays, make-up days, half days, years
    (the arguments rather than the calendar, so that a failing example shows them)."""
    if draw(st.booleans()):
        hours = draw(TYPICAL)
    else:
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        hours = {d: draw(INTERVALS) for d in days if draw(st.booleans())}
        if not hours:
            hours = {"mon": ["09:00-18:00"]}
    picked = draw(st.lists(DATES, max_size=8, unique=True))
    cut1, cut2 = sorted(draw(st.lists(st.integers(0, len(picked)), min_size=2, max_size=2)))
    holidays = {d: draw(st.sampled_from(["年会", ""])) for d in picked[:cut1]}
    half = {d: draw(INTERVALS) for d in picked[cut2:]}
    makeup = draw(st.one_of(st.none(), INTERVALS))
    known = draw(st.one_of(st.none(), st.sets(st.integers(1998, 2105), max_size=4)))
    return {
        "timezone": draw(st.sampled_from(ZONES)), "hours": hours,
        "chinese_holidays": draw(st.booleans()), "holidays": holidays,
        "workdays": picked[cut1:cut2], "half_days": half, "makeup_hours": makeup,
        "known_years": known, "beyond_data": draw(st.sampled_from(["assume_weekends", "error"])),
    }


DURATIONS = st.one_of(
    st.builds(Duration, st.integers(1, 600), st.just("wm")),
    st.builds(Duration, st.integers(1, 1_000_000), st.just("wm")),
    st.builds(Duration, st.integers(1, 60), st.just("wh")),
    st.builds(Duration, st.integers(1, 20_000), st.just("wh")),
    st.builds(Duration, st.integers(1, 15), st.just("wd")),
    st.builds(Duration, st.integers(1, 1_000), st.just("wd")),
    st.just(Duration(0, "same_day")),
    st.builds(Duration, st.integers(1, 100), st.sampled_from(["m", "h", "d"])),
)
#: Mostly short durations: long ones are slow to walk and say less.
SHORT = st.one_of(
    st.builds(Duration, st.integers(1, 900), st.just("wm")),
    st.builds(Duration, st.integers(1, 40), st.just("wh")),
    st.builds(Duration, st.integers(1, 12), st.just("wd")),
    st.just(Duration(0, "same_day")),
)


@st.composite
def starts(draw: st.DrawFn, zone: ZoneInfo) -> datetime:
    """A receipt time: aware in the zone or another, or naive; on a grid or to the µs."""
    day = draw(DATES)
    minute = draw(st.one_of(st.integers(0, 48).map(lambda h: h * 30 % 1440),
                            st.integers(0, 1439)))
    second, micro = draw(st.sampled_from([(0, 0), (0, 0), (59, 999_999), (1, 0), (0, 1)]))
    if draw(st.booleans()):
        second, micro = draw(st.integers(0, 59)), draw(st.integers(0, 999_999))
    moment = datetime.combine(day, time(minute // 60, minute % 60, second, micro))
    how = draw(st.sampled_from(["zone", "zone", "naive", "offset"]))
    if how == "zone":
        return moment.replace(tzinfo=zone, fold=draw(st.integers(0, 1)))
    if how == "offset":  # as a parsed ISO time carries it
        return moment.replace(tzinfo=draw(OFFSETS))
    return moment


OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=3.5)),
                           ZoneInfo("America/New_York")])


# -- properties ----------------------------------------------------------------------------


@SETTINGS
@given(calendar_args(), st.data())
def test_fast_path_equals_the_walk(args: dict[str, Any], data: st.DataObject) -> None:
    """Random calendars, starts and durations: fast and walked results are identical."""
    cal = BusinessCalendar("random", **args)
    start = data.draw(starts(cal.tz))
    dur = data.draw(st.one_of(SHORT, DURATIONS))
    agree(cal, start, dur)


@SETTINGS
@given(calendar_args(), st.data())
def test_anchored_fast_path_equals_the_walk(args: dict[str, Any], data: st.DataObject) -> None:
    """A milestone counted from another's due time agrees too, warnings included."""
    cal = BusinessCalendar("random", **args)
    start = data.draw(starts(cal.tz))
    first, second = data.draw(SHORT), data.draw(st.one_of(SHORT, DURATIONS))
    try:
        anchor = compute_due(cal, start, first, milestone="resolution")
    except CalendarError:
        return
    agree(cal, anchor, second, "follow_up")


@SETTINGS
@given(st.sampled_from(sorted(DEFAULT_CALENDARS)), st.data())
def test_default_calendars_fast_path_equals_the_walk(name: str, data: st.DataObject) -> None:
    """The default policy's calendars, around holidays, make-up days and lunch breaks."""
    cal = DEFAULT_CALENDARS[name]
    start = data.draw(starts(cal.tz))
    agree(cal, start, data.draw(st.one_of(SHORT, SHORT, DURATIONS)))


@pytest.mark.parametrize("name", ["office", "quality", "dealer", "hotline"])
def test_default_calendars_every_half_hour_of_2026_around_holidays(name: str) -> None:
    """Every half hour around Spring Festival, Labour Day, National Day and New Year."""
    cal = DEFAULT_CALENDARS[name]
    zone = cal.tz
    durations = [Duration(1, "wm"), Duration(90, "wm"), Duration(2, "wh"), Duration(8, "wh"),
                 Duration(0, "same_day"), Duration(1, "wd"), Duration(7, "wd")]
    for first in (date(2026, 2, 12), date(2026, 4, 29), date(2026, 9, 29),
                  date(2026, 12, 29), date(2003, 12, 30)):
        for half_hour in range(0, 4 * 48, 3):
            start = datetime.combine(first, time(0), zone) + timedelta(minutes=30 * half_hour)
            for dur in durations:
                agree(cal, start, dur)
    result = compute_due(cal, start, Duration(2, "wd"), milestone="m")
    assert pickle.loads(pickle.dumps(result)) == result  # with its steps, as recorded
    assert result == DueTime(*(getattr(result, f.name) for f in fields(DueTime)))
    assert hash(result) == hash(DueTime(*(getattr(result, f.name) for f in fields(DueTime))))
