"""The forbidden-phrase guard: linear in the text, bounded, and as exact as before."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage.replies.guard import (
    IGNORED,
    MAX_GUARD_CHARS,
    ForbiddenPhrase,
    Guard,
    normalise,
    phrase_pattern,
)
from triage.text.folding import fold
from triage.text.regex import compile_pattern

from ..conftest import scale

PHRASES = [
    ForbiddenPhrase("喂", "随意", "您好", ("喂养",), standalone=True),
    ForbiddenPhrase("不知道", "推脱", "我帮您查一下", ("不知道您是否",)),
    ForbiddenPhrase("大点声", "生硬", "麻烦您大声一些"),
]


def _reference(phrases: list[ForbiddenPhrase], text: str) -> list[tuple[str, int, int]]:
    """The guard's rules as first written (quadratic on repeats): the oracle."""
    folded = fold(text)
    found = []
    for item in phrases:
        pattern = compile_pattern(phrase_pattern(item.phrase))
        allowed = [m.span() for e in item.exceptions
                   for m in compile_pattern(phrase_pattern(e)).finditer(folded)]
        core = normalise(item.phrase)
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(a <= start and end <= b for a, b in allowed):
                continue
            if item.standalone:
                left = folded[:start].rstrip(core)
                right = folded[end:].lstrip(core)
                before, after = left[-1:], right[:1]
                if not ((not before or before in IGNORED) and (not after or after in IGNORED)):
                    continue
            found.append((item.phrase, start, end))
    return sorted(found, key=lambda f: (f[1], -f[2], f[0]))


@settings(max_examples=scale(200, 2000), deadline=None)
@given(st.lists(st.sampled_from(["喂", "喂养", "，", "不知道", "您是否", "大点声", "大點聲",
                                 "你好", "。", " ", "张", "！"]), max_size=30).map("".join))
def test_the_guard_finds_what_the_first_version_found(text: str) -> None:
    """On random mixes of phrases, exceptions, repeats and breaks, the linear guard finds
    exactly what the first (quadratic) version did."""
    got = [(f.phrase, f.start, f.end) for f in Guard(PHRASES).check(text)]
    assert got == _reference(PHRASES, text)


def test_a_hundred_thousand_repeats_are_checked(default_policy: triage.Policy) -> None:
    """100,000 x 喂 (79 s before, quadratic) gives one finding per 喂; the time is in
    benchmarks/guard.py, not asserted here."""
    found = default_policy.guard("喂" * 100_000)
    assert len(found) == 100_000 and found[-1].start == 99_999


def test_a_text_over_the_limit_is_refused_with_a_clear_error(
        default_policy: triage.Policy) -> None:
    """Past MAX_GUARD_CHARS the guard says so, as a TriageError naming the limit."""
    with pytest.raises(triage.TriageError, match=f"at most {MAX_GUARD_CHARS:,}"):
        default_policy.guard("好" * (MAX_GUARD_CHARS + 1))
