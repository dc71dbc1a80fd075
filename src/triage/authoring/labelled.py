"""Labelled complaints for ``triage fit`` and ``triage eval``: corpus lines and policy cases.

Two formats are read, each kept with where it came from so that a report can point at it:

- JSON lines of the corpus (``tests/corpus/*.jsonl``): ``{"complaint": {...},
  "expected": {"category": ..., ...}}``;
- policy case files (``cases/*.yaml``, or a policy folder for all of its cases): the
  ``expect`` of each case.

A line that is not such a record is reported (file and line) and left out; the rest are
still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..complaint import blank_line
from ..decision import Decision
from ..errors import Problem, TriageError
from ..policy import Policy, bundled_policy_path
from .cases import case_files, load_cases


@dataclass(frozen=True, slots=True)
class Labelled:
    """One complaint and the decision fields someone labelled it with."""

    complaint: Mapping[str, Any]
    expected: Mapping[str, Any]
    source: str
    line: int

    @property
    def id(self) -> str:
        return str(self.complaint.get("id") or f"{self.source}:{self.line}")

    @property
    def group(self) -> Mapping[str, str]:
        """What ``--by`` can group on: the product domain and the channel."""
        product = self.complaint.get("product")
        domain = product.get("domain") if isinstance(product, dict) else None
        return {"domain": str(domain or "none"),
                "channel": str(self.complaint.get("channel") or "none")}


def complaint_records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file, each corpus line's ``complaint`` when it has
    one (the sample of ``triage diff`` and the workbench's Impact); lines that are not
    JSON objects are skipped."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if blank_line(line):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            inner = data.get("complaint")
            yield inner if isinstance(inner, dict) else data


def sample_files() -> list[Path]:
    """The default complaints of ``triage diff`` and the workbench's Impact: the bundled
    examples and labelled corpus (inside the installed package, or in a checkout of the
    repository)."""
    bundled = bundled_policy_path().parent
    if bundled.name == "_bundled":
        names = ["examples/complaints.jsonl", "corpus/corpus.jsonl", "corpus/holdout.jsonl"]
    else:
        names = ["examples/complaints.jsonl", "tests/corpus/corpus.jsonl",
                 "tests/corpus/holdout.jsonl"]
    return [bundled / name for name in names if (bundled / name).is_file()]


def load_labelled(paths: Iterable[str | Path]) -> tuple[list[Labelled], list[Problem]]:
    """The labelled complaints of ``paths`` (JSON lines, case files or policy folders)."""
    records: list[Labelled] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = case_files(path)
            if not files:
                problems.append(Problem(str(path), 1, 1, "not-found",
                                        f"{path} holds no cases/*.yaml",
                                        "give JSON-lines files or case files"))
            for file in files:
                _cases(file, records, problems)
        elif not path.is_file():
            problems.append(Problem(str(path), 1, 1, "not-found", f"{path} does not exist",
                                    "give JSON-lines files, case files or a policy folder"))
        elif path.suffix in (".yaml", ".yml"):
            _cases(path, records, problems)
        else:
            _lines(path, records, problems)
    return records, problems


def _cases(path: Path, records: list[Labelled], problems: list[Problem]) -> None:
    cases, found = load_cases(path)
    problems += found
    records += [Labelled(c.complaint, c.expect, c.file, c.line) for c in cases]


def _lines(path: Path, records: list[Labelled], problems: list[Problem]) -> None:
    name = path.as_posix()
    with path.open(encoding="utf-8-sig", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                problems.append(Problem(name, number, 1, "bad-record",
                                        f"line {number} is not JSON: {exc}"))
                continue
            complaint = data.get("complaint") if isinstance(data, dict) else None
            expected = data.get("expected") if isinstance(data, dict) else None
            if not isinstance(complaint, dict) or not isinstance(expected, dict):
                problems.append(Problem(
                    name, number, 1, "bad-record",
                    f"line {number} is not a labelled complaint",
                    'write {"complaint": {...}, "expected": {"category": ...}}'))
                continue
            records.append(Labelled(complaint, expected, name, number))


@dataclass(frozen=True, slots=True)
class Observed:
    """A labelled complaint as the policy decides it, with every rule that holds per stage
    (not only the rules the hit policy picked): what ``fit`` and ``eval`` count."""

    record: Labelled
    decision: Decision
    holding: Mapping[str, list[int]]


def observe(policy: Policy, records: Iterable[Labelled],
            now: datetime | None = None) -> tuple[list[Observed], list[Problem]]:
    """Decide each labelled complaint; one that cannot be decided becomes a problem at its
    file and line, and the others are still observed, in order."""
    observed: list[Observed] = []
    problems: list[Problem] = []
    for record in records:
        try:
            decision, holding, _ = policy._holding(record.complaint, now=now)
        except TriageError as exc:
            problems.append(Problem(record.source, record.line, 1, "bad-record",
                                    f"{record.id}: {exc}", "fix the complaint or leave it out"))
            continue
        observed.append(Observed(record, decision, holding))
    return observed, problems


def decided_value(decision: Decision, field: str) -> Any:
    """A field of a decision as a label writes it: the owner's role id, the reply's script
    id, the flags as a tuple, the other fields as they are."""
    if field == "owner":
        return decision.owner.role
    if field == "script":
        return decision.reply.script_id if decision.reply is not None else None
    return getattr(decision, field)
