"""A case as its events leave it: the decision's fields, the events in order, its state.

The state is derived, never stored: ``derive`` folds the events in time order (ties in
the order they were stored), so the same events give the same case however they were
batched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .events import CaseEvent, SatisfactionLabel, satisfaction_label

CaseState = Literal["open", "paused", "answered", "resolved", "closed", "reopened"]
#: States in which the case still needs work (``closed``: resolved and followed up).
OPEN_STATES: frozenset[str] = frozenset({"open", "paused", "answered", "reopened"})


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """What ``record_decision`` stored about a case's decision (all times UTC)."""

    case_id: str
    customer: str
    received_at: datetime
    complaint_id: str
    request_type: str
    category: str
    subcategory: str | None
    product: str | None
    domain: str | None
    owner_team: str
    handling: str
    severity: str
    flags: tuple[str, ...]
    policy_version: str
    decision: Mapping[str, Any]
    #: The channel the complaint came in by (``phone``, ``web``...), None when not given.
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A case now: its record, its events in order and what they add up to.

    ``state``: ``open`` (received, being handled), ``paused`` (waiting on the customer
    or a test), ``answered``, ``resolved``, ``closed`` (resolved and followed up) or
    ``reopened``. ``satisfaction`` is the last follow-up's score; ``escalation_level``
    the highest level an ``assigned`` event gave (0 when none did).
    """

    record: CaseRecord
    events: tuple[CaseEvent, ...]
    state: CaseState
    rejected_answers: int
    satisfaction: int | None
    escalation_level: int
    first_at: datetime
    last_at: datetime

    @property
    def case_id(self) -> str:
        return self.record.case_id

    @property
    def customer(self) -> str:
        return self.record.customer

    @property
    def category(self) -> str:
        return self.record.category

    @property
    def subcategory(self) -> str | None:
        return self.record.subcategory

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def satisfaction_label(self) -> SatisfactionLabel | None:
        return None if self.satisfaction is None else satisfaction_label(self.satisfaction)


def ordered(events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """Events in time order, ties in store order (``seq``; unnumbered ones last)."""
    return sorted(events, key=lambda e: (e.at, e.seq is None, e.seq or 0))


def fold(events: Iterable[CaseEvent]) -> tuple[CaseState, int, int | None, int]:
    """State, rejected answers, satisfaction and escalation level after ``events``
    (already in order)."""
    state: CaseState = "open"
    before_pause: CaseState = "open"
    rejected = 0
    satisfaction: int | None = None
    level = 0
    for event in events:
        kind = event.kind
        if kind == "paused":
            if state != "paused":
                before_pause, state = state, "paused"
        elif kind == "resumed":
            if state == "paused":
                state = before_pause
        elif kind == "answered":
            state = "answered"
        elif kind == "answer_rejected":
            rejected += 1
            state = "open"
        elif kind == "resolved":
            state = "resolved"
        elif kind == "follow_up_done":
            satisfaction = event.satisfaction if event.satisfaction is not None \
                else satisfaction
            if state == "resolved":
                state = "closed"
        elif kind == "reopened":
            state = "reopened"
        elif kind == "assigned" and event.level is not None:
            level = max(level, event.level)
    return state, rejected, satisfaction, level


def derive(record: CaseRecord, events: Iterable[CaseEvent]) -> Case:
    """The ``Case`` that ``record``'s events make."""
    timeline = tuple(ordered(events))
    state, rejected, satisfaction, level = fold(timeline)
    first = timeline[0].at if timeline else record.received_at
    last = timeline[-1].at if timeline else record.received_at
    return Case(record, timeline, state, rejected, satisfaction, level, first, last)
