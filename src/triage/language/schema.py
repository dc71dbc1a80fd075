"""Stage 2 of the pipeline: the shape of policy files, as pydantic models.

These models check structure (keys, types, enum values) and give the JSON Schema for
editors. Conditions under ``when`` are checked by ``conditions.py``, which can say more
precisely what is wrong with a condition than a union of models could.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import Problem
from .loader import PathKey, SourceFile

#: The stages, in the order they run. Each stage may test the outputs of earlier ones.
STAGES: tuple[str, ...] = ("request_type", "flags", "category", "severity", "handling", "owner",
                           "deadlines", "script")

#: Stages a policy may leave out (no deadlines are set, no reply is written then).
OPTIONAL_STAGES: frozenset[str] = frozenset({"deadlines", "script"})

#: How each stage combines the rules that match: the first by priority, all, or the maximum.
HIT_POLICY: dict[str, str] = {
    "request_type": "first",
    "flags": "collect",
    "category": "first",
    "severity": "max",
    "handling": "first",
    "owner": "first",
    "deadlines": "merge",
    "script": "first",
}

#: The keys a rule's ``set`` (and the stage ``default``) may hold, per stage.
STAGE_OUTPUTS: dict[str, tuple[str, ...]] = {
    "request_type": ("request_type",),
    "flags": ("flags",),
    "category": ("category", "subcategory"),
    "severity": ("severity",),
    "handling": ("handling",),
    "owner": ("owner", "escalation", "escalate"),
    "deadlines": ("deadlines",),
    "script": ("script",),
}

DEFAULT_NEGATION_CUES = ("不是", "并非", "并不是", "没有", "并没有", "不属于", "不存在", "无任何")

RuleId = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.\-:/]+$")]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NegationSpec(_Spec):
    """Words that cancel a keyword right after them (不是质量问题 is not a quality complaint)."""

    enabled: bool = True
    cues: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: list(DEFAULT_NEGATION_CUES)
    )
    window: Annotated[int, Field(ge=0, le=10)] = 2


TopicPart = Literal["category", "subcategory", "product"]


class HistorySpec(_Spec):
    """What the ``history.*`` fields count: the window of ``complaints_30d``, what makes two
    cases the same topic (always the same customer, then these outputs), and which
    subcategories count towards a team's week (brief §7: attitude and process)."""

    window_days: Annotated[int, Field(ge=1, le=366)] = 30
    topic: list[TopicPart] = Field(
        default_factory=lambda: list[TopicPart](["category", "subcategory", "product"]))
    team_subcategories: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: ["attitude", "process"])


class PolicyMeta(_Spec):
    """Settings of the whole policy; written once, in any one file."""

    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    timezone: str = "Asia/Shanghai"
    negation: NegationSpec = Field(default_factory=NegationSpec)
    default_calendar: Name | None = None
    scripts: str | None = None
    company: str | None = None
    hotline: str | None = None
    #: Markers of notes, reported speech and questions (``triage.text.layout``): a list
    #: given here replaces the built-in one of the same name.
    reading: dict[Literal["note_brackets", "note_sentences", "reported", "question"],
                  list[WordText]] = Field(default_factory=dict)
    #: How a reply addresses a customer whose name gives no known surname (and title).
    neutral_address: Annotated[str, Field(min_length=1, max_length=10)] = "您"
    #: What the ``history.*`` fields count when a case store is given (docs/history.md).
    history: HistorySpec = Field(default_factory=HistorySpec)


class Taxonomy(_Spec):
    """The values each output may take, with their Chinese labels.

    ``severity`` is listed from the mildest to the most serious: severity rules combine as
    the maximum in this order.
    """

    request_type: dict[str, str] = Field(default_factory=dict)
    handling: dict[str, str] = Field(default_factory=dict)
    category: dict[str, str] = Field(default_factory=dict)
    subcategory: dict[str, str] = Field(default_factory=dict)
    severity: dict[str, str] = Field(default_factory=dict)
    flags: dict[str, str] = Field(default_factory=dict)
    domain: dict[str, str] = Field(default_factory=dict)
    milestones: dict[str, str] = Field(default_factory=dict)


