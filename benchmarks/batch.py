"""Multi-core routing: ``triage route --workers N`` over a large JSON-lines file.

``python benchmarks/batch.py [--count N] [--quick] [--forms lean explain]`` writes N
synthetic complaints (default 40,000, seed 0) to a temporary file and times the whole
command (start-up, policy load, reading, deciding, writing) for lean decisions (the
default) and full ones (``--explain``), with 1 worker and with one per core, median of 3
runs each, interleaved. It also checks that the outputs of one form are the same lines in
the same order, and prints the bytes written per decision.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate


def run(input_path: Path, workers: int, form: str) -> tuple[float, str, int]:
    extra = ["--explain"] if form == "explain" else []
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "triage.cli", "route", str(input_path), "--no-progress",
         "--workers", str(workers), "--now", "2026-11-23T10:00:00+08:00", *extra],
        capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise SystemExit(done.stderr.decode())
    return seconds, hashlib.sha256(done.stdout).hexdigest(), len(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40_000)
    parser.add_argument("--quick", action="store_true", help="10,000 complaints, one run each")
    parser.add_argument("--forms", nargs="+", choices=["lean", "explain"],
                        default=["lean", "explain"])
    args = parser.parse_args()
    count, repeats = (10_000, 1) if args.quick else (args.count, 3)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "complaints.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                for r in generate(count, seed=0)), encoding="utf-8")
        print(f"{count:,} complaints, {path.stat().st_size / 1e6:.1f} MB; {cores} cores; "
              f"median of {repeats} whole-command runs (default policy, with deadlines and "
              "replies)")
        runs = [(form, workers) for form in args.forms for workers in sorted({1, cores})]
        measured: dict[tuple[str, int], list[tuple[float, str, int]]] = {r: [] for r in runs}
        for _ in range(repeats):  # interleaved: each repeat runs every configuration once
            for form, workers in runs:
                measured[form, workers].append(run(path, workers, form))
        for form in args.forms:
            results = {}
            for workers in sorted({1, cores}):
                times, digests, sizes = zip(*measured[form, workers], strict=True)
                results[workers] = statistics.median(times)
                assert len(set(digests)) == 1, "output differs between runs"
                print(f"  {form:8s} --workers {workers}: {results[workers]:6.2f} s  "
                      f"{count / results[workers]:>8,.0f} complaints/s  "
                      f"{sizes[0] / count:,.0f} bytes/decision  output {digests[0][:12]}")
            if cores > 1:
                print(f"  {form:8s} speed-up with {cores} workers: "
                      f"{results[1] / results[cores]:.2f}x")


if __name__ == "__main__":
    main()
