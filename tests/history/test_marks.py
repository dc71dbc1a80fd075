"""Marks: what a case's events add up to, kept by every append on both backends, filled
by migration 3, and KPIs read from them equal to KPIs replayed from the events."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.deadlines.calendar import BusinessCalendar
from triage.history import CaseEvent, CaseStore
from triage.history.case import ordered
from triage.history.kpi import kpis_of_cases, monthly_kpis
from triage.history.marks import MET_MILESTONES, marks_of, micros

from .conftest import SH, Opener, at

KINDS = ("accepted", "assigned", "contacted", "answered", "answer_rejected", "paused",
         "resumed", "resolved", "follow_up_done", "reopened")
TEXTS = ("请问车位什么时候可以办理过户", "物业前台说话很冲，我要投诉", "楼上漏水到我家天花板",
         "物业前台说话很冲，这是第二次投诉了，上次的事到现在也没人管")
MONTH_END = datetime(2026, 12, 1, tzinfo=SH)

#: Events an hour apart or weeks later; pauses and resumptions are frequent, so that due
#: times move by several pauses and milestones fall on either side of them.
steps = st.lists(st.tuples(
    st.sampled_from(KINDS + ("paused", "resumed") * 3),
    st.one_of(st.integers(0, 72), st.integers(0, 400)), st.integers(1, 5)), max_size=10)
plans = st.lists(st.tuples(st.sampled_from(TEXTS), st.integers(1, 29), st.integers(0, 2),
                           steps), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def calendars(default_policy: triage.Policy) -> Mapping[str, BusinessCalendar]:
    return default_policy.calendars


def fill(store: CaseStore, policy: triage.Policy,
         plan: list[tuple[str, int, int, list[tuple[str, int, int]]]], *,
         one_by_one: bool, reverse: bool) -> None:
    """Record the plan's cases (some in October, as context) and append their events."""
    events = []
    for number, (text, day, customer, steps) in enumerate(plan):
        received = at(day, 9, month=11 if number % 3 else 10)
        case_id = f"m{number}"
        decision = policy.triage({"id": case_id, "channel": "phone", "text": text,
                                  "product": {"domain": "real_estate"},
                                  "received_at": received.isoformat()})
        store.record_decision(decision, customer=f"c{customer}", channel="phone",
                              product="5号楼")
        events += [CaseEvent(case_id, kind, received + timedelta(hours=hours),  # type: ignore[arg-type]
                             satisfaction=score if kind == "follow_up_done" else None,
                             level=1 if kind == "assigned" else None)
                   for kind, hours, score in steps]
    if reverse:
        events.reverse()
    if one_by_one:
        for event in events:
            store.append(event)
    elif events:
        store.append_many(events)


def assert_marks_are_a_fold(store: CaseStore) -> None:
    """Every case's stored marks equal the marks of all its events, and its deadlines
    those of its decision."""
    start = datetime(2026, 9, 1, tzinfo=SH)
    marked = {m.case_id: m for m in store.marked_between(start, MONTH_END)}
    cases = list(store.cases_between(start, MONTH_END))
    assert sorted(marked) == sorted(c.case_id for c in cases)
    for case in cases:
        got = marked[case.case_id]
        assert got.marks is not None
        assert got.marks[:7] == marks_of(ordered(case.events))[:7]
        deadlines = case.record.decision["deadlines"]
        assert got.marks.plan == tuple(
            (d["milestone"], d["label"], d["calendar"], d["within"]) for d in deadlines)
        assert got.marks.dues == tuple(
            micros(datetime.fromisoformat(d["due"])) for d in deadlines)
        assert (got.customer, got.category, got.owner_team, got.flags) == (
            case.customer, case.category, case.record.owner_team, case.record.flags)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans, one_by_one=st.booleans(), reverse=st.booleans())
def test_marks_equal_a_fold_of_the_events_however_they_were_appended(
        default_policy: triage.Policy,
        plan: list[tuple[str, int, int, list[tuple[str, int, int]]]],
        one_by_one: bool, reverse: bool) -> None:
    """Appended one at a time or in one batch, in time order or backwards, the marks are
    what a fold of all the case's events gives."""
    with CaseStore(":memory:") as store:
        fill(store, default_policy, plan, one_by_one=one_by_one, reverse=reverse)
        assert_marks_are_a_fold(store)


def test_marks_are_kept_on_both_backends(store: CaseStore,
                                         default_policy: triage.Policy) -> None:
    """The same on SQLite and PostgreSQL, for seeded random cases."""
    rng = random.Random(19)
    plan = [(rng.choice(TEXTS), rng.randrange(1, 29), rng.randrange(3),
             [(rng.choice(KINDS), rng.randrange(400), rng.randrange(1, 6))
              for _ in range(rng.randrange(8))]) for _ in range(12)]
    fill(store, default_policy, plan, one_by_one=False, reverse=True)
    store.append_many([CaseEvent("m0", "reopened", at(29, 12)),
                       CaseEvent("m1", "paused", at(29, 13)),
                       CaseEvent("m0", "answered", at(29, 14))])
    assert_marks_are_a_fold(store)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans, as_of=st.one_of(st.none(), st.integers(0, 60 * 24 * 40)),
       group_by=st.sampled_from([None, "owner", "category", "channel"]))
