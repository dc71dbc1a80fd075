"""The column order of both tables and the conversions both backends share."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from .case import CaseRecord
from .events import CaseEvent, stored_event
from .marks import (
    MARK_COLUMNS,
    MARKED_CASE_COLUMNS,
    MarkedCase,
    PlannedDeadline,
    marks_from,
)

CASE_COLUMNS = ("case_id", "customer", "received_at", "complaint_id", "request_type",
                "category", "subcategory", "product", "domain", "owner_team", "handling",
                "severity", "flags", "policy_version", "decision", "channel")
EVENT_COLUMNS = ("case_id", "kind", "at", "actor", "policy_version", "satisfaction",
                 "note", "milestone", "level")


def select_columns(deadlines: str | None) -> str:
    """``CASE_COLUMNS`` for a SELECT; ``deadlines``: the SQL that reads the decision's
    deadlines alone in place of the whole decision (KPIs need no more, and decoding
    the reply texts of a month of cases is most of the time to read them)."""
    names = list(CASE_COLUMNS)
    if deadlines is not None:
        names[names.index("decision")] = deadlines
    return ", ".join(names)


def case_values(record: CaseRecord, when: Callable[[datetime], Any],
                flags: Callable[[tuple[str, ...]], Any],
                decision: Callable[[Mapping[str, Any]], Any]) -> tuple[Any, ...]:
    """The row of ``record`` in ``CASE_COLUMNS`` order, with the backend's encodings."""
    return (record.case_id, record.customer, when(record.received_at), record.complaint_id,
            record.request_type, record.category, record.subcategory, record.product,
            record.domain, record.owner_team, record.handling, record.severity,
            flags(record.flags), record.policy_version, decision(record.decision),
            record.channel)


def event_values(event: CaseEvent, when: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The row of ``event`` in ``EVENT_COLUMNS`` order."""
    return (event.case_id, event.kind, when(event.at), event.actor, event.policy_version,
            event.satisfaction, event.note, event.milestone, event.level)


def case_from(row: Sequence[Any], when: Callable[[Any], datetime],
              flags: Callable[[Any], tuple[str, ...]]) -> CaseRecord:
    """A ``CaseRecord`` from a row in ``CASE_COLUMNS`` order."""
    decision = row[14]
    if isinstance(decision, str):
        decision = json.loads(decision)
    if isinstance(decision, list):  # read with select_columns(deadlines)
        decision = {"deadlines": decision}
    return CaseRecord(row[0], row[1], when(row[2]), row[3], row[4], row[5], row[6], row[7],
                      row[8], row[9], row[10], row[11], flags(row[12]), row[13], decision,
                      row[15])


def event_from(row: Sequence[Any], when: Callable[[Any], datetime]) -> CaseEvent:
    """A ``CaseEvent`` from a row of ``seq`` then ``EVENT_COLUMNS``."""
    return stored_event(row[1], row[2], when(row[3]), row[4], row[5], row[6], row[7],
                        row[8], row[9], row[0])


def mark_statements(mark: str, received: str) -> tuple[str, str, str]:
    """The SQL of ``case_marks`` with the backend's parameter ``mark`` (``?``, ``%s``):
    insert a case's row, update its event marks, and select cases as ``MarkedCase``
    rows (``received``: the SQL of ``c.received_at`` in epoch µs), then the deadline
    plan and dues and ``MARK_COLUMNS``."""
    insert = (f"INSERT INTO case_marks (case_id, deadline_plan, deadline_dues, "
              f"{', '.join(MARK_COLUMNS)}) "
              f"VALUES ({', '.join([mark] * (len(MARK_COLUMNS) + 3))})")
    update = ("UPDATE case_marks SET " + ", ".join(f"{c} = {mark}" for c in MARK_COLUMNS)
              + f" WHERE case_id = {mark}")
    select = ("SELECT " + ", ".join(received if n == "received_at" else f"c.{n}"
                                    for n in MARKED_CASE_COLUMNS)
              + ", m.deadline_plan, m.deadline_dues, "
              + ", ".join(f"m.{c}" for c in MARK_COLUMNS)
              + " FROM cases AS c LEFT JOIN case_marks AS m ON m.case_id = c.case_id")
    return insert, update, select


def marked_case(row: Sequence[Any], flags: Callable[[Any], tuple[str, ...]],
                plans: dict[str, tuple[PlannedDeadline, ...]]) -> MarkedCase:
    """A ``MarkedCase`` from a row that ``mark_statements``' select gave."""
    return MarkedCase(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                      row[8], row[9], flags(row[10]), row[11],
                      marks_from(row[14:], row[12], row[13], plans))
