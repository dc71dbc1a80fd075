"""Case events: checked on construction, satisfaction normalised, mapped to status events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.history import (
    EVENT_KINDS,
    STATUS_KINDS,
    CaseEvent,
    HistoryError,
    normalise_satisfaction,
    satisfaction_label,
)

from .conftest import at


def test_times_are_stored_as_utc_and_compare_as_the_same_instant() -> None:
    """An event at 10:00 Shanghai is 02:00 UTC, and equal to the time it was given."""
    event = CaseEvent("c1", "contacted", at(23, 10))
    assert event.at.tzinfo is UTC
    assert event.at == datetime(2026, 11, 23, 2, tzinfo=UTC) == at(23, 10)


def test_a_naive_time_is_refused_with_a_hint() -> None:
    """A time without a zone could be read in the wrong zone: refused, with how to fix it."""
    with pytest.raises(HistoryError, match=r"has no time zone; hint: pass an aware datetime"):
        CaseEvent("c1", "contacted", datetime(2026, 11, 23, 10))
    with pytest.raises(HistoryError, match="must be a datetime, not str"):
        CaseEvent("c1", "contacted", "2026-11-23T10:00:00+08:00")  # type: ignore[arg-type]


def test_an_unknown_kind_names_the_closest_one() -> None:
    """A misspelt kind is refused with a suggestion."""
    with pytest.raises(HistoryError, match=r"unknown event kind 'answerd'.*'answered'"):
        CaseEvent("c1", "answerd", at(23))  # type: ignore[arg-type]


def test_satisfaction_belongs_to_the_follow_up_and_level_to_an_assignment() -> None:
    """A score on another event, or a level off an assignment, is refused."""
    with pytest.raises(HistoryError, match="belongs to the 'follow_up_done' event"):
        CaseEvent("c1", "resolved", at(23), satisfaction=5)
    with pytest.raises(HistoryError, match="belongs to an 'assigned' event"):
        CaseEvent("c1", "contacted", at(23), level=1)
    with pytest.raises(HistoryError, match="level -1"):
        CaseEvent("c1", "assigned", at(23), level=-1)
    assert CaseEvent("c1", "assigned", at(23), level=2).level == 2


def test_words_and_digits_become_scores_with_labels() -> None:
    """满意 is 5, 基本满意 3, 不满意 1; Traditional forms and digit strings are read too."""
    assert [normalise_satisfaction(w) for w in ("满意", "基本满意", "不满意", "滿意", "4")] \
        == [5, 3, 1, 5, 4]
    event = CaseEvent("c1", "follow_up_done", at(24), satisfaction="基本满意")  # type: ignore[arg-type]
    assert (event.satisfaction, event.satisfaction_label) == (3, "基本满意")


@pytest.mark.parametrize("bad", [0, 6, -1, True, "很好", "", 4.5, "５"])
def test_a_bad_satisfaction_is_refused(bad: object) -> None:
    """Out-of-range scores, unknown words, floats and booleans raise HistoryError."""
    with pytest.raises(HistoryError, match="satisfaction"):
        normalise_satisfaction(bad)  # type: ignore[arg-type]


@given(st.integers(1, 5))
def test_a_score_and_its_label_agree(score: int) -> None:
    """Normalising a score's own label gives a score with the same label."""
    label = satisfaction_label(score)
    assert satisfaction_label(normalise_satisfaction(label) or 0) == label
    assert normalise_satisfaction(score) == normalise_satisfaction(str(score)) == score


@given(st.one_of(st.integers(), st.text(max_size=6)))
def test_normalisation_gives_one_to_five_or_a_history_error(value: int | str) -> None:
    """Whatever comes in, the result is a 1-5 score or a HistoryError, nothing else."""
    try:
        score = normalise_satisfaction(value)
    except HistoryError:
        return
    assert score is not None and 1 <= score <= 5


def test_status_kinds_cover_every_kind_but_receipt_and_assignment() -> None:
    """Each kind maps to a status event except received and assigned."""
    assert set(EVENT_KINDS) - set(STATUS_KINDS) == {"received", "assigned"}
    event = CaseEvent("c1", "answer_rejected", at(24), note="客户认为答复没有解决问题")
    status = event.to_status_event()
    assert status is not None and (status.kind, status.note) == (
        "customer_rejected", "客户认为答复没有解决问题")
    assert CaseEvent("c1", "assigned", at(24)).to_status_event() is None


def test_an_offset_zone_is_accepted_as_well_as_zoneinfo() -> None:
    """Fixed offsets are aware times too."""
    plus8 = timezone(timedelta(hours=8))
    assert CaseEvent("c1", "paused", datetime(2026, 11, 23, 10, tzinfo=plus8)).at == at(23)
