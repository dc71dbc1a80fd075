"""Where a case stands: each milestone met, pending or breached, and who owns it now.

``Policy.status(decision, events, now)`` replays the case's events (acknowledged,
contacted, paused, resumed, resolved, customer_rejected, reopened...) against the
decision's deadlines. Time in which the case waits on the customer or on lab testing
(between ``paused`` and ``resumed``) does not count: each due time moves by the business
time paused (a milestone counted after another moves with the pauses before it too).
The policy's escalation triggers then give the escalation level: level 0 is
the owner, level ``n`` the ``n``-th role of the decision's escalation chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from .deadlines.calendar import BusinessCalendar
from .deadlines.durations import Duration, Pause, remaining, with_pauses
from .deadlines.escalation import EscalationTrigger
from .decision import Decision, RoleRef
from .errors import EventError, did_you_mean

EventKind = Literal["acknowledged", "contacted", "answered", "contained", "analysed",
                    "resolved", "followed_up", "called_back", "met", "paused", "resumed",
                    "customer_rejected", "reopened"]
State = Literal["met", "pending", "breached"]

#: The milestone each event meets (``met`` names its milestone itself).
EVENT_MEETS: Mapping[str, str] = {
    "acknowledged": "first_response", "contacted": "first_contact", "answered": "answer",
    "contained": "containment", "analysed": "analysis", "resolved": "resolution",
    "followed_up": "follow_up", "called_back": "callback",
}
#: Milestones that a ``reopened`` event makes pending again.
REOPENS = frozenset({"resolution", "follow_up", "answer"})


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a case, at a time (aware; naive is read in the zone)."""

    kind: EventKind
    at: datetime
    milestone: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MilestoneStatus:
    """One deadline at ``now``: its state, due time after pauses, and business time left."""

    milestone: str
    label: str
    state: State
    due: datetime
    met_at: datetime | None
    left: timedelta
    calendar: str

    def to_dict(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "label": self.label, "state": self.state,
                "due": self.due.isoformat(),
                "met_at": self.met_at.isoformat() if self.met_at else None,
                "left_seconds": int(self.left.total_seconds()), "calendar": self.calendar}


@dataclass(frozen=True, slots=True)
class CaseStatus:
    """A case at ``now``: every milestone, the escalation level and who is responsible."""

    complaint_id: str
    now: datetime
    milestones: tuple[MilestoneStatus, ...]
    level: int
    responsible: RoleRef
    triggers: tuple[str, ...]
    rejections: int
    paused: bool

    def milestone(self, name: str) -> MilestoneStatus:
        return next(m for m in self.milestones if m.milestone == name)

    def to_dict(self) -> dict[str, Any]:
        return {"complaint_id": self.complaint_id, "now": self.now.isoformat(),
                "milestones": [m.to_dict() for m in self.milestones], "level": self.level,
                "responsible": self.responsible.to_dict(), "triggers": list(self.triggers),
                "rejections": self.rejections, "paused": self.paused}


