"""Accuracy of a policy on a labelled corpus file, per field, domain and request type.

    python tools/measure_corpus.py tests/corpus/holdout2.jsonl [POLICY_DIR] [-v]

Prints accuracy per field and the share of complaints (complaint, repair, challenge)
left at category ``other``; ``-v`` adds the figures per domain and per request type and
the confusion matrices of request type and category. Held-out sets are measured with
it, never tuned on (tests/corpus/README.md).
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

import triage

FIELDS = ("request_type", "category", "severity", "handling")


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("-")]
    policy = triage.load_policy(args[1] if len(args) > 1 else None)
    with open(args[0], encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    ok: Counter[str] = Counter()
    confusion = {f: Counter[tuple[str, str]]() for f in FIELDS}
    by: dict[str, defaultdict[str, Counter[str]]] = {
        "domain": defaultdict(Counter), "request type": defaultdict(Counter)}
    complaints = at_other = 0
    for record in records:
        decision = policy.triage(record["complaint"])
        want = record["expected"]
        domain = (record["complaint"].get("product") or {}).get("domain") or "none"
        groups = {"domain": domain, "request type": want["request_type"]}
        for name, key in groups.items():
            by[name][key]["n"] += 1
        for field in FIELDS:
            got = getattr(decision, field)
            ok[field] += got == want[field]
            confusion[field][want[field], got] += 1
            for name, key in groups.items():
                by[name][key][field] += got == want[field]
        if want["request_type"] in ("complaint", "repair", "challenge"):
            complaints += 1
            at_other += decision.category == "other"
    n = len(records)
    print(f"n={n}", " ".join(f"{f}={ok[f] / n:.1%}" for f in FIELDS),
          f"complaints-at-other={at_other / max(complaints, 1):.1%} ({at_other}/{complaints})")
    if "-v" not in argv:
        return
    for name, table in by.items():
        print(f"by {name}:")
        for key, c in sorted(table.items()):
            print(f"  {key:15s} n={c['n']:3d} "
                  + " ".join(f"{f}={c[f] / c['n']:.0%}" for f in FIELDS))
    for field in ("request_type", "category"):
        labels = sorted({a for a, _ in confusion[field]} | {b for _, b in confusion[field]})
        print(f"confusion of {field} (rows: label, columns: decided)")
        print("  " + " " * 15 + " ".join(f"{label[:9]:>9s}" for label in labels))
        for a in labels:
            print(f"  {a[:15]:15s}" + " ".join(f"{confusion[field][a, b]:9d}" for b in labels))


if __name__ == "__main__":
    main(sys.argv[1:])
