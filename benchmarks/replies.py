"""Micro-benchmark: rendering reply scripts, Simplified and converted to Traditional.

``python benchmarks/replies.py [--quick]`` renders every template of the default policy
through the policy's reply writer (context, Jinja, OpenCC when Traditional) and prints
replies per second on one thread. Target: >= 20,000 replies/s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import triage

TARGET = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    rounds, repeats = (20, 3) if args.quick else (200, 5)
    policy = triage.load_policy()
    writer, library = policy._writer, policy._model.scripts
    assert library is not None
    deadlines = policy.triage({"id": "b", "channel": "phone", "text": "漏水",
                               "product": {"domain": "auto_dealer"}}).deadlines
    owner = policy.triage({"id": "b", "channel": "phone", "text": "漏水"}).owner
    received = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    outputs = {"request_type": "complaint", "category": "service", "severity": "general"}
    ids = sorted(library.ids)
    print(f"{len(ids)} templates x {rounds} rounds; median of {repeats}; target >= {TARGET:,}/s")
    for label, text in (("Simplified", "漏水"), ("Traditional (zh-Hant)", "漏水很嚴重")):
        complaint = triage.Complaint(id="B-1", channel=triage.Channel.PHONE, text=text,
                                     customer=triage.Customer(name="王伟", title="先生"))
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(rounds):
                for script_id in ids:
                    writer.write(script_id, complaint, received, outputs, owner, deadlines)
            rates.append(rounds * len(ids) / (time.perf_counter() - start))
        rate = statistics.median(rates)
        verdict = "met" if rate >= TARGET else "MISSED"
        print(f"- {label}: {rate:,.0f} replies/s ({1e6 / rate:.1f} µs each): {verdict}")


if __name__ == "__main__":
    main()
