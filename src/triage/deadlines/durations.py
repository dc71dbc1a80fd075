"""Deadline lengths (``30m``, ``48h``, ``3d``, ``2wd``, ``4wh``, ``same_day``) and due times.

``compute_due`` turns a start time and a ``Duration`` into a ``DueTime``: the deadline
and the immutable list of ``Step``s that put it there (receipt after hours, each weekend,
holiday and lunch break skipped, each working day counted), so an explanation can show
why the deadline falls where it does. The conventions are in ``docs/deadlines.md``:

* ``Nm``/``Nh``: elapsed time, the calendar is not consulted;
* ``Nd``: the end (24:00 local) of the Nth calendar day after the day of receipt;
* ``Nwd``: the end of working hours of the Nth working day after the day counting starts
  (the receipt day, or the next working day when received after hours or on a day off);
* ``Nwh``/``Nwm``: N hours/minutes of working time from the next working moment;
* ``same_day``: the end of working hours of the day counting starts (``0wd``).

Working-time units are read from the calendar's table (``add_working_time``,
``add_working_days``) where it reaches; the walk day by day is the reference, and is what
records the steps, on first read, and answers where the table does not reach.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, Literal

from .._frozen import positional_builder
from ..errors import CalendarError
from .calendar import BusinessCalendar
from .datefmt import format_date, format_due, format_hhmm, format_length, format_moment
from .days import MAX_SCAN_DAYS, US_PER_MINUTE, DayPlan

Unit = Literal["m", "h", "d", "wm", "wh", "wd", "same_day"]

#: Largest amount accepted for each unit (a guard against typos such as ``2000wd``).
MAX_AMOUNT: dict[str, int] = {
    "m": 1_000_000, "h": 20_000, "d": 1_000, "wm": 1_000_000, "wh": 20_000, "wd": 1_000,
}
_UNIT_US = {"m": US_PER_MINUTE, "h": 60 * US_PER_MINUTE,
            "wm": US_PER_MINUTE, "wh": 60 * US_PER_MINUTE}
_MIDNIGHT = time(0)
_CLOCK_UNITS = frozenset({"m", "h"})
_DAY_UNITS = frozenset({"wd", "same_day"})
_WORKING_UNITS = frozenset({"wm", "wh", "wd", "same_day"})
_DURATION = re.compile(r"^(\d+)\s*(wd|wh|wm|m|h|d)$")
_UNIT_NAMES = {"m": "分钟", "h": "小时", "d": "天", "wm": "工作分钟", "wh": "工作小时",
               "wd": "个工作日"}


@dataclass(frozen=True, slots=True)
class Duration:
    """A deadline length as a policy writes it: ``30m``, ``48h``, ``3d``, ``2wd``, ``4wh``."""

    amount: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read ``30m``, ``2h``, ``3d``, ``2wd``, ``4wh``, ``90wm`` or ``same_day``."""
        raw = text.strip().lower() if isinstance(text, str) else text
        if raw == "same_day":
            return cls(0, "same_day")
        m = _DURATION.match(raw) if isinstance(raw, str) else None
        if m is None:
            raise CalendarError(
                f"{text!r} is not a duration: expected a whole number and a unit, m (minutes), "
                "h (hours), d (calendar days), wd (working days), wh (working hours) or wm "
                "(working minutes), e.g. 30m, 48h, 3d, 2wd, 4wh; or same_day",
                code="bad_duration",
            )
        amount, unit = int(m.group(1)), m.group(2)
        if amount < 1:
            raise CalendarError(f"{text!r}: a duration must be at least 1{unit}; "
                                "use same_day for the end of today's working hours",
                                code="bad_duration")
        if amount > MAX_AMOUNT[unit]:
            raise CalendarError(f"{text!r} is too long: at most {MAX_AMOUNT[unit]}{unit}",
                                code="bad_duration")
        return cls(amount, unit)  # type: ignore[arg-type]

    @property
    def uses_calendar(self) -> bool:
        """True for working-time units (wd, wh, wm, same_day), False for m, h, d."""
        return self.unit in _WORKING_UNITS

    def __str__(self) -> str:
        return "same_day" if self.unit == "same_day" else f"{self.amount}{self.unit}"


def parse_duration(text: str) -> Duration:
    """The ``Duration`` written as ``text``; raises ``CalendarError`` (``bad_duration``)."""
    return Duration.parse(text)


