"""History facts for rules: repeat complaints on a topic, windows, a team's week."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

import triage
from triage.history import CaseEvent, CaseStore, HistoryError

from .conftest import at


def _decision(leak: triage.Decision, category: str = "product_quality",
              subcategory: str | None = "packaging", team: str = "counter_manager"
              ) -> triage.Decision:
    """The bundled policy's leak decision moved to another topic and owner."""
    return dataclasses.replace(leak, category=category, subcategory=subcategory,
                               owner=triage.RoleRef(team, "专柜主管"))


def test_a_repeat_complaint_on_the_same_topic_is_seen(store: CaseStore,
                                                      leak: triage.Decision) -> None:
    """The customer's earlier case on the topic is found, open, the earliest first."""
    store.record_decision(_decision(leak), customer="c", case_id="first", at=at(2),
                          product="面霜")
    store.record_decision(_decision(leak), customer="c", case_id="second", at=at(9),
                          product="面霜")
    store.append(CaseEvent("first", "assigned", at(3), level=2))
    facts = store.history_facts("c", at=at(10), category="product_quality",
                                subcategory="packaging", product="面霜")
    assert facts.case_ids_same_topic == ("first", "second")
    assert (facts.open_cases_same_topic, facts.complaints_30d) == (2, 2)
    assert facts.first_case_escalation_level == 2


def test_another_subcategory_product_or_customer_is_another_topic(
        store: CaseStore, leak: triage.Decision) -> None:
    """Only the same customer, category, subcategory and product count as the topic; the
    30-day count takes every topic."""
    store.record_decision(_decision(leak), customer="c", case_id="k1", at=at(2),
                          product="面霜")
    store.record_decision(_decision(leak), customer="other", case_id="k2", at=at(2),
                          product="面霜")
    content = store.history_facts("c", at=at(10), category="product_quality",
                                  subcategory="content", product="面霜")
    assert (content.case_ids_same_topic, content.open_cases_same_topic) == ((), 0)
    assert content.first_case_escalation_level is None
    assert content.complaints_30d == 1
    lotion = store.history_facts("c", at=at(10), category="product_quality",
                                 subcategory="packaging", product="乳液")
    assert lotion.case_ids_same_topic == ()
    anything = store.history_facts("c", at=at(10))
    assert anything.case_ids_same_topic == ("k1",)
    assert store.history_facts("nobody", at=at(10)).complaints_30d == 0


def test_closed_cases_drop_out_and_rejections_add_up(store: CaseStore,
                                                     leak: triage.Decision) -> None:
    """A resolved case is not open; rejected answers of the topic are summed; events
    after ``at`` are not seen."""
    store.record_decision(_decision(leak), customer="c", case_id="a", at=at(2))
    store.record_decision(_decision(leak), customer="c", case_id="b", at=at(4))
    store.append_many([CaseEvent("a", "answered", at(3)),
                       CaseEvent("a", "answer_rejected", at(3, 15)),
                       CaseEvent("a", "answered", at(4)),
                       CaseEvent("a", "answer_rejected", at(4, 15)),
                       CaseEvent("b", "answer_rejected", at(5)),
                       CaseEvent("a", "resolved", at(6)),
                       CaseEvent("b", "answer_rejected", at(20))])
    before = store.history_facts("c", at=at(5, 12), category="product_quality")
    assert (before.open_cases_same_topic, before.rejected_answers) == (2, 3)
    after = store.history_facts("c", at=at(7), category="product_quality")
    assert (after.open_cases_same_topic, after.rejected_answers) == (1, 3)
    assert after.case_ids_same_topic == ("a", "b")


