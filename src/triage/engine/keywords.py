"""Find the policy's words in folded text, and which occur only right after a negation cue.

One RE2 set answers, in a single linear pass, which words and cues occur anywhere (nested
and overlapping ones included). When a cue occurs, only the words found in the few
characters after a cue need their positions looked at, to tell whether every occurrence
is negated. (A second RE2 set of "cue, gap, word" patterns answers that in C, but costs
about 150 ms of load time and 40 MiB per policy: not worth the microsecond it saves.)
Positions for the evidence are found with ``str.find`` when someone reads them. For the
short texts of complaints this is faster than driving an Aho-Corasick automaton from
Python (``benchmarks/keyword_matching.py`` has the figures).

A word whose start lies at most ``window`` characters after the end of a cue, in the same
clause, is negated there; a negation-aware test ignores a word when every one of its
occurrences is negated.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import re2

from ..language.conditions import RegexTest, SpanTest, TextTest, walk, words_tested
from ..language.validate import PolicyModel
from ..text.folding import CLAUSE_BREAKS
from ..text.regex import RegexSet

#: RE2's memory budget for the set's automaton; past it, matching falls back to ``in``.
SET_MAX_MEM = 256 << 20


class Found:
    """The words of one text: present (not negated everywhere), all, and those negated once;
    and which of the policy's regexes match it (bit ``i``: regex ``i`` of the RegexSet)."""

    __slots__ = ("all", "cue_ends", "negated", "present", "regexes")

    def __init__(self, present: frozenset[int] | set[int], every: frozenset[int] | set[int],
                 negated: frozenset[int] | set[int], regexes: int = 0,
                 cue_ends: tuple[int, ...] | None = None) -> None:
        self.present = present
        self.all = every
        self.negated = negated
        self.regexes = regexes
        #: Where the negation cues end (when some word was negated), for positions.
        self.cue_ends = cue_ends


NOTHING = Found(frozenset(), frozenset(), frozenset())


class KeywordIndex:
    """The words (ids ``0..n-1``), negation cues and exception phrases of a policy, in one
    RE2 set, and the policy's regexes (``RegexSet``), matched on the same UTF-8 bytes."""

    __slots__ = ("_cue_ids", "_cues", "_excepted", "_extra", "_n", "_reach", "_regexes",
                 "_set", "_strings", "_window", "_words")

    def __init__(self, words: Sequence[str], cues: Sequence[str], window: int,
                 regexes: RegexSet | None = None,
                 exceptions: Mapping[str, Sequence[str]] | None = None) -> None:
        if len(set(words)) != len(words) or "" in words or any("\x00" in w for w in words):
            raise ValueError("words must be distinct, non-empty and free of NUL")
        self._n = len(words)
        self._words = tuple(words)
        self._window = window
        strings = list(words)
        ids = {word: kid for kid, word in enumerate(strings)}
        phrases = [p for ps in (exceptions or {}).values() for p in ps]
        for extra in (*cues, *phrases):
            if extra and extra not in ids:
                ids[extra] = len(strings)
                strings.append(extra)
        #: Word id -> (phrase ids, phrases) in which an occurrence of the word does not count.
        self._excepted = {ids[w]: (frozenset(ids[p] for p in ps), tuple(ps))
                          for w, ps in (exceptions or {}).items() if w in ids and ps}
        self._strings = tuple(strings)
        self._cues = tuple(sorted({c for c in cues if c}))
        self._cue_ids = frozenset(ids[c] for c in self._cues)
        self._extra = frozenset(range(self._n, len(strings)))
        self._regexes = regexes
        self._reach = window + max(map(len, words), default=0)
        self._set = _compile_set([re.escape(s) for s in strings])

    def word(self, kid: int) -> str:
        return self._strings[kid]

    def find(self, folded: str) -> Found:
        """Which words occur in ``folded``, which of them only right after a cue, and which
        regexes match it."""
        data = folded.encode()  # RE2 reads UTF-8: encoded once for the words and regexes
        regexes = self._regexes
        if not folded or not self._strings:
            return NOTHING if regexes is None else Found(
                frozenset(), frozenset(), frozenset(), regexes.mask(data, folded))
        matched = _match(self._set, data, folded, self._strings)
        matches = 0 if regexes is None else regexes.mask(data, folded)
        if not matched:
            return NOTHING if not matches else Found(frozenset(), frozenset(), frozenset(),
                                                     matches)
        every = set(matched)
        if self._extra:
            every -= self._extra
        excepted = self._excepted.keys()
        if not excepted.isdisjoint(every):  # most texts hold no excepted word: no set built
            for kid in excepted & every:
                if not self._positions(folded, kid, matched):
                    every.discard(kid)  # every occurrence inside an exception phrase
        if not every or self._cue_ids.isdisjoint(matched):
            return Found(every, every, frozenset(), matches)  # no cue: no word negated
        strings = self._strings
        cue_ends = _cue_ends(folded, [strings[i] for i in self._cue_ids.intersection(matched)])
        # Only a word starting in the few characters after a cue can be negated: look for
        # the words in those stretches first, joined by a character no word contains.
        reach = self._reach
        shadows = "\x00".join([folded[e:e + reach] for e in cue_ends])
        suspects = [kid for kid in every if strings[kid] in shadows]
        if not suspects:
            return Found(every, every, frozenset(), matches)
        present = set(every)
        window = self._window
        negated = []
        for kid in suspects:
            marks = [_negated(folded, s, cue_ends, window)
                     for s in self._positions(folded, kid, matched)]
            if any(marks):
                negated.append(kid)
                if all(marks):
                    present.discard(kid)
        return Found(present, every, frozenset(negated), matches, cue_ends)

    def regex_stands(self, folded: str, bit: int, found: Found) -> bool:
        """Whether regex ``bit`` (it matches ``folded``) has a match no negation cue
        negates. Asked only by a negation-aware regex test whose pattern matched, so a
        text without a cue, or a rule that never gets there, costs nothing."""
        regexes = self._regexes
        if regexes is None:
            return True
        cue_ends = found.cue_ends
        if cue_ends is None:
            cues = [c for c in self._cues if c in folded]
            if not cues:
                return True
            cue_ends = _cue_ends(folded, cues)
        window = self._window
        return not regexes.negated(folded, bit,
                                   lambda start: _negated(folded, start, cue_ends, window))

    def _positions(self, folded: str, kid: int, matched: Any = None) -> list[int]:
        """Start offsets of word ``kid``, but those inside one of its exception phrases."""
        starts = _starts(folded, self._strings[kid])
        excepted = self._excepted.get(kid)
        if excepted is None or (matched is not None and excepted[0].isdisjoint(matched)):
            return starts
        word_length = len(self._strings[kid])
        covered = [(a, a + len(p)) for p in excepted[1] for a in _starts(folded, p)]
        return [s for s in starts
                if not any(a <= s and s + word_length <= b for a, b in covered)]

    def starts(self, folded: str, kid: int, found: Found, negation: bool) -> list[int]:
        """Start offsets of word ``kid``; with ``negation``, only the occurrences not negated."""
        starts = self._positions(folded, kid)
        if negation and kid in found.negated:
            cue_ends = found.cue_ends
            if cue_ends is None:
                cue_ends = _cue_ends(folded, [c for c in self._cues if c in folded])
            return [s for s in starts if not _negated(folded, s, cue_ends, self._window)]
        return starts

    def negating_cue(self, folded: str, start: int) -> tuple[int, int] | None:
        """Where the cue that negates the word at ``start`` is (start, end), or None: for
        ``triage explain --why-not``."""
        low = max(0, start - self._window - max(map(len, self._cues), default=0))
        for cue in self._cues:
            for at in _starts(folded[low:start], cue):
                end = low + at + len(cue)
                if end <= start and _negated(folded, start, (end,), self._window):
                    return low + at, end
        return None


