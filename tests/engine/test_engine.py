"""Stage semantics, condition operators, negation and the keyword index."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage.engine.context import Context
from triage.engine.keywords import KeywordIndex, policy_literals
from triage.language.conditions import RegexTest, walk
from triage.language.schema import STAGE_OUTPUTS, STAGES
from triage.language.validate import StageDef
from triage.text.folding import fold
from triage.text.regex import RegexSet, compile_pattern

from ..conftest import CORPUS_DIR, FIXTURES, write_policy

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")


def decide(policy: triage.Policy, text: str, **fields: object) -> triage.Decision:
    return policy.triage({"id": "t", "channel": "phone", "text": text, **fields})


def test_first_hit_takes_the_highest_priority(minimal_policy: triage.Policy) -> None:
    """Leak (priority 20) beats attitude (priority 10) whatever the order in the text."""
    decision = decide(minimal_policy, "态度差，而且漏水")
    assert decision.category == "product_quality"
    assert decision.rules_fired("category") == ["cat.leak"]


def test_collect_stage_unions_flags(minimal_policy: triage.Policy) -> None:
    """Every flag rule that holds contributes its flag."""
    decision = decide(minimal_policy, "又冒烟了")
    assert decision.flags == ("recurrence", "safety")
    assert sorted(decision.rules_fired("flags")) == ["fl.again", "fl.safety"]


def test_severity_combines_as_the_maximum(minimal_policy: triage.Policy) -> None:
    """A label problem (incidental) and smoke (severe) give severe, and both rules are listed."""
    decision = decide(minimal_policy, "标签贴错了，还冒烟")
    assert decision.severity == "severe"
    assert sorted(decision.rules_fired("severity")) == ["sev.label", "sev.safety"]


def test_stage_default_applies_and_is_explained(minimal_policy: triage.Policy) -> None:
    """With no rule matching, each stage's default is used and named in the explanation."""
    decision = decide(minimal_policy, "随便说点什么")
    assert (decision.category, decision.severity, decision.owner.role) == (
        "other", "general", "agent")
    defaults = [h.rule_id for h in decision.explanation if h.default]
    assert "category.default" in defaults
    assert [r.role for r in decision.escalation] == ["manager", "boss"]


def test_field_test_and_output_test_route_special_cases(minimal_policy: triage.Policy) -> None:
    """prior_rejections >= 2 makes the case special, and the owner stage sees that."""
    decision = decide(minimal_policy, "还是不行", prior_rejections=2)
    assert (decision.handling, decision.owner.role) == ("special", "manager")
    hit = next(h for h in decision.explanation if h.rule_id == "h.rejections")
    assert hit.evidence[0] == triage.FieldEvidence("prior_rejections", "gte", 2, 2)


def test_record_request_type_skips_the_stage(minimal_policy: triage.Policy) -> None:
    """A request type given in the record is kept and explained as given."""
    decision = decide(minimal_policy, "表扬一下", request_type="suggestion")
    assert decision.request_type == "suggestion"
    assert decision.explanation[0].rule_id == "request_type.given"


def test_negation_cue_cancels_the_keyword(minimal_policy: triage.Policy) -> None:
    """不是漏水 does not count as a leak; 漏水 elsewhere in the text still does."""
    assert decide(minimal_policy, "不是漏水的问题").category == "other"
    assert decide(minimal_policy, "没有漏水").category == "other"
    assert decide(minimal_policy, "不是漏水，是渗水").category == "product_quality"


def test_negation_does_not_reach_across_a_clause(minimal_policy: triage.Policy) -> None:
    """A cue in the previous clause does not cancel a word after the comma."""
    assert decide(minimal_policy, "不是，漏水").category == "product_quality"


def test_negation_window_is_respected(minimal_policy: triage.Policy) -> None:
    """这不是第一次漏水: the cue is three characters away (window 2), so 漏水 counts."""
    assert decide(minimal_policy, "这不是第一次漏水").category == "product_quality"


def test_traditional_and_full_width_input_match_simplified_words(
        minimal_policy: triage.Policy) -> None:
    """態度差 (Traditional) matches 态度差; evidence points at the customer's own characters."""
    decision = decide(minimal_policy, "服務員態度差")
    assert decision.category == "service"
    evidence = decision.explanation[2].evidence[0]
    assert isinstance(evidence, triage.KeywordEvidence)
    assert (evidence.matched, evidence.word, evidence.start) == ("態度差", "态度差", 3)


