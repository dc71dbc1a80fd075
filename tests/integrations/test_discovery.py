"""Which policy a command runs: the one being edited, said on stderr; a policy is its folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import triage
from triage.cli import main
from triage.integrations.discovery import locate_policy

from ..conftest import FIXTURES


def _policy_copy(where: Path) -> Path:
    """A copy of the bundled policy (with its templates, cases) at ``where``."""
    shutil.copytree(triage.bundled_policy_path(), where)
    return where


def _rename_category(folder: Path) -> None:
    """An edit whose effect shows: the service category's label changes."""
    path = folder / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    assert "service: 服务类" in text
    path.write_text(text.replace("service: 服务类", "service: 服务问题类"), encoding="utf-8")


def test_the_order_is_flag_variable_setting_rules_folder_bundled(tmp_path: Path) -> None:
    """--policy (or a folder argument) beats TRIAGE_POLICY beats triage.toml/pyproject
    beats ./rules beats bundled."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "policy.yaml").write_text("policy: {name: x}\n", encoding="utf-8")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert locate_policy(None, tmp_path / "a", {}).source == "bundled"
    assert locate_policy(None, tmp_path, {}) == locate_policy(None, tmp_path, {})
    assert locate_policy(None, tmp_path, {}).path == (tmp_path / "rules").resolve()
    (tmp_path / "pyproject.toml").write_text('[tool.triage]\npolicy = "mine"\n', "utf-8")
    assert locate_policy(None, deep, {}).path == tmp_path.resolve() / "mine"
    (tmp_path / "a" / "triage.toml").write_text('policy = "../theirs"\n', encoding="utf-8")
    found = locate_policy(None, deep, {})
    assert (found.source, found.path) == ("triage.toml", tmp_path.resolve() / "a" / "../theirs")
    assert locate_policy(None, deep, {"TRIAGE_POLICY": "env"}).path == Path("env")
    given = locate_policy("flag", deep, {"TRIAGE_POLICY": "env"})
    assert (given.path, given.source) == (Path("flag"), "the command line")


def test_an_edited_rules_folder_is_what_explain_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In a folder with rules/, `triage explain` runs that policy (not the installed copy)
    and its first stderr line says so, with the version."""
    _rename_category(_policy_copy(tmp_path / "rules"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGE_POLICY", raising=False)
    assert main(["explain", "客服态度太差了", "--json"]) == 0
    captured = capsys.readouterr()
    first = captured.err.splitlines()[0]
    edited = triage.load_policy(tmp_path / "rules")
    assert first == (f"triage: policy {(tmp_path / 'rules').resolve()} ({edited.name}, "
                     f"version {edited.version}; from ./rules)")
    assert edited.version != triage.load_policy().version
    assert json.loads(captured.out)["policy_version"] == edited.version


def test_the_variable_names_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """TRIAGE_POLICY is used by route when no --policy is given, and said."""
    monkeypatch.setenv("TRIAGE_POLICY", str(FIXTURES / "minimal"))
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.jsonl"
    source.write_text('{"id":"a","channel":"phone","text":"漏水"}\n', encoding="utf-8")
    assert main(["route", str(source)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"triage: policy {FIXTURES / 'minimal'} (") and "TRIAGE_POLICY" in err


def test_diff_of_a_copied_folder_compares_each_side_with_its_own_templates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`cp -r rules old_rules`, edit rules, `triage diff old_rules rules`: both load (each
    side's scripts folder is inside it) and the change shows."""
    old = _policy_copy(tmp_path / "old_rules")
    new = _policy_copy(tmp_path / "rules")
    _rename_category(new)
    monkeypatch.chdir(tmp_path)
    assert main(["diff", "old_rules", "rules", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0].startswith("triage: old policy old_rules (")
    assert captured.err.splitlines()[1].startswith("triage: new policy rules (")
    assert old.is_dir() and json.loads(captured.out)


def test_a_scripts_folder_outside_the_policy_is_refused(tmp_path: Path) -> None:
    """`scripts: ../elsewhere` (or a link to a folder outside) is an outside-policy error."""
    policy = tmp_path / "policy"
    shutil.copytree(FIXTURES / "replies", policy)
    shutil.move(policy / "scripts_cn", tmp_path / "scripts_cn")
    text = (policy / "policy.yaml").read_text(encoding="utf-8")
    (policy / "policy.yaml").write_text(text.replace("scripts: scripts_cn",
                                                     "scripts: ../scripts_cn"), "utf-8")
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(policy)
    assert [p.code for p in info.value.problems] == ["outside-policy"]
    (policy / "policy.yaml").write_text(text, encoding="utf-8")
    (policy / "scripts_cn").symlink_to(tmp_path / "scripts_cn")
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(policy)
    assert [p.code for p in info.value.problems] == ["outside-policy"]


@pytest.mark.parametrize("kind", ["template", "policy file"])
def test_a_file_linked_outside_is_not_read_nor_echoed(tmp_path: Path, kind: str) -> None:
    """A template or policy file that links to a file outside the policy (/etc/passwd, a
    secret) is refused unread: no line of it appears in the error."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:TOP-SECRET-LINE\n", encoding="utf-8")
    policy = tmp_path / "policy"
    shutil.copytree(FIXTURES / "replies", policy)
    link = policy / ("scripts_cn/leak.j2" if kind == "template" else "leak.yaml")
    os.symlink(secret, link)
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(policy)
    assert [p.code for p in info.value.problems] == ["outside-policy"]
    assert "TOP-SECRET" not in str(info.value)


def test_a_broken_triage_toml_is_an_error_but_a_broken_pyproject_is_not_ours(
        tmp_path: Path) -> None:
    """Our own triage.toml must parse; another project's pyproject.toml is skipped."""
    (tmp_path / "pyproject.toml").write_text("[tool.triage\n", encoding="utf-8")
    assert locate_policy(None, tmp_path, {}).source == "bundled"
    (tmp_path / "triage.toml").write_text("policy = \n", encoding="utf-8")
    with pytest.raises(triage.TriageError, match=r"triage\.toml: not readable TOML"):
        locate_policy(None, tmp_path, {})