WordText = Annotated[str, Field(min_length=1)]


class WordSpec(_Spec):
    """A word with the longer phrases in which it does not count, written next to it:
    ``{word: 漏水, except: [防漏水, 漏水险]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True,
                              populate_by_name=True)

    word: WordText
    except_: Annotated[list[WordText], Field(alias="except", min_length=1)]


class VocabularySpec(_Spec):
    """A named word list that rules reuse as ``$name``. Numbers (12315) count as words."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    description: str | None = None
    words: Annotated[list[WordText | WordSpec], Field(min_length=1)]


class RoleSpec(_Spec):
    """Someone a complaint can be assigned or escalated to."""

    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    escalates_to: Name | None = None


Hhmm = Annotated[str, Field(pattern=r"^\s*\d{1,2}:\d{2}\s*[-–~]\s*\d{1,2}:\d{2}\s*$")]


class CalendarSelect(_Spec):
    """Choose a calendar per complaint from a record field (a site in another time zone)."""

    field: Annotated[str, Field(min_length=1)]
    cases: dict[str, Name]
    default: Name


class CalendarSpec(_Spec):
    """Working time that deadlines are counted on: zone, weekly hours and special dates.

    ``select`` instead makes this name stand for one of several calendars, chosen by a
    field of the complaint; it cannot be combined with the other keys.
    """

    label: str | None = None
    timezone: str = "Asia/Shanghai"
    hours: dict[str, list[Hhmm]] = Field(
        default_factory=lambda: {"mon-fri": ["09:00-12:00", "13:30-18:00"]})
    chinese_holidays: bool = True
    holidays: dict[date, str | None] | list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    half_days: dict[date, list[Hhmm]] = Field(default_factory=dict)
    makeup_hours: list[Hhmm] | None = None
    known_years: list[Annotated[int, Field(ge=1900, le=2200)]] | None = None
    beyond_data: Literal["error", "assume_weekends"] = "error"
    select: CalendarSelect | None = None


class DeadlineItem(_Spec):
    """One milestone a deadlines rule sets: due ``within`` a duration, on a calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    milestone: Name
    within: Annotated[str, Field(min_length=1)]
    calendar: Name | None = None
    after: Name | None = None


class EscalationSpec(_Spec):
    """A trigger of the escalation ladder: when it holds, the case goes ``levels`` up."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=False)

    id: RuleId
    description: str | None = None
    levels: Annotated[int, Field(ge=1, le=10)] = 1
    breached: Name | None = None
    breached_by: str | None = None
    milestone: Name | None = None
    rejections: Annotated[int, Field(ge=1, le=100)] | None = None
    severity: Name | None = None


class ForbiddenSpec(_Spec):
    """A forbidden phrase (服务忌语): why, what to say instead, and innocent longer words."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    phrase: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1)]
    suggestion: Annotated[str, Field(min_length=1)]
    except_: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list,
                                                               alias="except")
    standalone: bool = False


class RuleSpec(_Spec):
    """One rule: when its condition holds, it sets its stage's outputs."""

    id: RuleId
    description: str | None = None
    priority: int = 0
    #: In a ``hit: score`` stage: what the rule adds to the value it sets (default 1), or,
    #: with ``decisive``, none: the rule decides as under ``first``, before any scoring.
    weight: float | None = None
    decisive: bool = False
    when: Any
    set: dict[str, Any]


class StageSpec(_Spec):
    """A stage's rules and the outputs it gives when no rule matches.

    ``hit: score`` (single-output stages) adds up the weights of the rules that hold, per
    value; the highest total at or above ``min_score`` wins, and ``tie`` says who decides
    a tie: the default, or the tied value whose strongest rule comes first by priority.
    """

    hit: Literal["first", "score"] | None = None
    min_score: float | None = None
    tie: Literal["default", "priority"] | None = None
    default: Any = None
    rules: list[RuleSpec] = Field(default_factory=list)


