"""The one interface both stores implement: rows in and out, transactions, and queries.

``CaseStore`` checks arguments, derives cases and facts; a ``Backend`` only moves rows,
so SQLite and PostgreSQL answer every question alike. Times cross this interface as aware
UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from .case import CaseRecord
from .events import CaseEvent
from .marks import MarkedCase


class Backend(Protocol):
    """A database holding cases and their events (append-only)."""

    #: ``sqlite`` or ``postgresql``.
    name: str

    def schema_version(self) -> int:
        """The version of the store's schema (0: empty)."""
        ...

    def insert_case(self, record: CaseRecord, received: CaseEvent) -> int:
        """Store a case and its ``received`` event in one transaction; the event's seq.
        A case id already stored raises ``HistoryError``."""
        ...

    def insert_events(self, events: Sequence[CaseEvent]) -> list[int]:
        """Store ``events`` in one transaction, all or none; their seqs, in order."""
        ...

    def received_times(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        """When each stored case of ``case_ids`` was received (unknown ids left out)."""
        ...

    def load_case(self, case_id: str) -> CaseRecord | None:
        ...

    def load_events(self, case_ids: Sequence[str]) -> dict[str, list[CaseEvent]]:
        """The events of each case, in seq order (cases without events left out)."""
        ...

    def topic_cases(self, customer: str, until: datetime, category: str | None,
                    subcategory: str | None, product: str | None) -> list[CaseRecord]:
        """The customer's cases received up to ``until`` on the topic (None: any), the
        earliest first."""
        ...

    def count_customer(self, customer: str, after: datetime, until: datetime) -> int:
        """The customer's cases received in ``(after, until]``."""
        ...

    def count_team(self, team: str, category: str, subcategories: Sequence[str],
                   since: datetime, until: datetime) -> int:
        """Cases owned by ``team`` of ``category`` and one of ``subcategories``, received in
        ``[since, until]``."""
        ...

    def cases_between(self, start: datetime, end: datetime, chunk: int,
                      deadlines_only: bool = False) -> Iterator[list[CaseRecord]]:
        """Cases received in ``[start, end)``, in receipt order, ``chunk`` at a time;
        ``deadlines_only``: the decision read as ``{"deadlines": [...]}`` only."""
        ...

    def marked_between(self, start: datetime, end: datetime, chunk: int
                       ) -> Iterator[list[MarkedCase]]:
        """Cases received in ``[start, end)`` as ``MarkedCase``s (their decisions and
        events not read), in receipt order, ``chunk`` at a time."""
        ...

    def load_cases(self, case_ids: Sequence[str]) -> dict[str, CaseRecord]:
        """The stored records of ``case_ids`` by id (unknown ids left out)."""
        ...

    def event_count(self) -> int:
        ...

    def close(self) -> None:
        ...
