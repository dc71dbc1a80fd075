"""Serving a policy while it is being replaced: ``PolicyStore``.

A service triages through the store and reloads it when policy staff publish a change.
``reload`` builds the new policy completely (load, validate, compile, run its cases)
before it swaps the reference in one step; if anything fails, the old policy keeps
serving and the problems are returned. Each decision is made wholly by one policy, whose
version it records: ``triage`` reads the reference once.

A store can also watch its folder (``watch=seconds``): a thread compares the folder's
``fingerprint`` at each interval and reloads once a change has held still for one whole
interval, so a publish, a ``git pull`` or a deploy copying files in is picked up by every
service on the folder without a call, and a half-copied folder is never loaded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..authoring.cases import run_all
from ..decision import Decision
from ..errors import PolicyError, Problem, RecordError, TriageError
from ..policy import Policy, Record, load_policy


def fingerprint(folder: str | Path) -> str:
    """A digest of every file in the policy folder (names and bytes), hidden files and
    folders (``.workbench``, ``.git``) left out: equal digests, equal policy sources."""
    root = Path(folder)
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and d != "__pycache__")
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(dirpath) / filename
            try:
                raw = path.read_bytes()
            except OSError:  # removed while we walk: the next look sees the change
                raw = b"\0missing"
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(raw).digest())
    return digest.hexdigest()[:24]


def build_policy(path: Path | None, *, run_cases: bool = True
                 ) -> tuple[Policy | None, list[str]]:
    """Load the policy at ``path`` and, with ``run_cases``, run its cases: the policy, or
    None and the problems (formatted) that refuse it."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        return None, [p.format() for p in exc.problems]
    if run_cases:
        failures = [r.format() if isinstance(r, Problem) else r.report()
                    for r in run_all(policy, policy.path)
                    if isinstance(r, Problem) or not r.passed]
        if failures:
            return None, failures
    return policy, []


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the version now serving, and why a failed one was refused."""

    ok: bool
    version: str
    problems: tuple[str, ...] = ()


class PolicyStore:
    """Holds the live ``Policy``; ``reload`` replaces it only with a policy that works.

    ``watch``: seconds between looks at the folder for a change (None: reload only when
    called). A watching store runs a daemon thread until ``close()`` (or the end of a
    ``with`` block).
    """

    __slots__ = ("_last", "_lock", "_path", "_pending", "_policy", "_run_cases", "_seen",
                 "_stop", "_thread")

    def __init__(self, path: str | Path | None = None, *, run_cases: bool = True,
                 watch: float | None = None) -> None:
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        self._path = Path(path) if path is not None else None
        self._run_cases = run_cases
        if watch is not None and (self._path is None or not self._path.is_dir()):
            raise TriageError("watch needs a policy folder (the bundled policy never "
                              "changes)")
        if watch is not None and not watch > 0:
            raise TriageError(f"watch must be a number of seconds above 0, not {watch}")
        self._seen = self._fingerprint(self._path)
        self._pending: str | None = None
        policy, problems = build_policy(self._path, run_cases=run_cases)
        if policy is None:
            raise PolicyError([Problem(str(path), 1, 1, "cases-failed", p)
                               for p in problems])
        self._policy = policy
        self._last: ReloadResult | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if watch is not None:
            self._thread = threading.Thread(target=self._watch, args=(watch,),
                                            name="triage-policy-watch", daemon=True)
            self._thread.start()

    @property
    def policy(self) -> Policy:
        """The policy serving now."""
        return self._policy

    @property
    def version(self) -> str:
        return self._policy.version

    @property
    def run_cases(self) -> bool:
        """Whether a reload runs the policy's cases before it serves the policy."""
        return self._run_cases

    def triage(self, record: Record, *, now: datetime | None = None) -> Decision:
        """Decide ``record`` with the policy serving at the call (one version throughout)."""
        return self._policy.triage(record, now=now)

    def triage_many(self, records: Iterable[Record], *, now: datetime | None = None,
                    first_line: int = 1) -> Iterator[Decision | RecordError]:
        """Decide a batch with the policy serving when the batch starts."""
        return self._policy.triage_many(records, now=now, first_line=first_line)

    @property
    def last_reload(self) -> ReloadResult | None:
        """What the latest reload (called or watched) did; None before the first."""
        return self._last

    def reload(self, path: str | Path | None = None) -> ReloadResult:
        """Build the policy at ``path`` (default: the same place) and swap it in if it works.

        It works when it loads and, with ``run_cases``, all its ``cases/*.yaml`` pass.
        """
        with self._lock:
            target = Path(path) if path is not None else self._path
            seen = self._fingerprint(target)  # before reading: a later change is seen
            policy, problems = build_policy(target, run_cases=self._run_cases)
            self._seen, self._pending = seen, None
            if policy is None:
                result = ReloadResult(False, self._policy.version, tuple(problems))
            else:
                self._policy = policy  # one reference assignment: atomic for every reader
                self._path = target
                result = ReloadResult(True, policy.version)
            self._last = result
            return result

    def reload_if_changed(self) -> ReloadResult | None:
        """Reload when the folder changed and has stayed the same since the previous
        look (None: nothing to do). A watching store calls this at each interval."""
        now = self._fingerprint(self._path)
        if now == self._seen:
            self._pending = None
            return None
        if now != self._pending:  # still changing, or just changed: wait one interval
            self._pending = now
            return None
        return self.reload()

    def close(self) -> None:
        """Stop watching (a no-op for a store that does not watch)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> PolicyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.reload_if_changed()
            except Exception as exc:  # the old policy keeps serving
                self._last = ReloadResult(False, self._policy.version,
                                          (f"{type(exc).__name__}: {exc}",))

    @staticmethod
    def _fingerprint(path: Path | None) -> str | None:
        return fingerprint(path) if path is not None and path.is_dir() else None
