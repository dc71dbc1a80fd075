"""Escalation triggers: the rules that raise a case's escalation level as time passes.

The policy language compiles ``escalation.yaml`` into these; ``Policy.status`` evaluates
them against a case's milestones (``triage.status``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .durations import Duration

#: Units a ``breached_by`` may use: overdue time is working time for deadlines counted in
#: working time, elapsed time for the others, so only lengths of time make sense here.
OVERDUE_UNITS = frozenset({"m", "h", "d", "wm", "wh"})


@dataclass(frozen=True, slots=True)
class EscalationTrigger:
    """A policy rule raising the escalation level when its condition holds."""

    id: str
    levels: int
    breached: str | None = None
    breached_by: Duration | None = None
    milestone: str | None = None
    rejections: int | None = None
    severity: str | None = None
    description: str | None = None
