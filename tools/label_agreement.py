"""How often a second, independent labeller agrees with a labelled corpus file, and how
the policy does on the records both labellers agree on.

    python tools/label_agreement.py tests/corpus/holdout2.jsonl \
        tests/corpus/agreement/holdout2-second-labeller.jsonl [POLICY_DIR]

The second file holds one line per record: ``id``, the four labels, ``confidence``
(sure or unsure) and ``why``, written by someone who saw neither the rules nor the first
labels. Agreement is a ceiling for what accuracy on the file can mean: the policy's
misses on records both labellers agree on are its own, not the labels'.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import triage

FIELDS = ("request_type", "category", "severity", "handling")


def main(argv: list[str]) -> None:
    with open(argv[0], encoding="utf-8") as lines:
        first = {r["complaint"]["id"]: r for r in map(json.loads, filter(str.strip, lines))}
    with open(argv[1], encoding="utf-8") as lines:
        second = [json.loads(line) for line in lines if line.strip()]
    policy = triage.load_policy(argv[2] if len(argv) > 2 else None)
    decided = {s["id"]: policy.triage(first[s["id"]]["complaint"]) for s in second}
    sure = [s for s in second if s.get("confidence") == "sure"]
    print(f"{len(second)} records labelled twice ({len(sure)} marked sure by the second)")
    print("| field | agreement | on 'sure' | policy vs first | policy vs second "
          "| policy where both agree (n) |")
    print("|---|--:|--:|--:|--:|--:|")
    for field in FIELDS:
        def same(s: dict[str, str], f: str = field) -> bool:
            return first[s["id"]]["expected"][f] == s[f]
        both = [s for s in second if same(s)]
        got = {i: getattr(d, field) for i, d in decided.items()}
        right = sum(got[s["id"]] == first[s["id"]]["expected"][field] for s in second)
        print(f"| {field} | {pct(sum(map(same, second)), len(second))} "
              f"| {pct(sum(map(same, sure)), len(sure))} "
              f"| {pct(right, len(second))} "
              f"| {pct(sum(got[s['id']] == s[field] for s in second), len(second))} "
              f"| {pct(sum(got[s['id']] == s[field] for s in both), len(both))} ({len(both)}) |")
    for field in ("request_type", "category"):
        pairs = Counter(f"{first[s['id']]['expected'][field]} -> {s[field]}" for s in second
                        if first[s["id"]]["expected"][field] != s[field])
        print(f"{field} disagreements (first -> second): "
              + ", ".join(f"{k} {n}" for k, n in pairs.most_common()))


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


if __name__ == "__main__":
    main(sys.argv[1:])
