"""Generate ``src/triage/_data/fold.json``: the one-character-to-one fold table.

Run with the ``dev`` extra installed (it needs ``opencc``)::

    python tools/make_fold_table.py

The table folds full-width to half-width, upper to lower case and Traditional to
Simplified Chinese, one character to exactly one character, so that offsets found in
the folded text are offsets in the customer's original text. The Traditional-to-
Simplified part comes from OpenCC's character dictionary (Apache-2.0).
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parent.parent / "src" / "triage" / "_data" / "fold.json"
CJK_RANGES = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)]


def width_and_case(ch: str) -> str:
    """Fold one character's width (NFKC) and case, keeping it a single character."""
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        folded = ch
    lowered = folded.lower()
    return lowered if len(lowered) == 1 else folded


def main() -> None:
    table: dict[str, str] = {}
    for code in range(0x20, 0x3000):
        ch = chr(code)
        if unicodedata.category(ch) in ("Lu", "Lt"):
            folded = width_and_case(ch)
            if folded != ch:
                table[ch] = folded
    for code in list(range(0x3000, 0x3001)) + list(range(0xFF01, 0xFF5F)):
        ch = chr(code)
        folded = width_and_case(ch)
        if folded != ch:
            table[ch] = folded
    converter = opencc.OpenCC("t2s")
    chars = [chr(c) for lo, hi in CJK_RANGES for c in range(lo, hi + 1)]
    converted = converter.convert("\n".join(chars)).split("\n")
    assert len(converted) == len(chars)
    for ch, simp in zip(chars, converted, strict=True):
        if len(simp) == 1 and simp != ch:
            table[ch] = simp
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(dict(sorted(table.items())), ensure_ascii=False, indent=0) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(table)} entries to {OUT}")


if __name__ == "__main__":
    main()
