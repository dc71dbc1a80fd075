"""A writer process for the concurrency tests: appends batches of events to given cases.

``python _writer.py URL SCHEMA WRITER BATCHES SIZE CASES`` (SCHEMA ``-`` for none, CASES
comma-separated, BATCHES 0 for "until killed"). Every event's note is
``w<writer>-b<batch>-e<n>``; after each commit it prints ``committed <batch>``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from triage.history import CaseEvent, CaseStore

START = datetime(2026, 11, 23, 3, tzinfo=UTC)
KINDS = ("contacted", "answered", "answer_rejected", "paused", "resumed")


def main(argv: list[str]) -> int:
    url, schema, writer, batches, size, cases = argv
    number, total, per = int(writer), int(batches), int(size)
    ids = cases.split(",")
    with CaseStore(url, schema=None if schema == "-" else schema) as store:
        batch = 0
        while total == 0 or batch < total:
            store.append_many(
                CaseEvent(ids[(batch + n) % len(ids)], KINDS[n % len(KINDS)],
                          START + timedelta(seconds=n), actor=f"w{number}",
                          note=f"w{number}-b{batch}-e{n}")
                for n in range(per))
            print(f"committed {batch}", flush=True)
            batch += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
