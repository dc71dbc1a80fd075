"""The PostgreSQL store (psycopg 3, imported only when a ``postgresql://`` URL is opened).

Each write is one transaction that first takes a transaction-level advisory lock, so
writers commit one at a time and sequence numbers follow commit order: a reader that has
seen event ``n`` never later finds a new event below ``n``. A writer that dies mid-batch
loses only its open transaction, which the server rolls back. Sessions run in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
)
from .migrations import POSTGRES, pending
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

if TYPE_CHECKING:
    import psycopg

#: Advisory lock keys (any constants, the same in every process): appends, migrations.
_WRITE_LOCK = 0x7472_6961_6765
_MIGRATE_LOCK = _WRITE_LOCK + 1
_CASES = ", ".join(CASE_COLUMNS)
_EVENTS = ", ".join(EVENT_COLUMNS)
_INSERT_CASE = (f"INSERT INTO cases ({_CASES}) "
                f"VALUES ({', '.join(['%s'] * len(CASE_COLUMNS))})")
_INSERT_EVENT = (f"INSERT INTO events ({_EVENTS}) "
                 f"VALUES ({', '.join(['%s'] * len(EVENT_COLUMNS))}) RETURNING seq")
#: One statement for a whole batch: one array per column, rows in array order.
_INSERT_EVENTS = (
    f"INSERT INTO events ({_EVENTS}) SELECT {_EVENTS} FROM unnest("
    "%s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::smallint[], "
    "%s::text[], %s::text[], %s::integer[]) WITH ORDINALITY "
    f"AS batch ({_EVENTS}, n) ORDER BY n RETURNING seq")
_SELECT_CASE = f"SELECT {_CASES} FROM cases"
_SELECT_DEADLINES = "SELECT " + select_columns("decision -> 'deadlines'") + " FROM cases"
_INSERT_MARKS, _UPDATE_MARKS, _SELECT_MARKED = mark_statements(
    "%s", "(extract(epoch FROM c.received_at) * 1000000)::bigint")
#: Cases whose marks are rewritten per statement.
_MARK_CHUNK = 500
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _same(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _flags(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _hidden(url: str) -> str:
    """``url`` with its password replaced by ``***`` (messages never show it)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


