"""The case store, on both backends: record, append, read back, and refuse bad input."""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.history import EVENT_KINDS, CaseEvent, CaseStore, HistoryError

from .conftest import POSTGRES_URL, SH, at

RECEIVED = at(23, 10)


def test_a_recorded_decision_is_a_case_with_its_fields_and_receipt(
        store: CaseStore, leak: triage.Decision) -> None:
    """record_decision keeps the decision's fields, its lean JSON (each deadline with its
    length), the channel and a received event."""
    case_id = store.record_decision(leak, customer="13800000001", product="home",
                                    domain="real_estate", actor="坐席07", channel="phone")
    assert case_id == "s1"
    case = store.case(case_id)
    record = case.record
    assert (record.customer, record.request_type, record.category, record.subcategory,
            record.product, record.domain, record.owner_team, record.severity) == (
        "13800000001", leak.request_type, leak.category, None, "home", "real_estate",
        "re_call_center_agent", leak.severity)
    assert record.flags == leak.flags and record.policy_version == leak.policy_version
    lean = leak.to_dict("lean")
    assert {k: v for k, v in record.decision.items() if k != "deadlines"} == {
        k: v for k, v in lean.items() if k != "deadlines"}
    assert [{k: v for k, v in d.items() if k != "within"}
            for d in record.decision["deadlines"]] == lean["deadlines"]
    assert [d["within"] for d in record.decision["deadlines"]] == [
        str(d.derivation.duration) for d in leak.deadlines]
    assert record.channel == "phone"
    assert record.received_at == RECEIVED and record.received_at.tzinfo is not None
    [received] = case.events
    assert (received.kind, received.actor, received.policy_version, received.seq) == (
        "received", "坐席07", leak.policy_version, 1)
    assert (case.state, case.first_at, case.last_at) == ("open", RECEIVED, RECEIVED)


def test_events_come_back_in_order_with_increasing_seqs(
        store: CaseStore, leak: triage.Decision) -> None:
    """append and append_many return the events numbered; reading gives the same events."""
    case_id = store.record_decision(leak, customer="c")
    one = store.append(CaseEvent(case_id, "accepted", at(23, 10, 5), actor="坐席07"))
    more = store.append_many([
        CaseEvent(case_id, "assigned", at(23, 10, 10), level=0),
        CaseEvent(case_id, "contacted", at(23, 11)),
        CaseEvent(case_id, "answered", at(24, 9), note="已安排维修师傅上门"),
    ])
    assert one.seq is not None
    assert [e.seq for e in more] == [one.seq + 1, one.seq + 2, one.seq + 3]
    assert store.events(case_id)[1:] == (one, *more)
    assert store.event_count() == 5


def test_the_same_events_drive_policy_status(
        store: CaseStore, leak: triage.Decision, default_policy: triage.Policy) -> None:
    """status_events feed Policy.status: contacted and answered meet their milestones, a
    rejected answer counts, a reopening makes the answer pending again."""
    case_id = store.record_decision(leak, customer="c")
    store.append_many([
        CaseEvent(case_id, "accepted", at(23, 10, 5)),
        CaseEvent(case_id, "assigned", at(23, 10, 6)),
        CaseEvent(case_id, "contacted", at(23, 11)),
        CaseEvent(case_id, "answered", at(24, 9)),
        CaseEvent(case_id, "answer_rejected", at(24, 15)),
    ])
    events = store.status_events(case_id)
    assert [e.kind for e in events] == ["acknowledged", "contacted", "answered",
                                        "customer_rejected"]
    status = default_policy.status(leak, events, at(24, 16))
    states = {m.milestone: m.state for m in status.milestones}
    assert states["first_contact"] == "met" and states["answer"] == "met"
    assert status.rejections == 1
    direct = default_policy.status(leak, [triage.Event("contacted", at(23, 11)),
                                          triage.Event("answered", at(24, 9)),
                                          triage.Event("customer_rejected", at(24, 15))],
                                   at(24, 16))
    assert status.milestones == direct.milestones
    store.append(CaseEvent(case_id, "reopened", at(25, 9)))
    later = default_policy.status(leak, store.status_events(case_id), at(25, 10))
    assert later.milestone("answer").state == "pending"
    assert store.case(case_id).state == "reopened"


