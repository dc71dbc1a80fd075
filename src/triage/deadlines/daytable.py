"""The day table of a calendar with a fixed UTC offset: business time by bisection.

``DayTable`` lays a calendar's working days end to end with running totals of working
time and working days, so that adding working time or days is a bisection instead of a
walk day by day. Immutable, built once by ``BusinessCalendar``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress

from .days import EPOCH_ORDINAL, FIXED_FIRST, FIXED_LAST, TABLE_SPAN, US_PER_DAY, DayPlan


def on_table(table: DayTable, step: Callable[[int, int, int], tuple[int, int]], us: int,
              ordinal: int, amount: int) -> tuple[int, int] | None:
    """Run ``step`` of ``table`` (from a day and a wall-clock offset in it) on an epoch
    instant; ``None`` when the start or the result lies where the table cannot answer."""
    if not FIXED_FIRST <= ordinal <= FIXED_LAST:
        return None
    day = ordinal - EPOCH_ORDINAL
    end, last = step(day, us + table.offset - day * US_PER_DAY, amount)
    last += EPOCH_ORDINAL
    if last > FIXED_LAST or last - ordinal > TABLE_SPAN:
        return None
    return end - table.offset, last


@dataclass(frozen=True, slots=True)
class DayTable:
    """Running totals of working time and working days, day by day, for a calendar with a
    fixed UTC offset: adding working time is then a bisection and adding working days an
    index, instead of a walk day by day.

    Positions are local wall-clock microseconds since 1970-01-01 00:00 (epoch microseconds
    plus the offset), days are counted from 1970-01-01. The table holds every day with an
    override between two dates (the years of fixed offset) and a plain week on each side.
    Days outside it follow the weekly hours too, so a day outside is moved by whole weeks
    into the table's first or last week, and the totals by whole weeks' worth.
    """

    #: The calendar's UTC offset in microseconds.
    offset: int
    #: Days from 1970-01-01 to the table's first day.
    day0: int
    #: Each day's plan.
    plans: tuple[DayPlan, ...]
    #: Working microseconds before each day; one more entry, the table's total.
    cum: tuple[int, ...]
    #: Working days before each day; one more entry, the table's total.
    wdb: tuple[int, ...]
    #: Each working day (its index in the table).
    wdays: tuple[int, ...]
    #: Working microseconds and working days in any 7 plain days.
    week_work: int
    week_days: int

    @classmethod
    def build(cls, weekly: Sequence[DayPlan], overrides: Mapping[int, DayPlan], offset: int,
              lo: int, hi: int) -> DayTable:
        """The table of a calendar whose dates ``lo``..``hi`` (ordinals) have UTC offset
        ``offset``; overrides outside those dates are left out, as no answer there is taken
        from the table. Built from list repetition and running sums (no loop per day), so
        a span of decades stays cheap."""
        inside = {o: plan for o, plan in overrides.items() if lo <= o <= hi}
        first_day = (min(inside) if inside else lo) - 7
        n = (max(inside) if inside else lo) + 8 - first_day
        # the weekly pattern repeated, then the overrides written over it
        week = [weekly[(first_day - 1 + i) % 7] for i in range(7)] * (n // 7 + 1)
        plans = week[:n]
        works = [plan.work for plan in plans[:7]] * (n // 7 + 1)
        del works[n:]
        for o, plan in inside.items():
            plans[o - first_day] = plan
            works[o - first_day] = plan.work
        cum = tuple(accumulate(works, initial=0))
        wdb = tuple(accumulate(map(bool, works), initial=0))
        return cls(
            offset=offset, day0=first_day - EPOCH_ORDINAL, plans=tuple(plans), cum=cum,
            wdb=wdb, wdays=tuple(compress(range(n), works)),
            week_work=cum[-1] - cum[-8], week_days=wdb[-1] - wdb[-8],
        )

    def add_time(self, day: int, at: int, need: int) -> tuple[int, int]:
        """The earliest position with ``need`` (> 0) working microseconds since ``at``
        microseconds into day ``day``, and its day (the one whose hours it ends)."""
        i = day - self.day0
        n = len(self.plans)
        q = 0  # whole weeks to move day into the table
        if not 0 <= i < n:
            q = (i - n) // 7 + 1 if i >= n else -((-i - 1) // 7 + 1)
            i -= 7 * q
        cum = self.cum
        x = cum[i] + need  # working time from the table's start to the answer
        for s, e in self.plans[i].wall:
            if at <= s:
                break
            x += (e if at > e else at) - s
        total = cum[n]
        if not q and x <= total:  # the usual case
            j = i
            if need < self.week_work:  # a few days on
                while cum[j + 1] < x:
                    j += 1
            else:
                j = bisect_left(cum, x, i + 1) - 1
            weeks = 0
        else:
            x += q * self.week_work
            if x > total:  # after the table: come back by whole weeks
                weeks = (x - total - 1) // self.week_work + 1
                x -= weeks * self.week_work
                j = bisect_left(cum, x, n - 6, n) - 1
            elif x <= 0:  # before the table: go forward by whole weeks
                weeks = -(-x // self.week_work + 1)
                x -= weeks * self.week_work
                j = bisect_left(cum, x, 1, 7) - 1
            else:
                weeks = 0
                j = bisect_left(cum, x, 1, n) - 1
        left = x - cum[j]  # cum[j] < x <= cum[j + 1]: the answer is on day j
        for s, e in self.plans[j].wall:
            if left <= e - s:
                found = self.day0 + j + 7 * weeks
                return found * US_PER_DAY + s + left, found
            left -= e - s
        raise AssertionError("the day's working time holds the rest")  # see cum[j] above

    def work_before(self, day: int, at: int) -> int:
        """Working microseconds from the table's first day to ``at`` microseconds into day
        ``day`` (a day outside the table is moved by whole weeks, and so is the total):
        the working time between two instants is the difference of two of these."""
        i = day - self.day0
        n = len(self.plans)
        q = 0
        if not 0 <= i < n:
            q = (i - n) // 7 + 1 if i >= n else -((-i - 1) // 7 + 1)
            i -= 7 * q
        x = self.cum[i] + q * self.week_work
        for s, e in self.plans[i].wall:
            if at <= s:
                break
            x += (e if at > e else at) - s
        return x

    def add_days(self, day: int, at: int, days: int) -> tuple[int, int]:
        """The end of working hours of the ``days``-th working day after the day of the
        next working moment from ``at`` microseconds into day ``day``, and that day."""
        i = day - self.day0
        n = len(self.plans)
        q = 0  # whole weeks to move day into the table
        if not 0 <= i < n:
            q = (i - n) // 7 + 1 if i >= n else -((-i - 1) // 7 + 1)
            i -= 7 * q
        wall = self.plans[i].wall
        # working days before the day of the answer, counted from the table's start
        g = (self.wdb[i] if wall and at < wall[-1][1] else self.wdb[i + 1]) + days
        wdays = self.wdays
        m = len(wdays)
        weeks = 0
        if q or g >= m:
            g += q * self.week_days
            if g >= m:  # after the table: come back by whole weeks
                weeks = (g - m) // self.week_days + 1
            elif g < 0:  # before the table: go forward by whole weeks
                weeks = -((-g - 1) // self.week_days + 1)
            g -= weeks * self.week_days
        j = wdays[g]
        found = self.day0 + j + 7 * weeks
        return found * US_PER_DAY + self.plans[j].wall[-1][1], found
