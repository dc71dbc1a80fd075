"""Decisions that read case history: Policy.triage(history=store) on a real store (both
backends), the history.* fields, escalate, and the load-time checks that keep history out
of the stages that decide the topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import triage
from triage.engine.durable import durable_available
from triage.errors import PolicyError
from triage.history import CaseEvent, CaseStore

from .conftest import at

CHARGE = "热线客服乱扣了我二十块话费，麻烦查一下退给我"
RUDE = "打热线的时候客服态度很差，我话没说完就挂了电话"


def complaint(cid: str, text: str, day: int, customer: str = "C1", hour: int = 10
              ) -> dict[str, Any]:
    return {"id": cid, "channel": "phone", "text": text, "customer": {"id": customer},
            "received_at": at(day, hour).isoformat()}


def record(policy: triage.Policy, store: CaseStore, item: dict[str, Any]) -> triage.Decision:
    decision = policy.triage(item, history=store)
    store.record_decision(decision, customer=item["customer"]["id"])
    return decision


def test_a_second_complaint_on_an_open_topic_is_a_repeat_linked_to_the_first(
        default_policy: triage.Policy, store: CaseStore) -> None:
    first = record(default_policy, store, complaint("R1", CHARGE, 23))
    assert "repeat_complaint" not in first.flags and first.history is not None
    again = default_policy.triage(complaint("R2", CHARGE, 25), history=store)
    assert "repeat_complaint" in again.flags
    assert again.history is not None and again.history.linked_case == "R1"
    assert again.history.fact("open_cases_same_topic") == 1
    # the first case sat at level 0 (its owner): the repeat goes one level up its chain
    assert first.owner.role == "cs_agent" and again.owner.role == "cs_manager"
    assert [r.role for r in again.escalation] == ["general_manager"]
    assert "owner.repeat_complaint" in again.rules_fired("owner")
    hit = next(h for h in again.explanation if h.rule_id == "flags.repeat_complaint")
    assert [(e.path, e.actual) for e in hit.evidence] == [
        ("history.open_cases_same_topic", 1)]


def test_a_resolved_case_or_another_customer_is_no_repeat(
        default_policy: triage.Policy, store: CaseStore) -> None:
    record(default_policy, store, complaint("R1", CHARGE, 23))
    other = default_policy.triage(complaint("R2", CHARGE, 25, customer="C2"), history=store)
    assert "repeat_complaint" not in other.flags
    store.append(CaseEvent("R1", "resolved", at(24)))
    later = default_policy.triage(complaint("R3", CHARGE, 25), history=store)
    assert "repeat_complaint" not in later.flags and later.owner.role == "cs_agent"


def test_answers_rejected_twice_in_history_make_the_next_complaint_special(
        default_policy: triage.Policy, store: CaseStore) -> None:
    record(default_policy, store, complaint("R1", CHARGE, 23))
    store.append_many([CaseEvent("R1", "answered", at(23, 15)),
                       CaseEvent("R1", "answer_rejected", at(23, 16))])
    assert default_policy.triage(complaint("R2", CHARGE, 24),
                                 history=store).handling == "general"
    store.append_many([CaseEvent("R1", "answered", at(24, 15)),
                       CaseEvent("R1", "answer_rejected", at(24, 16))])
    assert default_policy.triage(complaint("R3", CHARGE, 25),
                                 history=store).handling == "special"


def test_the_fourth_attitude_complaint_of_a_week_against_a_team_goes_to_its_manager(
        default_policy: triage.Policy, store: CaseStore) -> None:
    # Monday 23 to Wednesday 25 November 2026: three attitude complaints, three customers
    for n, day in enumerate((23, 24, 25)):
        decided = record(default_policy, store, complaint(f"A{n}", RUDE, day, f"C{n}"))
        assert (decided.subcategory, decided.owner.role) == ("attitude", "cs_agent")
    fourth = default_policy.triage(complaint("A3", RUDE, 26, "C9"), history=store)
    assert fourth.history is not None and fourth.history.fact("team_week_count") == 3
    assert fourth.owner.role == "cs_manager"
    # the next ISO week starts over
    monday = default_policy.triage(complaint("A4", RUDE, 30, "C9"), history=store)
    assert monday.owner.role == "cs_agent"


def test_without_a_store_or_a_customer_id_history_rules_never_hold(
        default_policy: triage.Policy, store: CaseStore) -> None:
    record(default_policy, store, complaint("R1", CHARGE, 23))
    plain = default_policy.triage(complaint("R2", CHARGE, 25))
    assert plain.history is None and "repeat_complaint" not in plain.flags
    anonymous = complaint("R3", CHARGE, 25)
    del anonymous["customer"]
    assert default_policy.triage(anonymous, history=store).history is None


def test_decisions_with_history_keep_to_the_decision_schema(
        default_policy: triage.Policy, store: CaseStore) -> None:
    record(default_policy, store, complaint("R1", CHARGE, 23))
    again = default_policy.triage(complaint("R2", CHARGE, 25), history=store)
    schema = json.loads(triage.decision_json_schema())
    for detail in ("lean", "full"):
        data = json.loads(again.to_json(detail=detail))  # type: ignore[arg-type]
        jsonschema.validate(data, schema)
        assert data["history"]["linked_case"] == "R1"


POLICY = """
policy: {name: t}
taxonomy:
  request_type: {complaint: 投诉}
  handling: {general: 一般}
  category: {service: 服务, other: 其它}
  severity: {general: 一般}
  flags: {repeat: 重复}
