"""Proposed rule weights as a reviewable change to the policy's YAML files.

Only ``weight:`` lines are added or changed; comments, order and layout stay as written.
A rule written in block style gets its ``weight:`` after its ``priority:`` (or its first
line, or at its end); a rule written on one line in flow style (``- {id: ..., ...}``) is
listed for a hand edit instead. The edited files are loaded again before the patch is
offered, and a rule whose weight did not come out as proposed is listed too: the patch
never says more than it does.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import PolicyError
from ..policy import Policy, load_policy

_KEY = re.compile(r"^(?P<indent>\s*)(?:-\s+)?(?P<key>[A-Za-z_][\w-]*)\s*:(?P<rest>.*)$")
_WEIGHT = re.compile(r"^(?P<head>\s*weight\s*:\s*)(?P<value>[^#\s]+)(?P<tail>.*)$")


@dataclass(frozen=True, slots=True)
class WeightChange:
    """A rule's new weight, where the rule is written (``file`` as the policy names it)."""

    rule_id: str
    file: str
    line: int
    weight: str


@dataclass(frozen=True, slots=True)
class WeightPatch:
    """A unified diff (``patch -p1`` from the policy's parent folder) and the rules it
    could not change, with the reason."""

    diff: str
    by_hand: tuple[tuple[str, str], ...]


def weight_patch(policy: Policy, changes: Iterable[WeightChange]) -> WeightPatch:
    """The change that gives each rule of ``changes`` its weight, checked by reloading."""
    base = policy.path.parent
    by_file: dict[str, list[WeightChange]] = {}
    for change in changes:
        by_file.setdefault(change.file, []).append(change)
    by_hand: list[tuple[str, str]] = []
    edited: dict[str, tuple[str, str]] = {}
    for name, file_changes in sorted(by_file.items()):
        path = base / name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            by_hand += [(c.rule_id, f"cannot read {name}: {exc}") for c in file_changes]
            continue
        lines = text.splitlines(keepends=True)
        # From the bottom up, so that an inserted line does not move the rules below it.
        for change in sorted(file_changes, key=lambda c: -c.line):
            reason = _set_weight(lines, change.line - 1, change.weight)
            if reason:
                by_hand.append((change.rule_id, reason))
        edited[name] = (text, "".join(lines))
    listed = {rule_id for rule_id, _ in by_hand}
    wrong = _verify(policy, edited, [c for cs in by_file.values() for c in cs
                                     if c.rule_id not in listed])
    by_hand += [(rule_id, reason) for rule_id, reason in wrong.items()]
    diff = "".join(
        "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                     new.splitlines(keepends=True), f"a/{name}", f"b/{name}"))
        for name, (old, new) in edited.items() if old != new)
    return WeightPatch(diff, tuple(by_hand))


def _set_weight(lines: list[str], first: int, weight: str) -> str | None:
    """Give the rule starting at ``lines[first]`` its weight; the reason when it cannot."""
    if first >= len(lines):
        return "the rule's line is past the end of its file"
    opening = _KEY.match(lines[first].rstrip("\r\n"))
    if opening is None or lines[first].lstrip().lstrip("-").lstrip().startswith("{"):
        return "written in flow style ({...}): add the weight by hand"
    dash = lines[first].index(opening["key"])
    indent = " " * dash
    end = first + 1
    simple: dict[str, int] = {opening["key"]: first}
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            width = len(line) - len(line.lstrip())
            if width < dash or (width == dash and stripped.startswith("-")):
                break
            if width == dash:
                match = _KEY.match(line.rstrip("\r\n"))
                if match:
                    simple[match["key"]] = end
        end += 1
    if "weight" in simple:
        at = simple["weight"]
        match = _WEIGHT.match(lines[at].rstrip("\r\n"))
        if match is None:
            return "its weight is not on one line: change it by hand"
        newline = lines[at][len(lines[at].rstrip("\r\n")):]
        lines[at] = f"{match['head']}{weight}{match['tail']}{newline}"
        return None
    after = None
    for key in ("priority", "id"):
        found = simple.get(key)
        if found is not None and _one_line(lines[found]):
            after = found
            break
    if after is None:  # at the end of the rule, before trailing blank lines and comments
        after = end - 1
        while after > first and (not lines[after].strip()
                                 or lines[after].strip().startswith("#")):
            after -= 1
    newline = "\r\n" if lines[after].endswith("\r\n") else "\n"
    if not lines[after].endswith("\n"):
        lines[after] += newline
    lines.insert(after + 1, f"{indent}weight: {weight}{newline}")
    return None


def _one_line(line: str) -> bool:
    """``key: value`` whose value ends on this line (not a block or an open flow)."""
    match = _KEY.match(line.rstrip("\r\n"))
    if match is None:
        return False
    rest = match["rest"].split(" #")[0].strip()
    if not rest or rest[0] in "|>[{":
        return False
    return rest[0] not in "'\"" or (len(rest) > 1 and rest[-1] == rest[0])


def _verify(policy: Policy, edited: Mapping[str, tuple[str, str]],
            changes: list[WeightChange]) -> dict[str, str]:
    """The rules whose weight, once the edited files are loaded, is not the one proposed."""
    if not edited:
        return {}
    root = policy.path
    with tempfile.TemporaryDirectory(prefix="triage-fit-") as folder:
        copy = Path(folder) / root.name
        if root.is_dir():
            shutil.copytree(root, copy)
        else:
            shutil.copy2(root, copy)
        for name, (_, new) in edited.items():
            (Path(folder) / name).write_text(new, encoding="utf-8")
        try:
            reloaded = load_policy(copy)
        except PolicyError as exc:
            first = exc.problems[0].format() if exc.problems else str(exc)
            return {c.rule_id: f"the edited policy does not load ({first}): add the "
                               "weight by hand" for c in changes}
    weights = {r.id: r.weight for s in reloaded._model.stages.values() for r in s.rules}
    return {c.rule_id: f"its weight came out as {weights.get(c.rule_id)} thousandths, not "
                       f"{c.weight}: change it by hand"
            for c in changes if weights.get(c.rule_id) != round(float(c.weight) * 1000)}
