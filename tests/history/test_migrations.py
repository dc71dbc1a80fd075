"""Schema steps: applied once on open, recorded, and a newer store refused."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from triage.history import SCHEMA_VERSION, CaseStore, HistoryError
from triage.history.migrations import POSTGRES, SQLITE, pending

from .conftest import NO_POSTGRES, POSTGRES_URL, Opener, drop_schema


def test_both_backends_have_the_same_numbered_steps() -> None:
    """Steps are numbered 1, 2, ... with the same descriptions on both backends."""
    assert [m.version for m in SQLITE] == list(range(1, SCHEMA_VERSION + 1))
    assert [m.description for m in SQLITE] == [m.description for m in POSTGRES]


def test_a_new_store_is_at_the_current_version_and_reopening_changes_nothing(
        opener: Opener) -> None:
    """Opening twice applies the steps once."""
    with opener() as store:
        assert store.schema_version == SCHEMA_VERSION
    with opener() as store:
        assert store.schema_version == SCHEMA_VERSION


def test_pending_lists_the_missing_steps() -> None:
    """A store at version 0 needs every step, one at the current version none."""
    assert pending(SQLITE, 0) == SQLITE
    assert pending(SQLITE, SCHEMA_VERSION) == ()


NEWER = (f"this store was written by a newer triage \\(schema {SCHEMA_VERSION + 1}, this "
         f"code knows {SCHEMA_VERSION}\\): upgrade triage")


def test_a_sqlite_store_from_a_newer_triage_is_refused(tmp_path: Path) -> None:
    """A schema version above this code's is refused, and the store is left untouched."""
    path = tmp_path / "cases.db"
    CaseStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                   (SCHEMA_VERSION + 1, "from the future", "2030-01-01T00:00:00+00:00"))
    db.close()
    with pytest.raises(HistoryError, match=NEWER):
        CaseStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] \
            == SCHEMA_VERSION + 1
    db.close()


@pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)
def test_a_postgres_store_from_a_newer_triage_is_refused() -> None:
    """The same refusal on PostgreSQL."""
    assert POSTGRES_URL is not None
    schema = "t_" + uuid.uuid4().hex[:16]
    try:
        with CaseStore(POSTGRES_URL, schema=schema) as store:
            db = store._backend._db  # type: ignore[union-attr]
            db.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                       (SCHEMA_VERSION + 1, "from the future"))
        with pytest.raises(HistoryError, match=NEWER):
            CaseStore(POSTGRES_URL, schema=schema)
    finally:
        drop_schema(schema)
