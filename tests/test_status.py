"""Case status: milestones met, pending or breached; pauses; the escalation ladder."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage import Event

from .conftest import write_policy

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture(scope="module")
def leak(default_policy: triage.Policy) -> triage.Decision:
    """A real-estate leak received Monday 23 November 2026, 10:00."""
    return default_policy.triage({
        "id": "s1", "channel": "phone", "text": "楼上漏水到我家天花板",
        "product": {"domain": "real_estate"}, "received_at": "2026-11-23T10:00:00+08:00"})


def states(status: triage.CaseStatus) -> dict[str, str]:
    return {m.milestone: m.state for m in status.milestones}


def test_met_pending_and_breached_with_the_real_estate_ladder(
        default_policy: triage.Policy, leak: triage.Decision) -> None:
    """Answer overdue: project GM; overdue by more than two days: up to the vice president."""
    contacted = [Event("contacted", at(23, 11))]
    early = default_policy.status(leak, contacted, at(23, 12))
    assert states(early) == {"first_contact": "met", "answer": "pending",
                             "resolution": "pending", "follow_up": "pending"}
    assert (early.level, early.responsible.role) == (0, "re_call_center_agent")
    late = default_policy.status(leak, contacted, at(25, 11))
    assert late.milestone("answer").state == "breached"
    assert late.milestone("answer").left == -timedelta(hours=1)
    assert (late.level, late.responsible.role) == (1, "project_gm")
    later = default_policy.status(leak, contacted, at(28, 12))
    assert later.level == 3 and later.responsible.role == "vice_president"
    assert "escalation.breached_by_2d" in later.triggers


def test_a_milestone_met_after_its_due_time_stays_breached(
        default_policy: triage.Policy, leak: triage.Decision) -> None:
    """Contacting the customer late meets the milestone, but late."""
    status = default_policy.status(leak, [Event("contacted", at(23, 15))], at(23, 16))
    contact = status.milestone("first_contact")
    assert contact.state == "breached" and contact.met_at == at(23, 15)
    assert contact.left < timedelta(0)


def test_waiting_on_the_customer_moves_due_times_by_the_business_time_paused(
        default_policy: triage.Policy, leak: triage.Decision) -> None:
    """Paused Monday 11:00 to Wednesday 11:00: first contact moves to Wednesday 12:00."""
    events = [Event("paused", at(23, 11)), Event("resumed", at(25, 11))]
    status = default_policy.status(leak, events, at(25, 11, 30))
    assert status.milestone("first_contact").due == at(25, 12)
    assert status.milestone("resolution").due == at(29, 0)
    assert status.paused is False
    waiting = default_policy.status(leak, [Event("paused", at(23, 11))], at(24, 9))
    assert waiting.paused and waiting.milestone("first_contact").state == "pending"


def test_reopening_makes_resolution_pending_again(
        default_policy: triage.Policy, leak: triage.Decision) -> None:
    """A case resolved, then reopened by the customer, is not resolved any more."""
    events = [Event("resolved", at(24, 10)), Event("reopened", at(24, 16))]
    assert default_policy.status(leak, events[:1], at(24, 17)).milestone(
        "resolution").state == "met"
    assert default_policy.status(leak, events, at(24, 17)).milestone(
        "resolution").state == "pending"


def test_rejected_answers_and_severity_raise_the_dealership_ladder(
        default_policy: triage.Policy) -> None:
    """Retail manager, then sales director after two rejections, GM after three."""
    decision = default_policy.triage({
        "id": "s2", "channel": "visit", "text": "提车时发现车门有划痕，销售顾问态度很差",
        "product": {"domain": "auto_dealer"}, "received_at": "2026-11-23T10:00:00+08:00"})
    chain = [decision.owner.role] + [r.role for r in decision.escalation]
    rejected = [Event("customer_rejected", at(23, 11)), Event("customer_rejected", at(23, 12))]
    two = default_policy.status(decision, rejected, at(23, 12, 30))
    three = default_policy.status(decision, [*rejected, Event("customer_rejected", at(23, 13))],
                                  at(23, 13, 30))
    assert two.responsible.role == chain[1] and three.responsible.role == chain[2]
    assert three.rejections == 3
    severe = default_policy.triage({
        "id": "s3", "channel": "phone", "text": "刹车失灵，差点出事故",
        "product": {"domain": "auto_dealer"}, "received_at": "2026-11-23T10:00:00+08:00"})
    assert default_policy.status(severe, [], at(23, 10, 5)).level == 1


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 7 * 24 * 60), length=st.integers(1, 3 * 24 * 60),
       now=st.integers(0, 10 * 24 * 60))
def test_status_agrees_with_due_times_and_pauses_never_pull_them_earlier(
        default_policy: triage.Policy, leak: triage.Decision, start: int, length: int,
        now: int) -> None:
    """Pending before the due time, breached after; a pause moves due times later, by at
    most its own length of business time (elapsed time for clock deadlines)."""
    origin = at(23, 10)
    pause = (origin + timedelta(minutes=start), origin + timedelta(minutes=start + length))
    moment = origin + timedelta(minutes=now)
    plain = default_policy.status(leak, [], moment)
    paused = default_policy.status(leak, [Event("paused", pause[0]), Event("resumed", pause[1])],
                                   max(moment, pause[1]))
    calendars = default_policy.calendars
    for before, after, deadline in zip(plain.milestones, paused.milestones, leak.deadlines,
                                       strict=True):
        assert before.state == ("pending" if moment <= before.due else "breached")
        assert after.due >= before.due
        if deadline.derivation.duration.uses_calendar:
            calendar = calendars[deadline.calendar]
            assert (calendar.working_time_between(before.due, after.due)
                    <= calendar.working_time_between(*pause))
        else:
            assert after.due - before.due <= pause[1] - pause[0]


def test_escalation_mistakes_are_reported_in_place(tmp_path: Path) -> None:
    """Two conditions in one trigger, an unknown milestone, a day count as overdue time."""
    minimal = (Path(__file__).parent / "fixtures" / "minimal" / "policy.yaml").read_text(
        encoding="utf-8").replace("  domain: {auto_dealer: 4S店}\n",
                                  "  domain: {auto_dealer: 4S店}\n  milestones: {answer: 答复}\n")
    escalation = """escalation:
  - {id: e.both, breached: any, rejections: 2}
  - {id: e.name, breached: anser}
  - {id: e.wd, breached_by: 2wd}
