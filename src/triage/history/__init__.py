"""Case history: decisions recorded as cases, their append-only events, and what a
customer's history says about a new complaint.

Owns the case store (``store``: ``CaseStore``, with the ``sqlite`` and ``postgres``
backends behind the ``backend`` interface), case events (``events``), the state a case's
events derive (``case``), history facts for rules (``facts``), the schema steps
(``migrations``), each case's marks, what its events add up to (``marks``), monthly KPIs
(``kpi``), the HTML report (``report``) and a seeded demo
month (``simulate``, which takes its decisions from the caller). May import ``status``,
``decision``, ``errors`` (with ``_frozen``) and ``deadlines``; never the policy
language, the engine or the CLI. psycopg is imported only when a PostgreSQL store is
opened.
"""

from ..errors import HistoryError
from .case import Case, CaseRecord, CaseState
from .events import (
    EVENT_KINDS,
    STATUS_KINDS,
    CaseEvent,
    CaseEventKind,
    normalise_satisfaction,
    satisfaction_label,
)
from .facts import TEAM_SUBCATEGORIES, HistoryFacts
from .marks import MarkedCase, Marks
from .migrations import SCHEMA_VERSION
from .store import CaseStore

__all__ = [
    "EVENT_KINDS",
    "SCHEMA_VERSION",
    "STATUS_KINDS",
    "TEAM_SUBCATEGORIES",
    "Case",
    "CaseEvent",
    "CaseEventKind",
    "CaseRecord",
    "CaseState",
    "CaseStore",
    "HistoryError",
    "HistoryFacts",
    "MarkedCase",
    "Marks",
    "normalise_satisfaction",
    "satisfaction_label",
]
