"""The policy folder as the workbench edits it: a draft, confined paths, checks, saves,
publishing and versions.

Authors edit a draft, a copy of the published folder kept in ``.workbench/draft/``; the
policy folder itself changes only when a draft is published, so services watching it
(``PolicyStore(watch=...)``) never see unpublished work. Every path an author names is
resolved inside the draft: no ``..``, no absolute path, no hidden part, no symbolic link
on the way, only policy and template file types. A save is tried first on a copy of the
draft with the new text and written (to a temporary file renamed over the old one) only
when that copy loads; the text it replaces is kept.

The draft remembers the published files it started from (its base). Publishing builds the
draft (load and cases) and writes its files into the folder; when the folder was changed
meanwhile (another author published, someone edited the folder by hand), a publish that
touches none of the same files goes on top of the new folder, and one that does is
refused, naming the files. Each publish keeps a copy of the folder's files with who
published it and when, so a revert puts a published version back. The workbench's own
files live in ``.workbench/``, which the policy loader never reads.
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
from ..integrations.store import PolicyStore, build_policy, fingerprint
from ..policy import Policy, load_policy

#: The kinds of file an author may open and save.
EDITABLE = (".yaml", ".yml", ".j2")
#: The largest file the editor saves.
MAX_FILE = 512_000
#: The workbench's own folder inside the policy folder.
STATE = ".workbench"


class WorkspaceError(TriageError):
    """A path outside the policy folder, a link, a file type that is not policy."""


class PublishError(TriageError):
    """A publish that did not happen: the draft fails, or it clashes with the folder."""

    def __init__(self, message: str, problems: tuple[str, ...] = (),
                 conflicts: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems
        self.conflicts = conflicts


@dataclass(frozen=True, slots=True)
class DraftState:
    """How the draft stands against the published folder.

    ``changed``: the draft's own changes since its base, as (file, ``added`` | ``changed``
    | ``removed``); ``moved``: the files the published folder changed since the base;
    ``conflicts``: files changed on both sides.
    """

    changed: tuple[tuple[str, str], ...]
    moved: tuple[str, ...]
    conflicts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"changed": [{"file": f, "change": c} for f, c in self.changed],
                "published_moved": list(self.moved), "conflicts": list(self.conflicts)}


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
    """One policy folder and its draft. Writes are serialised by an instance lock."""

    __slots__ = ("_cache", "_lock", "draft", "read_only", "root")

    def __init__(self, root: Path, *, read_only: bool = False) -> None:
        if root.is_symlink() or not root.is_dir():
            raise WorkspaceError(f"{root} is not a policy folder (a folder, not a link)")
        self.root = root.resolve()
        self.read_only = read_only
        #: The draft folder: the same name as the policy folder, so that problems and
        #: rule sources name the same files in both. Read-only, there is no draft: the
        #: pages show the folder itself and nothing is written.
        self.draft = self.root if read_only else self.root / STATE / "draft" / self.root.name
        self._lock = threading.RLock()
        self._cache: tuple[str, Policy] | None = None

    # -- the draft ---------------------------------------------------------------------
    def _base(self) -> Path:
        return self.root / STATE / "draft-base"

    def ensure_draft(self) -> None:
        """Make the draft (a copy of the folder) when there is none; a draft with no
        change of its own follows the published folder."""
        if not self.read_only:
            self._trees()

    def _trees(self) -> tuple[dict[str, bytes], dict[str, bytes], dict[str, bytes]]:
        """``ensure_draft``, then the files of the base, the draft and the folder, each
        read once (the pages and a publish compare them)."""
        with self._lock:
            self._refuse_links("draft", "draft-base")
            live = _tree(self.root)
            if self.draft.is_dir() and self._base().is_dir():
                base, draft = _tree(self._base()), _tree(self.draft)
                if draft != base or live == base:
                    return base, draft, live
            self._reset_draft(live)
            return live, live, live

    def _reset_draft(self, live: Mapping[str, bytes] | None = None) -> None:
        """Make the draft, and its base, the published folder as it is now (``live``:
        its files, when already read)."""
        files = _tree(self.root) if live is None else live
        _replace_tree(self.draft, files)
        _replace_tree(self._base(), files)

    def discard(self) -> None:
        """Throw the draft away: it becomes the published folder again."""
        with self._lock:
            self._refuse_links("draft", "draft-base")
            self._reset_draft()

    def state(self) -> DraftState:
        """The draft's changes, the folder's changes since the base, and where they meet."""
        if self.read_only:
            return DraftState((), (), ())
        base, draft, live = self._trees()
        _, conflicts = merge(base, draft, live)
        return DraftState(tuple(_changes(base, draft)),
                          tuple(name for name, _ in _changes(base, live)), conflicts)

    # -- paths ---------------------------------------------------------------------
    def resolve(self, name: str) -> Path:
        """The file ``name`` (relative, ``/``-separated) inside the draft, or
        ``WorkspaceError`` for anything that could lead outside or is not policy (a link in
        the published folder too: a publish would write there)."""
        _confine(self.root, name)
        return _confine(self.draft, name)

    def files(self) -> list[str]:
        """Every editable file of the draft, relative, sorted: the policy, then cases and
        templates."""
        self.ensure_draft()
        return _editable(self.draft)

    def read(self, name: str) -> str:
        self.ensure_draft()
        path = self.resolve(name)
        if not path.is_file():
            raise WorkspaceError(f"no file {name} in the policy folder")
        return path.read_text(encoding="utf-8")

    # -- checks ----------------------------------------------------------------------
    @contextmanager
    def overlay(self, changes: Mapping[str, str]) -> Iterator[Path]:
        """A copy of the draft (same name, so problems name the same files) with
        ``changes`` (name -> text) written into it; removed afterwards."""
        self.ensure_draft()
        targets = {self.resolve(name): text for name, text in changes.items()}
        with tempfile.TemporaryDirectory(prefix="triage-check-") as scratch:
            copy = Path(scratch) / self.root.name
            shutil.copytree(self.draft, copy, symlinks=True,
                            ignore=shutil.ignore_patterns(".*"))
            for path, text in targets.items():
                where = copy / path.relative_to(self.draft)
                if not where.parent.is_dir():
                    raise WorkspaceError(f"{path.relative_to(self.draft)}: no such folder")
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
        """The draft's policy as saved now (raises ``PolicyError``); loaded once per
        content of the draft."""
        with self._lock:
            self.ensure_draft()
            key = fingerprint(self.draft)
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            policy = load_policy(self.draft)
            self._cache = (key, policy)
            return policy

    # -- writes ----------------------------------------------------------------------
    def save(self, name: str, text: str, author: str) -> CheckResult:
        """Write ``text`` to the draft's ``name`` when the draft then loads; keep the old
        text.

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

    def publish(self, store: PolicyStore, author: str, note: str = "") -> Version:
        """Build the draft (load and cases), write it into the folder, and have ``store``
        serve it; keep it as a published version. ``PublishError`` says why not."""
        with self._lock:
            base, draft, live = self._trees()
            mine = _changes(base, draft)
            if not mine and draft == live:
                raise PublishError("草稿和在用的版本一样，没有要发布的修改")
            merged, clash = merge(base, draft, live)
            if clash:
                raise PublishError(
                    "你开始修改之后，在用的策略里这些文件也被改过（别人发布了，或有人直接"
                    "改了文件夹）：" + "、".join(clash) + "。没有发布。放弃草稿后重新修改，"
                    "或把你的修改合进新的版本再发布。", conflicts=clash)
            if merged != draft:  # the draft's own changes, on the folder as it is now
                _replace_tree(self.draft, merged)
                draft = merged
            built, problems = build_policy(self.draft, run_cases=store.run_cases)
            if built is None:
                raise PublishError("没有发布，仍在使用旧版本：", problems=tuple(problems))
            try:
                _write_tree(self.root, draft, live)
            except WorkspaceError as exc:
                raise PublishError(f"没有发布：{exc}") from exc
            result = store.reload(self.root)
            if not result.ok:  # the folder changed under us: put the old one back
                _write_tree(self.root, live, draft)
                store.reload(self.root)
                raise PublishError("没有发布，仍在使用旧版本：", problems=result.problems)
            _replace_tree(self._base(), draft)
            return self.record_publish(result.version, author, note)

    def record_publish(self, policy_version: str, author: str, note: str = "") -> Version:
        """Keep a copy of every editable file as published version N (who, when)."""
        with self._lock:
            folder = self._state("versions")
            number = _next_number(folder)
            target = folder / f"{number:05d}"
            files = target / "files"
            files.mkdir(parents=True)
            for name in _editable(self.root):
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
        """Make the draft published version ``number`` (its files, and none since); a
        publish then puts it back in service."""
        with self._lock:
            files = self.root / STATE / "versions" / f"{number:05d}" / "files"
            if not files.is_dir():
                raise WorkspaceError(f"no published version {number}")
            self.ensure_draft()
            kept = _tree(files)
            for name in kept:
                self.resolve(name)  # a kept file that is not policy is refused
            _replace_tree(self.draft, kept, keep_uneditable=True)

    def _refuse_links(self, *kinds: str) -> None:
        for where in (self.root / STATE, *(self.root / STATE / k for k in kinds), self.draft):
            if where.is_symlink():
                raise WorkspaceError(f"{where.relative_to(self.root)} is a link: refusing "
                                     "to write through it")

    def _state(self, kind: str) -> Path:
        folder = self.root / STATE / kind
        if any(p.is_symlink() for p in (self.root / STATE, folder)):
            raise WorkspaceError(f"{STATE}/{kind} is a link: refusing to write through it")
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _confine(root: Path, name: str) -> Path:
    """``name`` inside ``root``: relative, no hidden part or link, a policy file type."""
    if (not name or len(name) > 200 or "\x00" in name or "\\" in name
            or name.startswith("/") or ":" in name):
        raise WorkspaceError(f"not a file of the policy folder: {name!r}")
    parts = name.split("/")
    if any(not part or part in ("..", ".") or part.startswith(".") for part in parts):
        raise WorkspaceError(f"not a file of the policy folder: {name!r}")
    if PurePosixPath(name).suffix not in EDITABLE:
        raise WorkspaceError(f"{name}: only {', '.join(EDITABLE)} files are edited here")
    path = root
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise WorkspaceError(f"{name}: a link is not followed")
    if not path.resolve().is_relative_to(root.resolve()):
        raise WorkspaceError(f"not a file of the policy folder: {name!r}")
    return path


