"""What ``implies`` and ``exclusive`` claim about two conditions is true on every complaint.

Random pairs of conditions become two ``flags`` rules of one policy; the engine then decides
random complaints, and each claim is checked against what the rules actually did.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.language.conditions import SpanTest, TextTest, Word
from triage.language.implication import exclusive, implies

from ..conftest import FIXTURES, rule_lines

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8").replace(
    "  flags: {safety: 安全隐患, recurrence: 重复发生}",
    "  flags: {safety: 安全隐患, recurrence: 重复发生, a: 甲, b: 乙}")
WORDS = ["漏水", "异响", "态度差"]
CHANNELS = ["phone", "email", "web"]

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True)
text_tests = st.builds(
    lambda mode, ws, negation: {"text": {mode: ws}, **({} if negation else {"negation": False})},
    st.sampled_from(["any", "all", "none"]), words, st.booleans())
number = st.integers(0, 3)
rejection_tests = st.one_of(
    st.builds(lambda op, v: {"field": "prior_rejections", op: v},
              st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), number),
    st.builds(lambda op, vs: {"field": "prior_rejections", op: vs},
              st.sampled_from(["in", "not_in"]), st.lists(number, min_size=1, max_size=3)),
    st.builds(lambda a, b: {"field": "prior_rejections", "between": sorted([a, b])}, number,
              number))
channel_tests = st.builds(
    lambda op, vs: {"field": "channel", op: vs if op in ("in", "not_in") else vs[0]},
    st.sampled_from(["eq", "ne", "in", "not_in"]),
    st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True))
tests = st.one_of(text_tests, rejection_tests, channel_tests)
conditions = st.recursive(
    tests,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner)),
    max_leaves=4)

#: Every combination of the words, each word plain or negated, over channels and rejections.
COMPLAINTS = [
    {"id": str(i), "channel": channel, "prior_rejections": rejections,
     "text": "，".join(("不是" if negated else "") + word for word, negated in chosen) or "你好"}
    for i, (chosen, channel, rejections) in enumerate(itertools.product(
        [[(w, n) for w, n in zip(ws, negs, strict=True)]
         for k in range(len(WORDS) + 1) for ws in itertools.combinations(WORDS, k)
         for negs in itertools.product([False, True], repeat=k)],
        CHANNELS, range(4)))
]


def two_rule_policy(first: dict[str, Any], second: dict[str, Any]) -> triage.Policy:
    rules = rule_lines([{"id": "f.a", "when": first, "set": {"flags": ["a"]}},
                        {"id": "f.b", "when": second, "set": {"flags": ["b"]}}])
    text = MINIMAL.replace("""      - id: fl.safety
        when: {text: [$danger]}
        set: {flags: [safety]}
      - id: fl.again
        when: {text: [又, 再次]}
        set: {flags: recurrence}
""", rules)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "policy.yaml").write_text(text, encoding="utf-8")
        return triage.load_policy(Path(folder))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, conditions)
def test_claims_hold_on_every_complaint(first: dict[str, Any], second: dict[str, Any]) -> None:
    """implies(a, b): b holds wherever a does; exclusive(a, b): never both."""
    policy = two_rule_policy(first, second)
    a, b = (rule.condition for rule in policy._model.stages["flags"].rules)
    claims = (implies(a, b), exclusive(a, b), implies(b, a))
    for complaint in COMPLAINTS:
        flags = set(policy.triage(complaint).flags)
        if claims[0]:
            assert "b" in flags or "a" not in flags, (complaint, a, b)
        if claims[1]:
            assert not {"a", "b"} <= flags, (complaint, a, b)
        if claims[2]:
            assert "a" in flags or "b" not in flags, (complaint, a, b)


def test_claims_are_made_where_the_structure_proves_them() -> None:
    """Soundness alone is easy (always say no); these pairs must be recognised."""
    proved = [
        ({"text": ["漏水"]}, {"text": ["漏水", "异响"]}, "implies"),
        ({"text": {"all": ["漏水", "异响"]}}, {"text": ["异响"]}, "implies"),
        ({"all": [{"text": ["漏水"]}, {"field": "channel", "eq": "web"}]}, {"text": ["漏水"]},
         "implies"),
        ({"field": "prior_rejections", "gte": 3}, {"field": "prior_rejections", "gt": 2},
         "implies"),
        ({"field": "channel", "eq": "web"}, {"field": "channel", "ne": "phone"}, "implies"),
        ({"text": ["漏水"]}, {"text": ["漏水"], "negation": False}, "implies"),
        ({"text": ["漏水"]}, {"text": {"none": ["漏水"]}}, "exclusive"),
        ({"field": "prior_rejections", "lt": 2}, {"field": "prior_rejections", "gte": 2},
         "exclusive"),
        ({"field": "channel", "in": ["web", "email"]}, {"field": "channel", "eq": "phone"},
         "exclusive"),
        ({"not": {"text": ["漏水"]}}, {"text": {"all": ["漏水", "异响"]}}, "exclusive"),
    ]
    for first, second, claim in proved:
        a, b = (r.condition for r in two_rule_policy(first, second)._model.stages["flags"].rules)
        assert (implies(a, b) if claim == "implies" else exclusive(a, b)), (first, second)


def test_a_positional_test_implies_the_plain_word_test() -> None:
    """`near` finds a word of each list: a rule on any of those words holds whenever it
    does (so `check` sees the shadowing), but not the other way round."""
    part = (Word("车窗", "车窗", "part"), Word("天窗", "天窗", "part"))
    stuck = (Word("不上去", "不上去", "stuck"),)
    near = SpanTest(part, stuck, within=4)
    assert implies(near, TextTest("any", part))
    assert implies(near, TextTest("any", (*stuck, Word("坏", "坏", None))))
    assert not implies(TextTest("any", part), near)
    assert not implies(near, TextTest("any", part[:1]))  # 天窗 alone would not do
    assert not implies(SpanTest(part, stuck, within=4, negation=False), TextTest("any", part))
    assert not implies(near, TextTest("all", part))
