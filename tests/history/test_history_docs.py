"""docs/history.md's example runs and prints what its comments say."""

from __future__ import annotations

import re

import pytest

from ..conftest import ROOT


def test_the_store_example_prints_what_its_comments_say(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Each ``print`` of the example prints the value in its comment."""
    text = (ROOT / "docs" / "history.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    exec(compile(code.group(1), "history.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    expected = re.findall(r"print\(.*#\s*(.+)$", code.group(1), re.M)
    assert printed == [e.strip() for e in expected]
