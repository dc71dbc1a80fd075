"""The decision record: what the policy decided about one complaint, and why.

Every ``Decision`` is a frozen, JSON-serialisable record with a versioned schema
(``DECISION_SCHEMA_VERSION``): the outputs of each stage, the rules that fired with the
evidence they matched, and the content hash of the policy that made it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, overload

from ._frozen import positional_builder
from ._json import compact

if TYPE_CHECKING:
    from .deadlines.planner import Deadline

#: Bumped whenever a field of the JSON form of a Decision changes meaning or disappears.
#: 2: ``detail`` (lean or full) and ``rules`` (the ids that fired per stage); ``triage
#: route`` writes the lean form unless told ``--explain``.
DECISION_SCHEMA_VERSION = 3
#: The two JSON forms of a decision: ``lean`` (the outcome, deadlines, reply text, the
#: ids of the rules that fired) or ``full`` (also the evidence, conditions, deadline steps
#: and scores).
Detail = Literal["lean", "full"]

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Reply:
    """The reply script a decision chose, rendered, with the values it was given."""

    script_id: str
    text: str
    variables: Mapping[str, Any]
    locale: str

    def to_dict(self) -> dict[str, Any]:
        return {"script_id": self.script_id, "text": self.text,
                "variables": _plain(self.variables), "locale": self.locale}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reply, (self.script_id, self.text, _plain(self.variables), self.locale))


def _plain(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ([dict(d) for d in v] if k == "deadlines" else v) for k, v in variables.items()}


def _reply(script_id: str, text: str, variables: dict[str, Any], locale: str) -> Reply:
    frozen = {k: (tuple(MappingProxyType(d) for d in v) if k == "deadlines" else v)
              for k, v in variables.items()}
    return Reply(script_id, text, MappingProxyType(frozen), locale)


@dataclass(frozen=True, slots=True)
class KeywordEvidence:
    """A policy word found in the complaint text; offsets index the original text."""

    word: str
    vocabulary: str | None
    start: int
    end: int
    matched: str
    kind: Literal["keyword"] = "keyword"


@dataclass(frozen=True, slots=True)
class RegexEvidence:
    """A policy regex that matched the complaint text."""

    pattern: str
    start: int
    end: int
    matched: str
    kind: Literal["regex"] = "regex"


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """A record field whose value satisfied a comparison."""

    path: str
    op: str
    expected: Any
    actual: Any
    kind: Literal["field"] = "field"


@dataclass(frozen=True, slots=True)
class OutputEvidence:
    """An output of an earlier stage (a flag, a category...) that a condition tested."""

    name: str
    value: str
    kind: Literal["output"] = "output"


@dataclass(frozen=True, slots=True)
class AbsenceEvidence:
    """A negative test that held: something the condition required to be absent was."""

    condition: str
    kind: Literal["absent"] = "absent"


@dataclass(frozen=True, slots=True)
class SpanEvidence:
    """A word found where a positional test wanted it: near another word (``near_*``), in a
    part of the text (``part``: customer, note, reported), in a question (``sentence``)."""

    word: str
    vocabulary: str | None
    start: int
    end: int
    matched: str
    part: str
    sentence: str
    near: str | None = None
    near_start: int | None = None
    near_end: int | None = None
    near_matched: str | None = None
    kind: Literal["span"] = "span"


Evidence = (KeywordEvidence | RegexEvidence | FieldEvidence | OutputEvidence | AbsenceEvidence
            | SpanEvidence)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as the policy writes it: stage, id, where it is, its condition and outputs."""

    stage: str
    rule_id: str
    file: str
    line: int
    condition: str
    outputs: Mapping[str, Any]
    description: str | None = None
    default: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (RuleInfo, (self.stage, self.rule_id, self.file, self.line, self.condition,
                           dict(self.outputs), self.description, self.default))


Explainer = Callable[[Any], "list[Evidence]"]


