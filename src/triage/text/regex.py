"""Policy regexes run on RE2: matching time is linear in the text, whatever the pattern.

Customer text is untrusted and patterns are written by hand; a backtracking engine could
hang on a pattern such as ``(a+)+$``. RE2 has no look-around or back-references, and a
pattern that needs them is rejected when the policy loads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # errors are reported as policy problems, not on stderr
    return options


def compile_pattern(pattern: str) -> Any:
    """Compile ``pattern`` with RE2; raise ``ValueError`` with RE2's reason when invalid."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason)) from None


class RegexSet:
    """The policy's regexes, matched together: which of them match a text, as a bit mask.

    RE2's filtered matching: its own set of the literals each pattern needs finds, in one
    pass, the patterns that can match, and only those run (one RE2 set of all patterns
    is slower: bounded repeats of Unicode classes, as in ``[^。!?]{0,40}``, blow up its
    automaton). Searching those literals in the keyword pass instead, to skip RE2 on
    texts where no pattern can match, cost 11% more instructions per complaint on the
    default policy (2026-12-08): some common literal of some pattern occurs in nearly
    every complaint, and handling the extra matches in Python costs more than RE2's
    pass. Patterns must compile with ``compile_pattern``.
    """

    __slots__ = ("_match", "_singles")

    def __init__(self, patterns: list[str]) -> None:
        options = _options()
        matcher = re2.Filter()
        for pattern in patterns:
            matcher.Add(pattern, options)
        if patterns:
            matcher.Compile()
        native = getattr(matcher, "_filter", None)  # the C object: no re-encoding per call
        self._match = matcher.Match if native is None else native.Match
        self._singles = tuple(compile_pattern(p) for p in patterns)

    def mask(self, data: bytes, text: str) -> int:
        """Bit ``i`` set when pattern ``i`` matches ``text`` (``data`` is it in UTF-8)."""
        if not self._singles:
            return 0
        try:
            found = self._match(data, False) or ()
        except Exception:  # RE2 ran out of memory: search the patterns one by one
            found = [i for i, p in enumerate(self._singles) if p.search(text) is not None]
        bits = 0
        for i in found:
            bits |= 1 << i
        return bits

    def negated(self, text: str, bits: int, is_negated: Callable[[int], bool]) -> int:
        """The patterns among ``bits`` whose every match in ``text`` starts where
        ``is_negated`` says a cue negates it (``不用派人来``: the match 派人 is negated)."""
        out = 0
        singles = self._singles
        while bits:
            low = bits & -bits
            i = low.bit_length() - 1
            bits ^= low
            seen = False
            for match in singles[i].finditer(text):
                seen = True
                if not is_negated(match.start()):
                    break  # a match left standing: the pattern holds
            else:
                if seen:
                    out |= low
        return out
