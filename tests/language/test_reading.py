"""Reading like a dispatcher: near, same clause or sentence, whose words, questions,
exceptions to a word and named patterns (tests/fixtures/reading)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import triage
from triage.authoring.analysis import analyse
from triage.text.layout import Reading

from ..conftest import FIXTURES

READING = FIXTURES / "reading"


@pytest.fixture(scope="module")
def policy() -> triage.Policy:
    return triage.load_policy(READING)


def decide(policy: triage.Policy, text: str) -> triage.Decision:
    return policy.triage({"id": "r", "channel": "phone", "text": text})


@pytest.mark.parametrize(("text", "near"), [
    ("车窗升不上去了", True),                 # part, 1 character, symptom
    ("后备箱打不开", True),                   # another part, another symptom
    ("天窗一直漏风，雨天关不严", False),        # 8 characters apart: beyond within 4
    ("不上去的是车窗", True),                 # either order
    ("没有车窗升不上去的问题", False),          # negated
])
def test_near_finds_a_part_with_a_symptom(policy: triage.Policy, text: str,
                                          near: bool) -> None:
    """`near: {words: [$part], with: [$stuck], within: 4}`: a new pairing of a known part
    and a known symptom is found without listing the phrase."""
    assert ("window" in decide(policy, text).flags) is near


@pytest.mark.parametrize(("text", "service"), [
    ("说好周五交车，结果到现在都没消息", True),   # in order, same sentence
    ("结果还行。说好的事情", False),             # the wrong order
    ("说好周五交车。结果呢", False),             # two sentences
])
def test_ordered_and_same_sentence(policy: triage.Policy, text: str, service: bool) -> None:
    """A broken-promise frame: 说好 ... 结果, in this order, within one sentence."""
    assert (decide(policy, text).category == "service") is service


@pytest.mark.parametrize(("text", "category"), [
    ("手机不开机（技师检查：主板有进水痕迹）", "user_caused"),    # the agent's finding
    ("手机不开机【备注】经检测主板有进水痕迹", "user_caused"),
    ("你们凭什么说有进水痕迹？我从来没摔过", "other"),           # the customer's own words
])
def test_a_finding_counts_only_in_the_note(policy: triage.Policy, text: str,
                                           category: str) -> None:
    """`in: note`: a user-caused finding is the agent's, not the customer quoting it."""
    assert decide(policy, text).category == category


@pytest.mark.parametrize(("text", "promise"), [
    ("你们说三天修好，结果一周了", True),
    ("客服答复：马上处理。到现在也没人来", True),
    ("我想三天修好", False),
])
def test_reported_speech(policy: triage.Policy, text: str, promise: bool) -> None:
    """`in: reported`: what the customer says the company said (你们说…, 客服答复…)."""
    assert ("promise" in decide(policy, text).flags) is promise


@pytest.mark.parametrize(("text", "request_type"), [
    ("请问保修多久？", "inquiry"), ("保修到底怎么算的呢", "inquiry"),
    ("保修期内坏了三次。", "complaint"),
])
def test_sentence_kinds(policy: triage.Policy, text: str, request_type: str) -> None:
    """`sentence: question`: the words count in a question (？, 吗/呢, 怎么...) only."""
    assert decide(policy, text).request_type == request_type


@pytest.mark.parametrize(("text", "leak"), [
    ("刚做了防漏水涂层", False), ("买了漏水险", False), ("防漏水涂层做完还是漏水", True),
    ("渗水了", True)])
def test_a_word_does_not_count_inside_its_exceptions(policy: triage.Policy, text: str,
                                                     leak: bool) -> None:
    """`{word: 漏水, except: [防漏水, 漏水险]}`, written next to the word."""
    assert (decide(policy, text).category == "product_quality") is leak


def test_named_patterns_are_reused_by_name(policy: triage.Policy) -> None:
    """`patterns: {waited: ...}` and `regex: $waited`."""
    assert "waited" in decide(policy, "排队等了四个多小时").flags
    assert "waited" not in decide(policy, "等一下").flags