class PostgresBackend:
    """Cases and events in a PostgreSQL database (in ``schema`` when given)."""

    name = "postgresql"

    def __init__(self, url: str, *, schema: str | None = None,
                 application_name: str = "triage-history") -> None:
        try:
            import psycopg  # noqa: PLC0415 (optional dependency, loaded on use)
            from psycopg.types.json import Jsonb  # noqa: PLC0415
        except ImportError:
            raise HistoryError(
                "the PostgreSQL store needs psycopg 3, which is not installed",
                'pip install "triage[history-postgres]" (or use a SQLite path)') from None
        self._psycopg = psycopg
        self._jsonb = Jsonb
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise HistoryError(f"schema {schema!r} is not a plain schema name",
                               "use lower-case letters, digits and _, starting with a letter")
        try:
            if "application_name=" in url:  # the URL names the session itself
                self._db: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
            else:
                self._db = psycopg.connect(url, autocommit=True,
                                           application_name=application_name)
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise HistoryError(f"cannot connect to {_hidden(url)}: {reason}",
                               "check that the server runs and the URL's user, password "
                               "and database are right") from None
        try:
            self._db.execute("SELECT set_config('TimeZone', 'UTC', false)")
            if schema is not None:
                from psycopg import sql  # noqa: PLC0415

                self._db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(schema)))
                self._db.execute("SELECT set_config('search_path', %s, false)", (schema,))
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                             "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                             "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            found = self.schema_version()
            for step in pending(POSTGRES, found):
                for statement in step.statements:
                    self._db.execute(statement)
                if step.remark:
                    self._mark_all()
                self._db.execute("INSERT INTO schema_version (version, description) "
                                 "VALUES (%s, %s)", (step.version, step.description))

    def schema_version(self) -> int:
        row = self._db.execute("SELECT coalesce(max(version), 0) FROM schema_version"
                               ).fetchone()
        return int(row[0]) if row else 0

    def insert_case(self, record: CaseRecord, received: CaseEvent) -> int:
        errors = self._psycopg.errors
        try:
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
                self._db.execute(_INSERT_CASE,
                                 case_values(record, _same, list, self._jsonb))
                row = self._db.execute(_INSERT_EVENT,
                                       event_values(received, _same)).fetchone()
                self._db.execute(_INSERT_MARKS, (
                    record.case_id, *deadline_columns(record.decision),
                    *mark_values(marks_of([received]))))
        except errors.UniqueViolation:
            raise HistoryError(f"case {record.case_id!r} is already recorded",
                               "pass another case_id= (a case is recorded once; add events "
                               "to it with append)") from None
        assert row is not None
        return int(row[0])

    def insert_events(self, events: Sequence[CaseEvent]) -> list[int]:
        if not events:
            return []
        columns = list(zip(*(event_values(e, _same) for e in events), strict=True))
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            rows = self._db.execute(_INSERT_EVENTS, [list(c) for c in columns]).fetchall()
            self._remark(list(dict.fromkeys(e.case_id for e in events)))
        # identities are drawn in row order under the lock: ascending seqs, input order
        return sorted(int(r[0]) for r in rows)

    def _remark(self, case_ids: Sequence[str]) -> None:
        """Rewrite the marks of ``case_ids`` from all their events (inside a write)."""
        for start in range(0, len(case_ids), _MARK_CHUNK):
            chunk = case_ids[start:start + _MARK_CHUNK]
            events = self.load_events(chunk)
            with self._db.cursor() as cursor:
                cursor.executemany(_UPDATE_MARKS, [
                    (*mark_values(marks_of(ordered(events[case_id]))), case_id)
                    for case_id in chunk if case_id in events])

    def _mark_all(self) -> None:
        """Deadlines and marks for every case (migration 3, inside its transaction)."""
        rows = self._db.execute("SELECT case_id, decision FROM cases").fetchall()
        for start in range(0, len(rows), _MARK_CHUNK):
            chunk = rows[start:start + _MARK_CHUNK]
            events = self.load_events([case_id for case_id, _ in chunk])
            with self._db.cursor() as cursor:
                cursor.executemany(_INSERT_MARKS, [
                    (case_id, *deadline_columns(decision),
                     *mark_values(marks_of(ordered(events[case_id]))))
                    for case_id, decision in chunk if case_id in events])

    def received_times(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        rows = self._db.execute("SELECT case_id, received_at FROM cases "
                                "WHERE case_id = ANY(%s)", (list(set(case_ids)),))
        return {case_id: _same(at) for case_id, at in rows}

    def load_case(self, case_id: str) -> CaseRecord | None:
        row = self._db.execute(f"{_SELECT_CASE} WHERE case_id = %s", (case_id,)).fetchone()
        return None if row is None else case_from(row, _same, _flags)

    def load_events(self, case_ids: Sequence[str]) -> dict[str, list[CaseEvent]]:
        out: dict[str, list[CaseEvent]] = {}
        rows = self._db.execute(f"SELECT seq, {_EVENTS} FROM events "
                                "WHERE case_id = ANY(%s) ORDER BY seq",
                                (list(set(case_ids)),))
        for row in rows:
            out.setdefault(row[1], []).append(event_from(row, _same))
        return out

    def topic_cases(self, customer: str, until: datetime, category: str | None,
                    subcategory: str | None, product: str | None) -> list[CaseRecord]:
        rows = self._db.execute(
            f"{_SELECT_CASE} WHERE customer = %(customer)s AND received_at <= %(until)s "
            "AND (%(category)s::text IS NULL OR category = %(category)s) "
            "AND (%(subcategory)s::text IS NULL OR subcategory = %(subcategory)s) "
            "AND (%(product)s::text IS NULL OR product = %(product)s) "
            "ORDER BY received_at, case_id",
            {"customer": customer, "until": until, "category": category,
             "subcategory": subcategory, "product": product})
        return [case_from(row, _same, _flags) for row in rows]

    def count_customer(self, customer: str, after: datetime, until: datetime) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM cases WHERE customer = %s AND received_at > %s "
            "AND received_at <= %s", (customer, after, until)).fetchone()
        return int(row[0]) if row else 0

    def count_team(self, team: str, category: str, subcategories: Sequence[str],
                   since: datetime, until: datetime) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM cases WHERE owner_team = %s AND category = %s "
            "AND received_at >= %s AND received_at <= %s AND subcategory = ANY(%s)",
            (team, category, since, until, list(subcategories))).fetchone()
        return int(row[0]) if row else 0

    def _pages(self, select: str, alias: str, start: datetime, end: datetime, chunk: int,
               key: Callable[[Any], tuple[datetime, str]]) -> Iterator[list[Any]]:
        """The rows of ``select`` (its cases table named ``alias``) received in
        ``[start, end)``, by receipt time and case id, ``chunk`` a page; ``key`` gives a
        row's receipt time and case id. Keyset pages: no server cursor stays open
        between the caller's steps."""
        at, case = f"{alias}received_at", f"{alias}case_id"
        rows = self._db.execute(
            f"{select} WHERE {at} >= %s AND {at} < %s ORDER BY {at}, {case} LIMIT %s",
            (start, end, chunk)).fetchall()
        while rows:
            yield rows
            rows = self._db.execute(
                f"{select} WHERE ({at}, {case}) > (%s, %s) AND {at} < %s "
                f"ORDER BY {at}, {case} LIMIT %s", (*key(rows[-1]), end, chunk)).fetchall()

    def cases_between(self, start: datetime, end: datetime, chunk: int,
                      deadlines_only: bool = False) -> Iterator[list[CaseRecord]]:
        select = _SELECT_DEADLINES if deadlines_only else _SELECT_CASE
        for rows in self._pages(select, "", start, end, chunk, lambda r: (r[2], r[0])):
            yield [case_from(row, _same, _flags) for row in rows]

    def marked_between(self, start: datetime, end: datetime, chunk: int
                       ) -> Iterator[list[MarkedCase]]:
        plans: dict[str, tuple[PlannedDeadline, ...]] = {}
        for rows in self._pages(_SELECT_MARKED, "c.", start, end, chunk,
                                lambda r: (from_micros(r[2]), r[0])):
            yield [marked_case(row, _flags, plans) for row in rows]

    def load_cases(self, case_ids: Sequence[str]) -> dict[str, CaseRecord]:
        rows = self._db.execute(f"{_SELECT_CASE} WHERE case_id = ANY(%s)",
                                (list(set(case_ids)),))
        return {row[0]: case_from(row, _same, _flags) for row in rows}

    def event_count(self) -> int:
        row = self._db.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()
