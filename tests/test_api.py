"""The public API: loading, immutability, versions, determinism, records and JSON."""

from __future__ import annotations

import json
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import triage
from triage.complaint import parse_complaint
from triage.testing import complaints

from .conftest import FIXTURES, write_policy


def test_public_api_exports_only_existing_public_names() -> None:
    """Every name of __all__ exists, once, and none is private (ruff keeps it sorted)."""
    assert len(set(triage.__all__)) == len(triage.__all__)
    assert not [n for n in triage.__all__ if n.startswith("_")]
    for name in triage.__all__:
        assert hasattr(triage, name)


def test_policy_is_immutable(minimal_policy: triage.Policy) -> None:
    """Assigning to a compiled policy fails: it can be shared between threads."""
    with pytest.raises(AttributeError):
        minimal_policy.path = Path("/tmp")  # type: ignore[misc]


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    """The same files give the same version; a one-word change gives another."""
    text = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")
    first = triage.load_policy(write_policy(tmp_path / "a", {"policy.yaml": text}))
    same = triage.load_policy(write_policy(tmp_path / "b", {"policy.yaml": text}))
    changed = triage.load_policy(write_policy(
        tmp_path / "c", {"policy.yaml": text.replace("漏水, 渗水", "漏水, 滴水")}))
    assert first.version == same.version != changed.version
    decision = first.triage({"id": "1", "channel": "phone", "text": "漏水"})
    assert decision.policy_version == first.version


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_decisions_are_deterministic(text: str) -> None:
    """The same complaint and policy version always give the same decision."""
    policy = triage.load_policy(FIXTURES / "minimal")
    record = {"id": "d", "channel": "web", "text": text}
    assert policy.triage(record).to_json() == policy.triage(record).to_json()


def test_triage_many_keeps_order_and_reports_bad_records(minimal_policy: triage.Policy) -> None:
    """Bad records become RecordError with their line; the others are decided, in order."""
    lines = [
        '{"id": "1", "channel": "phone", "text": "漏水"}',
        '{"id": "2", "channel": "pigeon", "text": "漏水"}',
        "not json",
        "",
        '{"id": "5", "channel": "email", "text": "态度差"}',
    ]
    results = list(minimal_policy.triage_many(lines))
    assert [type(r).__name__ for r in results] == [
        "Decision", "RecordError", "RecordError", "Decision"]
    assert [r.line for r in results if isinstance(r, triage.RecordError)] == [2, 3]
    bad = results[1]
    assert isinstance(bad, triage.RecordError) and bad.complaint_id == "2"
    assert "channel" in bad.message
    assert [r.complaint_id for r in results if isinstance(r, triage.Decision)] == ["1", "5"]


def test_complaint_errors_name_fields_and_suggest() -> None:
    """A misspelt field gets a suggestion; a missing one is named."""
    with pytest.raises(triage.ComplaintError) as info:
        parse_complaint({"id": "x", "txet": "漏水", "channel": "phone"})
    assert info.value.message == (
        "text: required field is missing; txet: unknown field; did you mean 'text'?")


def test_text_longer_than_the_limit_is_a_complaint_error(tmp_path: Path) -> None:
    """The maximum text length is enforced with a clear message."""
    policy = triage.load_policy(FIXTURES / "minimal", max_text_length=10)
    with pytest.raises(triage.ComplaintError, match="at most 10"):
        policy.triage({"id": "x", "channel": "phone", "text": "漏" * 11})


def test_naive_received_at_is_read_in_the_policy_zone(tmp_path: Path) -> None:
    """A naive time compares as Asia/Shanghai time against an aware bound."""
    text = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8").replace(
        "    rules:\n      - id: h.rejections",
        "    rules:\n      - id: h.late\n        priority: 9\n"
        "        when: {field: received_at, gte: '2026-05-01T09:00:00+08:00'}\n"
        "        set: {handling: special}\n      - id: h.rejections")
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    early = policy.triage({"id": "1", "channel": "phone", "text": "x",
                           "received_at": "2026-05-01T08:59:00"})
    late = policy.triage({"id": "2", "channel": "phone", "text": "x",
                          "received_at": "2026-05-01T09:00:00"})
    assert (early.handling, late.handling) == ("general", "special")
    now = policy.triage({"id": "3", "channel": "phone", "text": "x"},
                        now=datetime.fromisoformat("2026-06-01T00:00:00+08:00"))
    assert now.handling == "special"


