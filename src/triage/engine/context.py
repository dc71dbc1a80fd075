"""The per-complaint evaluation state: text, keyword hits and the outputs decided so far."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from ..complaint import Complaint


class Context:
    """Everything a compiled condition may look at while one complaint is evaluated."""

    __slots__ = ("_now", "_tz", "all_hits", "complaint", "flags", "folded", "hits", "outputs",
                 "text")

    def __init__(self, complaint: Complaint, folded: str, hits: dict[int, list[int]],
                 all_hits: dict[int, list[int]], tz: tzinfo, now: datetime | None) -> None:
        self.complaint = complaint
        self.text = complaint.text
        self.folded = folded
        self.hits = hits
        self.all_hits = all_hits
        self.outputs: dict[str, Any] = {}
        self.flags: frozenset[str] = frozenset()
        self._tz = tz
        self._now = now

    def received_at(self) -> datetime:
        """When the complaint was received, in the policy's zone when the record is naive."""
        value = self.complaint.received_at
        if value is None:
            value = self._now if self._now is not None else datetime.now(self._tz)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value
