"""Shared fixtures: the bundled default policy and a small policy for engine tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import triage

#: The repository, the test fixtures and the labelled corpus, for tests in any subfolder.
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
CORPUS_DIR = Path(__file__).parent / "corpus"


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


def rule_lines(rules: list[dict[str, Any]]) -> str:
    """``rules`` as YAML list items, indented to sit under a stage's ``rules:`` in the
    layout of ``fixtures/minimal``."""
    text = yaml.safe_dump(rules, allow_unicode=True)
    return "".join("      " + line + "\n" for line in text.splitlines())


def prepend_rules(policy_text: str, stage: str, rules: list[dict[str, Any]]) -> str:
    """``policy_text`` with ``rules`` first under ``stages: {<stage>: {rules: ...}}``."""
    start = policy_text.index(f"\n  {stage}:\n")
    at = policy_text.index("    rules:\n", start) + len("    rules:\n")
    return policy_text[:at] + rule_lines(rules) + policy_text[at:]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true",
                     help="run the long versions of the fuzz, concurrency and large-input "
                          "tests (ordinary runs and CI run short versions of the same tests)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--run-slow"):
        os.environ["TRIAGE_LONG_TESTS"] = "1"


def scale(short: int, long: int) -> int:
    """How many examples, threads' reloads or bytes a reliability test uses: ``short`` in an
    ordinary run (CI), ``long`` with ``--run-slow`` (the figures in docs/reliability.md)."""
    return long if os.environ.get("TRIAGE_LONG_TESTS") else short


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
