"""Days and working hours: the units a business calendar is made of.

An ``Interval`` is working time within one day; a ``DayPlan`` is what one date is in a
calendar (workday, weekend, holiday, make-up day, half day) and its hours. Also the time
constants of the arithmetic: instants are integer microseconds since 1970-01-01 UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Literal

from ..errors import CalendarError

#: Minutes in a day: an interval may end here (24:00).
MINUTES_PER_DAY = 1440
US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000
#: Years over which a zone is checked for a fixed UTC offset (the fast path of arithmetic).
FIXED_CHECK_YEARS = range(2000, 2101)
#: Longest run of days a search for working time may cover before giving up.
MAX_SCAN_DAYS = 3700
#: Longest span (start date to due date) the table answers; longer ones are walked, so
#: that a search which would give up still does.
TABLE_SPAN = MAX_SCAN_DAYS - 10

EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
#: Ordinals of the first and last date of ``FIXED_CHECK_YEARS``.
FIXED_FIRST = date(FIXED_CHECK_YEARS.start, 1, 1).toordinal()
FIXED_LAST = date(FIXED_CHECK_YEARS.stop, 1, 1).toordinal() - 1
DayKind = Literal["workday", "weekend", "day_off", "holiday", "makeup", "half_day"]
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Working time within one day, in minutes after local midnight; ``end`` may be 24:00.

    Ending at 24:00 (1440) rather than 23:59 is what keeps the last minute of the day.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise CalendarError(
                f"working interval {self}: the start must come before the end, "
                "both within 00:00-24:00",
                code="bad_hours",
            )

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Read ``HH:MM-HH:MM`` (``09:00-12:00``, ``00:00-24:00``)."""
        m = _INTERVAL.match(text)
        if m is None:
            raise CalendarError(
                f"{text!r} is not a working interval: expected HH:MM-HH:MM, "
                "e.g. 09:00-12:00 (an interval may end at 24:00)",
                code="bad_hours",
            )
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        for hour, minute in ((h1, m1), (h2, m2)):
            if minute > 59 or hour > 24 or (hour == 24 and minute):
                raise CalendarError(
                    f"{text!r}: {hour}:{minute:02d} is not a time of day (00:00 to 24:00)",
                    code="bad_hours",
                )
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


IntervalLike = str | Interval


def parse_intervals(items: Iterable[IntervalLike], *, where: str = "hours") -> tuple[
    Interval, ...
]:
    """Sorted, non-overlapping intervals from strings or ``Interval``s; touching ones merge."""
    if isinstance(items, str):
        items = [items]
    parsed = sorted(i if isinstance(i, Interval) else Interval.parse(i) for i in items)
    merged: list[Interval] = []
    for cur in parsed:
        if merged and cur.start < merged[-1].end:
            raise CalendarError(
                f"{where}: working intervals {merged[-1]} and {cur} overlap", code="bad_hours"
            )
        if merged and cur.start == merged[-1].end:
            merged[-1] = Interval(merged[-1].start, cur.end)
        else:
            merged.append(cur)
    return tuple(merged)


_LABELS: Mapping[str, str] = MappingProxyType({
    "workday": "工作日", "weekend": "周末", "day_off": "休息日", "holiday": "节假日",
    "makeup": "调休上班日", "half_day": "半天工作日",
})


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What one date is in a calendar: its kind, its holiday name, its working hours."""

    kind: DayKind
    hours: tuple[Interval, ...] = ()
    name: str | None = None
    #: ``hours`` in microseconds after local midnight, for the arithmetic.
    wall: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    #: Working microseconds in the day (wall-clock), for the calendar's table.
    work: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        wall = tuple((i.start * US_PER_MINUTE, i.end * US_PER_MINUTE) for i in self.hours)
        object.__setattr__(self, "wall", wall)
        object.__setattr__(self, "work", sum(e - s for s, e in wall))

    @property
    def is_working(self) -> bool:
        return bool(self.hours)

    @property
    def label(self) -> str:
        """``春节假期``, ``周末``, ``调休上班日``...: what staff would call the day."""
        if self.kind == "holiday" and self.name:
            return f"{self.name}假期"
        return _LABELS[self.kind]
