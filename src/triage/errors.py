"""One error tree for the library: every failure a caller can act on is a ``TriageError``.

Policy mistakes are collected, not raised one at a time: a ``PolicyError`` carries every
``Problem`` found, each with file, line, column, the offending source line and a hint,
sorted by location, in the spirit of Jinja's ``TemplateSyntaxError``.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._json import compact

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake found in a policy file: where it is, what is wrong, how to fix it."""

    file: str
    line: int
    column: int
    code: str
    message: str
    hint: str | None = None
    source_line: str | None = None
    severity: Severity = "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.message)

    def format(self, *, colour: bool = False) -> str:
        """Render as ``file:line:col: error[code]: message`` with the source line and hint.

        ``colour`` adds terminal colours: errors red, warnings yellow, the caret and hint
        highlighted.
        """
        paint = _paint if colour else _plain
        where = f"{self.file}:{self.line}:{self.column}"
        label = paint(f"{self.severity}[{self.code}]", _SEVERITY_COLOUR[self.severity])
        lines = [f"{paint(where, _BOLD)}: {label}: {self.message}"]
        if self.source_line is not None:
            shown, column = excerpt(self.source_line.rstrip(), self.column)
            lines.append(f"    {shown}")
            lines.append("    " + _caret_padding(shown, column)
                         + paint("^", _SEVERITY_COLOUR[self.severity]))
        if self.hint:
            lines.append(f"  {paint('hint', _CYAN)}: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "source_line": (None if self.source_line is None
                            else excerpt(self.source_line, self.column)[0]),
        }


#: A source line longer than this is shown as an excerpt around the column.
MAX_SHOWN_LINE = 160


