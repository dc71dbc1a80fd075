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
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true",
                     help="also run the long fuzz, concurrency and large-input tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
