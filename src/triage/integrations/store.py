"""Serving a policy while it is being replaced: ``PolicyStore``.

A service triages through the store and reloads it when policy staff publish a change.
``reload`` builds the new policy completely (load, validate, compile, run its cases)
before it swaps the reference in one step; if anything fails, the old policy keeps
serving and the problems are returned. Each decision is made wholly by one policy, whose
version it records: ``triage`` reads the reference once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..authoring.cases import run_all
from ..decision import Decision
from ..errors import PolicyError, Problem, RecordError
from ..policy import Policy, Record, load_policy


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the version now serving, and why a failed one was refused."""

    ok: bool
    version: str
    problems: tuple[str, ...] = ()


class PolicyStore:
    """Holds the live ``Policy``; ``reload`` replaces it only with a policy that works."""

    __slots__ = ("_lock", "_path", "_policy", "_run_cases")

    def __init__(self, path: str | Path | None = None, *, run_cases: bool = True) -> None:
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        self._path = Path(path) if path is not None else None
        self._run_cases = run_cases
        policy, problems = self._build(self._path)
        if policy is None:
            raise PolicyError([Problem(str(path), 1, 1, "cases-failed", p)
                               for p in problems])
        self._policy = policy

    @property
    def policy(self) -> Policy:
        """The policy serving now."""
        return self._policy

    @property
    def version(self) -> str:
        return self._policy.version

    def triage(self, record: Record, *, now: datetime | None = None) -> Decision:
        """Decide ``record`` with the policy serving at the call (one version throughout)."""
        return self._policy.triage(record, now=now)

    def triage_many(self, records: Iterable[Record], *, now: datetime | None = None,
                    first_line: int = 1) -> Iterator[Decision | RecordError]:
        """Decide a batch with the policy serving when the batch starts."""
        return self._policy.triage_many(records, now=now, first_line=first_line)

    def reload(self, path: str | Path | None = None) -> ReloadResult:
        """Build the policy at ``path`` (default: the same place) and swap it in if it works.

        It works when it loads and, with ``run_cases``, all its ``cases/*.yaml`` pass.
        """
        with self._lock:
            target = Path(path) if path is not None else self._path
            policy, problems = self._build(target)
            if policy is None:
                return ReloadResult(False, self._policy.version, tuple(problems))
            self._policy = policy  # one reference assignment: atomic for every reader
            self._path = target
            return ReloadResult(True, policy.version)

    def _build(self, path: Path | None) -> tuple[Policy | None, list[str]]:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            return None, [p.format() for p in exc.problems]
        if self._run_cases:
            failures = [r.format() if isinstance(r, Problem) else r.report()
                        for r in run_all(policy, policy.path)
                        if isinstance(r, Problem) or not r.passed]
            if failures:
                return None, failures
        return policy, []
