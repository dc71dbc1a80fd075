"""``PolicyStore`` watching its folder: a change is served once it holds still, a broken
one never, hidden folders do not count, and a watching store stops when closed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from triage.errors import TriageError
from triage.integrations.store import PolicyStore, fingerprint

from ..conftest import FIXTURES, write_policy

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")
SERVICE = MINIMAL.replace("when: {text: [$leak]}\n        set: {category: product_quality}",
                          "when: {text: [$leak]}\n        set: {category: service}")
LEAK = {"id": "1", "channel": "web", "text": "漏水"}


def _folder(tmp_path: Path) -> Path:
    return write_policy(tmp_path / "rules", {"policy.yaml": MINIMAL})


def test_a_change_is_served_once_it_has_held_still_for_one_look(tmp_path: Path) -> None:
    """The first look after a change only notes it; the next, seeing the same files,
    reloads; then there is nothing to do."""
    folder = _folder(tmp_path)
    store = PolicyStore(folder)
    first = store.version
    assert store.reload_if_changed() is None
    (folder / "policy.yaml").write_text(SERVICE, encoding="utf-8")
    assert store.reload_if_changed() is None and store.version == first
    result = store.reload_if_changed()
    assert result is not None and result.ok and store.version != first
    assert store.triage(LEAK).category == "service"
    assert store.reload_if_changed() is None and store.last_reload == result


def test_a_folder_still_changing_is_not_loaded(tmp_path: Path) -> None:
    """Each look that sees different files from the one before waits again."""
    folder = _folder(tmp_path)
    store = PolicyStore(folder)
    first = store.version
    for n in range(3):
        (folder / "policy.yaml").write_text(SERVICE + f"# {n}\n", encoding="utf-8")
        assert store.reload_if_changed() is None
    assert store.version == first


def test_a_broken_change_keeps_the_old_policy_until_it_is_fixed(tmp_path: Path) -> None:
    """A change that does not load is refused once, with its problems, not retried while
    the files stay the same, and the fix is served."""
    folder = _folder(tmp_path)
    store = PolicyStore(folder)
    first = store.version
    (folder / "policy.yaml").write_text(MINIMAL.replace("rules:", "rulez:", 1), "utf-8")
    store.reload_if_changed()
    refused = store.reload_if_changed()
    assert refused is not None and not refused.ok and "rulez" in "\n".join(refused.problems)
    assert store.version == first and store.triage(LEAK).category == "product_quality"
    assert store.reload_if_changed() is None
    (folder / "policy.yaml").write_text(SERVICE, encoding="utf-8")
    store.reload_if_changed()
    fixed = store.reload_if_changed()
    assert fixed is not None and fixed.ok and store.triage(LEAK).category == "service"


def test_hidden_folders_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    """The workbench's drafts and a .git folder live beside the policy without moving
    it; any other file does."""
    folder = _folder(tmp_path)
    before = fingerprint(folder)
    (folder / ".workbench" / "draft").mkdir(parents=True)
    (folder / ".workbench" / "draft" / "policy.yaml").write_text(SERVICE, "utf-8")
    (folder / ".hidden.yaml").write_text("x: 1\n", "utf-8")
    assert fingerprint(folder) == before
    (folder / "cases").mkdir()
    (folder / "cases" / "c.yaml").write_text("cases: []\n", "utf-8")
    assert fingerprint(folder) != before


def test_a_watching_store_serves_what_another_process_deploys(tmp_path: Path) -> None:
    """Another process copies a new policy into the folder: the watching store serves it
    within a few looks, and stops looking when closed."""
    folder = _folder(tmp_path)
    source = write_policy(tmp_path / "next", {"policy.yaml": SERVICE})
    with PolicyStore(folder, watch=0.05) as store:
        first = store.version
        subprocess.run([sys.executable, "-c", "import shutil, sys; "
                        "shutil.copyfile(sys.argv[1], sys.argv[2])",
                        str(source / "policy.yaml"), str(folder / "policy.yaml")], check=True)
        deadline = time.monotonic() + 20
        while store.version == first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.version != first
        assert store.triage(LEAK).category == "service"
        thread = store._thread
    assert thread is not None and not thread.is_alive()


def test_watch_needs_a_folder_and_a_positive_interval(tmp_path: Path) -> None:
    """The bundled policy never changes, and an interval of 0 would spin."""
    with pytest.raises(TriageError, match="folder"):
        PolicyStore(None, watch=1.0)
    with pytest.raises(TriageError, match="above 0"):
        PolicyStore(_folder(tmp_path), watch=0)
