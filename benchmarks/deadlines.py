"""Micro-benchmark: one milestone computation (``compute_due``) on the default calendars.

``python benchmarks/deadlines.py [--quick]`` prints the median time of single calls for
each duration kind, on the default policy's calendars, from receipt times spread over
2026 (weekdays, weekends, nights, holidays). Target: median <= 10 µs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import triage
from triage.deadlines.durations import Duration, compute_due

CASES = (("office", "2wh"), ("office", "2wd"), ("office", "same_day"), ("quality", "7wd"),
         ("dealer", "30wm"), ("hotline", "48h"), ("dealer", "3d"))
TARGET_US = 10.0


def starts(count: int, seed: int = 0) -> list[datetime]:
    """Receipt times spread over 2026, at any minute of any day."""
    rng = random.Random(seed)
    zone = ZoneInfo("Asia/Shanghai")
    origin = datetime(2026, 1, 1, tzinfo=zone)
    return [origin + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(count)]


def median_us(calendar: object, duration: Duration, moments: list[datetime]) -> float:
    """Median over single timed calls (perf_counter_ns around each call)."""
    clock = time.perf_counter_ns
    samples = []
    for moment in moments:
        begin = clock()
        compute_due(calendar, moment, duration)  # type: ignore[arg-type]
        samples.append(clock() - begin)
    return statistics.median(samples) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    args = parser.parse_args()
    count = 2_000 if args.quick else 20_000
    calendars = triage.load_policy().calendars
    moments = starts(count)
    print(f"{count:,} receipt times over 2026; median of single calls; target <= {TARGET_US} µs")
    print("| calendar | duration | median µs |")
    print("|---|---|--:|")
    worst = 0.0
    for name, text in CASES:
        duration = Duration.parse(text)
        median_us(calendars[name], duration, moments[:200])  # warm-up
        value = median_us(calendars[name], duration, moments)
        worst = max(worst, value)
        print(f"| {name} | {text} | {value:.2f} |")
    verdict = "met" if worst <= TARGET_US else "MISSED"
    print(f"\nslowest median {worst:.2f} µs: {verdict}")


if __name__ == "__main__":
    main()
