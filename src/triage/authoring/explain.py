"""A readable report of one decision: what was decided, by which rules, on which words."""

from __future__ import annotations

from collections.abc import Callable

from ..decision import (
    Decision,
    HistoryUse,
    KeywordEvidence,
    RegexEvidence,
    SpanEvidence,
    StageScores,
)
from ..language.schema import STAGE_OUTPUTS
from ..policy import Policy

_BOLD_RED = "\x1b[1;31m"
_RESET = "\x1b[0m"


def highlight(text: str, spans: list[tuple[int, int]], *, colour: bool) -> str:
    """``text`` with each span marked: red on a terminal, 【brackets】 otherwise."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    before, after = (_BOLD_RED, _RESET) if colour else ("【", "】")
    out, last = [], 0
    for start, end in merged:
        out.append(text[last:start])
        out.append(f"{before}{text[start:end]}{after}")
        last = end
    out.append(text[last:])
    return "".join(out)


def format_explanation(decision: Decision, text: str, policy: Policy, *,
                       colour: bool = False) -> str:
    """The report ``triage explain`` prints for ``decision`` on complaint ``text``."""
    label = policy.label
    spans = [(e.start, e.end) for hit in decision.explanation for e in hit.evidence
             if isinstance(e, KeywordEvidence | RegexEvidence)]
    chain = " → ".join(r.name for r in decision.escalation) or "（无）"
    flags = "、".join(f"{label('flags', f)}({f})" for f in decision.flags) or "（无）"
    lines = [
        f"投诉 {decision.complaint_id}：{highlight(text, spans, colour=colour)}",
        "",
        f"  诉求类型  {label('request_type', decision.request_type)} ({decision.request_type})",
        f"  处理类别  {label('handling', decision.handling)} ({decision.handling})",
        f"  问题类别  {label('category', decision.category)} ({decision.category})"
        + (f" / {label('subcategory', decision.subcategory)}" if decision.subcategory else ""),
        f"  严重程度  {label('severity', decision.severity)} ({decision.severity})",
        f"  标记      {flags}",
        f"  责任人    {decision.owner.name} ({decision.owner.role})",
        f"  升级链    {chain}",
    ]
    if decision.deadlines:
        lines.append("")
        lines.append("Deadlines:")
        for d in decision.deadlines:
            after = f"，从{label('milestones', d.after)}起" if d.after else ""
            where = f"，{d.calendar_label}" if d.derivation.duration.uses_calendar else ""
            lines.append(f"  {d.label} ({d.milestone})  {d.due_text}  "
                         f"[{d.within}{after}{where}，{d.rule_id}]")
            lines.extend(f"      {step.label}" for step in d.steps)
    lines.extend(f"  注意：{w}" for w in decision.warnings)
    if decision.reply is not None:
        lines += ["", f"Reply ({decision.reply.script_id}, {decision.reply.locale}):",
                  *(f"  {line}" for line in decision.reply.text.splitlines())]
    for table in decision.scores.values():
        lines += ["", *format_scores(table, label)]
    if decision.history is not None:
        lines += ["", *format_history(decision.history)]
    lines += [
        "",
        f"Rules (policy {policy.name}, version {decision.policy_version}):",
    ]
    for hit in decision.explanation:
        where = f"{hit.file}:{hit.line}" if hit.line else hit.file
        outputs = ", ".join(f"{k}={_show(v)}" for k, v in hit.outputs.items())
        marker = "  (default)" if hit.default else ""
        lines.append(f"  [{hit.stage}] {hit.rule_id}{marker}  {where}")
        if hit.description:
            lines.append(f"      {hit.description}")
        lines.append(f"      when {hit.condition}")
        lines.append(f"      set  {outputs}")
        for e in hit.evidence:
            lines.append(f"      evidence: {_evidence(e, text, colour)}")
    return "\n".join(lines)


_OUTCOMES = {
    "score": "the highest total wins",
    "tie": "a tie: the stage's tie rule decided",
    "min_score": "no total reached min_score: the default applies",
    "none": "no scored rule held: the default applies",
}


def format_scores(table: StageScores, label: Callable[[str, str], str]) -> list[str]:
    """A scored stage as a small table: value, total, the rules that added to it."""
    key = STAGE_OUTPUTS[table.stage][0]
    lines = [f"Scores [{table.stage}] → {table.winner}  ({_OUTCOMES[table.outcome]}; "
             f"min_score {table.min_score:g})"]
    width = max([len(v.value) for v in table.values] + [5])
    for row in table.values:
        mark = "*" if row.value == table.winner and table.outcome in ("score", "tie") else " "
        rules = ", ".join(f"{r.rule_id} {r.weight:+g}" for r in row.rules)
        lines.append(f"  {mark} {row.value:<{width}}  {row.total:>7g}  {label(key, row.value)}"
                     f"  ← {rules}")
    return lines


_PARTS = {"customer": "the customer's words", "note": "an agent's note",
          "reported": "what the customer reports the company said"}


def _span(e: SpanEvidence, text: str, colour: bool) -> str:
    """A positional test's evidence: the word, where it stands (part, kind of sentence) and
    the word it was near, each with its offsets."""
    source = f" (${e.vocabulary})" if e.vocabulary else ""
    where = f"in {_PARTS.get(e.part, e.part)}, a {e.sentence}"
    line = f"word '{e.word}'{source} at {e.start}-{e.end} {where}"
    if e.near is not None and e.near_start is not None and e.near_end is not None:
        line += f", near '{e.near}' at {e.near_start}-{e.near_end}"
        start, end = min(e.start, e.near_start), max(e.end, e.near_end)
    else:
        start, end = e.start, e.end
    return f"{line}: “{_context(text, start, end, colour)}”"


def _show(value: object) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _evidence(e: object, text: str, colour: bool) -> str:
    if isinstance(e, KeywordEvidence):
        source = f" (${e.vocabulary})" if e.vocabulary else ""
        snippet = _context(text, e.start, e.end, colour)
        return f"word '{e.word}'{source} at {e.start}-{e.end}: “{snippet}”"
    if isinstance(e, RegexEvidence):
        snippet = _context(text, e.start, e.end, colour)
        return f"regex /{e.pattern}/ at {e.start}-{e.end}: “{snippet}”"
    if isinstance(e, SpanEvidence):
        return _span(e, text, colour)
    kind = getattr(e, "kind", "")
    if kind == "field":
        return f"field {e.path} = {e.actual!r} ({e.op} {e.expected!r})"  # type: ignore[attr-defined]
    if kind == "output":
        return f"{e.name} = {e.value}"  # type: ignore[attr-defined]
    return f"held: {getattr(e, 'condition', '')}"


def _context(text: str, start: int, end: int, colour: bool, width: int = 12) -> str:
    left = max(0, start - width)
    right = min(len(text), end + width)
    snippet = highlight(text[left:right], [(start - left, end - left)], colour=colour)
    return ("…" if left else "") + snippet.replace("\n", " ") + ("…" if right < len(text) else "")


def format_history(used: HistoryUse) -> list[str]:
    """The case history a decision used: the customer, the cases on the topic (the linked
    one first) and each fact counted, as ``triage explain`` prints it."""
    cases = ", ".join(f"{c} (linked)" if c == used.linked_case else c for c in used.case_ids)
    facts = ", ".join(f"{name}={value}" for name, value in used.facts)
    return [f"History (customer {used.customer}, team {used.team or '-'}):",
            f"  cases on the topic: {cases or 'none'}", f"  facts: {facts}"]