@pytest.mark.parametrize(("op", "value", "attributes", "expected"), [
    ("eq", 5, {"score": 5}, True),
    ("eq", 5, {}, False),
    ("ne", 5, {}, True),
    ("ne", 5, {"score": 5}, False),
    ("in", [1, 2], {"score": 2}, True),
    ("not_in", [1, 2], {}, True),
    ("gt", 5, {"score": 6}, True),
    ("gt", 5, {"score": "6"}, False),
    ("lte", 6, {"score": 6}, True),
    ("between", [3, 6], {"score": 6}, True),
    ("between", [3, 6], {"score": 7}, False),
    ("exists", True, {"score": None}, False),
    ("exists", False, {}, True),
])
def test_field_operators_on_attributes(tmp_path: Path, op: str, value: object,
                                       attributes: dict[str, object], expected: bool) -> None:
    """Each operator's meaning, including missing values and values of the wrong type."""
    rule = (f"      - id: h.attr\n        priority: 9\n"
            f"        when: {{field: attributes.score, {op}: {value}}}\n"
            f"        set: {{handling: special}}\n")
    text = MINIMAL.replace("  handling:\n    default: general\n    rules:\n",
                           "  handling:\n    default: general\n    rules:\n" + rule)
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    decision = decide(policy, "x", attributes=attributes)
    assert (decision.handling == "special") is expected


def test_regex_and_not_conditions(tmp_path: Path) -> None:
    """A regex on folded text, and a negated keyword test, both with evidence."""
    rule = ("      - id: cat.phone\n        priority: 30\n        when:\n          all:\n"
            "            - regex: '1[3-9][0-9]{9}'\n            - not: {text: [表扬]}\n"
            "        set: {category: service}\n")
    text = MINIMAL.replace("  category:\n    default: other\n    rules:\n",
                           "  category:\n    default: other\n    rules:\n" + rule)
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    decision = decide(policy, "请回电１３８００１３８０００")
    assert decision.category == "service"
    kinds = [e.kind for e in decision.explanation[2].evidence]
    assert kinds == ["regex", "absent"]
    assert decide(policy, "表扬 13800138000").category == "other"


def test_regex_is_linear_on_an_evil_pattern(tmp_path: Path) -> None:
    """(a+)+$ on a long run of a's followed by b completes (RE2 does not backtrack)."""
    rule = ("      - id: cat.evil\n        priority: 30\n        when: {regex: '(a+)+$'}\n"
            "        set: {category: service}\n")
    text = MINIMAL.replace("  category:\n    default: other\n    rules:\n",
                           "  category:\n    default: other\n    rules:\n" + rule)
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    assert decide(policy, "a" * 200_000 + "b").category == "other"


words = st.sampled_from(["漏水", "渗水", "态度差", "不耐烦", "冒烟", "起火", "又", "再次", "标签",
                         "表扬", "不是", "没有", "，", "好", "的", "A", "滲水", "態度差"])


def _reference_find(policy: triage.Policy, folded: str) -> tuple[set[int], set[int]]:
    """Words present and words not negated everywhere, by brute force over every offset;
    an occurrence inside one of the word's exception phrases does not count."""
    words = list(policy._word_ids)
    negation = policy._model.meta.negation
    cues = [fold(c) for c in negation.cues] if negation.enabled else []
    cue_ends = [i + len(c) for c in cues for i in range(len(folded)) if folded.startswith(c, i)]
    breaks = set(",.!?;:\n\r、…~～，。！？；：")

    def negated(start: int) -> bool:
        return any(0 <= start - end <= negation.window and not breaks & set(folded[end:start])
                   for end in cue_ends)

    exceptions = policy_literals(policy._model).exceptions

    def excepted(word: str, start: int) -> bool:  # inside one of the word's exception phrases
        return any(a <= start and start + len(word) <= a + len(phrase)
                   for phrase in exceptions.get(word, ())
                   for a in range(len(folded)) if folded.startswith(phrase, a))

    every, present = set(), set()
    for kid, word in enumerate(words):
        starts = [i for i in range(len(folded)) if folded.startswith(word, i)
                  and not excepted(word, i)]
        if starts:
            every.add(kid)
            if not all(negated(s) for s in starts):
                present.add(kid)
    return present, every


