"""Many complaints on several cores: JSON lines decided by a pool of worker processes.

Each worker has the policy once: on Linux, given a loaded ``Policy`` in a process with no
other thread, the workers are forked from it and share it as it is (no second load: about
half a second per worker for the default policy); otherwise each worker loads it from
its folder. Chunks of lines go out in order and their results, already JSON, come back in
order, so the results follow the input lines. Used by ``triage route --workers N``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from pathlib import Path

from ..complaint import blank_line
from ..decision import Decision, Detail
from ..errors import RecordError
from ..policy import HistorySource, Policy, load_policy

#: Chunks submitted ahead per worker: enough to keep every worker busy while the results
#: of the oldest are written, few enough that memory stays flat however long the input.
AHEAD = 4

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


def _start(policy: str | Policy | None) -> None:
    """The pool's initializer: the policy inherited by a fork, or loaded from its folder."""
    _worker_policy["policy"] = policy if isinstance(policy, Policy) else load_policy(policy)


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


def triage_lines(lines: Iterable[bytes], *, policy: Policy | str | Path | None = None,
                 workers: int | None = None, chunk_size: int = 500,
                 now: datetime | None = None, first_line: int = 1,
                 detail: Detail = "full") -> Iterator[tuple[bool, str]]:
    """``(is_error, json)`` for each non-blank input line, in input order; ``first_line``
    is the number of the first of ``lines`` (the rest of an input being resumed);
    ``detail`` is the form of the decisions' JSON (``Decision.to_dict``). ``policy`` is a
    loaded ``Policy`` (the workers share it when they can be forked, else load its
    folder), a folder, or None for the bundled default."""
    count = workers or os.cpu_count() or 1
    context, start = _pool_start(policy)

    def chunks() -> Iterator[tuple[int, list[bytes], datetime | None, Detail]]:
        source = iter(lines)
        first = first_line
        while batch := list(islice(source, chunk_size)):
            yield first, batch, now, detail
            first += len(batch)

    with ProcessPoolExecutor(count, mp_context=context, initializer=_start,
                             initargs=(start,)) as pool:
        # At most AHEAD chunks per worker in flight: Executor.map would submit every
        # chunk at once, holding the whole input (and the results not yet written) in
        # memory; a million complaints took 560 MB instead of 114.
        pending: deque[Future[list[tuple[bool, str]]]] = deque()
        for chunk in chunks():
            pending.append(pool.submit(_decide, chunk))
            if len(pending) >= AHEAD * count:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _pool_start(policy: Policy | str | Path | None
                ) -> tuple[multiprocessing.context.BaseContext | None, Policy | str | None]:
    """How the workers get the policy: forked with it, where forking is safe (Linux, and
    no other thread whose locks the child would inherit held), or by its folder."""
    if isinstance(policy, Policy):
        if sys.platform == "linux" and threading.active_count() == 1:
            return multiprocessing.get_context("fork"), policy
        return None, str(policy.path)
    return None, None if policy is None else str(policy)
