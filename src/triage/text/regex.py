"""Policy regexes run on RE2: matching time is linear in the text, whatever the pattern.

Customer text is untrusted and patterns are written by hand; a backtracking engine could
hang on a pattern such as ``(a+)+$``. RE2 has no look-around or back-references, and a
pattern that needs them is rejected when the policy loads.
"""

from __future__ import annotations

import re as _re
from collections.abc import Callable
from typing import Any

import re2

try:  # Python's own regex parser: the atoms a pattern needs are read from it
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover (present in every supported Python)
    import sre_constants as _c
    import sre_parse as _sre_parser


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

    Most complaints lack some literal a pattern needs (``required_clauses``), so
    the patterns are not run at all: the keyword pass (``KeywordIndex``) searches the
    atoms along with the words, and only when an atom occurs does RE2 run, as filtered
    matching over all patterns (one RE2 set of all patterns is slower: bounded repeats of
    Unicode classes, as in ``[^。!?]{0,40}``, blow up its automaton). A pattern that is one
    plain literal is decided by its atom alone. Patterns must compile with
    ``compile_pattern``.
    """

    __slots__ = ("_always", "_literal", "_match", "_require", "_singles", "atoms", "needs")

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
        atoms: dict[str, int] = {}
        needs: list[int] = []  # per atom: the clauses (bits) it satisfies
        clause_bit = 1
        require: list[tuple[int, int]] = []  # (pattern bit, its clauses)
        always = literal = 0
        for bit, pattern in enumerate(patterns):
            required = required_clauses(pattern)
            if required is None:
                always |= 1 << bit
                continue
            mask = 0
            for clause in required:  # distinct clauses: each gets the next bit
                mask |= clause_bit
                for atom in clause:
                    if atoms.setdefault(atom, len(atoms)) == len(needs):
                        needs.append(0)
                    needs[atoms[atom]] |= clause_bit
                clause_bit <<= 1
            require.append((1 << bit, mask))
            if len(required) == 1 and len(required[0]) == 1 and _is_literal(
                    pattern, next(iter(required[0]))):
                literal |= 1 << bit
        #: The literals to search for; ``needs[i]``: the clauses ``atoms[i]`` satisfies.
        self.atoms = tuple(atoms)
        self.needs = tuple(needs)
        self._require = tuple(require)
        self._always = always
        self._literal = literal

    def mask(self, data: bytes, text: str, clauses: int) -> int:
        """Bit ``i`` set when pattern ``i`` matches ``text`` (``data`` is it in UTF-8).

        ``clauses``: the clauses the atoms found in ``text`` satisfy (from ``needs``); a
        pattern can match only when all its clauses are.
        """
        candidates = self._always
        if clauses:
            for bit, wanted in self._require:
                if clauses & wanted == wanted:
                    candidates |= bit
        bits = candidates & self._literal
        rest = candidates ^ bits
        if not rest:
            return bits
        try:
            found = self._match(data, False) or ()
        except Exception:  # RE2 ran out of memory: search the patterns one by one
            found = [i for i, p in enumerate(self._singles) if p.search(text) is not None]
        for i in found:
            bits |= (1 << i) & rest
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


def required_clauses(pattern: str) -> tuple[frozenset[str], ...] | None:
    """Sets of literals such that every match of ``pattern`` contains one literal of each
    set; None when nothing is known to be required.

    Read from Python's parse of the pattern, which agrees with RE2's on the syntax it
    accepts; anything it parses differently or not at all (POSIX classes, ``\\p``, flags,
    ``\\Q``) gives None, and the pattern is then always run.
    """
    if "[:" in pattern or ("\\" in pattern and any(
            f"\\{c}" in pattern for c in "pPQECxz")):
        return None
    try:
        parsed = _sre_parser.parse(pattern)
    except Exception:  # any failure: no atoms, the pattern is always run
        return None
    if parsed.state.flags & ~(_re.UNICODE | _re.DOTALL | _re.MULTILINE):
        return None
    clauses = _required(list(parsed))
    return tuple(sorted(clauses, key=sorted)) if clauses else None


def _required(items: list[Any]) -> set[frozenset[str]]:
    """The clauses of a sequence of parsed items: each run of literals, and the clauses of
    each item that must match at least once."""
    clauses: set[frozenset[str]] = set()
    run: list[str] = []
    for op, arg in items:
        if op is _c.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            clauses.add(frozenset(["".join(run)]))
        run = []
        clauses |= _required_one(op, arg)
    if run:
        clauses.add(frozenset(["".join(run)]))
    return clauses


def _required_one(op: Any, arg: Any) -> set[frozenset[str]]:
    if op is _c.SUBPATTERN:
        _group, add_flags, del_flags, sub = arg
        return set() if add_flags or del_flags else _required(list(sub))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, _high, sub = arg
        return _required(list(sub)) if low >= 1 else set()
    if op is _c.BRANCH:  # one clause: the best clause of every alternative, together
        _none, alternatives = arg
        union: set[str] = set()
        for alternative in alternatives:
            options = _required(list(alternative))
            if not options:
                return set()
            best: frozenset[str] = max(options, key=_score)
            union |= best
        return {frozenset(union)}
    if op is _c.IN and 0 < len(arg) <= 8 and all(o is _c.LITERAL for o, _ in arg):
        return {frozenset(chr(code) for _, code in arg)}
    return set()


def _score(atoms: frozenset[str]) -> tuple[int, int]:
    """Longer shortest literal first (fewer false alarms), then fewer literals; a lone
    punctuation mark or ASCII character counts as shorter than a Chinese character."""
    return (min(2 * len(a) - (len(a) == 1 and a < "\u3400") for a in atoms), -len(atoms))


def _is_literal(pattern: str, atom: str) -> bool:
    """True when ``pattern`` matches exactly the text ``atom`` and nothing else."""
    try:
        parsed = _sre_parser.parse(pattern)
    except Exception:
        return False
    items = list(parsed)
    return (not parsed.state.flags & ~_re.UNICODE and len(items) == len(atom)
            and all(op is _c.LITERAL for op, _ in items))
