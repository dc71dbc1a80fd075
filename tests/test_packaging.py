"""The wheel carries the default policy: built, unpacked elsewhere, it routes the examples."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "complaints.jsonl"

RUN = """
import sys
sys.path.insert(0, {site!r})
import triage
from triage.cli import main
from triage.policy import bundled_policy_path
assert triage.__file__.startswith({site!r}), triage.__file__
assert str(bundled_policy_path()).startswith({site!r}), bundled_policy_path()
sys.exit(main(["route", {examples!r}]))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("needs the source tree")
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
               str(ROOT)]
    if importlib.util.find_spec("hatchling") is not None:
        command.insert(4, "--no-build-isolation")  # no download when the backend is here
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("triage-*.whl")
    return built


def test_wheel_contains_the_default_policy_and_data(wheel: Path) -> None:
    """Rules, reply-script folder and the fold table are inside the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "triage/_bundled/rules/policy.yaml" in names
    assert any(n.startswith("triage/_bundled/rules/scripts_cn/") for n in names)
    assert "triage/_data/fold.json" in names
    assert "triage/py.typed" in names
    assert {"triage/_bundled/examples/complaints.jsonl", "triage/_bundled/corpus/corpus.jsonl",
            "triage/_bundled/corpus/holdout.jsonl"} <= names  # triage diff's default sample
    assert {"triage/web/templates/base.html", "triage/web/templates/try.html",
            "triage/web/static/workbench.js", "triage/web/static/workbench.css"} <= names


def test_unpacked_wheel_routes_the_examples_with_its_bundled_policy(
        wheel: Path, tmp_path: Path) -> None:
    """Away from the repository, the CLI of the wheel decides every example record."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    done = subprocess.run(
        [sys.executable, "-c", RUN.format(site=str(site), examples=str(EXAMPLES))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    records = [line for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(records)
    assert all("category" in json.loads(line) for line in lines)
