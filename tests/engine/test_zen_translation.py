"""The zen-engine translation of a generated policy (benchmarks/zen_side_by_side.py) decides
as the compiled engine: a 20-rule policy, 50 synthetic complaints. Skipped without
zen-engine (``pip install 'triage[bench]'``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("zen", reason="zen-engine is not installed")

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _module(name: str):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_zen_translation_of_a_20_rule_policy_decides_the_same(tmp_path: Path) -> None:
    side = _module("zen_side_by_side")
    import triage  # noqa: PLC0415

    policy = triage.load_policy(side.write_scaled_policy(tmp_path / "p", 20))
    zen_triage = side.ZenTriage(policy)
    records = side.generate(50, seed=0)
    expected = [side.classification(policy.triage(r, now=side.NOW)) for r in records]
    assert [zen_triage.decide(r) for r in records] == expected
    defaults = ("complaint", (), "other", None, "general", "general", "cs_agent")
    assert sum(e[:7] != defaults for e in expected) >= 10  # rules fire: not all defaults
