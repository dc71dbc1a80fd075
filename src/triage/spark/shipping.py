"""The policy shipped with a Spark job, and loaded once per executor process.

On the driver, ``ship`` loads the policy (a ``PolicyError`` lists its problems before any
task runs), copies its files into a zip archive named by their content hash and adds it
to the job (``SparkContext.addArchive``: served by the driver, unpacked on each node). On
an executor, ``executor_policy`` loads the unpacked copy the first time a Python worker
needs it and checks that its version is the one the job was submitted with; the loaded
policy is kept for the life of the worker process (Spark reuses Python workers between
tasks), so a policy is parsed once per process, never per row or batch.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import PolicyVersionError
from ..policy import DEFAULT_MAX_TEXT_LENGTH, Engine, Policy, bundled_policy_path, load_policy

#: What ``triage_dataframe(policy=...)`` accepts: a loaded policy, a directory or file of
#: one, or None for the bundled default policy.
PolicySource = Policy | str | os.PathLike[str] | None


@dataclass(frozen=True, slots=True)
class Shipped:
    """A policy as the executors find it: the archive's name in ``SparkFiles``, the
    policy directory or file inside it (under the folder name it had on the driver, so
    that decisions name the same files), the version the driver loaded, the options."""

    archive: str
    entry: str
    version: str
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
    engine: Engine = "compiled"

    def path(self, root: Path) -> Path:
        """Where the policy is once the archive is unpacked at ``root``."""
        return root / self.entry


def ship(spark: Any, policy: PolicySource) -> tuple[Shipped, Policy]:
    """Add ``policy``'s files to ``spark``'s jobs; the ``Shipped`` reference the executors
    load it by, and the policy as the driver loaded it.

    Raises ``PolicyError`` (every problem, with file and line) when the policy does not
    load, and ``PolicyVersionError`` when a loaded ``Policy``'s files have changed since.
    """
    if isinstance(policy, Policy):
        loaded, root = policy, policy.path
    else:
        root = bundled_policy_path() if policy is None else Path(policy)
        loaded = load_policy(root)  # its problems name the caller's files
    archive, entry = _archive(root.resolve())
    shipped = Shipped(archive.name, entry, loaded.version, loaded.max_text_length,
                      loaded.engine)
    with tempfile.TemporaryDirectory(prefix="triage-spark-") as folder:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder)
        staged = load_policy(shipped.path(Path(folder)), max_text_length=loaded.max_text_length,
                             engine=loaded.engine)
    if staged.version != loaded.version:
        raise PolicyVersionError(
            f"the policy files at {root} changed after the policy was loaded (version "
            f"{loaded.version}, the files now {staged.version}): load the policy again")
    context = spark.sparkContext
    if not any(Path(uri).name == archive.name for uri in context.listArchives):
        context.addArchive(str(archive))
    return shipped, loaded


def _archive(root: Path) -> tuple[Path, str]:
    """A zip of the policy at ``root`` (a directory, with its template folders, or one
    file) in the temporary folder, named by the hash of its contents and made once, and
    where the policy is inside it: the files sit under the name of their folder."""
    files = (sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
             if root.is_dir() else [root])
    top = root.parent if root.is_dir() else root.parent.parent
    names = [file.relative_to(top).as_posix() for file in files]
    digest = hashlib.sha256()
    for file, name in zip(files, names, strict=True):
        digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    folder = Path(tempfile.gettempdir()) / "triage-spark"
    folder.mkdir(exist_ok=True)
    target = folder / f"triage-policy-{digest.hexdigest()[:20]}.zip"
    if not target.exists():
        partial = target.with_suffix(f".{os.getpid()}.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zipped:
            for file, name in zip(files, names, strict=True):
                zipped.write(file, name)
        partial.replace(target)  # atomic: a concurrent job sees the whole file or none
    return target, root.relative_to(top).as_posix()


@cache
def executor_policy(shipped: Shipped) -> Policy:
    """The shipped policy in this worker process, loaded on first use and then kept
    (``functools.cache``: one entry per policy version a process has decided with).

    Raises ``PolicyVersionError`` when the files here make another version than the
    driver's (another triage release on this node, an archive replaced under the same
    name): the task fails, so that the job never mixes versions.
    """
    from pyspark import SparkFiles  # noqa: PLC0415 (optional dependency, loaded on use)

    root = Path(SparkFiles.get(shipped.archive))
    if not root.exists():
        raise PolicyVersionError(f"the policy archive {shipped.archive} is not on this "
                                 f"executor ({root}): was it added to this SparkContext?")
    policy = load_policy(shipped.path(root), max_text_length=shipped.max_text_length,
                         engine=shipped.engine)
    if policy.version != shipped.version:
        raise PolicyVersionError(
            f"executor {os.uname().nodename} (pid {os.getpid()}) loads policy version "
            f"{policy.version} from {shipped.archive}, but the job was submitted with "
            f"{shipped.version}: install the same triage release on the driver and every "
            "executor, and do not replace a shipped policy archive")
    return policy


def clear_executor_policies() -> None:
    """Forget the policies this process loaded (for tests)."""
    executor_policy.cache_clear()

