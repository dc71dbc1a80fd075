"""The per-complaint evaluation state: text, the words found and the outputs decided so far.

A Context is written only while its complaint is being decided; afterwards the decision's
rule hits read it to build their evidence on demand, so it must not change again.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from ..complaint import Complaint
from ..text.layout import Layout, Reading
from .keywords import Found, KeywordIndex

#: The built-in markers (a policy without ``reading:``).
DEFAULT_READING = Reading()


class Context:
    """Everything a compiled condition may look at while one complaint is evaluated."""

    __slots__ = ("_index", "_layout", "_now", "_positions", "_reading", "_received", "_source",
                 "_standing", "_tz", "all", "complaint", "flags", "folded", "found", "history",
                 "outputs", "present", "text")

    def __init__(self, complaint: Complaint, folded: str, index: KeywordIndex, found: Found,
                 tz: tzinfo, now: datetime | None, reading: Reading = DEFAULT_READING) -> None:
        self.complaint = complaint
        self.text = complaint.text
        self.folded = folded
        self.found = found
        self.present = found.present
        self.all = found.all
        self.outputs: dict[str, Any] = {}
        self.flags: frozenset[str] = frozenset()
        #: The history facts (``history.*`` fields) of a second run; None: not counted.
        self.history: Any = None
        self._index = index
        self._tz = tz
        self._now = now
        self._received: datetime | None = None
        self._source: str | None = None
        self._reading = reading
        self._layout: Layout | None = None
        self._positions: dict[tuple[int, bool], list[int]] | None = None
        self._standing: dict[int, bool] | None = None

    def layout(self) -> Layout:
        """Clauses, sentences, questions and parts of the text: laid out at first use."""
        if self._layout is None:
            self._layout = self._reading.lay_out(self.folded)
        return self._layout

    def starts(self, kid: int, negation: bool) -> list[int]:
        """Where word ``kid`` occurs; with ``negation``, only where no cue negates it. Kept
        once looked up: several positional tests often ask for the same words."""
        if self._positions is None:
            self._positions = {}
        key = (kid, negation)
        found = self._positions.get(key)
        if found is None:
            found = self._positions[key] = self._index.starts(self.folded, kid, self.found,
                                                              negation)
        return found

    def regex_stands(self, bit: int) -> bool:
        """Whether the regex of mask ``bit`` (it matched) has a match no cue negates;
        worked out at the first test that asks, then kept."""
        if self._standing is None:
            self._standing = {}
        known = self._standing.get(bit)
        if known is None:
            known = self._standing[bit] = self._index.regex_stands(self.folded, bit,
                                                                   self.found)
        return known

    def negated_at(self, start: int) -> bool:
        """True when a negation cue negates what starts at ``start`` (a regex match)."""
        return self._index.negating_cue(self.folded, start) is not None

    def received_at(self) -> datetime:
        """When the complaint was received, in the policy's zone when the record is naive.

        Without ``received_at`` or ``now`` it is the clock at first use, then kept, so that
        the evidence built later shows the value the rules saw.
        """
        if self._received is not None:
            return self._received
        value = self.complaint.received_at
        source = "record"
        if value is None:
            source = "now" if self._now is not None else "clock"
            value = self._now if self._now is not None else datetime.now(self._tz)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        self._received = value
        self._source = source
        return value

    @property
    def received_source(self) -> str | None:
        """Where the receipt time the rules used came from: ``record``, ``now`` (given by
        the caller) or ``clock``; None while nothing has used it."""
        return self._source
