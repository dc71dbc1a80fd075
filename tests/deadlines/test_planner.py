"""The planner's kept plans (``DeadlinePlanner.plan`` with a key): a complaint received
at the same instant as an earlier one, with the same rules, gets the same deadlines as a
plan worked out afresh, steps and warnings included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage.complaint import parse_complaint
from triage.deadlines import planner as planner_module

from ..conftest import CORPUS_DIR

POLICY = triage.load_policy()
RECORDS = [json.loads(line)["complaint"] for line in
           (CORPUS_DIR / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
#: A few instants, so that complaints share them: holidays, a make-up working day, evenings.
INSTANTS = [datetime(2026, 9, 30, 17, 59, tzinfo=ZoneInfo("Asia/Shanghai")),
            datetime(2026, 10, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
            datetime(2026, 2, 14, 23, 30, tzinfo=UTC),
            datetime(2026, 2, 15, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai")),  # the same instant
            datetime(2027, 12, 31, 12, 0, tzinfo=UTC) + timedelta(seconds=1)]


def _fresh(record: dict[str, object], now: datetime) -> tuple[object, ...]:
    """The deadlines of ``record`` planned without a key: nothing kept, nothing reused."""
    complaint = parse_complaint({k: v for k, v in record.items() if k != "received_at"})
    ctx, trace = POLICY._run(complaint, now)
    stage = POLICY._stages["deadlines"]
    specs = [(stage.rules[i].info.rule_id, stage.rules[i].info.outputs["deadlines"])
             for i in trace.deadlines]
    specs.append((stage.default_hit.rule_id, stage.default_hit.outputs["deadlines"]))
    return POLICY._planner.plan(specs, ctx, ctx.received_at())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(RECORDS))),
                          st.sampled_from(range(len(INSTANTS)))), min_size=1, max_size=12))
def test_kept_plans_are_those_worked_out_afresh(picks: list[tuple[int, int]]) -> None:
    for record_at, instant_at in picks:
        record = {k: v for k, v in RECORDS[record_at].items() if k != "received_at"}
        now = INSTANTS[instant_at]
        decision = POLICY.triage(record, now=now)
        deadlines, warnings = _fresh(record, now)  # type: ignore[misc]
        assert decision.deadlines == deadlines
        assert [d.steps for d in decision.deadlines] == [d.steps for d in deadlines]
        assert [d.due.tzinfo for d in decision.deadlines] == [d.due.tzinfo for d in deadlines]
        assert [d.derivation.start for d in decision.deadlines] == [
            d.derivation.start for d in deadlines]
        assert set(warnings) <= set(decision.warnings)


def test_a_second_complaint_at_the_same_instant_reuses_the_plan() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    record = {"id": "k1", "channel": "phone", "text": "热水器漏水，请尽快派人来修"}
    first = POLICY.triage(record, now=now)
    again = POLICY.triage({**record, "id": "k2"}, now=now)
    later = POLICY.triage(record, now=now + timedelta(minutes=1))
    assert first.deadlines and all(a is b for a, b in zip(first.deadlines, again.deadlines,
                                                          strict=True))
    assert later.deadlines[0].due != first.deadlines[0].due


def test_the_kept_plans_stay_bounded() -> None:
    policy = triage.load_policy()
    start = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for minute in range(planner_module.INSTANTS_KEPT + 10):
        policy.triage({"id": "b", "channel": "phone", "text": "漏水"},
                      now=start + timedelta(minutes=minute))
    kept = policy._planner._kept
    assert 0 < len(kept) <= planner_module.INSTANTS_KEPT
    assert all(len(plans) <= planner_module.PLAN_CACHE for plans in kept.values())


def test_the_steps_in_json_form_are_worked_out_once_and_handed_out_as_copies() -> None:
    now = datetime(2026, 9, 30, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # before the holiday
    decision = POLICY.triage({"id": "s", "channel": "phone", "text": "空调不制冷"}, now=now)
    derivation = decision.deadlines[0].derivation  # first contact: working hours
    first = derivation.step_dicts()
    assert first == [s.to_dict() for s in derivation.steps] and len(first) > 2
    assert any(d["kind"] == "holiday" for d in first)
    first[0]["label"] = "changed by a caller"
    assert derivation.step_dicts() == [s.to_dict() for s in derivation.steps]
    assert decision.to_dict()["deadlines"][0]["steps"] == derivation.step_dicts()
