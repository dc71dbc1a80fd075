"""What the pages show, as plain data: the text cut into marked and unmarked pieces, the
rules that fired with the file they live in, deadlines with their steps, the reply.

Nothing here builds HTML: the templates do, with autoescaping, so complaint text (data
from customers) is always escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..decision import Decision, KeywordEvidence, RegexEvidence, SpanEvidence
from ..policy import Policy
from ..replies.guard import Finding


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of the text: marked (matched by ``rules``) or not."""

    text: str
    rules: tuple[str, ...] = ()

    @property
    def marked(self) -> bool:
        return bool(self.rules)


def pieces(text: str, spans: Iterable[tuple[int, int, str]]) -> list[Piece]:
    """``text`` cut at every span boundary; each piece names the rules whose spans cover it."""
    spans = [(max(0, s), min(len(text), e), r) for s, e, r in spans if e > s]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[Piece] = []
    for start, end in pairwise(cuts):
        covering = tuple(dict.fromkeys(r for s, e, r in spans if s <= start and end <= e))
        if out and out[-1].rules == covering:
            out[-1] = Piece(out[-1].text + text[start:end], covering)
        else:
            out.append(Piece(text[start:end], covering))
    return out


def decision_spans(decision: Decision) -> list[tuple[int, int, str]]:
    """The spans of the words and regexes each fired rule matched."""
    found = []
    for hit in decision.explanation:
        for e in hit.evidence:
            if isinstance(e, KeywordEvidence | RegexEvidence | SpanEvidence):
                found.append((e.start, e.end, hit.rule_id))
            if isinstance(e, SpanEvidence) and e.near_start is not None \
                    and e.near_end is not None:
                found.append((e.near_start, e.near_end, hit.rule_id))
    return found


def evidence_text(e: Any) -> str:
    """One line of evidence as policy staff read it."""
    kind = getattr(e, "kind", "")
    if kind in ("keyword", "span"):
        source = f"（词表 ${e.vocabulary}）" if e.vocabulary else ""
        return f"词「{e.matched}」{source} 位于 {e.start}-{e.end}"
    if kind == "regex":
        return f"正则 /{e.pattern}/ 匹配「{e.matched}」位于 {e.start}-{e.end}"
    if kind == "field":
        return f"字段 {e.path} = {e.actual!r}（{e.op} {e.expected!r}）"
    if kind == "output":
        return f"前面阶段的结果 {e.name} = {e.value}"
    return f"成立：{getattr(e, 'condition', '')}"


def editor_path(file: str, root_name: str) -> str | None:
    """A rule's file (``rules/severity.yaml``) as the editor names it (``severity.yaml``)."""
    prefix = root_name + "/"
    return file[len(prefix):] if file.startswith(prefix) else None


def decision_view(policy: Policy, decision: Decision, text: str, root_name: str,
                  draft: str = "", findings: Iterable[Finding] = ()) -> dict[str, Any]:
    """Everything the Try page shows about one decision."""
    label = policy.label
    found = list(findings)
    return {
        "decision": decision,
        "fields": [
            ("诉求类型", decision.request_type, label("request_type", decision.request_type)),
            ("处理类别", decision.handling, label("handling", decision.handling)),
            ("问题类别", decision.category, label("category", decision.category)),
            ("子类", decision.subcategory or "",
             label("subcategory", decision.subcategory) if decision.subcategory else ""),
            ("严重程度", decision.severity, label("severity", decision.severity)),
            ("标记", ", ".join(decision.flags),
             "、".join(label("flags", f) for f in decision.flags)),
            ("责任人", decision.owner.role, decision.owner.name),
            ("升级链", " → ".join(r.role for r in decision.escalation),
             " → ".join(r.name for r in decision.escalation)),
        ],
        "pieces": pieces(text, decision_spans(decision)),
        "rules": [{
            "stage": hit.stage, "rule_id": hit.rule_id, "default": hit.default,
            "description": hit.description or "", "where": f"{hit.file}:{hit.line}",
            "path": editor_path(hit.file, root_name), "line": hit.line,
            "condition": hit.condition,
            "outputs": ", ".join(f"{k}={_show(v)}" for k, v in hit.outputs.items()),
            "evidence": [evidence_text(e) for e in hit.evidence],
        } for hit in decision.explanation],
        "deadlines": [{
            "label": d.label, "milestone": d.milestone, "due_text": d.due_text,
            "due": d.due.isoformat(), "within": d.within, "rule_id": d.rule_id,
            "calendar": d.calendar_label, "steps": [s.label for s in d.steps],
        } for d in decision.deadlines],
        "reply": decision.reply,
        "warnings": list(decision.warnings),
        "draft_pieces": pieces(draft, [(f.start, f.end, f.phrase) for f in found]),
        "findings": found,
    }


def _show(value: object) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)
