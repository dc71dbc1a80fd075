"""Folding keeps offsets: one character in, one character out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from triage.text import fold, has_traditional


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
