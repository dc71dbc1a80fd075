"""Instructions per complaint of classification, counted by valgrind: a figure that a noisy
neighbour cannot move, for comparing two versions whose wall-clock speeds drift apart.

``python benchmarks/instructions.py [POLICY_DIR]`` runs this file twice under
``valgrind --tool=callgrind`` (two passes over 1,000 synthetic complaints, then none) and
prints the difference per complaint. Without a directory it measures the default policy
without ``scripts.yaml`` and ``deadlines.yaml`` (``default-classify`` of ``run.py``).
Needs valgrind (Debian: ``apt-get install valgrind``); takes about two minutes.
"""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import default_policy_without
from synthetic import generate

import triage

RECORDS = 1_000
PASSES = 2


def child(policy_dir: str, passes: int) -> None:
    """Load the policy, triage the records once (warm-up), then ``passes`` more times."""
    policy = triage.load_policy(policy_dir)
    complaints = [triage.Complaint.model_validate(r) for r in generate(RECORDS, seed=0)]
    gc.collect()
    gc.freeze()
    for _ in range(1 + passes):
        for complaint in complaints:
            policy.triage(complaint)


def _count(policy_dir: str, passes: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--child", policy_dir, str(passes)],
        capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"valgrind gave no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="triage-instr-") as tmp:
        policy_dir = sys.argv[1] if len(sys.argv) > 1 else str(
            default_policy_without(Path(tmp), "scripts.yaml", "deadlines.yaml"))
        per_complaint = (_count(policy_dir, PASSES) - _count(policy_dir, 0)) / (
            PASSES * RECORDS)
    name = sys.argv[1] if len(sys.argv) > 1 else "default-classify"
    print(f"{per_complaint:,.0f} instructions per complaint ({name})")


if __name__ == "__main__":
    main()
