"""The default policy against the labelled corpus: accuracy per field, with floors.

The corpus (tests/corpus/corpus.jsonl, labelling rules in tests/corpus/README.md) was
written independently of the rules. A field below its floor fails, listing the misses.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

import triage
import triage.text

from .conftest import CORPUS_DIR

CORPUS = CORPUS_DIR / "corpus.jsonl"
FLOORS = {"handling": 0.97, "category": 0.90, "severity": 0.88, "request_type": 0.92}


def load_corpus() -> list[dict[str, object]]:
    if not CORPUS.exists():
        pytest.skip("tests/corpus/corpus.jsonl is not written yet (issue 2 is open)")
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_corpus_is_large_and_varied() -> None:
    """At least 200 records, every label value present, five domains and Traditional text."""
    records = load_corpus()
    assert len(records) >= 200
    ids = [r["complaint"]["id"] for r in records]  # type: ignore[index]
    assert len(set(ids)) == len(ids)
    expected = [r["expected"] for r in records]
    assert {e["request_type"] for e in expected} == {  # type: ignore[index]
        "complaint", "repair", "inquiry", "suggestion", "challenge", "praise"}
    assert {e["severity"] for e in expected} == {  # type: ignore[index]
        "severe", "general", "incidental"}
    domains = Counter((r["complaint"].get("product") or {}).get("domain")  # type: ignore[union-attr]
                      for r in records)
    assert all(domains[d] >= 30 for d in
               ("real_estate", "auto_dealer", "electronics", "cosmetics", "manufacturing"))
    assert sum(triage.text.has_traditional(r["complaint"]["text"])  # type: ignore[index]
               for r in records) >= 15


@pytest.mark.parametrize("field", list(FLOORS))
def test_accuracy_per_field_meets_its_floor(default_policy: triage.Policy, field: str) -> None:
    """The policy's decision agrees with the label often enough, field by field."""
    records = load_corpus()
    misses = []
    for record in records:
        decision = default_policy.triage(record["complaint"])  # type: ignore[arg-type]
        want = record["expected"][field]  # type: ignore[index]
        got = getattr(decision, field)
        if got != want:
            text = record["complaint"]["text"]  # type: ignore[index]
            misses.append(f"{decision.complaint_id}: want {want}, got {got}: {text[:50]}")
    accuracy = 1 - len(misses) / len(records)
    assert accuracy >= FLOORS[field], (
        f"{field} accuracy {accuracy:.1%} < {FLOORS[field]:.0%}:\n" + "\n".join(misses))


#: Held-out sets, never used for tuning: file, and floors a little below the accuracy
#: measured untouched (tests/corpus/README.md, "Held-out sets").
HOLDOUTS = {
    "holdout.jsonl": {"handling": 0.97, "category": 0.83, "severity": 0.92,
                      "request_type": 0.86},
    "holdout2.jsonl": {"handling": 0.97, "category": 0.78, "severity": 0.86,
                       "request_type": 0.82},
}
#: Complaints (complaint, repair, challenge) of holdout2 left at category ``other``: at
#: most this share (a little above the share measured untouched).
HOLDOUT2_OTHER_CEILING = 0.05


def _held_out(name: str) -> list[dict[str, object]]:
    path = CORPUS.parent / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.mark.parametrize(("name", "field"), [(n, f) for n, floors in HOLDOUTS.items()
                                              for f in floors])
def test_held_out_accuracy_does_not_regress(default_policy: triage.Policy, name: str,
                                            field: str) -> None:
    """On records never used for tuning, accuracy stays at least where it was measured."""
    records = _held_out(name)
    assert len(records) >= 100
    hits = sum(getattr(default_policy.triage(r["complaint"]), field) == r["expected"][field]
               for r in records)
    accuracy = hits / len(records)
    floor = HOLDOUTS[name][field]
    assert accuracy >= floor, (
        f"{name} {field} accuracy {accuracy:.1%} < {floor:.0%}: the change generalises "
        "worse; rethink it rather than fitting the held-out records")


#: The tuning sets written blind (tuned on): floors a little below their figures in
#: tests/corpus/README.md, so that a rule change that loses what it gained is noticed.
TUNING_FLOORS = {
    "tuning2.jsonl": {"handling": 0.97, "category": 0.82, "severity": 0.88, "request_type": 0.87},
    "tuning3.jsonl": {"handling": 0.97, "category": 0.82, "severity": 0.89, "request_type": 0.88},
    "tuning4.jsonl": {"handling": 0.97, "category": 0.85, "severity": 0.92, "request_type": 0.92},
    "tuning5.jsonl": {"handling": 0.98, "category": 0.77, "severity": 0.86, "request_type": 0.82},
    "tuning6.jsonl": {"handling": 0.98, "category": 0.78, "severity": 0.87, "request_type": 0.82},
    "tuning7.jsonl": {"handling": 0.98, "category": 0.84, "severity": 0.86, "request_type": 0.88},
    "tuning8.jsonl": {"handling": 0.98, "category": 0.85, "severity": 0.89, "request_type": 0.92},
    "tuning9.jsonl": {"handling": 0.98, "category": 0.84, "severity": 0.90, "request_type": 0.91},
}


@pytest.mark.parametrize(("name", "field"), [(n, f) for n, floors in TUNING_FLOORS.items()
                                              for f in floors])
def test_blind_tuning_sets_do_not_regress(default_policy: triage.Policy, name: str,
                                          field: str) -> None:
    """tuning2.jsonl and tuning9.jsonl (400 each) and tuning3.jsonl to tuning8.jsonl (600
    each) keep their accuracy."""
    records = _held_out(name)
    assert len(records) >= 400
    hits = sum(getattr(default_policy.triage(r["complaint"]), field) == r["expected"][field]
               for r in records)
    assert hits / len(records) >= TUNING_FLOORS[name][field]


def test_held_out_complaints_rarely_fall_to_other(default_policy: triage.Policy) -> None:
    """Complaints, repairs and challenges of holdout2 seldom end in category ``other``."""
    records = [r for r in _held_out("holdout2.jsonl")
               if r["expected"]["request_type"] in ("complaint", "repair", "challenge")]  # type: ignore[index]
    at_other = sum(default_policy.triage(r["complaint"]).category == "other"  # type: ignore[arg-type]
                   for r in records)
    assert at_other / len(records) <= HOLDOUT2_OTHER_CEILING


def test_holdout2_is_large_and_varied() -> None:
    """At least 400 records, every domain of the issue, ~15% Traditional, long letters."""
    records = _held_out("holdout2.jsonl")
    assert len(records) >= 400
    texts = [r["complaint"]["text"] for r in records]  # type: ignore[index]
    assert len(set(texts)) == len(texts)
    assert sum(triage.text.has_traditional(t) for t in texts) >= 0.12 * len(records)
    assert sum(len(t) >= 300 for t in texts) >= 5
    domains = Counter((r["complaint"].get("product") or {}).get("domain")  # type: ignore[union-attr]
                      for r in records)
    assert all(domains[d] >= 30 for d in
               ("real_estate", "auto_dealer", "electronics", "cosmetics", "manufacturing"))
    assert domains[None] >= 100  # appliances, telecom, e-commerce, property management
