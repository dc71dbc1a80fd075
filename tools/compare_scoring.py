"""First or score for the default policy: the comparison recorded in tests/corpus/README.md.

    python tools/compare_scoring.py

Builds a copy of the default policy whose request_type and category stages are
``hit: score`` (every rule weight 1: "hand weights"), fits the weights with
``triage fit`` on the tuning corpora and the policy's cases (request type first, then
category on the refitted request types), and prints for each of the three policies
(first, score with weights 1, score fitted) the accuracy of request type and category on
the tuning records and, once, on ``holdout2.jsonl``, which nothing here is fitted on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import triage
from triage.authoring.cases import DEFAULT_RECEIVED
from triage.authoring.evaluation import evaluate
from triage.authoring.fit import fit_stage, weight_changes
from triage.authoring.labelled import load_labelled, observe
from triage.authoring.patch import weight_patch

ROOT = Path(__file__).resolve().parents[1]
#: Every labelled file that is tuned on: the corpus, the old held-out set and the blind
#: tuning sets (holdout2 is only measured).
TUNING = [ROOT / "tests/corpus" / name for name in ("corpus.jsonl", "holdout.jsonl")] + sorted(
    (ROOT / "tests/corpus").glob("tuning*.jsonl"))
HOLDOUT = ROOT / "tests/corpus/holdout2.jsonl"
NOW = datetime.fromisoformat(DEFAULT_RECEIVED)


def scored_copy(folder: Path, stages: tuple[str, ...] = ("request_type", "category")) -> Path:
    """The default policy with ``hit: score`` added to ``stages``."""
    rules = folder / "rules"
    shutil.copytree(triage.bundled_policy_path(), rules)
    for stage in stages:
        path = rules / f"{stage}.yaml"
        text = path.read_text(encoding="utf-8")
        text, count = re.subn(rf"(?m)^  {stage}:\n", f"  {stage}:\n    hit: score\n", text)
        assert count == 1, stage
        path.write_text(text, encoding="utf-8")
    return rules


def fit_in_place(rules: Path, stage: str, labelled: list[Path]) -> str:
    """Fit ``stage`` and apply the patch to ``rules``; the fit's summary line."""
    policy = triage.load_policy(rules)
    records, _ = load_labelled(labelled)
    observed, _ = observe(policy, records, now=NOW)
    fit = fit_stage(policy, observed, stage)
    patch = weight_patch(policy, weight_changes([fit]))
    assert not patch.by_hand, patch.by_hand
    subprocess.run(["patch", "-s", "-p1", "-d", str(rules.parent)], input=patch.diff,
                   text=True, check=True)
    return (f"{stage}: weights 1 {fit.before:.1%}, fitted {fit.after:.1%} cross-validated "
            f"(L1 {fit.l1:g}), {len(fit.zeroed)} rules at 0")


def accuracy(policy: triage.Policy, files: list[Path]) -> str:
    records, _ = load_labelled(files)
    observed, _ = observe(policy, records, now=NOW)
    report = evaluate(policy, observed)
    return " ".join(f"{name}={report.fields[name].accuracy:.1%}"
                    for name in ("request_type", "category"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hand = scored_copy(Path(tmp) / "hand")
        fitted = scored_copy(Path(tmp) / "fitted")
        labelled = [*TUNING, fitted]
        for stage in ("request_type", "category"):
            print(fit_in_place(fitted, stage, labelled))
        policies = {"first (default policy)": triage.load_policy(),
                    "score, weights 1": triage.load_policy(hand),
                    "score, fitted": triage.load_policy(fitted)}
        for name, policy in policies.items():
            print(f"{name:24s} tuning: {accuracy(policy, TUNING)}   "
                  f"holdout2: {accuracy(policy, [HOLDOUT])}")


if __name__ == "__main__":
    main()
