"""The hypothesis strategies that triage offers its users."""

from __future__ import annotations

from hypothesis import given, settings

import triage
from triage.testing import complaints

DEFAULT = triage.load_policy()


@settings(max_examples=150, deadline=None)
@given(complaints(DEFAULT))
def test_generated_complaints_are_decided_with_owner_and_reply(
        complaint: triage.Complaint) -> None:
    """Every generated complaint is valid and gets an owner, a reply and deadlines."""
    decision = DEFAULT.triage(complaint)
    assert decision.owner.role and decision.reply is not None and decision.deadlines
    assert DEFAULT.guard(decision.reply.text) == []