def test_the_thirty_day_window_edge(store: CaseStore, leak: triage.Decision) -> None:
    """A case received exactly 30 days before ``at`` is out of the window, one a
    microsecond later is in; an old case still open stays on the topic."""
    now = at(30, 12)
    edge = now - timedelta(days=30)
    store.record_decision(_decision(leak), customer="c", case_id="edge", at=edge)
    store.record_decision(_decision(leak), customer="c", case_id="inside",
                          at=edge + timedelta(microseconds=1))
    store.append_many([CaseEvent("edge", "resolved", edge + timedelta(days=1)),
                       CaseEvent("inside", "resolved", edge + timedelta(days=1))])
    facts = store.history_facts("c", at=now, category="product_quality")
    assert facts.complaints_30d == 1
    assert facts.case_ids_same_topic == ("inside",)
    store.append(CaseEvent("edge", "reopened", edge + timedelta(days=2)))
    reopened = store.history_facts("c", at=now, category="product_quality")
    assert reopened.case_ids_same_topic == ("edge", "inside")
    assert reopened.open_cases_same_topic == 1
    assert store.history_facts("c", at=now, window_days=31).complaints_30d == 2


def _service(store: CaseStore, leak: triage.Decision, case_id: str, when: datetime,
             subcategory: str | None = "attitude", team: str = "service_advisor",
             category: str = "service") -> None:
    store.record_decision(_decision(leak, category, subcategory, team), customer=case_id,
                          case_id=case_id, at=when)


def test_the_team_week_runs_from_monday_midnight_in_the_zone_of_at(
        store: CaseStore, leak: triage.Decision) -> None:
    """Service complaints about attitude or process against the team in at's ISO week:
    Sunday 23:59 is the week before, Monday 00:00 counts; other teams, categories and
    subcategories do not."""
    _service(store, leak, "sunday", at(22, 23, 59))
    _service(store, leak, "monday", at(23, 0, 0))
    _service(store, leak, "process", at(24, 9), subcategory="process")
    _service(store, leak, "other-team", at(24, 9), team="workshop")
    _service(store, leak, "no-sub", at(24, 9), subcategory=None)
    _service(store, leak, "quality", at(24, 9), category="product_quality")
    _service(store, leak, "next-week", at(30, 0, 0))
    friday = store.history_facts("x", at=at(27, 18), team="service_advisor")
    assert friday.team_week_count == 2
    assert store.history_facts("x", at=at(22, 23, 59), team="service_advisor"
                               ).team_week_count == 1
    assert store.history_facts("x", at=at(27), team="nobody").team_week_count == 0
    assert store.history_facts("x", at=at(27)).team_week_count == 0


def test_the_team_week_across_new_year_is_one_iso_week(store: CaseStore,
                                                       leak: triage.Decision) -> None:
    """28 December 2026 to 3 January 2027 is ISO week 53 of 2026."""
    assert date(2027, 1, 2).isocalendar()[:2] == (2026, 53)
    _service(store, leak, "before", at(27, 20, month=12))
    _service(store, leak, "tuesday", at(29, 10, month=12))
    _service(store, leak, "new-year", at(1, 10, month=1, year=2027))
    facts = store.history_facts("x", at=at(2, 12, month=1, year=2027),
                                team="service_advisor")
    assert facts.team_week_count == 2


def test_the_teams_own_subcategories_can_be_given(store: CaseStore,
                                                  leak: triage.Decision) -> None:
    """A policy with other names for attitude and process passes them."""
    _service(store, leak, "k", at(24), subcategory="staff_manner")
    assert store.history_facts("x", at=at(25), team="service_advisor",
                               team_subcategories=("staff_manner",)).team_week_count == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"at": datetime(2026, 11, 23)}, "has no time zone"),
    ({"at": at(23), "window_days": 0}, "window_days 0"),
    ({"at": at(23), "category": 3}, "category 3 is not text"),
])
def test_bad_arguments_are_refused(store: CaseStore, kwargs: dict[str, object],
                                   message: str) -> None:
    """A naive time, a window of no days, a category that is not text: HistoryError."""
    with pytest.raises(HistoryError, match=message):
        store.history_facts("c", **kwargs)  # type: ignore[arg-type]
