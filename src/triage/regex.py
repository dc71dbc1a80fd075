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


def compile_set(patterns: list[str]) -> Callable[[str], int]:
    """Which of ``patterns`` match a text, as a mask: bit ``i`` for pattern ``i``.

    RE2's filtered matching: the literal atoms every pattern needs are searched in one
    pass, and only the patterns whose atoms occur are run. (One RE2 set of all patterns
    is slower here: bounded repeats of Unicode classes, as in ``[^。!?]{0,40}``, blow up
    the set's automaton.) Each pattern must already compile with ``compile_pattern``.
    """
    options = _options()
    matcher = re2.Filter()
    for pattern in patterns:
        matcher.Add(pattern, options)
    matcher.Compile()
    singles = tuple(compile_pattern(p) for p in patterns)

    def mask(text: str) -> int:
        try:
            found = matcher.Match(text) or ()
        except Exception:  # RE2 ran out of memory: search the patterns one by one
            found = [i for i, p in enumerate(singles) if p.search(text) is not None]
        bits = 0
        for i in found:
            bits |= 1 << i
        return bits

    return mask
