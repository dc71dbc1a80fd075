"""Stage 1 of the pipeline: read policy YAML into plain data plus a source map.

YAML is composed into nodes (safe tags only) and turned into dicts, lists and scalars by
hand, so that every value keeps its line and column, duplicate keys are caught (PyYAML
would keep the last one silently) and alias bombs stop at a node budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..errors import PolicyError, Problem

#: A policy file larger than this is refused before it is parsed.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: A policy directory larger than this, in total, is refused.
MAX_POLICY_BYTES = 20 * 1024 * 1024
#: Values a file may expand to (aliases count each time they are used).
MAX_NODES = 200_000

PathKey = tuple[str | int, ...]
_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class SourceFile:
    """One policy file: its data, where each value and key stands, and its source lines."""

    name: str
    data: Any
    lines: tuple[str, ...]
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def mark(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the value at ``path``, or of its key.

        Falls back to the nearest enclosing entry that has a mark (its key, with ``key``):
        a missing ``stages.owner`` is reported at the ``stages:`` key.
        """
        probe = path
        while probe:
            if key and probe in self.key_marks:
                return self.key_marks[probe]
            if probe in self.value_marks:
                return self.value_marks[probe]
            probe = probe[:-1]
        return self.value_marks.get((), (1, 1))

    def problem(
        self,
        path: PathKey,
        code: str,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        severity: str = "error",
    ) -> Problem:
        line, column = self.mark(path, key=key)
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return Problem(
            self.name, line, column, code, message, hint, source,
            "warning" if severity == "warning" else "error",
        )


@dataclass(frozen=True)
class LoadedPolicy:
    """All files of a policy, in load order, and the content hash they make together."""

    root: Path
    files: tuple[SourceFile, ...]
    version: str


def policy_files(path: Path) -> list[Path]:
    """The YAML files of a policy: one file, or every ``*.yaml``/``*.yml`` in a directory.

    Files are taken in name order (sub-directories such as ``cases/`` are not policy).
    """
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_files(path: Path, display_root: Path | None = None) -> LoadedPolicy:
    """Read every file of the policy at ``path``; raise ``PolicyError`` with all problems."""
    problems: list[Problem] = []
    if not path.exists():
        raise PolicyError([Problem(str(path), 1, 1, "not-found", "policy path does not exist")])
    files = policy_files(path)
    if not files:
        raise PolicyError(
            [Problem(str(path), 1, 1, "empty-policy", "no .yaml files in the policy directory")]
        )
    base = display_root if display_root is not None else (path if path.is_dir() else path.parent)
    digest = hashlib.sha256()
    loaded: list[SourceFile] = []
    total = 0
    inside = (path if path.is_dir() else path.parent).resolve()
    for file in files:
        name = _display_name(file, base)
        if not file.resolve().is_relative_to(inside):
            problems.append(Problem(
                name, 1, 1, "outside-policy",
                "the file is a link to a file outside the policy folder; it was not read",
                "copy the file into the policy folder"))
            continue
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(Problem(
                name, 1, 1, "too-large",
                f"policy file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes",
                "split the policy or remove generated content"))
            continue
        if total + size > MAX_POLICY_BYTES:
            problems.append(Problem(
                name, 1, 1, "too-large",
                f"with this file the policy's files come to {total + size:,} bytes; the "
                f"limit is {MAX_POLICY_BYTES:,} bytes", "remove generated content"))
            continue
        total += size
        raw = file.read_bytes()
        # The version depends on content and file names inside the policy, not on where
        # the policy directory lives.
        digest.update(file.name.encode() + b"\0" + raw + b"\0")
        source, file_problems = parse_yaml(name, raw)
        problems.extend(file_problems)
        if source is not None:
            loaded.append(source)
    if any(p.severity == "error" for p in problems):
        raise PolicyError(problems)
    return LoadedPolicy(path, tuple(loaded), digest.hexdigest()[:16])


def _display_name(file: Path, base: Path) -> str:
    try:
        return file.relative_to(base.parent).as_posix()
    except ValueError:
        return file.as_posix()


