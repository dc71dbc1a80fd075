"""A case's marks: what its events add up to, kept beside the case so KPIs need no replay.

``marks_of(events)`` folds a case's events (in time order) into the few times and facts
the monthly KPIs read: its state and satisfaction, when each milestone an event meets was
first met (a reopening forgets the met answer, resolution and follow-up), the first
answer, contact and resolution, the first time staff took it on, its pauses and its last
event, every time as epoch microseconds (UTC). Both stores rewrite a case's marks from
all its events in the transaction that appends to it, so the marks always equal a fold
of the events however they were batched or dated; migration 3 fills them for older
stores. The ``case_marks`` row also keeps the decision's deadlines, as their plan
(milestones, labels, calendars and lengths: the same for most cases, so a read decodes
each plan once) and their due times, so that a month is read without decisions or events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from ..status import EVENT_MEETS, REOPENS
from .case import CaseState, fold
from .events import STATUS_KINDS, CaseEvent

#: The milestones a stored event can meet, in column order (``triage.status.EVENT_MEETS``
#: of the kinds ``STATUS_KINDS`` maps to).
MET_MILESTONES: tuple[str, ...] = tuple(dict.fromkeys(
    EVENT_MEETS[k] for k in STATUS_KINDS.values() if k in EVENT_MEETS))
#: Kinds whose first occurrence is kept whatever came after it.
FIRST_KINDS: tuple[str, ...] = ("answered", "contacted", "resolved")
#: Kinds that mean staff took the case on (a repeat complaint needs an earlier one).
ENGAGED_KINDS = frozenset({"accepted", "contacted", "answered"})
#: The columns of ``case_marks`` that its events set, in order (after ``case_id``).
MARK_COLUMNS: tuple[str, ...] = (
    "last_at", "state", "satisfaction", "engaged_at",
    *(f"met_{m}" for m in MET_MILESTONES), *(f"first_{k}" for k in FIRST_KINDS), "pauses")
#: A stored deadline's plan as KPIs read it: milestone, label, calendar and its length
#: (``within``: ``2wd``; None in stores older than lengths). Its due time is apart.
PlannedDeadline = tuple[str, str, str, str | None]
#: Pauses as (paused, resumed) epoch µs; a pause still running ends in None.
Pauses = tuple[tuple[int, int | None], ...]
_KIND_MEETS: Mapping[str, str] = {
    kind: EVENT_MEETS[status] for kind, status in STATUS_KINDS.items() if status in EVENT_MEETS}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


class Marks(NamedTuple):
    """What a case's events add up to, and its deadlines (times in epoch µs, UTC).

    ``met``: for each of ``MET_MILESTONES``, when an event first met it since the last
    reopening (None: not met); ``first``: for each of ``FIRST_KINDS`` (answered,
    contacted, resolved), its first event; ``plan`` and ``dues``: the deadlines, and
    the due time of each."""

    last_at: int
    state: CaseState
    satisfaction: int | None
    engaged_at: int | None
    met: tuple[int | None, ...]
    first: tuple[int | None, ...]
    pauses: Pauses
    plan: tuple[PlannedDeadline, ...] = ()
    dues: tuple[int, ...] = ()

    @property
    def paused(self) -> bool:
        """Whether the case was ever paused (its due times then move)."""
        return bool(self.pauses)


def marks_of(events: Sequence[CaseEvent]) -> Marks:
    """The marks of a case whose events are ``events``, already in time order (at least
    its ``received`` event); no deadlines."""
    met: dict[str, int] = {}
    first: dict[str, int] = {}
    pauses: list[tuple[int, int | None]] = []
    paused_at: int | None = None
    engaged: int | None = None
    for event in events:
        kind = event.kind
        at = micros(event.at)
        if kind == "reopened":
            for reopened in REOPENS:
                met.pop(reopened, None)
            continue
        if kind == "paused":
            if paused_at is None:
                paused_at = at
        elif kind == "resumed" and paused_at is not None:
            pauses.append((paused_at, at))
            paused_at = None
        if engaged is None and kind in ENGAGED_KINDS:
            engaged = at
        if kind in FIRST_KINDS:
            first.setdefault(kind, at)
        meets = _KIND_MEETS.get(kind)
        if meets is not None:
            met.setdefault(meets, at)
    if paused_at is not None:
        pauses.append((paused_at, None))
    state, _, satisfaction, _ = fold(events)
    return Marks(micros(events[-1].at), state, satisfaction, engaged,
                 tuple(met.get(m) for m in MET_MILESTONES),
                 tuple(first.get(k) for k in FIRST_KINDS), tuple(pauses))


def deadline_columns(decision: Mapping[str, Any]) -> tuple[str, str]:
    """The ``deadline_plan`` and ``deadline_dues`` columns of a stored decision: a JSON
    list of ``PlannedDeadline`` and the due times (epoch µs) joined by commas."""
    deadlines = decision.get("deadlines", ())
    plan = json.dumps([[d["milestone"], d.get("label", d["milestone"]), d["calendar"],
                        d.get("within")] for d in deadlines],
                      ensure_ascii=False, separators=(",", ":"))
    return plan, ",".join(str(micros(datetime.fromisoformat(d["due"]))) for d in deadlines)


def mark_values(marks: Marks) -> tuple[Any, ...]:
    """The values of ``MARK_COLUMNS`` for ``marks``."""
    pauses = json.dumps([list(p) for p in marks.pauses]) if marks.pauses else None
    return (marks.last_at, marks.state, marks.satisfaction, marks.engaged_at, *marks.met,
            *marks.first, pauses)


_FIRST_AT = 4 + len(MET_MILESTONES)
_PAUSES_AT = _FIRST_AT + len(FIRST_KINDS)


class MarkedCase(NamedTuple):
    """A case as a month's KPIs read it: the decision's fields they group and count by,
    ``received_at`` in epoch µs, and its ``marks`` (None for a case not marked)."""

    case_id: str
    customer: str
    received_at: int
    request_type: str
    category: str
    subcategory: str | None
    product: str | None
    owner_team: str
    handling: str
    severity: str
    flags: tuple[str, ...]
    channel: str | None
    marks: Marks | None


#: The columns of ``cases`` a ``MarkedCase`` holds, in order.
MARKED_CASE_COLUMNS: tuple[str, ...] = MarkedCase._fields[:-1]


def marks_from(row: Sequence[Any], plan: str | None, dues: str | None,
               plans: dict[str, tuple[PlannedDeadline, ...]]) -> Marks | None:
    """``Marks`` from a row in ``MARK_COLUMNS`` order and the two deadline columns (None:
    a row of no marks, as a LEFT JOIN gives for a case the store has not marked);
    ``plans`` holds the plans decoded so far in this read."""
    if row[0] is None or plan is None or dues is None:
        return None
    text = row[_PAUSES_AT]
    pauses: Pauses = () if text is None else tuple(
        (s, e) for s, e in json.loads(text))
    planned = plans.get(plan)
    if planned is None:
        planned = plans[plan] = tuple(tuple(d) for d in json.loads(plan))
    return Marks(row[0], row[1], row[2], row[3], tuple(row[4:_FIRST_AT]),
                 tuple(row[_FIRST_AT:_PAUSES_AT]), pauses, planned,
                 tuple(map(int, dues.split(","))) if dues else ())


def micros(moment: datetime) -> int:
    """An aware time as whole microseconds since 1970 UTC (exact, and ordered)."""
    return (moment - _EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    """Epoch microseconds as an aware UTC datetime."""
    return _EPOCH + value * _MICRO
