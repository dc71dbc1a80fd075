"""Stage semantics, condition operators, negation and the keyword index."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage.engine.context import Context
from triage.text import fold

from .conftest import FIXTURES, write_policy

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")


def decide(policy: triage.Policy, text: str, **fields: object) -> triage.Decision:
    return policy.triage({"id": "t", "channel": "phone", "text": text, **fields})


def test_first_hit_takes_the_highest_priority(minimal_policy: triage.Policy) -> None:
    """Leak (priority 20) beats attitude (priority 10) whatever the order in the text."""
    decision = decide(minimal_policy, "态度差，而且漏水")
    assert decision.category == "product_quality"
    assert decision.rules_fired("category") == ["cat.leak"]


def test_collect_stage_unions_flags(minimal_policy: triage.Policy) -> None:
    """Every flag rule that holds contributes its flag."""
    decision = decide(minimal_policy, "又冒烟了")
    assert decision.flags == ("recurrence", "safety")
    assert sorted(decision.rules_fired("flags")) == ["fl.again", "fl.safety"]


def test_severity_combines_as_the_maximum(minimal_policy: triage.Policy) -> None:
    """A label problem (incidental) and smoke (severe) give severe, and both rules are listed."""
    decision = decide(minimal_policy, "标签贴错了，还冒烟")
    assert decision.severity == "severe"
    assert sorted(decision.rules_fired("severity")) == ["sev.label", "sev.safety"]


def test_stage_default_applies_and_is_explained(minimal_policy: triage.Policy) -> None:
    """With no rule matching, each stage's default is used and named in the explanation."""
    decision = decide(minimal_policy, "随便说点什么")
    assert (decision.category, decision.severity, decision.owner.role) == (
        "other", "general", "agent")
    defaults = [h.rule_id for h in decision.explanation if h.default]
    assert "category.default" in defaults
    assert [r.role for r in decision.escalation] == ["manager", "boss"]


def test_field_test_and_output_test_route_special_cases(minimal_policy: triage.Policy) -> None:
    """prior_rejections >= 2 makes the case special, and the owner stage sees that."""
    decision = decide(minimal_policy, "还是不行", prior_rejections=2)
    assert (decision.handling, decision.owner.role) == ("special", "manager")
    hit = next(h for h in decision.explanation if h.rule_id == "h.rejections")
    assert hit.evidence[0] == triage.FieldEvidence("prior_rejections", "gte", 2, 2)


def test_record_request_type_skips_the_stage(minimal_policy: triage.Policy) -> None:
    """A request type given in the record is kept and explained as given."""
    decision = decide(minimal_policy, "表扬一下", request_type="suggestion")
    assert decision.request_type == "suggestion"
    assert decision.explanation[0].rule_id == "request_type.given"


def test_negation_cue_cancels_the_keyword(minimal_policy: triage.Policy) -> None:
    """不是漏水 does not count as a leak; 漏水 elsewhere in the text still does."""
    assert decide(minimal_policy, "不是漏水的问题").category == "other"
    assert decide(minimal_policy, "没有漏水").category == "other"
    assert decide(minimal_policy, "不是漏水，是渗水").category == "product_quality"


def test_negation_does_not_reach_across_a_clause(minimal_policy: triage.Policy) -> None:
    """A cue in the previous clause does not cancel a word after the comma."""
    assert decide(minimal_policy, "不是，漏水").category == "product_quality"


def test_negation_window_is_respected(minimal_policy: triage.Policy) -> None:
    """这不是第一次漏水: the cue is three characters away (window 2), so 漏水 counts."""
    assert decide(minimal_policy, "这不是第一次漏水").category == "product_quality"


def test_traditional_and_full_width_input_match_simplified_words(
        minimal_policy: triage.Policy) -> None:
    """態度差 (Traditional) matches 态度差; evidence points at the customer's own characters."""
    decision = decide(minimal_policy, "服務員態度差")
    assert decision.category == "service"
    evidence = decision.explanation[2].evidence[0]
    assert isinstance(evidence, triage.KeywordEvidence)
    assert (evidence.matched, evidence.word, evidence.start) == ("態度差", "态度差", 3)


