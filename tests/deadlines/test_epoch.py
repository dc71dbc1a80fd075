"""Calendar arithmetic on epoch microseconds, as a month's KPIs use it: ``from_epoch``,
``epoch_ordinal``, ``working_clock`` and ``paused_due`` against the datetime forms."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.deadlines.calendar import BusinessCalendar
from triage.deadlines.durations import Duration, compute_due, paused_due, with_pauses

from ..conftest import scale

CALENDARS = triage.load_policy().calendars
BERLIN = BusinessCalendar("berlin", timezone="Europe/Berlin",
                          hours={"mon-fri": ["09:00-18:00"]}, chinese_holidays=False)
ALL = (*CALENDARS.values(), BERLIN)
SETTINGS = settings(max_examples=scale(300, 5_000), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
#: 1990 to 2040 in epoch microseconds: inside and outside the years of fixed offset.
MOMENTS = st.integers(631_152_000_000_000, 2_208_988_800_000_000)
#: Mostly 2025-2027, where the calendars have holiday data.
NEAR = st.integers(1_735_689_600_000_000, 1_830_297_600_000_000)


@SETTINGS
@given(calendar=st.sampled_from(ALL), us=MOMENTS)
def test_from_epoch_and_epoch_ordinal_equal_fromtimestamp(calendar: BusinessCalendar,
                                                          us: int) -> None:
    """The fixed-offset shortcut gives the very datetime ``fromtimestamp`` gives (fields,
    zone, text), and its date."""
    want = datetime.fromtimestamp(us / 1_000_000 if us % 1_000_000 else us // 1_000_000,
                                  calendar.tz)
    got = calendar.from_epoch(us)
    assert got == want and got.isoformat() == want.isoformat() and got.tzinfo is want.tzinfo
    assert calendar.epoch_ordinal(us) == want.toordinal()
    assert calendar.to_epoch(got)[0] == us


@SETTINGS
@given(calendar=st.sampled_from(ALL), a=NEAR, b=NEAR)
def test_working_clocks_subtract_to_the_working_time_between(calendar: BusinessCalendar,
                                                            a: int, b: int) -> None:
    """Two clock readings differ by ``working_time_between`` of the two instants, and
    ``working_us_between`` equals it; a zone with daylight saving has no clock."""
    between = calendar.working_time_between(calendar.from_epoch(a), calendar.from_epoch(b))
    assert calendar.working_us_between(a, b) == between // timedelta(microseconds=1)
    ca, cb = calendar.working_clock(a), calendar.working_clock(b)
    if calendar is BERLIN:
        assert ca is None and cb is None
    else:
        assert ca is not None and cb is not None
        assert cb - ca == between // timedelta(microseconds=1)


@SETTINGS
@given(calendar=st.sampled_from(ALL), start=NEAR,
       within=st.sampled_from(["2wh", "4wh", "1wd", "2wd", "30m", "48h", "3d"]),
       pauses=st.lists(st.tuples(st.integers(-100 * 3_600_000_000, 300 * 3_600_000_000),
                                 st.integers(0, 80 * 3_600_000_000)), max_size=4))
def test_paused_due_equals_with_pauses(calendar: BusinessCalendar, start: int, within: str,
                                       pauses: list[tuple[int, int]]) -> None:
    """The due time moved by pauses, in epoch µs, is ``with_pauses``'s due time."""
    duration = Duration.parse(within)
    begin = calendar.from_epoch(start)
    base = compute_due(calendar, begin, duration)
    spans = [(start + offset, start + offset + length) for offset, length in pauses]
    want = with_pauses(calendar, base,
                       [(calendar.from_epoch(s), calendar.from_epoch(e)) for s, e in spans])
    got = paused_due(calendar, start, calendar.to_epoch(base.due)[0], duration, spans)
    assert got == calendar.to_epoch(want.due)[0]
