"""The policy folder as the workbench edits it: confined paths, checks, saves, versions.

Every path an author names is resolved inside the folder: no ``..``, no absolute path,
no hidden part, no symbolic link on the way, only policy and template file types. A save
is tried first on a copy of the folder with the new text and written (to a temporary file
renamed over the old one) only when that copy loads; the text it replaces is kept. Each
publish keeps a copy of the folder's files with who published it and when, so a revert
puts a published version back. The workbench's own files live in ``.workbench/``, which
the policy loader never reads (it takes the folder's top-level YAML files only).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..authoring.analysis import analyse
from ..authoring.rendering import template_problems
from ..errors import PolicyError, Problem, TriageError
from ..policy import Policy, load_policy

#: The kinds of file an author may open and save.
EDITABLE = (".yaml", ".yml", ".j2")
#: The largest file the editor saves.
MAX_FILE = 512_000
#: The workbench's own folder inside the policy folder.
STATE = ".workbench"


class WorkspaceError(TriageError):
    """A path outside the policy folder, a link, a file type that is not policy."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What ``check`` found on the folder (with any unsaved texts laid over it)."""

    ok: bool
    version: str | None
    rules: int
    problems: tuple[Problem, ...]
    root_name: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "version": self.version, "rules": self.rules,
                "problems": [problem_dict(p, self.root_name) for p in self.problems]}


@dataclass(frozen=True, slots=True)
class Version:
    """A published version: its number, the policy version, who published it and when."""

    number: int
    policy_version: str
    author: str
    when: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "policy_version": self.policy_version,
                "author": self.author, "when": self.when, "note": self.note}


@dataclass(frozen=True, slots=True)
class Saved:
    """A text a save replaced: kept as number N, replaced by ``author`` at ``when``."""

    number: int
    author: str
    when: str


def problem_dict(problem: Problem, root_name: str) -> dict[str, Any]:
    """A problem's JSON form, with ``path``: its file relative to the policy folder."""
    data = problem.to_dict()
    prefix = root_name + "/"
    data["path"] = problem.file[len(prefix):] if problem.file.startswith(prefix) else None
    return data