@pytest.mark.parametrize(("op", "value", "attributes", "expected"), [
    ("eq", 5, {"score": 5}, True),
    ("eq", 5, {}, False),
    ("ne", 5, {}, True),
    ("ne", 5, {"score": 5}, False),
    ("in", [1, 2], {"score": 2}, True),
    ("not_in", [1, 2], {}, True),
    ("gt", 5, {"score": 6}, True),
    ("gt", 5, {"score": "6"}, False),
    ("lte", 6, {"score": 6}, True),
    ("between", [3, 6], {"score": 6}, True),
    ("between", [3, 6], {"score": 7}, False),
    ("exists", True, {"score": None}, False),
    ("exists", False, {}, True),
])
def test_field_operators_on_attributes(tmp_path: Path, op: str, value: object,
                                       attributes: dict[str, object], expected: bool) -> None:
    """Each operator's meaning, including missing values and values of the wrong type."""
    rule = (f"      - id: h.attr\n        priority: 9\n"
            f"        when: {{field: attributes.score, {op}: {value}}}\n"
            f"        set: {{handling: special}}\n")
    text = MINIMAL.replace("  handling:\n    default: general\n    rules:\n",
                           "  handling:\n    default: general\n    rules:\n" + rule)
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    decision = decide(policy, "x", attributes=attributes)
    assert (decision.handling == "special") is expected


def test_regex_and_not_conditions(tmp_path: Path) -> None:
    """A regex on folded text, and a negated keyword test, both with evidence."""
    rule = ("      - id: cat.phone\n        priority: 30\n        when:\n          all:\n"
            "            - regex: '1[3-9][0-9]{9}'\n            - not: {text: [表扬]}\n"
            "        set: {category: service}\n")
    text = MINIMAL.replace("  category:\n    default: other\n    rules:\n",
                           "  category:\n    default: other\n    rules:\n" + rule)
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    decision = decide(policy, "请回电１３８００１３８０００")
    assert decision.category == "service"
    kinds = [e.kind for e in decision.explanation[2].evidence]
    assert kinds == ["regex", "absent"]
    assert decide(policy, "表扬 13800138000").category == "other"


def test_regex_is_linear_on_an_evil_pattern(tmp_path: Path) -> None:
    """(a+)+$ on a long run of a's followed by b completes (RE2 does not backtrack)."""
    rule = ("      - id: cat.evil\n        priority: 30\n        when: {regex: '(a+)+$'}\n"
            "        set: {category: service}\n")
    text = MINIMAL.replace("  category:\n    default: other\n    rules:\n",
                           "  category:\n    default: other\n    rules:\n" + rule)
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    assert decide(policy, "a" * 200_000 + "b").category == "other"


words = st.sampled_from(["漏水", "渗水", "态度差", "不耐烦", "冒烟", "起火", "又", "再次", "标签",
                         "表扬", "不是", "没有", "，", "好", "的", "A", "滲水", "態度差"])


@settings(max_examples=300, deadline=None)
@given(st.lists(words, max_size=12).map("".join))
def test_keyword_index_never_skips_a_rule_that_holds(text: str) -> None:
    """The keyword index picks the same first/fired rules as testing every rule in order."""
    policy = triage.load_policy(FIXTURES / "minimal")
    folded = fold(text)
    hits, all_hits = policy._index.scan(folded)
    record = triage.Complaint(id="p", channel=triage.Channel.PHONE, text=text)
    for stage in policy._stages.values():
        ctx = Context(record, folded, hits, all_hits, policy.timezone, None)
        ctx.flags = frozenset(["safety", "recurrence"])
        brute = [i for i, rule in enumerate(stage.rules) if rule.test(ctx)]
        indexed = [i for i in stage.candidates(ctx) if stage.rules[i].test(ctx)]
        assert indexed == brute


@settings(max_examples=300, deadline=None)
@given(st.lists(words, max_size=12).map("".join))
def test_keyword_evidence_points_at_the_words_in_the_original_text(text: str) -> None:
    """Every keyword evidence's offsets cut out the customer's text that folds to the word."""
    policy = triage.load_policy(FIXTURES / "minimal")
    decision = decide(policy, text)
    for hit in decision.explanation:
        for e in hit.evidence:
            if isinstance(e, triage.KeywordEvidence):
                assert text[e.start:e.end] == e.matched
                assert fold(e.matched) == fold(e.word)
