"""How long ``triage fit`` takes on the default policy made scored (target: under 30 s).

``python benchmarks/fit.py [--repeat N]`` copies the default policy with request_type
and category set to ``hit: score`` (tools/compare_scoring.py), reads the 1,623 labelled
tuning records and the policy's cases, and times, on one core: deciding them with every
rule that holds (``observe``), and fitting each stage (5-fold cross-validation over four
L1 strengths, then the final fit). Prints the median of N runs (default 3) in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from compare_scoring import NOW, TUNING, scored_copy

import triage
from triage.authoring.fit import fit_stage
from triage.authoring.labelled import load_labelled, observe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rules = scored_copy(Path(tmp))
        policy = triage.load_policy(rules)
        records, _ = load_labelled([*TUNING, rules])
        times: dict[str, list[float]] = {"observe": [], "request_type": [], "category": [],
                                         "total": []}
        for _ in range(args.repeat):
            start = time.perf_counter()
            observed, _ = observe(policy, records, now=NOW)
            times["observe"].append(time.perf_counter() - start)
            for stage in ("request_type", "category"):
                began = time.perf_counter()
                fit_stage(policy, observed, stage)
                times[stage].append(time.perf_counter() - began)
            times["total"].append(time.perf_counter() - start)
    print(f"{len(records)} labelled records, median of {args.repeat} runs (s):")
    for name, values in times.items():
        print(f"  {name:14s} {statistics.median(values):6.2f}")


if __name__ == "__main__":
    main()
