"""Reply scripts: rendering, the sandbox, Traditional output, load-time checks, the guard."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import opencc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError

import triage
from triage.replies.render import CONVERSIONS, _Conversion, address
from triage.replies.scripts import MAX_REPLY_CHARS, SAMPLE_CONTEXTS, ReplySandbox

from ..conftest import CORPUS_DIR, FIXTURES

NOW_ISO = "2026-11-23T10:00:00+08:00"

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
    corpus = CORPUS_DIR / "corpus.jsonl"
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
    ("{% for d in deadlines %}{{ d.__class__.__mro__ }}{% endfor %}", "[deadlines]",
     "unsafe"),
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


# Traditional replies are converted piece by piece (template words and policy labels once
# at load, values per reply); they must read as converting the whole Simplified reply.

#: Surnames to address customers by: common ones, ones OpenCC converts (钟, 于, 范, 叶,
#: 发), compound ones, one already Traditional (張), and the four found by scanning every
#: convertible character for which a dictionary phrase straddles the template's word and
#: the name (托, 扣, 溪 and 里: each stays as written in a reply).
SURNAMES = ("王", "李", "张", "刘", "陈", "钟", "于", "范", "叶", "发", "万", "严", "郑", "谢",
            "冯", "邓", "欧阳", "诸葛", "司马", "張", "里", "托", "扣", "溪")
CASE_NUMBERS = ("C-1024", "2026-1123-0001", "投诉123", "工单-干线8")


def _traditional_cases(policy: triage.Policy) -> list[tuple[triage.Complaint, dict[str, str],
                                                             triage.RoleRef, tuple[Any, ...],
                                                             datetime]]:
    """Complaints and decisions covering every label, role, surname, 0..4 deadlines."""
    base = policy.triage({"id": "T", "channel": "phone", "text": "漏水",
                          "product": {"domain": "auto_dealer"}}).deadlines[0]
    zone = ZoneInfo("Asia/Shanghai")
    # every weekday, every period of the day (凌晨 ... 晚上), and midnight (24:00前)
    dues = [datetime(2026, 11, 23, tzinfo=zone) + timedelta(days=day, minutes=minute)
            for day in range(7) for minute in (0, 200, 500, 725, 900, 1100, 1290)]
    milestones = list(policy.taxonomy["milestones"].values())
    deadlines = [dataclasses.replace(base, label=milestones[i % len(milestones)],
                                     due=dues[i % len(dues)]) for i in range(64)]
    kinds = {kind: list(policy.taxonomy[kind]) for kind in ("request_type", "category",
                                                             "severity")}
    roles = [triage.RoleRef(k, r.name) for k, r in policy._model.roles.items()]
    customers: list[triage.Customer | None] = [None, triage.Customer(name="王伟")]
    customers += [triage.Customer(name=s + "小明", title=t) for s in SURNAMES
                  for t in ("先生", "女士")]
    cases = []
    for i, customer in enumerate(customers):
        outputs = {kind: values[i % len(values)] for kind, values in kinds.items()}
        complaint = triage.Complaint(id=CASE_NUMBERS[i % len(CASE_NUMBERS)],
                                     channel=triage.Channel.PHONE, text="漏水",
                                     customer=customer)
        cases.append((complaint, outputs, roles[i % len(roles)],
                      tuple(deadlines[i:i + i % 5]), dues[i % len(dues)]))
    assert len(cases) >= max(len(v) for v in kinds.values()) and len(cases) >= len(roles)
    return cases


def _in_locale(complaint: triage.Complaint, locale: str) -> triage.Complaint:
    customer = complaint.customer or triage.Customer()
    return complaint.model_copy(update={"customer": customer.model_copy(
        update={"locale": locale})})


def _converted_keeping(text: str, keep: list[str], converter: Any) -> str:
    """``text`` converted as a whole, but for each occurrence of ``keep``'s texts."""
    if not keep:
        return str(converter.convert(text))
    pattern = "|".join(re.escape(k) for k in sorted(keep, key=len, reverse=True))
    parts = re.split(f"({pattern})", text)
    return "".join(part if i % 2 else converter.convert(part) for i, part in enumerate(parts))


