"""Monthly KPIs on hand-built stores whose figures are known, on both backends, and
invariants under hypothesis (rates in [0, 1], counts that add up, batch order)."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.deadlines.calendar import BusinessCalendar
from triage.history import CaseEvent, CaseStore, HistoryError
from triage.history.kpi import (
    TARGETS,
    kpis_of_cases,
    milestone_outcomes,
    monthly_kpis,
)
from triage.history.kpi import _unpaused as unpaused

from .conftest import SH, at


@pytest.fixture(scope="module")
def calendars(default_policy: triage.Policy) -> Mapping[str, BusinessCalendar]:
    return default_policy.calendars


def decide(policy: triage.Policy, case_id: str, text: str, received: datetime,
           domain: str = "real_estate") -> triage.Decision:
    return policy.triage({"id": case_id, "channel": "phone", "text": text,
                          "product": {"domain": domain}, "received_at": received.isoformat()})


INQUIRY = "请问车位什么时候可以办理过户"
COMPLAINT = "物业前台说话很冲，我要投诉"


def test_a_late_inquiry_answer_lowers_on_time_for_inquiries_only(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """An inquiry answered after its 48 h lowers the inquiry on-time rate, not the
    complaints'; it still counts as responded."""
    for case_id, text, answer_hours in (("q1", INQUIRY, 3), ("q2", INQUIRY, 60),
                                        ("c1", COMPLAINT, 3)):
        decision = decide(default_policy, case_id, text, at(23))
        store.record_decision(decision, customer=case_id, channel="phone")
        store.append_many([
            CaseEvent(case_id, "contacted", at(23, 11)),
            CaseEvent(case_id, "answered", at(23) + timedelta(hours=answer_hours))])
    kpis = monthly_kpis(store, "2026-11", calendars=calendars)
    total = kpis.total
    assert (total.on_time_inquiries.numerator, total.on_time_inquiries.denominator) == (1, 2)
    assert total.on_time_inquiries.value == 0.5 and total.on_time_inquiries.met is False
    assert (total.on_time_complaints.numerator, total.on_time_complaints.denominator) == (1, 1)
    assert total.on_time_complaints.met is True
    assert total.inquiry_response.value == 1.0
    late = next(c for c in kpis.cases if c.case_id == "q2")
    assert "answer" in late.breached and late.on_time is False


def test_a_pause_moves_the_due_time(default_policy: triage.Policy,
                                    calendars: Mapping[str, BusinessCalendar],
                                    store: CaseStore) -> None:
    """A first contact 3 working hours after receipt is late, unless the case was paused
    for 2 hours in between: the due time moves by the pause, in the office calendar's
    working time (2wh: the lunch break does not count)."""
    for case_id, pause in (("p0", False), ("p1", True)):
        store.record_decision(decide(default_policy, case_id, COMPLAINT, at(23)),
                              customer=case_id)
        events = [CaseEvent(case_id, "contacted", at(23, 13))]
        if pause:
            events += [CaseEvent(case_id, "paused", at(23, 10, 30)),
                       CaseEvent(case_id, "resumed", at(23, 12, 30))]
        store.append_many(events)
    kpis = monthly_kpis(store, "2026-11", calendars=calendars)
    states = {c.case_id: {m.milestone: m for m in c.milestones} for c in kpis.cases}
    assert states["p0"]["first_contact"].state == "late"
    assert states["p1"]["first_contact"].state == "met"
    moved = states["p1"]["first_contact"].due - states["p0"]["first_contact"].due
    assert moved >= timedelta(hours=2)
    calendar = calendars[default_policy.triage({
        "id": "x", "channel": "phone", "text": COMPLAINT, "product": {"domain": "real_estate"},
        "received_at": at(23).isoformat()}).deadlines[0].calendar]
    assert calendar.working_time_between(at(23), states["p1"]["first_contact"].due) == \
        timedelta(hours=2) + calendar.working_time_between(at(23, 10, 30), at(23, 12, 30))


