"""Every kind of policy mistake: its code, the line and column of the offending text, a hint.

Each row changes a small valid policy in one place and names the text the report must point
at; the expected line and column are found by searching for that text in the changed file,
so a row says *what* the author got wrong, and the test works out *where* it is.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import triage
from triage.authoring.analysis import analyse
from triage.errors import PolicyError

from ..conftest import FIXTURES

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")
WITH_DEADLINES = MINIMAL.replace(
    "  name: minimal\n", "  name: minimal\n  default_calendar: office\n").replace(
    "  domain: {auto_dealer: 4S店}\n",
    "  domain: {auto_dealer: 4S店}\n"
    "  milestones: {first_contact: 首次联系, resolution: 处理完毕, follow_up: 回访}\n").replace(
    "stages:\n", """stages:
  deadlines:
    default:
      - {milestone: first_contact, within: 2h}
      - {milestone: resolution, within: 3d}
      - {milestone: follow_up, within: 2d, after: resolution}
    rules:
      - id: dl.site
        when: {field: channel, eq: onsite_verbal}
        set:
          deadlines:
            - {milestone: resolution, within: same_day, calendar: office}
""", 1) + """calendars:
  office:
    hours: {mon-fri: ["09:00-12:00", "13:30-18:00"]}
"""


@dataclass(frozen=True)
class Mistake:
    """One change to a valid policy and the problems it must produce."""

    name: str
    old: str
    new: str
    #: (code, place): the place is the text the caret must sit under; ``before>>place``
    #: finds ``before`` + ``place`` and points at ``place``.
    expect: tuple[tuple[str, str], ...]
    hint: str = ""
    base: str = "minimal"
    file: str = "policy.yaml"


MISTAKES = [
    Mistake("tab indentation", "  name: minimal", "\tname: minimal",
            (("yaml-syntax", "\tname"),), "spaces only"),
    Mistake("python object tag", "  name: minimal", "  name: !!python/object/apply:os.system "
            "[echo]", (("unsafe-tag", "!!python"),)),
    Mistake("duplicate key", "  name: minimal\n", "  name: minimal\n  name: again\n",
            (("duplicate-key", "name: again"),)),
    Mistake("misspelt key", "        priority: 10\n        when: {text: [表扬",
            "        priorty: 10\n        when: {text: [表扬",
            (("unknown-key", "priorty"),), "did you mean 'priority'?"),
    Mistake("rule without set", "        set: {request_type: praise}\n", "",
            (("missing-key", "id: rt.praise"),)),
    Mistake("priority not a number", "priority: 10\n        when: {text: [表扬",
            "priority: high\n        when: {text: [表扬", (("wrong-type", "high"),)),
    Mistake("name with a space", "  leak: [漏水, 渗水]", "  leak: [漏水, 渗水]\n  'bad name': [x]",
            (("bad-name", "'bad name'"),), "letters, digits and _"),
    Mistake("no policy section", "policy:\n  name: minimal\n", "",
            (("missing-section", "taxonomy:"),), "policy: {name: ...}"),
    Mistake("unknown time zone", "  name: minimal\n",
            "  name: minimal\n  timezone: Asia/Shanghia\n",
            (("unknown-value", "Asia/Shanghia"),), "IANA"),
    Mistake("misspelt category", "set: {category: service}", "set: {category: servce}",
            (("unknown-value", "servce"),), "did you mean 'service'?"),
    Mistake("misspelt flag", "set: {flags: recurrence}", "set: {flags: recurence}",
            (("unknown-value", "recurence"),), "did you mean 'recurrence'?"),
    Mistake("rule id used twice", "id: cat.attitude", "id: cat.leak",
            (("duplicate-id", "- id: cat.leak\n        priority: 20\n        when: {text: [$leak]}"
              "\n        set: {category: product_quality}\n      - id: >>cat.leak"),),
            "rule ids must be unique"),
    Mistake("misspelt vocabulary", "when: {text: [$leak]}", "when: {text: [$laek]}",
            (("undefined-vocabulary", "$laek"),), "did you mean '$leak'?"),
    Mistake("misspelt role", "set: {owner: manager}", "set: {owner: manger}",
            (("undefined-role", "manger"),), "did you mean 'manager'?"),
    Mistake("stage without default",
            "    default: general\n    rules:\n      - id: sev.safety",
            "    rules:\n      - id: sev.safety",
            (("missing-default", "  >>severity:\n    rules:"),), "default: ..."),
    Mistake("misspelt stage", "  owner:\n    default: agent", "  ownr:\n    default: agent",
            (("missing-default", "stages:"), ("unknown-stage", "ownr:")),
            "did you mean 'owner'?"),
    Mistake("empty condition", "when: {text: [又, 再次]}", "when: {}",
            (("empty-condition", "{}"),), "a condition is one of"),
    Mistake("two tests in one condition", "when: {flag: safety}",
            "when: {flag: safety, text: [火]}",
            (("ambiguous-condition", "text: [火]"),), "'all:' or 'any:'"),
    Mistake("a word that is not text", "when: {text: [标签]}", "when: {text: [标签, {a: 1}]}",
            (("wrong-type", "{a: 1}"),)),
    Mistake("misspelt field", "{field: prior_rejections, gte: 2}",
            "{field: prior_rejection, gte: 2}",
            (("unknown-field", "prior_rejection,"),), "did you mean 'prior_rejections'?"),
    Mistake("field without operator", "{field: prior_rejections, gte: 2}",
            "{field: prior_rejections, atleast: 2}",
            (("missing-operator", "field: prior_rejections, atleast"), ("unknown-key", "atleast"))),
    Mistake("eq on a list field", "{field: prior_rejections, gte: 2}",
            "{field: demands, eq: compensation}",
            (("wrong-operator", "compensation"),), ""),
    Mistake("order test on text", "{field: prior_rejections, gte: 2}",
            "{field: channel, gte: phone}",
            (("wrong-operator", "phone"),), "'eq', 'in'"),
    Mistake("test of a later stage", "when: {text: [$attitude]}", "when: {handling: special}",
            (("stage-order", "handling: special"),), "stages run in this order"),
    Mistake("invalid regex", "when: {text: [标签]}", "when: {regex: '标签('}",
            (("invalid-regex", "'标签('"),), "RE2"),
    Mistake("regex that can never match", "when: {text: [标签]}", "when: {regex: 'APP闪退'}",
            (("regex-never-matches", "'APP闪退'"),), "'app'"),
    # deadlines and calendars
    Mistake("bad duration", "within: 3d}", "within: 3days}", (("bad-duration", "3days"),),
            base="deadlines"),
    Mistake("misspelt milestone", "{milestone: first_contact, within: 2h}",
            "{milestone: first_contac, within: 2h}",
            (("unknown-value", "milestone: >>first_contac,"),), "did you mean 'first_contact'?",
            base="deadlines"),
    Mistake("misspelt calendar", "calendar: office}", "calendar: ofice}",
            (("undefined-calendar", "ofice}"),), "did you mean 'office'?", base="deadlines"),
    Mistake("misspelt default calendar", "default_calendar: office", "default_calendar: ofice",
            (("undefined-calendar", "ofice"),), "did you mean 'office'?", base="deadlines"),
    Mistake("anchor on an anchored milestone", "within: 3d}", "within: 3d, after: follow_up}",
            (("anchor-chain", "follow_up}"), ("anchor-chain", "after: >>resolution}")),
            "counted from receipt", base="deadlines"),
    Mistake("hour past midnight", '"13:30-18:00"', '"13:30-25:00"',
            (("bad-hours", '"13:30-25:00"'),), base="deadlines"),
    Mistake("misspelt day", "mon-fri:", "mon-fry:", (("bad-hours", "mon-fry"),),
            base="deadlines"),
    # reply templates
    Mistake("misspelt script", "set: {script: thanks}", "set: {script: thank}",
            (("undefined-script", "thank}"),), "did you mean 'thanks'?", base="replies"),
    Mistake("template without front matter", "{#\nid: thanks", "id: thanks",
            (("missing-front-matter", "id: thanks"),), "begin with {#", base="replies",
            file="scripts_cn/thanks.j2"),
    Mistake("unknown template variable", "{{ company }}", "{{ compny }}",
            (("unknown-variable", "compny"),), "the context has", base="replies",
            file="scripts_cn/thanks.j2"),
    Mistake("forbidden phrase in a template", "我们会把", "不知道，我们会把",
            (("forbidden-phrase", "不知道"),), "我马上为您核实", base="replies",
            file="scripts_cn/thanks.j2"),
    Mistake("template syntax", "{{ company }}", "{{ company }",
            (("template-syntax", "{{ address }}，非常"),), "two braces", base="replies",
            file="scripts_cn/thanks.j2"),
    Mistake("unknown filter", "{{ company }}", "{{ company | shout }}",
            (("template-syntax", "{{ address }}，非常"),), "filters here", base="replies",
            file="scripts_cn/thanks.j2"),
    Mistake("sandbox escape in a template", "{{ company }}", "{{ company.__class__ }}",
            (("template-error", "{{ address }}，非常"),), base="replies",
            file="scripts_cn/thanks.j2"),
    Mistake("unknown use", "situation: praise", "situation: praise\nuse: agents",
            (("unknown-value", "use: agents"),), base="replies", file="scripts_cn/thanks.j2"),
    Mistake("variables list out of date", "variables: [address, company]",
            "variables: [address]", (("conflict", "variables: [address]"),),
            "exactly the variables", base="replies", file="scripts_cn/thanks.j2"),
]


def make_policy(tmp_path: Path, mistake: Mistake) -> tuple[Path, str]:
    """The base policy with the mistake made; returns the folder and the changed file's text."""
    folder = tmp_path / "policy"
    if mistake.base == "replies":
        shutil.copytree(FIXTURES / "replies", folder)
    else:
        folder.mkdir()
        text = MINIMAL if mistake.base == "minimal" else WITH_DEADLINES
        (folder / "policy.yaml").write_text(text, encoding="utf-8")
    target = folder / mistake.file
    before = target.read_text(encoding="utf-8")
    assert before.count(mistake.old) == 1, f"{mistake.name}: the change must be unambiguous"
    after = before.replace(mistake.old, mistake.new)
    target.write_text(after, encoding="utf-8")
    return folder, after