class PolicyFile(_Spec):
    """One YAML file of a policy; a policy is the merge of all its files."""

    policy: PolicyMeta | None = None
    taxonomy: Taxonomy | None = None
    vocabularies: dict[Name, VocabularySpec] = Field(default_factory=dict)
    #: Named regexes (RE2) that rules reuse as ``regex: $name``.
    patterns: dict[Name, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    roles: dict[Name, RoleSpec] = Field(default_factory=dict)
    calendars: dict[Name, CalendarSpec] = Field(default_factory=dict)
    stages: dict[str, StageSpec] = Field(default_factory=dict)
    escalation: list[EscalationSpec] = Field(default_factory=list)
    forbidden: list[ForbiddenSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class FileSpec:
    """A file's valid parts, its problems, and the names whose definition was broken.

    Each vocabulary, role, rule and stage default is checked on its own, so one mistake
    costs only that entry; references to a broken name are not reported a second time.
    """

    model: PolicyFile
    problems: list[Problem]
    broken: frozenset[tuple[str, str]]
    #: For each stage, the position in the file of each rule that passed (others dropped).
    rule_positions: dict[str, list[int]] = field(default_factory=dict)


_ENTRY_SECTIONS = ("vocabularies", "roles", "calendars")


def validate_file(source: SourceFile) -> FileSpec:
    """Check one file's structure, entry by entry, with problems located in the file."""
    if source.data is None:
        return FileSpec(PolicyFile(), [], frozenset())
    if not isinstance(source.data, dict):
        problem = source.problem((), "wrong-type", "a policy file must be a mapping of sections",
                                 "start with a section name such as 'stages:'")
        return FileSpec(PolicyFile(), [problem], frozenset())
    problems: list[Problem] = []
    broken: set[tuple[str, str]] = set()
    positions: dict[str, list[int]] = {}
    clean: dict[str, Any] = {}
    for section, value in source.data.items():
        if section in _ENTRY_SECTIONS and isinstance(value, dict):
            clean[section] = {}
            for name, raw_spec in value.items():
                # shorthand: ``leak: [漏水, 渗水]`` is ``leak: {words: [漏水, 渗水]}``
                spec = ({"words": raw_spec} if section == "vocabularies"
                        and isinstance(raw_spec, list) else raw_spec)
                errors = _errors({section: {name: spec}}, source)
                if errors:
                    problems.extend(errors)
                    broken.add((section, str(name)))
                else:
                    clean[section][name] = spec
        elif section == "stages" and isinstance(value, dict):
            clean[section] = {}
            for stage, body in value.items():
                clean[section][stage] = _clean_stage(source, stage, body, problems, broken,
                                                     positions.setdefault(str(stage), []))
        else:
            errors = _errors({section: value}, source)
            problems.extend(errors)
            if not errors:
                clean[section] = value
    return FileSpec(PolicyFile.model_validate(clean), problems, frozenset(broken), positions)


def _clean_stage(source: SourceFile, stage: str, body: Any, problems: list[Problem],
                 broken: set[tuple[str, str]], positions: list[int]) -> Any:
    if not isinstance(body, dict):
        problems.extend(_errors({"stages": {stage: body}}, source))
        broken.add(("stages", stage))
        return {}
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "rules" and isinstance(value, list):
            rules = []
            for i, rule in enumerate(value):
                errors = _errors(rule, source, RuleSpec, ("stages", stage, "rules", i))
                if errors:
                    problems.extend(errors)
                    if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                        broken.add(("rules", rule["id"]))
                else:
                    rules.append(rule)
                    positions.append(i)
            out["rules"] = rules
        else:
            errors = _errors({"stages": {stage: {key: value}}}, source)
            problems.extend(errors)
            if errors and key == "default":
                broken.add(("stages", stage))
            if not errors:
                out[key] = value
    return out


def model_problems(data: Any, source: SourceFile, model: type[BaseModel],
                   prefix: PathKey) -> list[Problem]:
    """Problems of ``data`` against ``model``, located at ``prefix`` in ``source``."""
    return _errors(data, source, model, prefix)


def _errors(data: Any, source: SourceFile, model: type[BaseModel] = PolicyFile,
            prefix: PathKey = ()) -> list[Problem]:
    """Validate ``data`` against ``model``; problems are located at ``prefix`` + their path."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [_problem(source, {**err, "loc": (*prefix, *err["loc"])})
                for err in exc.errors(include_url=False)]
    return []


def _model_at(path: PathKey) -> type[BaseModel] | None:
    """The model that owns the mapping at ``path``, to suggest its keys."""
    model: type[BaseModel] | None = PolicyFile
    i = 0
    while model is not None and i < len(path):
        key = path[i]
        if model is PolicyFile and key in ("vocabularies", "roles", "calendars", "stages"):
            i += 2
            sections: dict[str | int, type[BaseModel]] = {
                "vocabularies": VocabularySpec, "roles": RoleSpec, "calendars": CalendarSpec,
                "stages": StageSpec}
            model = sections[key]
            continue
        if model is StageSpec and key == "rules":
            i += 2
            model = RuleSpec
            continue
        field = model.model_fields.get(str(key))
        if field is None:
            return None
        annotation = field.annotation
        nested: list[type[BaseModel]] = [
            a for a in getattr(annotation, "__args__", (annotation,))
            if isinstance(a, type) and issubclass(a, BaseModel)]
        model = nested[0] if nested else None
        i += 1
    return model


def _problem(source: SourceFile, err: Any) -> Problem:
    is_key = "[key]" in err["loc"]
    loc: PathKey = tuple(p for p in err["loc"] if p != "[key]")
    if len(loc) >= 3 and loc[0] == "vocabularies" and loc[2] == "words" and not isinstance(
        (source.data.get("vocabularies") or {}).get(loc[1]), dict
    ):
        loc = (loc[0], loc[1], *loc[3:])  # the shorthand list form has no 'words' key
    kind = err["type"]
    value = err.get("input")
    if is_key:
        return source.problem(
            loc, "bad-name", f"name {_show(value)} has characters that are not allowed",
            "names start with a letter and use letters, digits and _", key=True,
        )
    if kind == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(loc[:-1])
        known = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else (
            f"allowed keys here: {', '.join(known)}" if known else None)
        return source.problem(loc, "unknown-key", f"unknown key '{key}'", hint, key=True)
    if kind == "missing":
        return source.problem(loc[:-1], "missing-key", f"missing required key '{loc[-1]}'", None)
    if kind in ("string_type", "int_type", "int_parsing", "bool_type", "bool_parsing",
                "dict_type", "list_type", "model_type", "model_attributes_type"):
        expected = {
            "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
            "bool_type": "true or false", "bool_parsing": "true or false",
            "dict_type": "a mapping (key: value lines)", "list_type": "a list ([a, b] or - lines)",
            "model_type": "a mapping (key: value lines)",
            "model_attributes_type": "a mapping (key: value lines)",
        }[kind]
        return source.problem(loc, "wrong-type", f"expected {expected}, found {_show(value)}")
    if kind == "string_pattern_mismatch":
        name = str(loc[-1]) if loc else "value"
        return source.problem(
            loc, "bad-name", f"{name} {_show(value)} has characters that are not allowed",
            "use letters, digits and _ (rule ids may also use . - : /)",
        )
    if kind in ("string_too_short", "too_short"):
        return source.problem(loc, "empty", "must not be empty")
    return source.problem(loc, "invalid", err["msg"])


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def policy_json_schema() -> str:
    """The JSON Schema of one policy file, for editors (completion and inline errors)."""
    schema = PolicyFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "triage policy file"
    schema["description"] = ("One YAML file of a triage policy (rules/*.yaml). Conditions "
                             "under 'when' are checked by 'triage check', which says more "
                             "than a schema can.")
    return json.dumps(schema, ensure_ascii=False, indent=2)
