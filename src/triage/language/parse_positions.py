"""The condition parser's positional tests: ``near`` and text placed ``in:`` a part or
a ``sentence:`` kind (the objects are ``conditions.SpanTest``)."""

from __future__ import annotations

from typing import Any

from ..errors import did_you_mean
from . import conditions as c
from .loader import PathKey
from .parse_base import ParserBase

#: Where a positional test may look: ``in:`` a part, ``sentence:`` a kind, ``same:`` a unit.
PARTS = ("customer", "note", "reported")
SENTENCE_KINDS = ("question", "statement")
UNITS = ("clause", "sentence")
NEAR_KEYS = ("words", "with", "within", "ordered", "same", "in", "sentence", "negation")
#: ``near`` without ``within`` or ``same``: at most this many characters apart.
DEFAULT_WITHIN = 8
MAX_WITHIN = 200
TEXT_MODES = ("any", "all", "none")


class PositionParsing(ParserBase):
    """``near:`` and ``text: {any: [...], in: ..., sentence: ...}``."""

    def _placed_text(self, value: dict[str, Any], path: PathKey, negation: Any,
                     place: dict[str, Any]) -> c.Condition | None:
        """``text: {any: [...], in: note, sentence: question}``: words in a part or a
        kind of sentence."""
        extra = sorted(set(value) - {"any", "in", "sentence", "negation"})
        for key in extra:
            self._fail((*path, key), "unknown-key" if key not in TEXT_MODES else "conflict",
                       f"'{key}' cannot be used with in:/sentence:" if key in TEXT_MODES
                       else f"unknown text test '{key}'",
                       "in: and sentence: place the words of any: (use not: for none)",
                       key=True)
        if "any" not in value:
            self._fail(path, "missing-key", "in:/sentence: need the words under any:")
            return None
        words = self._words(value["any"], (*path, "any"))
        part = self._choice(place["in"], PARTS, (*path, "in"), "in") if "in" in place \
            else None
        sentence = (self._choice(place["sentence"], SENTENCE_KINDS, (*path, "sentence"),
                                 "sentence") if "sentence" in place else None)
        negation = value.get("negation", negation)
        if not isinstance(negation, bool):
            self._fail((*path, "negation"), "wrong-type", "negation takes true or false")
            return None
        if words is None or extra or ("in" in place and part is None) or (
                "sentence" in place and sentence is None):
            return None
        return c.SpanTest(words, part=part, sentence=sentence, negation=negation)

    def _near(self, value: Any, path: PathKey) -> c.Condition | None:
        """``near: {words: [...], with: [...], within: 8, ordered: false, same: clause,
        in: customer, sentence: question, negation: true}``."""
        if not isinstance(value, dict):
            self._fail(path, "wrong-type", "'near' takes a mapping: {words: [...], with: "
                       "[...], within: 8}")
            return None
        ok = True
        for key in value:
            if key not in NEAR_KEYS:
                self._fail((*path, key), "unknown-key", f"unknown key '{key}' of near",
                           did_you_mean(str(key), NEAR_KEYS)
                           or "near takes: " + ", ".join(NEAR_KEYS), key=True)
                ok = False
        for key in ("words", "with"):
            if key not in value:
                self._fail(path, "missing-key", f"near needs '{key}': a list of words")
                ok = False
        words = self._words(value["words"], (*path, "words")) if "words" in value else None
        near = self._words(value["with"], (*path, "with")) if "with" in value else None
        within = value.get("within")
        if within is not None and (not isinstance(within, int) or isinstance(within, bool)
                                   or not 0 <= within <= MAX_WITHIN):
            self._fail((*path, "within"), "wrong-type", f"within is a number of characters "
                       f"from 0 to {MAX_WITHIN}, found {within!r}")
            ok = False
        same = (self._choice(value["same"], UNITS, (*path, "same"), "same")
                if "same" in value else None)
        part = self._choice(value["in"], PARTS, (*path, "in"), "in") if "in" in value else None
        sentence = (self._choice(value["sentence"], SENTENCE_KINDS, (*path, "sentence"),
                                 "sentence") if "sentence" in value else None)
        for key in ("ordered", "negation"):
            if key in value and not isinstance(value[key], bool):
                self._fail((*path, key), "wrong-type", f"{key} takes true or false")
                ok = False
        if not ok or words is None or near is None or ("same" in value and same is None) or (
                "in" in value and part is None) or ("sentence" in value and sentence is None):
            return None
        if within is None and same is None:
            within = DEFAULT_WITHIN
        return c.SpanTest(words, near, within, bool(value.get("ordered", False)), same, part,
                          sentence, bool(value.get("negation", True)))