StepKind = Literal[
    "start", "anchor", "shift", "weekend", "holiday", "day_off", "break", "workday",
    "makeup", "half_day", "clock", "calendar_days", "pause", "due",
]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a deadline's derivation; ``label`` says it in Chinese.

    ``at``/``until`` are aware local datetimes (for skipped days, the midnights around
    them); ``count`` numbers a working day, ``amount`` is the time a step counts,
    ``note`` a holiday name, the reason for a shift or a pause, or an anchor's name.
    """

    kind: StepKind
    at: datetime
    until: datetime | None = None
    note: str | None = None
    count: int | None = None
    amount: timedelta | None = None

    @property
    def label(self) -> str:
        """The step as one Chinese sentence, e.g. ``跳过周末：11月21日(周六)–11月22日(周日)``."""
        k = self.kind
        if k == "start":
            return f"收到：{format_moment(self.at)}"
        if k == "anchor":
            return f"从「{self.note}」的期限（{format_due(self.at)}）起算"
        if k == "shift":
            return f"{self.note}，从下一个工作时间 {format_moment(self.at)} 起算"
        if k in ("weekend", "holiday", "day_off"):
            return self._skip_label()
        if k in ("workday", "makeup", "half_day"):
            return self._work_label()
        if k == "break":
            until = self.until or self.at
            return f"跳过休息时间 {format_hhmm(self.at)}–{format_hhmm(until, day_end=True)}"
        if k == "clock":
            return f"加 {format_length(self.amount or timedelta(0))}（自然时间，不看工作日历）"
        if k == "calendar_days":
            last = self.at.date() - timedelta(days=1)
            return f"加 {self.count} 个自然日，到 {format_date(last)} 当天结束"
        if k == "pause":
            until = self.until or self.at
            why = f"（{self.note}）" if self.note else ""
            return (f"暂停 {format_moment(self.at)}–{format_moment(until)}{why}，"
                    f"期限顺延 {format_length(self.amount or timedelta(0))}")
        return f"期限：{format_due(self.at)}"

    def _skip_label(self) -> str:
        first = self.at.date()
        last = (self.until or self.at).date() - timedelta(days=1)
        what = {"weekend": "周末", "day_off": "休息日"}.get(self.kind)
        if what is None:
            what = f"{self.note}假期" if self.note else "节假日"
        if last <= first:
            return f"跳过{what}：{format_date(first)}"
        days = (last - first).days + 1
        return f"跳过{what}：{format_date(first)}–{format_date(last)}，共{days}天"

    def _work_label(self) -> str:
        if self.kind == "makeup":
            extra = f"（{self.note or ''}调休上班）"
        elif self.kind == "half_day":
            extra = "（半天工作）"
        else:
            extra = ""
        if self.amount is not None:
            until = self.until or self.at
            span = f"{format_hhmm(self.at)}–{format_hhmm(until, day_end=True)}"
            return (f"{format_date(self.at.date())}{extra} {span}，"
                    f"计 {format_length(self.amount)}")
        if not self.count:
            return f"当天 {format_date(self.at.date())}{extra}，到下班为止"
        return f"第 {self.count} 个工作日：{format_date(self.at.date())}{extra}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "at": self.at.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "note": self.note,
            "count": self.count,
            "amount_minutes": None if self.amount is None else self.amount / timedelta(minutes=1),
        }


#: One step in compact form, ``(kind, a, b, note, count, amount)``: ``a``/``b`` are epoch
#: microseconds, or date ordinals for day steps (those with a ``count`` or of a day-off
#: kind); turned into ``Step``s only when an explanation is asked for.
RawStep = tuple[str, int, int, str | None, int | None, int | None]

_SKIP_KINDS = frozenset({"weekend", "holiday", "day_off"})


@dataclass(frozen=True, slots=True)
class DueTime:
    """A computed deadline: when it falls, from which start, and the steps that put it there.

    ``warnings`` are set when a year without holiday data was assumed to have ordinary
    weekends; they carry over to deadlines anchored on this one. ``steps`` is built from
    the compact ``trace`` on demand, so computing a deadline stays cheap.
    """

    calendar: str
    duration: Duration
    start: datetime
    due: datetime
    warnings: tuple[str, ...]
    milestone: str | None
    raw_trace: tuple[RawStep, ...] | None = field(repr=False, compare=False, default=None)
    retrace: Callable[[], tuple[RawStep, ...]] | None = field(
        repr=False, compare=False, default=None)
    #: The steps in JSON form, once asked for (``step_dicts``).
    json_steps: tuple[dict[str, Any], ...] | None = field(
        repr=False, compare=False, default=None)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle the steps themselves, not the calendar needed to record them again.
        return (DueTime, (self.calendar, self.duration, self.start, self.due, self.warnings,
                          self.milestone, self.trace))

    @property
    def trace(self) -> tuple[RawStep, ...]:
        """The compact derivation; recorded on first use by computing the deadline again
        with recording on (the same result: the computation is deterministic)."""
        raw = self.raw_trace
        if raw is None:
            assert self.retrace is not None
            raw = self.retrace()
            object.__setattr__(self, "raw_trace", raw)  # a cache of a pure function
        return raw

    @property
    def steps(self) -> tuple[Step, ...]:
        """The derivation, first step the start, last step the due time."""
        return tuple(self._step(raw) for raw in self.trace)

    def step_dicts(self) -> list[dict[str, Any]]:
        """The steps in JSON form, new dicts each call; worked out once per deadline, which
        a planner hands to every complaint received at the same instant (the explanation
        of the same steps, labels included, was most of ``route --explain``'s deadlines)."""
        kept = self.json_steps
        if kept is None:
            kept = tuple(s.to_dict() for s in self.steps)
            object.__setattr__(self, "json_steps", kept)  # a cache of a pure function
        return [dict(d) for d in kept]

    def _step(self, raw: RawStep) -> Step:
        kind, a, b, note, count, amount = raw
        k: StepKind = kind  # type: ignore[assignment]
        tz = self.start.tzinfo
        span = None if amount is None else timedelta(microseconds=amount)

        def at(us: int) -> datetime:
            return datetime.fromtimestamp(us / 1_000_000, tz)

        def midnight(ordinal: int) -> datetime:
            return datetime.combine(date.fromordinal(ordinal), _MIDNIGHT, tz)

        if kind in ("start", "anchor"):
            return Step(k, self.start, note=note)
        if kind in ("due", "calendar_days"):
            return Step(k, self.due, count=count)
        if kind == "clock":
            return Step(k, self.start, self.due, amount=span)
        if kind in _SKIP_KINDS:
            return Step(k, midnight(a), midnight(b), note=note)
        if count is not None:
            return Step(k, midnight(a), note=note, count=count)
        if kind == "shift":
            return Step(k, at(a), note=note)
        return Step(k, at(a), at(b), note=note, amount=span)

    def explain(self) -> str:
        """The derivation, one Chinese line per step, then the warnings."""
        lines = [s.label for s in self.steps]
        lines.extend(f"注意：{w}" for w in self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "milestone": self.milestone,
            "calendar": self.calendar,
            "duration": str(self.duration),
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
            "due_text": format_due(self.due),
            "steps": self.step_dicts(),
            "warnings": list(self.warnings),
        }


#: ``DueTime`` from its 9 field values, positionally (computed for every milestone).
_new_due = positional_builder(DueTime)


@dataclass(frozen=True, slots=True)
class Pause:
    """A stretch when the clock stops: waiting on the customer, lab testing..."""

    start: datetime
    end: datetime
    reason: str | None = None


class _Trace:
    """Collects raw steps during one computation, merging runs of days off into one."""

    __slots__ = ("pending", "steps")

    def __init__(self, first: RawStep) -> None:
        self.steps: list[RawStep] = [first]
        self.pending: list[Any] | None = None

    def skip(self, ordinal: int, plan: DayPlan) -> None:
        p = self.pending
        if p is not None and p[0] == plan.kind and p[3] == plan.name and p[2] == ordinal:
            p[2] = ordinal + 1
            return
        self.flush()
        self.pending = [plan.kind, ordinal, ordinal + 1, plan.name]

    def flush(self) -> None:
        p = self.pending
        if p is not None:
            self.pending = None
            self.steps.append((p[0], p[1], p[2], p[3], None, None))

    def add(self, raw: RawStep) -> None:
        if self.pending is not None:
            self.flush()
        self.steps.append(raw)


class _NoTrace(_Trace):
    """A recorder that keeps nothing: the fast path, when no one has asked for the steps."""

    __slots__ = ()

    def skip(self, ordinal: int, plan: DayPlan) -> None:
        pass

    def flush(self) -> None:
        pass

    def add(self, raw: RawStep) -> None:
        pass


def compute_due(
    calendar: BusinessCalendar,
    start: datetime | DueTime,
    duration: Duration | str,
    *,
    milestone: str | None = None,
) -> DueTime:
    """The deadline ``duration`` after ``start`` on ``calendar``, with its derivation.

    ``start`` is a receipt time (aware; a naive one is read in the calendar's zone) or
    another ``DueTime``, for a milestone anchored on another (follow-up = resolution +
    2d): counting then starts at that deadline and its warnings carry over. Raises
    ``CalendarError`` for a bad duration, or for a year without holiday data when the
    calendar's ``beyond_data`` is ``error``. The steps are recorded only when read.
    """
    return _compute(calendar, start, duration, milestone, False)


def _compute(calendar: BusinessCalendar, start: datetime | DueTime, duration: Duration | str,
             milestone: str | None, traced: bool) -> DueTime:
    """The deadline; ``traced``: walked day by day with its steps recorded (the reference),
    else from the calendar's table when it covers the dates, steps recorded when read."""
    cal = calendar
    dur = duration if isinstance(duration, Duration) else Duration.parse(duration)
    if isinstance(start, DueTime):
        origin = start.due
        first: RawStep = ("anchor", 0, 0, start.milestone or "上一期限", None, None)
        inherited = start.warnings
    else:
        origin = start
        first = _START
        inherited = ()
    tz = cal.tz
    unit = dur.unit
    if origin.tzinfo is not tz and origin.tzinfo is not None:
        origin = origin.astimezone(tz)  # the same instant, as from_epoch(to_epoch) gives
    if origin.tzinfo is tz:
        local = origin
        us, o = (0, origin.toordinal()) if unit == "d" else cal.to_epoch(origin)
    else:  # naive: read in the calendar's zone
        us, o = cal.to_epoch(origin)
        local = cal.from_epoch(us)
    if unit in _CLOCK_UNITS:
        step = _UNIT_US[unit] * dur.amount
        due = cal.from_epoch(us + step)
        clock: tuple[RawStep, ...] = (first, ("clock", 0, 0, None, None, step), _DUE)
        return _new_due(cal.name, dur, local, due, inherited, milestone, clock, None, None)
    if unit == "d":
        if first[0] == "anchor" and local.time() == _MIDNIGHT:
            o -= 1  # an anchor due at 24:00 is the end of the day before, not the next day
        due = cal.midnight(o + dur.amount + 1)
        days: tuple[RawStep, ...] = (first, ("calendar_days", 0, 0, None, dur.amount, None), _DUE)
        return _new_due(cal.name, dur, local, due, inherited, milestone, days, None, None)

    found = None
    if not traced:
        found = (cal.add_working_days(us, o, dur.amount) if unit in _DAY_UNITS
                 else cal.add_working_time(us, o, dur.amount * _UNIT_US[unit]))
    rec = _Trace(first) if traced else None
    if found is None:  # the walk, day by day
        walk = _NoTrace(first) if rec is None else rec
        us2, o2 = _shift(cal, walk, us, o)
        if unit in _DAY_UNITS:
            found = _count_days(cal, walk, o2, dur.amount)
        else:
            found = _advance(cal, walk, us2, o2, dur.amount * _UNIT_US[unit])
    warnings = cal.check_years(o, found[1])
    if inherited:
        warnings = _merge(inherited, warnings)
    if rec is not None:
        rec.add(_DUE)
        return DueTime(cal.name, dur, local, cal.from_epoch(found[0]), warnings, milestone,
                       tuple(rec.steps))
    return _new_due(cal.name, dur, local, cal.from_epoch(found[0]), warnings, milestone, None,
                    partial(_retrace, cal, start, dur, milestone), None)


def _retrace(cal: BusinessCalendar, start: datetime | DueTime, dur: Duration,
             milestone: str | None) -> tuple[RawStep, ...]:
    return _compute(cal, start, dur, milestone, True).trace


_DUE: RawStep = ("due", 0, 0, None, None, None)
_START: RawStep = ("start", 0, 0, None, None, None)


def _merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(w for w in b if w not in a) if b else a


def _shift(cal: BusinessCalendar, rec: _Trace, us: int, o: int) -> tuple[int, int]:
    """Move to the next working moment, recording why and the days off passed over."""
    us2, o2 = cal.next_moment(us, o)
    if us2 == us:
        return us2, o2
    spans = cal.spans(o)
    if not spans:
        reason = f"收到时是{cal.plan(o).label}"
    elif us < spans[0][0]:
        reason = "上班前收到"
    elif us >= spans[-1][1]:
        reason = "下班后收到"
    else:
        reason = "休息时间收到"
    for d in range(o if not spans else o + 1, o2):
        rec.skip(d, cal.plan(d))
    rec.add(("shift", us2, us2, reason, None, None))
    return us2, o2


def _count_days(cal: BusinessCalendar, rec: _Trace, o: int, n: int) -> tuple[int, int]:
    """End of working hours of the ``n``th working day after local date ``o``."""
    day, count = o, 0
    if n == 0:
        plan = cal.plan(day)
        rec.add((plan.kind, day, day, plan.name, 0, None))
    while count < n:
        day += 1
        if day - o > MAX_SCAN_DAYS:
            raise _runaway(cal)
        plan = cal.plan(day)
        if plan.hours:
            count += 1
            rec.add((plan.kind, day, day, plan.name, count, None))
        else:
            rec.skip(day, plan)
    base, pairs = cal.frame(day)
    return base + pairs[-1][1], day


def _advance(cal: BusinessCalendar, rec: _Trace, us: int, o: int, need: int) -> tuple[int, int]:
    """The instant after ``need`` microseconds of working time from working moment ``us``."""
    t = us
    for day in range(o, o + MAX_SCAN_DAYS):
        base, pairs = cal.frame(day)
        if not pairs:
            rec.skip(day, cal.plan(day))
            continue
        plan = cal.plan(day)
        prev = -1
        for s0, e0 in pairs:
            s, e = base + s0, base + e0
            if e <= t:
                continue
            if prev >= 0:
                rec.add(("break", prev, s, None, None, None))
            begin = s if s > t else t
            avail = e - begin
            if need <= avail:
                rec.add((plan.kind, begin, begin + need, plan.name, None, need))
                return begin + need, day
            rec.add((plan.kind, begin, e, plan.name, None, avail))
            need -= avail
            prev = t = e
    raise _runaway(cal)


def _runaway(cal: BusinessCalendar) -> CalendarError:
    return CalendarError(f"calendar {cal.name!r}: no end found within {MAX_SCAN_DAYS} days",
                         code="no_working_hours", calendar=cal.name)


def _normalise(pauses: Iterable[Pause | tuple[datetime, datetime]], cal: BusinessCalendar,
               t0: int) -> tuple[list[Pause], list[tuple[int, int]]]:
    """The pauses as given (as ``Pause``) and their union from ``t0`` on, sorted, merged."""
    items = [p if isinstance(p, Pause) else Pause(p[0], p[1]) for p in pauses]
    raw = sorted((max(cal.to_epoch(p.start)[0], t0), cal.to_epoch(p.end)[0]) for p in items)
    return items, _union(raw)


def _union(raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans merged where they overlap or touch; empty ones dropped."""
    merged: list[tuple[int, int]] = []
    for s, e in raw:
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def due_with_pauses(
    calendar: BusinessCalendar,
    start: datetime | DueTime,
    duration: Duration | str,
    pauses: Iterable[Pause | tuple[datetime, datetime]],
    *,
    milestone: str | None = None,
) -> DueTime:
    """The deadline of ``compute_due`` with the clock stopped during ``pauses``.

    For working-time units the deadline moves by the working time paused (the time
    before the deadline is spent only outside pauses); for m, h and d by the elapsed
    time paused. Pauses may overlap and may start before ``start``; only the part after
    ``start`` counts. The steps list each pause and how far it moved the deadline.
    """
    base = compute_due(calendar, start, duration, milestone=milestone)
    return with_pauses(calendar, base, pauses)


def with_pauses(calendar: BusinessCalendar, base: DueTime,
                pauses: Iterable[Pause | tuple[datetime, datetime]], *,
                since: datetime | None = None) -> DueTime:
    """``base`` moved later by the time paused between ``since`` (default: its start) and it.

    Paused time is measured as ``base`` is: working time for working-time units, elapsed
    time for m, h and d; so the deadline moves by at most the pauses' own length. Give the
    case's receipt as ``since`` for a milestone anchored on another, so that pauses before
    the anchor's due time count once, and the anchor's rounding to the end of a day does
    not turn a short pause into a day.
    """
    cal = calendar
    t0, o0 = cal.to_epoch(base.start if since is None else since)
    items, merged = _normalise(pauses, cal, t0)
    if not merged:
        return base
    due_us, last = _moved(cal, t0, o0, cal.to_epoch(base.due)[0], base.duration, merged)
    warnings = _merge(base.warnings, cal.check_years(o0, last)) \
        if base.duration.uses_calendar else base.warnings
    due = cal.from_epoch(due_us)
    pause_steps: list[RawStep] = []
    for p in sorted(items, key=lambda p: p.start):
        s, os_ = cal.to_epoch(p.start)
        e, oe = cal.to_epoch(p.end)
        lo, hi = max(s, t0), min(e, due_us)
        if hi <= lo:
            continue
        moved = cal.working_us(lo, hi, os_, oe) if base.duration.uses_calendar else hi - lo
        pause_steps.append(("pause", s, e, p.reason, None, moved))
    trace = (*base.trace[:-1], *pause_steps, _DUE)
    return DueTime(cal.name, base.duration, base.start, due, warnings, base.milestone, trace)


def paused_due(calendar: BusinessCalendar, start: int, due: int, duration: Duration,
               pauses: Iterable[tuple[int, int]]) -> int:
    """The due time ``due`` (set ``duration`` after ``start``) moved later by the time
    paused after ``start``, all in epoch microseconds: the due time ``with_pauses``
    gives, without its steps and warnings (what a month's KPIs need of a paused case)."""
    merged = _union(sorted((max(s, start), e) for s, e in pauses))
    if not merged:
        return due
    return _moved(calendar, start, calendar.epoch_ordinal(start), due, duration, merged)[0]


def _moved(cal: BusinessCalendar, t0: int, o0: int, due: int, duration: Duration,
           merged: list[tuple[int, int]]) -> tuple[int, int]:
    """The due time ``due`` (epoch µs) and its local date, moved by the ``merged``
    pauses: by the working time paused for working-time units, by the elapsed time for
    m, h and d."""
    if duration.uses_calendar:
        need = cal.working_us(t0, due, o0, cal.epoch_ordinal(due))
        return _advance_around(cal, t0, o0, need, merged)
    return _elapsed_around(t0, due - t0, merged), o0


def _advance_around(cal: BusinessCalendar, t0: int, o0: int, need: int,
                    pauses: list[tuple[int, int]]) -> tuple[int, int]:
    """The instant after ``need`` microseconds of working time outside ``pauses``."""
    if need <= 0:
        return t0, o0
    t = t0
    for day in range(o0, o0 + MAX_SCAN_DAYS):
        for s, e in cal.spans(day):
            if e <= t:
                continue
            lo = s if s > t else t
            for ps, pe in pauses:
                if pe <= lo or ps >= e:
                    continue
                if ps > lo:
                    if need <= ps - lo:
                        return lo + need, day
                    need -= ps - lo
                lo = pe
                if lo >= e:
                    break
            if lo < e:
                if need <= e - lo:
                    return lo + need, day
                need -= e - lo
            t = e
    raise _runaway(cal)


def _elapsed_around(t0: int, need: int, pauses: list[tuple[int, int]]) -> int:
    """The instant ``need`` microseconds after ``t0`` with the clock stopped in ``pauses``."""
    t = t0
    for ps, pe in pauses:
        if ps - t >= need:
            break
        need -= ps - t
        t = pe
    return t + need


def remaining(calendar: BusinessCalendar, due: DueTime, now: datetime) -> timedelta:
    """Time left before ``due`` at ``now`` (negative: overdue by that much).

    Working time for working-time units, elapsed time for m, h and d.
    """
    if due.duration.uses_calendar:
        return calendar.working_time_between(now, due.due)
    return due.due - calendar.localize(now)


def describe(duration: Duration) -> str:
    """The duration in Chinese: ``2个工作日``, ``4工作小时``, ``48小时``, ``当天``."""
    if duration.unit == "same_day":
        return "当天"
    return f"{duration.amount}{_UNIT_NAMES[duration.unit]}"
