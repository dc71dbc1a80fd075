"""Benchmark: the forbidden-phrase guard on long texts (it must stay linear).

``python benchmarks/guard.py [--quick]`` times ``Policy.guard`` with the default policy's
phrases on 10 KB, 100 KB and 1 MB of agents' replies (the labelled corpus's texts and
some taboo phrases, repeated) and on the worst case the issue found, ``喂`` repeated
(100,000 x took 79 s when checking was quadratic). Median of 5 runs each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import triage

ROOT = Path(__file__).resolve().parents[1]


def reply_text(size: int) -> str:
    """About ``size`` bytes of UTF-8: corpus texts with a taboo phrase now and then."""
    texts = [json.loads(line)["complaint"]["text"] for line in
             (ROOT / "tests" / "corpus" / "corpus.jsonl").read_text("utf-8").splitlines()]
    pieces, total, i = [], 0, 0
    while total < size:
        piece = texts[i % len(texts)] + ("喂，你大点声！" if i % 7 == 0 else "")
        pieces.append(piece)
        total += len(piece.encode("utf-8"))
        i += 1
    return "".join(pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per text")
    args = parser.parse_args()
    policy = triage.load_policy()
    runs = 1 if args.quick else 5
    cases = [(f"replies, {size // 1000:,} KB", reply_text(size))
             for size in (10_000, 100_000, 1_000_000)]
    cases += [(f"喂 x {n:,}", "喂" * n) for n in (10_000, 100_000, 1_000_000)]
    print("| text | characters | findings | median ms |")
    print("|---|--:|--:|--:|")
    for name, text in cases:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            found = policy.guard(text)
            times.append((time.perf_counter() - start) * 1000)
        print(f"| {name} | {len(text):,} | {len(found):,} | {statistics.median(times):,.1f} |")


if __name__ == "__main__":
    main()