def test_traditional_replies_read_as_the_whole_reply_converted(
        default_policy: triage.Policy) -> None:
    """Every template x every Traditional locale x varied contexts: converting piece by
    piece gives what converting the whole rendered reply gives, except the values the
    customer gave (the name as addressed, the case number), which stay as written."""
    writer = default_policy._writer
    library = default_policy._model.scripts
    assert library is not None
    converters = {locale: opencc.OpenCC(config) for locale, config in CONVERSIONS.items()}
    compared = kept = 0
    for complaint, outputs, owner, deadlines, received in _traditional_cases(default_policy):
        for script_id in sorted(library.ids):
            simplified = writer.write(script_id, complaint, received, outputs, owner,
                                      deadlines)
            assert simplified.locale == "zh-Hans"
            given = [str(simplified.variables.get("address", "您")), complaint.id]
            given = [g for g in given if g and g != "您"]
            for locale, converter in converters.items():
                ours = writer.write(script_id, _in_locale(complaint, locale), received,
                                    outputs, owner, deadlines)
                assert ours.locale == locale and ours.variables == simplified.variables
                assert ours.text == _converted_keeping(simplified.text, given, converter), (
                    script_id, locale, ours.text)
                compared += 1
                kept += ours.text != converter.convert(simplified.text)
    assert compared >= 35 * 3 * 50
    assert kept > 0  # some names and case numbers would have changed


#: Surnames that OpenCC converts as ordinary words: 于 -> 於, 里 -> 裏/裡, 余 -> 餘,
#: 范 -> 範, 姜 -> 薑, 叶 -> 葉 (as a word, not as a name).
CONVERTIBLE_SURNAMES = ["于", "里", "余", "范", "姜", "叶"]


@pytest.mark.parametrize("surname", CONVERTIBLE_SURNAMES)
@pytest.mark.parametrize("locale", sorted(CONVERSIONS))
def test_a_traditional_reply_keeps_the_customers_name(default_policy: triage.Policy,
                                                      surname: str, locale: str) -> None:
    """繁 replies address the customer by the surname they gave (于先生 stays 于先生), while
    the template's own words are converted (谢谢 -> 謝謝)."""
    writer = default_policy._writer
    owner = triage.RoleRef("cs_agent", "客服专员")
    outputs = {"request_type": "praise", "category": "service", "severity": "general"}
    complaint = triage.Complaint(id="C-1", channel=triage.Channel.PHONE, text="謝謝你們",
                                 customer=triage.Customer(name=surname + "伟", title="先生",
                                                          locale=locale))
    received = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    reply = writer.write("praise", complaint, received, outputs, owner, ())
    assert f"{surname}先生" in reply.text
    assert "謝謝" in reply.text and "谢谢" not in reply.text


def test_a_case_number_is_kept_as_written(default_policy: triage.Policy) -> None:
    """A case number with Chinese in it is an identifier: it stays as the record gives it."""
    reply = default_policy.render_script("ack_complaint", {
        "id": "投诉-于-001", "channel": "phone", "text": "你們的服務太差了，我要投訴",
        "received_at": "2026-11-23T10:00:00+08:00"})
    assert reply.locale == "zh-Hant" and "case_number" in reply.variables
    assert "投诉-于-001" in reply.text and "投訴-於-001" not in reply.text


def test_literal_texts_are_the_pieces_jinja_yields(default_policy: triage.Policy) -> None:
    """What is converted at load is each template's words, grouped as Jinja yields them
    (no Jinja syntax): rendering yields nothing else but the context's values."""
    library = default_policy._model.scripts
    assert library is not None
    for script in library.scripts.values():
        assert script.texts and not any("{{" in t or "{%" in t or "{#" in t
                                        for t in script.texts), script.id
        for sample in SAMPLE_CONTEXTS:
            values = {str(v) for k, v in sample.items() if k != "deadlines"}
            values |= {v for d in sample["deadlines"] for v in d.values()}
            for piece in script.pieces(sample):
                assert piece in script.texts or piece in values, (script.id, piece)


@pytest.mark.parametrize("locale", ["zh-Hans", "zh-TW"])
def test_replies_stay_bounded_in_every_locale(default_policy: triage.Policy,
                                              locale: str) -> None:
    """A reply that grows past MAX_REPLY_CHARS while rendering stops, converted or not."""
    writer = default_policy._writer
    base = default_policy.triage({"id": "T", "channel": "phone", "text": "漏水",
                                  "product": {"domain": "auto_dealer"}}).deadlines
    complaint = triage.Complaint(id="C-1", channel=triage.Channel.PHONE, text="漏水",
                                 customer=triage.Customer(locale=locale))
    outputs = {"request_type": "complaint", "category": "service", "severity": "general"}
    with pytest.raises(triage.RenderError, match=f"longer than {MAX_REPLY_CHARS:,}") as info:
        writer.write("ack_repair", complaint, datetime(2026, 11, 23), outputs,
                     triage.RoleRef("cs_agent", "客服专员"), base * 2000)
    assert info.value.template.endswith("ack_repair.j2")
    assert isinstance(info.value.__cause__, SecurityError)


