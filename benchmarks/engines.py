"""The two engines side by side: the compiled program and durable-rules.

``python benchmarks/engines.py [--count N] [--memory N]`` decides N synthetic complaints
(default 2,000, seed 0) with each engine on the default policy and on generated policies
of 20, 100 and 500 rules: complaints/s, p50 and p99 latency of ``Policy.triage`` (the
whole decision: rules, deadlines, reply), and whether every decision was identical.
``--memory N`` then decides N complaints (e.g. 100,000) on the default policy with the
durable engine and prints resident memory after 1,000 and after N: the facts are
retracted, so it should not grow.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaled_policy import write_scaled_policy
from synthetic import generate

import triage

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * 4096 / 1e6


def run(policy: triage.Policy, records: list[dict[str, object]]) -> tuple[list[str], list[float]]:
    outputs, times = [], []
    for record in records:
        start = time.perf_counter()
        decision = policy.triage(record, now=NOW)
        times.append(time.perf_counter() - start)
        outputs.append(decision.to_json())
    return outputs, times


def row(name: str, path: Path | None, records: list[dict[str, object]]) -> None:
    start = time.perf_counter()
    compiled = triage.load_policy(path)
    load_c = time.perf_counter() - start
    start = time.perf_counter()
    durable = triage.load_policy(path, engine="durable")
    load_d = time.perf_counter() - start
    out_c, t_c = run(compiled, records)
    out_d, t_d = run(durable, records)
    same = sum(a == b for a, b in zip(out_c, out_d, strict=True))
    for engine, times, load in (("compiled", t_c, load_c), ("durable", t_d, load_d)):
        p99 = sorted(times)[int(len(times) * 0.99)]
        print(f"{name:<16} {engine:<9} {len(times) / sum(times):>9,.0f} "
              f"{statistics.median(times) * 1e6:>9,.0f} {p99 * 1e6:>9,.0f} {load * 1000:>8,.0f}")
    print(f"{'':<16} identical decisions: {same:,} of {len(records):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2_000)
    parser.add_argument("--memory", type=int, default=0)
    args = parser.parse_args()
    why = __import__("triage.engine.durable", fromlist=["x"]).durable_available()
    if why:
        raise SystemExit(why)
    records = generate(args.count, seed=0)
    print(f"Python {sys.version.split()[0]}; {args.count:,} synthetic complaints; one thread")
    print(f"{'policy':<16} {'engine':<9} {'/s':>9} {'p50 µs':>9} {'p99 µs':>9} {'load ms':>8}")
    row("default", None, records)
    for rules in (20, 100, 500):
        with tempfile.TemporaryDirectory() as folder:
            row(f"scaled-{rules}", write_scaled_policy(folder, rules), records)
    if args.memory:
        durable = triage.load_policy(engine="durable")
        many = generate(1_000, seed=1)
        done, marks = 0, {}
        while done < args.memory:
            for record in many:
                durable.triage(record, now=NOW)
            done += len(many)
            if done in (1_000, args.memory) or done % 25_000 == 0:
                marks[done] = rss_mb()
        print("durable, default policy, resident memory after N complaints: "
              + json.dumps({f"{k:,}": f"{v:.1f} MB" for k, v in marks.items()}))


if __name__ == "__main__":
    main()
