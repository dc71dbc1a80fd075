"""One pass over the folded text finds every policy word and every negation cue.

An Aho-Corasick automaton (pyahocorasick) reports all occurrences, overlapping ones
included, in one scan; a word right after a negation cue in the same clause is recorded
as negated. Measured against ``in`` per word in ``benchmarks/keyword_matching.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from ..text import CLAUSE_BREAKS

Hits = dict[int, list[int]]


class KeywordIndex:
    """Finds the words of a policy in folded text: ``scan`` returns word id -> start offsets."""

    __slots__ = ("_automaton", "_has_cues", "_window", "_words")

    def __init__(self, words: Sequence[str], cues: Sequence[str], window: int) -> None:
        self._words = tuple(words)
        self._window = window
        entries: dict[str, list[int]] = {}
        for kid, word in enumerate(words):
            entries.setdefault(word, [-1, len(word), 0])[0] = kid
        for cue in cues:
            entries.setdefault(cue, [-1, len(cue), 0])[2] = 1
        self._has_cues = bool(cues)
        self._automaton: ahocorasick.Automaton | None = None
        if entries:
            automaton = ahocorasick.Automaton()
            for text, (kid, length, is_cue) in entries.items():
                automaton.add_word(text, (kid, length, is_cue))
            automaton.make_automaton()
            self._automaton = automaton

    def word(self, kid: int) -> str:
        return self._words[kid]

    def scan(self, folded: str) -> tuple[Hits, Hits]:
        """Return (hits, all_hits): occurrences not negated, and all occurrences."""
        automaton = self._automaton
        if automaton is None or not folded:
            return {}, {}
        hits: Hits = {}
        all_hits: Hits | None = None
        cue_ends: list[int] = []
        window = self._window
        for end, (kid, length, is_cue) in automaton.iter(folded):
            start = end - length + 1
            if kid >= 0:
                if cue_ends and _negated(folded, start, cue_ends, window):
                    if all_hits is None:
                        all_hits = {k: list(v) for k, v in hits.items()}
                    all_hits.setdefault(kid, []).append(start)
                else:
                    hits.setdefault(kid, []).append(start)
                    if all_hits is not None:
                        all_hits.setdefault(kid, []).append(start)
            if is_cue:
                cue_ends.append(end + 1)
        return hits, (hits if all_hits is None else all_hits)


def _negated(folded: str, start: int, cue_ends: list[int], window: int) -> bool:
    """True when a cue ends at most ``window`` characters before ``start``, same clause."""
    for cue_end in reversed(cue_ends):
        gap = start - cue_end
        if gap < 0:
            continue
        if gap > window:
            return False
        if not any(ch in CLAUSE_BREAKS for ch in folded[cue_end:start]):
            return True
    return False