@pytest.mark.parametrize(("text", "waited"), [
    ("排队等了四个多小时", True),
    ("没有等了四个多小时那么久", False),     # the one match comes right after a cue
    ("没有，等了四个多小时", True),          # the cue is in another clause
    ("不是这次，是上次等了两个小时", True),   # the cue is more than two characters away
    ("没有等了两天，只是等了三个小时", True),  # a second match stands
])
def test_a_regex_match_right_after_a_cue_does_not_count(policy: triage.Policy, text: str,
                                                       waited: bool) -> None:
    """Negation extends to regexes, as to words: a match starting at most `window`
    characters after a cue, in its clause, does not count; another match may."""
    assert ("waited" in decide(policy, text).flags) is waited


def test_negation_false_counts_a_negated_regex_match(tmp_path: Path) -> None:
    """`{regex: ..., negation: false}` takes every match, as `negation: false` on text;
    `triage explain --why-not` says why a negated match did not count."""
    folder = tmp_path / "p"
    shutil.copytree(READING, folder)
    path = folder / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("        when: {regex: $waited}",
                                 "        when: {regex: $waited, negation: false}"), "utf-8")
    loose = triage.load_policy(folder)
    durable = pytest.importorskip("durable_rules_engine", reason="the durable extra")
    assert durable is not None
    for engine in ("compiled", "durable"):
        chosen = triage.load_policy(folder, engine=engine)
        assert "waited" in decide(chosen, "没有等了四个多小时那么久").flags
    assert "waited" in decide(loose, "没有等了四个多小时那么久").flags


def test_why_not_names_a_negated_regex_match(policy: triage.Policy) -> None:
    """The pattern matched, but only right after a cue: the answer says so."""
    answer = triage.why_not(policy, {"id": "r", "channel": "phone",
                                     "text": "没有等了四个多小时那么久"}, "flags", "waited")
    assert "negation cue" in answer.format()


def test_the_explanation_shows_the_span_and_the_part(policy: triage.Policy) -> None:
    """The evidence of a positional test: both words with their offsets, part, sentence."""
    text = "我的车窗升不上去了，在哪修？"
    hit = next(h for h in decide(policy, text).explanation if h.rule_id == "fl.window")
    [evidence] = hit.evidence
    assert isinstance(evidence, triage.SpanEvidence)
    assert (evidence.matched, evidence.near_matched) == ("车窗", "不上去")
    assert text[evidence.near_start:evidence.near_end] == "不上去"  # type: ignore[misc]
    assert (evidence.part, evidence.sentence) == ("customer", "question")
    finding = next(h for h in decide(policy, "手机坏了（技师检查：有进水痕迹）").explanation
                   if h.rule_id == "cat.user")
    assert finding.evidence[0].part == "note"  # type: ignore[union-attr]


def test_the_layout_reads_parts_and_questions() -> None:
    """Parts and questions of one text, with the built-in markers."""
    text = "你们说好今天到，结果没到。（客服备注：已催物流）为什么不打电话？"
    layout = Reading().lay_out(text)
    assert layout.part(text.index("今天")) == "reported"
    assert layout.part(text.index("结果")) == "customer"
    assert layout.part(text.index("已催")) == "note"
    assert layout.is_question(text.index("打电话")) and not layout.is_question(0)


def test_the_policy_replaces_the_markers(tmp_path: Path) -> None:
    """`policy: {reading: {reported: [...]}}` replaces the built-in list."""
    folder = tmp_path / "p"
    shutil.copytree(READING, folder)
    text = (folder / "policy.yaml").read_text(encoding="utf-8")
    (folder / "policy.yaml").write_text(text.replace(
        "  negation: {cues: [没有, 不是], window: 2}\n",
        "  negation: {cues: [没有, 不是], window: 2}\n  reading: {reported: [厂家讲]}\n"),
        encoding="utf-8")
    policy = triage.load_policy(folder)
    assert "promise" in decide(policy, "厂家讲三天修好").flags
    assert "promise" not in decide(policy, "你们说三天修好").flags


