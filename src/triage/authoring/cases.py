"""Policy test cases: complaints with the decision policy staff expect, in YAML.

Cases live next to the policy, in ``cases/*.yaml``::

    cases:
      - name: 变速箱多次维修仍未修好
        complaint: {text: 变速箱顿挫修了三次还没好, channel: phone,
                    product: {domain: auto_dealer}, received_at: 2026-11-23T17:20:00+08:00}
        expect:
          category: repair_quality
          severity: severe
          owner: service_manager
          flags: [recurrence]              # these flags at least
          script: topic_repeated_repair
          deadlines: {first_contact: 16h30m}   # due time minus receipt

``triage test`` and the pytest plugin (``triage.authoring.pytest_plugin``) run them; a failure
shows what was expected, what came, and the rules that fired.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..decision import Decision
from ..errors import ComplaintError, Problem, TriageError
from ..language.loader import parse_yaml
from ..policy import Policy

#: Fields ``expect`` may hold.
EXPECTABLE = ("request_type", "handling", "category", "subcategory", "severity", "flags",
              "no_flags", "owner", "escalation", "script", "deadlines", "warnings",
              "linked_case")
#: Facts a case's ``history:`` may give (the ``history.*`` fields), and the case ids.
HISTORY_FACTS = ("open_cases_same_topic", "complaints_30d", "rejected_answers",
                 "team_week_count", "first_case_level")
_OFFSET = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
#: When a case complaint was received, unless it says (deadlines are counted from it).
DEFAULT_RECEIVED = "2026-11-23T10:00:00+08:00"


@dataclass(frozen=True, slots=True)
class GivenFacts:
    """History facts as a case gives them (the shape ``Policy.triage`` reads)."""

    open_cases_same_topic: int = 0
    complaints_30d: int = 0
    rejected_answers: int = 0
    team_week_count: int = 0
    case_ids_same_topic: tuple[str, ...] = ()
    first_case_escalation_level: int | None = None


@dataclass(frozen=True, slots=True)
class GivenHistory:
    """A case store stand-in that answers every question with the case's own facts: policy
    staff write the history a case assumes instead of building a store."""

    facts: GivenFacts

    def history_facts(self, customer: str, **_: Any) -> GivenFacts:
        return self.facts


@dataclass(frozen=True, slots=True)
class Case:
    """One case: a complaint and the decision fields it should get, and the case history
    it assumes (``history:``), if any."""

    name: str
    complaint: dict[str, Any]
    expect: dict[str, Any]
    file: str
    line: int
    history: GivenHistory | None = None


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A field whose value is not what the case expects."""

    field: str
    expected: Any
    actual: Any


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case: passed, or the mismatches, or the error it raised."""

    case: Case
    mismatches: tuple[Mismatch, ...]
    decision: Decision | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None

    def report(self) -> str:
        """The failure as policy staff read it: expected, actual, and the rules that fired."""
        head = f"{self.case.file}:{self.case.line}: {self.case.name}"
        if self.error is not None:
            return f"{head}\n  error: {self.error}"
        lines = [head]
        for m in self.mismatches:
            lines.append(f"  {m.field}: expected {_show(m.expected)}, got {_show(m.actual)}")
        if self.decision is not None:
            lines.append("  rules that fired:")
            lines += [f"    [{h.stage}] {h.rule_id}  {h.file}:{h.line}"
                      for h in self.decision.explanation if not h.default]
        return "\n".join(lines)


def case_files(policy_dir: Path) -> list[Path]:
    """The case files of a policy directory: ``cases/*.yaml`` and ``cases/*.yml``."""
    folder = policy_dir / "cases"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_cases(path: Path, display: str | None = None) -> tuple[list[Case], list[Problem]]:
    """Read one case file; problems (with line and column) for entries that are wrong."""
    name = display or path.as_posix()
    source, problems = parse_yaml(name, path.read_bytes())
    if source is None:
        return [], problems
    data = source.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        problems.append(source.problem((), "wrong-type", "a case file holds 'cases:', a list",
                                       "see docs/authoring.md"))
        return [], problems
    cases: list[Case] = []
    for i, item in enumerate(data["cases"]):
        where = ("cases", i)
        if not isinstance(item, dict):
            problems.append(source.problem(where, "wrong-type", "a case is a mapping with "
                                           "name, complaint and expect"))
            continue
        unknown = sorted(set(item) - {"name", "complaint", "expect", "history"})
        for key in unknown:
            problems.append(source.problem((*where, key), "unknown-key",
                                           f"unknown key '{key}' in a case", key=True))
        complaint, expect = item.get("complaint"), item.get("expect")
        if not isinstance(complaint, dict) or not isinstance(expect, dict) or not expect:
            problems.append(source.problem(where, "missing-key", "a case needs a 'complaint' "
                                           "mapping and a non-empty 'expect' mapping"))
            continue
        for key in expect:
            if key not in EXPECTABLE:
                problems.append(source.problem(
                    (*where, "expect", key), "unknown-key", f"cannot expect '{key}'",
                    "expect may hold: " + ", ".join(EXPECTABLE), key=True))
        if unknown or any(k not in EXPECTABLE for k in expect):
            continue
        history = None
        if "history" in item:
            history = _given_history(item["history"], source, (*where, "history"), problems)
            if history is None:
                continue
        line = source.mark(where)[0]
        label = str(item.get("name") or f"case {i + 1}")
        record = {"id": f"{path.stem}-{i + 1}", "channel": "phone",
                  "received_at": DEFAULT_RECEIVED, **complaint}
        if history is not None and not (record.get("customer") or {}).get("id"):
            record["customer"] = {**(record.get("customer") or {}), "id": "case-customer"}
        cases.append(Case(label, record, dict(expect), name, line, history))
    return cases, problems


def _given_history(value: Any, source: Any, where: tuple[Any, ...],
                   problems: list[Problem]) -> GivenHistory | None:
    """A case's ``history:``: facts by name (numbers) and ``case_ids`` (earliest first)."""
    if not isinstance(value, dict):
        problems.append(source.problem(where, "wrong-type", "'history' is a mapping of facts",
                                       "e.g. history: {open_cases_same_topic: 1, "
                                       "case_ids: [Q1]}"))
        return None
    facts: dict[str, Any] = {}
    for key, item in value.items():
        if key == "case_ids" and isinstance(item, list) and all(
                isinstance(c, str) for c in item):
            facts["case_ids_same_topic"] = tuple(item)
        elif key in HISTORY_FACTS and isinstance(item, int) and not isinstance(item, bool) \
                and item >= 0:
            facts["first_case_escalation_level" if key == "first_case_level" else key] = item
        else:
            problems.append(source.problem(
                (*where, key), "unknown-key" if key not in (*HISTORY_FACTS, "case_ids")
                else "wrong-type", f"'{key}' is not a history fact a case can give "
                "(a count of 0 or more; case_ids: a list of ids)",
                "facts: " + ", ".join((*HISTORY_FACTS, "case_ids")), key=True))
            return None
    return GivenHistory(GivenFacts(**facts))


def run_case(policy: Policy, case: Case) -> CaseResult:
    """Decide the case's complaint and compare the expected fields."""
    try:
        decision = policy.triage(case.complaint, history=case.history)
    except ComplaintError as exc:
        return CaseResult(case, (), None, f"the complaint is invalid: {exc.message}")
    except TriageError as exc:
        return CaseResult(case, (), None, str(exc))
    mismatches = [m for key, want in case.expect.items()
                  for m in _compare(key, want, decision, case)]
    return CaseResult(case, tuple(mismatches), decision)


def policy_cases(policy_dir: Path) -> Iterator[Case | Problem]:
    """Every case of every case file of ``policy_dir``, and the problems of the files."""
    for path in case_files(policy_dir):
        cases, problems = load_cases(path, f"{policy_dir.name}/cases/{path.name}")
        yield from problems
        yield from cases


def run_all(policy: Policy, policy_dir: Path) -> Iterator[CaseResult | Problem]:
    """The result of every case of ``policy_dir``, and the problems of the case files."""
    for item in policy_cases(policy_dir):
        yield item if isinstance(item, Problem) else run_case(policy, item)


def _compare(key: str, want: Any, decision: Decision, case: Case) -> list[Mismatch]:
    if key == "linked_case":
        got = decision.history.linked_case if decision.history is not None else None
        return [] if got == want else [Mismatch(key, want, got)]
    if key == "flags":
        wanted = [want] if isinstance(want, str) else list(want)
        missing = [f for f in wanted if f not in decision.flags]
        return [Mismatch("flags", wanted, list(decision.flags))] if missing else []
    if key == "no_flags":
        banned = [want] if isinstance(want, str) else list(want)
        present = [f for f in banned if f in decision.flags]
        return [Mismatch("no_flags", banned, list(decision.flags))] if present else []
    if key == "owner":
        return [] if want == decision.owner.role else [Mismatch(key, want, decision.owner.role)]
    if key == "escalation":
        chain = [r.role for r in decision.escalation]
        return [] if list(want) == chain else [Mismatch(key, list(want), chain)]
    if key == "script":
        actual = decision.reply.script_id if decision.reply else None
        return [] if want == actual else [Mismatch(key, want, actual)]
    if key == "warnings":
        return [] if bool(want) == bool(decision.warnings) else [
            Mismatch(key, want, list(decision.warnings))]
    if key == "deadlines":
        return _deadlines(want, decision, case)
    actual = getattr(decision, key)
    return [] if want == actual else [Mismatch(key, want, actual)]


def _deadlines(want: Any, decision: Decision, case: Case) -> list[Mismatch]:
    if not isinstance(want, dict):
        return [Mismatch("deadlines", want, "a mapping milestone -> offset or time")]
    due = {d.milestone: d.due for d in decision.deadlines}
    received = datetime.fromisoformat(str(case.complaint["received_at"]))
    out = []
    for milestone, expected in want.items():
        actual = due.get(milestone)
        if actual is None:
            out.append(Mismatch(f"deadlines.{milestone}", expected, None))
            continue
        if isinstance(expected, datetime) or _looks_like_time(expected):
            target = (expected if isinstance(expected, datetime)
                      else datetime.fromisoformat(str(expected)))
            if target != actual:
                out.append(Mismatch(f"deadlines.{milestone}", str(expected),
                                    actual.isoformat()))
            continue
        offset = _offset(str(expected))
        if offset is None or actual - received != offset:
            out.append(Mismatch(f"deadlines.{milestone}", expected,
                                _format_offset(actual - received)))
    return out


def _looks_like_time(value: Any) -> bool:
    return isinstance(value, str) and "T" in value and ":" in value


def _offset(text: str) -> timedelta | None:
    found = _OFFSET.match(text)
    if found is None or not any(found.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _format_offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (mins, "m")) if v) or "0m"


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