def place_of(text: str, place: str) -> tuple[int, int]:
    """1-based line and column of ``place`` (or of what follows ``>>`` in it) in ``text``."""
    before, _, at = place.rpartition(">>")
    index = text.index(before + at) + len(before)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_each_mistake_is_reported_at_the_offending_text(tmp_path: Path, mistake: Mistake) -> None:
    """Exactly the expected problems, each under the text at fault, with a helpful hint."""
    folder, text = make_policy(tmp_path, mistake)
    with pytest.raises(PolicyError) as caught:
        triage.load_policy(folder)
    found = sorted((p.code, p.line, p.column) for p in caught.value.problems)
    expected = sorted((code, *place_of(text, place)) for code, place in mistake.expect)
    assert found == expected
    for problem in caught.value.problems:
        assert problem.file.endswith(mistake.file)
        assert problem.source_line == text.splitlines()[problem.line - 1]
        assert "Traceback" not in problem.format()
    if mistake.hint:
        assert any(mistake.hint in (p.hint or p.message) for p in caught.value.problems)


def test_unclosed_bracket_says_where_it_was_opened(tmp_path: Path) -> None:
    """PyYAML notices a missing ']' lines later; the message points back at the '['."""
    folder = tmp_path / "p"
    folder.mkdir()
    text = MINIMAL.replace("  name: minimal", "  name: [minimal")
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        triage.load_policy(folder)
    (problem,) = caught.value.problems
    line, column = place_of(text, "[minimal")
    assert problem.code == "yaml-syntax"
    assert f"began at line {line}, column {column}" in problem.message