def _editable(root: Path) -> list[str]:
    """The editable files under ``root`` (no hidden part, no link), policy files first."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and not (Path(dirpath) / d).is_symlink())
        for filename in filenames:
            path = Path(dirpath) / filename
            if (path.suffix in EDITABLE and not filename.startswith(".")
                    and not path.is_symlink()):
                found.append(path.relative_to(root).as_posix())
    return sorted(found, key=lambda n: ("/" in n, n))


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` that is not hidden and not a link: name -> bytes (the
    files a policy is made of, editable or not)."""
    found: dict[str, bytes] = {}
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and d != "__pycache__" and not (Path(dirpath) / d).is_symlink())
        for filename in filenames:
            path = Path(dirpath) / filename
            if not filename.startswith(".") and not path.is_symlink() and path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def _changes(before: Mapping[str, bytes], after: Mapping[str, bytes]
             ) -> list[tuple[str, str]]:
    """The files that differ: (name, ``added`` | ``changed`` | ``removed``), sorted."""
    found = []
    for name in sorted({*before, *after}):
        if name not in after:
            found.append((name, "removed"))
        elif name not in before:
            found.append((name, "added"))
        elif before[name] != after[name]:
            found.append((name, "changed"))
    return found


def merge(base: Mapping[str, bytes], draft: Mapping[str, bytes],
          live: Mapping[str, bytes]) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """The folder ``live`` with the draft's own changes (``draft`` against ``base``) laid
    on it, and the files both changed differently (then the merge must not be used)."""
    merged = dict(live)
    ours = dict(_changes(base, draft))
    theirs = dict(_changes(base, live))
    clash = tuple(name for name in sorted(ours)
                  if name in theirs and draft.get(name) != live.get(name))
    for name, change in ours.items():
        if change == "removed":
            merged.pop(name, None)
        else:
            merged[name] = draft[name]
    return merged, clash


