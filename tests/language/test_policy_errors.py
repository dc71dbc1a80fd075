"""Policy mistakes are reported all at once, located, with the exact text users see."""

from __future__ import annotations

from pathlib import Path

import pytest

import triage
from triage.errors import PolicyError

from ..conftest import FIXTURES, write_policy

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")


def problems_of(path: Path) -> list[triage.Problem]:
    with pytest.raises(PolicyError) as info:
        triage.load_policy(path)
    return list(info.value.problems)


def test_every_problem_of_a_broken_policy_is_reported_in_one_pass() -> None:
    """One load lists all eleven mistakes of the fixture, each at its own line and column."""
    found = [(p.file, p.line, p.column, p.code) for p in problems_of(FIXTURES / "broken_many")]
    assert found == [
        ("broken_many/policy.yaml", 3, 13, "unknown-value"),
        ("broken_many/policy.yaml", 11, 35, "undefined-role"),
        ("broken_many/stages.yaml", 8, 23, "undefined-vocabulary"),
        ("broken_many/stages.yaml", 14, 9, "unknown-key"),
        ("broken_many/stages.yaml", 18, 23, "invalid-regex"),
        ("broken_many/stages.yaml", 20, 13, "duplicate-id"),
        ("broken_many/stages.yaml", 22, 25, "unknown-value"),
        ("broken_many/stages.yaml", 23, 3, "missing-default"),
        ("broken_many/stages.yaml", 32, 16, "missing-operator"),
        ("broken_many/stages.yaml", 32, 41, "unknown-key"),
        ("broken_many/stages.yaml", 35, 36, "unknown-value"),
    ]


def test_unknown_key_message_shows_source_line_caret_and_suggestion() -> None:
    """The text of a misspelt key is exactly what Jinja-style users expect to read."""
    problem = next(p for p in problems_of(FIXTURES / "broken_many") if p.code == "unknown-key")
    assert problem.format() == (
        "broken_many/stages.yaml:14:9: error[unknown-key]: unknown key 'priorty'\n"
        "            priorty: 20\n"
        "            ^\n"
        "  hint: did you mean 'priority'?"
    )


def test_caret_accounts_for_wide_chinese_characters() -> None:
    """The caret sits under the offending value even after Chinese text on the same line."""
    problem = next(p for p in problems_of(FIXTURES / "broken_many")
                   if p.code == "undefined-role")
    lines = problem.format().splitlines()
    assert lines[1] == "      agent: {name: 客服, escalates_to: manger}"
    width = len("  agent: {name: ") + 2 * 2 + len(", escalates_to: ")
    assert lines[2] == "    " + " " * width + "^"


def test_undefined_vocabulary_suggests_the_close_name(tmp_path: Path) -> None:
    """A misspelt $name names the vocabulary the author probably meant."""
    text = MINIMAL.replace("when: {text: [$leak]}", "when: {text: [$laek]}")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [(p.code, p.hint) for p in problems] == [
        ("undefined-vocabulary", "did you mean '$leak'?")]


def test_duplicate_yaml_key_is_reported_not_silently_overwritten(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys; the loader reports the second one."""
    text = MINIMAL.replace("  name: minimal\n", "  name: minimal\n  name: again\n")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [(p.line, p.code) for p in problems] == [(3, "duplicate-key")]
    assert "first on line 2" in problems[0].message


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    """Only plain YAML types load: an object tag is an error, and nothing is constructed."""
    text = MINIMAL.replace("  name: minimal", "  name: !!python/object/apply:os.system [echo]")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [(p.line, p.code) for p in problems if p.code == "unsafe-tag"] == [(2, "unsafe-tag")]


def test_tab_indentation_gets_a_hint(tmp_path: Path) -> None:
    """A tab used for indentation is located and explained in plain words."""
    text = MINIMAL.replace("  name: minimal", "\tname: minimal")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert problems[0].code == "yaml-syntax"
    assert problems[0].line == 2
    assert problems[0].hint is not None and "tab" in problems[0].hint


def test_non_utf8_file_is_located(tmp_path: Path) -> None:
    """A file saved in GBK is reported with the line of the first bad byte."""
    path = tmp_path / "policy.yaml"
    path.write_bytes(MINIMAL.encode("utf-8") + "# 注释\n".encode("gbk"))
    problems = problems_of(tmp_path)
    assert problems[0].code == "encoding"
    assert problems[0].line == MINIMAL.count("\n") + 1


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """Nested aliases that would expand to billions of values stop at the node budget."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": "\n".join(lines) + "\n"}))
    assert problems[0].code == "too-large"


