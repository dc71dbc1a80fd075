"""Diagnosis: where one complaint's time goes, step by step (reads engine internals).

``python benchmarks/breakdown.py [POLICY_DIR]`` times fold, word finding, the context,
the generated program and the whole ``triage`` call over 5,000 pre-validated synthetic
complaints (minimum of 9 passes, µs per complaint, cumulative), and a skeleton doing only
what any design must (fold, one RE2 pass, a Decision): the floor. Without a directory it
measures the default policy without ``deadlines.yaml`` and ``scripts.yaml``
(classification and owner only).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from run import default_policy_without
from synthetic import generate

import triage
from triage.decision import Decision, Explanation, RoleRef, new_decision
from triage.engine.context import Context
from triage.text.folding import fold


def per_call_us(work: Callable[[Any], Any], items: list[Any], passes: int = 9) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, (time.perf_counter() - start) / len(items) * 1e6)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if len(sys.argv) > 1:
            path = Path(sys.argv[1])
        else:
            path = default_policy_without(Path(tmp), "deadlines.yaml", "scripts.yaml")
        policy = triage.load_policy(path)
    complaints = [triage.Complaint.model_validate(r) for r in generate(5_000, seed=0)]
    index, zone, program = policy._index, policy.timezone, policy._program

    def context(c: triage.Complaint) -> Context:
        folded = fold(c.text)
        return Context(c, folded, index, index.find(folded), zone, None)

    steps: list[tuple[str, Callable[[Any], Any]]] = [
        ("fold the text", lambda c: fold(c.text)),
        ("+ UTF-8 for RE2", lambda c: fold(c.text).encode()),
        ("+ find the words, negation, regexes", lambda c: index.find(fold(c.text))),
        ("+ evaluation context", context),
        ("+ generated program", lambda c: program(context(c), c.request_type is not None)),
        ("+ owner chain, decision (= triage)", policy.triage),
    ]
    print(f"{policy.rule_count} rules; µs per complaint, cumulative")
    previous = 0.0
    for label, work in steps:
        value = per_call_us(work, complaints)
        print(f"| {label} | {value:.1f} | {value - previous:.1f} |")
        previous = value
    print(f"| skeleton: fold, one RE2 pass, a Decision, no rules | "
          f"{per_call_us(skeleton(policy), complaints):.1f} | |")


def skeleton(policy: triage.Policy) -> Callable[[triage.Complaint], Decision]:
    """The least a design that reads the text in one RE2 pass and returns a Decision pays:
    fold, encode, match every word at once, collect the ids, build the record."""
    matcher = policy._index._set
    owner = RoleRef("agent", "客服专员")
    nothing = Explanation(())
    no_scores: Mapping[str, Any] = MappingProxyType({})

    def decide(c: triage.Complaint) -> Decision:
        found = frozenset(matcher(fold(c.text).encode()) or ())  # what rules would read
        category = "service" if found else "other"
        return new_decision(c.id, "complaint", "general", category, None, "general",
                            (), owner, (owner,), nothing, policy.version, (), None, (),
                            None, None, no_scores, None)

    return decide


if __name__ == "__main__":
    main()
