"""Folding keeps offsets: one character in, one character out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import triage.text.folding
from triage.text.folding import fold, has_traditional


@given(st.text())
def test_fold_preserves_length(text: str) -> None:
    """Offsets in folded text are offsets in the original, for any input at all."""
    assert len(fold(text)) == len(text)


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    """Folding twice changes nothing more."""
    assert fold(fold(text)) == fold(text)


def test_fold_examples() -> None:
    """Width, case and Traditional characters fold; Simplified text is unchanged."""
    assert fold("ＡＰＰ閃退，車子漏水") == "app闪退,车子漏水"
    assert fold("漏水异响") == "漏水异响"
    assert has_traditional("車子") and not has_traditional("车子")


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(list("维修漏水態度差，！？：；（）％～ＡＢａ１AbC ,.!?歡迎")
                                        + [chr(0xFF01 + i) for i in range(94)])))
def test_fast_fold_equals_the_full_table(text: str) -> None:
    """The fast path for common punctuation folds exactly as translating with the table."""
    assert fold(text) == text.translate(triage.text.folding._TABLE)


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(
    [*"车車子漏水態度差歡迎龍龙㐀ＡＢ ,.", "\ufaff", "\u33ff", *map(chr, range(0x4E00, 0x4E40))])))
def test_has_traditional_is_a_table_lookup(text: str) -> None:
    """The one-regex check agrees with looking every character up in the table."""
    table = triage.text.folding._TABLE
    expected = any(ord(ch) in table and "\u3400" <= ch <= "\ufaff" for ch in text)
    assert has_traditional(text) == expected
