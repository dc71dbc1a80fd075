"""Throughput, latency, load time and memory of the default and of generated policies.

``python benchmarks/run.py [--quick]`` prints one Markdown table; each policy is measured
in its own fresh process (one thread, so one core) so that peak RSS belongs to it alone.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scaled_policy import write_scaled_policy
from synthetic import generate

import triage
from triage.text.folding import fold

SCALED_SIZES: tuple[int, ...] = (20, 100, 500)
#: Targets: complaints/s for the pre-validated path, and load+compile time of the default.
TARGET_DEFAULT_RATE = 50_000  # classification + owner: no deadlines, no reply
TARGET_DEADLINES_RATE = 30_000  # with deadlines, no reply
TARGET_FULL_RATE = 15_000  # the default policy as shipped: deadlines and reply
TARGET_500_RATE = 10_000
TARGET_DEFAULT_LOAD_MS = 300.0
LOAD_REPEATS = 5
SEED = 0


@dataclass(frozen=True)
class Settings:
    """How much work each measurement does."""

    records: int
    repeats: int
    latency_sample: int
    warmup: int


FULL = Settings(records=10_000, repeats=5, latency_sample=5_000, warmup=1_000)
QUICK = Settings(records=2_000, repeats=3, latency_sample=1_000, warmup=300)


@dataclass(frozen=True)
class Result:
    """The figures of one policy, as printed in the table."""

    name: str
    rules: int
    words: int
    first_load_ms: float
    load_ms: float
    load_ms_all: list[float]
    rate: float
    rates: list[float]
    e2e_rate: float
    e2e_rates: list[float]
    explained_rate: float
    explained_rates: list[float]
    p50_us: float
    p99_us: float
    errors: int
    rss_import_mib: float
    rss_load_mib: float
    rss_peak_mib: float


def _rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(path: Path | None) -> triage.Policy:
    return triage.load_policy(path)


def _timed(work: Callable[[], int]) -> float:
    """Items per second for one call of ``work`` (which returns how many items it did)."""
    start = time.perf_counter()
    done = work()
    return done / (time.perf_counter() - start)


def _errors(outputs: Iterable[Any]) -> int:
    """Drain ``outputs`` (Decision or RecordError); return how many were errors."""
    record_error = triage.RecordError
    return sum(1 for o in outputs if isinstance(o, record_error))


def measure(name: str, path: Path | None, settings: Settings) -> Result:
    """Measure one policy in this process: load, throughput both ways, latency, memory."""
    rss_import = _rss_mib()
    load_ms = []
    start = time.perf_counter()
    policy = _load(path)
    first_load_ms = (time.perf_counter() - start) * 1000
    for _ in range(LOAD_REPEATS):
        start = time.perf_counter()
        policy = _load(path)
        load_ms.append((time.perf_counter() - start) * 1000)
    rss_load = _rss_mib()

    records = generate(settings.records, seed=SEED)
    complaints = [triage.Complaint.model_validate(r) for r in records]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    gc.collect()
    gc.freeze()  # the benchmark's own data is long-lived: keep it out of collections

    triage_one = policy.triage
    for complaint in complaints[: settings.warmup]:
        triage_one(complaint)
    _errors(policy.triage_many(lines[: settings.warmup]))

    def classify() -> int:
        for complaint in complaints:
            triage_one(complaint)
        return len(complaints)

    def classify_and_explain() -> int:
        for complaint in complaints:
            triage_one(complaint).to_dict()
        return len(complaints)

    errors = 0

    def end_to_end() -> int:
        nonlocal errors
        errors = _errors(policy.triage_many(lines))
        return len(lines)

    rates = [_timed(classify) for _ in range(settings.repeats)]
    e2e_rates = [_timed(end_to_end) for _ in range(settings.repeats)]
    explained_rates = [_timed(classify_and_explain) for _ in range(settings.repeats)]

    clock = time.perf_counter_ns
    latencies = []
    for complaint in complaints[: settings.latency_sample]:
        start = clock()
        triage_one(complaint)
        latencies.append(clock() - start)
    latencies.sort()

    return Result(
        name=name, rules=policy.rule_count, words=_word_count(policy),
        first_load_ms=first_load_ms, load_ms=statistics.median(load_ms), load_ms_all=load_ms,
        rate=statistics.median(rates), rates=rates,
        e2e_rate=statistics.median(e2e_rates), e2e_rates=e2e_rates,
        explained_rate=statistics.median(explained_rates), explained_rates=explained_rates,
        p50_us=_percentile(latencies, 0.50) / 1000, p99_us=_percentile(latencies, 0.99) / 1000,
        errors=errors, rss_import_mib=rss_import, rss_load_mib=rss_load, rss_peak_mib=_rss_mib(),
    )


def _word_count(policy: triage.Policy) -> int:
    """Distinct folded words of the policy's keyword automaton (0 if not exposed)."""
    words = getattr(policy, "_word_ids", None)
    return len(words) if words is not None else 0


