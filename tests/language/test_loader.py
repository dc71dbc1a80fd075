"""The loader's size limit: one clear line, never megabytes of output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import triage
from triage.language.loader import MAX_NODES

from ..conftest import FIXTURES


def test_a_huge_vocabulary_gets_one_short_error(tmp_path: Path) -> None:
    """A 360,000-word vocabulary on one line: a too-large error naming the limit and the
    file, a hint that does not blame aliases, and a report of a few hundred bytes, not 7 MB."""
    folder = tmp_path / "policy"
    shutil.copytree(FIXTURES / "minimal", folder)
    words = ", ".join(f"词{i:06d}" for i in range(360_000))
    (folder / "big.yaml").write_text(f"vocabularies:\n  big: [{words}]\n", encoding="utf-8")
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(folder)
    [problem] = info.value.problems
    assert problem.code == "too-large" and problem.file.endswith("big.yaml")
    assert f"{MAX_NODES:,}" in problem.message and "alias" not in (problem.hint or "")
    assert len(problem.format()) < 1_000
    assert len(str(problem.to_dict())) < 1_000


def test_an_alias_bomb_is_still_blamed_on_aliases(tmp_path: Path) -> None:
    """Aliases that multiply a block get the hint about aliases."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, "
              f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
              f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
              for i in range(6)]
    (tmp_path / "policy.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(tmp_path)
    assert any(p.code == "too-large" and "alias" in (p.hint or "")
               for p in info.value.problems)
