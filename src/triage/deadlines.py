"""The deadlines of a decision: milestones set by rules, merged, and their due times.

The deadlines stage runs last. Every rule that holds contributes milestones; for each
milestone the highest-priority rule wins and the stage default fills in the rest. A
milestone ``after`` another is counted from that one's due time (follow-up = resolution
+ 2d). Due times come from ``durations.compute_due`` on the milestone's calendar; the
conventions are in ``docs/deadlines.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .calendar import BusinessCalendar
from .datefmt import format_due
from .durations import DueTime, Duration, Step, compute_due


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """A milestone as a rule sets it: due ``within`` a duration, on a calendar."""

    milestone: str
    within: Duration
    text: str
    calendar: str | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "within": self.text, "calendar": self.calendar,
                "after": self.after}


@dataclass(frozen=True, slots=True)
class CalendarChoice:
    """A calendar name that stands for one of several, chosen by a field of the complaint."""

    path: str
    cases: Mapping[str, str]
    default: str
    read: Callable[[Any], Any] = field(repr=False, compare=False)

    def pick(self, ctx: Any) -> str:
        value = self.read(ctx)
        return self.cases.get(str(value), self.default) if value is not None else self.default


@dataclass(frozen=True, slots=True)
class Deadline:
    """One milestone's due time, the rule that set it, and how the time was derived."""

    milestone: str
    label: str
    due: datetime
    calendar: str
    calendar_label: str
    within: str
    after: str | None
    rule_id: str
    warnings: tuple[str, ...]
    derivation: DueTime = field(repr=False, compare=False)

    @property
    def steps(self) -> tuple[Step, ...]:
        """Start, after-hours shift, each day off or break skipped, and the due time."""
        return self.derivation.steps

    @property
    def due_text(self) -> str:
        """The due time as staff say it: ``11月24日(周二)下午3:00前``."""
        return format_due(self.due)

    def to_dict(self) -> dict[str, Any]:
        return {
            "milestone": self.milestone,
            "label": self.label,
            "due": self.due.isoformat(),
            "due_text": self.due_text,
            "calendar": self.calendar,
            "calendar_label": self.calendar_label,
            "within": self.within,
            "after": self.after,
            "rule_id": self.rule_id,
            "warnings": list(self.warnings),
            "steps": [s.to_dict() for s in self.steps],
        }


class DeadlinePlanner:
    """Compiled once per policy: merges the milestones a complaint's rules set and times them."""

    __slots__ = ("_calendar_labels", "_calendars", "_choices", "_default", "_labels", "_order")

    def __init__(self, calendars: Mapping[str, BusinessCalendar],
                 choices: Mapping[str, CalendarChoice], default_calendar: str | None,
                 labels: Mapping[str, str], calendar_labels: Mapping[str, str]) -> None:
        self._calendars = MappingProxyType(dict(calendars))
        self._calendar_labels = MappingProxyType(dict(calendar_labels))
        self._choices = MappingProxyType(dict(choices))
        self._default = default_calendar
        self._labels = MappingProxyType(dict(labels))
        self._order = {name: i for i, name in enumerate(labels)}

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        return self._calendars

    def plan(self, specs: Iterable[tuple[str, Iterable[DeadlineSpec]]], ctx: Any,
             received: datetime) -> tuple[tuple[Deadline, ...], tuple[str, ...]]:
        """The deadlines from ``specs`` (rule id, milestones), strongest rule first.

        Returns the deadlines in the taxonomy's milestone order, and warnings (a year with
        no holiday data assumed ordinary, an anchor missing). Raises ``CalendarError``
        when a calendar's ``beyond_data`` is ``error`` and a deadline needs such a year.
        """
        chosen: dict[str, tuple[str, DeadlineSpec]] = {}
        for rule_id, items in specs:
            for spec in items:
                chosen.setdefault(spec.milestone, (rule_id, spec))
        done: dict[str, Deadline] = {}
        warnings: list[str] = []
        for rule_id, spec in sorted(chosen.values(), key=lambda c: c[1].after is not None):
            calendar = self._calendar(spec.calendar, ctx)
            if spec.after is None:
                due = compute_due(calendar, received, spec.within, milestone=spec.milestone)
            else:
                anchor = done.get(spec.after)
                if anchor is None:
                    warnings.append(
                        f"{self._label(spec.milestone)}应在{self._label(spec.after)}之后计算，"
                        f"但本投诉没有{self._label(spec.after)}期限，未能计算")
                    continue
                due = compute_due(calendar, anchor.derivation, spec.within,
                                  milestone=spec.milestone)
            done[spec.milestone] = Deadline(
                spec.milestone, self._label(spec.milestone), due.due, calendar.name,
                self._calendar_labels.get(calendar.name, calendar.name), spec.text,
                spec.after, rule_id, due.warnings, due)
            warnings.extend(w for w in due.warnings if w not in warnings)
        ordered = sorted(done.values(), key=lambda d: (self._order.get(d.milestone, 1 << 30),
                                                       d.milestone))
        return tuple(ordered), tuple(warnings)

    def _label(self, milestone: str) -> str:
        return self._labels.get(milestone, milestone)

    def _calendar(self, name: str | None, ctx: Any) -> BusinessCalendar:
        key = name or self._default
        assert key is not None  # validation requires a calendar or a default one
        choice = self._choices.get(key)
        if choice is not None:
            key = choice.pick(ctx)
        return self._calendars[key]
