"""Reply scripts: rendering, the sandbox, Traditional output, load-time checks, the guard."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import opencc
import pytest

import triage

from .conftest import FIXTURES

REPLIES = FIXTURES / "replies"


@pytest.fixture(scope="module")
def policy() -> triage.Policy:
    return triage.load_policy(REPLIES)


def reply(policy: triage.Policy, **record: object) -> triage.Reply:
    base: dict[str, object] = {"id": "r1", "channel": "phone", "text": "漏水",
                               "received_at": "2026-11-23T10:00:00+08:00"}
    decision = policy.triage({**base, **record})
    assert decision.reply is not None
    return decision.reply


def test_reply_addresses_the_customer_by_surname_and_title(policy: triage.Policy) -> None:
    """王伟 先生 is 王先生, 欧阳娜娜 女士 is 欧阳女士; without name or title: 您."""
    assert reply(policy, customer={"name": "王伟", "title": "先生"}).text.startswith("王先生好！")
    assert reply(policy, customer={"name": "欧阳娜娜", "title": "女士"}).text.startswith(
        "欧阳女士好！")
    assert reply(policy, customer={"name": "王伟"}).text.startswith("您好！")
    assert reply(policy).variables["address"] == "您"


def test_reply_renders_cleanly_without_deadlines(policy: triage.Policy) -> None:
    """The fixture policy sets no deadlines: the deadline sentence is simply left out."""
    text = reply(policy).text
    assert "我们会在" not in text and "None" not in text and "{" not in text
    assert "11月23日" in text and "r1" in text and "400-000-0000" in text


def test_template_syntax_in_complaint_data_is_never_evaluated(policy: triage.Policy) -> None:
    """A case number or name with {{ 7*7 }} or {% for %} comes out literally."""
    evil = reply(policy, id="{{ 7*7 }}{% for x in [1] %}x{% endfor %}",
                 text="{{ 7*7 }} {% for x in range(9) %}漏水{% endfor %}",
                 customer={"name": "{{ 7*7 }}", "title": "先生"})
    assert "{{ 7*7 }}{% for x in [1] %}x{% endfor %}" in evil.text
    assert "49" not in evil.text


def test_traditional_complaints_get_traditional_replies(policy: triage.Policy) -> None:
    """Traditional text: zh-Hant; locale zh-TW: Taiwan vocabulary (軟體); zh-HK: 軟件."""
    hant = reply(policy, text="我要表揚你們的師傅")
    assert hant.locale == "zh-Hant" and "感謝" in hant.text
    taiwan = reply(policy, text="表扬", customer={"locale": "zh-TW"})
    assert taiwan.locale == "zh-TW" and "軟體" in taiwan.text
    hong_kong = reply(policy, text="表扬", customer={"locale": "zh_HK"})
    assert hong_kong.locale == "zh-HK" and "軟件" in hong_kong.text
    assert reply(policy, text="表扬").locale == "zh-Hans"


def test_rules_choose_the_script(policy: triage.Policy) -> None:
    """Praise gets the thanks script; everything else the stage default."""
    assert reply(policy, text="表扬你们").script_id == "thanks"
    assert reply(policy).script_id == "ack_general"
    assert triage.load_policy(REPLIES).triage(
        {"id": "j", "channel": "web", "text": "漏水"}).to_dict()["reply"]["script_id"] == (
        "ack_general")


def copy_policy(tmp_path: Path) -> Path:
    target = tmp_path / "replies"
    shutil.copytree(REPLIES, target)
    return target


def test_template_mistakes_are_policy_errors_at_their_line(tmp_path: Path) -> None:
    """Unknown variable, forbidden phrase, missing front matter, unknown script: all reported."""
    root = copy_policy(tmp_path)
    scripts = root / "scripts_cn"
    (scripts / "thanks.j2").write_text(
        "{#\nid: thanks\ntitle: 感谢\nsituation: praise\nvariables: [address]\n#}\n"
        "{{ address }}，谢谢！\n我不知道{{ complaint_text }}\n", encoding="utf-8")
    (scripts / "bare.j2").write_text("您好\n", encoding="utf-8")
    policy_file = root / "policy.yaml"
    policy_file.write_text(policy_file.read_text(encoding="utf-8").replace(
        "set: {script: thanks}", "set: {script: thank}"), encoding="utf-8")
    with pytest.raises(triage.PolicyError) as caught:
        triage.load_policy(root)
    found = {(Path(p.file).name, p.line, p.code) for p in caught.value.problems}
    assert ("thanks.j2", 8, "unknown-variable") in found
    assert ("thanks.j2", 8, "forbidden-phrase") in found
    assert ("bare.j2", 1, "missing-front-matter") in found
    assert any(code == "undefined-script" for _, _, code in found)
    text = str(caught.value)
    assert "complaint_text" in text and "say instead: 我马上为您核实" in text


def test_guard_finds_phrases_in_simplified_and_traditional(policy: triage.Policy) -> None:
    """Folded and punctuation-tolerant; 喂 only on its own, never in 喂养 or a name."""
    found = policy.guard("喂，你大點聲聽不見！我不知道")
    assert [f.phrase for f in found] == ["喂", "大点声,听不见!", "不知道"]
    assert found[1].matched == "大點聲聽不見" and found[1].suggestion.startswith("抱歉")
    assert policy.guard("宝宝喂养的问题，请张喂先生放心，不知道您是否方便") == []


def test_default_policy_scripts_and_guard_have_no_false_positives(
        default_policy: triage.Policy) -> None:
    """No bundled template trips the guard; customers' texts rarely do, and only on taboos."""
    corpus = Path(__file__).parent / "corpus" / "corpus.jsonl"
    texts = [json.loads(line)["complaint"]["text"] for line in
             corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    hits = [(f.phrase, t) for t in texts for f in default_policy.guard(t)]
    assert len(hits) <= len(texts) // 10, hits


def test_cli_guard_exit_codes(tmp_path: Path) -> None:
    """triage guard: 0 for a clean draft, 2 with the phrase, reason and suggestion."""
    draft = tmp_path / "draft.txt"
    draft.write_text("您好，请稍等。\n喂，这是规定，我有什么办法\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "triage.cli", "guard", str(draft)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert f"{draft}:2:1: 忌语「喂」" in done.stdout
    clean = subprocess.run([sys.executable, "-m", "triage.cli", "guard", "-"], input="您好，请稍等",
                           capture_output=True, text=True, check=False)
    assert clean.returncode == 0 and clean.stdout == ""


def test_every_bundled_template_renders_for_every_category(
        default_policy: triage.Policy) -> None:
    """Each script renders, without leftovers, for every category, with and without deadlines."""
    writer = default_policy._writer
    library = default_policy._model.scripts
    assert library is not None and len(library.ids) >= 30
    complaint = triage.Complaint(id="T-1", channel=triage.Channel.PHONE, text="漏水",
                                 customer=triage.Customer(name="王伟", title="先生"))
    with_deadlines = default_policy.triage({"id": "T-2", "channel": "phone", "text": "漏水",
                                            "product": {"domain": "auto_dealer"}}).deadlines
    owner = default_policy.triage({"id": "T-3", "channel": "phone", "text": "漏水"}).owner
    received = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for script_id in sorted(library.ids):
        for category in default_policy.taxonomy["category"]:
            outputs = {"request_type": "complaint", "category": category, "severity": "general"}
            for deadlines in ((), with_deadlines):
                text = writer.write(script_id, complaint, received, outputs, owner,
                                    deadlines).text
                assert text and "{" not in text and "None" not in text, (script_id, text)
                assert default_policy.guard(text) == [], (script_id, text)


def test_guard_finds_every_listed_phrase_in_simplified_and_traditional(
        default_policy: triage.Policy) -> None:
    """Each forbidden phrase, said alone, is found as written and in Traditional characters."""
    to_traditional = opencc.OpenCC("s2t")
    phrases = default_policy._model.guard.phrases
    assert len(phrases) >= 40
    for item in phrases:
        for text in (item.phrase, to_traditional.convert(item.phrase)):
            assert item.phrase in {f.phrase for f in default_policy.guard(text)}, text


@pytest.mark.parametrize(("body", "variables", "needle"), [
    ("{{ ''.__class__.__mro__ }}", "[]", "unsafe"),
    ("{{ address.__class__.__init__.__globals__ }}", "[address]", "unsafe"),
    ("{% for i in range(10) %}x{% endfor %}", "[]", "only over deadlines"),
    ("{{ lipsum(100000) }}", "[]", "'a call ( )' is not available"),
    ("{{ address.center(1000000000) }}", "[address]", "'a call ( )' is not available"),
    ("{{ address * 100000 }}", "[address]", "characters"),
    ("{% for d in deadlines %}{{ d.label * 9000 }}{% endfor %}", "[deadlines]", "characters"),
    ("{{ (address * 5000) ~ (address * 5000) ~ (address * 5000) ~ (address * 5000) ~ "
     "(address * 5000) }}", "[address]", "'~' would build more than 20,000"),
    ("{{ (address * 6000) + (address * 6000) + (address * 6000) }}", "[address]",
     "'+' would build more than 20,000"),
    ("{{ '%0999999d' % 1 }}", "[]", "'%' formatting is not allowed"),
    ("{{ address | center(1000000000) }}", "[address]", "No filter named 'center'"),
    ("{{ 2 ** 100 }}", "[]", "**"),
    # recursion and ever-doubling text: refused before anything runs
    ("{% macro f(n) %}{{ f(n ~ n) }}{% endmacro %}{{ f('x') }}", "[]", "'macro' is not"),
    ("{% set x = address ~ address %}{% set y = x ~ x %}{{ y }}", "[address]", "'set' is not"),
    ("{% for d in deadlines recursive %}{{ loop(deadlines) }}{% endfor %}", "[deadlines]",
     "recursive loop"),
    ("{% for d in deadlines %}{% for e in deadlines %}x{% endfor %}{% endfor %}",
     "[deadlines]", "loops inside loops"),
    ("{% for c in address %}x{% endfor %}", "[address]", "only over deadlines"),
    ("{% include 'other.j2' %}", "[]", "'include' is not"),
])
def test_sandbox_escapes_and_huge_outputs_fail_at_load(tmp_path: Path, body: str,
                                                        variables: str, needle: str) -> None:
    """Internals, calls, recursion, loops that multiply and huge outputs are refused when
    the policy loads, so no reply can hang or exhaust memory at run time."""
    root = copy_policy(tmp_path)
    (root / "scripts_cn" / "thanks.j2").write_text(
        f"{{#\nid: thanks\ntitle: 感谢\nsituation: praise\nvariables: {variables}\n#}}\n"
        + body + "\n", encoding="utf-8")
    with pytest.raises(triage.PolicyError) as caught:
        triage.load_policy(root)
    problems = [p for p in caught.value.problems if p.file.endswith("thanks.j2")]
    assert problems, caught.value
    assert any(needle in p.message for p in problems), [p.message for p in problems]


def test_lone_surrogates_are_a_record_error_not_a_crash(policy: triage.Policy) -> None:
    """Text that is not valid Unicode is refused with its position, in the API and in bulk."""
    with pytest.raises(triage.ComplaintError, match="U\\+D800"):
        policy.triage({"id": "s", "channel": "phone", "text": "漏水\ud800"})
    results = list(policy.triage_many([{"id": "s", "channel": "phone", "text": "漏水\ud800"},
                                       {"id": "t", "channel": "phone", "text": "漏水"}]))
    assert isinstance(results[0], triage.RecordError) and isinstance(results[1], triage.Decision)
