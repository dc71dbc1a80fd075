"""Case events: what staff and customers did to a case, checked before it is stored.

A ``CaseEvent`` is frozen; its time must be aware (stored as UTC), its kind one of
``EVENT_KINDS``, and a satisfaction score (only on ``follow_up_done``) is normalised to
1-5 with one of three labels, so that every store holds the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from .._frozen import positional_builder
from ..errors import HistoryError, did_you_mean
from ..status import Event, EventKind

CaseEventKind = Literal["received", "accepted", "assigned", "contacted", "answered",
                        "answer_rejected", "paused", "resumed", "resolved", "follow_up_done",
                        "reopened"]
EVENT_KINDS: tuple[str, ...] = get_args(CaseEventKind)

#: The ``triage.status`` event each kind becomes (``received``/``assigned``: none).
STATUS_KINDS: Mapping[str, EventKind] = {
    "accepted": "acknowledged", "contacted": "contacted", "answered": "answered",
    "answer_rejected": "customer_rejected", "paused": "paused", "resumed": "resumed",
    "resolved": "resolved", "reopened": "reopened", "follow_up_done": "followed_up",
}

SatisfactionLabel = Literal["满意", "基本满意", "不满意"]
#: Words a follow-up may record, with the score each stands for (Traditional forms too).
SATISFACTION_WORDS: Mapping[str, int] = {
    "非常满意": 5, "满意": 5, "基本满意": 3, "一般": 3, "不满意": 1, "非常不满意": 1,
    "非常滿意": 5, "滿意": 5, "基本滿意": 3, "不滿意": 1, "非常不滿意": 1,
}


def satisfaction_label(score: int) -> SatisfactionLabel:
    """The label of a 1-5 score: 4-5 满意, 3 基本满意, 1-2 不满意."""
    if score >= 4:
        return "满意"
    return "基本满意" if score == 3 else "不满意"


def normalise_satisfaction(value: int | str | None) -> int | None:
    """A satisfaction given as 1-5 (or its digit) or a word, as the 1-5 score.

    Raises ``HistoryError`` for anything else: a wrong score would skew the
    satisfaction KPI silently.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise HistoryError(f"satisfaction {value!r} is not a score",
                           "give 1-5 or one of 满意, 基本满意, 不满意")
    if isinstance(value, str):
        word = value.strip()
        if word in SATISFACTION_WORDS:
            return SATISFACTION_WORDS[word]
        if word.isdigit() and word.isascii():
            value = int(word)
        else:
            raise HistoryError(f"unknown satisfaction {value!r}",
                               did_you_mean(word, SATISFACTION_WORDS)
                               or "give 1-5 or one of 满意, 基本满意, 不满意")
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise HistoryError(f"satisfaction {value!r} is out of range",
                           "scores run from 1 (不满意) to 5 (满意)")
    return value


def utc(moment: object, what: str) -> datetime:
    """``moment`` as an aware UTC datetime, or ``HistoryError`` (naive or not a time)."""
    if not isinstance(moment, datetime):
        raise HistoryError(f"{what} must be a datetime, not {type(moment).__name__}",
                           "pass datetime(..., tzinfo=ZoneInfo('Asia/Shanghai'))")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise HistoryError(f"{what} {moment.isoformat()} has no time zone",
                           "pass an aware datetime, e.g. tzinfo=ZoneInfo('Asia/Shanghai'): "
                           "a naive time could be read in the wrong zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One thing that happened to a case. ``seq`` is set by the store (None before).

    ``level`` is the escalation level an ``assigned`` event hands the case to (0 the
    owner, ``n`` the ``n``-th role of the decision's escalation chain); ``milestone`` is
    passed on to ``triage.status``.
    """

    case_id: str
    kind: CaseEventKind
    at: datetime
    actor: str | None = None
    policy_version: str | None = None
    satisfaction: int | None = None
    note: str | None = None
    milestone: str | None = None
    level: int | None = None
    seq: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.case_id, str) or not self.case_id:
            raise HistoryError(f"case_id {self.case_id!r} is not a case id",
                               "use the id record_decision returned")
        if self.kind not in EVENT_KINDS:
            raise HistoryError(f"unknown event kind {self.kind!r}",
                               did_you_mean(str(self.kind), EVENT_KINDS)
                               or "kinds: " + ", ".join(EVENT_KINDS))
        object.__setattr__(self, "at", utc(self.at, f"event {self.kind!r} time"))
        score = normalise_satisfaction(self.satisfaction)
        if score is not None and self.kind != "follow_up_done":
            raise HistoryError(f"a {self.kind!r} event carries a satisfaction",
                               "satisfaction belongs to the 'follow_up_done' event")
        object.__setattr__(self, "satisfaction", score)
        if self.level is not None and (
                self.kind != "assigned" or isinstance(self.level, bool)
                or not isinstance(self.level, int) or self.level < 0):
            raise HistoryError(f"level {self.level!r} on a {self.kind!r} event",
                               "a level (0 the owner, n the n-th escalation role) belongs "
                               "to an 'assigned' event")
        for name in ("actor", "policy_version", "note", "milestone"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise HistoryError(f"event {name} {value!r} is not text",
                                   f"pass {name} as a str or None")
        if self.seq is not None and (isinstance(self.seq, bool) or
                                     not isinstance(self.seq, int)):
            raise HistoryError(f"seq {self.seq!r} is not a number",
                               "leave seq out: the store numbers events")

    @property
    def satisfaction_label(self) -> SatisfactionLabel | None:
        """满意, 基本满意 or 不满意 for the score, None without one."""
        return None if self.satisfaction is None else satisfaction_label(self.satisfaction)

    def to_status_event(self) -> Event | None:
        """The ``triage.status.Event`` this event is, None when it meets nothing there."""
        kind = STATUS_KINDS.get(self.kind)
        if kind is None:
            return None
        return Event(kind, self.at, self.milestone, self.note)


#: ``CaseEvent`` from its 10 field values, unchecked: for rows the store wrote after
#: checking them (reading a month of events back is ten times faster).
stored_event = positional_builder(CaseEvent)
