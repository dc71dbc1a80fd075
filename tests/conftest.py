"""Shared fixtures: the bundled default policy and a small policy for engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import triage

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def default_policy() -> triage.Policy:
    return triage.load_policy()


@pytest.fixture(scope="session")
def minimal_policy() -> triage.Policy:
    return triage.load_policy(FIXTURES / "minimal")


def write_policy(directory: Path, files: dict[str, str]) -> Path:
    """Write policy files into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory
