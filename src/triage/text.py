"""Text normalisation for keyword matching: width, case and Traditional Chinese folded.

Folding maps every character to exactly one character, so an offset found in the folded
text is the same offset in the customer's original text: evidence can point at the words
the customer actually wrote, in the script they wrote them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

#: Characters that end a clause: a negation cue does not reach across them.
CLAUSE_BREAKS = frozenset("，。！？；：,.!?;:\n\r、…~～")


@cache
def _fold_table() -> dict[int, str]:
    data = resources.files("triage").joinpath("_data/fold.json").read_text(encoding="utf-8")
    mapping: dict[str, str] = json.loads(data)
    return {ord(k): v for k, v in mapping.items()}


def fold(text: str) -> str:
    """Return ``text`` with full-width, upper-case and Traditional characters folded.

    The result has the same length as ``text``: character ``i`` of one is character ``i``
    of the other.
    """
    return text.translate(_fold_table())


def has_traditional(text: str) -> bool:
    """True when ``text`` contains a Traditional Chinese character that has a Simplified form."""
    table = _fold_table()
    return any(ord(ch) in table and "\u3400" <= ch <= "\ufaff" for ch in text)
