"""Which policy a command runs: the one the user is editing, found the way they expect.

In order: ``--policy DIR``; the ``TRIAGE_POLICY`` environment variable; ``policy = "DIR"``
in a ``triage.toml`` (or under ``[tool.triage]`` in a ``pyproject.toml``) in the current
folder or the nearest folder above it that has one, relative to that file; ``rules/`` in
the current folder when it holds a policy; else the bundled default policy. Every command
says on its first line of stderr which one it took, and why.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import TriageError

#: The environment variable naming the policy to use.
ENV_VARIABLE = "TRIAGE_POLICY"


@dataclass(frozen=True, slots=True)
class PolicyLocation:
    """Where the policy is (None: the bundled one) and what said so."""

    path: Path | None
    source: str


def locate_policy(given: str | None, cwd: Path | None = None,
                  environ: Mapping[str, str] | None = None) -> PolicyLocation:
    """The policy a command should load, and the reason, in the documented order."""
    if given:
        return PolicyLocation(Path(given), "the command line")
    env = os.environ if environ is None else environ
    if env.get(ENV_VARIABLE):
        return PolicyLocation(Path(env[ENV_VARIABLE]), ENV_VARIABLE)
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        found = _setting(folder)
        if found is not None:
            return found
    rules = here / "rules"
    if rules.is_dir() and any(p.suffix in (".yaml", ".yml") for p in rules.iterdir()):
        return PolicyLocation(rules, "./rules")
    return PolicyLocation(None, "bundled")


def _setting(folder: Path) -> PolicyLocation | None:
    """``policy`` from ``triage.toml`` or ``pyproject.toml``'s ``[tool.triage]`` in ``folder``."""
    for name, table in (("triage.toml", ()), ("pyproject.toml", ("tool", "triage"))):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            if name == "pyproject.toml":
                continue  # another project's file: not ours to judge
            raise TriageError(f"{path}: not readable TOML ({exc})") from None
        for key in table:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        value = data.get("policy") if isinstance(data, dict) else None
        if value is None:
            continue
        if not isinstance(value, str):
            raise TriageError(f"{path}: 'policy' must be a folder name, e.g. policy = \"rules\"")
        return PolicyLocation(folder / value, name)
    return None