def excerpt(line: str, column: int) -> tuple[str, int]:
    """``line`` cut to at most ``MAX_SHOWN_LINE`` characters around ``column`` (a line of
    a 4 MB flow list stays one screen line), and the column within the excerpt."""
    if len(line) <= MAX_SHOWN_LINE:
        return line, column
    start = max(0, min(column - 1 - MAX_SHOWN_LINE // 2, len(line) - MAX_SHOWN_LINE))
    shown = line[start:start + MAX_SHOWN_LINE]
    lead = "…" if start > 0 else ""
    tail = "…" if start + MAX_SHOWN_LINE < len(line) else ""
    return lead + shown + tail, column - start + len(lead)


_BOLD, _RED, _YELLOW, _CYAN = "1", "31", "33", "36"
_SEVERITY_COLOUR = {"error": _RED, "warning": _YELLOW}


def _paint(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m"


def _plain(text: str, code: str) -> str:
    return text


def format_report(problems: Iterable[Problem], *, colour: bool = False) -> str:
    """Problems grouped by file (files in name order), each group headed by the file name and
    its counts, then one summary line: what ``triage check`` prints for people."""
    paint = _paint if colour else _plain
    by_file: dict[str, list[Problem]] = {}
    for problem in sorted(problems, key=Problem.sort_key):
        by_file.setdefault(problem.file, []).append(problem)
    blocks = []
    for file, found in by_file.items():
        head = paint(f"{file}", _BOLD) + f" ({_counts(found)})"
        blocks.append("\n".join([head, *(p.format(colour=colour) for p in found)]))
    total = [p for group in by_file.values() for p in group]
    files = f"{len(by_file)} file" + ("" if len(by_file) == 1 else "s")
    summary = f"{_counts(total)} in {files}" if total else "no problems"
    return "\n\n".join([*blocks, summary])


def _counts(problems: list[Problem]) -> str:
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    parts = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in
             ((errors, "error"), (warnings, "warning")) if n]
    return ", ".join(parts) or "no problems"


def _caret_padding(source_line: str, column: int) -> str:
    """Spaces up to ``column`` (1-based), two columns for each wide (CJK) character."""
    pad = []
    for ch in source_line[: max(column - 1, 0)]:
        if ch == "\t":
            pad.append("\t")
        elif ord(ch) >= 0x1100 and _is_wide(ch):
            pad.append("  ")
        else:
            pad.append(" ")
    return "".join(pad)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


class TriageError(Exception):
    """Base class of every error this library raises on purpose."""


class PolicyError(TriageError):
    """The policy could not be loaded: carries every problem found, sorted by location."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=Problem.sort_key))
        errors = sum(1 for p in self.problems if p.severity == "error")
        super().__init__(f"policy has {errors} error(s)")

    def __str__(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        body = "\n".join(p.format() for p in self.problems)
        return f"policy has {len(errors)} error(s):\n{body}"

    def to_json(self) -> str:
        return json.dumps([p.to_dict() for p in self.problems], ensure_ascii=False)


class CalendarError(TriageError):
    """A calendar or duration cannot be used, or a deadline needs a year with no holiday data.

    ``code`` says which (``bad_hours``, ``bad_duration``, ``unknown_year``...), so a policy
    loader can turn it into a ``Problem``; ``calendar`` and ``year`` are set when known.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        calendar: str | None = None,
        year: int | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.calendar = calendar
        self.year = year
        super().__init__(message)


class RenderError(TriageError):
    """A reply template failed for one complaint at run time (a division by zero, an index
    past the end, the size limit): names the template file and, where Jinja knows it, the
    line."""

    def __init__(self, message: str, *, template: str, line: int | None) -> None:
        self.message = message
        self.template = template
        self.line = line
        where = f"{template}:{line}" if line is not None else template
        super().__init__(f"{where}: {message}")


class DecisionError(TriageError):
    """Deciding one complaint failed for a reason its fields do not explain: the Python
    error is named in the message and kept as ``__cause__``."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class EventError(TriageError):
    """An event of a case cannot be used (``Policy.status``): names the event by its number
    in the list, its kind and time, what is wrong, and a hint."""

    def __init__(self, number: int, event: Any, message: str,
                 hint: str | None = None) -> None:
        kind = event.get("kind") if isinstance(event, dict) else getattr(event, "kind", None)
        at = event.get("at") if isinstance(event, dict) else getattr(event, "at", None)
        self.number = number
        self.message = (f"event {number} ({kind!r} at {at}): {message}"
                        + (f"; {hint}" if hint else ""))
        super().__init__(self.message)


class HistoryError(TriageError):
    """The case history store cannot do what was asked: a bad event or time, an unknown
    case, a store written by a newer triage, a missing driver. ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message + (f"; hint: {hint}" if hint else ""))


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One reason a complaint record was rejected, with the field it concerns."""

    field: str
    message: str


class EngineError(TriageError):
    """The chosen engine cannot be used here, or cannot evaluate this policy or complaint
    (durable-rules: not installed, Python 3.13+, or one of its C core's fixed limits)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ComplaintError(TriageError):
    """A complaint record is invalid: lists every field that is wrong and why."""

    def __init__(self, issues: Iterable[FieldIssue], *, complaint_id: str | None = None) -> None:
        self.issues: tuple[FieldIssue, ...] = tuple(issues)
        self.complaint_id = complaint_id
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [f"{i.field}: {i.message}" if i.field else i.message for i in self.issues]
        return "; ".join(parts) or "invalid complaint"


class ColumnError(TriageError):
    """A table's columns cannot be read as complaint records (``triage.spark``): lists
    every missing or mistyped column, found from the schema before any row is read."""

    def __init__(self, issues: Iterable[FieldIssue]) -> None:
        self.issues: tuple[FieldIssue, ...] = tuple(issues)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        count = len(self.issues)
        lines = [f"  {i.field}: {i.message}" if i.field else f"  {i.message}"
                 for i in self.issues]
        return (f"the columns cannot be read as complaints ({count} problem"
                f"{'' if count == 1 else 's'}):\n" + "\n".join(lines))


class PolicyVersionError(TriageError):
    """A worker would decide with another policy version than the one the job was
    submitted with (changed files, another triage release): the job stops rather than
    mix versions."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class RecordError:
    """The result for one input record that could not be triaged; other records go on.

    ``line`` is the 1-based line of a JSON-lines input (or the 1-based position in an
    iterable); ``complaint_id`` is set when the record got far enough to have one.
    """

    line: int
    code: str
    message: str
    complaint_id: str | None = None
    issues: tuple[FieldIssue, ...] = field(default=())
    #: For ``render-error``: the reply template that failed, and its line when known.
    template: str | None = None
    template_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "line": self.line,
            "code": self.code,
            "message": self.message,
            "id": self.complaint_id,
            "issues": [{"field": i.field, "message": i.message} for i in self.issues],
        }
        if self.template is not None:
            error["template"] = self.template
            error["template_line"] = self.template_line
        return {"error": error}

    def to_json(self) -> str:
        return compact(self.to_dict())


def did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str | None:
    """The hint naming the known name closest to ``name``, or None when none is close."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean '{prefix}{close[0]}'?" if close else None
