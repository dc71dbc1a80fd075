"""Business calendars: when a team works, in which time zone, and on which dates.

A ``BusinessCalendar`` is compiled once from plain data (what a policy file says) and
never changes: weekly working hours (split shifts, up to 24:00), Chinese statutory
holidays and make-up working days (调休) from ``chinese_calendar``, and the policy's own
holidays, make-up days and half days. Lookups are a dict access per date; in a zone
without daylight saving the calendar also lays its working intervals end to end in an
immutable table (``DayTable``), so adding working time or days is a bisection rather than
a walk day by day. Nothing is cached after construction.

Instants are handled as integer microseconds since 1970-01-01 UTC ("epoch
microseconds"), which makes business time exact and daylight-saving changes correct:
an hour of work is an hour of real time, even on the night the clocks go forward.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar  # type: ignore[import-untyped]

from ..errors import CalendarError
from .days import (
    EPOCH_ORDINAL,
    FIXED_CHECK_YEARS,
    FIXED_FIRST,
    FIXED_LAST,
    MAX_SCAN_DAYS,
    MINUTES_PER_DAY,
    US_PER_DAY,
    US_PER_MINUTE,
    DayPlan,
    Interval,
    IntervalLike,
    parse_intervals,
)
from .daytable import DayTable, on_table

DEFAULT_TIMEZONE = "Asia/Shanghai"

#: Monday-Friday 09:00-12:00 and 13:30-18:00 (lunch break 12:00-13:30).
OFFICE_HOURS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"mon-fri": ("09:00-12:00", "13:30-18:00")}
)
#: Every day, all day: a hotline staffed around the clock.
ROUND_THE_CLOCK: Mapping[str, tuple[str, ...]] = MappingProxyType({"daily": ("00:00-24:00",)})

BeyondData = Literal["error", "assume_weekends"]


_MIDNIGHT = time(0)
_Fail = Callable[[str, str], CalendarError]
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")




def _chinese_data() -> tuple[Mapping[int, str], Mapping[int, str], frozenset[int]]:
    """Holidays and make-up working days of ``chinese_calendar`` by date ordinal, with
    Chinese names, and the years the package has data for."""
    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    off = {d.toordinal(): names.get(n, str(n)) for d, n in chinese_calendar.holidays.items()}
    work = {d.toordinal(): names.get(n, str(n)) for d, n in chinese_calendar.workdays.items()}
    years = {d.year for d in chinese_calendar.holidays}
    return (MappingProxyType(off), MappingProxyType(work),
            frozenset(range(min(years), max(years) + 1)))


#: ``chinese_calendar``'s statutory holidays and make-up days (read once, never changed).
CN_HOLIDAYS, CN_WORKDAYS, CN_YEARS = _chinese_data()
_CN_WORKDAY_NAMES = frozenset(CN_WORKDAYS.values())


def _cn_holiday_plans() -> Mapping[int, DayPlan]:
    """``chinese_calendar``'s holidays as day plans by date ordinal, one plan per holiday."""
    plans = {hname: DayPlan("holiday", (), hname) for hname in set(CN_HOLIDAYS.values())}
    return MappingProxyType({o: plans[hname] for o, hname in CN_HOLIDAYS.items()})


#: The holidays' plans are the same in every calendar: built once and shared, as a plan
#: never changes.
_CN_HOLIDAY_PLANS = _cn_holiday_plans()