def test_sandbox_reads_a_deadline_item_and_refuses_internals() -> None:
    """``d.label`` reads the item and ``loop.index`` the counter; any other name gets the
    sandbox's own rules, and a method is refused."""
    env = ReplySandbox()
    item = MappingProxyType({"label": "首次联系客户", "due_text": "明天"})
    assert env.getattr(item, "label") == "首次联系客户"
    with pytest.raises(SecurityError, match="'keys' is a method"):
        env.getattr(item, "keys")  # a method would print as a Python repr
    assert isinstance(env.getattr(item, "__class__"), jinja2.Undefined)
    assert isinstance(env.getattr(item, "missing"), jinja2.Undefined)
    loop = jinja2.runtime.LoopContext(iter("ab"), env.undefined)
    next(loop)  # at the first item
    assert (env.getattr(loop, "index"), env.getattr(loop, "first")) == (1, True)
    assert isinstance(env.getattr(loop, "_iterator"), jinja2.Undefined)


@pytest.mark.parametrize(("name", "addressed"), [
    ("王伟", "王先生"), ("欧阳娜娜", "欧阳先生"), ("張三", "張先生"), ("歐陽修", "歐陽先生"),
    ("于谦", "于先生"), ("John Smith", "您"), ("{{ 7*7 }}", "您"), ("7号", "您"),
    ("\u202e王伟", "王先生"), ("托马斯", "您")])
def test_the_address_comes_from_a_real_surname_only(name: str, addressed: str) -> None:
    """J先生 and {先生 are gone: a name that starts with no known surname gets 您; bidi
    and control characters are removed first."""
    complaint = triage.Complaint(id="1", channel=triage.Channel.PHONE, text="漏水",
                                 customer=triage.Customer(name=name, title="先生"))
    assert address(complaint) == addressed


def test_the_policy_sets_the_neutral_address(tmp_path: Path) -> None:
    """`policy: {neutral_address: 客户}` is what a reply says when the name has no surname."""
    folder = tmp_path / "p"
    shutil.copytree(FIXTURES / "replies", folder)
    text = (folder / "policy.yaml").read_text(encoding="utf-8")
    text = text.replace("  company: 示例公司\n", "  company: 示例公司\n  neutral_address: 客户\n")
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    policy = triage.load_policy(folder)
    decision = policy.triage({"id": "1", "channel": "phone", "text": "漏水",
                              "customer": {"name": "Smith", "title": "先生"}})
    assert decision.reply is not None and decision.reply.text.startswith("客户好")


@pytest.mark.parametrize("value", ["\u202e伟王", "王\u200b伟", "王伟\x07", "\u2066王伟\u2069"])
def test_bidi_and_control_characters_never_reach_a_reply(default_policy: triage.Policy,
                                                         value: str) -> None:
    """Names and case numbers lose bidi overrides, zero widths and controls on the way in."""
    decision = default_policy.triage({
        "id": "C" + value, "channel": "phone", "text": "服务太差", "received_at": NOW_ISO,
        "customer": {"name": value, "title": "女士"}})
    assert decision.reply is not None
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b\x00-\x1f]", decision.reply.text)


@pytest.mark.parametrize("expression", ["address.encode", "address['upper']",
                                        "address.__class__", "company.split"])
def test_templates_cannot_print_methods_or_reprs(tmp_path: Path, expression: str) -> None:
    """``{{ address.encode }}`` would print ``<built-in method ... at 0x...>``: refused when
    the policy loads."""
    folder = tmp_path / "p"
    shutil.copytree(FIXTURES / "replies", folder)
    path = folder / "scripts_cn" / "thanks.j2"
    path.write_text(path.read_text(encoding="utf-8") + "{{ " + expression + " }}\n", "utf-8")
    with pytest.raises(triage.PolicyError) as info:
        triage.load_policy(folder)
    assert any(p.code == "template-error" for p in info.value.problems)
    assert "0x" not in str(info.value)


_PIECE = st.text(alphabet="于王先生号-1里余", max_size=14)


@given(_PIECE, st.lists(st.text(alphabet="于王先生号-1", min_size=1, max_size=4), max_size=3))
def test_kept_values_are_found_as_a_regex_alternation_finds_them(piece: str,
                                                                  keep: list[str]) -> None:
    """The customer's values stay as written wherever they occur: leftmost first, the
    longest at one place, as ``re.split`` on the alternation longest first splits."""
    conversion = _Conversion(opencc.OpenCC(CONVERSIONS["zh-Hant"]), ())
    convert = opencc.OpenCC(CONVERSIONS["zh-Hant"]).convert
    texts = sorted({k for k in keep if k}, key=len, reverse=True)
    if texts:
        parts = re.split("(" + "|".join(map(re.escape, texts)) + ")", piece)
        expected = "".join(p if i % 2 else convert(p) for i, p in enumerate(parts))
    else:
        expected = convert(piece)
    assert conversion._convert_around(piece, keep) == expected

