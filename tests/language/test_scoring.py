"""The ``score`` hit policy as written: stage settings and rule weights, their errors
(file, line, column, hint), and how decisive and scored rules mix (fixtures/scored)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import triage
from triage.authoring.analysis import analyse
from triage.authoring.explain import format_explanation
from triage.language.scoring import weight_text

from ..conftest import FIXTURES, write_policy

SCORED = FIXTURES / "scored"
MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")
CATEGORY = """  category:
    default: other
"""


@pytest.fixture(scope="module")
def policy() -> triage.Policy:
    return triage.load_policy(SCORED)


def decide(policy: triage.Policy, text: str, **fields: object) -> triage.Decision:
    return policy.triage({"id": "s", "channel": "phone", "text": text, **fields})


def test_weak_signals_add_up(policy: triage.Policy) -> None:
    """修 (1.5) and 坏了 (1) outweigh 太差 (2): repair, with both rules in the explanation
    and the table recording each rule's share."""
    d = decide(policy, "师傅态度太差，漏水修过又坏了")
    assert d.request_type == "repair"
    assert d.rules_fired("request_type") == ["rt.repair", "rt.fault"]
    table = d.scores["request_type"]
    assert table.outcome == "score" and table.winner == "repair"
    assert [(v.value, v.total) for v in table.values] == [("repair", 2.5), ("complaint", 2.0)]
    assert [(r.rule_id, r.weight) for r in table.values[0].rules] == [("rt.repair", 1.5),
                                                                       ("rt.fault", 1.0)]
    # the outputs of the winning value's strongest rule apply: cat.leak sets the subcategory
    assert (d.category, d.subcategory) == ("product_quality", "leak")


def test_below_min_score_the_default_decides(policy: triage.Policy) -> None:
    """One fault word (1) and a thank-you (-0.5) stay below min_score 1.5."""
    d = decide(policy, "空调坏了，谢谢")
    assert d.request_type == "complaint"
    assert d.scores["request_type"].outcome == "min_score"
    assert d.rules_fired("request_type") == []


def test_ties_go_to_the_default_or_by_priority(policy: triage.Policy) -> None:
    """request_type has tie: default (repair 1.5 = inquiry 1.5 -> complaint); category has
    tie: priority (product_quality 2 = service 2 -> cat.leak comes first)."""
    d = decide(policy, "请问漏水能修吗客服")
    assert d.scores["request_type"].outcome == "tie" and d.request_type == "complaint"
    d = decide(policy, "漏水，客服也不理")
    assert d.scores["category"].outcome == "tie" and d.category == "product_quality"


def test_a_decisive_rule_decides_before_any_scoring(policy: triage.Policy) -> None:
    """曝光 is decisive: complaint, whatever the scored rules say, and no table."""
    d = decide(policy, "修修修，坏了坏了，不然曝光")
    assert d.request_type == "complaint" and d.rules_fired("request_type") == ["rt.threat"]
    assert "request_type" not in d.scores
    assert decide(policy, "漏水", prior_rejections=2).handling == "special"


def test_scores_are_in_the_json_only_when_a_stage_scored(policy: triage.Policy) -> None:
    data = json.loads(decide(policy, "漏水修过又坏了").to_json())
    assert data["scores"]["category"]["values"][0] == {
        "value": "product_quality", "total": 3.0,
        "rules": [{"rule_id": "cat.leak", "weight": 2.0}, {"rule_id": "cat.fault",
                                                            "weight": 1.0}]}
    plain = triage.load_policy(FIXTURES / "minimal").triage(
        {"id": "m", "channel": "phone", "text": "漏水"})
    assert "scores" not in json.loads(plain.to_json()) and plain.scores == {}
    schema = json.loads(triage.decision_json_schema())
    assert "stage_scores" in schema["$defs"] and "scores" in schema["properties"]


def test_explain_shows_the_table(policy: triage.Policy) -> None:
    text = "师傅态度太差，漏水修过又坏了"
    report = format_explanation(decide(policy, text), text, policy)
    assert "Scores [request_type] → repair  (the highest total wins; min_score 1.5)" in report
    assert "  * repair         2.5  报修  ← rt.repair +1.5, rt.fault +1" in report
    assert "    complaint        2  投诉  ← rt.anger +2" in report


