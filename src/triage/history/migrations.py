"""The store's schema as numbered steps per backend, applied on open in one transaction.

Each store keeps the steps it has applied in ``schema_version``. Opening a store runs the
steps it lacks; a store whose version is above ``SCHEMA_VERSION`` was written by a newer
triage and is refused rather than misread. A step, once released, is never edited: a
change is a new step.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import HistoryError


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: its version, what it does, and its SQL statements."""

    version: int
    description: str
    statements: tuple[str, ...]
    #: After the statements, rewrite every case's marks from its events (``marks``).
    remark: bool = False


SQLITE: tuple[Migration, ...] = (
    Migration(1, "cases and their events", (
        """CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            customer TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            complaint_id TEXT NOT NULL,
            request_type TEXT NOT NULL,
            category TEXT NOT NULL,
            subcategory TEXT,
            product TEXT,
            domain TEXT,
            owner_team TEXT NOT NULL,
            handling TEXT NOT NULL,
            severity TEXT NOT NULL,
            flags TEXT NOT NULL,
            policy_version TEXT NOT NULL,
            decision TEXT NOT NULL
        )""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id TEXT NOT NULL REFERENCES cases (case_id),
            kind TEXT NOT NULL,
            at INTEGER NOT NULL,
            actor TEXT,
            policy_version TEXT,
            satisfaction INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
            note TEXT,
            milestone TEXT,
            level INTEGER CHECK (level >= 0)
        )""",
        "CREATE INDEX cases_customer ON cases (customer, received_at)",
        "CREATE INDEX cases_team ON cases (owner_team, category, received_at)",
        "CREATE INDEX cases_received ON cases (received_at, case_id)",
        "CREATE INDEX events_case ON events (case_id, seq)",
    )),
    Migration(2, "the channel a case came in by (KPIs group by it)", (
        "ALTER TABLE cases ADD COLUMN channel TEXT",
    )),
    Migration(3, "each case's deadlines and marks, what its events add up to (epoch "
                 "microseconds): what KPIs read", (
        """CREATE TABLE case_marks (
            case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
            deadline_plan TEXT NOT NULL,
            deadline_dues TEXT NOT NULL,
            last_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            satisfaction INTEGER,
            engaged_at INTEGER,
            met_first_response INTEGER,
            met_first_contact INTEGER,
            met_answer INTEGER,
            met_resolution INTEGER,
            met_follow_up INTEGER,
            first_answered INTEGER,
            first_contacted INTEGER,
            first_resolved INTEGER,
            pauses TEXT
        )""",
    ), remark=True),
)

POSTGRES: tuple[Migration, ...] = (
    Migration(1, "cases and their events", (
        """CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            customer TEXT NOT NULL,
            received_at TIMESTAMPTZ NOT NULL,
            complaint_id TEXT NOT NULL,
            request_type TEXT NOT NULL,
            category TEXT NOT NULL,
            subcategory TEXT,
            product TEXT,
            domain TEXT,
            owner_team TEXT NOT NULL,
            handling TEXT NOT NULL,
            severity TEXT NOT NULL,
            flags TEXT[] NOT NULL,
            policy_version TEXT NOT NULL,
            decision JSONB NOT NULL
        )""",
        """CREATE TABLE events (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (case_id),
            kind TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            actor TEXT,
            policy_version TEXT,
            satisfaction SMALLINT CHECK (satisfaction BETWEEN 1 AND 5),
            note TEXT,
            milestone TEXT,
            level INTEGER CHECK (level >= 0)
        )""",
        "CREATE INDEX cases_customer ON cases (customer, received_at)",
        "CREATE INDEX cases_team ON cases (owner_team, category, received_at)",
        "CREATE INDEX cases_received ON cases (received_at, case_id)",
        "CREATE INDEX events_case ON events (case_id, seq)",
    )),
    Migration(2, "the channel a case came in by (KPIs group by it)", (
        "ALTER TABLE cases ADD COLUMN channel TEXT",
    )),
    Migration(3, "each case's deadlines and marks, what its events add up to (epoch "
                 "microseconds): what KPIs read", (
        """CREATE TABLE case_marks (
            case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
            deadline_plan TEXT NOT NULL,
            deadline_dues TEXT NOT NULL,
            last_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            satisfaction SMALLINT,
            engaged_at BIGINT,
            met_first_response BIGINT,
            met_first_contact BIGINT,
            met_answer BIGINT,
            met_resolution BIGINT,
            met_follow_up BIGINT,
            first_answered BIGINT,
            first_contacted BIGINT,
            first_resolved BIGINT,
            pauses TEXT
        )""",
    ), remark=True),
)

#: The schema version this code writes; both backends have the same number of steps.
SCHEMA_VERSION = len(SQLITE)
assert len(POSTGRES) == SCHEMA_VERSION


def pending(steps: tuple[Migration, ...], found: int) -> tuple[Migration, ...]:
    """The steps a store at version ``found`` still needs, or ``HistoryError`` when it is
    newer than this code."""
    known = steps[-1].version if steps else 0
    if found > known:
        raise HistoryError(
            f"this store was written by a newer triage (schema {found}, this code knows "
            f"{known}): upgrade triage",
            "install the triage release that wrote it, or open a copy made by it")
    return tuple(step for step in steps if step.version > found)