def _match(matcher: Any, data: bytes, text: str, strings: Sequence[str]) -> list[int]:
    """Indexes of the set's patterns in ``text`` (``data`` in UTF-8); ``in`` if RE2 gives up."""
    try:
        return matcher(data) or []
    except Exception:  # RE2 ran out of memory for its automaton
        return [i for i, s in enumerate(strings) if s in text]


def _compile_set(patterns: list[str]) -> Any:
    if not patterns:
        return None
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    options.max_mem = SET_MAX_MEM
    matcher = re2.Set.SearchSet(options)
    for pattern in patterns:
        matcher.Add(pattern)
    matcher.Compile()
    # The C object's own Match, fed UTF-8 once per text, skips the wrapper's encoding.
    native = getattr(matcher, "_set", matcher)
    return native.Match


def _starts(text: str, word: str) -> list[int]:
    """Every start offset of ``word`` in ``text``, overlapping occurrences included."""
    starts = []
    at = text.find(word)
    while at >= 0:
        starts.append(at)
        at = text.find(word, at + 1)
    return starts


def _cue_ends(folded: str, cues: list[str]) -> tuple[int, ...]:
    """Where each occurrence of the ``cues`` (all occurring in ``folded``) ends, in order."""
    if len(cues) == 1:
        (cue,) = cues
        return tuple(s + len(cue) for s in _starts(folded, cue))
    return tuple(sorted({s + len(cue) for cue in cues for s in _starts(folded, cue)}))


def _negated(folded: str, start: int, cue_ends: tuple[int, ...], window: int) -> bool:
    """True when a cue ends at most ``window`` characters before ``start``, same clause.

    ``cue_ends`` is sorted: a binary search finds the cues that can reach ``start``, so a
    long text with many cues stays linear overall.
    """
    i = bisect_right(cue_ends, start)
    while i > 0:
        i -= 1
        cue_end = cue_ends[i]
        if start - cue_end > window:
            return False
        if CLAUSE_BREAKS.isdisjoint(folded[cue_end:start]):
            return True
    return False


class PolicyLiterals(NamedTuple):
    """What the keyword pass searches for: every folded word and every regex pattern the
    rules test, each numbered in order of first use (the ids the keyword index and the
    program share), and for each word written with ``except:`` the phrases in which it
    does not count. An exception belongs to the word wherever the policy tests it (the
    union when the word is written with exceptions in several places)."""

    words: dict[str, int]
    patterns: dict[str, int]
    exceptions: dict[str, tuple[str, ...]]


def policy_literals(model: PolicyModel) -> PolicyLiterals:
    """The words, patterns and word exceptions of ``model``, in one walk of its rules."""
    words: dict[str, int] = {}
    patterns: dict[str, int] = {}
    exceptions: dict[str, dict[str, None]] = {}
    for stage in model.stages.values():
        for rule in stage.rules:
            for cond in walk(rule.condition):
                if isinstance(cond, TextTest | SpanTest):
                    for word in words_tested(cond):
                        words.setdefault(word.folded, len(words))
                        if word.exceptions:
                            exceptions.setdefault(word.folded, {}).update(
                                dict.fromkeys(word.exceptions))
                elif isinstance(cond, RegexTest):
                    patterns.setdefault(cond.pattern, len(patterns))
    return PolicyLiterals(words, patterns,
                          {word: tuple(phrases) for word, phrases in exceptions.items()})