roles:
  agent: {name: 坐席, escalates_to: boss}
  boss: {name: 经理}
stages:
  request_type: {default: complaint}
  flags:
    default: []
    rules:
      - id: f.repeat
        when: {field: history.open_cases_same_topic, gte: 1}
        set: {flags: [repeat]}
  category:
    default: other
    rules:
%s
  severity: {default: general}
  handling: {default: general}
  owner:
    default: agent
    rules:
      - id: o.up
        when: {flag: repeat}
        set: {escalate: %s}
"""


def write(tmp_path: Path, category_rule: str = "", escalate: str = "1") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY % (category_rule or "      - {id: c.s, when: {text: [态度]}, "
                                               "set: {category: service}}", escalate),
                    encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[str, int]]:
    with pytest.raises(PolicyError) as caught:
        triage.load_policy(path)
    return [(p.code, p.line) for p in caught.value.problems]


def test_history_in_the_category_stage_is_refused_with_file_and_line(tmp_path: Path) -> None:
    rule = "      - id: c.h\n        when: {field: history.complaints_30d, gte: 3}\n" \
           "        set: {category: service}"
    path = write(tmp_path, rule)
    line = path.read_text(encoding="utf-8").splitlines().index(
        "        when: {field: history.complaints_30d, gte: 3}") + 1
    assert problems(path) == [("history-too-early", line)]


def test_a_category_rule_on_a_flag_set_from_history_is_refused(tmp_path: Path) -> None:
    rule = "      - id: c.loop\n        when: {flag: repeat}\n        set: {category: service}"
    found = problems(write(tmp_path, rule))
    assert [code for code, _ in found] == ["history-loop"]


@pytest.mark.parametrize("value", ["0", "ten", "first_cases", "true"])
def test_escalate_takes_levels_or_first_case(tmp_path: Path, value: str) -> None:
    assert [code for code, _ in problems(write(tmp_path, escalate=value))] == ["wrong-type"]


@pytest.mark.skipif(durable_available() is not None, reason=str(durable_available()))
def test_the_durable_engine_decides_history_as_the_compiled_one(
        default_policy: triage.Policy, store: CaseStore) -> None:
    """history.* facts are fields to durable-rules too, and escalate an output: the same
    decisions on the same store."""
    durable = triage.load_policy(engine="durable")
    items = [complaint("R1", CHARGE, 23), complaint("A0", RUDE, 23, "C5"),
             complaint("A1", RUDE, 24, "C6"), complaint("A2", RUDE, 24, "C7"),
             complaint("R2", CHARGE, 25), complaint("A3", RUDE, 26, "C8")]
    decided = {}
    for item in items:
        mine, theirs = (p.triage(item, history=store) for p in (default_policy, durable))
        assert mine.to_dict("lean") == theirs.to_dict("lean")
        store.record_decision(mine, customer=item["customer"]["id"])
        decided[item["id"]] = mine
    assert "repeat_complaint" in decided["R2"].flags
    assert decided["A3"].owner.role == "cs_manager"


def test_explain_names_the_cases_and_facts_a_decision_used(
        default_policy: triage.Policy, store: CaseStore) -> None:
    from triage.authoring.explain import format_explanation  # noqa: PLC0415

    record(default_policy, store, complaint("R1", CHARGE, 23))
    again = default_policy.triage(complaint("R2", CHARGE, 25), history=store)
    text = format_explanation(again, CHARGE, default_policy)
    assert "History (customer C1, team cs_agent):" in text
    assert "cases on the topic: R1 (linked)" in text
    assert "open_cases_same_topic=1" in text
