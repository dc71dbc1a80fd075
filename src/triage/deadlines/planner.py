"""The deadlines of a decision: milestones set by rules, merged, and their due times.

The deadlines stage runs last. Every rule that holds contributes milestones; for each
milestone the highest-priority rule wins and the stage default fills in the rest. A
milestone ``after`` another is counted from that one's due time (follow-up = resolution
+ 2d). Due times come from ``durations.compute_due`` on the milestone's calendar; the
conventions are in ``docs/deadlines.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .._frozen import positional_builder
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
    #: The due time as staff say it: ``11月24日(周二)下午3:00前`` (``format_due``), worked
    #: out once: the reply, the JSON and the explanation all show it.
    due_text: str
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

    def to_dict(self, detail: str = "full") -> dict[str, Any]:
        """The JSON form; ``detail="lean"`` keeps what a routed case needs (milestone,
        label, due, due_text, calendar), ``full`` adds the rule and the steps."""
        if detail == "lean":
            return {"milestone": self.milestone, "label": self.label,
                    "due": self.due.isoformat(), "due_text": self.due_text,
                    "calendar": self.calendar}
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
            "steps": self.derivation.step_dicts(),
        }


#: ``Deadline`` from its 11 field values, positionally (built for every milestone).
_new_deadline = positional_builder(Deadline)


#: Deadlines and warnings, as ``DeadlinePlanner.plan`` gives them.
_Plan = tuple[tuple[Deadline, ...], tuple[str, ...]]

#: A planner keeps the plans of the last few receipt instants (``plan`` with a ``key``),
#: at most this many per instant.
INSTANTS_KEPT = 4
PLAN_CACHE = 256


class DeadlinePlanner:
    """Compiled once per policy: merges the milestones a complaint's rules set and times them.

    Complaints received at the same instant whose rules set the same milestones get the
    same deadlines: a plan asked for with a ``key`` is kept, for the ``INSTANTS_KEPT``
    receipt instants used last, and given again, the same immutable Deadlines. A batch
    routed with ``--now`` for the records without ``received_at``, or records stamped to
    the minute in time order, hit it often; records at distinct instants pay two
    dictionary look-ups, and few plans outlive their decision. Only results that the
    arguments decide entirely are kept, so nothing a caller can see depends on it.
    """

    __slots__ = ("_by_name", "_calendar_labels", "_calendars", "_choices", "_default",
                 "_kept", "_labels", "_order", "_zone")

    def __init__(self, calendars: Mapping[str, BusinessCalendar],
                 choices: Mapping[str, CalendarChoice], default_calendar: str | None,
                 labels: Mapping[str, str], calendar_labels: Mapping[str, str]) -> None:
        self._calendars = MappingProxyType(dict(calendars))
        # Private and never changed: plain dicts, faster to read than mapping proxies.
        self._by_name = dict(calendars)
        self._calendar_labels = dict(calendar_labels)
        self._choices = dict(choices)
        self._default = default_calendar
        self._labels = dict(labels)
        self._order = {name: i for i, name in enumerate(labels)}
        zones = {calendar.tz for calendar in calendars.values()}
        #: The zone of every calendar, when they share one: the receipt is read in it once.
        self._zone = zones.pop() if len(zones) == 1 else None
        self._kept: dict[tuple[datetime, Any], dict[Hashable, _Plan]] = {}

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        return self._calendars

    def plan(self, specs: Iterable[tuple[str, Iterable[DeadlineSpec]]], ctx: Any,
             received: datetime, key: Hashable = None) -> _Plan:
        """The deadlines from ``specs`` (rule id, milestones), strongest rule first.

        Returns the deadlines in the taxonomy's milestone order, and warnings (a year with
        no holiday data assumed ordinary, an anchor missing). Raises ``CalendarError``
        when a calendar's ``beyond_data`` is ``error`` and a deadline needs such a year.
        ``key``: something equal exactly when ``specs`` are (the indexes of the rules that
        set them); with it the plan is kept for the next complaint received at the same
        instant with the same calendar choices.
        """
        zone = self._zone
        if zone is not None and received.tzinfo is not zone and received.tzinfo is not None:
            received = received.astimezone(zone)  # as compute_due would, once per milestone
        if key is None:
            return self._plan(specs, ctx, received)
        kept = self._kept
        at = (received, received.tzinfo)  # equal instants in two zones: written differently
        plans = kept.pop(at, None)  # taken out and put back last: the least recent goes
        if plans is None:
            plans = {}
            while len(kept) >= INSTANTS_KEPT:
                try:
                    del kept[next(iter(kept))]
                except (KeyError, RuntimeError, StopIteration):  # another thread was quicker
                    break
        kept[at] = plans
        choices = self._choices
        memo = (key, tuple(c.pick(ctx) for c in choices.values())) if choices else key
        plan = plans.get(memo)
        if plan is None:
            plan = self._plan(specs, ctx, received)
            if len(plans) < PLAN_CACHE:
                plans[memo] = plan
        return plan

    def _plan(self, specs: Iterable[tuple[str, Iterable[DeadlineSpec]]], ctx: Any,
              received: datetime) -> _Plan:
        seen: set[str] = set()  # the first rule to set a milestone decides it
        done: dict[str, Deadline] = {}
        warnings: list[str] = []
        anchored: list[tuple[str, DeadlineSpec, str]] = []
        for rule_id, items in specs:
            for spec in items:
                if spec.milestone in seen:
                    continue
                seen.add(spec.milestone)
                if spec.after is None:  # counted from receipt: now
                    self._time(done, warnings, rule_id, spec, received, ctx)
                else:  # counted from another milestone: once all those are done
                    anchored.append((rule_id, spec, spec.after))
        for rule_id, spec, after in anchored:
            anchor = done.get(after)
            if anchor is None:
                warnings.append(
                    f"{self._label(spec.milestone)}应在{self._label(after)}之后计算，"
                    f"但本投诉没有{self._label(after)}期限，未能计算")
                continue
            self._time(done, warnings, rule_id, spec, anchor.derivation, ctx)
        order = self._order
        try:
            names = sorted(done, key=order.__getitem__)
        except KeyError:  # a milestone the taxonomy does not list: after those it lists
            names = sorted(done, key=lambda m: (order.get(m, 1 << 30), m))
        return tuple(map(done.__getitem__, names)), tuple(warnings)

    def _time(self, done: dict[str, Deadline], warnings: list[str], rule_id: str,
              spec: DeadlineSpec, start: datetime | DueTime, ctx: Any) -> None:
        """Compute one milestone into ``done``, its new warnings into ``warnings``."""
        key = spec.calendar or self._default
        assert key is not None  # validation requires a calendar or a default one
        choice = self._choices.get(key)
        if choice is not None:
            key = choice.pick(ctx)
        calendar = self._by_name[key]
        milestone = spec.milestone
        due = compute_due(calendar, start, spec.within, milestone=milestone)
        name = calendar.name
        done[milestone] = _new_deadline(
            milestone, self._labels.get(milestone, milestone), due.due, format_due(due.due),
            name, self._calendar_labels.get(name, name), spec.text, spec.after, rule_id,
            due.warnings, due)
        if due.warnings:
            warnings.extend(w for w in due.warnings if w not in warnings)

    def _label(self, milestone: str) -> str:
        return self._labels.get(milestone, milestone)