def parse_yaml(name: str, raw: bytes) -> tuple[SourceFile | None, list[Problem]]:
    """Parse one file's bytes; return the file or the problems that stopped it."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Problem(name, line, column, "encoding",
                    f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                    "save the file as UTF-8 (most editors: File > Save with encoding)")
        ]
    lines = tuple(text.splitlines())
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_problem(name, lines, exc)]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, 1, "yaml-syntax", str(exc))]
    builder = _Builder(name, lines)
    data = builder.build(node)
    source = SourceFile(name, data, lines, builder.value_marks, builder.key_marks)
    return source, builder.problems


def _yaml_problem(name: str, lines: tuple[str, ...], exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = (mark.line + 1) if mark else 1
    column = (mark.column + 1) if mark else 1
    message = exc.problem or "invalid YAML"
    if exc.context:
        message = f"{message} ({exc.context})"
        start = exc.context_mark
        if start is not None and mark is not None and start.line != mark.line:
            message += f", which began at line {start.line + 1}, column {start.column + 1}"
    hint = None
    source = lines[line - 1] if 0 < line <= len(lines) else None
    if "\t" in message or (source is not None and "\t" in source[:column]):
        hint = "YAML indents with spaces only: replace the tab characters with spaces"
    elif "mapping values are not allowed" in message:
        hint = "a value containing ': ' must be quoted, or the line is indented wrongly"
    elif "could not find expected ':'" in message:
        hint = "each entry needs 'key: value'; check the indentation of this line"
    elif "found character" in message and "@" in message:
        hint = "quote values that start with '@' or '`'"
    return Problem(name, line, column, "yaml-syntax", message, hint, source)


class _Builder:
    """Turns a composed YAML node tree into plain data, recording marks and problems."""

    def __init__(self, name: str, lines: tuple[str, ...]) -> None:
        self.name = name
        self.lines = lines
        self.value_marks: dict[PathKey, tuple[int, int]] = {}
        self.key_marks: dict[PathKey, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.too_many = False
        #: Collection nodes seen: one seen again is an alias (*name) being expanded.
        self.seen: set[int] = set()
        self.aliased = False
        self.constructor = yaml.constructor.SafeConstructor()

    def _problem(self, node: yaml.Node, code: str, message: str, hint: str | None = None) -> None:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        self.problems.append(Problem(self.name, line, column, code, message, hint, source))

    def build(self, node: yaml.Node | None, path: PathKey = ()) -> Any:
        if node is None:
            return None
        self.nodes += 1
        if isinstance(node, yaml.CollectionNode):
            self.aliased = self.aliased or id(node) in self.seen
            self.seen.add(id(node))
        if self.nodes > MAX_NODES:
            if not self.too_many:
                self.too_many = True
                if self.aliased:
                    self._problem(node, "too-large",
                                  f"file expands to more than {MAX_NODES:,} values",
                                  "aliases (*name) that repeat large blocks multiply the "
                                  "size; write the values out or split the file")
                else:
                    self._problem(node, "too-large",
                                  f"file has more than {MAX_NODES:,} values (the limit of "
                                  "one file)", "split a long list over several files: "
                                  "vocabularies of other files join with $name")
            return None
        self.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in (
                "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            self._problem(node, "unsafe-tag", f"tag '{node.tag}' is not allowed in a policy",
                          "policies hold plain text, numbers, dates, lists and mappings only")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                if self.too_many:
                    break
                items.append(self.build(item, (*path, i)))
            return items
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if self.too_many:
                break
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, "unsupported", "merge keys ('<<') are not supported",
                              "write the keys out in full")
                continue
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, date):  # a date as key (holidays: {2027-01-01: 元旦}) is text
                key = key.isoformat()
            if isinstance(key, bool) or not isinstance(key, str | int | float):
                self._problem(key_node, "wrong-type", "a key must be a plain word")
                continue
            key = str(key)
            if key in first_seen:
                self._problem(key_node, "duplicate-key",
                              f"key '{key}' is written twice in this mapping "
                              f"(first on line {first_seen[key]})",
                              "YAML keeps only the last value: remove or merge one of them")
                continue
            first_seen[key] = key_node.start_mark.line + 1
            self.key_marks[(*path, key)] = (
                key_node.start_mark.line + 1, key_node.start_mark.column + 1,
            )
            out[key] = self.build(value_node, (*path, key))
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SAFE_SCALAR_TAGS:
            self._problem(node, "unsafe-tag",
                          f"tag '{node.tag}' is not allowed in a policy",
                          "policies hold plain text, numbers, dates, lists and mappings only")
            return None
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self._problem(node, "wrong-type", f"cannot read value: {exc}")
            return None


def iter_items(data: Any) -> Iterator[tuple[str, Any]]:
    """The (key, value) pairs of a mapping, or nothing for anything else."""
    if isinstance(data, dict):
        yield from data.items()
