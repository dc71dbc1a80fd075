"""The business-time part of the policy language: calendars, deadlines, escalation.

Checks what ``calendars:``, the ``deadlines`` stage's items and ``escalation:`` say and
builds the runtime objects of ``triage.deadlines`` from them, each mistake reported at its
place in the file. ``validate`` runs it as one step of checking a policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..deadlines.calendar import BusinessCalendar
from ..deadlines.days import Interval
from ..deadlines.durations import Duration
from ..deadlines.escalation import OVERDUE_UNITS, EscalationTrigger
from ..deadlines.planner import DeadlineSpec
from ..errors import CalendarError, Problem, did_you_mean
from .loader import PathKey, SourceFile
from .schema import (
    CalendarSelect,
    CalendarSpec,
    DeadlineItem,
    PolicyFile,
    PolicyMeta,
    model_problems,
)


class TimingChecker:
    """Checks and builds the business-time parts of a policy, adding to ``problems``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.calendar_names: frozenset[str] = frozenset()
        self.default_calendar: str | None = None
        self.calendar_labels: dict[str, str] = {}
        #: Every ``after:`` of a deadline item: file, place, milestone, the milestone it follows.
        self.anchors: list[tuple[SourceFile, PathKey, str, str]] = []

    def calendars(self, specs: Mapping[str, tuple[CalendarSpec, SourceFile]],
                  broken: Iterable[str], meta: PolicyMeta | None, policy_file: SourceFile | None
                  ) -> tuple[dict[str, BusinessCalendar], dict[str, CalendarSelect]]:
        """Build each calendar; a mistake in one is reported at its place in the file.

        ``broken`` names calendars whose entry was already reported: they still count as
        defined, so that a deadline naming them is not reported a second time.
        """
        names = set(specs) | set(broken)
        self.calendar_names = frozenset(names)
        built: dict[str, BusinessCalendar] = {}
        labels: dict[str, str] = {}
        choices: dict[str, CalendarSelect] = {}
        for name, (spec, source) in specs.items():
            path: PathKey = ("calendars", name)
            if spec.select is not None:
                given = spec.model_fields_set - {"select", "label"}
                if given:
                    self.problems.append(source.problem(
                        (*path, sorted(given)[0]), "conflict",
                        f"calendar '{name}' chooses among others with 'select', so it cannot "
                        f"also set '{sorted(given)[0]}'",
                        "put the hours and dates on the calendars that select names", key=True))
                targets = [(("select", "default"), spec.select.default)] + [
                    (("select", "cases", case), target)
                    for case, target in spec.select.cases.items()]
                for where, target in targets:
                    if target not in specs or specs[target][0].select is not None:
                        self.problems.append(source.problem(
                            (*path, *where), "undefined-calendar",
                            f"'{target}' is not a calendar with its own hours",
                            did_you_mean(target, [n for n, (s, _) in specs.items()
                                                   if s.select is None])))
                choices[name] = spec.select
                continue
            try:
                labels[name] = spec.label or name
                built[name] = BusinessCalendar(
                    name, timezone=spec.timezone, hours=spec.hours,
                    chinese_holidays=spec.chinese_holidays, holidays=spec.holidays,
                    workdays=spec.workdays, half_days=spec.half_days,
                    makeup_hours=spec.makeup_hours, known_years=spec.known_years,
                    beyond_data=spec.beyond_data)
            except CalendarError as exc:
                key = {"bad_timezone": "timezone", "bad_hours": "hours",
                       "no_working_hours": "hours", "conflicting_days": "holidays",
                       "bad_option": "beyond_data"}.get(exc.code)
                at: PathKey = (*path, key) if key and key in spec.model_fields_set else path
                if key == "hours":
                    at = (*at, *_bad_hours_entry(spec.hours))
                self.problems.append(source.problem(
                    at, exc.code.replace("_", "-"), exc.message,
                    "see docs/deadlines.md for how calendars are written", key=len(at) == 4))
        if meta is not None and meta.default_calendar is not None:
            self.default_calendar = meta.default_calendar
            if meta.default_calendar not in names and policy_file is not None:
                self.problems.append(policy_file.problem(
                    ("policy", "default_calendar"), "undefined-calendar",
                    f"calendar '{meta.default_calendar}' is not defined",
                    did_you_mean(meta.default_calendar, names) or
                    "define it under 'calendars:'"))
        self.calendar_labels = labels
        return built, choices

    def escalation(self, files: Iterable[tuple[SourceFile, PolicyFile]],
                   taxonomy: Mapping[str, Mapping[str, str]]) -> tuple[EscalationTrigger, ...]:
        """The escalation triggers: each tests exactly one thing, with known names."""
        out: list[EscalationTrigger] = []
        seen: set[str] = set()
        milestones = taxonomy.get("milestones", {})
        kinds = ("breached", "breached_by", "rejections", "severity")
        for source, model in files:
            for i, spec in enumerate(model.escalation):
                path: PathKey = ("escalation", i)
                given = [k for k in kinds if getattr(spec, k) is not None]
                problems_before = len(self.problems)
                if len(given) != 1:
                    self.problems.append(source.problem(
                        path, "ambiguous-condition" if given else "missing-key",
                        f"escalation trigger '{spec.id}' must test exactly one of "
                        f"{', '.join(kinds)}" + (f"; it tests {', '.join(given)}" if given
                                                 else ""),
                        "write one trigger per condition; the highest level that holds wins"))
                if spec.id in seen:
                    self.problems.append(source.problem((*path, "id"), "duplicate-id",
                                                        f"trigger id '{spec.id}' is used twice"))
                seen.add(spec.id)
                for key in ("breached", "milestone"):
                    name = getattr(spec, key)
                    if name is not None and name != "any" and name not in milestones:
                        self.problems.append(source.problem(
                            (*path, key), "unknown-value",
                            f"'{name}' is not a milestone of the taxonomy",
                            did_you_mean(name, milestones) or "or 'any' for every milestone"))
                if spec.severity is not None and spec.severity not in taxonomy["severity"]:
                    self.problems.append(source.problem(
                        (*path, "severity"), "unknown-value",
                        f"'{spec.severity}' is not a severity of the taxonomy",
                        did_you_mean(spec.severity, taxonomy["severity"])))
                overdue = None
                if spec.breached_by is not None:
                    try:
                        overdue = Duration.parse(spec.breached_by)
                    except CalendarError as exc:
                        self.problems.append(source.problem((*path, "breached_by"),
                                                            "bad-duration", exc.message))
                    else:
                        if overdue.unit not in OVERDUE_UNITS:
                            self.problems.append(source.problem(
                                (*path, "breached_by"), "bad-duration",
                                f"'{spec.breached_by}' is not a length of time",
                                "use m, h, d, wm or wh (e.g. 4wh, 1d)"))
                if len(self.problems) == problems_before:
                    out.append(EscalationTrigger(
                        spec.id, spec.levels, spec.breached, overdue, spec.milestone,
                        spec.rejections, spec.severity, spec.description))
        return tuple(out)

    def check_anchors(self) -> None:
        """A milestone counted ``after`` another must name one that is not itself anchored."""
        anchored = {milestone for _, _, milestone, _ in self.anchors}
        for source, at, milestone, after in self.anchors:
            if after in anchored:
                self.problems.append(source.problem(
                    at, "anchor-chain", f"'{milestone}' is counted after '{after}', which is "
                    "itself counted after another milestone",
                    "anchor on a milestone counted from receipt (e.g. follow_up after "
                    "resolution)"))

    def deadline_items(self, source: SourceFile, value: Any, where: PathKey,
                       values: Mapping[str, frozenset[str]]) -> tuple[DeadlineSpec, ...] | None:
        items = [value] if isinstance(value, dict) else value
        if not isinstance(items, list):
            self.problems.append(source.problem(
                where, "wrong-type", "'deadlines' takes a list of milestones such as "
                "{milestone: resolution, within: 3d}"))
            return None
        out: list[DeadlineSpec] = []
        ok = True
        milestones = values.get("milestones", frozenset())
        seen: set[str] = set()
        for i, raw in enumerate(items):
            at: PathKey = (*where, i) if isinstance(value, list) else where
            errors = model_problems(raw, source, DeadlineItem, at)
            if errors:
                self.problems.extend(errors)
                ok = False
                continue
            item = DeadlineItem.model_validate(raw)
            for name, key in ((item.milestone, "milestone"), (item.after, "after")):
                if name is not None and name not in milestones:
                    self.problems.append(source.problem(
                        (*at, key), "unknown-value", f"'{name}' is not a milestone of the taxonomy",
                        did_you_mean(name, milestones) or
                        "add it under 'taxonomy: {milestones: {name: 中文标签}}'"))
                    ok = False
            if item.after == item.milestone:
                self.problems.append(source.problem((*at, "after"), "cycle",
                                                    f"'{item.milestone}' is counted after itself"))
                ok = False
            if item.milestone in seen:
                self.problems.append(source.problem(
                    (*at, "milestone"), "conflict",
                    f"'{item.milestone}' is set twice in the same list"))
                ok = False
            seen.add(item.milestone)
            try:
                duration = Duration.parse(item.within)
            except CalendarError as exc:
                self.problems.append(source.problem((*at, "within"), "bad-duration",
                                                    exc.message))
                ok = False
                continue
            calendar = item.calendar
            if calendar is None and self.default_calendar is None:
                self.problems.append(source.problem(
                    at, "missing-key", f"'{item.milestone}' names no calendar",
                    "add 'calendar: NAME', or set 'policy: {default_calendar: NAME}'"))
                ok = False
            elif calendar is not None and calendar not in self.calendar_names:
                self.problems.append(source.problem(
                    (*at, "calendar"), "undefined-calendar",
                    f"calendar '{calendar}' is not defined",
                    did_you_mean(calendar, self.calendar_names) or
                    "define it under 'calendars:'"))
                ok = False
            if item.after is not None:
                self.anchors.append((source, (*at, "after"), item.milestone, item.after))
            out.append(DeadlineSpec(item.milestone, duration, item.within, calendar, item.after))
        return tuple(out) if ok else None


def _bad_hours_entry(hours: Mapping[str, Any]) -> tuple[str | int, ...]:
    """Where in a calendar's ``hours`` the mistake is: the day key, or the day's interval."""
    for day, items in hours.items():
        try:
            BusinessCalendar("probe", hours={day: items}, chinese_holidays=False)
        except CalendarError:
            for i, item in enumerate(items if isinstance(items, list) else [items]):
                try:
                    Interval.parse(item) if isinstance(item, str) else None
                except CalendarError:
                    return (day, i)
            return (day,)
    return ()