def test_a_case_is_recorded_once(store: CaseStore, leak: triage.Decision) -> None:
    """The same case id twice is refused; another case_id= records it again."""
    store.record_decision(leak, customer="c")
    with pytest.raises(HistoryError, match=r"case 's1' is already recorded; hint: pass "
                                           r"another case_id="):
        store.record_decision(leak, customer="c")
    assert store.record_decision(leak, customer="c", case_id="s1-again") == "s1-again"


def test_record_decision_refuses_bad_arguments(store: CaseStore,
                                               leak: triage.Decision) -> None:
    """Not a decision, no customer, a naive or missing receipt time: HistoryError."""
    with pytest.raises(HistoryError, match="takes a Decision, not dict"):
        store.record_decision({"id": "x"}, customer="c")  # type: ignore[arg-type]
    with pytest.raises(HistoryError, match="customer '' is not a customer key"):
        store.record_decision(leak, customer="")
    with pytest.raises(HistoryError, match="has no time zone"):
        store.record_decision(leak, customer="c", at=datetime(2026, 11, 23, 10))
    undated = dataclasses.replace(leak, received_at=None)
    with pytest.raises(HistoryError, match="has no receipt time; hint: pass at="):
        store.record_decision(undated, customer="c")
    assert store.event_count() == 0


def test_append_refuses_bad_batches_and_writes_none_of_them(
        store: CaseStore, leak: triage.Decision) -> None:
    """An unknown case, an event before receipt, a numbered or received event anywhere in
    a batch: HistoryError, and none of the batch is stored."""
    case_id = store.record_decision(leak, customer="c")
    good = CaseEvent(case_id, "contacted", at(23, 11))
    bad_batches = {
        "case 'nope' is not recorded": CaseEvent("nope", "contacted", at(23, 11)),
        "before the case was received": CaseEvent(case_id, "contacted", at(23, 9)),
        "already stored as seq 7": dataclasses.replace(good, seq=7),
        "is a 'received' event": CaseEvent(case_id, "received", at(23, 11)),
        "is a dict, not a CaseEvent": {"kind": "contacted"},
    }
    for message, bad in bad_batches.items():
        with pytest.raises(HistoryError, match=message):
            store.append_many([good, bad])  # type: ignore[list-item]
    assert store.events(case_id)[1:] == ()
    with pytest.raises(HistoryError, match="no case 'nope' in this store"):
        store.case("nope")


def test_a_closed_store_says_so(opener: object, leak: triage.Decision) -> None:
    """Using a store after close() raises HistoryError; closing twice is harmless."""
    store = opener()  # type: ignore[operator]
    store.close()
    store.close()
    with pytest.raises(HistoryError, match="closed"):
        store.case("s1")


def test_a_store_reopens_with_what_it_held(opener: object, leak: triage.Decision) -> None:
    """Closing and opening again keeps the cases and continues the numbering."""
    with opener() as first:  # type: ignore[operator]
        case_id = first.record_decision(leak, customer="c")
        first.append(CaseEvent(case_id, "contacted", at(23, 11)))
    with opener() as again:  # type: ignore[operator]
        assert [e.kind for e in again.events(case_id)] == ["received", "contacted"]
        assert again.append(CaseEvent(case_id, "answered", at(24, 9))).seq == 3


def test_cases_between_is_half_open_and_in_receipt_order(
        store: CaseStore, leak: triage.Decision) -> None:
    """Cases received in [start, end), earliest first, each with its events."""
    for day, name in ((2, "b"), (1, "a"), (30, "c")):
        store.record_decision(leak, customer="c", case_id=name, at=at(day, 0, month=12))
    store.record_decision(leak, customer="c", case_id="z", at=at(1, 0, year=2027, month=1))
    store.append(CaseEvent("a", "resolved", at(1, 12, month=12)))
    cases = list(store.cases_between(at(1, 0, month=12), at(1, 0, month=1, year=2027)))
    assert [c.case_id for c in cases] == ["a", "b", "c"]
    assert cases[0].state == "resolved" and len(cases[0].events) == 2


