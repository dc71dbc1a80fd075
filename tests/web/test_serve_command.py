"""``triage serve`` without the web extra: one line saying how to install it (runs whether
or not the extra is installed)."""

from __future__ import annotations

import sys

import pytest

from triage.cli import main


def test_serve_without_the_web_extra_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Without uvicorn, ``triage serve`` prints one line naming pip install "triage[web]"
    and exits 2, no traceback."""
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve", "rules"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "triage[web]"' in err
    assert "Traceback" not in err


def test_serve_names_a_corpus_file_that_is_not_there(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--corpus`` with a missing file: one line naming it, exit 2, nothing served."""
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    assert main(["serve", "rules", "--corpus", "no/such.jsonl"]) == 2
    err = capsys.readouterr().err
    assert "no/such.jsonl" in err and "Traceback" not in err