def _percentile(ordered: list[int], q: float) -> float:
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def _child(name: str, path: str, settings: Settings) -> Result:
    """Run ``measure`` for one policy in a fresh interpreter; return its result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name, path,
               json.dumps(asdict(settings))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {name} failed:\n{done.stderr}")
    return Result(**json.loads(done.stdout.strip().splitlines()[-1]))


def machine() -> dict[str, str]:
    """Core count, CPU model, Python and triage versions, date."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()), "cpu": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "triage": triage.__version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _status(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value < target
    ratio = value / target
    return f"{'met' if met else 'MISSED'} ({ratio:.2f}x of target)"


def table(results: list[Result]) -> str:
    """The results as a Markdown table, targets next to the figures they apply to."""
    rows = [
        "| policy | rules | words | first load ms | load+compile ms | triage(Complaint) /s "
        "| + to_dict() /s | JSON lines /s | p50 µs | p99 µs "
        "| RSS after load MiB (+ over import) | peak RSS MiB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        rows.append(
            f"| {r.name} | {r.rules} | {r.words} | {r.first_load_ms:.1f} | {r.load_ms:.1f} "
            f"| {r.rate:,.0f} | {r.explained_rate:,.0f} | {r.e2e_rate:,.0f} "
            f"| {r.p50_us:.1f} | {r.p99_us:.1f} "
            f"| {r.rss_load_mib:.0f} (+{r.rss_load_mib - r.rss_import_mib:.0f}) "
            f"| {r.rss_peak_mib:.0f} |")
    return "\n".join(rows)


def targets(results: list[Result]) -> str:
    """One line per target: the figure, the target, met or missed and by how much."""
    by_name = {r.name: r for r in results}
    lines = []
    for name, what, target in (
            ("default-classify", "classification + owner", TARGET_DEFAULT_RATE),
            ("default-no-replies", "with deadlines, no reply", TARGET_DEADLINES_RATE),
            ("default", "as shipped: deadlines and reply", TARGET_FULL_RATE)):
        found = by_name.get(name)
        if found is not None:
            lines.append(f"- default policy, {what}: {found.rate:,.0f}/s, target "
                         f">= {target:,}/s: {_status(found.rate, target)}")
    default = by_name.get("default")
    if default is not None:
        lines.append(f"- default policy load+compile: {default.load_ms:.1f} ms, target "
                     f"< {TARGET_DEFAULT_LOAD_MS:.0f} ms: "
                     f"{_status(default.load_ms, TARGET_DEFAULT_LOAD_MS, False)}")
    big = by_name.get("scaled-500")
    if big is not None:
        lines.append(f"- 500-rule policy triage(Complaint): {big.rate:,.0f}/s, target "
                     f">= {TARGET_500_RATE:,}/s: {_status(big.rate, TARGET_500_RATE)}")
    return "\n".join(lines)


def spread(results: list[Result]) -> str:
    """The individual repetitions behind each median, to judge the noise."""
    lines = []
    for r in results:
        rates = ", ".join(f"{x:,.0f}" for x in r.rates)
        e2e = ", ".join(f"{x:,.0f}" for x in r.e2e_rates)
        explained = ", ".join(f"{x:,.0f}" for x in r.explained_rates)
        loads = ", ".join(f"{x:.1f}" for x in r.load_ms_all)
        lines.append(f"- {r.name}: triage [{rates}]; + to_dict [{explained}]; JSON [{e2e}]; "
                     f"load ms [{loads}]; "
                     f"record errors {r.errors}")
    return "\n".join(lines)


def profile(name: str, path: Path | None, count: int, top: int = 15) -> str:
    """cProfile of ``policy.triage`` over ``count`` complaints: top by own and by total time."""
    policy = _load(path)
    complaints = [triage.Complaint.model_validate(r) for r in generate(count, seed=SEED)]
    triage_one = policy.triage
    profiler = cProfile.Profile()
    profiler.enable()
    for complaint in complaints:
        triage_one(complaint)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return f"## cProfile: {name}, {count} complaints\n{out.getvalue()}"


def rate_fold_and_scan(path: Path | None, count: int, repeats: int) -> float | None:
    """Diagnosis only: texts/s for folding plus finding the words alone (engine internals)."""
    policy = _load(path)
    scan = getattr(getattr(policy, "_index", None), "find", None)
    if not callable(scan):
        return None
    texts = [r["text"] for r in generate(count, seed=SEED)]

    def fold_and_scan() -> int:
        for text in texts:
            scan(fold(text))
        return len(texts)

    fold_and_scan()
    return statistics.median(_timed(fold_and_scan) for _ in range(repeats))


def default_policy_without(directory: Path, *files: str) -> Path:
    """A copy of the default policy (with its scripts folder) without some of its files;
    the other benchmarks build ``default-classify`` with it too."""
    bundled = triage.bundled_policy_path()
    rules = directory / "rules"
    shutil.copytree(bundled, rules)
    for name in files:
        (rules / name).unlink()
    return rules


def main() -> None:
    """Measure every policy in a child process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer records and repetitions")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of the default and 500-rule policies")
    parser.add_argument("--child", nargs=3, metavar=("NAME", "PATH", "SETTINGS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, path, raw = args.child
        result = measure(name, Path(path) if path != "-" else None, Settings(**json.loads(raw)))
        print(json.dumps(asdict(result)))
        return

    settings = QUICK if args.quick else FULL
    info = machine()
    print(f"triage {info['triage']} on {info['cores']} cores ({info['cpu']}), "
          f"{info['python']}, {info['date']}")
    print(f"{settings.records:,} synthetic records (seed {SEED}), median of "
          f"{settings.repeats} runs; load median of {LOAD_REPEATS}; latency over "
          f"{settings.latency_sample:,} calls\n")
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        policies: list[tuple[str, Path | None]] = [
            ("default", None),
            ("default-no-replies",
             default_policy_without(Path(tmp) / "no-replies", "scripts.yaml")),
            ("default-classify",
             default_policy_without(Path(tmp) / "classify", "scripts.yaml", "deadlines.yaml")),
        ]
        for size in SCALED_SIZES:
            policies.append((f"scaled-{size}",
                             write_scaled_policy(Path(tmp) / f"scaled-{size}", size, seed=SEED)))
        for name, path in policies:
            results.append(_child(name, str(path) if path else "-", settings))
            print(f"  measured {name}", file=sys.stderr, flush=True)
        print(table(results))
        print("\nTargets:")
        print(targets(results))
        print("\nRepetitions:")
        print(spread(results))
        if args.profile:
            count = settings.records // 5
            print()
            print(profile("default", None, count))
            print(profile("scaled-500", dict(policies)["scaled-500"], count))
            print("## Diagnosis: fold + finding the words alone")
            for name, rate in ((r.name, r.rate) for r in results):
                scan_only = rate_fold_and_scan(dict(policies)[name], count, settings.repeats)
                if scan_only is not None:
                    print(f"- {name}: {rate:,.0f}/s as measured; fold + find alone "
                          f"{scan_only:,.0f}/s ({1e6 / scan_only:.1f} µs per text)")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "settings": asdict(settings),
                                         "results": [asdict(r) for r in results]},
                                        ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
