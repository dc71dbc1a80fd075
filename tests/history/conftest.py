"""Stores for the history tests: each test gets a fresh one of each backend.

SQLite lives in the test's tmp_path. PostgreSQL runs against the server named by
``TRIAGE_TEST_POSTGRES`` (a URL), in a schema of its own that is dropped afterwards;
without the variable those tests are skipped, never faked.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import triage
from triage.history import CaseStore

SH = ZoneInfo("Asia/Shanghai")
POSTGRES_URL = os.environ.get("TRIAGE_TEST_POSTGRES")
NO_POSTGRES = ("TRIAGE_TEST_POSTGRES is not set: the PostgreSQL half of the history suite "
               "needs a server URL (postgresql://user:password@host:port/db); .ci/run sets it")

#: Where browser tests keep screenshots unless $TRIAGE_ARTIFACTS names a folder.
ROOT_ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

#: Opens another connection to the same store (for a second writer or a reopen).
Opener = Callable[[], CaseStore]


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11, year: int = 2026
       ) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def drop_schema(schema: str) -> None:
    import psycopg  # noqa: PLC0415 (only with a PostgreSQL server to test on)
    from psycopg import sql  # noqa: PLC0415

    assert POSTGRES_URL is not None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    return str(request.param)


@pytest.fixture
def location(backend: str, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """The URL and schema of the test's own empty store (the schema dropped after)."""
    if backend == "sqlite":
        yield str(tmp_path / "cases.db"), None
        return
    assert POSTGRES_URL is not None
    schema = "t_" + uuid.uuid4().hex[:16]
    yield POSTGRES_URL, schema
    drop_schema(schema)


@pytest.fixture
def opener(location: tuple[str, str | None]) -> Iterator[Opener]:
    """A function opening the test's store (each call: a new connection, closed after)."""
    url, schema = location
    opened: list[CaseStore] = []

    def open_store() -> CaseStore:
        store = CaseStore(url, schema=schema)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> Iterator[CaseStore]:
    with opener() as opened:
        yield opened


@pytest.fixture(scope="session")
def leak(default_policy: triage.Policy) -> triage.Decision:
    """A real-estate leak received Monday 23 November 2026, 10:00 (the bundled policy)."""
    return default_policy.triage({
        "id": "s1", "channel": "phone", "text": "楼上漏水到我家天花板",
        "product": {"domain": "real_estate"}, "received_at": "2026-11-23T10:00:00+08:00"})