class RuleHit:
    """One rule that fired (or a stage default that applied), and the evidence it matched.

    The evidence is built from the complaint the first time it is read, so that routing
    pays only for the explanations someone looks at; it is the same whenever it is built.
    Attributes are read-only.
    """

    __slots__ = ("_context", "_evidence", "_explain", "_info")

    def __init__(self, info: RuleInfo, evidence: tuple[Evidence, ...] | None = None,
                 explain: Explainer | None = None, context: Any = None) -> None:
        if evidence is None and explain is None:
            evidence = ()
        self._info = info
        self._evidence = evidence
        self._explain = explain
        self._context = context

    @property
    def info(self) -> RuleInfo:
        return self._info

    @property
    def stage(self) -> str:
        return self._info.stage

    @property
    def rule_id(self) -> str:
        return self._info.rule_id

    @property
    def file(self) -> str:
        return self._info.file

    @property
    def line(self) -> int:
        return self._info.line

    @property
    def condition(self) -> str:
        return self._info.condition

    @property
    def outputs(self) -> Mapping[str, Any]:
        return self._info.outputs

    @property
    def description(self) -> str | None:
        return self._info.description

    @property
    def default(self) -> bool:
        return self._info.default

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """What the rule matched: keywords with offsets, field values, earlier outputs."""
        evidence = self._evidence
        if evidence is None:
            explain = self._explain
            assert explain is not None
            evidence = tuple(explain(self._context))
            self._evidence = evidence  # two threads may both build it: the same value
        return evidence

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleHit):
            return NotImplemented
        return self._info == other._info and self.evidence == other.evidence

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"RuleHit(stage={self.stage!r}, rule_id={self.rule_id!r}, "
                f"file={self.file!r}, line={self.line}, evidence={self.evidence!r})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (RuleHit, (self._info, self.evidence))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "rule_id": self.rule_id,
            "description": self.description,
            "file": self.file,
            "line": self.line,
            "default": self.default,
            "condition": self.condition,
            "outputs": _jsonable(self.outputs),
            "evidence": [_evidence_dict(e) for e in self.evidence],
        }


class Explanation(Sequence[RuleHit]):
    """The rules that fired, in stage order; built from the decision's trace when first read.

    Behaves as an immutable tuple of ``RuleHit`` (and compares equal to one).
    """

    __slots__ = ("_build", "_hits", "_ids")

    def __init__(self, hits: Iterable[RuleHit] = (), *,
                 build: Callable[[], tuple[RuleHit, ...]] | None = None,
                 ids: Callable[[], dict[str, list[str]]] | None = None) -> None:
        self._hits: tuple[RuleHit, ...] | None = None if build is not None else tuple(hits)
        self._build = build
        self._ids = ids

    def ids_by_stage(self) -> dict[str, list[str]]:
        """The ids of the rules that fired per stage (an empty list: the default decided),
        without building the hits when they are not built yet (lean JSON needs only these)."""
        if self._hits is None and self._ids is not None:
            return self._ids()
        out: dict[str, list[str]] = {}
        for hit in self._all():
            ids = out.setdefault(hit.stage, [])
            if not hit.default:
                ids.append(hit.rule_id)
        return out

    def _all(self) -> tuple[RuleHit, ...]:
        hits = self._hits
        if hits is None:
            build = self._build
            assert build is not None
            hits = build()
            self._hits = hits  # two threads may both build it: the same value
        return hits

    @overload
    def __getitem__(self, index: int) -> RuleHit: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[RuleHit, ...]: ...

    def __getitem__(self, index: int | slice) -> RuleHit | tuple[RuleHit, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[RuleHit]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Explanation):
            return self._all() == other._all()
        if isinstance(other, tuple | list):
            return self._all() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Explanation({list(self._all())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Explanation, (self._all(),))


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role of the policy (``retail_manager``) with its display name (零售经理)."""

    role: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "name": self.name}


@dataclass(frozen=True, slots=True)
class RuleShare:
    """What one rule that held added to a value's total in a scored stage."""

    rule_id: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "weight": self.weight}


@dataclass(frozen=True, slots=True)
class ValueScore:
    """A value's total in a scored stage and the rules that added to it (priority order)."""

    value: str
    total: float
    rules: tuple[RuleShare, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "total": self.total,
                "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True, slots=True)
class StageScores:
    """How a scored stage decided: the totals, highest first, and what settled it.

    ``outcome`` is ``score`` (one value had the highest total), ``tie`` (two or more had
    it: the stage's tie rule decided), ``min_score`` (no total reached the threshold: the
    default applied) or ``none`` (no scored rule held).
    """

    stage: str
    values: tuple[ValueScore, ...]
    outcome: Literal["score", "tie", "min_score", "none"]
    winner: str
    min_score: float

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "outcome": self.outcome, "winner": self.winner,
                "min_score": self.min_score, "values": [v.to_dict() for v in self.values]}


