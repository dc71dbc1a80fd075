"""Real writer processes on one store, both backends: nothing lost, nothing doubled, and a
writer killed mid-batch loses only that batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

import triage
from triage.history import CaseStore
from triage.history.marks import marks_of

from .conftest import Opener

WRITER = Path(__file__).with_name("_writer.py")


def _writer(location: tuple[str, str | None], number: int, batches: int, size: int,
            cases: list[str], url: str | None = None) -> subprocess.Popen[str]:
    store_url, schema = location
    return subprocess.Popen(
        [sys.executable, str(WRITER), url or store_url, schema or "-", str(number),
         str(batches), str(size), ",".join(cases)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _marks_are_a_fold(store: CaseStore, cases: list[str]) -> bool:
    """Whether every case's stored marks equal the marks of all its events."""
    marked = {m.case_id: m.marks for m in store.marked_between(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))}
    return all(marked[c] is not None and marked[c][:7] == marks_of(store.events(c))[:7]
               for c in cases)


def _notes(store: CaseStore, cases: list[str]) -> list[tuple[int, str]]:
    """(seq, note) of every event the writers appended, in seq order."""
    found = [(e.seq or 0, e.note or "") for c in cases for e in store.events(c)
             if e.kind != "received"]
    return sorted(found)


def test_eight_writers_lose_and_double_nothing(location: tuple[str, str | None],
                                               opener: Opener,
                                               leak: triage.Decision) -> None:
    """8 processes append 5 batches of 200 events each to the same 4 cases: 8,000 events
    come out, each once; seqs are unique, and each batch holds consecutive seqs."""
    cases = [f"shared-{n}" for n in range(4)]
    with opener() as store:
        for case_id in cases:
            store.record_decision(leak, customer="c", case_id=case_id)
    writers = [_writer(location, n, 5, 200, cases) for n in range(8)]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    with opener() as store:
        notes = _notes(store, cases)
        assert store.event_count() == 8 * 5 * 200 + len(cases)
        assert _marks_are_a_fold(store, cases)
    assert len(notes) == 8000 and len({n for _, n in notes}) == 8000
    assert len({s for s, _ in notes}) == 8000
    batches: dict[str, list[int]] = defaultdict(list)
    for seq, note in notes:
        batches[note.rsplit("-", 1)[0]].append(seq)
    assert len(batches) == 40
    for seqs in batches.values():
        assert seqs == list(range(seqs[0], seqs[0] + 200))


def _lines(process: subprocess.Popen[str], into: list[str]) -> threading.Thread:
    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            into.append(line.strip())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _in_sqlite_write(path: str) -> bool:
    """True while another connection holds the SQLite write lock."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _in_postgres_insert(url: str, name: str) -> bool:
    """True while the session called ``name`` runs its batch insert."""
    import psycopg  # noqa: PLC0415 (only with a PostgreSQL server)

    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND state = 'active' AND query LIKE 'INSERT INTO events%%'", (name,)).fetchone()
    return bool(row and row[0])


def test_a_writer_killed_mid_batch_loses_only_that_batch(
        backend: str, location: tuple[str, str | None], opener: Opener,
        leak: triage.Decision) -> None:
    """SIGKILL while a batch is being written: every batch is whole or absent, at most the
    one in flight is missing, and the store opens, is consistent and takes more events."""
    cases = ["k1", "k2"]
    size = 20_000
    with opener() as store:
        for case_id in cases:
            store.record_decision(leak, customer="c", case_id=case_id)
    url, _ = location
    name = f"victim-{os.getpid()}"
    victim_url = url + ("&" if "?" in url else "?") + f"application_name={name}" \
        if backend == "postgresql" else None
    victim = _writer(location, 0, 0, size, cases, url=victim_url)
    said: list[str] = []
    reader = _lines(victim, said)
    deadline = time.monotonic() + 120
    while not said and time.monotonic() < deadline and victim.poll() is None:
        time.sleep(0.01)
    assert said, "the writer committed nothing"
    caught = False
    while time.monotonic() < deadline:
        busy = (_in_sqlite_write(url) if backend == "sqlite"
                else _in_postgres_insert(url, name))
        if busy:
            caught = True
            break
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    reader.join(timeout=10)
    for pipe in (victim.stdout, victim.stderr):
        if pipe is not None:
            pipe.close()
    assert caught, "the writer was never seen inside a batch"
    reported = sum(1 for line in said if line.startswith("committed"))

    if backend == "sqlite":
        with sqlite3.connect(url) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
    with opener() as store:
        notes = _notes(store, cases)
        counts: dict[str, int] = defaultdict(int)
        for _, note in notes:
            counts[note.rsplit("-", 1)[0]] += 1
        stored = sorted(int(b.split("-b")[1]) for b in counts)
        assert stored == list(range(len(stored)))
        assert reported <= len(stored) <= reported + 1
        assert all(n == size for n in counts.values())
        assert len({s for s, _ in notes}) == len(notes)
        assert _marks_are_a_fold(store, cases)
    after = _writer(location, 1, 1, 100, cases)
    _, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    with opener() as store:
        assert store.event_count() == len(stored) * size + 100 + len(cases)
        assert _marks_are_a_fold(store, cases)


@pytest.mark.parametrize("rounds", [1])
def test_readers_see_whole_batches_while_writers_write(
        location: tuple[str, str | None], opener: Opener, leak: triage.Decision,
        rounds: int) -> None:
    """A reader polling during appends only ever sees whole batches."""
    cases = ["r1"]
    with opener() as store:
        store.record_decision(leak, customer="c", case_id="r1")
    writers = [_writer(location, n, 4, 500, cases) for n in range(2)]
    with opener() as reader:
        while any(w.poll() is None for w in writers):
            seen = reader.event_count() - 1
            assert seen % 500 == 0, seen
            time.sleep(0.01)
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
