"""Where ``triage route --out FILE`` writes: beside FILE, renamed over it when the run ends.

Lines go to ``FILE.partial``; only a run that ends renames it over FILE (after an fsync),
so a killed run (SIGKILL, a full disk, a lost container) leaves FILE as it was, or
absent. ``--resume`` continues such a run: the complete lines of the partial output are
kept (a line cut by the kill is dropped), the input records they answer are skipped
after checking that they are the same records (by line number and id), and the run goes
on from there, ending with the same file a clean run writes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ..complaint import blank_line
from ..errors import TriageError

PARTIAL_SUFFIX = ".partial"


def partial_path(target: Path) -> Path:
    """The file a run writes before it is renamed over ``target``."""
    return target.with_name(target.name + PARTIAL_SUFFIX)


def refuse_same_file(source: Path, target: Path) -> None:
    """Refuse an output that is the input (the same file, also through links)."""
    if not target.exists():
        return
    a, b = source.stat(), target.stat()
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        raise TriageError(f"--out {target} is the input file itself; writing it would erase "
                          "the complaints: choose another output file")


class AtomicOutput:
    """The partial output of one run: append lines, then ``commit`` (rename over FILE)."""

    def __init__(self, target: Path, *, resume: bool) -> None:
        self.target = target
        self.partial = partial_path(target)
        #: The output lines kept from an earlier, killed run (``--resume``).
        self.kept: list[str] = []
        try:
            if resume and self.partial.exists():
                self.kept, size = _complete_lines(self.partial)
                self._file: IO[str] = self.partial.open("r+", encoding="utf-8", newline="\n")
                self._file.seek(size)
                self._file.truncate()
            else:
                self._file = self.partial.open("w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise TriageError(f"cannot write {self.partial}: {exc.strerror or exc}") from None

    def write(self, text: str) -> None:
        self._file.write(text)

    def commit(self) -> None:
        """Make the run's output FILE: flushed, synced, renamed in one step."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.target)
        try:  # the rename itself survives a crash once the folder is synced
            folder = os.open(self.target.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def abandon(self) -> None:
        """Stop without renaming: the partial output stays for ``--resume``."""
        self._file.close()


def skip_decided(lines: Iterable[bytes], kept: list[str]) -> tuple[int, Iterator[bytes]]:
    """The number of the first input line ``kept`` does not answer, and the lines from it.

    The n-th kept output line answers the n-th non-blank input line; each is checked
    (an error record names its line, a decision its complaint id), so that a partial
    output of another input is refused rather than continued.
    """
    source = iter(lines)
    number = 0
    for answer in kept:
        raw = b""
        while blank_line(raw):
            raw = next(source, b"")
            number += 1
            if not raw:
                raise TriageError("--resume: the partial output has more lines than the "
                                  "input has records: it belongs to another input (delete "
                                  "it, or run without --resume)")
        _check_answer(answer, number, raw)
    return number + 1, source


def _check_answer(answer: str, number: int, raw: bytes) -> None:
    try:
        data = json.loads(answer)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TriageError(f"--resume: the partial output's line for input line {number} is "
                          "not a decision: it was not written by triage route")
    error = data.get("error")
    if isinstance(error, dict):
        if error.get("line") != number:
            raise _mismatch(number, f"an error record for line {error.get('line')}")
        return
    given = _record_id(raw)
    if given is not None and data.get("complaint_id") != given:
        raise _mismatch(number, f"the decision of '{data.get('complaint_id')}', not '{given}'")


def _mismatch(number: int, found: str) -> TriageError:
    return TriageError(f"--resume: the partial output answers input line {number} with "
                       f"{found}: it belongs to another input (delete it, or run without "
                       "--resume)")


def _record_id(raw: bytes) -> str | None:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _complete_lines(path: Path) -> tuple[list[str], int]:
    """The lines of ``path`` that end with a newline (a line cut by a kill is dropped),
    and their size in bytes."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    if end < 0:
        return [], 0
    return data[:end].decode("utf-8", errors="replace").split("\n"), end + 1