class Workspace:
    """One policy folder. Writes are serialised by an instance lock."""

    __slots__ = ("_lock", "root")

    def __init__(self, root: Path) -> None:
        if root.is_symlink() or not root.is_dir():
            raise WorkspaceError(f"{root} is not a policy folder (a folder, not a link)")
        self.root = root.resolve()
        self._lock = threading.Lock()

    # -- paths ---------------------------------------------------------------------
    def resolve(self, name: str) -> Path:
        """The file ``name`` (relative, ``/``-separated) inside the folder, or
        ``WorkspaceError`` for anything that could lead outside or is not policy."""
        if (not name or len(name) > 200 or "\x00" in name or "\\" in name
                or name.startswith("/") or ":" in name):
            raise WorkspaceError(f"not a file of the policy folder: {name!r}")
        parts = name.split("/")
        if any(not part or part in ("..", ".") or part.startswith(".") for part in parts):
            raise WorkspaceError(f"not a file of the policy folder: {name!r}")
        if PurePosixPath(name).suffix not in EDITABLE:
            raise WorkspaceError(f"{name}: only {', '.join(EDITABLE)} files are edited here")
        path = self.root
        for part in parts:
            path = path / part
            if path.is_symlink():
                raise WorkspaceError(f"{name}: a link is not followed")
        if not path.resolve().is_relative_to(self.root):
            raise WorkspaceError(f"not a file of the policy folder: {name!r}")
        return path

    def files(self) -> list[str]:
        """Every editable file, relative, sorted: the policy, then cases and templates."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and not (Path(dirpath) / d).is_symlink())
            for filename in filenames:
                path = Path(dirpath) / filename
                if (path.suffix in EDITABLE and not filename.startswith(".")
                        and not path.is_symlink()):
                    found.append(path.relative_to(self.root).as_posix())
        return sorted(found, key=lambda n: ("/" in n, n))

    def read(self, name: str) -> str:
        path = self.resolve(name)
        if not path.is_file():
            raise WorkspaceError(f"no file {name} in the policy folder")
        return path.read_text(encoding="utf-8")

    # -- checks ----------------------------------------------------------------------
    @contextmanager
    def overlay(self, changes: Mapping[str, str]) -> Iterator[Path]:
        """A copy of the folder (same name, so problems name the same files) with
        ``changes`` (name -> text) written into it; removed afterwards."""
        targets = {self.resolve(name): text for name, text in changes.items()}
        with tempfile.TemporaryDirectory(prefix="triage-check-") as scratch:
            copy = Path(scratch) / self.root.name
            shutil.copytree(self.root, copy, symlinks=True,
                            ignore=shutil.ignore_patterns(".*"))
            for path, text in targets.items():
                where = copy / path.relative_to(self.root)
                if not where.parent.is_dir():
                    raise WorkspaceError(f"{path.relative_to(self.root)}: no such folder")
                where.write_text(text, encoding="utf-8")
            yield copy

    def check(self, changes: Mapping[str, str] | None = None) -> CheckResult:
        """``triage check`` on the folder with ``changes`` laid over it: load problems, or
        the templates that fail at run time and the warnings."""
        with self.overlay(changes or {}) as copy:
            try:
                policy = load_policy(copy)
            except PolicyError as exc:
                return CheckResult(False, None, 0, exc.problems, self.root.name)
            errors = template_problems(policy)
            found = (*errors, *policy.warnings, *analyse(policy, []))
            return CheckResult(not errors, policy.version, policy.rule_count,
                               tuple(sorted(found, key=Problem.sort_key)), self.root.name)

    def load(self) -> Policy:
        """The policy as saved in the folder now (raises ``PolicyError``)."""
        return load_policy(self.root)

    # -- writes ----------------------------------------------------------------------
    def save(self, name: str, text: str, author: str) -> CheckResult:
        """Write ``text`` to ``name`` when the folder then loads; keep the old text.

        Returns the check; nothing is written when it is not ``ok``.
        """
        if len(text.encode("utf-8")) > MAX_FILE:
            raise WorkspaceError(f"{name}: larger than {MAX_FILE:,} bytes")
        path = self.resolve(name)
        with self._lock:
            result = self.check({name: text})
            if not result.ok:
                return result
            if path.is_file():
                old = path.read_text(encoding="utf-8")
                if old == text:
                    return result
                self._keep_save(name, old, author)
            _write_atomic(path, text)
            return result

    def _keep_save(self, name: str, old: str, author: str) -> None:
        folder = self._state("saves")
        number = _next_number(folder)
        target = folder / f"{number:05d}"
        target.mkdir()
        (target / "text").write_text(old, encoding="utf-8")
        _write_json(target / "meta.json", {"file": name, "author": author, "when": _now()})

    def saves(self, name: str) -> list[Saved]:
        """The texts ``name`` had before each save, newest first, with who replaced them."""
        folder = self.root / STATE / "saves"
        found = []
        if folder.is_dir():
            for meta in sorted(folder.glob("*/meta.json"), reverse=True):
                data = json.loads(meta.read_text(encoding="utf-8"))
                if data.get("file") == name:
                    found.append(Saved(int(meta.parent.name), str(data["author"]),
                                       str(data["when"])))
        return found

    def record_publish(self, policy_version: str, author: str, note: str = "") -> Version:
        """Keep a copy of every editable file as published version N (who, when)."""
        with self._lock:
            folder = self._state("versions")
            number = _next_number(folder)
            target = folder / f"{number:05d}"
            files = target / "files"
            files.mkdir(parents=True)
            for name in self.files():
                where = files / name
                where.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.root / name, where)
            version = Version(number, policy_version, author, _now(), note)
            _write_json(target / "meta.json", version.to_dict())
            return version

    def versions(self) -> list[Version]:
        """The published versions, newest first."""
        folder = self.root / STATE / "versions"
        if not folder.is_dir():
            return []
        found = []
        for meta in sorted(folder.glob("*/meta.json"), reverse=True):
            data = json.loads(meta.read_text(encoding="utf-8"))
            found.append(Version(int(data["number"]), str(data["policy_version"]),
                                 str(data["author"]), str(data["when"]), str(data["note"])))
        return found

    def restore(self, number: int) -> None:
        """Put published version ``number`` back in the folder, file by file (atomically
        each); files made since are removed."""
        with self._lock:
            files = self.root / STATE / "versions" / f"{number:05d}" / "files"
            if not files.is_dir():
                raise WorkspaceError(f"no published version {number}")
            kept = {p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file()}
            for name in sorted(kept):
                path = self.resolve(name)
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(path, (files / name).read_text(encoding="utf-8"))
            for name in self.files():
                if name not in kept:
                    self.resolve(name).unlink()

    def _state(self, kind: str) -> Path:
        folder = self.root / STATE / kind
        if any(p.is_symlink() for p in (self.root / STATE, folder)):
            raise WorkspaceError(f"{STATE}/{kind} is a link: refusing to write through it")
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    _write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def _next_number(folder: Path) -> int:
    numbers = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
    return max(numbers, default=0) + 1


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