def test_a_survey_with_bu_manyi_lowers_satisfaction(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """满意 and 基本满意 count as satisfied, 不满意 does not; unsurveyed cases are out."""
    for case_id, word in (("s1", "满意"), ("s2", "基本满意"), ("s3", "不满意"), ("s4", None)):
        store.record_decision(decide(default_policy, case_id, COMPLAINT, at(20)),
                              customer=case_id)
        events = [CaseEvent(case_id, "resolved", at(21))]
        if word:
            events.append(CaseEvent(case_id, "follow_up_done", at(22), satisfaction=word))
        store.append_many(events)
    rate = monthly_kpis(store, "2026-11", calendars=calendars).total.satisfaction
    assert (rate.numerator, rate.denominator) == (2, 3)
    assert rate.met is False and rate.target is TARGETS["satisfaction_rate"]


def test_the_fourth_attitude_complaint_of_a_week_is_over_the_cap(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """Four attitude complaints against one team in ISO week 47 go over the cap of 3;
    three in the next week do not."""
    days = (16, 17, 18, 22, 23, 24, 25)  # 22 November is a Sunday: still week 47
    for number, day in enumerate(days):
        decision = decide(default_policy, f"t{number}", COMPLAINT, at(day))
        assert decision.category == "service"
        import dataclasses  # noqa: PLC0415

        store.record_decision(dataclasses.replace(decision, subcategory="attitude"),
                              customer=f"t{number}")
    weeks = {w.week: w for w in monthly_kpis(store, "2026-11", calendars=calendars
                                             ).team_weeks}
    assert weeks["2026-W47"].count == 4 and weeks["2026-W47"].over
    assert weeks["2026-W47"].over_cap == ("t3",)
    assert weeks["2026-W48"].count == 3 and not weeks["2026-W48"].over
    assert "2026-W47" in monthly_kpis(store, "2026-11", calendars=calendars).to_csv()


def test_a_repeat_complaint_on_an_open_topic_counts(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """The customer's second complaint on the same topic while the first is accepted and
    open is a repeat; one after the first was resolved is not."""
    for case_id, day in (("r1", 10), ("r2", 12), ("r3", 20)):
        store.record_decision(decide(default_policy, case_id, COMPLAINT, at(day)),
                              customer="same", product="5号楼")
    store.append_many([CaseEvent("r1", "accepted", at(10, 11)),
                       CaseEvent("r2", "accepted", at(12, 11)),
                       CaseEvent("r2", "resolved", at(15)),
                       CaseEvent("r1", "resolved", at(15))])
    kpis = monthly_kpis(store, "2026-11", calendars=calendars, group_by="owner")
    repeats = {c.case_id: c.repeat_of for c in kpis.cases}
    assert repeats == {"r1": None, "r2": "r1", "r3": None}
    assert (kpis.total.repeat_complaints.numerator,
            kpis.total.repeat_complaints.denominator) == (1, 3)
    assert [g.key for g in kpis.groups] == ["re_call_center_agent"]


def test_json_and_csv_carry_the_targets(store: CaseStore, default_policy: triage.Policy,
                                        calendars: Mapping[str, BusinessCalendar]) -> None:
    """The JSON names each target and whether it is met; the CSV has a row per KPI."""
    store.record_decision(decide(default_policy, "j1", INQUIRY, at(5)), customer="x",
                          channel="web")
    kpis = monthly_kpis(store, "2026-11", calendars=calendars, group_by="channel")
    data = json.loads(kpis.to_json())
    assert data["targets"]["repeat_complaint_rate"]["comparison"] == "<="
    assert data["total"]["kpis"]["inquiry_response_rate"]["met"] is False
    assert data["groups"][0]["key"] == "web"
    rows = kpis.to_csv().splitlines()
    assert rows[0] == "month,group_by,group,metric,value,numerator,denominator,target,met"
    assert "2026-11,channel,web,inquiry_response_rate,0,0,1,>=1,false" in rows


def test_bad_arguments_raise_history_error(store: CaseStore,
                                           calendars: Mapping[str, BusinessCalendar]) -> None:
    """A bad month, grouping or missing calendars is a HistoryError with a hint."""
    for month in ("2026-13", "Nov 2026", "2026-1"):
        with pytest.raises(HistoryError, match="is not a month; hint: write it as YYYY-MM"):
            monthly_kpis(store, month, calendars=calendars)
    with pytest.raises(HistoryError, match="cannot group KPIs by 'team'"):
        monthly_kpis(store, "2026-11", calendars=calendars, group_by="team")  # type: ignore[arg-type]
    with pytest.raises(HistoryError, match="needs the policy's business calendars"):
        monthly_kpis(store, "2026-11", calendars={})


class _Spy(Mapping[str, BusinessCalendar]):
    """The policy's calendars, noting whether the collector ran each time one is read."""

    def __init__(self, calendars: Mapping[str, BusinessCalendar]) -> None:
        self.calendars, self.seen = calendars, []

    def __getitem__(self, name: str) -> BusinessCalendar:
        self.seen.append(gc.isenabled())
        return self.calendars[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.calendars)

    def __len__(self) -> int:
        return len(self.calendars)


def test_the_collector_is_held_while_a_month_is_added_up_and_given_back(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """The cyclic collector is off while the figures are worked out and on again after,
    also when the KPIs fail; a caller who turned it off keeps it off."""
    decision = decide(default_policy, "g1", COMPLAINT, at(23))
    store.record_decision(decision, customer="g1", channel="phone")
    store.append_many([CaseEvent("g1", "contacted", at(23, 11)),
                       CaseEvent("g1", "resolved", at(24, 11))])
    spy = _Spy(calendars)
    kpis = monthly_kpis(store, "2026-11", calendars=spy)
    assert kpis.total.cases == 1 and spy.seen[-1] is False  # read while adding up
    assert gc.isenabled()
    assert kpis.cases[0].first_contact_hours is not None and gc.isenabled()
    missing = {"elsewhere": next(iter(calendars.values()))}
    with pytest.raises(HistoryError, match="calendar"):
        monthly_kpis(store, "2026-11", calendars=missing)
    assert gc.isenabled()
    gc.disable()
    try:
        assert monthly_kpis(store, "2026-11", calendars=calendars).total.cases == 1
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- properties -------------------------------------------------------------------------

KINDS = ("accepted", "contacted", "answered", "answer_rejected", "paused", "resumed",
         "resolved", "follow_up_done", "reopened")
case_plans = st.lists(st.tuples(
    st.sampled_from([INQUIRY, COMPLAINT, "楼上漏水到我家天花板"]),
    st.integers(1, 29), st.integers(0, 3),
    st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 120), st.integers(1, 5)),
             max_size=7)), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=case_plans, reverse=st.booleans())
def test_rates_are_fractions_counts_add_up_and_batch_order_does_not_matter(
        default_policy: triage.Policy, calendars: Mapping[str, BusinessCalendar],
        plans: list[tuple[str, int, int, list[tuple[str, int, int]]]],
        reverse: bool) -> None:
    """Every rate is in [0, 1]; groups add up to the month; milestone counts add up; the
    same events in one batch or one per call, in any order, give the same KPIs; the
    unpaused shortcut equals the status replay."""
    results = []
    for batched in (True, False):
        with CaseStore(":memory:") as store:
            events = []
            for number, (text, day, customer, steps) in enumerate(plans):
                received = at(day, 9)
                case_id = f"h{number}"
                store.record_decision(decide(default_policy, case_id, text, received),
                                      customer=f"c{customer}", channel="phone")
                events += [CaseEvent(case_id, kind, received + timedelta(hours=hours),  # type: ignore[arg-type]
                                     satisfaction=score if kind == "follow_up_done" else None)
                           for kind, hours, score in steps]
            if reverse:
                events.reverse()
            if batched:
                store.append_many(events)
            else:
                for event in events:
                    store.append(event)
            results.append(monthly_kpis(store, "2026-11", calendars=calendars,
                                        group_by="category",
                                        as_of=datetime(2026, 12, 31, tzinfo=SH)))
            cases = list(store.cases_between(at(1, 0), datetime(2026, 12, 1, tzinfo=SH)))
            for case in cases:
                if not any(e.kind == "paused" for e in case.events):
                    as_of = datetime(2026, 12, 31, tzinfo=SH)
                    assert unpaused(case, as_of, SH) == milestone_outcomes(
                        case, calendars, as_of, SH)
    one, other = results
    assert one.to_json() == other.to_json()
    total = one.total
    assert total.cases == len(plans) == sum(g.cases for g in one.groups)
    for rate in total.rates:
        assert rate.value is None or 0.0 <= rate.value <= 1.0
        assert 0 <= rate.numerator <= rate.denominator
    for group_rate, name in ((g.satisfaction, "s") for g in one.groups):
        assert group_rate.numerator <= group_rate.denominator, name
    assert sum(g.satisfaction.denominator for g in one.groups) == total.satisfaction.denominator
    for m in total.milestones:
        assert m.met + m.late + m.overdue + m.pending == m.total
    assert sum(d.received for d in one.daily) == total.cases
    assert sum(n for _, n in one.categories) == total.cases


def test_kpis_of_cases_ignores_cases_outside_the_month(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """Cases of October are context (repeats, team weeks), not counted in November."""
    store.record_decision(decide(default_policy, "o1", COMPLAINT, at(28, month=10)),
                          customer="a")
    store.record_decision(decide(default_policy, "n1", COMPLAINT, at(2)), customer="a")
    store.append(CaseEvent("o1", "accepted", at(28, 11, month=10)))
    kpis = monthly_kpis(store, "2026-11", calendars=calendars)
    assert [c.case_id for c in kpis.cases] == ["n1"]
    assert kpis.cases[0].repeat_of == "o1"
    assert kpis_of_cases([], "2026-11", calendars=calendars).total.cases == 0
