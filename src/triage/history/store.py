"""``CaseStore``: record decisions, append events, read cases back and ask history facts.

The front door of the history subsystem. ``CaseStore(url)`` picks the backend from the
URL (a path or ``sqlite:///path``: SQLite; ``postgresql://...``: PostgreSQL), applies the
schema migrations, and checks every argument before anything is written, so that a bad
event or time raises ``HistoryError`` and leaves the store as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any

from ..decision import Decision
from ..errors import HistoryError
from ..status import Event
from .backend import Backend
from .case import Case, CaseRecord, derive
from .events import CaseEvent, stored_event, utc
from .facts import TEAM_CATEGORY, TEAM_SUBCATEGORIES, HistoryFacts, facts_query, topic_facts
from .marks import MarkedCase

#: Cases read per round trip by ``cases_between``.
_CHUNK = 500


def open_backend(url: str | os.PathLike[str], *, schema: str | None = None,
                 timeout: float = 30.0) -> Backend:
    """The backend a store URL names."""
    text = os.fspath(url)
    if not isinstance(text, str) or not text:
        raise HistoryError(f"store URL {url!r} is empty or not text",
                           "pass a file path, 'sqlite:///path' or 'postgresql://...'")
    scheme, sep, _ = text.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        from .postgres import PostgresBackend  # noqa: PLC0415 (psycopg only when used)

        return PostgresBackend(text, schema=schema)
    if schema is not None:
        raise HistoryError("schema= is for PostgreSQL stores only",
                           "leave it out for a SQLite path")
    if sep and scheme == "sqlite":
        path = text[len("sqlite:///"):] if text.startswith("sqlite:///") else ""
        if not path:
            raise HistoryError(f"SQLite URL {text!r} names no file",
                               "write 'sqlite:///cases.db' (relative) or "
                               "'sqlite:////var/data/cases.db' (absolute)")
    elif sep and "/" not in scheme and scheme.isalnum():
        raise HistoryError(f"unknown store URL scheme {scheme!r}",
                           "use a file path, 'sqlite:///path' or 'postgresql://...'")
    else:
        path = text
    from .sqlite import SQLiteBackend  # noqa: PLC0415

    return SQLiteBackend(path, timeout=timeout)


class CaseStore:
    """Cases and their append-only events, in SQLite or PostgreSQL.

    One store object per thread or process (each holds one connection); any number of
    processes may open the same store. Use it as a context manager or ``close()`` it.
    """

    def __init__(self, url: str | os.PathLike[str], *, schema: str | None = None,
                 timeout: float = 30.0) -> None:
        self._backend: Backend | None = open_backend(url, schema=schema, timeout=timeout)
        self._name = self._backend.name

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._name

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (again: nothing happens)."""
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    def _open(self) -> Backend:
        if self._backend is None:
            raise HistoryError("this case store is closed", "open a new CaseStore(url)")
        return self._backend

    @property
    def schema_version(self) -> int:
        """The schema version of the store (``migrations.SCHEMA_VERSION`` once opened)."""
        return self._open().schema_version()

    def record_decision(self, decision: Decision, *, customer: str,
                        at: datetime | None = None, case_id: str | None = None,
                        product: str | None = None, domain: str | None = None,
                        actor: str | None = None, channel: str | None = None) -> str:
        """Store ``decision`` as a new case with its ``received`` event; the case id.

        ``customer`` is the key the customer's later complaints are matched on; ``at``
        the receipt time (default: the decision's own ``received_at``); ``case_id``
        defaults to the complaint id; ``product`` and ``domain`` are what topics and
        KPIs group by (the decision does not carry them), and so is ``channel`` (the
        complaint's ``channel``: phone, web...). The stored decision is its lean JSON
        form with each deadline's ``within`` added (the length a pause moves it by).
        """
        if not isinstance(decision, Decision):
            raise HistoryError(f"record_decision takes a Decision, not "
                               f"{type(decision).__name__}",
                               "pass what policy.triage(record) returned")
        if not isinstance(customer, str) or not customer.strip():
            raise HistoryError(f"customer {customer!r} is not a customer key",
                               "pass the customer's id or phone number as customer=")
        when = at if at is not None else decision.received_at
        if when is None:
            raise HistoryError(f"decision {decision.complaint_id!r} has no receipt time",
                               "pass at= (an aware datetime)")
        received = utc(when, "receipt time")
        case = decision.complaint_id if case_id is None else case_id
        for name, value in (("case_id", case), ("product", product), ("domain", domain),
                            ("channel", channel)):
            if value is not None and (not isinstance(value, str) or not value):
                raise HistoryError(f"{name} {value!r} is not text",
                                   f"pass {name} as a non-empty str")
        record = CaseRecord(case, customer, received, decision.complaint_id,
                            decision.request_type, decision.category, decision.subcategory,
                            product, domain, decision.owner.role, decision.handling,
                            decision.severity, tuple(decision.flags),
                            decision.policy_version, stored_decision(decision), channel)
        event = CaseEvent(case, "received", received, actor, decision.policy_version)
        with self._failures():
            self._open().insert_case(record, event)
        return case

    def append(self, event: CaseEvent) -> CaseEvent:
        """Store one event; it comes back with its sequence number."""
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[CaseEvent]) -> tuple[CaseEvent, ...]:
        """Store ``events`` in one transaction (all or none), numbered in the order given.

        Every event is checked first: a ``CaseEvent``, not numbered yet, of a recorded
        case, and not dated before the case was received.
        """
        batch = list(events)
        for number, event in enumerate(batch, start=1):
            if not isinstance(event, CaseEvent):
                raise HistoryError(f"event {number} of the batch is a "
                                   f"{type(event).__name__}, not a CaseEvent",
                                   "build it as CaseEvent(case_id, kind, at, ...)")
            if event.seq is not None:
                raise HistoryError(f"event {number} ({event.kind!r} of {event.case_id!r}) "
                                   f"is already stored as seq {event.seq}",
                                   "events are appended once; to copy one, use "
                                   "dataclasses.replace(event, seq=None)")
            if event.kind == "received":
                raise HistoryError(f"event {number} is a 'received' event",
                                   "record_decision stores the receipt; append what "
                                   "happened after")
        backend = self._open()
        with self._failures():
            received = backend.received_times([e.case_id for e in batch])
            for number, event in enumerate(batch, start=1):
                start = received.get(event.case_id)
                if start is None:
                    raise HistoryError(f"event {number}: case {event.case_id!r} is not "
                                       "recorded", "record_decision(decision, ...) first")
                if event.at < start:
                    raise HistoryError(
                        f"event {number} ({event.kind!r} of {event.case_id!r}) is dated "
                        f"{event.at.isoformat()}, before the case was received "
                        f"({start.isoformat()})", "check the event's time and zone")
            seqs = backend.insert_events(batch)
        return tuple(_numbered(e, s) for e, s in zip(batch, seqs, strict=True))

    def case(self, case_id: str) -> Case:
        """The case with its events in order and its derived state."""
        backend = self._open()
        with self._failures():
            record = backend.load_case(case_id)
            if record is None:
                raise HistoryError(f"no case {case_id!r} in this store",
                                   "use the id record_decision returned")
            return derive(record, backend.load_events([case_id]).get(case_id, []))

    def events(self, case_id: str) -> tuple[CaseEvent, ...]:
        """The case's events in time order (ties in store order)."""
        return self.case(case_id).events

    def status_events(self, case_id: str) -> list[Event]:
        """The case's events as ``triage.status`` events, for ``Policy.status``."""
        return [s for e in self.events(case_id) if (s := e.to_status_event()) is not None]

    def history_facts(self, customer: str, *, at: datetime, category: str | None = None,
                      subcategory: str | None = None, product: str | None = None,
                      team: str | None = None, window_days: int = 30,
                      team_subcategories: tuple[str, ...] = TEAM_SUBCATEGORIES
                      ) -> HistoryFacts:
        """What ``customer``'s history says at ``at`` (see ``HistoryFacts``). A topic
        field left None matches any value; events after ``at`` are not seen."""
        query = facts_query(customer, at, category, subcategory, product, team, window_days)
        backend = self._open()
        with self._failures():
            topic = backend.topic_cases(query.customer, query.at, query.category,
                                        query.subcategory, query.product)
            events = backend.load_events([r.case_id for r in topic]) if topic else {}
            complaints = backend.count_customer(query.customer, query.since, query.at)
            team_week = (0 if query.team is None else backend.count_team(
                query.team, TEAM_CATEGORY, team_subcategories, query.week_start, query.at))
        return topic_facts(query, topic, events, complaints, team_week)

    def cases_between(self, start: datetime, end: datetime, *,
                      deadlines_only: bool = False) -> Iterator[Case]:
        """Every case received in ``[start, end)``, in receipt order, with its events.

        ``deadlines_only``: each record's ``decision`` holds only ``{"deadlines": [...]}``
        (the deadlines a replay needs; reading a month is then about twice as fast)."""
        first, last = utc(start, "start"), utc(end, "end")
        backend = self._open()
        with self._failures():
            for records in backend.cases_between(first, last, _CHUNK, deadlines_only):
                events = backend.load_events([r.case_id for r in records])
                for record in records:
                    yield derive(record, events.get(record.case_id, []))

    def marked_between(self, start: datetime, end: datetime) -> Iterator[MarkedCase]:
        """Every case received in ``[start, end)``, in receipt order, as a ``MarkedCase``:
        the fields KPIs group by, its deadlines and its marks (``triage.history.marks``:
        what its events add up to, kept by every append), without reading decisions or
        events: what the monthly KPIs read."""
        first, last = utc(start, "start"), utc(end, "end")
        backend = self._open()
        with self._failures():
            for rows in backend.marked_between(first, last, _CHUNK):
                yield from rows

    def cases(self, case_ids: Iterable[str]) -> list[Case]:
        """The cases of ``case_ids`` (stored ones, in the order given), with their events,
        read in batches."""
        wanted = list(dict.fromkeys(case_ids))
        backend = self._open()
        out: list[Case] = []
        with self._failures():
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                records = backend.load_cases(chunk)
                events = backend.load_events(chunk)
                out.extend(derive(records[i], events.get(i, [])) for i in chunk
                           if i in records)
        return out

    def event_count(self) -> int:
        """How many events the store holds."""
        with self._failures():
            return self._open().event_count()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Database errors as ``HistoryError`` naming the backend (HistoryError passes)."""
        try:
            yield
        except HistoryError:
            raise
        except Exception as error:
            if not _is_database_error(error):
                raise
            raise HistoryError(f"the {self._name} store failed: {error}",
                               "check that the store is reachable and not damaged; "
                               "the last write was rolled back") from error


def stored_decision(decision: Decision) -> dict[str, Any]:
    """The decision's lean JSON with each deadline's ``within`` (``2wh``, ``3d``): a
    replay of the case needs it to tell working time from elapsed time when a pause
    moves a due time (``triage.history.kpi``)."""
    data = decision.to_dict("lean")
    data["deadlines"] = [{**lean, "within": str(d.derivation.duration)}
                         for lean, d in zip(data["deadlines"], decision.deadlines, strict=True)]
    return data


def _is_database_error(error: Exception) -> bool:
    kind: Any = type(error)
    return any(c.__module__.split(".")[0] in ("sqlite3", "psycopg") for c in kind.__mro__)


def _numbered(event: CaseEvent, seq: int) -> CaseEvent:
    return stored_event(event.case_id, event.kind, event.at, event.actor,
                        event.policy_version, event.satisfaction, event.note, event.milestone,
                        event.level, seq)