def test_two_files_defining_the_same_vocabulary_conflict(tmp_path: Path) -> None:
    """Merging files reports a name defined twice with both places."""
    extra = "vocabularies:\n  leak: [滴水]\n"
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": MINIMAL, "zz.yaml": extra}))
    assert [(p.file.split("/")[-1], p.line, p.code) for p in problems] == [
        ("zz.yaml", 2, "duplicate-id")]
    assert "policy.yaml" in (problems[0].hint or "")


def test_tests_on_later_stages_are_refused(tmp_path: Path) -> None:
    """A flag test in the request_type stage cannot work: flags are decided later."""
    text = MINIMAL.replace("when: {text: [表扬, 感谢]}", "when: {flag: safety}")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [p.code for p in problems] == ["stage-order"]
    assert "request_type -> ..." in (problems[0].hint or "")


def test_stage_cannot_set_another_stages_output(tmp_path: Path) -> None:
    """A category rule that sets severity is told where severity is set."""
    text = MINIMAL.replace("set: {category: service}", "set: {severity: severe}")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [(p.code, p.hint) for p in problems] == [
        ("unknown-key", "'severity' is set in the severity stage")]


def test_a_rule_that_sets_only_a_secondary_output_is_refused(tmp_path: Path) -> None:
    """A category rule setting only an escalation chain (or a subcategory) would leave the
    stage's own value unset when it fires: refused at load, not a failure per complaint."""
    text = MINIMAL.replace("set: {category: service}", "set: {subcategory: packaging}", 1)
    text = text.replace("taxonomy:\n", "taxonomy:\n  subcategory: {packaging: 包装}\n", 1)
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [p.code for p in problems] == ["missing-key"]
    assert "must set category (it sets only subcategory)" in problems[0].message


def test_regex_with_backreference_is_refused_with_the_reason(tmp_path: Path) -> None:
    """RE2 has no back-references: the author learns why at load time."""
    text = MINIMAL.replace("when: {text: [$attitude]}", r"when: {regex: '(a)\1'}")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [p.code for p in problems] == ["invalid-regex"]
    assert "linear" in (problems[0].hint or "")


def test_regex_with_upper_case_letters_never_matches_and_is_refused(tmp_path: Path) -> None:
    """Regexes run on folded text; a pattern with 'APP' could never match and is reported."""
    text = MINIMAL.replace("when: {text: [$attitude]}", "when: {regex: 'APP闪退'}")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert [p.code for p in problems] == ["regex-never-matches"]
    assert "'app'" in (problems[0].hint or "")


def test_priority_tie_with_different_outputs_is_a_warning(tmp_path: Path) -> None:
    """Rules of a first-hit stage tied on priority with different outputs load, with a warning."""
    text = MINIMAL.replace("priority: 10\n        when: {text: [$attitude]}",
                           "priority: 20\n        when: {text: [$attitude]}")
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    assert [(w.code, w.severity) for w in policy.warnings] == [("priority-tie", "warning")]
    assert "cat.leak wins" in (policy.warnings[0].hint or "")
    decision = policy.triage({"id": "1", "channel": "phone", "text": "漏水，态度差"})
    assert decision.category == "product_quality"


def test_escalation_cycle_is_reported(tmp_path: Path) -> None:
    """Roles that escalate to each other in a circle are refused."""
    text = MINIMAL.replace("boss: {name: 总经理}", "boss: {name: 总经理, escalates_to: agent}")
    problems = problems_of(write_policy(tmp_path, {"policy.yaml": text}))
    assert {p.code for p in problems} == {"cycle"}


def test_missing_path_is_a_policy_error(tmp_path: Path) -> None:
    """Loading a path that does not exist raises PolicyError, not FileNotFoundError."""
    problems = problems_of(tmp_path / "nope")
    assert problems[0].code == "not-found"
