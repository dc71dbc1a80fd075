"""``triage explain --why-not``: for each rule that sets a value, what failed or what beat it."""

from __future__ import annotations

import json

import pytest

import triage
from triage.cli import main

from ..conftest import FIXTURES

SCORED = triage.load_policy(FIXTURES / "scored")
READING = triage.load_policy(FIXTURES / "reading")


def _ask(policy: triage.Policy, text: str, question: str,
         **fields: object) -> dict[str, triage.RuleAnswer]:
    field, value = question.split("=")
    answer = triage.why_not(policy, {"id": "W", "channel": "phone", "text": text, **fields},
                            field, value)
    return {a.rule_id: a for a in answer.rules}


def test_a_negated_word_names_the_cue_and_both_spans() -> None:
    text = "没有漏水，就是声音大"
    leak = _ask(SCORED, text, "category=product_quality")["cat.leak"]
    assert not leak.held
    assert "「漏水」 at 2 is negated by 「没有」 at 0" in leak.why
    assert [(s.start, s.end, s.text) for s in leak.spans] == [(2, 4, "漏水"), (0, 2, "没有")]


def test_an_absent_word_and_an_excepted_one() -> None:
    absent = _ask(SCORED, "声音很大", "category=product_quality")["cat.leak"]
    assert "no word of [$leak: 漏水, 渗水] is in the text" in absent.why
    excepted = _ask(READING, "买了防漏水涂层", "category=product_quality")["cat.leak"]
    assert "only inside a phrase its vocabulary excepts" in excepted.why


def test_a_word_outside_the_part_or_sentence_the_rule_reads() -> None:
    # 进水痕迹 in the customer's own words, not in an agent's note
    user = _ask(READING, "我看到进水痕迹了", "category=user_caused")["cat.user"]
    assert "in customer, not in note" in user.why
    ask = _ask(READING, "保修两年。", "request_type=inquiry")["rt.ask"]
    assert "in a statement, not in a question" in ask.why


def test_words_too_far_apart_or_in_the_wrong_order() -> None:
    far = _ask(READING, "车窗昨天下午在停车场里不上去", "flags=window")["fl.window"]
    assert "characters apart (within 4)" in far.why
    order = _ask(READING, "结果拖着，说好三天", "category=service")["cat.promise"]
    assert "in the wrong order" in order.why or "not in the same sentence" in order.why


def test_a_value_the_decision_already_has() -> None:
    record = {"id": "W", "channel": "phone", "text": "车窗不上去，还漏水"}
    answer = triage.why_not(READING, record, "flags", "window")
    assert answer.summary == "the decision has flags=window"
    assert answer.rules[0].held and "decision has the value" in answer.rules[0].why


def test_first_stage_priority_names_the_winner() -> None:
    policy = triage.load_policy(FIXTURES / "reading")
    record = {"id": "W", "channel": "phone", "text": "漏水了，说好三天修好结果到现在没人来"}
    promise = {a.rule_id: a for a in triage.why_not(policy, record, "category",
                                                     "service").rules}["cat.promise"]
    assert promise.held
    assert "cat.leak (priority 20" in promise.why and "sets product_quality" in promise.why
    assert "it held (priority 5)" in promise.why


def test_scored_stage_tie_min_score_and_decisive() -> None:
    tie = _ask(SCORED, "漏水，客服也不理", "category=service")["cat.staff"]
    assert tie.held and "tied" in tie.why and "product_quality" in tie.why
    low = _ask(SCORED, "空调坏了，谢谢", "request_type=repair")["rt.fault"]
    assert low.held and "below the stage's min_score 1.5" in low.why
    decisive = _ask(SCORED, "再不修好我就去曝光", "request_type=repair")["rt.repair"]
    assert decisive.held and "decisive rule rt.threat decided first" in decisive.why


def test_field_and_output_tests() -> None:
    rejections = _ask(SCORED, "漏水", "handling=special", prior_rejections=1)
    assert rejections["h.rejections"].why == "prior_rejections is 1"
    inquiry = _ask(SCORED, "漏水", "category=other")["cat.inquiry"]
    assert inquiry.why == "request_type was decided complaint"
    safety = _ask(SCORED, "漏水", "handling=special")["h.angry_safety"]
    assert safety.why == "the flags decided are: none"


def test_a_value_no_rule_sets_and_unknown_questions() -> None:
    answer = triage.why_not(SCORED, {"id": "W", "channel": "phone", "text": "漏水"},
                            "severity", "general")
    assert answer.summary == "the decision has severity=general"
    with pytest.raises(triage.QueryError, match="did you mean 'service'"):
        triage.why_not(SCORED, {"id": "W", "channel": "phone", "text": "x"}, "category",
                       "servce")
    with pytest.raises(triage.QueryError, match="cannot ask"):
        triage.why_not(SCORED, {"id": "W", "channel": "phone", "text": "x"}, "colour", "red")


def test_the_record_that_gives_its_request_type() -> None:
    answer = triage.why_not(SCORED, {"id": "W", "channel": "phone", "text": "请问吗",
                                     "request_type": "complaint"}, "request_type", "inquiry")
    assert "the stage's rules are not run" in answer.summary


def test_explain_why_not_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(FIXTURES / "scored")
    assert main(["explain", "没有漏水，客服态度太差", "--policy", policy,
                 "--why-not", "category=product_quality"]) == 0
    out = capsys.readouterr().out
    assert "why not category=product_quality?" in out and "negated by 「没有」" in out
    assert main(["explain", "没有漏水", "--policy", policy, "--json",
                 "--why-not", "category=product_quality"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["field"] == "category" and data["rules"][0]["rule"] == "cat.leak"
    with pytest.raises(SystemExit):
        main(["explain", "x", "--policy", policy, "--why-not", "category"])
    assert "FIELD=VALUE" in capsys.readouterr().err
    assert main(["explain", "x", "--policy", policy, "--why-not", "category=nope"]) == 1
    assert "not a category of this policy" in capsys.readouterr().err


def test_a_flag_question_on_a_complaint_with_no_flag_says_so(
        default_policy: triage.Policy) -> None:
    answer = triage.why_not(default_policy, {"id": "W", "channel": "phone",
                                             "text": "空调坏了"}, "flags", "recurrence")
    assert answer.summary == "it is decided with no flag"
