"""The decision record: what the policy decided about one complaint, and why.

Every ``Decision`` is a frozen, JSON-serialisable record with a versioned schema
(``DECISION_SCHEMA_VERSION``): the outputs of each stage, the rules that fired with the
evidence they matched, and the content hash of the policy that made it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

#: Bumped whenever a field of the JSON form of a Decision changes meaning or disappears.
DECISION_SCHEMA_VERSION = 1

JsonScalar = str | int | float | bool | None


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


Evidence = KeywordEvidence | RegexEvidence | FieldEvidence | OutputEvidence | AbsenceEvidence


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired (or a stage default that applied), with where it is written."""

    stage: str
    rule_id: str
    file: str
    line: int
    condition: str
    outputs: Mapping[str, Any]
    evidence: tuple[Evidence, ...]
    description: str | None = None
    default: bool = False

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


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role of the policy (``retail_manager``) with its display name (零售经理)."""

    role: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "name": self.name}


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
    explanation: tuple[RuleHit, ...]
    policy_version: str
    deadlines: tuple[Any, ...] = ()
    reply: Any = None
    warnings: tuple[str, ...] = ()

    def rules_fired(self, stage: str | None = None) -> list[str]:
        """The ids of the rules that fired (defaults excluded), optionally for one stage."""
        return [
            h.rule_id
            for h in self.explanation
            if not h.default and (stage is None or h.stage == stage)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the decision (see ``decision_json_schema``)."""
        return {
            "schema_version": DECISION_SCHEMA_VERSION,
            "complaint_id": self.complaint_id,
            "request_type": self.request_type,
            "handling": self.handling,
            "category": self.category,
            "subcategory": self.subcategory,
            "severity": self.severity,
            "flags": list(self.flags),
            "owner": self.owner.to_dict(),
            "escalation": [r.to_dict() for r in self.escalation],
            "deadlines": [_jsonable(d) for d in self.deadlines],
            "reply": _jsonable(self.reply),
            "warnings": list(self.warnings),
            "policy_version": self.policy_version,
            "explanation": [h.to_dict() for h in self.explanation],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        separators = (",", ":") if indent is None else None
        return json.dumps(
            self.to_dict(), ensure_ascii=False, indent=indent, separators=separators
        )


def _evidence_dict(e: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": e.kind}
    for name in e.__slots__:
        if name != "kind":
            out[name] = _jsonable(getattr(e, name))
    return out


def _jsonable(value: Any) -> Any:
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
    """The JSON Schema of ``Decision.to_dict()``, as a JSON string (for consumers' tooling)."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "triage Decision",
        "type": "object",
        "required": [
            "schema_version", "complaint_id", "request_type", "handling", "category",
            "subcategory", "severity", "flags", "owner", "escalation", "deadlines",
            "reply", "warnings", "policy_version", "explanation",
        ],
        "properties": {
            "schema_version": {"const": DECISION_SCHEMA_VERSION},
            "complaint_id": {"type": "string"},
            "request_type": {"type": "string"},
            "handling": {"type": "string"},
            "category": {"type": "string"},
            "subcategory": {"type": ["string", "null"]},
            "severity": {"type": "string"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "owner": {"$ref": "#/$defs/role"},
            "escalation": {"type": "array", "items": {"$ref": "#/$defs/role"}},
            "deadlines": {"type": "array"},
            "reply": {},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "policy_version": {"type": "string"},
            "explanation": {"type": "array", "items": {"$ref": "#/$defs/rule_hit"}},
        },
        "$defs": {
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
            "evidence": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"enum": ["keyword", "regex", "field", "output", "absent"]},
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