_NO_SCORES: Mapping[str, StageScores] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class HistoryUse:
    """The case history a decision was made with: the facts counted (``history.*``), the
    customer's earlier cases on the same topic (earliest first) and the case this one is
    linked to (the earliest of them), and the team whose week was counted."""

    customer: str
    facts: tuple[tuple[str, int | None], ...]
    case_ids: tuple[str, ...] = ()
    linked_case: str | None = None
    team: str | None = None
    #: The complaint's product (model) and domain: what a store records the case under.
    product: str | None = None
    domain: str | None = None

    def fact(self, name: str) -> int | None:
        return dict(self.facts).get(name)

    def to_dict(self) -> dict[str, Any]:
        return {"customer": self.customer, "facts": dict(self.facts),
                "case_ids": list(self.case_ids), "linked_case": self.linked_case,
                "team": self.team, "product": self.product, "domain": self.domain}


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy decided about one complaint, with the explanation.

    ``deadlines`` and ``reply`` are filled by the deadline and reply-script stages when a
    policy defines them; they are empty otherwise.
    """

    complaint_id: str
    request_type: str
    handling: str
    category: str
    subcategory: str | None
    severity: str
    flags: tuple[str, ...]
    owner: RoleRef
    escalation: tuple[RoleRef, ...]
    explanation: Sequence[RuleHit]
    policy_version: str
    deadlines: tuple[Deadline, ...] = ()
    reply: Reply | None = None
    warnings: tuple[str, ...] = ()
    #: The receipt time the decision used (deadlines, reply, rules on ``received_at``),
    #: None when nothing used one; ``received_at_source`` says where it came from:
    #: ``record``, ``now`` (the caller's stand-in) or ``clock`` (the wall clock: a rerun
    #: decides differently).
    received_at: datetime | None = None
    received_at_source: Literal["record", "now", "clock"] | None = None
    #: For each stage with ``hit: score`` that scored (no decisive rule or given value
    #: decided it): the totals per value and each rule's share. Empty otherwise.
    scores: Mapping[str, StageScores] = field(default_factory=lambda: _NO_SCORES)
    #: The case history the decision used (``Policy.triage(history=...)``); None without.
    history: HistoryUse | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        values = [getattr(self, name) for name in self.__dataclass_fields__]
        values[-2] = dict(self.scores)  # a mapping proxy does not pickle
        return (_unpickle_decision, tuple(values))

    @property
    def received_at_assumed(self) -> bool:
        """True when the record had no ``received_at`` and another time stood in."""
        return self.received_at_source in ("now", "clock")

    def rules_fired(self, stage: str | None = None) -> list[str]:
        """The ids of the rules that fired (defaults excluded), optionally for one stage."""
        return [
            h.rule_id
            for h in self.explanation
            if not h.default and (stage is None or h.stage == stage)
        ]

    def rules_by_stage(self) -> dict[str, list[str]]:
        """The ids of the rules that fired, per stage in the order stages run (an empty
        list: the stage's default decided)."""
        explanation = self.explanation
        if isinstance(explanation, Explanation):
            return explanation.ids_by_stage()
        out: dict[str, list[str]] = {}
        for hit in explanation:
            ids = out.setdefault(hit.stage, [])
            if not hit.default:
                ids.append(hit.rule_id)
        return out

    def to_dict(self, detail: Detail = "full") -> dict[str, Any]:
        """The JSON form of the decision (see ``decision_json_schema``): ``full`` (the
        default) with the evidence of every rule, or ``lean`` without it."""
        reply = self.reply
        lean = detail == "lean"
        data = {
            "schema_version": DECISION_SCHEMA_VERSION,
            "detail": "lean" if lean else "full",
            "complaint_id": self.complaint_id,
            "request_type": self.request_type,
            "handling": self.handling,
            "category": self.category,
            "subcategory": self.subcategory,
            "severity": self.severity,
            "flags": list(self.flags),
            "owner": self.owner.to_dict(),
            "escalation": [r.to_dict() for r in self.escalation],
            "deadlines": [d.to_dict(detail) for d in self.deadlines],
            "reply": None if reply is None else (
                {"script_id": reply.script_id, "text": reply.text, "locale": reply.locale}
                if lean else reply.to_dict()),
            "warnings": list(self.warnings),
            "received_at": None if self.received_at is None else self.received_at.isoformat(),
            "received_at_source": self.received_at_source,
            "received_at_assumed": self.received_at_assumed,
            "policy_version": self.policy_version,
            "rules": self.rules_by_stage(),
        }
        if self.history is not None:
            data["history"] = self.history.to_dict()
        if lean:
            return data
        data["explanation"] = [h.to_dict() for h in self.explanation]
        if self.scores:
            data["scores"] = {k: v.to_dict() for k, v in self.scores.items()}
        return data

    def to_json(self, *, indent: int | None = None, detail: Detail = "full") -> str:
        if indent is None:
            return compact(self.to_dict(detail))
        return json.dumps(self.to_dict(detail), ensure_ascii=False, indent=indent)


#: ``Decision`` from its 18 field values, positionally (for the engine's hot path).
new_decision = positional_builder(Decision)


def _unpickle_decision(*values: Any) -> Decision:
    scores = MappingProxyType(values[-2]) if values[-2] else _NO_SCORES
    return new_decision(*values[:-2], scores, values[-1])


def _evidence_dict(e: Evidence) -> dict[str, Any]:
    if type(e) is KeywordEvidence:  # the common case, with fields that are JSON already
        return {"kind": "keyword", "word": e.word, "vocabulary": e.vocabulary,
                "start": e.start, "end": e.end, "matched": e.matched}
    out: dict[str, Any] = {"kind": e.kind}
    for name in e.__slots__:
        if name != "kind":
            out[name] = _jsonable(getattr(e, name))
    return out


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind is dict or kind is MappingProxyType:
        return {str(k): _jsonable(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)


@cache
def decision_json_schema() -> str:
    """The JSON Schema of ``Decision.to_dict()``, both forms (lean and full), as a JSON
    string (for consumers' tooling)."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "triage Decision",
        "description": "Decision.to_dict(detail): lean (what triage route writes) or full "
                       "(also the evidence: triage route --explain, the Python default)",
        "type": "object",
        "required": [
            "schema_version", "detail", "complaint_id", "request_type", "handling",
            "category", "subcategory", "severity", "flags", "owner", "escalation",
            "deadlines", "reply", "warnings", "received_at", "received_at_source",
            "received_at_assumed", "policy_version", "rules",
        ],
        "if": {"properties": {"detail": {"const": "full"}}},
        "then": {"required": ["explanation"],
                 "properties": {"deadlines": {"items": {"$ref": "#/$defs/deadline"}}}},
        "else": {"not": {"anyOf": [{"required": ["explanation"]}, {"required": ["scores"]}]}},
        "additionalProperties": False,
        "properties": {
            "schema_version": {"const": DECISION_SCHEMA_VERSION},
            "detail": {"enum": ["lean", "full"]},
            "complaint_id": {"type": "string"},
            "request_type": {"type": "string"},
            "handling": {"type": "string"},
            "category": {"type": "string"},
            "subcategory": {"type": ["string", "null"]},
            "severity": {"type": "string"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "owner": {"$ref": "#/$defs/role"},
            "escalation": {"type": "array", "items": {"$ref": "#/$defs/role"}},
            "deadlines": {"type": "array", "items": {"$ref": "#/$defs/lean_deadline"}},
            "reply": {"type": ["object", "null"],
                      "required": ["script_id", "text", "locale"], "properties": {
                          "script_id": {"type": "string"}, "text": {"type": "string"},
                          "variables": {"type": "object",
                                        "description": "full only: the template's values"},
                          "locale": {"type": "string"}}},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "received_at": {"type": ["string", "null"], "format": "date-time",
                            "description": "the receipt time the decision used"},
            "received_at_source": {
                "enum": ["record", "now", "clock", None],
                "description": "record: the record's received_at; now: the caller's "
                               "stand-in (--now); clock: the wall clock"},
            "received_at_assumed": {"type": "boolean",
                                    "description": "the record had no received_at"},
            "policy_version": {"type": "string"},
            "rules": {"type": "object",
                      "additionalProperties": {"type": "array", "items": {"type": "string"}},
                      "description": "per stage, the ids of the rules that fired (empty: "
                                     "the stage's default decided)"},
            "explanation": {"type": "array", "items": {"$ref": "#/$defs/rule_hit"},
                            "description": "full only"},
            "history": {
                "type": "object", "required": ["customer", "facts", "case_ids", "linked_case",
                                               "team"],
                "description": "present only when the decision was made with a case store: "
                               "the history.* facts counted, the customer's earlier cases "
                               "on the topic (earliest first), the case linked to",
                "properties": {
                    "customer": {"type": "string"},
                    "facts": {"type": "object",
                              "additionalProperties": {"type": ["integer", "null"]}},
                    "case_ids": {"type": "array", "items": {"type": "string"}},
                    "linked_case": {"type": ["string", "null"]},
                    "team": {"type": ["string", "null"]},
                    "product": {"type": ["string", "null"]},
                    "domain": {"type": ["string", "null"]}}},
            "scores": {
                "type": "object", "additionalProperties": {"$ref": "#/$defs/stage_scores"},
                "description": "present only when a stage with hit: score scored: per "
                               "stage, the totals per value and each rule's share"},
        },
        "$defs": {
            "stage_scores": {
                "type": "object",
                "required": ["stage", "outcome", "winner", "min_score", "values"],
                "properties": {
                    "stage": {"type": "string"},
                    "outcome": {"enum": ["score", "tie", "min_score", "none"]},
                    "winner": {"type": "string"},
                    "min_score": {"type": "number"},
                    "values": {"type": "array", "items": {
                        "type": "object", "required": ["value", "total", "rules"],
                        "properties": {
                            "value": {"type": "string"}, "total": {"type": "number"},
                            "rules": {"type": "array", "items": {
                                "type": "object", "required": ["rule_id", "weight"],
                                "properties": {"rule_id": {"type": "string"},
                                               "weight": {"type": "number"}}}}}}},
                },
            },
            "role": {
                "type": "object",
                "required": ["role", "name"],
                "properties": {"role": {"type": "string"}, "name": {"type": "string"}},
            },
            "rule_hit": {
                "type": "object",
                "required": [
                    "stage", "rule_id", "description", "file", "line", "default",
                    "condition", "outputs", "evidence",
                ],
                "properties": {
                    "stage": {"type": "string"},
                    "rule_id": {"type": "string"},
                    "description": {"type": ["string", "null"]},
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                    "default": {"type": "boolean"},
                    "condition": {"type": "string"},
                    "outputs": {"type": "object"},
                    "evidence": {"type": "array", "items": {"$ref": "#/$defs/evidence"}},
                },
            },
            "lean_deadline": {
                "type": "object",
                "required": ["milestone", "label", "due", "due_text", "calendar"],
                "properties": {
                    "milestone": {"type": "string"},
                    "label": {"type": "string"},
                    "due": {"type": "string", "format": "date-time"},
                    "due_text": {"type": "string"},
                    "calendar": {"type": "string"},
                },
            },
            "deadline": {
                "description": "full form: the lean deadline, the rule and the steps",
                "allOf": [{"$ref": "#/$defs/lean_deadline"}],
                "type": "object",
                "required": ["within", "rule_id", "steps", "warnings"],
                "properties": {
                    "calendar_label": {"type": "string"},
                    "within": {"type": "string"},
                    "after": {"type": ["string", "null"]},
                    "rule_id": {"type": "string"},
                    "warnings": {"type": "array", "items": {"type": "string"}},
                    "steps": {"type": "array", "items": {"type": "object"}},
                },
            },
            "evidence": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"enum": ["keyword", "regex", "field", "output", "absent",
                                      "span"]},
                    "word": {"type": "string"},
                    "vocabulary": {"type": ["string", "null"]},
                    "pattern": {"type": "string"},
                    "start": {"type": "integer"},
                    "end": {"type": "integer"},
                    "matched": {"type": "string"},
                    "path": {"type": "string"},
                    "op": {"type": "string"},
                    "expected": {},
                    "actual": {},
                    "name": {"type": "string"},
                    "value": {"type": "string"},
                    "condition": {"type": "string"},
                },
            },
        },
    }
    return json.dumps(schema, ensure_ascii=False, indent=2)
