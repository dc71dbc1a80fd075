"""``triage eval`` (accuracy, confusion, rule figures) and ``triage test --coverage``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import triage
from triage.authoring.cases import run_all
from triage.authoring.coverage import coverage
from triage.authoring.evaluation import evaluate
from triage.authoring.labelled import load_labelled, observe
from triage.cli import main

from ..conftest import FIXTURES

SCORED = FIXTURES / "scored"


def _write(path: Path, rows: list[tuple[str, dict[str, object], str]]) -> Path:
    path.write_text("".join(json.dumps(
        {"complaint": {"id": f"E{i}", "text": text, "channel": channel},
         "expected": expected}, ensure_ascii=False) + "\n"
        for i, (text, expected, channel) in enumerate(rows)), encoding="utf-8")
    return path


ROWS: list[tuple[str, dict[str, object], str]] = [
    ("漏水了", {"category": "product_quality", "request_type": "complaint"}, "phone"),
    ("漏水，客服也不理", {"category": "service"}, "phone"),  # decided product_quality
    ("客服态度太差", {"category": "service", "flags": []}, "email"),
    ("冒烟了", {"category": "other", "flags": ["safety"]}, "email"),
    ("灯坏了", {"category": "product_quality", "flags": "safety"}, "web"),  # no safety flag
]


def test_accuracy_confusion_and_groups(tmp_path: Path) -> None:
    policy = triage.load_policy(SCORED)
    records, problems = load_labelled([_write(tmp_path / "l.jsonl", ROWS)])
    observed, failed = observe(policy, records)
    assert not problems and not failed
    report = evaluate(policy, observed, by="channel")
    category = report.fields["category"]
    assert (category.labelled, category.right) == (5, 4)
    assert category.confusion["service", "product_quality"] == 1
    assert report.fields["request_type"].labelled == 1
    assert (report.fields["flags"].labelled, report.fields["flags"].right) == (3, 2)
    assert report.groups["phone"]["category"].accuracy == 0.5
    assert report.groups["email"]["category"].accuracy == 1.0
    rules = {r.rule_id: r for r in report.rules}
    leak, staff = rules["cat.leak"], rules["cat.staff"]
    assert (leak.held, leak.fired, leak.precision) == (2, 2, 0.5)
    # 漏水，客服也不理: cat.leak decided it and no other rule that held says product_quality
    assert leak.alone == ["E0", "E1"]
    assert (staff.held, staff.fired, staff.precision) == (2, 1, 1.0)
    assert rules["cat.after_repair"].held == 0
    text = report.format()
    assert "confusion of category" in text and "never held" in text
    data = json.loads(report.to_json())
    assert data["confusion"]["category"]["service"] == {"product_quality": 1, "service": 1}


def test_eval_command_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "l.jsonl", ROWS)
    assert main(["eval", "--policy", str(SCORED), str(path), "--by", "channel"]) == 0
    out = capsys.readouterr().out
    assert "category" in out and "80.0%" in out and "by channel" in out
    assert main(["eval", "--policy", str(SCORED), str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["fields"]["category"]["right"] == 4


def test_eval_reads_the_policy_cases_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--policy", str(SCORED)]) == 0
    assert "labelled complaints" in capsys.readouterr().out


def test_a_record_that_cannot_be_decided_is_reported_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "l.jsonl", ROWS)
    with path.open("a", encoding="utf-8") as out:
        out.write('{"complaint": {"id": "bad", "text": "x"}, "expected": {}}\n')
    assert main(["eval", "--policy", str(SCORED), str(path), "--format", "json"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["records"] == len(ROWS) and data["problems"][0]["line"] == len(ROWS) + 1
    assert f"l.jsonl:{len(ROWS) + 1}" in captured.err


def test_coverage_lists_the_rules_no_case_fires() -> None:
    policy = triage.load_policy(SCORED)
    covered = coverage(policy, run_all(policy, policy.path))
    missed = {r.rule_id for r in covered.missed}
    assert "fl.safety" in missed  # no case of the fixture says 冒烟 or 起火
    assert "cat.leak" not in missed
    assert covered.rules == policy.rule_count
    assert 0 < covered.percent < 100


def test_coverage_threshold_fails_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(SCORED), "--coverage", "--threshold", "99"]) == 2
    out = capsys.readouterr().out
    assert "below the threshold 99%" in out and "fl.safety" in out
    assert main(["test", str(SCORED), "--coverage", "--threshold", "10"]) == 0


def test_the_default_policy_cases_fire_most_of_its_rules(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(triage.bundled_policy_path()),
                 "--coverage", "--threshold", "90"]) == 0
