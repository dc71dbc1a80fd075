"""Stage 3 of the pipeline: merge the files of a policy and check what they mean.

Structure is checked per file by ``schema.py``; here the files are merged (conflicts
reported with both places) and every reference is resolved: vocabularies, roles,
taxonomy values, stage order. All problems are collected; none stops the others.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .calendar import BusinessCalendar, Interval
from .complaint import Handling, RequestType
from .conditions import Condition, ConditionParser, ConditionScope, Word
from .deadlines import DeadlineSpec
from .durations import Duration
from .errors import CalendarError, PolicyError, Problem
from .guard import ForbiddenPhrase, Guard
from .implication import exclusive
from .loader import LoadedPolicy, PathKey, SourceFile
from .schema import (
    HIT_POLICY,
    OPTIONAL_STAGES,
    STAGE_OUTPUTS,
    STAGES,
    CalendarSelect,
    CalendarSpec,
    DeadlineItem,
    PolicyFile,
    PolicyMeta,
    RoleSpec,
    RuleSpec,
    model_problems,
    validate_file,
)
from .scripts import ScriptLibrary, load_scripts
from .status import OVERDUE_UNITS, EscalationTrigger
from .text import fold

_TAXONOMY_SECTIONS = ("request_type", "handling", "category", "subcategory", "severity",
                      "flags", "domain", "milestones")


@dataclass(frozen=True, slots=True)
class RuleDef:
    """A validated rule, with the place it is written and its position in file order."""

    id: str
    stage: str
    description: str | None
    priority: int
    condition: Condition
    outputs: dict[str, Any]
    file: str
    line: int
    order: int


@dataclass(frozen=True, slots=True)
class StageDef:
    """A validated stage: its rules in evaluation order and its default outputs."""

    name: str
    hit: str
    rules: tuple[RuleDef, ...]
    default: dict[str, Any]
    default_file: str
    default_line: int


@dataclass(frozen=True)
class PolicyModel:
    """The whole policy, merged and checked: ready to be compiled."""

    meta: PolicyMeta
    taxonomy: dict[str, dict[str, str]]
    vocabularies: dict[str, tuple[Word, ...]]
    roles: dict[str, RoleSpec]
    stages: dict[str, StageDef]
    version: str
    warnings: tuple[Problem, ...]
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)
    calendar_choices: dict[str, CalendarSelect] = field(default_factory=dict)
    calendar_labels: dict[str, str] = field(default_factory=dict)
    escalation: tuple[EscalationTrigger, ...] = ()
    guard: Guard = field(default_factory=lambda: Guard(()))
    scripts: ScriptLibrary | None = None
    vocabulary_places: dict[str, tuple[str, int]] = field(default_factory=dict)


def validate_policy(loaded: LoadedPolicy) -> PolicyModel:
    """Check a loaded policy; raise ``PolicyError`` with every problem, or return the model."""
    return _Validator(loaded).run()


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


def _outputs_text(outputs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(outputs.items()))


class _Validator:
    def __init__(self, loaded: LoadedPolicy) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.files: list[tuple[SourceFile, PolicyFile]] = []
        self.positions: dict[str, dict[str, list[int]]] = {}
        self.broken: set[tuple[str, str]] = set()
        self.calendar_names: frozenset[str] = frozenset()
        self.default_calendar: str | None = None
        self.calendar_labels: dict[str, str] = {}
        #: Every ``after:`` of a deadline item: file, place, milestone, the milestone it follows.
        self.anchors: list[tuple[SourceFile, PathKey, str, str]] = []
        self.script_ids: frozenset[str] | None = None
        self.vocabulary_places: dict[str, tuple[str, int]] = {}

    def run(self) -> PolicyModel:
        for source in self.loaded.files:
            spec = validate_file(source)
            self.problems.extend(spec.problems)
            self.broken.update(spec.broken)
            self.positions[source.name] = spec.rule_positions
            self.files.append((source, spec.model))
        meta = self._meta()
        taxonomy = self._taxonomy()
        vocabularies = self._vocabularies()
        roles = self._roles()
        guard = self._guard()
        scripts = self._scripts(meta, guard)
        calendars, choices = self._calendars(meta)
        stages = self._stages(taxonomy, vocabularies, roles)
        self._anchors()
        escalation = self._escalation(taxonomy)
        errors = [p for p in self.problems if p.severity == "error"]
        if errors or meta is None:
            raise PolicyError(self.problems)
        warnings = tuple(p for p in self.problems if p.severity == "warning")
        version = self.loaded.version
        if scripts is not None:  # the templates are part of what decides a reply
            version = hashlib.sha256((version + scripts.digest).encode()).hexdigest()[:16]
        return PolicyModel(meta, taxonomy, vocabularies, roles, stages, version,
                           warnings, calendars, choices, self.calendar_labels, escalation,
                           guard, scripts, self.vocabulary_places)

    def _guard(self) -> Guard:
        phrases: list[ForbiddenPhrase] = []
        for _, model in self.files:
            phrases += [ForbiddenPhrase(f.phrase, f.reason, f.suggestion, tuple(f.except_),
                                        f.standalone) for f in model.forbidden]
        return Guard(phrases)

    def _scripts(self, meta: PolicyMeta | None, guard: Guard) -> ScriptLibrary | None:
        """The policy's reply templates, when ``policy: {scripts: DIR}`` names a folder."""
        if meta is None or meta.scripts is None:
            self.script_ids = None
            return None
        source = next(s for s, m in self.files if m.policy is not None)
        root = self.loaded.root if self.loaded.root.is_dir() else self.loaded.root.parent
        folder = (root / meta.scripts).resolve()
        if not folder.is_dir():
            self.problems.append(source.problem(
                ("policy", "scripts"), "not-found",
                f"the scripts folder '{meta.scripts}' does not exist (looked in {folder})",
                "give a path relative to the policy folder, e.g. ../scripts_cn"))
            self.script_ids = frozenset()
            return None
        library, problems = load_scripts(folder, root.parent, guard)
        self.problems.extend(problems)
        self.script_ids = library.ids | {p.file.rsplit("/", 1)[-1].removesuffix(".j2")
                                         for p in problems}
        return library

    def _calendars(self, meta: PolicyMeta | None
                   ) -> tuple[dict[str, BusinessCalendar], dict[str, CalendarSelect]]:
        """Build each calendar; a mistake in one is reported at its place in the file."""
        specs: dict[str, tuple[CalendarSpec, SourceFile]] = self._named("calendars", "calendar")
        names = set(specs) | {n for s, n in self.broken if s == "calendars"}
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
                            _did_you_mean(target, [n for n, (s, _) in specs.items()
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
            if meta.default_calendar not in names:
                source = next(s for s, m in self.files if m.policy is not None)
                self.problems.append(source.problem(
                    ("policy", "default_calendar"), "undefined-calendar",
                    f"calendar '{meta.default_calendar}' is not defined",
                    _did_you_mean(meta.default_calendar, names) or
                    "define it under 'calendars:'"))
        self.calendar_labels = labels
        return built, choices

    def _escalation(self, taxonomy: dict[str, dict[str, str]]
                    ) -> tuple[EscalationTrigger, ...]:
        """The escalation triggers: each tests exactly one thing, with known names."""
        out: list[EscalationTrigger] = []
        seen: set[str] = set()
        milestones = taxonomy.get("milestones", {})
        kinds = ("breached", "breached_by", "rejections", "severity")
        for source, model in self.files:
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
                            _did_you_mean(name, milestones) or "or 'any' for every milestone"))
                if spec.severity is not None and spec.severity not in taxonomy["severity"]:
                    self.problems.append(source.problem(
                        (*path, "severity"), "unknown-value",
                        f"'{spec.severity}' is not a severity of the taxonomy",
                        _did_you_mean(spec.severity, taxonomy["severity"])))
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

    def _anchors(self) -> None:
        """A milestone counted ``after`` another must name one that is not itself anchored."""
        anchored = {milestone for _, _, milestone, _ in self.anchors}
        for source, at, milestone, after in self.anchors:
            if after in anchored:
                self.problems.append(source.problem(
                    at, "anchor-chain", f"'{milestone}' is counted after '{after}', which is "
                    "itself counted after another milestone",
                    "anchor on a milestone counted from receipt (e.g. follow_up after "
                    "resolution)"))

    def _first_file(self) -> SourceFile:
        return self.loaded.files[0]

    def _meta(self) -> PolicyMeta | None:
        found = [(s, m.policy) for s, m in self.files if m.policy is not None]
        for source, _ in found[1:]:
            first = found[0][0]
            self.problems.append(source.problem(
                ("policy",), "conflict", "the 'policy' section is written twice",
                f"keep one: it is also in {first.name} line {first.mark(('policy',), key=True)[0]}",
                key=True))
        if not found:
            if self.files:
                self.problems.append(self._first_file().problem(
                    (), "missing-section", "no file has a 'policy:' section",
                    "add 'policy: {name: ...}' to one file (usually policy.yaml)"))
            return None
        source, meta = found[0]
        try:
            ZoneInfo(meta.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problems.append(source.problem(
                ("policy", "timezone"), "unknown-value", f"unknown time zone '{meta.timezone}'",
                "use an IANA name such as Asia/Shanghai or Asia/Hong_Kong"))
        return meta

    def _taxonomy(self) -> dict[str, dict[str, str]]:
        merged: dict[str, dict[str, str]] = {s: {} for s in _TAXONOMY_SECTIONS}
        where: dict[tuple[str, str], str] = {}
        for source, model in self.files:
            if model.taxonomy is None:
                continue
            for section in _TAXONOMY_SECTIONS:
                for value, label in getattr(model.taxonomy, section).items():
                    if value in merged[section] and merged[section][value] != label:
                        self.problems.append(source.problem(
                            ("taxonomy", section, value), "conflict",
                            f"{section} '{value}' has two labels: '{merged[section][value]}' "
                            f"({where[section, value]}) and '{label}'", key=True))
                    merged[section].setdefault(value, label)
                    where.setdefault((section, value), source.name)
                    fixed = {"request_type": RequestType, "handling": Handling}.get(section)
                    if fixed is not None and value not in {m.value for m in fixed}:
                        choices = [m.value for m in fixed]
                        close = difflib.get_close_matches(value, choices, n=1)
                        self.problems.append(source.problem(
                            ("taxonomy", section, value), "unknown-value",
                            f"'{value}' is not a {section}; the library knows "
                            f"{', '.join(choices)}",
                            f"did you mean '{close[0]}'?" if close else None, key=True))
        for fixed_section, enum in (("request_type", RequestType), ("handling", Handling)):
            for member in enum:
                merged[fixed_section].setdefault(member.value, member.value)
        for section in ("category", "severity"):
            if not merged[section] and self.files:
                self.problems.append(self._first_file().problem(
                    (), "missing-section", f"the taxonomy defines no {section} values",
                    f"add 'taxonomy: {{{section}: {{value: 中文标签}}}}' to a policy file"))
        return merged

    def _vocabularies(self) -> dict[str, tuple[Word, ...]]:
        raw: dict[str, tuple[list[str], SourceFile]] = {}
        for source, model in self.files:
            for name, spec in model.vocabularies.items():
                if name in raw:
                    self.problems.append(source.problem(
                        ("vocabularies", name), "duplicate-id",
                        f"vocabulary '{name}' is defined twice",
                        f"also defined in {raw[name][1].name} line "
                        f"{raw[name][1].mark(('vocabularies', name), key=True)[0]}", key=True))
                    continue
                raw[name] = (list(spec.words), source)
                self.vocabulary_places[name] = (
                    source.name, source.mark(("vocabularies", name), key=True)[0])
        resolved: dict[str, tuple[Word, ...]] = {}

        def expand(name: str, trail: tuple[str, ...]) -> tuple[Word, ...]:
            if name in resolved:
                return resolved[name]
            words_raw, source = raw[name]
            words: list[Word] = []
            for i, item in enumerate(words_raw):
                path: PathKey = ("vocabularies", name, i)
                if item.startswith("$"):
                    ref = item[1:]
                    if ref in trail or ref == name:
                        self.problems.append(source.problem(
                            path, "cycle", f"vocabulary '${name}' includes itself through "
                            + " -> ".join(f"${t}" for t in (*trail, name, ref))))
                        continue
                    if ref not in raw:
                        close = difflib.get_close_matches(ref, list(raw), n=1)
                        self.problems.append(source.problem(
                            path, "undefined-vocabulary", f"vocabulary '{item}' is not defined",
                            f"did you mean '${close[0]}'?" if close else None))
                        continue
                    words.extend(expand(ref, (*trail, name)))
                else:
                    words.append(Word(item, fold(item), name))
            resolved[name] = tuple(words)
            return resolved[name]

        for name in raw:
            expand(name, ())
        return resolved

    def _named(self, section: str, what: str) -> dict[str, tuple[Any, SourceFile]]:
        """The entries of ``section`` across files; a name defined twice is reported once."""
        found: dict[str, tuple[Any, SourceFile]] = {}
        for source, model in self.files:
            for name, spec in getattr(model, section).items():
                if name in found:
                    self.problems.append(source.problem(
                        (section, name), "duplicate-id", f"{what} '{name}' is defined twice",
                        f"also defined in {found[name][1].name}", key=True))
                    continue
                found[name] = (spec, source)
        return found

    def _roles(self) -> dict[str, RoleSpec]:
        named: dict[str, tuple[RoleSpec, SourceFile]] = self._named("roles", "role")
        roles = {name: spec for name, (spec, _) in named.items()}
        where = {name: source for name, (_, source) in named.items()}
        for name, spec in roles.items():
            target = spec.escalates_to
            if target is not None and target not in roles and ("roles", target) not in self.broken:
                self.problems.append(where[name].problem(
                    ("roles", name, "escalates_to"), "undefined-role",
                    f"role '{target}' is not defined", _did_you_mean(target, roles)))
        for name, spec in roles.items():
            seen = [name]
            current = spec.escalates_to
            while current is not None and current in roles:
                if current in seen:
                    if current == name:
                        self.problems.append(where[name].problem(
                            ("roles", name, "escalates_to"), "cycle",
                            "escalation goes round in a circle: " + " -> ".join([*seen, current]),
                            "the last role of a chain has no escalates_to"))
                    break
                seen.append(current)
                current = roles[current].escalates_to
        return roles

    def _stages(self, taxonomy: dict[str, dict[str, str]],
                vocabularies: dict[str, tuple[Word, ...]],
                roles: dict[str, RoleSpec]) -> dict[str, StageDef]:
        rules: dict[str, list[RuleDef]] = defaultdict(list)
        defaults: dict[str, tuple[dict[str, Any], SourceFile, int]] = {}
        seen_ids: dict[str, tuple[SourceFile, int]] = {}
        values = {k: frozenset(v) for k, v in taxonomy.items()}
        order = 0
        for source, model in self.files:
            for stage_name, stage in model.stages.items():
                path: PathKey = ("stages", stage_name)
                if stage_name not in STAGES:
                    self.problems.append(source.problem(
                        path, "unknown-stage", f"unknown stage '{stage_name}'",
                        _did_you_mean(stage_name, STAGES) or
                        f"stages: {', '.join(STAGES)}", key=True))
                    continue
                if "default" in source.data["stages"][stage_name]:
                    outputs = self._outputs(source, stage_name, stage.default,
                                            (*path, "default"), values, roles, default=True)
                    if outputs is None:  # reported: no "missing default" on top of it
                        self.broken.add(("stages", stage_name))
                    if stage_name in defaults:
                        first = defaults[stage_name][1]
                        self.problems.append(source.problem(
                            (*path, "default"), "conflict",
                            f"the {stage_name} stage has two defaults",
                            f"keep one: the other is in {first.name} line "
                            f"{defaults[stage_name][2]}", key=True))
                    elif outputs is not None:
                        defaults[stage_name] = (outputs, source,
                                                source.mark((*path, "default"), key=True)[0])
                earlier = STAGES[: STAGES.index(stage_name)]
                scope = ConditionScope(stage_name, earlier, vocabularies, values)
                positions = self.positions[source.name].get(stage_name, [])
                for i, rule in enumerate(stage.rules):
                    rule_path: PathKey = (*path, "rules", positions[i] if i < len(positions) else i)
                    order += 1
                    built = self._rule(source, stage_name, rule, rule_path, scope, values,
                                       roles, order)
                    if rule.id in seen_ids:
                        other, line = seen_ids[rule.id]
                        self.problems.append(source.problem(
                            (*rule_path, "id"), "duplicate-id",
                            f"rule id '{rule.id}' is used twice",
                            f"also used in {other.name} line {line}; rule ids must be unique"))
                    else:
                        seen_ids[rule.id] = (source, source.mark(rule_path)[0])
                    if built is not None:
                        rules[stage_name].append(built)
        out: dict[str, StageDef] = {}
        for stage_name in STAGES:
            if stage_name not in defaults:
                if stage_name in OPTIONAL_STAGES and not rules[stage_name] and not any(
                        stage_name in m.stages for _, m in self.files):
                    continue
                if self.files and ("stages", stage_name) not in self.broken and not any(
                        p.code == "conflict" and f"{stage_name} stage" in p.message
                        for p in self.problems):
                    declared = next((s for s, m in self.files if stage_name in m.stages),
                                    self._first_file())
                    self.problems.append(declared.problem(
                        ("stages", stage_name), "missing-default",
                        f"the {stage_name} stage has no default",
                        f"add 'stages: {{{stage_name}: {{default: ...}}}}': the outputs used "
                        "when no rule matches", key=True))
                continue
            ordered = sorted(rules[stage_name], key=lambda r: (-r.priority, r.order))
            default, dsource, dline = defaults[stage_name]
            out[stage_name] = StageDef(stage_name, HIT_POLICY[stage_name], tuple(ordered),
                                       default, dsource.name, dline)
            if HIT_POLICY[stage_name] == "first":
                self._ties(stage_name, ordered)
        return out

    def _cascade(self, problem: Problem) -> bool:
        """A reference to a vocabulary whose own definition was already reported."""
        if problem.code != "undefined-vocabulary":
            return False
        name = problem.message.split("'")[1].lstrip("$")
        return ("vocabularies", name) in self.broken

    def _ties(self, stage: str, rules: list[RuleDef]) -> None:
        """Rules of equal priority that can both hold and set different outputs."""
        by_priority: dict[int, list[RuleDef]] = defaultdict(list)
        for rule in rules:
            by_priority[rule.priority].append(rule)
        for priority, group in by_priority.items():
            for i, later in enumerate(group):
                rival = next((first for first in group[:i]
                              if first.outputs != later.outputs
                              and not exclusive(first.condition, later.condition)), None)
                if rival is None:
                    continue
                source = next(s for s, _ in self.files if s.name == later.file)
                self.problems.append(Problem(
                    later.file, later.line, 1, "priority-tie",
                    f"{rival.id} ({rival.file}:{rival.line}) and {later.id} share priority "
                    f"{priority} in the {stage} stage, can both hold, and set different "
                    f"outputs: {_outputs_text(rival.outputs)} / {_outputs_text(later.outputs)}",
                    f"file order decides ({rival.id} wins); give them different priorities, "
                    "or make their conditions exclude each other",
                    source.lines[later.line - 1] if later.line <= len(source.lines) else None,
                    "warning"))

    def _rule(self, source: SourceFile, stage: str, rule: RuleSpec, path: PathKey,
              scope: ConditionScope, values: dict[str, frozenset[str]],
              roles: dict[str, RoleSpec], order: int) -> RuleDef | None:
        parser = ConditionParser(source, scope)
        condition = parser.parse(rule.when, (*path, "when"))
        self.problems.extend(p for p in parser.problems if not self._cascade(p))
        outputs = self._outputs(source, stage, rule.set, (*path, "set"), values, roles)
        if condition is None or outputs is None:
            return None
        line = source.mark(path)[0]
        return RuleDef(rule.id, stage, rule.description, rule.priority, condition, outputs,
                       source.name, line, order)

    def _outputs(self, source: SourceFile, stage: str, value: Any, path: PathKey,
                 values: dict[str, frozenset[str]], roles: dict[str, RoleSpec],
                 *, default: bool = False) -> dict[str, Any] | None:
        allowed = STAGE_OUTPUTS[stage]
        shorthand = False  # ``default: [...]`` written for ``default: {flags: [...]}``
        if not isinstance(value, dict):
            if stage in ("flags", "deadlines") and isinstance(value, list | str):
                value = {stage: value}
                shorthand = True
            elif isinstance(value, str) and len(allowed) >= 1:
                value = {allowed[0]: value}
            else:
                what = "default" if default else "set"
                self.problems.append(source.problem(
                    path, "wrong-type",
                    f"'{what}' of the {stage} stage takes a mapping such as "
                    f"{{{allowed[0]}: ...}}"))
                return None
        out: dict[str, Any] = {}
        ok = True
        for key, item in value.items():
            where: PathKey = path if shorthand else (*path, key)
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                owner = next((s for s, keys in STAGE_OUTPUTS.items() if key in keys), None)
                hint = (f"did you mean '{close[0]}'?" if close else
                        f"'{key}' is set in the {owner} stage" if owner else
                        f"the {stage} stage sets: {', '.join(allowed)}")
                self.problems.append(source.problem(
                    where, "unknown-key", f"the {stage} stage cannot set '{key}'", hint,
                    key=True))
                ok = False
                continue
            checked = self._output_value(source, key, item, where, values, roles)
            if checked is None:
                ok = False
            else:
                out[key] = checked
        if ok and not default and not out:
            self.problems.append(source.problem(path, "empty", "'set' sets nothing"))
            ok = False
        if ok and default:
            needed = [k for k in allowed if k not in out and k not in ("subcategory",
                                                                       "escalation")]
            if needed:
                self.problems.append(source.problem(
                    path, "missing-key", f"the {stage} default must set {', '.join(needed)}"))
                ok = False
        return out if ok else None

    def _output_value(self, source: SourceFile, key: str, item: Any, where: PathKey,
                      values: dict[str, frozenset[str]],
                      roles: dict[str, RoleSpec]) -> Any:
        if key == "deadlines":
            return self._deadline_items(source, item, where, values)
        if key == "script":
            known = self.script_ids
            if known is None:
                self.problems.append(source.problem(
                    where, "missing-key", "the policy names no scripts folder",
                    "add 'policy: {scripts: ../scripts_cn}'"))
                return None
            if not isinstance(item, str) or item not in known:
                self.problems.append(source.problem(
                    where, "undefined-script", f"script '{item}' is not in the scripts folder",
                    _did_you_mean(str(item), known)))
                return None
            return item
        if key in ("flags", "escalation"):
            items = [item] if isinstance(item, str) else item
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                self.problems.append(source.problem(where, "wrong-type",
                                                    f"'{key}' takes a list of names"))
                return None
            known = values["flags"] if key == "flags" else frozenset(roles)
            for i, name in enumerate(items):
                if name not in known:
                    code = "unknown-value" if key == "flags" else "undefined-role"
                    what = "flag of the taxonomy" if key == "flags" else "defined role"
                    self.problems.append(source.problem(
                        (*where, i) if isinstance(item, list) else where, code,
                        f"'{name}' is not a {what}", _did_you_mean(name, known)))
                    return None
            return tuple(dict.fromkeys(items))
        if not isinstance(item, str):
            self.problems.append(source.problem(where, "wrong-type",
                                                f"'{key}' takes a name, found {item!r}"))
            return None
        known = frozenset(roles) if key == "owner" else values[key]
        if item not in known:
            code = "undefined-role" if key == "owner" else "unknown-value"
            what = "defined role" if key == "owner" else f"{key} of the taxonomy"
            self.problems.append(source.problem(where, code, f"'{item}' is not a {what}",
                                                _did_you_mean(item, known)))
            return None
        return item


    def _deadline_items(self, source: SourceFile, value: Any, where: PathKey,
                        values: dict[str, frozenset[str]]) -> tuple[DeadlineSpec, ...] | None:
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
                        _did_you_mean(name, milestones) or
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
                    _did_you_mean(calendar, self.calendar_names) or
                    "define it under 'calendars:'"))
                ok = False
            if item.after is not None:
                self.anchors.append((source, (*at, "after"), item.milestone, item.after))
            out.append(DeadlineSpec(item.milestone, duration, item.within, calendar, item.after))
        return tuple(out) if ok else None


def _did_you_mean(name: str, known: Any) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean '{close[0]}'?" if close else None