def _write_tree(root: Path, files: Mapping[str, bytes], old: Mapping[str, bytes]) -> None:
    """Make ``root``'s files ``files`` (it now has ``old``): each changed file replaced
    in one step, files that went removed; hidden files are left alone."""
    changed = [name for name, raw in files.items() if old.get(name) != raw]
    for name in changed:  # all checked before the first write
        path = root
        for part in name.split("/"):
            path = path / part
            if path.is_symlink():
                raise WorkspaceError(f"{name}: a link is not written through")
    for name in changed:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic_bytes(path, files[name])
    for name in old:
        if name not in files:
            (root / name).unlink(missing_ok=True)


def _replace_tree(root: Path, files: Mapping[str, bytes], *, keep_uneditable: bool = False
                  ) -> None:
    """Make ``root`` hold exactly ``files`` (with ``keep_uneditable``: also keep its
    files of other types, which published versions do not copy)."""
    now = _tree(root)
    if keep_uneditable:
        files = {**{n: b for n, b in now.items() if PurePosixPath(n).suffix not in EDITABLE},
                 **files}
    root.mkdir(parents=True, exist_ok=True)
    _write_tree(root, files, now)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    _write_atomic_bytes(path, text.encode("utf-8"))


def _write_atomic_bytes(path: Path, raw: bytes) -> None:
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
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
