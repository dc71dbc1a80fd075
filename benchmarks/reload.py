"""Reload while serving: 8 threads decide complaints while the main thread reloads.

``python benchmarks/reload.py [--reloads N]`` alternates between two versions of a small
policy that decide 漏水 differently, and reports how long the reloads took, how many
decisions the threads made, whether every decision asked for was returned, and whether
each one agrees with the policy version it records. Figures: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import triage
from triage.integrations.store import PolicyStore

MINIMAL = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "minimal" / "policy.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reloads", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    text = MINIMAL.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        a, b = Path(folder, "a"), Path(folder, "b")
        a.mkdir()
        b.mkdir()
        (a / "policy.yaml").write_text(text, encoding="utf-8")
        (b / "policy.yaml").write_text(text.replace(
            "when: {text: [$leak]}\n        set: {category: product_quality}",
            "when: {text: [$leak]}\n        set: {category: service}"), encoding="utf-8")
        expected = {triage.load_policy(a).version: "product_quality",
                    triage.load_policy(b).version: "service"}
        store = PolicyStore(a)
        stop = threading.Event()
        asked, returned, wrong = [0] * args.threads, [0] * args.threads, [0] * args.threads
        seen: list[set[str]] = [set() for _ in range(args.threads)]

        def serve(slot: int) -> None:
            while not stop.is_set():
                asked[slot] += 1
                decision = store.triage({"id": str(slot), "channel": "web", "text": "漏水"})
                returned[slot] += 1
                wrong[slot] += decision.category != expected[decision.policy_version]
                seen[slot].add(decision.policy_version)

        threads = [threading.Thread(target=serve, args=(i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        start = time.perf_counter()
        ok = sum(store.reload(b if i % 2 == 0 else a).ok for i in range(args.reloads))
        seconds = time.perf_counter() - start
        stop.set()
        for thread in threads:
            thread.join()
    print(f"{ok}/{args.reloads} reloads in {seconds:.1f} s while {args.threads} threads made "
          f"{sum(returned):,} decisions ({sum(asked):,} asked); {sum(wrong)} inconsistent "
          f"with their version; versions seen: {len(set().union(*seen))}")


if __name__ == "__main__":
    main()