@pytest.mark.parametrize("name", ["minimal", "every_condition", "default"])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_keyword_finder_agrees_with_brute_force(name: str, data: st.DataObject) -> None:
    """The RE2-set finder reports the same words, and the same negated ones, as brute force."""
    policy = POLICIES[name]
    pieces = [*policy._word_ids, *policy._model.meta.negation.cues, "，", "。", "的", "A",
              *(p for ps in policy_literals(policy._model).exceptions.values() for p in ps)]
    text = data.draw(st.one_of(st.lists(words, max_size=12),
                               st.lists(st.sampled_from(pieces), max_size=12)).map("".join))
    folded = fold(text)
    found = policy._index.find(folded)
    present, every = _reference_find(policy, folded)
    assert set(found.all) == every
    assert set(found.present) == present


def _interpret(policy: triage.Policy, record: triage.Complaint) -> tuple[object, ...]:
    """Decide ``record`` the slow way: every rule's closure, stage by stage, in order."""
    folded = fold(record.text)
    ctx = Context(record, folded, policy._index, policy._index.find(folded),
                  policy.timezone, None)
    ranks = list(policy.taxonomy["severity"])
    fired: list[object] = []
    held: dict[str, list[int]] = {}
    for name in STAGES:
        stage = policy._stages.get(name)
        if stage is None:  # an optional stage the policy leaves out
            fired.append([])
            continue
        if name == "request_type" and record.request_type is not None:
            ctx.outputs["request_type"] = record.request_type.value
            fired.append(-2)
            continue
        hits = [i for i, rule in enumerate(stage.rules) if rule.test(ctx)]
        outputs = [stage.rules[i].info.outputs for i in hits] or [stage.default_hit.outputs]
        model = policy._model.stages[name]
        if model.scored:
            chosen = _score(model, hits, held)
            fired.append(chosen)
            ctx.outputs.update(stage.rules[chosen].info.outputs if chosen >= 0
                               else stage.default_hit.outputs)
        elif stage.hit_policy == "first":
            fired.append(hits[0] if hits else -1)
            ctx.outputs.update(outputs[0])
        elif stage.hit_policy == "merge":
            fired.append(hits)
        elif stage.hit_policy == "collect":
            fired.append(hits)
            ctx.flags = frozenset(f for out in outputs for f in out["flags"])
        else:
            fired.append(hits)
            ctx.outputs["severity"] = max((o["severity"] for o in outputs), key=ranks.index)
    return (*fired, held), dict(ctx.outputs), ctx.flags


def _score(stage: StageDef, hits: list[int], held: dict[str, list[int]]) -> int:
    """A scored stage decided from its definition: the first decisive rule, else the
    value with the highest total (above zero and min_score), ties by the stage's rule."""
    rules = stage.rules
    decisive = [i for i in hits if rules[i].decisive]
    if decisive:
        return decisive[0]
    scored = held[stage.name] = [i for i in hits if not rules[i].decisive]
    key = STAGE_OUTPUTS[stage.name][0]
    totals: Counter[str] = Counter()
    for i in scored:
        totals[rules[i].outputs[key]] += rules[i].weight
    if not totals:
        return -1
    top = max(totals.values())
    if top <= 0 or top < stage.score.min_score:
        return -1
    tied = [v for v, total in totals.items() if total == top]
    if len(tied) > 1 and stage.score.tie == "default":
        return -1
    value = min(tied, key=lambda v: min(i for i in scored if rules[i].outputs[key] == v))
    return max((i for i in scored if rules[i].outputs[key] == value),
               key=lambda i: (rules[i].weight, -i))


def complaints(policy: triage.Policy) -> st.SearchStrategy[triage.Complaint]:
    """Records built from the policy's own words, with every field its rules may test."""
    pieces = [*policy._word_ids, "，", "不是", "没", "的", "A", "请问", "吗", "第二次", "又",
              "？", "。", "（备注：", "）", "你们说", "经检测", "防漏水"]
    return st.builds(
        triage.Complaint,
        id=st.sampled_from(["p", "x"]),
        text=st.lists(st.sampled_from(pieces), max_size=10).map("".join),
        channel=st.sampled_from(list(triage.Channel)),
        request_type=st.none() | st.sampled_from(list(triage.RequestType)),
        received_at=st.none() | st.datetimes(
            min_value=datetime(2025, 6, 1), max_value=datetime(2026, 6, 1),
            timezones=st.just(timezone(timedelta(hours=8)))),
        product=st.none() | st.builds(
            triage.Product,
            domain=st.none() | st.sampled_from(["real_estate", "auto_dealer", "electronics",
                                                "cosmetics", "manufacturing", "x"]),
            purchase_date=st.none() | st.dates(date(2025, 1, 1), date(2026, 12, 31))),
        customer=st.none() | st.builds(
            triage.Customer, tier=st.none() | st.sampled_from(["vip", "key_account", "normal"]),
            title=st.none() | st.sampled_from(["先生", "女士"])),
        prior_rejections=st.integers(0, 4),
        demands=st.lists(st.sampled_from(list(triage.Demand)), max_size=3).map(tuple),
        attributes=st.dictionaries(st.just("score"),
                                   st.integers(0, 10) | st.text(max_size=2) | st.none()),
    )