"""
    with pytest.raises(triage.PolicyError) as caught:
        triage.load_policy(write_policy(tmp_path, {"policy.yaml": minimal,
                                                   "escalation.yaml": escalation}))
    found = {(p.line, p.code) for p in caught.value.problems}
    assert found == {(2, "ambiguous-condition"), (3, "unknown-value"), (4, "bad-duration")}


@pytest.mark.parametrize(("event", "says"), [
    (Event("resloved", at(23, 11)), "unknown kind 'resloved'; did you mean 'resolved'?"),  # type: ignore[arg-type]
    (Event("met", at(23, 11), "fisrt_contact"), "unknown milestone 'fisrt_contact'; did you "
                                                 "mean 'first_contact'?"),
    (Event("met", at(23, 11)), "a 'met' event names its milestone"),
    (Event("contacted", at(22, 9)), "before the complaint was received"),
    ({"kind": "contacted", "when": "2026-11-23T11:00"}, "unknown field 'when'"),
    ({"kind": "contacted", "at": "yesterday"}, "'at' is not an ISO time"),
    ("contacted", "an event is an Event or a dict, not str"),
])
def test_a_wrong_event_is_named_not_ignored(default_policy: triage.Policy,
                                            leak: triage.Decision, event: object,
                                            says: str) -> None:
    """Typos, unknown milestones, events before receipt and wrong types raise EventError
    (a TriageError) naming the event, instead of being ignored or counted as met."""
    events = [Event("acknowledged", at(23, 10, 5)), event]
    with pytest.raises(triage.EventError, match="event 2 ") as info:
        default_policy.status(leak, events, at(23, 12))  # type: ignore[arg-type]
    assert says in str(info.value)


def test_events_as_dicts_give_the_same_status(default_policy: triage.Policy,
                                              leak: triage.Decision) -> None:
    """A dict with the fields of Event (``at`` as ISO text or datetime) is read the same."""
    as_events = [Event("contacted", at(23, 11)), Event("paused", at(23, 12)),
                 Event("resumed", at(24, 12)), Event("met", at(24, 13), "answer")]
    as_dicts = [{"kind": "contacted", "at": "2026-11-23T11:00:00+08:00"},
                {"kind": "paused", "at": at(23, 12)},
                {"kind": "resumed", "at": "2026-11-24T12:00:00+08:00", "note": "客户回电"},
                {"kind": "met", "at": "2026-11-24T13:00:00+08:00", "milestone": "answer"}]
    one = default_policy.status(leak, as_events, at(25, 9))
    other = default_policy.status(leak, as_dicts, at(25, 9))
    assert one.to_dict() == other.to_dict()
    assert states(one)["answer"] == "met"