def test_empty_folder_and_non_yaml_folder_are_policy_errors(tmp_path: Path) -> None:
    """A folder without policy files is one clear problem, not an empty policy."""
    (tmp_path / "notes.txt").write_text("no policy here", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        triage.load_policy(tmp_path)
    assert [p.code for p in caught.value.problems] == ["empty-policy"]


# -- warnings: the policy loads, but something in it is suspect -----------------------------

SHADOWED = [
    ("same words", "when: {text: [$leak]}", "when: {text: [漏水]}"),
    ("fewer words", "when: {text: [$leak]}", "when: {text: [渗水]}"),
    ("extra condition", "when: {text: [$leak]}",
     "when: {all: [{text: [渗水]}, {field: channel, eq: phone}]}"),
    ("all of more words", "when: {text: [$leak]}", "when: {text: {all: [漏水, 异响]}}"),
    ("narrower range", "when: {text: [$leak]}",
     "when: {field: prior_rejections, gte: 3}"),
    ("value inside the list", "when: {text: [$leak]}", "when: {field: channel, eq: email}"),
]


def policy_with_later_rule(tmp_path: Path, earlier: str, later: str,
                           priority: int = 15) -> triage.Policy:
    """The minimal policy with a category rule after ``cat.leak`` (priority 20, ``earlier``)."""
    text = MINIMAL.replace("when: {text: [$leak]}", earlier).replace(
        "      - id: cat.attitude", f"""      - id: cat.later
        priority: {priority}
        when: {later}
        set: {{category: service}}
      - id: cat.attitude""")
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    return triage.load_policy(tmp_path)


@pytest.mark.parametrize(("name", "old", "later"), SHADOWED, ids=[s[0] for s in SHADOWED])
def test_a_rule_implied_by_an_earlier_one_is_shadowed(tmp_path: Path, name: str, old: str,
                                                      later: str) -> None:
    """cat.later can never fire: whenever it holds, cat.leak (higher priority) holds too."""
    earlier = {"narrower range": "when: {field: prior_rejections, gte: 2}",
               "value inside the list": "when: {field: channel, in: [email, web]}"}.get(
        name, "when: {text: [$leak]}")
    policy = policy_with_later_rule(tmp_path, earlier, later.removeprefix("when: "))
    shadowed = [p for p in analyse(policy) if p.code == "shadowed-rule"]
    assert [(p.message.split()[0], p.severity) for p in shadowed] == [("cat.later", "warning")]
    assert "cat.leak" in shadowed[0].message
    lines = (tmp_path / "policy.yaml").read_text(encoding="utf-8").splitlines()
    assert "cat.later" in lines[shadowed[0].line - 1]


@pytest.mark.parametrize("later", [
    "{text: [漏水, 异响]}",                        # wider: 异响 alone fires it
    "{text: {none: [漏水]}}",                      # the opposite
    "{field: prior_rejections, gte: 1}",          # a wider range than cat.leak's
    "{text: [漏水], negation: false}",             # also counts "不是漏水"
])
def test_a_rule_that_can_still_fire_is_not_called_shadowed(tmp_path: Path, later: str) -> None:
    """The analysis reports only what it proves: each later rule here can decide a complaint."""
    earlier = ("when: {field: prior_rejections, gte: 2}" if "prior" in later
               else "when: {text: [漏水]}")
    policy = policy_with_later_rule(tmp_path, earlier, later)
    assert [p for p in analyse(policy) if p.code == "shadowed-rule"] == []


@pytest.mark.parametrize(("later", "tie"), [
    ("{text: [态度差]}", True),                            # both can hold
    ("{all: [{text: [漏水]}, {field: channel, eq: phone}]}", True),
    ("{all: [{text: [态度差]}, {text: {none: [$leak]}}]}", False),  # excludes cat.leak
    ("{field: prior_rejections, lt: 2}", False),           # cat.leak asks gte 2 here
])
def test_equal_priorities_warn_only_when_both_rules_can_hold(tmp_path: Path, later: str,
                                                             tie: bool) -> None:
    """A priority tie matters only when one complaint can satisfy both rules."""
    earlier = ("when: {field: prior_rejections, gte: 2}" if "prior" in later
               else "when: {text: [$leak]}")
    policy = policy_with_later_rule(tmp_path, earlier, later, priority=20)
    text = (tmp_path / "policy.yaml").read_text(encoding="utf-8")
    ties = [w for w in policy.warnings if w.code == "priority-tie"]
    assert len(ties) == (1 if tie else 0)
    if tie:
        assert "cat.leak" in ties[0].message and "cat.later" in ties[0].message
        assert "cat.later" in text.splitlines()[ties[0].line - 1]
