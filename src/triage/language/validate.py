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

from ..complaint import Handling, RequestType
from ..deadlines.calendar import BusinessCalendar
from ..deadlines.escalation import EscalationTrigger
from ..errors import PolicyError, Problem, Severity, did_you_mean
from ..replies.guard import ForbiddenPhrase, Guard
from ..replies.scripts import ScriptLibrary, load_scripts
from ..text.folding import fold
from .conditions import Condition, OutputTest, Word, reads_history, walk
from .implication import exclusive
from .loader import LoadedPolicy, PathKey, SourceFile
from .outputs import OutputChecker
from .parse_base import ConditionScope
from .parser import ConditionParser, regex_problem
from .schema import (
    HIT_POLICY,
    OPTIONAL_STAGES,
    STAGE_OUTPUTS,
    STAGES,
    CalendarSelect,
    PolicyFile,
    PolicyMeta,
    RoleSpec,
    RuleSpec,
    WordSpec,
    validate_file,
)
from .scoring import DEFAULT_WEIGHT, FIRST, ScoreChecker, ScoreSettings, Weight
from .timing import TimingChecker

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
    #: In a scored stage: what the rule adds to its value, in thousandths (scoring.py).
    weight: Weight = DEFAULT_WEIGHT
    #: In a scored stage: the rule decides as under ``first``, before any scoring.
    decisive: bool = False


@dataclass(frozen=True, slots=True)
class StageDef:
    """A validated stage: its rules in evaluation order and its default outputs."""

    name: str
    hit: str
    rules: tuple[RuleDef, ...]
    default: dict[str, Any]
    default_file: str
    default_line: int
    #: ``hit: score`` settings; ``first`` for the stages that are not scored.
    score: ScoreSettings = FIRST

    @property
    def scored(self) -> bool:
        return self.score.hit == "score"


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
    #: The named regexes (``patterns:``) and where each is defined.
    patterns: dict[str, str] = field(default_factory=dict)
    pattern_places: dict[str, tuple[str, int]] = field(default_factory=dict)


def validate_policy(loaded: LoadedPolicy) -> PolicyModel:
    """Check a loaded policy; raise ``PolicyError`` with every problem, or return the model."""
    return _Validator(loaded).run()


def _outputs_text(outputs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(outputs.items()))


class _AnyScript(frozenset[str]):
    """The script ids of a scripts folder already reported as unusable: every id counts as
    known, so that the rules naming scripts are not reported once more each."""

    def __contains__(self, item: object) -> bool:
        return True


_ANY_SCRIPT = _AnyScript()