class BusinessCalendar:
    """A named working calendar: time zone, weekly hours and the dates that differ.

    Build it from plain data (a policy loader passes what the file says)::

        BusinessCalendar("客服中心", hours={"mon-fri": ["09:00-12:00", "13:30-18:00"]})

    How a date is resolved, first match wins: the policy's ``half_days`` (their own
    intervals), the policy's ``holidays`` (off), the policy's ``workdays`` (make-up days,
    worked with ``makeup_hours``), ``chinese_calendar``'s holidays and 调休 days (when
    ``chinese_holidays``), then the weekly ``hours``. ``makeup_hours`` defaults to the
    most common hours of Monday-Friday (so an ordinary weekday's hours).

    Known years: with ``chinese_holidays`` the package's years plus ``known_years``;
    without, ``known_years`` alone (``None``: every year is known). A computation that
    needs a date of an unknown year raises ``CalendarError`` (``beyond_data="error"``) or
    uses the weekly hours alone and warns (``"assume_weekends"``).
    """

    __slots__ = ("_epoch", "_fixed", "_known", "_known_hi", "_known_lo", "_overrides",
                 "_table", "_weekly", "beyond_data", "chinese_holidays", "makeup_hours", "name",
                 "tz")

    name: str
    tz: ZoneInfo
    beyond_data: BeyondData
    chinese_holidays: bool
    makeup_hours: tuple[Interval, ...]
    _weekly: tuple[DayPlan, ...]
    _overrides: dict[int, DayPlan]
    _known: frozenset[int] | None
    _known_lo: int
    _known_hi: int
    _fixed: int | None
    _table: DayTable | None
    _epoch: datetime

    def __init__(
        self,
        name: str,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        hours: Mapping[str, Sequence[IntervalLike]] = OFFICE_HOURS,
        chinese_holidays: bool = True,
        holidays: Mapping[date, str] | Iterable[date] = (),
        workdays: Iterable[date] = (),
        half_days: Mapping[date, Sequence[IntervalLike]] | None = None,
        makeup_hours: Sequence[IntervalLike] | None = None,
        known_years: Iterable[int] | None = None,
        beyond_data: BeyondData = "error",
    ) -> None:
        def fail(message: str, code: str) -> CalendarError:
            return CalendarError(f"calendar {name!r}: {message}", code=code, calendar=name)

        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise fail(f"unknown time zone {timezone!r} (expected an IANA name such as "
                       "Asia/Shanghai)", "bad_timezone") from exc
        if beyond_data not in ("error", "assume_weekends"):
            raise fail(f"beyond_data is {beyond_data!r}; expected error or assume_weekends",
                       "bad_option")
        weekly_hours = _weekly_hours(hours, fail)
        if not any(weekly_hours):
            raise fail("no working hours on any day of the week", "no_working_hours")
        weekly = tuple(
            DayPlan("workday", h) if h else DayPlan("weekend" if i >= 5 else "day_off")
            for i, h in enumerate(weekly_hours)
        )
        if makeup_hours is None:
            makeup = _usual_weekday_hours(weekly_hours)
        else:
            makeup = parse_intervals(makeup_hours, where=f"calendar {name!r}: makeup_hours")

        overrides: dict[int, DayPlan] = {}
        if chinese_holidays:
            overrides.update(_CN_HOLIDAY_PLANS)
            plans = {hname: DayPlan("makeup", makeup, hname) for hname in _CN_WORKDAY_NAMES}
            overrides.update({o: plans[hname] for o, hname in CN_WORKDAYS.items()})
        named: dict[date, str | None] = (
            dict(holidays) if isinstance(holidays, Mapping) else dict.fromkeys(holidays)
        )
        half = dict(half_days or {})
        work = set(workdays)
        if clash := sorted(set(named) & work):
            raise fail(f"{clash[0]} is listed both as a holiday and as a working day",
                       "conflicting_days")
        if clash := sorted(set(half) & (set(named) | work)):
            raise fail(f"{clash[0]} is listed as a half day and also as a holiday or a "
                       "working day", "conflicting_days")
        for d in work:
            overrides[d.toordinal()] = DayPlan("makeup", makeup)
        for d, label in named.items():
            overrides[d.toordinal()] = DayPlan("holiday", (), label or None)
        for d, items in half.items():
            ivs = parse_intervals(items, where=f"calendar {name!r}: half day {d}")
            overrides[d.toordinal()] = DayPlan("half_day", ivs)

        if known_years is None:
            known = CN_YEARS if chinese_holidays else None
        else:
            known = frozenset(known_years) | (CN_YEARS if chinese_holidays else frozenset())

        setter = object.__setattr__
        setter(self, "name", name)
        setter(self, "tz", tz)
        setter(self, "beyond_data", beyond_data)
        setter(self, "chinese_holidays", chinese_holidays)
        setter(self, "makeup_hours", makeup)
        setter(self, "_weekly", weekly)
        setter(self, "_overrides", overrides)  # private and never changed: a plain dict is faster
        setter(self, "_known", known)
        lo, hi = _known_block(known)
        setter(self, "_known_lo", lo)
        setter(self, "_known_hi", hi)
        setter(self, "_fixed", fixed := _fixed_offset(tz))
        setter(self, "_epoch", datetime(1970, 1, 1, tzinfo=tz))
        setter(self, "_table", None if fixed is None else
               DayTable.build(weekly, overrides, fixed, FIXED_FIRST, FIXED_LAST))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("BusinessCalendar is immutable; build a new one to change it")

    def __repr__(self) -> str:
        return f"<BusinessCalendar {self.name!r} {self.tz.key}>"

    # -- dates ------------------------------------------------------------------------

    @property
    def known_years(self) -> frozenset[int] | None:
        """Years whose holidays are known (``None``: all years, the calendar needs none)."""
        return self._known

    def plan(self, ordinal: int) -> DayPlan:
        """The plan of the local date with this ordinal (``date.toordinal()``)."""
        found = self._overrides.get(ordinal)
        return found if found is not None else self._weekly[(ordinal - 1) % 7]

    def day(self, day: date) -> DayPlan:
        """The plan of a local date: its kind (workday, holiday...) and working hours."""
        return self.plan(day.toordinal())

    def check_years(self, first: int, last: int) -> tuple[str, ...]:
        """Warnings for the unknown years among local dates ``first``..``last`` (ordinals).

        Raises ``CalendarError`` (code ``unknown_year``) instead when ``beyond_data`` is
        ``error``. Returns ``()`` when every year is known.
        """
        known = self._known
        if known is None or (self._known_lo <= first and last <= self._known_hi):
            return ()
        y0 = date.fromordinal(first).year
        y1 = date.fromordinal(max(first, last)).year
        missing = [y for y in range(y0, y1 + 1) if y not in known]
        if not missing:
            return ()
        if self.beyond_data == "error":
            year = missing[0]
            span = f"{min(known)}-{max(known)}" if known else "none"
            raise CalendarError(
                f"calendar {self.name!r} has no holiday data for {year} (known years: {span});"
                f" list {year}'s holidays and make-up days in the policy and add {year} to "
                "known_years, or set beyond_data: assume_weekends",
                code="unknown_year", calendar=self.name, year=year,
            )
        top = max(known) if known else 0
        return tuple(
            f"{y} 年的节假日安排尚未公布，按普通周末推算" if y > top
            else f"没有 {y} 年的节假日数据，按普通周末推算"
            for y in missing
        )

    # -- instants ---------------------------------------------------------------------

    def localize(self, moment: datetime) -> datetime:
        """``moment`` in the calendar's zone; a naive datetime is read as local time there."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def to_epoch(self, moment: datetime) -> tuple[int, int]:
        """Epoch microseconds of ``moment`` and the ordinal of its local date."""
        if moment.tzinfo is self.tz and self._fixed is not None:
            # same zone: the difference of wall times, no offset looked up
            d = moment - self._epoch
            o = d.days + EPOCH_ORDINAL
            if FIXED_FIRST <= o <= FIXED_LAST:
                return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds - self._fixed, o
        local = moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(
            self.tz)
        o = local.toordinal()
        off = self.tz.utcoffset(local)
        off_us = 0 if off is None else (off.days * 86_400 + off.seconds) * 1_000_000
        wall = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
        return (o - EPOCH_ORDINAL) * US_PER_DAY + wall + local.microsecond - off_us, o

    def epoch_ordinal(self, us: int) -> int:
        """The ordinal of the local date of epoch microseconds ``us``."""
        fixed = self._fixed
        if fixed is not None:
            o = (us + fixed) // US_PER_DAY + EPOCH_ORDINAL
            if FIXED_FIRST <= o <= FIXED_LAST:
                return o
        return self.from_epoch(us).toordinal()

    def working_us_between(self, a: int, b: int) -> int:
        """``working_time_between`` of two instants given as epoch microseconds, in
        microseconds: what a month's KPIs add up without building datetimes."""
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        oa, ob = self.epoch_ordinal(a), self.epoch_ordinal(b)
        self.check_years(oa, ob)
        return sign * self.working_us(a, b, oa, ob)

    def working_clock(self, us: int) -> int | None:
        """Working microseconds from a fixed origin to epoch microseconds ``us``, so that
        the working time between two instants is the difference of their clocks (what a
        month's KPIs subtract); None where the day table does not reach (a zone with
        daylight saving, a date outside the years of fixed offset): use
        ``working_us_between`` there."""
        table = self._table
        if table is None:
            return None
        wall = us + table.offset
        day = wall // US_PER_DAY
        o = day + EPOCH_ORDINAL
        if not FIXED_FIRST <= o <= FIXED_LAST:
            return None
        self.check_years(o, o)
        return table.work_before(day, wall - day * US_PER_DAY)

    def from_epoch(self, us: int) -> datetime:
        """The aware local datetime of epoch microseconds ``us``."""
        fixed = self._fixed
        if fixed is not None and FIXED_FIRST <= (us + fixed) // US_PER_DAY + EPOCH_ORDINAL \
                <= FIXED_LAST:
            # the offset is fixed there: wall time is epoch time plus it (as to_epoch reads)
            return self._epoch + timedelta(microseconds=us + fixed)
        if us % 1_000_000:
            # exact: the float is within 0.2 µs of the true value and fromtimestamp rounds
            return datetime.fromtimestamp(us / 1_000_000, self.tz)
        return datetime.fromtimestamp(us // 1_000_000, self.tz)

    def midnight(self, ordinal: int) -> datetime:
        """Local 00:00 of the date with this ordinal, as an aware datetime."""
        if self._fixed is not None and FIXED_FIRST <= ordinal <= FIXED_LAST:
            base = (ordinal - EPOCH_ORDINAL) * US_PER_DAY - self._fixed
            return datetime.fromtimestamp(base // 1_000_000, self.tz)
        return datetime.combine(date.fromordinal(ordinal), _MIDNIGHT, self.tz)

    def _offset_us(self, ordinal: int, wall_us: int) -> int:
        minutes = wall_us // US_PER_MINUTE
        d = date.fromordinal(ordinal + minutes // MINUTES_PER_DAY)
        h, m = divmod(minutes % MINUTES_PER_DAY, 60)
        offset = self.tz.utcoffset(datetime(d.year, d.month, d.day, h, m))
        return 0 if offset is None else (offset.days * 86_400 + offset.seconds) * 1_000_000

    def frame(self, ordinal: int) -> tuple[int, tuple[tuple[int, int], ...]]:
        """Working time of one local date as ``(base, pairs)``: each ``base + start``,
        ``base + end`` is a working interval in epoch microseconds.

        The fast form of ``spans`` (no tuples built on ordinary days). On a date whose
        UTC offset changes inside its working hours (a DST night on a 24-hour calendar)
        each bound is converted on its own, so lengths are real time; a bound in a
        skipped hour is read with the offset before the change.
        """
        found = self._overrides.get(ordinal)
        wall = (found if found is not None else self._weekly[(ordinal - 1) % 7]).wall
        if not wall:
            return 0, wall
        base = (ordinal - EPOCH_ORDINAL) * US_PER_DAY
        fixed = self._fixed
        if fixed is not None and FIXED_FIRST <= ordinal <= FIXED_LAST:
            return base - fixed, wall
        first = self._offset_us(ordinal, wall[0][0])
        if first == self._offset_us(ordinal, wall[-1][1]):
            return base - first, wall
        return base, tuple(
            (s - self._offset_us(ordinal, s), e - self._offset_us(ordinal, e)) for s, e in wall
        )

    def spans(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """Working time of one local date as ``(start, end)`` epoch-microsecond pairs."""
        b, pairs = self.frame(ordinal)
        return tuple((b + s, b + e) for s, e in pairs)

    def next_moment(self, us: int, ordinal: int) -> tuple[int, int]:
        """The first working instant at or after ``us`` (on local date ``ordinal``), with
        the ordinal of its date; low-level form of ``next_working_moment``."""
        for o in range(ordinal, ordinal + MAX_SCAN_DAYS):
            b, pairs = self.frame(o)
            for s, e in pairs:
                if us < b + e:
                    return (b + s if b + s > us else us), o
        raise self._runaway(ordinal)

    def _runaway(self, ordinal: int) -> CalendarError:
        return CalendarError(
            f"calendar {self.name!r}: no working time within {MAX_SCAN_DAYS} days after "
            f"{date.fromordinal(ordinal)}", code="no_working_hours", calendar=self.name)

    def working_us(self, a: int, b: int, first: int, last: int) -> int:
        """Working microseconds in ``[a, b)`` whose local dates run ``first``..``last``:
        two lookups in the day table where it answers, else a walk day by day."""
        if b <= a:
            return 0
        table = self._table
        if table is not None and first >= FIXED_FIRST and last <= FIXED_LAST:
            fa, fb = a + table.offset, b + table.offset  # local wall-clock positions
            da, db = first - EPOCH_ORDINAL, last - EPOCH_ORDINAL
            return (table.work_before(db, fb - db * US_PER_DAY)
                    - table.work_before(da, fa - da * US_PER_DAY))
        return self.walk_us(a, b, first, last)

    def walk_us(self, a: int, b: int, first: int, last: int) -> int:
        """``working_us`` by walking the days one by one (any zone; the reference)."""
        if b <= a:
            return 0
        total = 0
        for o in range(first, last + 1):
            base, pairs = self.frame(o)
            for s0, e0 in pairs:
                s, e = base + s0, base + e0
                lo = s if s > a else a
                hi = e if e < b else b
                if hi > lo:
                    total += hi - lo
        return total

    def add_working_time(self, us: int, ordinal: int, need: int) -> tuple[int, int] | None:
        """The instant ``need`` (> 0) microseconds of working time after ``us`` (on local
        date ``ordinal``), and the local date whose hours it ends, from the table; ``None``
        when the table cannot answer (a zone with daylight saving, a date outside the years
        of fixed offset, a very long span): the caller then walks, as ``durations`` does."""
        table = self._table
        return None if table is None else on_table(table, table.add_time, us, ordinal, need)

    def add_working_days(self, us: int, ordinal: int, days: int) -> tuple[int, int] | None:
        """The end of working hours of the ``days``-th working day after the one of the
        next working moment from ``us`` (on local date ``ordinal``), and its local date;
        ``None`` when the table cannot answer (see ``add_working_time``)."""
        table = self._table
        return None if table is None else on_table(table, table.add_days, us, ordinal, days)

    # -- public conveniences -----------------------------------------------------------

    def is_working_time(self, moment: datetime) -> bool:
        """True when ``moment`` is inside working hours (an interval's end is not)."""
        us, o = self.to_epoch(moment)
        return any(s <= us < e for s, e in self.spans(o))

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself (in the calendar's zone) during working hours, else the start
        of the next working time."""
        us, o = self.to_epoch(moment)
        found, o2 = self.next_moment(us, o)
        self.check_years(o, o2)
        return self.localize(moment) if found == us else self.from_epoch(found)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end``; negative when ``end`` comes first.

        Time left before a deadline is ``working_time_between(now, due)``; a negative
        result is how long it is overdue, in working time.
        """
        a, oa = self.to_epoch(start)
        b, ob = self.to_epoch(end)
        sign = 1
        if b < a:
            a, oa, b, ob, sign = b, ob, a, oa, -1
        self.check_years(oa, ob)
        return timedelta(microseconds=sign * self.working_us(a, b, oa, ob))


def _weekly_hours(
    hours: Mapping[str, Sequence[IntervalLike]], fail: _Fail
) -> list[tuple[Interval, ...]]:
    """Seven tuples of intervals, Monday first, from keys like ``mon-fri``, ``sat``, ``daily``."""
    week: list[tuple[Interval, ...] | None] = [None] * 7
    for key, items in hours.items():
        days = _day_keys(str(key), fail)
        ivs = parse_intervals(items, where=f"hours of {key}")
        for i in days:
            if week[i] is not None:
                raise fail(f"{_DAY_NAMES[i]} is given hours twice (in {key!r})", "bad_hours")
            week[i] = ivs
    return [w or () for w in week]


def _day_keys(key: str, fail: _Fail) -> list[int]:
    k = key.strip().lower()
    if k in ("daily", "mon-sun"):
        return list(range(7))
    first, _, last = k.partition("-")
    if first in _DAY_NAMES and (not last or last in _DAY_NAMES):
        i = _DAY_NAMES.index(first)
        j = _DAY_NAMES.index(last) if last else i
        if i <= j:
            return list(range(i, j + 1))
    raise fail(f"{key!r} is not a day of the week: expected mon..sun, a range such as "
               "mon-fri, or daily", "bad_hours")


def _known_block(known: frozenset[int] | None) -> tuple[int, int]:
    """Ordinals of the first and last day of the longest run of known years (a fast check)."""
    if not known:
        return (1, 0)
    best = (0, -1)
    for y in sorted(known):
        if y - 1 in known:
            continue
        end = y
        while end + 1 in known:
            end += 1
        if end - y > best[1] - best[0]:
            best = (y, end)
    return date(best[0], 1, 1).toordinal(), date(best[1], 12, 31).toordinal()


def _fixed_offset(tz: ZoneInfo) -> int | None:
    """The zone's UTC offset in microseconds if it is the same on the 1st and 15th of every
    month of ``FIXED_CHECK_YEARS`` (no daylight saving then), else ``None``.

    No zone changes its offset and back within two weeks, so sampling is enough; dates
    outside those years always take the exact, slower path.
    """
    first = tz.utcoffset(datetime(FIXED_CHECK_YEARS.start, 1, 1))
    for y in FIXED_CHECK_YEARS:
        for m in range(1, 13):
            if tz.utcoffset(datetime(y, m, 1)) != first or tz.utcoffset(
                    datetime(y, m, 15)) != first:
                return None
    return 0 if first is None else (first.days * 86_400 + first.seconds) * 1_000_000


def _usual_weekday_hours(week: list[tuple[Interval, ...]]) -> tuple[Interval, ...]:
    """The most common hours among Monday-Friday (earliest weekday on a tie)."""
    counts = Counter(h for h in week[:5] if h)
    if not counts:
        return ()
    best = max(counts.values())
    return next(h for h in week[:5] if h and counts[h] == best)