@pytest.mark.parametrize(("value", "text"), [(1000, "1"), (1250, "1.25"), (-500, "-0.5"),
                                             (1, "0.001"), (0, "0")])
def test_weights_are_written_back_as_given(value: int, text: str) -> None:
    assert weight_text(value) == text


def _load_error(tmp_path: Path, text: str) -> triage.PolicyError:
    write_policy(tmp_path, {"policy.yaml": text})
    with pytest.raises(triage.PolicyError) as caught:
        triage.load_policy(tmp_path)
    return caught.value


@pytest.mark.parametrize(("edit", "code", "where", "hint"), [
    # a weight in a stage that is not scored
    (lambda t: t.replace("        priority: 20\n        when: {text: [$leak]}",
                         "        priority: 20\n        weight: 2\n        when: {text: [$leak]}"),
     "needs-score", "weight: 2", "add 'hit: score' to the category stage"),
    # flags combine every rule: they cannot be scored
    (lambda t: t.replace("  flags:\n    default: []", "  flags:\n    hit: score\n    default: []"),
     "not-scorable", "hit: score", "score is for stages that set one value"),
    # min_score needs hit: score
    (lambda t: t.replace(CATEGORY, "  category:\n    min_score: 2\n    default: other\n"),
     "needs-score", "min_score: 2", "add 'hit: score'"),
    # more than three decimals
    (lambda t: t.replace(CATEGORY, "  category:\n    hit: score\n    default: other\n").replace(
        "        priority: 20\n        when: {text: [$leak]}",
        "        priority: 20\n        weight: 0.0005\n        when: {text: [$leak]}"),
     "bad-weight", "weight: 0.0005", "totals are counted in thousandths"),
    # a decisive rule below a scored one
    (lambda t: t.replace(CATEGORY, "  category:\n    hit: score\n    default: other\n").replace(
        "        priority: 10\n        when: {text: [$attitude]}",
        "        priority: 10\n        decisive: true\n        when: {text: [$attitude]}"),
     "decisive-order", "- id: cat.attitude", "give cat.attitude a priority above 20"),
    # weight and decisive together
    (lambda t: t.replace(CATEGORY, "  category:\n    hit: score\n    default: other\n").replace(
        "        priority: 20\n        when: {text: [$leak]}",
        "        priority: 20\n        decisive: true\n        weight: 3\n"
        "        when: {text: [$leak]}"),
     "conflict", "weight: 3", "remove 'weight' or 'decisive'"),
])
def test_scoring_mistakes_are_located_with_a_hint(tmp_path: Path, edit: object, code: str,
                                                  where: str, hint: str) -> None:
    text = edit(MINIMAL)  # type: ignore[operator]
    assert text != MINIMAL
    error = _load_error(tmp_path, text)
    problem = next(p for p in error.problems if p.code == code)
    assert problem.file.endswith("policy.yaml") and problem.line >= 1 and problem.column >= 1
    assert where in (problem.source_line or ""), problem
    assert hint in (problem.hint or ""), problem


def test_check_warns_of_rules_that_cannot_change_the_outcome(tmp_path: Path) -> None:
    text = MINIMAL.replace(CATEGORY, "  category:\n    hit: score\n    min_score: 1.5\n"
                           "    default: other\n").replace(
        "        priority: 10\n        when: {text: [$attitude]}",
        "        priority: 10\n        weight: 0\n        when: {text: [$attitude]}").replace(
        "        priority: 20\n        when: {text: [$leak]}",
        "        priority: 20\n        weight: 1.25\n        when: {text: [$leak]}")
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    found = {p.message for p in analyse(policy) if p.code == "score-no-effect"}
    assert found == {
        "cat.attitude can never change the category stage's outcome: its weight is 0",
        "cat.leak can never change the category stage's outcome: all the rules for "
        "product_quality together add 1.25, below min_score 1.5"}


def test_check_warns_of_a_policy_case_decided_by_a_tie(policy: triage.Policy) -> None:
    ties = [p for p in analyse(policy) if p.code == "score-tie"]
    assert len(ties) == 1 and ties[0].file == "scored/cases/scored.yaml"
    assert "product_quality and service tie at 2 in the category stage" in ties[0].message
