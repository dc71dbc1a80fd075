"""What every part of the condition parser shares: the scope a condition is read in,
the problems it collects, and how words and choices are read.

The parser is split by test family (``parser`` for the tree and text, regex and output
tests, ``parse_fields`` for record fields, ``parse_positions`` for ``near`` and placed
text); each family is a class built on ``ParserBase``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem, did_you_mean
from ..text.folding import fold
from . import conditions as c
from .loader import PathKey, SourceFile


@dataclass(frozen=True)
class ConditionScope:
    """What a condition may refer to: the policy's vocabularies, values, and earlier stages."""

    stage: str
    earlier_stages: tuple[str, ...]
    vocabularies: Mapping[str, tuple[c.Word, ...]]
    taxonomy: Mapping[str, frozenset[str]]
    #: Named regexes of the policy (``patterns:``), for ``regex: $name``.
    patterns: Mapping[str, str] = field(default_factory=dict)


class ParserBase:
    """The state and helpers of one rule's parse: its file, scope and problems."""

    def __init__(self, source: SourceFile, scope: ConditionScope) -> None:
        self.source = source
        self.scope = scope
        self.problems: list[Problem] = []

    def _fail(self, path: PathKey, code: str, message: str, hint: str | None = None,
              *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, code, message, hint, key=key))

    def _words(self, value: Any, path: PathKey) -> tuple[c.Word, ...] | None:
        raw = [value] if isinstance(value, str | int) and not isinstance(value, bool) else value
        if not isinstance(raw, list) or not raw:
            self._fail(path, "wrong-type", "expected a word or a list of words")
            return None
        words: list[c.Word] = []
        ok = True
        for i, raw_item in enumerate(raw):
            item = str(raw_item) if isinstance(raw_item, int) and not isinstance(
                raw_item, bool) else raw_item
            if isinstance(item, dict) and isinstance(item.get("word"), str) and set(item) <= {
                    "word", "except"} and isinstance(item.get("except", []), list):
                exceptions = tuple(fold(str(e)) for e in item.get("except", []))
                words.append(c.Word(item["word"], fold(item["word"]), None, exceptions))
                continue
            if not isinstance(item, str) or not item.strip():
                self._fail((*path, i) if isinstance(value, list) else path, "wrong-type",
                           f"expected a word (or {{word: ..., except: [...]}}), found {item!r}")
                ok = False
                continue
            if item.startswith("$"):
                name = item[1:]
                if name not in self.scope.vocabularies:
                    close = difflib.get_close_matches(name, list(self.scope.vocabularies), n=1)
                    hint = f"did you mean '${close[0]}'?" if close else (
                        "define it under 'vocabularies:'")
                    self._fail((*path, i) if isinstance(value, list) else path,
                               "undefined-vocabulary", f"vocabulary '{item}' is not defined", hint)
                    ok = False
                    continue
                words.extend(self.scope.vocabularies[name])
            else:
                words.append(c.Word(item, fold(item), None))
        return tuple(words) if ok else None

    def _choice(self, value: Any, choices: tuple[str, ...], path: PathKey,
                what: str) -> str | None:
        if value in choices:
            return str(value)
        self._fail(path, "unknown-value", f"{what} is one of {', '.join(choices)}, found "
                   f"{value!r}", did_you_mean(str(value), choices))
        return None
