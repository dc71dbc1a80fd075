"""A case's state, derived from its events: examples, and independence of batching."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.history import EVENT_KINDS, CaseEvent, CaseStore
from triage.history.case import fold, ordered

from .conftest import at

RECEIVED = at(23, 10)


def _events(*kinds: str) -> list[CaseEvent]:
    return [CaseEvent("c", k, RECEIVED + timedelta(hours=n), seq=n,  # type: ignore[arg-type]
                      satisfaction=4 if k == "follow_up_done" else None)
            for n, k in enumerate(kinds, start=1)]


def test_the_states_a_case_goes_through() -> None:
    """Open, answered, open again after a rejection, resolved, closed after follow-up."""
    assert fold(_events("received", "contacted"))[0] == "open"
    assert fold(_events("received", "answered"))[0] == "answered"
    state, rejected, _, _ = fold(_events("received", "answered", "answer_rejected"))
    assert (state, rejected) == ("open", 1)
    assert fold(_events("received", "resolved"))[0] == "resolved"
    state, _, satisfaction, _ = fold(_events("received", "resolved", "follow_up_done"))
    assert (state, satisfaction) == ("closed", 4)
    assert fold(_events("received", "resolved", "reopened"))[0] == "reopened"


def test_a_pause_returns_to_the_state_before_it() -> None:
    """Paused while answered, resumed: answered again; a second pause changes nothing."""
    assert fold(_events("received", "answered", "paused"))[0] == "paused"
    assert fold(_events("received", "answered", "paused", "paused", "resumed"))[0] \
        == "answered"


def test_the_escalation_level_is_the_highest_assignment() -> None:
    """Assignments at levels 1 then 0 leave the case at level 1."""
    events = [CaseEvent("c", "assigned", RECEIVED, level=1),
              CaseEvent("c", "assigned", RECEIVED + timedelta(hours=1), level=0)]
    assert fold(events)[3] == 1


def test_events_are_ordered_by_time_then_by_store_order() -> None:
    """Two events at one instant keep the order they were stored in."""
    late, first, second = (CaseEvent("c", "answered", RECEIVED + timedelta(hours=2), seq=1),
                           CaseEvent("c", "paused", RECEIVED, seq=3),
                           CaseEvent("c", "resumed", RECEIVED, seq=2))
    assert [e.seq for e in ordered([late, first, second])] == [2, 3, 1]


_KINDS = [k for k in EVENT_KINDS if k != "received"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.tuples(st.sampled_from(_KINDS), st.integers(0, 48)), max_size=15),
       cuts=st.lists(st.integers(0, 15), max_size=4))
def test_the_state_does_not_depend_on_how_events_were_batched(
        store: CaseStore, leak: triage.Decision, kinds: list[tuple[str, int]],
        cuts: list[int]) -> None:
    """The same events appended as one batch or split into several give the same case."""
    cases = []
    for split in ([], sorted(set(cuts))):
        case_id = store.record_decision(leak, customer="c", case_id=uuid.uuid4().hex)
        events = [CaseEvent(case_id, kind, RECEIVED + timedelta(hours=hour),  # type: ignore[arg-type]
                            satisfaction=2 if kind == "follow_up_done" else None,
                            level=1 if kind == "assigned" else None)
                  for kind, hour in kinds]
        bounds = [0, *[c for c in split if c < len(events)], len(events)]
        for start, end in itertools.pairwise(bounds):
            store.append_many(events[start:end])
        cases.append(store.case(case_id))
    one, split_up = cases
    assert (one.state, one.rejected_answers, one.satisfaction, one.escalation_level,
            one.first_at, one.last_at) == (
        split_up.state, split_up.rejected_answers, split_up.satisfaction,
        split_up.escalation_level, split_up.first_at, split_up.last_at)
    assert [(e.kind, e.at) for e in one.events] == [(e.kind, e.at) for e in split_up.events]
