"""Dates, times and lengths of time written the way Chinese service staff say them.

``format_due`` gives ``11月24日(周二)下午3:00前``: month and day, the weekday in
brackets, a period of the day (凌晨/上午/中午/下午/晚上) and a 12-hour clock. A due time
at midnight is the end of the day before and reads ``24:00前`` on that day, never as
``0:00`` of the next one. Seconds are dropped, so a deadline never reads later than it is.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

#: Weekday names, Monday first (``date.weekday()`` order).
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

_NOON = 12 * 60
_ONE_PM = 13 * 60
_SIX_PM = 18 * 60
_SIX_AM = 6 * 60


def format_date(day: date, *, with_year: bool = False) -> str:
    """``11月24日(周二)``, or ``2026年11月24日(周二)`` with ``with_year``."""
    year = f"{day.year}年" if with_year else ""
    return f"{year}{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


def format_clock(moment: datetime | time) -> str:
    """The time of day as staff say it: ``凌晨0:30``, ``上午9:00``, ``中午12:00``, ``下午6:00``.

    Periods: 凌晨 00:00-05:59, 上午 06:00-11:59, 中午 12:00-12:59, 下午 13:00-18:00,
    晚上 18:01-23:59; the clock is 12-hour except that 中午 keeps 12.
    """
    minute = moment.hour * 60 + moment.minute
    hour, mins = divmod(minute, 60)
    if minute < _SIX_AM:
        return f"凌晨{hour}:{mins:02d}"
    if minute < _NOON:
        return f"上午{hour}:{mins:02d}"
    if minute < _ONE_PM:
        return f"中午{hour}:{mins:02d}"
    if minute <= _SIX_PM:
        return f"下午{hour - 12}:{mins:02d}"
    return f"晚上{hour - 12}:{mins:02d}"


def format_moment(moment: datetime, *, with_year: bool = False) -> str:
    """A point in time in its own zone: ``11月23日(周一)上午9:00``."""
    return format_date(moment.date(), with_year=with_year) + format_clock(moment)


def format_due(due: datetime, *, with_year: bool = False) -> str:
    """A deadline as staff say it: ``11月24日(周二)下午3:00前``; midnight is ``24:00前``.

    ``due`` is read in its own time zone (give it in the calendar's zone).
    """
    if due.hour == 0 and due.minute == 0 and due.second == 0 and due.microsecond == 0:
        day = due.date() - timedelta(days=1)
        return format_date(day, with_year=with_year) + "24:00前"
    return format_moment(due, with_year=with_year) + "前"


def format_hhmm(moment: datetime, *, day_end: bool = False) -> str:
    """``09:00``-style 24-hour time; with ``day_end`` a midnight reads ``24:00``."""
    if day_end and moment.hour == 0 and moment.minute == 0:
        return "24:00"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def format_length(length: timedelta) -> str:
    """A length of time in hours and minutes: ``3小时``, ``1小时30分钟``, ``45分钟``, ``48小时``.

    Seconds are dropped; a length under a minute reads ``不到1分钟``.
    """
    sign = "-" if length < timedelta(0) else ""
    minutes = int(abs(length).total_seconds()) // 60
    if minutes == 0:
        return "0分钟" if not length else "不到1分钟"
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours}小时")
    if mins:
        parts.append(f"{mins}分钟")
    return sign + "".join(parts)
