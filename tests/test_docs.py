"""The documentation's examples stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import triage

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_policy_language_example_loads_and_decides(tmp_path: Path) -> None:
    """The complete policy in docs/policy-language.md loads cleanly and works as described."""
    text = (DOCS / "policy-language.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match is not None
    (tmp_path / "policy.yaml").write_text(match.group(1), encoding="utf-8")
    policy = triage.load_policy(tmp_path)
    assert policy.warnings == ()
    decision = policy.triage({"id": "1", "channel": "phone", "text": "燃气泄漏，还漏水"})
    assert (decision.severity, decision.category, decision.flags) == (
        "severe", "product_quality", ("safety",))