@pytest.mark.parametrize(("rule", "code", "where"), [
    ("{near: {words: [车窗], with: [坏], within: 500}}", "wrong-type", "500"),
    ("{near: {words: [车窗], with: [坏], same: paragraph}}", "unknown-value", "paragraph"),
    ("{near: {words: [车窗], whith: [坏]}}", "unknown-key", "whith"),
    ("{near: {words: [车窗]}}", "missing-key", "{words"),
    ("{text: {any: [坏], in: notes}}", "unknown-value", "notes"),
    ("{text: {all: [坏], in: note}}", "conflict", "all"),
    ("{regex: $wated}", "undefined-pattern", "$wated"),
    ("{regex: $waited, negation: maybe}", "wrong-type", "maybe"),
])
def test_mistakes_are_reported_at_their_place(tmp_path: Path, rule: str, code: str,
                                              where: str) -> None:
    """Each mistake of the new tests gets its code at the line and column of the key."""
    folder = tmp_path / "p"
    shutil.copytree(READING, folder)
    path = folder / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("        when: {regex: $waited}", f"        when: {rule}")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(folder)
    problems = [p for p in info.value.problems if p.code == code]
    assert problems, info.value
    line = next(i for i, t in enumerate(text.splitlines(), 1) if rule in t)
    source = problems[0].source_line or ""
    assert problems[0].line == line and source[problems[0].column - 1:].startswith(where)


def test_a_label_heads_a_record_and_a_finding_opens_a_note() -> None:
    """（上门工单） or 【备注】 alone heads a record: what follows is the note; a bracket with
    its own text is the note itself; 师傅上门检查… opens a note in a later sentence."""
    record = "（上门工单）客户称不开机。技师到场检测：电瓶亏电。"
    layout = Reading().lay_out(record)
    assert layout.part(record.index("客户称")) == "note"
    assert layout.part(record.index("亏电")) == "note"
    own = "你们说好今天到。（客服备注：已催物流）为什么不打电话？"
    layout = Reading().lay_out(own)
    assert layout.part(own.index("已催")) == "note"
    assert layout.part(own.index("打电话")) == "customer"
    later = "客户报修微波炉不加热。师傅上门检查：各部件均正常，客户用的是解冻档。"
    assert Reading().lay_out(later).part(later.index("均正常")) == "note"
    assert Reading().lay_out(later).part(later.index("不加热")) == "customer"


def test_check_reports_a_pattern_no_rule_uses(tmp_path: Path) -> None:
    """`patterns:` entries that no `regex: $name` uses are an `unused-pattern` warning."""
    folder = tmp_path / "p"
    shutil.copytree(READING, folder)
    path = folder / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("patterns:\n", "patterns:\n  spare: '备用[0-9]+'\n"),
                    encoding="utf-8")
    warnings = [p for p in analyse(triage.load_policy(folder)) if p.code == "unused-pattern"]
    assert [w.message for w in warnings] == ["pattern 'spare' is never used by a rule"]
    assert warnings[0].line == text.splitlines().index("patterns:") + 2


@pytest.mark.parametrize(("pattern", "code"), [
    (r"等了\S{1,3}小时", None),                 # an escape is not a letter to fold
    ("等了(", "invalid-regex"),
    ("等了Ａ小时", "regex-never-matches"),        # full width never occurs in folded text
])
def test_named_patterns_are_checked_as_inline_regexes_are(tmp_path: Path, pattern: str,
                                                          code: str | None) -> None:
    """A pattern under `patterns:` gets the same checks, at its definition, as `regex:`."""
    folder = tmp_path / "p"
    shutil.copytree(READING, folder)
    path = folder / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("patterns:\n", f"patterns:\n  spare: '{pattern}'\n"),
                    encoding="utf-8")
    if code is None:
        triage.load_policy(folder)
        return
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(folder)
    assert [p.code for p in info.value.problems] == [code]
    assert info.value.problems[0].line == text.splitlines().index("patterns:") + 2


@pytest.mark.parametrize("label", ["跟进纪录", "复核结果", "复检结果", "厂内查核", "判断"])
def test_more_labels_open_a_finding(label: str) -> None:
    """Brackets headed 纪录 (紀錄 folded), 复核, 复检, 查核 or 判断 hold the agent's finding;
    the customer's words before them stay the customer's."""
    text = f"热水器不出热水。（{label}：进水阀被关闭，打开后正常。）"
    layout = Reading().lay_out(text)
    assert layout.part(text.index("打开后")) == "note"
    assert layout.part(text.index("不出热水")) == "customer"


@pytest.mark.parametrize("label", ["维修人员处理结果", "工程师解答", "物业跟进"])
def test_handling_and_answer_labels_open_a_finding(label: str) -> None:
    """（维修人员处理结果：…）, （工程师解答：…）: what the company found or answered."""
    text = f"地漏返水。（{label}：系业主装修时施工垃圾倒入下水所致。）"
    assert Reading().lay_out(text).part(text.index("所致")) == "note"
