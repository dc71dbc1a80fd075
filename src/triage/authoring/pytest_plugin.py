"""pytest plugin: a service's pytest run also runs its policies' cases (``cases/*.yaml``).

Registered through the ``pytest11`` entry point, so installing triage is enough. Every
YAML file in a folder named ``cases`` whose parent folder is a policy becomes a test
module, one test per case; a failure shows the expected and actual fields and the rules
that fired, like ``triage test``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..errors import PolicyError
from ..policy import Policy, load_policy
from .cases import Case, load_cases, run_case

_POLICIES = pytest.StashKey[dict[Path, Policy | PolicyError]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_POLICIES] = {}


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if _is_case_file(file_path):
        collected: pytest.Collector = CaseFile.from_parent(parent, path=file_path)
        return collected
    return None


def _is_case_file(path: Path) -> bool:
    """A ``cases/*.yaml`` holding ``cases:``, next to a folder with a ``policy:`` section.

    Other projects' YAML files named alike are left alone.
    """
    if path.suffix not in (".yaml", ".yml") or path.parent.name != "cases":
        return False
    try:
        if not any(line.startswith("cases:") for line in
                   path.read_text(encoding="utf-8").splitlines()):
            return False
        return any(line.startswith("policy:")
                   for p in path.parent.parent.iterdir() if p.suffix in (".yaml", ".yml")
                   for line in p.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


class CaseFile(pytest.File):
    """A case file of a policy: one test item per case."""

    def collect(self) -> Iterator[pytest.Item]:
        cases, problems = load_cases(self.path, self.path.name)
        if problems:
            raise CaseFileError("\n".join(p.format() for p in problems))
        for case in cases:
            yield CaseItem.from_parent(self, name=case.name, case=case)


class CaseFileError(Exception):
    """A case file that cannot be read as cases."""


class CaseMismatchError(Exception):
    """A case whose decision differs from what it expects."""


class CaseItem(pytest.Item):
    """One policy case, run against the policy of the folder above ``cases/``."""

    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def _policy(self) -> Policy:
        folder = self.path.parent.parent
        cache = self.config.stash[_POLICIES]
        if folder not in cache:
            try:
                cache[folder] = load_policy(folder)
            except PolicyError as exc:
                cache[folder] = exc
        found = cache[folder]
        if isinstance(found, PolicyError):
            raise CaseMismatchError(f"the policy in {folder} does not load:\n{found}")
        return found

    def runtest(self) -> None:
        result = run_case(self._policy(), self.case)
        if not result.passed:
            raise CaseMismatchError(result.report())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, CaseMismatchError | CaseFileError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"case: {self.case.name}"
