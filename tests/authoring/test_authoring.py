"""The policy author's tools: check's analysis, schema, policy cases, the plugin, diff."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import triage
from triage.authoring.analysis import analyse
from triage.authoring.cases import load_cases, run_case
from triage.authoring.diff import diff_policies

from ..conftest import FIXTURES, write_policy

pytest_plugins = ["pytester"]
MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], input=stdin,
                          capture_output=True, text=True, check=False)


def test_check_reports_shadowed_rules_unused_words_slow_regex_and_gaps(tmp_path: Path) -> None:
    """Each analysis finding is a warning at the rule or entry concerned."""
    extra = MINIMAL.replace("  danger: [冒烟, 起火]\n", "  danger: [冒烟, 起火]\n  spare: [备用]\n")
    extra = extra.replace("""      - id: cat.attitude
        priority: 10""", """      - id: cat.attitude
        priority: 10
        when: {text: [$attitude]}
        set: {category: service}
      - id: cat.attitude_again
        priority: 5
        when: {text: [$attitude]}
        set: {category: other}
      - id: cat.slow
        priority: 4
        when: {regex: '[^。]{0,200}坏'}
        set: {category: other}
      - id: cat.unused
        priority: 3""")
    policy = triage.load_policy(write_policy(tmp_path / "p", {"policy.yaml": extra}))
    sample = [{"id": str(i), "channel": "web", "text": "你好"} for i in range(10)]
    found = {(p.code, p.line) for p in analyse(policy, sample)}
    lines = extra.splitlines()
    line_of = {key: next(i + 1 for i, line in enumerate(lines) if key in line)
               for key in ("cat.attitude_again", "cat.slow", "spare:", "  category:")}
    assert ("shadowed-rule", line_of["cat.attitude_again"]) in found
    assert ("slow-regex", line_of["cat.slow"]) in found
    assert ("unused-vocabulary", line_of["spare:"]) in found
    assert any(code == "stage-gap" for code, _ in found)
    done = cli("check", str(tmp_path / "p"), "--strict", "--format", "json")
    assert done.returncode == 1
    assert {w["code"] for w in json.loads(done.stdout)} >= {"shadowed-rule", "slow-regex"}


def test_default_policy_checks_clean() -> None:
    """The bundled policy has no warning, so --strict passes."""
    done = cli("check", "--strict")
    assert done.returncode == 0, done.stderr + done.stdout


def test_schema_describes_every_section() -> None:
    """triage schema prints a JSON Schema an editor can use for policy files."""
    schema = json.loads(cli("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"policy", "taxonomy", "vocabularies", "roles", "calendars", "stages",
            "escalation", "forbidden"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


CASES = """cases:
  - name: 漏水是产品质量
    complaint: {text: 漏水}
    expect: {category: product_quality, severity: general}
  - name: 写错的期望
    complaint: {text: 态度差}
    expect: {category: product_quality, owner: manager}
  - name: 多余的键
    complaint: {text: 漏水}
    expect: {categroy: service}
"""


def test_cases_report_expected_actual_and_rules(tmp_path: Path) -> None:
    """A failing case lists each wrong field and the rules that fired; bad keys are located."""
    root = write_policy(tmp_path / "p", {"policy.yaml": MINIMAL, "cases/basic.yaml": CASES})
    cases, problems = load_cases(root / "cases" / "basic.yaml")
    assert [(p.line, p.code) for p in problems] == [(10, "unknown-key")]
    policy = triage.load_policy(root)
    good, bad = (run_case(policy, c) for c in cases)
    assert good.passed and not bad.passed
    report = bad.report()
    assert "category: expected product_quality, got service" in report
    assert "owner: expected manager, got agent" in report
    assert "[category] cat.attitude" in report
    done = cli("test", str(root))
    assert done.returncode == 2
    assert "1/3 cases passed, 2 failed" in done.stdout


def test_default_policy_ships_passing_cases_for_every_stage() -> None:
    """The bundled cases pass and cover every stage's field and every domain."""
    done = cli("test")
    assert done.returncode == 0, done.stdout
    folder = triage.bundled_policy_path() / "cases"
    cases = [c for path in sorted(folder.glob("*.yaml")) for c in load_cases(path)[0]]
    assert len(cases) >= 60
    expected = {k for c in cases for k in c.expect}
    assert {"request_type", "handling", "category", "severity", "flags", "owner",
            "deadlines", "script"} <= expected
    domains = {(c.complaint.get("product") or {}).get("domain") for c in cases}
    assert {"real_estate", "auto_dealer", "electronics", "cosmetics", "manufacturing",
            None} <= domains


def test_pytest_plugin_runs_policy_cases(pytester: pytest.Pytester) -> None:
    """A project's own pytest run collects cases/*.yaml and shows the readable diff."""
    root = pytester.path / "policy"
    write_policy(root, {"policy.yaml": MINIMAL, "cases/basic.yaml": CASES.split(
        "  - name: 多余的键", maxsplit=1)[0]})
    result = pytester.runpytest(str(root))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*category: expected product_quality, got service*"])


def test_diff_lists_changed_rules_and_decisions(tmp_path: Path) -> None:
    """Changing one rule's output shows the rule and every complaint it moves."""
    old_dir = write_policy(tmp_path / "old", {"policy.yaml": MINIMAL})
    new_dir = tmp_path / "new"
    shutil.copytree(old_dir, new_dir)
    policy_file = new_dir / "policy.yaml"
    policy_file.write_text(policy_file.read_text(encoding="utf-8").replace(
        "set: {category: service}", "set: {category: other}"), encoding="utf-8")
    records = [{"id": "a", "channel": "web", "text": "态度差"},
               {"id": "b", "channel": "web", "text": "漏水"}]
    report = diff_policies(triage.load_policy(old_dir), triage.load_policy(new_dir), records)
    assert [(r.rule_id, r.change, r.what) for r in report.rules] == [
        ("cat.attitude", "changed", "set")]
    assert [(d.complaint_id, dict(d.fields)) for d in report.decisions] == [
        ("a", {"category": ("service", "other")})]
    assert report.by_field == {"category": 1} and report.compared == 2
    text = cli("diff", str(old_dir), str(new_dir), "--format", "json").stdout
    assert json.loads(text)["rules"][0]["rule_id"] == "cat.attitude"


def test_pytest_plugin_leaves_other_projects_yaml_alone(pytester: pytest.Pytester) -> None:
    """A cases/ folder that is not next to a triage policy is not collected."""
    write_policy(pytester.path / "other", {"config.yaml": "name: x\n",
                                           "cases/a.yaml": "cases:\n  - just: data\n"})
    result = pytester.runpytest(str(pytester.path / "other"))
    result.assert_outcomes()


def test_check_groups_problems_by_file_and_colours_only_when_asked() -> None:
    """People read one block per file and a summary; colour codes appear with --color only."""
    broken = str(FIXTURES / "broken_many")
    plain = cli("check", broken, "--color", "never")
    assert plain.returncode == 2
    said, report = plain.stderr.split("\n", 1)  # first: which policy, from where
    assert said.startswith("triage: policy ") and "from the command line" in said
    blocks = report.split("\n\n")
    assert [b.splitlines()[0].split(" (")[0].rsplit("/", 1)[-1] for b in blocks[:-1]] == [
        "policy.yaml", "stages.yaml"]
    assert blocks[-1].strip() == "11 errors in 2 files"
    assert "\033[" not in plain.stderr
    coloured = cli("check", broken, "--color", "always")
    assert "\033[31merror[unknown-key]\033[0m" in coloured.stderr
