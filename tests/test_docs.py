"""The documentation's examples stay true to the code."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import triage
from triage.authoring.explain import format_scores
from triage.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_policy_language_example_loads_and_decides(tmp_path: Path) -> None:
    """The complete policy in docs/policy-language.md loads cleanly and works as described."""
    text = (DOCS / "policy-language.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match is not None
    (tmp_path / "policy.yaml").write_text(match.group(1), encoding="utf-8")
    policy = triage.load_policy(tmp_path)
    assert policy.warnings == ()
    decision = policy.triage({"id": "1", "channel": "phone", "text": "燃气泄漏，还漏水"})
    assert (decision.severity, decision.category, decision.flags) == (
        "severe", "product_quality", ("safety",))


def test_deadlines_example_loads_and_sets_the_documented_milestones(tmp_path: Path) -> None:
    """The deadlines example, added to the complete policy, works as the page says."""
    text = (DOCS / "policy-language.md").read_text(encoding="utf-8")
    base, deadlines = re.findall(r"```yaml\n(.*?)```", text, re.S)[:2]
    base = base.replace("policy:\n  name: 示例策略\n", "policy:\n  name: 示例策略\n"
                        "  default_calendar: office\n")
    lines = [line for line in deadlines.splitlines() if not line.startswith("policy:")]
    taxonomy = [line for line in lines if line.startswith("  milestones:")]
    rest = [line for line in lines if line not in taxonomy and line != "taxonomy:"]
    base = base.replace("taxonomy:\n", "taxonomy:\n" + "\n".join(taxonomy) + "\n")
    (tmp_path / "policy.yaml").write_text(base, encoding="utf-8")
    (tmp_path / "deadlines.yaml").write_text("\n".join(rest) + "\n", encoding="utf-8")
    policy = triage.load_policy(tmp_path)
    decision = policy.triage({"id": "2", "channel": "onsite_verbal", "text": "漏水",
                              "received_at": "2026-11-20T16:00:00+08:00",
                              "attributes": {"site": "urumqi"}})
    due = {d.milestone: d for d in decision.deadlines}
    assert list(due) == ["first_contact", "resolution", "follow_up"]
    assert due["resolution"].calendar == "office_urumqi"
    assert due["resolution"].due.isoformat() == "2026-11-20T20:00:00+06:00"
    assert due["first_contact"].due.isoformat() == "2026-11-20T18:00:00+08:00"
    assert decision.warnings == ()


def test_case_status_example_in_deadlines_md_runs() -> None:
    """The Python example of docs/deadlines.md's case-status section runs as written."""
    text = (DOCS / "deadlines.md").read_text(encoding="utf-8")
    section = text[text.index("## Case status"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    exec(compile(code.group(1), "deadlines.md", "exec"), {})


def test_readme_python_example_prints_what_its_comments_say(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's Python example runs from the repository root and prints as commented."""
    root = DOCS.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    monkeypatch.chdir(root)
    exec(compile(code.group(1), "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "repair_quality severe general"
    assert "首次联系客户 11月24日(周二)上午9:50前" in lines


def test_every_file_the_docs_name_exists() -> None:
    """Each ``tests/``, ``benchmarks/`` or ``triage/`` file a page names is where it says."""
    root = DOCS.parent
    pages = [*DOCS.glob("*.md"), root / "README.md", root / "tests" / "corpus" / "README.md"]
    missing = []
    for page in pages:
        text = page.read_text("utf-8")
        for path in re.findall(r"`((?:tests|benchmarks|triage)/[\w/]+\.py)", text):
            where = root / "src" / path if path.startswith("triage/") else root / path
            if not where.exists():
                missing.append(f"{page.name}: {path}")
    assert missing == []


def test_the_authoring_loop_runs_as_written(tmp_path: Path) -> None:
    """The loop of docs/authoring.md, command by command, in a copy of the repository's
    top (rules/ with its templates and cases): each command exits 0."""
    text = (DOCS / "authoring.md").read_text(encoding="utf-8")
    section = text[text.index("## The loop, in a fresh clone"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    top = tmp_path / "clone"
    shutil.copytree(DOCS.parent / "rules", top / "rules")
    ran = 0
    for line in block.group(1).splitlines():
        command = line.split("  #")[0].strip()
        if not command or command.startswith("#"):
            continue
        words = [w.replace("/tmp/", f"{tmp_path}/") for w in shlex.split(command)]
        if words[0] == "triage":
            words = [sys.executable, "-c", "from triage.cli import main; "
                     "raise SystemExit(main())", *words[1:]]
        done = subprocess.run(words, cwd=top, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (command, done.stderr)
        if words[0] == sys.executable:  # which policy, said first: the edited rules/
            said = done.stderr.splitlines()[0]
            assert said.startswith("triage: ") and ("from ./rules" in said
                                                    or "from the command line" in said)
        ran += 1
    assert ran == 5


def test_reading_example_loads_and_decides_as_described(tmp_path: Path) -> None:
    """The policy of "Reading like a dispatcher" loads without warnings and reads the
    sentences of the page as the page says."""
    text = (DOCS / "policy-language.md").read_text(encoding="utf-8")
    section = text[text.index("### Reading like a dispatcher"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    (tmp_path / "policy.yaml").write_text(block.group(1), encoding="utf-8")
    policy = triage.load_policy(tmp_path)
    assert policy.warnings == ()

    def decided(words: str) -> triage.Decision:
        return policy.triage({"id": "d", "channel": "phone", "text": words})

    for words in ("车窗升不上去", "后备箱打不开", "天窗关不严"):
        assert decided(words).category == "product_quality", words
    assert decided("没有车窗升不上去的问题").category == "other"
    assert decided("手机坏了（技师检查：主板有进水痕迹）").category == "user_caused"
    assert decided("你们凭什么说有进水痕迹？").category == "other"
    assert decided("防漏水涂层刚做完").category == "other"
    assert decided("防漏水涂层做完还是漏水").category == "product_quality"
    assert decided("说好周五交车，结果到现在没消息").category == "service"
    assert decided("请问保修多久？").request_type == "inquiry"
    assert decided("你们说三天修好").flags == ("promise",)
    assert decided("排队等了四个多小时").flags == ("waited",)


def test_scoring_example_decides_as_described(tmp_path: Path) -> None:
    """The request_type stage of "Scoring: evidence that adds up", in the minimal policy
    instead of its own, decides the three complaints the page walks through."""
    text = (DOCS / "policy-language.md").read_text(encoding="utf-8")
    section = text[text.index("## Scoring: evidence that adds up"):]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    minimal = (Path(__file__).parent / "fixtures" / "minimal" / "policy.yaml").read_text(
        encoding="utf-8")
    start = minimal.index("  request_type:\n")
    minimal = minimal[:start] + minimal[minimal.index("  flags:\n"):]
    minimal = minimal.replace("taxonomy:\n", "taxonomy:\n  request_type: {complaint: 投诉, "
                              "repair: 报修, inquiry: 咨询}\n")
    (tmp_path / "policy.yaml").write_text(minimal, encoding="utf-8")
    (tmp_path / "scoring.yaml").write_text(example.group(1), encoding="utf-8")
    policy = triage.load_policy(tmp_path)
    decide = {t: policy.triage({"id": "d", "channel": "phone", "text": t})
              for t in ("师傅态度太差，漏水修过又坏了", "空调坏了", "不修好就曝光")}
    assert [d.request_type for d in decide.values()] == ["repair", "complaint", "complaint"]
    assert decide["空调坏了"].scores["request_type"].outcome == "min_score"
    assert decide["不修好就曝光"].rules_fired("request_type") == ["rt.threat"]
    table = section[section.index("```text\n") + 8:]
    table = table[:table.index("```")]
    shown = format_scores(decide["师傅态度太差，漏水修过又坏了"].scores["request_type"],
                          policy.label)
    assert "\n".join(shown) + "\n" == table


def test_why_not_example_in_authoring_md_is_what_the_command_prints(
        capsys: pytest.CaptureFixture[str]) -> None:
    text = (DOCS / "authoring.md").read_text(encoding="utf-8")
    section = text.split("## 7. Why not another value", 1)[1]
    command = re.search(r"```bash\n(triage explain .+)\n```", section)
    shown = re.search(r"```text\n(.+?)```", section, re.S)
    assert command and shown
    assert main(shlex.split(command.group(1))[1:]) == 0

    def unnumbered(line: str) -> str:  # rule edits move lines; the doc shows the shape
        return re.sub(r"(\.yaml):\d+", r"\1:N", line)

    printed = [unnumbered(line) for line in capsys.readouterr().out.splitlines()]
    for line in shown.group(1).splitlines():
        if line.strip() != "..." and "/投诉..." not in line:
            assert unnumbered(line) in printed, line