def case_status(decision: Decision, events: Iterable[Event | Mapping[str, Any]], now: datetime,
                calendars: Mapping[str, BusinessCalendar],
                triggers: Iterable[EscalationTrigger],
                milestones: Iterable[str] = ()) -> CaseStatus:
    """The status of ``decision``'s case at ``now``, from the events up to ``now``.

    Events are ``Event``s or dicts of the same fields (``at`` a datetime or ISO text);
    each is checked (kind, milestone, a time not before receipt) and a wrong one raises
    ``EventError`` naming it, rather than being ignored or counted as met.
    """
    any_calendar = next(iter(calendars.values()), None)

    def aware(moment: datetime) -> datetime:
        if moment.tzinfo is not None or any_calendar is None:
            return moment
        return any_calendar.localize(moment)

    now = aware(now)
    known = set(milestones) | {d.milestone for d in decision.deadlines}
    received = decision.received_at or min(
        (d.derivation.start for d in decision.deadlines if d.after is None), default=None)
    checked = [_checked(i, item, known, received, aware) for i, item in
               enumerate(events, start=1)]
    timeline = sorted((e for e in checked if aware(e.at) <= now), key=lambda e: aware(e.at))
    met: dict[str, datetime] = {}
    pauses: list[Pause] = []
    paused_at: datetime | None = None
    rejections = 2 if "rejected_answers" in decision.flags else 0
    for event in timeline:
        at = aware(event.at)
        kind = event.kind
        if kind == "paused" and paused_at is None:
            paused_at = at
        elif kind == "resumed" and paused_at is not None:
            pauses.append(Pause(paused_at, at, event.note))
            paused_at = None
        elif kind == "customer_rejected":
            rejections += 1
        elif kind == "reopened":
            for reopened in REOPENS:
                met.pop(reopened, None)
        else:
            name = event.milestone if kind == "met" else EVENT_MEETS.get(kind)
            if name is not None:
                met.setdefault(name, at)
    if paused_at is not None:  # still waiting: the clock stands still until now
        pauses.append(Pause(paused_at, now, "进行中"))

    received = min((d.derivation.start for d in decision.deadlines if d.after is None),
                   default=None)
    out: list[MilestoneStatus] = []
    for deadline in decision.deadlines:
        calendar = calendars[deadline.calendar]
        due = with_pauses(calendar, deadline.derivation, pauses,
                          since=received if deadline.after is not None else None)
        met_at = met.get(deadline.milestone)
        if met_at is not None:
            state: State = "met" if met_at <= due.due else "breached"
            left = remaining(calendar, due, met_at)
        else:
            left = remaining(calendar, due, now)
            state = "pending" if now <= due.due else "breached"
        out.append(MilestoneStatus(deadline.milestone, deadline.label, state, due.due, met_at,
                                   left, deadline.calendar))

    fired: list[EscalationTrigger] = [t for t in triggers if _holds(t, out, rejections,
                                                                     decision.severity)]
    level = min(max((t.levels for t in fired), default=0), len(decision.escalation))
    responsible = decision.owner if level == 0 else decision.escalation[level - 1]
    return CaseStatus(decision.complaint_id, now, tuple(out), level, responsible,
                      tuple(t.id for t in fired), rejections, paused_at is not None)


EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
_EVENT_FIELDS = ("kind", "at", "milestone", "note")


def _checked(number: int, item: Event | Mapping[str, Any], milestones: set[str],
             received: datetime | None, aware: Any) -> Event:
    """Event ``number`` of a case as an ``Event``, or ``EventError`` saying what is wrong."""
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(_EVENT_FIELDS))
        if unknown:
            raise EventError(number, item, f"unknown field '{unknown[0]}'",
                             did_you_mean(unknown[0], _EVENT_FIELDS))
        at = item.get("at")
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                raise EventError(number, item, f"'at' is not an ISO time: {at!r}") from None
        item = Event(item.get("kind"), at, item.get("milestone"), item.get("note"))  # type: ignore[arg-type]
    elif not isinstance(item, Event):
        raise EventError(number, item, f"an event is an Event or a dict, not "
                         f"{type(item).__name__}")
    if item.kind not in EVENT_KINDS:
        raise EventError(number, item, f"unknown kind {item.kind!r}",
                         did_you_mean(str(item.kind), EVENT_KINDS)
                         or "kinds: " + ", ".join(EVENT_KINDS))
    if not isinstance(item.at, datetime):
        raise EventError(number, item, "'at' must be a date and time")
    if item.kind == "met" and not item.milestone:
        raise EventError(number, item, "a 'met' event names its milestone")
    if item.milestone is not None and milestones and item.milestone not in milestones:
        raise EventError(number, item, f"unknown milestone {item.milestone!r}",
                         did_you_mean(item.milestone, milestones)
                         or "milestones: " + ", ".join(sorted(milestones)))
    if received is not None and aware(item.at) < received:
        raise EventError(number, item, f"it is dated {aware(item.at).isoformat()}, before "
                         f"the complaint was received ({received.isoformat()})")
    return item


def _holds(trigger: EscalationTrigger, milestones: list[MilestoneStatus], rejections: int,
           severity: str) -> bool:
    if trigger.breached is not None:
        return any(m.state == "breached" and trigger.breached in ("any", m.milestone)
                   for m in milestones)
    if trigger.breached_by is not None:
        limit = _length(trigger.breached_by)
        return any(m.state == "breached" and -m.left > limit and
                   trigger.milestone in (None, m.milestone) for m in milestones)
    if trigger.rejections is not None:
        return rejections >= trigger.rejections
    if trigger.severity is not None:
        return severity == trigger.severity
    return False


def _length(duration: Duration) -> timedelta:
    """How far past its due time a milestone must be (``d``: 24 hours)."""
    unit = duration.unit
    if unit in ("m", "wm"):
        return timedelta(minutes=duration.amount)
    if unit in ("h", "wh"):
        return timedelta(hours=duration.amount)
    return timedelta(days=duration.amount)