def test_kpis_from_marks_equal_kpis_replayed_from_events(
        default_policy: triage.Policy, calendars: Mapping[str, BusinessCalendar],
        plan: list[tuple[str, int, int, list[tuple[str, int, int]]]],
        as_of: int | None, group_by: str | None) -> None:
    """monthly_kpis (marks; events only where they are needed) gives the figures and the
    per-case outcomes that kpis_of_cases gives replaying every case from its events,
    with pauses, reopenings, repeats and an ``as_of`` before some events."""
    moment = None if as_of is None else at(1, 0) + timedelta(minutes=as_of)
    with CaseStore(":memory:") as store:
        fill(store, default_policy, plan, one_by_one=False, reverse=False)
        fast = monthly_kpis(store, "2026-11", calendars=calendars, as_of=moment,
                            group_by=group_by)  # type: ignore[arg-type]
        cases = list(store.cases_between(at(1, 0) - timedelta(days=30), MONTH_END))
        slow = kpis_of_cases(cases, "2026-11", calendars=calendars, as_of=moment,
                             group_by=group_by)  # type: ignore[arg-type]
    assert fast.to_json() == slow.to_json()
    assert fast.to_csv() == slow.to_csv()
    assert fast.cases == slow.cases
    assert [c.received_at.isoformat() for c in fast.cases] == [
        c.received_at.isoformat() for c in slow.cases]


def test_migration_3_marks_the_cases_of_an_older_store(opener: Opener,
                                                       default_policy: triage.Policy) -> None:
    """A store written before marks (its case_marks dropped, back at version 2) gets
    every case marked on open, equal to a fold of its events."""
    rng = random.Random(3)
    plan = [(rng.choice(TEXTS), rng.randrange(1, 29), rng.randrange(3),
             [(rng.choice(KINDS), rng.randrange(400), rng.randrange(1, 6))
              for _ in range(rng.randrange(1, 8))]) for _ in range(8)]
    with opener() as store:
        fill(store, default_policy, plan, one_by_one=False, reverse=False)
        before = list(store.marked_between(at(1, 0, month=9), MONTH_END))
        backend = store._open()  # the test reaches the connection to turn the clock back
        db = backend._db  # type: ignore[attr-defined]
        db.execute("DROP TABLE case_marks")
        db.execute("DELETE FROM schema_version WHERE version = 3")
    with opener() as store:
        assert store.schema_version == 3
        assert list(store.marked_between(at(1, 0, month=9), MONTH_END)) == before
        assert_marks_are_a_fold(store)


def test_a_case_without_marks_is_read_from_its_events(tmp_path: Path,
                                                      default_policy: triage.Policy,
                                                      calendars: Mapping[str,
                                                                         BusinessCalendar]
                                                      ) -> None:
    """Should a case's marks row be missing, its KPIs come from its events, not from
    nowhere: the figures equal the replay."""
    path = tmp_path / "cases.db"
    with CaseStore(path) as store:
        fill(store, default_policy, [(TEXTS[1], 3, 0, [("contacted", 2, 1),
                                                       ("answered", 30, 1)]),
                                     (TEXTS[0], 4, 1, [("answered", 3, 1)])],
             one_by_one=False, reverse=False)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM case_marks WHERE case_id = 'm1'")
    db.close()
    with CaseStore(path) as store:
        marked = {m.case_id: m.marks for m in store.marked_between(at(1, 0), MONTH_END)}
        assert marked["m1"] is None
        fast = monthly_kpis(store, "2026-11", calendars=calendars)
        slow = kpis_of_cases(list(store.cases_between(at(1, 0) - timedelta(days=30),
                                                      MONTH_END)),
                             "2026-11", calendars=calendars)
    assert fast.to_json() == slow.to_json() and fast.cases == slow.cases
    assert [c.case_id for c in fast.cases] == ["m1"]  # m0 came in October


def test_met_milestones_are_the_ones_events_meet() -> None:
    """The marks keep one met time for each milestone a stored event can meet."""
    assert MET_MILESTONES == ("first_response", "first_contact", "answer", "resolution",
                              "follow_up")


def test_an_answer_at_the_due_minute_is_on_time_and_one_after_it_late(
        store: CaseStore, default_policy: triage.Policy,
        calendars: Mapping[str, BusinessCalendar]) -> None:
    """The marks compare met and due times as the replay does: at the due time is met,
    a microsecond later is late; a pause moves the due time of a paused case."""
    for case_id, late, pause in (("on", 0, False), ("after", 1, False), ("paused", 1, True)):
        decision = default_policy.triage({"id": case_id, "channel": "phone", "text": TEXTS[0],
                                          "product": {"domain": "real_estate"},
                                          "received_at": at(2, 9).isoformat()})
        store.record_decision(decision, customer=case_id)
        due = next(d.due for d in decision.deadlines if d.milestone == "answer")
        events = [CaseEvent(case_id, "answered", due + timedelta(microseconds=late))]
        if pause:
            events[:0] = [CaseEvent(case_id, "paused", at(2, 9, 30)),
                          CaseEvent(case_id, "resumed", at(2, 10, 30))]
        store.append_many(events)
    kpis = monthly_kpis(store, "2026-11", calendars=calendars)
    on_time = {c.case_id: c.on_time for c in kpis.cases}
    assert on_time == {"on": True, "after": False, "paused": True}
    replay = kpis_of_cases(list(store.cases_between(at(1, 0), MONTH_END)), "2026-11",
                           calendars=calendars)
    assert replay.cases == kpis.cases