def test_decision_json_has_the_documented_keys(minimal_policy: triage.Policy) -> None:
    """The JSON form carries every key the schema requires, and only those."""
    decision = minimal_policy.triage({"id": "1", "channel": "phone", "text": "漏水又冒烟"})
    data = json.loads(decision.to_json())
    lean = json.loads(decision.to_json(detail="lean"))
    schema = json.loads(triage.decision_json_schema())
    # the lean form has exactly the keys always required; the full form adds the evidence
    # (and ``scores`` only when a stage with hit: score scored: tests/language)
    assert set(lean) == set(schema["required"])
    assert set(data) == set(schema["required"]) | set(schema["then"]["required"])
    assert set(schema["properties"]) == set(data) | {"scores", "history"}
    assert lean["detail"] == "lean" and data["detail"] == "full"
    assert {k: v for k, v in data.items() if k in lean and k not in ("detail", "deadlines",
                                                                      "reply")} == {
        k: v for k, v in lean.items() if k not in ("detail", "deadlines", "reply")}
    hit = data["explanation"][0]
    assert set(hit) == set(schema["$defs"]["rule_hit"]["required"])
    assert data["schema_version"] == triage.DECISION_SCHEMA_VERSION


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_both_forms_of_every_decision_validate_against_the_schema(
        default_policy: triage.Policy, data: st.DataObject) -> None:
    """Lean and full JSON of decisions of the default policy (deadlines and replies
    included) are valid under docs/decision.schema.json; a lean one with evidence is not."""
    record = data.draw(complaints(default_policy))
    decision = default_policy.triage(record)
    validator = Draft202012Validator(json.loads(triage.decision_json_schema()))
    full = json.loads(decision.to_json())
    lean = json.loads(decision.to_json(detail="lean"))
    validator.validate(full)
    validator.validate(lean)
    assert lean["rules"] == full["rules"] == decision.rules_by_stage()
    assert sum(map(len, lean["rules"].values())) == len(decision.rules_fired())
    assert not validator.is_valid({**lean, "explanation": full["explanation"]})
    assert not validator.is_valid({k: v for k, v in full.items() if k != "explanation"}
                                  | {"detail": "full"})


def test_decision_schema_file_in_docs_is_current() -> None:
    """docs/decision.schema.json is the schema the code produces (a stable contract)."""
    path = Path(__file__).resolve().parents[1] / "docs" / "decision.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(
        triage.decision_json_schema())


def test_decision_survives_pickling_with_its_explanation(default_policy: triage.Policy) -> None:
    """A decision pickles (to another process) with the same fields and evidence."""
    decision = default_policy.triage(
        {"id": "k1", "channel": "phone", "text": "热水器漏水，已经第三次了，要求赔偿",
         "product": {"domain": "real_estate"}})
    copy = pickle.loads(pickle.dumps(decision))
    assert copy == decision
    assert copy.to_dict() == decision.to_dict()
    scored = triage.load_policy(FIXTURES / "scored").triage(
        {"id": "s", "channel": "phone", "text": "漏水修过又坏了"})
    copy = pickle.loads(pickle.dumps(scored))
    assert copy == scored and copy.scores["category"].winner == "product_quality"
    assert any(e.kind == "keyword" for hit in copy.explanation for e in hit.evidence)


def test_evidence_built_in_several_threads_is_the_same(default_policy: triage.Policy) -> None:
    """The explanation is built when first read; threads reading it at once agree."""
    decisions = [default_policy.triage({"id": str(i), "channel": "phone",
                                        "text": "客服态度太差，不是第一次了，我要投诉到12315"})
                 for i in range(50)]
    with ThreadPoolExecutor(4) as pool:
        dumped = list(pool.map(lambda d: json.dumps(d.to_dict()["explanation"]), decisions * 2))
    assert len(set(dumped)) == 1


def test_rule_hits_are_read_only(default_policy: triage.Policy) -> None:
    """Neither a rule hit nor the explanation can be changed after the decision."""
    decision = default_policy.triage({"id": "r", "channel": "web", "text": "漏水"})
    with pytest.raises(AttributeError):
        decision.explanation[0].rule_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        decision.explanation[0] = decision.explanation[1]  # type: ignore[index]


def test_durable_engine_where_unavailable_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Python 3.13+, or without durable-rules installed, one clear EngineError."""
    if sys.version_info >= (3, 13):
        expected = "3.13"
    else:
        def missing() -> None:
            raise ImportError("durable_rules_engine")
        monkeypatch.setattr("triage.engine.durable._c_engine", missing)
        expected = "pip install 'triage\\[durable\\]'"
    with pytest.raises(triage.EngineError, match=expected):
        triage.load_policy(engine="durable")


SCORED_POLICY = triage.load_policy(FIXTURES / "scored")


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_rule_ids_of_lean_decisions_are_those_of_the_built_explanation(
        default_policy: triage.Policy, data: st.DataObject) -> None:
    """Lean JSON takes the rule ids straight from the program's indexes (no hits built);
    they are exactly the ids of the explanation once built, for first and scored stages
    and for a record that gives its own request type."""
    policy = data.draw(st.sampled_from([default_policy, SCORED_POLICY]))
    record = dict(data.draw(complaints(policy)))
    if data.draw(st.booleans()):
        record["request_type"] = "inquiry"
    fast = policy.triage(record).rules_by_stage()
    built = policy.triage(record)
    slow: dict[str, list[str]] = {}
    for hit in list(built.explanation):
        slow.setdefault(hit.stage, [])
        if not hit.default:
            slow[hit.stage].append(hit.rule_id)
    assert fast == slow == built.rules_by_stage()
