"""The forbidden-phrase guard (服务忌语): finds taboo phrases in a reply or an agent's draft.

Phrases are matched on folded text (Traditional to Simplified, full-width to half-width,
case), ignoring punctuation and spaces inside a phrase, so ``大点声,听不见!`` also
catches ``大點聲聽不見``. Two rules keep short phrases from flagging innocent words:

- ``except``: longer phrases that contain the taboo and are fine (喂养 for 喂, 不知道您是否
  for 不知道); a match inside one of them is not reported;
- ``standalone``: the phrase counts only as its own clause (``喂，`` or ``喂喂？`` at the
  start of an utterance or between punctuation), never inside a word or a name.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import TriageError
from ..text.folding import CLAUSE_BREAKS, fold
from ..text.regex import compile_pattern

#: The longest text ``Guard.check`` reads (characters); a longer one is refused. Checking
#: is linear in the text: a megabyte takes well under a second (docs/performance.md).
MAX_GUARD_CHARS = 2_000_000

#: Characters ignored inside a phrase: punctuation, quotes and spaces.
IGNORED = frozenset(CLAUSE_BREAKS | set(" \t\u3000\"'“”‘’「」『』（）()【】《》<>-—·"))
_GAP = "[" + "".join(re.escape(ch) for ch in sorted(IGNORED)) + "]*"


@dataclass(frozen=True, slots=True)
class ForbiddenPhrase:
    """A taboo phrase, why it is one, and what to say instead."""

    phrase: str
    reason: str
    suggestion: str
    exceptions: tuple[str, ...] = ()
    standalone: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """A forbidden phrase found in a text: where (offsets into that text), why, and instead."""

    phrase: str
    start: int
    end: int
    matched: str
    reason: str
    suggestion: str

    def to_dict(self) -> dict[str, Any]:
        return {"phrase": self.phrase, "start": self.start, "end": self.end,
                "matched": self.matched, "reason": self.reason, "suggestion": self.suggestion}


def normalise(phrase: str) -> str:
    """The phrase as matched: folded, without punctuation or spaces."""
    return "".join(ch for ch in fold(phrase) if ch not in IGNORED)


def phrase_pattern(phrase: str) -> str:
    """An RE2 pattern for ``phrase`` that allows punctuation and spaces between characters."""
    core = normalise(phrase)
    return _GAP.join(re.escape(ch) for ch in core)


class Guard:
    """Compiled once per policy: every forbidden phrase, ready to search any text."""

    __slots__ = ("_entries",)

    def __init__(self, phrases: Iterable[ForbiddenPhrase]) -> None:
        entries = []
        for item in phrases:
            core = normalise(item.phrase)
            if not core:
                continue
            pattern = compile_pattern(phrase_pattern(item.phrase))
            exceptions = tuple(compile_pattern(phrase_pattern(e)) for e in item.exceptions
                               if normalise(e))
            # the runs of the phrase's own characters, for ``standalone`` (repeats allowed)
            runs = (compile_pattern("[" + "".join(re.escape(ch) for ch in set(core)) + "]+")
                    if item.standalone else None)
            entries.append((item, pattern, exceptions, runs))
        self._entries = tuple(entries)

    @property
    def phrases(self) -> tuple[ForbiddenPhrase, ...]:
        return tuple(entry[0] for entry in self._entries)

    def check(self, text: str) -> list[Finding]:
        """Every forbidden phrase in ``text``, in order of position.

        Linear in the text: one pass per phrase and exception, each match placed by
        bisection. Raises ``TriageError`` past ``MAX_GUARD_CHARS`` characters.
        """
        if len(text) > MAX_GUARD_CHARS:
            raise TriageError(f"the text has {len(text):,} characters; the guard checks at "
                              f"most {MAX_GUARD_CHARS:,} (split it, e.g. by reply)")
        folded = fold(text)
        found: list[Finding] = []
        for item, pattern, exceptions, runs in self._entries:
            allowed = _Spans([m.span() for e in exceptions for m in e.finditer(folded)])
            clauses = _Spans([m.span() for m in runs.finditer(folded)]) if runs else None
            for match in pattern.finditer(folded):
                start, end = match.span()
                if allowed.cover(start, end) is not None:
                    continue
                if clauses is not None and not _stands_alone(folded, start, end, clauses):
                    continue
                found.append(Finding(item.phrase, start, end, text[start:end], item.reason,
                                     item.suggestion))
        found.sort(key=lambda f: (f.start, -f.end, f.phrase))
        return found


class _Spans:
    """Spans of a text, to ask which one covers a range in logarithmic time."""

    __slots__ = ("_spans", "_starts", "_widest")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self._spans = spans
        self._starts = [a for a, _ in spans]
        #: Among the spans up to each one, the one reaching furthest.
        self._widest: list[int] = []
        best = 0
        for i, (_, end) in enumerate(spans):
            if end > spans[best][1]:
                best = i
            self._widest.append(best)

    def cover(self, start: int, end: int) -> tuple[int, int] | None:
        """A span holding ``start..end`` (the one reaching furthest), or None."""
        i = bisect_right(self._starts, start) - 1
        if i < 0:
            return None
        span = self._spans[self._widest[i]]
        return span if span[1] >= end else None


def _stands_alone(folded: str, start: int, end: int, runs: _Spans) -> bool:
    """True when the match is a clause of its own (repeats of the phrase allowed): the
    characters just outside the run of the phrase's characters are breaks or the ends."""
    run = runs.cover(start, end)
    left, right = run if run is not None else (start, end)
    before = folded[left - 1] if left > 0 else ""
    after = folded[right] if right < len(folded) else ""
    return (not before or before in IGNORED) and (not after or after in IGNORED)
