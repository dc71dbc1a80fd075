"""What a customer's history says about a new complaint, for rules to test.

``HistoryFacts`` is computed by ``CaseStore.history_facts`` from indexed queries; this
module owns the definitions (the windows and what counts as the same topic), so that both
backends count alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..errors import HistoryError
from .case import CaseRecord, derive
from .events import CaseEvent, utc

#: Service complaints that count against a team's weekly limit (POLICY-BRIEF §7: at most
#: three a week caused by service attitude or process).
TEAM_CATEGORY = "service"
TEAM_SUBCATEGORIES: tuple[str, ...] = ("attitude", "process")


@dataclass(frozen=True, slots=True)
class HistoryFacts:
    """A customer's history at a moment, as rules read it.

    - ``open_cases_same_topic``: of ``case_ids_same_topic``, those still open at ``at``.
    - ``complaints_30d``: the customer's cases received in the window before ``at``
      (``at - window_days < received <= at``), any topic.
    - ``rejected_answers``: answers the customer rejected on the same topic, up to ``at``.
    - ``team_week_count``: service complaints of the team subcategories (attitude,
      process) owned by ``team``, received from Monday 00:00 of ``at``'s ISO week (in
      ``at``'s zone) up to ``at``.
    - ``case_ids_same_topic``: the customer's cases on the topic (same category,
      subcategory, product where given) received in the window or still open at ``at``,
      the earliest first.
    - ``first_case_escalation_level``: the highest level the earliest of them was assigned
      at (0 if never escalated), None when there is none.
    """

    open_cases_same_topic: int
    complaints_30d: int
    rejected_answers: int
    team_week_count: int
    case_ids_same_topic: tuple[str, ...]
    first_case_escalation_level: int | None


@dataclass(frozen=True, slots=True)
class FactsQuery:
    """The checked arguments of one ``history_facts`` call (times in UTC)."""

    customer: str
    at: datetime
    since: datetime
    week_start: datetime
    category: str | None
    subcategory: str | None
    product: str | None
    team: str | None


def facts_query(customer: str, at: datetime, category: str | None, subcategory: str | None,
                product: str | None, team: str | None, window_days: int) -> FactsQuery:
    """``history_facts``' arguments checked, with the window and week start worked out."""
    if not isinstance(customer, str) or not customer:
        raise HistoryError(f"customer {customer!r} is not a customer key",
                           "pass the key record_decision was given as customer=")
    moment = utc(at, "at")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise HistoryError(f"window_days {window_days!r} is not a number of days",
                           "pass a whole number of days, 1 or more (30 by default)")
    for name, value in (("category", category), ("subcategory", subcategory),
                        ("product", product), ("team", team)):
        if value is not None and not isinstance(value, str):
            raise HistoryError(f"{name} {value!r} is not text", f"pass {name} as a str or None")
    return FactsQuery(customer, moment, moment - timedelta(days=window_days),
                      week_start(at), category, subcategory, product, team)


def week_start(at: datetime) -> datetime:
    """Monday 00:00 of ``at``'s ISO week, in ``at``'s own zone, as UTC."""
    monday = at.date() - timedelta(days=at.weekday())
    return utc(datetime.combine(monday, time(0), tzinfo=at.tzinfo), "week start")


def topic_facts(query: FactsQuery, candidates: Sequence[CaseRecord],
                events: Mapping[str, Iterable[CaseEvent]], complaints: int,
                team_week: int) -> HistoryFacts:
    """The facts from the customer's topic cases received up to ``at`` (earliest first)
    and their events, and the two counts the store made."""
    chosen = []
    for record in candidates:
        seen = [e for e in events.get(record.case_id, ()) if e.at <= query.at]
        case = derive(record, seen)
        if record.received_at > query.since or case.is_open:
            chosen.append(case)
    return HistoryFacts(
        open_cases_same_topic=sum(1 for c in chosen if c.is_open),
        complaints_30d=complaints,
        rejected_answers=sum(c.rejected_answers for c in chosen),
        team_week_count=team_week,
        case_ids_same_topic=tuple(c.case_id for c in chosen),
        first_case_escalation_level=chosen[0].escalation_level if chosen else None,
    )
