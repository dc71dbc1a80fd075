"""Hostile sizes: how decision time grows with text length, and evil regexes on long text.

``python benchmarks/long_text.py [--quick]`` decides one complaint whose text is 10 KB to
10 million characters (the default policy, limit raised), through ``Policy.triage`` and
through a JSON line (``triage_many``), and runs classic catastrophic-backtracking regexes
on a million characters. Prints the median of a few runs per size, time per million
characters, and the ratio to the smallest size's per-character time (1.0 = linear).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import triage

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
UNIT = "客服态度太差，漏水一直没人管，不是质量问题吗？我要投诉到12315。"
EVIL = ["(a+)+$", "(x|x)*y", "(a|aa)*b", "(a*)*b", "((a+)+)+c", "(.*a){12}z"]


def median_time(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def text_of(size: int) -> str:
    return (UNIT * (size // len(UNIT) + 1))[:size]


def sizes_table(sizes: list[int], repeats: int) -> None:
    policy = triage.load_policy(max_text_length=max(sizes))
    print(f"{'characters':>12} {'UTF-8 MB':>9} {'triage':>9} {'JSON line':>10} "
          f"{'ms per M chars':>15} {'vs smallest':>12}")
    base = None
    for size in sizes:
        record = {"id": "long", "channel": "web", "text": text_of(size)}
        line = json.dumps(record, ensure_ascii=False)
        direct = median_time(lambda: policy.triage(record, now=NOW), repeats)  # noqa: B023
        via_line = median_time(lambda: list(policy.triage_many([line], now=NOW)),  # noqa: B023
                               repeats)
        per_million = direct / size * 1e6 * 1e3
        base = base or per_million
        print(f"{size:>12,} {len(line.encode()) / 1e6:>9.1f} {direct:>8.3f}s {via_line:>9.3f}s "
              f"{per_million:>15.0f} {per_million / base:>12.2f}")


def evil_table(size: int, repeats: int) -> None:
    minimal = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "minimal"
    base_text = (minimal / "policy.yaml").read_text(encoding="utf-8")
    print(f"\nevil regexes on {size:,} characters (RE2, linear): median seconds")
    for pattern in EVIL:
        rule = (f"      - id: cat.evil\n        priority: 30\n        when: {{regex: '{pattern}'}}"
                "\n        set: {category: service}\n")
        text = base_text.replace("  category:\n    default: other\n    rules:\n",
                                 "  category:\n    default: other\n    rules:\n" + rule)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "policy.yaml").write_text(text, encoding="utf-8")
            policy = triage.load_policy(folder, max_text_length=size)
        record = {"id": "e", "channel": "web", "text": "a" * (size - 1) + "!"}
        seconds = median_time(lambda: policy.triage(record, now=NOW), repeats)  # noqa: B023
        print(f"  {pattern:<14} {seconds:.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="up to 1 million characters")
    args = parser.parse_args()
    sizes = [10_000, 100_000, 1_000_000] + ([] if args.quick else [10_000_000])
    repeats = 3
    print(f"Python {sys.version.split()[0]}, default policy; median of {repeats} runs")
    sizes_table(sizes, repeats)
    evil_table(1_000_000, repeats)


if __name__ == "__main__":
    main()