def test_cases_between_pages_through_many_cases(store: CaseStore,
                                                leak: triage.Decision) -> None:
    """More cases than one page: every one, once, in order."""
    for n in range(1203):
        store.record_decision(leak, customer=f"c{n % 7}", case_id=f"k{n:05d}",
                              at=RECEIVED + timedelta(minutes=n // 2))
    ids = [c.case_id for c in store.cases_between(RECEIVED, RECEIVED + timedelta(days=1))]
    assert ids == sorted(ids) and len(ids) == 1203


def test_the_url_picks_the_backend(tmp_path: Path) -> None:
    """A path and sqlite:/// open SQLite; other schemes and empty names are refused."""
    with CaseStore(tmp_path / "a.db") as a, CaseStore(f"sqlite:///{tmp_path}/b.db") as b:
        assert (a.backend, b.backend) == ("sqlite", "sqlite")
    assert (tmp_path / "b.db").exists()
    for url, message in (("mysql://x/y", "unknown store URL scheme 'mysql'"),
                         ("sqlite://", "names no file"), ("", "empty")):
        with pytest.raises(HistoryError, match=message):
            CaseStore(url)
    with pytest.raises(HistoryError, match="schema= is for PostgreSQL"):
        CaseStore(tmp_path / "c.db", schema="x")


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    """Opening a text file as a store raises HistoryError, not sqlite3's error."""
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库文件\n" * 100, encoding="utf-8")
    with pytest.raises(HistoryError, match="is not a usable SQLite store"):
        CaseStore(path)


@pytest.mark.skipif(not POSTGRES_URL, reason="TRIAGE_TEST_POSTGRES is not set")
def test_a_wrong_postgres_password_is_refused_without_showing_it() -> None:
    """A failed connection names the server, hides the password and hints at the URL."""
    assert POSTGRES_URL is not None
    scheme, rest = POSTGRES_URL.split("://", 1)
    host = rest.split("@", 1)[1]
    with pytest.raises(HistoryError, match="cannot connect") as info:
        CaseStore(f"{scheme}://triage:wrong-secret@{host}")
    assert "wrong-secret" not in str(info.value) and "***" in str(info.value)


def test_without_psycopg_a_postgres_url_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg missing: HistoryError naming the extra to install."""
    real = builtins.__import__

    def no_psycopg(name: str, *args: object, **kwargs: object) -> object:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(HistoryError, match=r"needs psycopg 3.*triage\[history-postgres\]"):
        CaseStore("postgresql://u:p@127.0.0.1:1/db")


_KINDS = [k for k in EVENT_KINDS if k != "received"]
_TEXT = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_characters="\x00"),
                                     max_size=12))


@st.composite
def case_events(draw: st.DrawFn, case_id: str) -> CaseEvent:
    kind = draw(st.sampled_from(_KINDS))
    offset = draw(st.integers(0, 90 * 24 * 3600 * 1_000_000))
    zone = draw(st.sampled_from([SH, UTC]))
    return CaseEvent(
        case_id, kind, (RECEIVED + timedelta(microseconds=offset)).astimezone(zone),
        actor=draw(_TEXT), policy_version=draw(_TEXT), note=draw(_TEXT),
        milestone=draw(st.none() | st.sampled_from(["answer", "resolution"])),
        satisfaction=draw(st.integers(1, 5)) if kind == "follow_up_done" else None,
        level=draw(st.none() | st.integers(0, 3)) if kind == "assigned" else None)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_events_round_trip_exactly(store: CaseStore, leak: triage.Decision,
                                   data: st.DataObject) -> None:
    """Any valid events come back equal, field for field, in time then store order."""
    case_id = store.record_decision(leak, customer="c", case_id=uuid.uuid4().hex)
    events = data.draw(st.lists(case_events(case_id), max_size=12))
    stored = store.append_many(events)
    assert [dataclasses.replace(e, seq=None) for e in stored] == events
    back = store.events(case_id)[1:]
    assert sorted(back, key=lambda e: e.seq or 0) == list(stored)
    assert [(e.at, e.seq) for e in back] == sorted((e.at, e.seq) for e in stored)