POLICIES = {name: triage.load_policy(path) for name, path in (
    ("minimal", FIXTURES / "minimal"), ("every_condition", FIXTURES / "every_condition"),
    ("reading", FIXTURES / "reading"), ("scored", FIXTURES / "scored"),
    ("default", None))}


@pytest.mark.parametrize("name", list(POLICIES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_generated_program_decides_as_the_rules_closures_do(name: str, data: st.DataObject) -> None:
    """The generated program fires the same rules, with the same outputs, as the closures."""
    policy = POLICIES[name]
    record = data.draw(complaints(policy))
    fired, outputs, flags = _interpret(policy, record)
    folded = fold(record.text)
    ctx = Context(record, folded, policy._index, policy._index.find(folded),
                  policy.timezone, None)
    if record.request_type is not None:
        ctx.outputs["request_type"] = record.request_type.value
    assert policy._program(ctx, record.request_type is not None) == fired
    assert ctx.outputs == outputs
    assert ctx.flags == flags


@settings(max_examples=300, deadline=None)
@given(st.lists(words, max_size=12).map("".join))
def test_keyword_evidence_points_at_the_words_in_the_original_text(text: str) -> None:
    """Every keyword evidence's offsets cut out the customer's text that folds to the word."""
    policy = triage.load_policy(FIXTURES / "minimal")
    decision = decide(policy, text)
    for hit in decision.explanation:
        for e in hit.evidence:
            if isinstance(e, triage.KeywordEvidence):
                assert text[e.start:e.end] == e.matched
                assert fold(e.matched) == fold(e.word)


def _patterns() -> st.SearchStrategy[str]:
    """Small RE2 patterns over a few characters: literals, classes, groups, repeats."""
    leaf = st.sampled_from(["a", "b", "ab", "修", "修好", "!", ".", "[ab]", "[^a]", "^", "$",
                            "[两三]", "\\d", "，"])

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map(lambda p: f"({p[0]}|{p[1]})"),
            st.tuples(inner, inner).map(lambda p: f"{p[0]}|{p[1]}"),
            inner.map(lambda p: f"(?:{p})"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{1,2}", "{0,3}", "{2}"])).map(
                lambda p: f"({p[0]}){p[1]}"))

    return st.recursive(leaf, grow, max_leaves=6)


@settings(max_examples=500, deadline=None)
@given(patterns=st.lists(_patterns(), min_size=1, max_size=4, unique=True),
       text=st.lists(st.sampled_from(["a", "b", "修", "好", "!", "，", "两", "1", "x", "修好"]),
                     max_size=10).map("".join))
def test_regexes_found_with_the_words_are_those_that_match(patterns: list[str],
                                                          text: str) -> None:
    """The keyword pass decides each regex (RE2's filtered matching of them all) exactly
    as searching the text with that regex does."""
    index = KeywordIndex(["好", "xy"], ["不"], 3, RegexSet(patterns))
    found = index.find(text)
    expected = sum(1 << i for i, p in enumerate(patterns)
                   if compile_pattern(p).search(text) is not None)
    assert found.regexes == expected
    assert found.all <= {0, 1}  # only words are reported as words


def test_default_policy_regexes_on_the_corpus() -> None:
    """On every corpus text, the regex mask is what searching with each pattern gives."""
    policy = POLICIES["default"]
    patterns = [c.pattern for stage in policy._model.stages.values() for rule in stage.rules
                for c in walk(rule.condition) if isinstance(c, RegexTest)]
    bits = {p: i for i, p in enumerate(dict.fromkeys(patterns))}
    compiled = {p: compile_pattern(p) for p in bits}
    texts = [json.loads(line)["complaint"]["text"]
             for path in sorted(CORPUS_DIR.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 200 and len(bits) > 5
    matched = 0
    for text in texts:
        folded = fold(text)
        found = policy._index.find(folded)
        expected = sum(1 << i for p, i in bits.items() if compiled[p].search(folded))
        assert found.regexes == expected, text
        matched += expected != 0
    assert matched > 20  # the corpus exercises the regexes, not only their absence
