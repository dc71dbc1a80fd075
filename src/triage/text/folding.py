"""Text normalisation for keyword matching: width, case and Traditional Chinese folded.

Folding maps every character to exactly one character, so an offset found in the folded
text is the same offset in the customer's original text: evidence can point at the words
the customer actually wrote, in the script they wrote them.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Final

#: Characters that end a clause: a negation cue does not reach across them.
CLAUSE_BREAKS = frozenset("，。！？；：,.!?;:\n\r、…~～")


def _load_table() -> dict[int, str]:
    data = resources.files("triage").joinpath("_data/fold.json").read_text(encoding="utf-8")
    mapping: dict[str, str] = json.loads(data)
    return {ord(k): v for k, v in mapping.items()}


#: Character -> folded character; read once at import and never changed.
_TABLE: Final = _load_table()

#: The foldable characters common in Simplified text: full-width punctuation. A text whose
#: other characters need no folding is folded with a few ``str.replace`` calls, several
#: times faster than ``str.translate`` over a large table.
_COMMON: Final = tuple((ch, _TABLE[ord(ch)]) for ch in "，！？：；（）"
                       if ord(ch) in _TABLE)
_COMMON_CODES: Final = frozenset(ord(ch) for ch, _ in _COMMON)
_NEEDS_TABLE: Final = re.compile(
    "[" + "".join(re.escape(chr(code)) for code in sorted(_TABLE)
                  if code not in _COMMON_CODES) + "]")


def fold(text: str) -> str:
    """Return ``text`` with full-width, upper-case and Traditional characters folded.

    The result has the same length as ``text``: character ``i`` of one is character ``i``
    of the other.
    """
    if _NEEDS_TABLE.search(text) is None:
        for wide, narrow in _COMMON:
            if wide in text:
                text = text.replace(wide, narrow)
        return text
    return text.translate(_TABLE)


#: The Traditional characters of the table (CJK characters with a Simplified form).
_TRADITIONAL: Final = re.compile(
    "[" + "".join(chr(code) for code in sorted(_TABLE) if 0x3400 <= code <= 0xFAFF) + "]")


def has_traditional(text: str) -> bool:
    """True when ``text`` contains a Traditional Chinese character that has a Simplified form."""
    return _TRADITIONAL.search(text) is not None
