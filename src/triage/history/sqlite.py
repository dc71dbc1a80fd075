"""The SQLite store (stdlib ``sqlite3``): one file in WAL mode, writers queue on a lock.

Every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers (threads or
processes) wait for each other up to the busy timeout instead of failing, and sequence
numbers follow commit order. WAL with ``synchronous=NORMAL`` keeps every committed
transaction through a killed process; a power cut may lose the last ones.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import HistoryError
from .case import CaseRecord, ordered
from .events import CaseEvent
from .marks import (
    MarkedCase,
    PlannedDeadline,
    deadline_columns,
    from_micros,
    mark_values,
    marks_of,
    micros,
)
from .migrations import SQLITE, pending
from .rows import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    case_from,
    case_values,
    event_from,
    event_values,
    mark_statements,
    marked_case,
    select_columns,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_CASES = ", ".join(CASE_COLUMNS)
_EVENTS = ", ".join(EVENT_COLUMNS)
_INSERT_CASE = f"INSERT INTO cases ({_CASES}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"
_INSERT_EVENT = (f"INSERT INTO events ({_EVENTS}) "
                 f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")
_SELECT_CASE = f"SELECT {_CASES} FROM cases"
_SELECT_DEADLINES = ("SELECT " + select_columns("json_extract(decision, '$.deadlines')")
                     + " FROM cases")
_INSERT_MARKS, _UPDATE_MARKS, _SELECT_MARKED = mark_statements(
    "?", "c.received_at")
#: SQLite's default limit of bound parameters is 32766 (999 before 3.32): chunks stay below.
_IN_CHUNK = 500


def _flags(value: str) -> tuple[str, ...]:
    return tuple(json.loads(value))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class SQLiteBackend:
    """Cases and events in one SQLite file (or ``:memory:``)."""

    name = "sqlite"

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        try:
            self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                                       check_same_thread=True)
        except sqlite3.Error as error:
            raise HistoryError(f"cannot open the SQLite store {path!r}: {error}",
                               "check that the folder exists and is writable") from None
        try:
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode not in ("wal", "memory"):
                raise HistoryError(f"SQLite store {path!r} cannot use WAL (mode {mode})",
                                   "put the store on a local file system")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise HistoryError(f"{path!r} is not a usable SQLite store: {error}",
                               "give the path of a store made by CaseStore, or a new "
                               "file") from None
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                       "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                       "applied_at TEXT NOT NULL)")
            found = db.execute("SELECT coalesce(max(version), 0) FROM schema_version"
                               ).fetchone()[0]
            for step in pending(SQLITE, found):
                for statement in step.statements:
                    db.execute(statement)
                if step.remark:
                    self._mark_all()
                db.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                           (step.version, step.description,
                            datetime.now(UTC).isoformat()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        row = self._db.execute("SELECT coalesce(max(version), 0) FROM schema_version"
                               ).fetchone()
        return int(row[0])

    def _write(self) -> _Transaction:
        return _Transaction(self._db)

    def insert_case(self, record: CaseRecord, received: CaseEvent) -> int:
        with self._write() as db:
            try:
                db.execute(_INSERT_CASE, case_values(record, micros, _json, _json))
            except sqlite3.IntegrityError:
                raise HistoryError(f"case {record.case_id!r} is already recorded",
                                   "pass another case_id= (a case is recorded once; add "
                                   "events to it with append)") from None
            db.execute(_INSERT_EVENT, event_values(received, micros))
            seq = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
            db.execute(_INSERT_MARKS, (record.case_id, *deadline_columns(record.decision),
                                       *mark_values(marks_of([received]))))
            return seq

    def insert_events(self, events: Sequence[CaseEvent]) -> list[int]:
        if not events:
            return []
        with self._write() as db:
            db.executemany(_INSERT_EVENT, (event_values(e, micros) for e in events))
            last = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
            touched = list(dict.fromkeys(e.case_id for e in events))
            for start in range(0, len(touched), _IN_CHUNK):
                self._remark(touched[start:start + _IN_CHUNK])
        # AUTOINCREMENT under the write lock: the batch's seqs are consecutive
        return list(range(last - len(events) + 1, last + 1))

    def _remark(self, case_ids: Sequence[str]) -> None:
        """Rewrite the marks of ``case_ids`` from all their events (inside a write)."""
        events = self.load_events(case_ids)
        self._db.executemany(_UPDATE_MARKS, (
            (*mark_values(marks_of(ordered(events[case_id]))), case_id)
            for case_id in case_ids if case_id in events))

    def _mark_all(self) -> None:
        """Deadlines and marks for every case (migration 3, inside its transaction)."""
        rows = self._db.execute("SELECT case_id, decision FROM cases").fetchall()
        for start in range(0, len(rows), _IN_CHUNK):
            chunk = rows[start:start + _IN_CHUNK]
            events = self.load_events([case_id for case_id, _ in chunk])
            self._db.executemany(_INSERT_MARKS, (
                (case_id, *deadline_columns(json.loads(decision)),
                 *mark_values(marks_of(ordered(events[case_id]))))
                for case_id, decision in chunk if case_id in events))

    def received_times(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        unique = list(dict.fromkeys(case_ids))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start:start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for case_id, received in self._db.execute(
                    f"SELECT case_id, received_at FROM cases WHERE case_id IN ({marks})",
                    chunk):
                out[case_id] = from_micros(received)
        return out

    def load_case(self, case_id: str) -> CaseRecord | None:
        row = self._db.execute(f"{_SELECT_CASE} WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None else case_from(row, from_micros, _flags)

    def load_events(self, case_ids: Sequence[str]) -> dict[str, list[CaseEvent]]:
        out: dict[str, list[CaseEvent]] = {}
        unique = list(dict.fromkeys(case_ids))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start:start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self._db.execute(
                    f"SELECT seq, {_EVENTS} FROM events WHERE case_id IN ({marks}) "
                    "ORDER BY seq", chunk):
                out.setdefault(row[1], []).append(event_from(row, from_micros))
        return out

    def topic_cases(self, customer: str, until: datetime, category: str | None,
                    subcategory: str | None, product: str | None) -> list[CaseRecord]:
        rows = self._db.execute(
            f"{_SELECT_CASE} WHERE customer = ? AND received_at <= ? "
            "AND (? IS NULL OR category = ?) AND (? IS NULL OR subcategory = ?) "
            "AND (? IS NULL OR product = ?) ORDER BY received_at, case_id",
            (customer, micros(until), category, category, subcategory, subcategory,
             product, product))
        return [case_from(row, from_micros, _flags) for row in rows]

    def count_customer(self, customer: str, after: datetime, until: datetime) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM cases WHERE customer = ? AND received_at > ? "
            "AND received_at <= ?", (customer, micros(after), micros(until))).fetchone()
        return int(row[0])

    def count_team(self, team: str, category: str, subcategories: Sequence[str],
                   since: datetime, until: datetime) -> int:
        if not subcategories:
            return 0
        marks = ", ".join("?" * len(subcategories))
        row = self._db.execute(
            "SELECT count(*) FROM cases WHERE owner_team = ? AND category = ? "
            f"AND received_at >= ? AND received_at <= ? AND subcategory IN ({marks})",
            (team, category, micros(since), micros(until), *subcategories)).fetchone()
        return int(row[0])

    def cases_between(self, start: datetime, end: datetime, chunk: int,
                      deadlines_only: bool = False) -> Iterator[list[CaseRecord]]:
        select = _SELECT_DEADLINES if deadlines_only else _SELECT_CASE
        cursor = self._db.execute(
            f"{select} WHERE received_at >= ? AND received_at < ? "
            "ORDER BY received_at, case_id", (micros(start), micros(end)))
        try:
            while rows := cursor.fetchmany(chunk):
                yield [case_from(row, from_micros, _flags) for row in rows]
        finally:
            cursor.close()

    def marked_between(self, start: datetime, end: datetime, chunk: int
                       ) -> Iterator[list[MarkedCase]]:
        cursor = self._db.execute(
            f"{_SELECT_MARKED} WHERE c.received_at >= ? AND c.received_at < ? "
            "ORDER BY c.received_at, c.case_id", (micros(start), micros(end)))
        plans: dict[str, tuple[PlannedDeadline, ...]] = {}
        flags: dict[str, tuple[str, ...]] = {}

        def flags_of(text: str) -> tuple[str, ...]:
            found = flags.get(text)
            if found is None:
                found = flags[text] = _flags(text)
            return found

        try:
            while rows := cursor.fetchmany(chunk):
                yield [marked_case(row, flags_of, plans) for row in rows]
        finally:
            cursor.close()

    def load_cases(self, case_ids: Sequence[str]) -> dict[str, CaseRecord]:
        out: dict[str, CaseRecord] = {}
        unique = list(dict.fromkeys(case_ids))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start:start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self._db.execute(f"{_SELECT_CASE} WHERE case_id IN ({marks})", chunk):
                out[row[0]] = case_from(row, from_micros, _flags)
        return out

    def event_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise HistoryError(f"the SQLite store is busy: {error}",
                               "another writer held it past the busy timeout; retry, or "
                               "open the store with a longer timeout") from None
        return self._db

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        if kind is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