class _Validator:
    def __init__(self, loaded: LoadedPolicy) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.files: list[tuple[SourceFile, PolicyFile]] = []
        self.positions: dict[str, dict[str, list[int]]] = {}
        self.broken: set[tuple[str, str]] = set()
        self.timing = TimingChecker(self.problems)
        self.pattern_places: dict[str, tuple[str, int]] = {}
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
        self.patterns = self._patterns()
        roles = self._roles()
        guard = self._guard()
        scripts = self._scripts(meta, guard)
        calendars, choices = self.timing.calendars(
            self._named("calendars", "calendar"),
            [n for s, n in self.broken if s == "calendars"], meta, self._policy_file())
        self.outputs = OutputChecker(self.problems, self.timing, self.script_ids)
        stages = self._stages(taxonomy, vocabularies, roles)
        self._history_loops(stages)
        self.timing.check_anchors()
        escalation = self.timing.escalation(self.files, taxonomy)
        errors = [p for p in self.problems if p.severity == "error"]
        if errors or meta is None:
            raise PolicyError(self.problems)
        warnings = tuple(p for p in self.problems if p.severity == "warning")
        version = self.loaded.version
        if scripts is not None:  # the templates are part of what decides a reply
            version = hashlib.sha256((version + scripts.digest).encode()).hexdigest()[:16]
        return PolicyModel(meta, taxonomy, vocabularies, roles, stages, version,
                           warnings, calendars, choices, self.timing.calendar_labels, escalation,
                           guard, scripts, self.vocabulary_places, self.patterns,
                           self.pattern_places)

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
        if not folder.is_relative_to(root.resolve()):
            self.problems.append(source.problem(
                ("policy", "scripts"), "outside-policy",
                f"the scripts folder '{meta.scripts}' is outside the policy folder",
                "keep the templates inside the policy folder, e.g. scripts: scripts_cn, so "
                "that a copy of the folder is the whole policy"))
            self.script_ids = _ANY_SCRIPT  # reported once here, not at every rule
            return None
        if not folder.is_dir():
            self.problems.append(source.problem(
                ("policy", "scripts"), "not-found",
                f"the scripts folder '{meta.scripts}' does not exist",
                "give a path relative to the policy folder, e.g. scripts_cn"))
            self.script_ids = _ANY_SCRIPT
            return None
        library, problems = load_scripts(folder, root.parent, guard)
        self.problems.extend(problems)
        self.script_ids = library.ids | {p.file.rsplit("/", 1)[-1].removesuffix(".j2")
                                         for p in problems}
        return library

    def _policy_file(self) -> SourceFile | None:
        """The file with the ``policy:`` section, if any."""
        return next((s for s, m in self.files if m.policy is not None), None)

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
        raw: dict[str, tuple[list[str | WordSpec], SourceFile]] = {}
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
                if isinstance(item, WordSpec):
                    words.append(Word(item.word, fold(item.word), name,
                                      tuple(fold(e) for e in item.except_)))
                elif item.startswith("$"):
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

    def _patterns(self) -> dict[str, str]:
        """The named regexes (``patterns:``), each checked once where it is defined."""
        out: dict[str, str] = {}
        for name, (pattern, source) in self._named("patterns", "pattern").items():
            at: PathKey = ("patterns", name)
            self.pattern_places[name] = (source.name, source.mark(at, key=True)[0])
            problem = regex_problem(pattern)
            if problem is not None:
                self.problems.append(source.problem(at, *problem))
                continue
            out[name] = pattern
        return out

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
                    f"role '{target}' is not defined", did_you_mean(target, roles)))
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
        self.scoring = ScoreChecker(self.problems)
        self.scoring.stages(self.files)
        for source, model in self.files:
            for stage_name, stage in model.stages.items():
                path: PathKey = ("stages", stage_name)
                if stage_name not in STAGES:
                    self.problems.append(source.problem(
                        path, "unknown-stage", f"unknown stage '{stage_name}'",
                        did_you_mean(stage_name, STAGES) or
                        f"stages: {', '.join(STAGES)}", key=True))
                    continue
                if "default" in source.data["stages"][stage_name]:
                    outputs = self.outputs.outputs(source, stage_name, stage.default,
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
                scope = ConditionScope(stage_name, earlier, vocabularies, values,
                                       self.patterns)
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
            score = self.scoring.settings.get(stage_name, FIRST)
            out[stage_name] = StageDef(stage_name, HIT_POLICY[stage_name], tuple(ordered),
                                       default, dsource.name, dline, score)
            if score.hit == "score":  # only decisive rules are ordered by priority
                self.scoring.order(stage_name, ordered, {s.name: s for s, _ in self.files})
                self._ties(stage_name, [r for r in ordered if r.decisive])
            elif HIT_POLICY[stage_name] == "first":
                self._ties(stage_name, ordered)
        return out

    def _history_loops(self, stages: Mapping[str, StageDef]) -> None:
        """A category rule testing a flag that a flags rule sets from history: the topic
        the history is counted on would depend on that history."""
        flags = stages.get("flags")
        if flags is None or "category" not in stages:
            return
        from_history = {name: rule for rule in flags.rules if reads_history(rule.condition)
                        for name in rule.outputs.get("flags", ())}
        loops = [(rule, name, from_history[name]) for rule in stages["category"].rules
                 for test in walk(rule.condition)
                 if isinstance(test, OutputTest) and test.name == "flags"
                 for name in test.values if name in from_history]
        self.problems.extend(self._at_rule(
            rule, "history-loop", f"{rule.id} tests flag {name}, which {setter.id} "
            f"({setter.file}:{setter.line}) sets from history; history is counted on the "
            "category, so the category cannot depend on it",
            "test the flag in a later stage (severity, handling, owner)")
            for rule, name, setter in loops)

    def _at_rule(self, rule: RuleDef, code: str, message: str, hint: str,
                 severity: Severity = "error") -> Problem:
        """A problem reported at a rule's first line, with that line shown."""
        source = next(s for s, _ in self.files if s.name == rule.file)
        shown = source.lines[rule.line - 1] if rule.line <= len(source.lines) else None
        return Problem(rule.file, rule.line, 1, code, message, hint, shown, severity)

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
                self.problems.append(self._at_rule(
                    later, "priority-tie",
                    f"{rival.id} ({rival.file}:{rival.line}) and {later.id} share priority "
                    f"{priority} in the {stage} stage, can both hold, and set different "
                    f"outputs: {_outputs_text(rival.outputs)} / {_outputs_text(later.outputs)}",
                    f"file order decides ({rival.id} wins); give them different priorities, "
                    "or make their conditions exclude each other", "warning"))

    def _rule(self, source: SourceFile, stage: str, rule: RuleSpec, path: PathKey,
              scope: ConditionScope, values: dict[str, frozenset[str]],
              roles: dict[str, RoleSpec], order: int) -> RuleDef | None:
        parser = ConditionParser(source, scope)
        condition = parser.parse(rule.when, (*path, "when"))
        self.problems.extend(p for p in parser.problems if not self._cascade(p))
        outputs = self.outputs.outputs(source, stage, rule.set, (*path, "set"), values, roles)
        scoring = self.scoring.rule(source, stage, rule.weight, rule.decisive, path)
        if condition is None or outputs is None or scoring is None:
            return None
        key = STAGE_OUTPUTS[stage][0]
        if HIT_POLICY[stage] == "first" and key not in outputs and (
                stage != "owner" or "escalate" not in outputs) and (
                self.scoring.settings.get(stage, FIRST).hit != "score" or scoring[1]):
            others = ", ".join(k for k in outputs)
            self.problems.append(source.problem(
                (*path, "set"), "missing-key",
                f"a rule of the {stage} stage must set {key} (it sets only {others}): the "
                "rule that fires decides the stage's value",
                f"add {key}: ... to 'set'" + (" (or escalate: to raise the owner the other "
                                               "rules give)" if stage == "owner" else "")))
            return None
        if self.scoring.settings.get(stage, FIRST).hit == "score" and not scoring[1] and (
                key not in outputs):
            self.problems.append(source.problem(
                (*path, "set"), "missing-key",
                f"a scored rule of the {stage} stage must set {key}: its weight counts for "
                "that value", f"add {key}: ... to 'set', or make the rule decisive"))
            return None
        line = source.mark(path)[0]
        return RuleDef(rule.id, stage, rule.description, rule.priority, condition, outputs,
                       source.name, line, order, *scoring)
