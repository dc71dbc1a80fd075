"""Many complaints on several cores: JSON lines decided by a pool of worker processes.

Each worker loads the policy once; chunks of lines go out in order and their results come
back in order, so the results follow the input lines. Used by ``triage route --workers N``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from pathlib import Path

from ..complaint import blank_line
from ..decision import Decision, Detail
from ..errors import RecordError
from ..policy import HistorySource, Policy, load_policy

#: The worker process's policy, set once by the pool's initializer (one per process).
_worker_policy: dict[str, Policy] = {}


def decide_line(policy: Policy, number: int, raw: bytes, now: datetime | None = None,
                history: HistorySource | None = None) -> Decision | RecordError | None:
    """One input line of JSON: its decision, an error record, or None for a blank line."""
    if blank_line(raw):
        return None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RecordError(number, "invalid-encoding",
                           f"line is not valid UTF-8 (byte {exc.start}: 0x{raw[exc.start]:02x})"
                           + _encoding_hint(raw))
    return next(iter(policy.triage_many([line], now=now, first_line=number, history=history)))


def _encoding_hint(raw: bytes) -> str:
    """What the bytes look like instead, for the encodings Chinese text files come in."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw.count(b"\x00") > len(raw) // 4:
        return "; it looks like UTF-16: save the file as UTF-8"
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        return ""
    return "; it reads as GBK/GB18030: convert the file to UTF-8 (iconv -f GB18030 -t UTF-8)"


def _start(path: str | None) -> None:
    _worker_policy["policy"] = load_policy(path)


def _decide(chunk: tuple[int, list[bytes], datetime | None, Detail]
            ) -> list[tuple[bool, str]]:
    first, lines, now, detail = chunk
    policy = _worker_policy["policy"]
    out = []
    for number, raw in enumerate(lines, start=first):
        result = decide_line(policy, number, raw, now)
        if isinstance(result, RecordError):
            out.append((True, result.to_json()))
        elif result is not None:
            out.append((False, result.to_json(detail=detail)))
    return out


def triage_lines(lines: Iterable[bytes], *, policy: str | Path | None = None,
                 workers: int | None = None, chunk_size: int = 500,
                 now: datetime | None = None, first_line: int = 1,
                 detail: Detail = "full") -> Iterator[tuple[bool, str]]:
    """``(is_error, json)`` for each non-blank input line, in input order; ``first_line``
    is the number of the first of ``lines`` (the rest of an input being resumed);
    ``detail`` is the form of the decisions' JSON (``Decision.to_dict``)."""
    count = workers or os.cpu_count() or 1
    path = None if policy is None else str(policy)

    def chunks() -> Iterator[tuple[int, list[bytes], datetime | None, Detail]]:
        source = iter(lines)
        first = first_line
        while batch := list(islice(source, chunk_size)):
            yield first, batch, now, detail
            first += len(batch)

    with ProcessPoolExecutor(count, initializer=_start, initargs=(path,)) as pool:
        for results in pool.map(_decide, chunks()):
            yield from results
