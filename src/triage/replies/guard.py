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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..text.folding import CLAUSE_BREAKS, fold
from ..text.regex import compile_pattern

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
            if not normalise(item.phrase):
                continue
            pattern = compile_pattern(phrase_pattern(item.phrase))
            exceptions = tuple(compile_pattern(phrase_pattern(e)) for e in item.exceptions
                               if normalise(e))
            entries.append((item, pattern, exceptions))
        self._entries = tuple(entries)

    @property
    def phrases(self) -> tuple[ForbiddenPhrase, ...]:
        return tuple(item for item, _, _ in self._entries)

    def check(self, text: str) -> list[Finding]:
        """Every forbidden phrase in ``text``, in order of position."""
        folded = fold(text)
        found: list[Finding] = []
        for item, pattern, exceptions in self._entries:
            allowed = [m.span() for e in exceptions for m in e.finditer(folded)]
            for match in pattern.finditer(folded):
                start, end = match.span()
                if any(a <= start and end <= b for a, b in allowed):
                    continue
                if item.standalone and not _stands_alone(folded, start, end, item):
                    continue
                found.append(Finding(item.phrase, start, end, text[start:end], item.reason,
                                     item.suggestion))
        found.sort(key=lambda f: (f.start, -f.end, f.phrase))
        return found


def _stands_alone(folded: str, start: int, end: int, item: ForbiddenPhrase) -> bool:
    """True when the match is a clause of its own (repeats of the phrase allowed)."""
    core = normalise(item.phrase)
    left = folded[:start].rstrip(core)
    right = folded[end:].lstrip(core)
    before = left[-1:] if left else ""
    after = right[:1] if right else ""
    return (not before or before in IGNORED) and (not after or after in IGNORED)
