"""The durable-rules engine decides exactly as the compiled engine, explanations included.

Skipped, with the reason, where durable-rules cannot run (Python 3.13+, or not installed).
"""

from __future__ import annotations

import itertools
import json
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.engine.durable import _c_engine, durable_available
from triage.testing import complaints

from ..conftest import CORPUS_DIR, FIXTURES, ROOT, prepend_rules, rule_lines, scale

WHY_NOT = durable_available()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"durable engine: {WHY_NOT}")

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CORPUS = [CORPUS_DIR / name for name in ("corpus.jsonl", "holdout.jsonl")]
EXAMPLES = ROOT / "examples" / "complaints.jsonl"
MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")


def summary(result: triage.Decision | triage.RecordError) -> Any:
    """Everything a decision says, the explanation and its evidence included."""
    if isinstance(result, triage.RecordError):
        return ("error", result.code, result.message)
    return json.loads(result.to_json())


@pytest.fixture(scope="module")
def engines() -> tuple[triage.Policy, triage.Policy]:
    return triage.load_policy(), triage.load_policy(engine="durable")


def test_every_corpus_record_gets_the_same_decision(
        engines: tuple[triage.Policy, triage.Policy]) -> None:
    """The 512 labelled and example complaints: identical decisions, field by field."""
    records = [json.loads(line) for path in [*CORPUS, EXAMPLES]
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [r.get("complaint", r) for r in records]
    compiled, durable = engines
    assert durable.engine == "durable" and compiled.engine == "compiled"
    pairs = zip(compiled.triage_many(records, now=NOW), durable.triage_many(records, now=NOW),
                strict=True)
    differing = [i for i, (a, b) in enumerate(pairs) if summary(a) != summary(b)]
    assert len(records) >= 500 and differing == []


@settings(max_examples=scale(2_000, 5_000), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(complaints(triage.load_policy()))
def test_generated_complaints_get_the_same_decision(
        engines: tuple[triage.Policy, triage.Policy], complaint: triage.Complaint) -> None:
    """Complaints made of the default policy's own words, channels and fields."""
    compiled, durable = engines
    assert summary(durable.triage(complaint, now=NOW)) == summary(
        compiled.triage(complaint, now=NOW))


# -- random small policies ------------------------------------------------------------------

WORDS = ["漏水", "异响", "态度差", "退款"]
VALUES = st.one_of(st.integers(-2, 3), st.sampled_from([0.5, 2.0, True, False]),
                   st.sampled_from(["a", "b", "2"]))
words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True)
text_tests = st.builds(
    lambda mode, ws, negation: {"text": {mode: ws}, **({} if negation else {"negation": False})},
    st.sampled_from(["any", "all", "none"]), words, st.booleans())
field_tests = st.one_of(
    st.builds(lambda op, v: {"field": "prior_rejections", op: v},
              st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), st.integers(0, 3)),
    st.builds(lambda op, vs: {"field": "channel", op: vs if op in ("in", "not_in") else vs[0]},
              st.sampled_from(["eq", "ne", "in", "not_in"]),
              st.lists(st.sampled_from(["phone", "email", "web"]), min_size=1, max_size=2,
                       unique=True)),
    st.builds(lambda op, v: {"field": "attributes.score", op: v},
              st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), VALUES),
    st.builds(lambda op, vs: {"field": "attributes.score", op: vs},
              st.sampled_from(["in", "not_in"]), st.lists(VALUES, min_size=1, max_size=3)),
    st.builds(lambda a, b: {"field": "attributes.score", "between": sorted([a, b])},
              st.integers(-2, 3), st.integers(-2, 3)),
    st.builds(lambda v: {"field": "attributes.score", "exists": v}, st.booleans()),
    st.builds(lambda v: {"field": "attributes.tags", "contains": v}, st.sampled_from(
        ["a", 1, ["a", "b"], [True]])),
    st.builds(lambda v: {"field": "demands", "contains": v},
              st.sampled_from(["refund", "apology", ["compensation", "refund"]])),
    st.builds(lambda v: {"field": "demands", "exists": v}, st.booleans()),
    st.builds(lambda v: {"flag": v}, st.sampled_from(["safety", "recurrence"])),
    st.builds(lambda negation: {"regex": "漏水.{0,3}异响",
                                **({} if negation else {"negation": False})}, st.booleans()),
)
span_tests = st.one_of(
    st.builds(lambda a, b, within, ordered, same, negation: {"near": {
        "words": a, "with": b, **({"within": within} if within is not None else {}),
        **({"same": same} if same else {}), "ordered": ordered, "negation": negation}},
        words, words, st.none() | st.integers(0, 6), st.booleans(),
        st.none() | st.sampled_from(["clause", "sentence"]), st.booleans()),
    st.builds(lambda ws, part, kind: {"text": {"any": ws, **({"in": part} if part else {}),
                                               **({"sentence": kind} if kind else {})}},
              words, st.none() | st.sampled_from(["customer", "note", "reported"]),
              st.none() | st.sampled_from(["question", "statement"])),
)
conditions = st.recursive(
    st.one_of(text_tests, field_tests, span_tests),
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=0, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner)),
    max_leaves=5)
ATTRIBUTE_VALUES = st.one_of(st.none(), VALUES, st.just([]), st.just(""),
                             st.lists(st.one_of(VALUES, st.just({"x": 1})), max_size=3))
records = st.fixed_dictionaries({
    "id": st.just("r"),
    "channel": st.sampled_from(["phone", "email", "web"]),
    "text": st.lists(st.sampled_from([*WORDS, "不是", "没有", "，", "又", "冒烟", "吗", "？",
                                      "。", "你们说", "（备注：", "）", "经检测"]),
                     max_size=8).map("".join).map(lambda t: t or "你好"),
    "prior_rejections": st.integers(0, 3),
    "demands": st.lists(st.sampled_from(["refund", "apology", "compensation"]), max_size=2),
    "attributes": st.fixed_dictionaries({}, optional={"score": ATTRIBUTE_VALUES,
                                                      "tags": ATTRIBUTE_VALUES}),
})


def random_policy(flag_rules: list[dict[str, Any]], category_rules: list[dict[str, Any]],
                  folder: Path) -> Path:
    """The minimal policy with the random conditions as flags and category rules."""
    flags = rule_lines([{"id": f"f.{i}", "when": c, "set": {"flags": ["safety"]}}
                        for i, c in enumerate(flag_rules)])
    cats = rule_lines([{"id": f"c.{i}", "priority": i % 3, "when": c,
                        "set": {"category": ["service", "product_quality"][i % 2]}}
                       for i, c in enumerate(category_rules)])
    text = MINIMAL.replace("""      - id: fl.safety
        when: {text: [$danger]}
        set: {flags: [safety]}
""", flags).replace("""      - id: cat.leak
        priority: 20
        when: {text: [$leak]}
        set: {category: product_quality}
""", cats)
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    return folder


@settings(max_examples=scale(150, 1_000), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions, min_size=1, max_size=3), st.lists(conditions, min_size=1,
                                                              max_size=4),
       st.lists(records, min_size=1, max_size=12))
def test_random_policies_get_the_same_decisions(flag_rules: list[dict[str, Any]],
                                                category_rules: list[dict[str, Any]],
                                                items: list[dict[str, Any]]) -> None:
    """Random conditions over words, negation, numbers, mixed-type attributes, lists and
    flags, on random complaints: the two engines agree on every decision."""
    with tempfile.TemporaryDirectory() as folder:
        path = random_policy(flag_rules, category_rules, Path(folder))
        try:
            compiled = triage.load_policy(path)
        except triage.PolicyError:
            return  # e.g. two rules tied: not what this test is about
        durable = triage.load_policy(path, engine="durable")
    for item in items:
        assert summary(durable.triage(item, now=NOW)) == summary(
            compiled.triage(item, now=NOW)), item


weights = st.one_of(st.none(), st.integers(-2, 3), st.sampled_from([0.5, 1.25, 0.001]))


@settings(max_examples=scale(100, 600), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(conditions, weights, st.booleans()), min_size=1, max_size=5),
       st.sampled_from([None, 0.5, 1, 2.5]), st.sampled_from([None, "default", "priority"]),
       st.lists(records, min_size=1, max_size=12))
def test_scored_stages_with_random_weights_get_the_same_decisions(
        category_rules: list[tuple[dict[str, Any], int | float | None, bool]],
        min_score: float | None, tie: str | None, items: list[dict[str, Any]]) -> None:
    """A scored category stage with random conditions, weights, decisive rules, threshold
    and tie rule: the two engines agree on every decision, score tables included."""
    rules = []
    for i, (cond, weight, decisive) in enumerate(category_rules):
        rule: dict[str, Any] = {"id": f"c.{i}", "when": cond,
                                "set": {"category": ["service", "product_quality"][i % 2]}}
        if decisive:
            rule.update(decisive=True, priority=10 + i)
        elif weight is not None:
            rule["weight"] = weight
        rules.append(rule)
    settings_text = "    hit: score\n" + (f"    min_score: {min_score}\n" if min_score else "") + (
        f"    tie: {tie}\n" if tie else "")
    text = MINIMAL.replace("""  category:
    default: other
""", "  category:\n" + settings_text + "    default: other\n").replace(
        """      - id: cat.leak
        priority: 20
        when: {text: [$leak]}
        set: {category: product_quality}
      - id: cat.attitude
        priority: 10
        when: {text: [$attitude]}
        set: {category: service}
""", rule_lines(rules))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "policy.yaml").write_text(text, encoding="utf-8")
        try:
            compiled = triage.load_policy(folder)
        except triage.PolicyError:
            return  # e.g. two decisive rules tied: not what this test is about
        durable = triage.load_policy(folder, engine="durable")
    assert compiled._model.stages["category"].scored
    for item in items:
        assert summary(durable.triage(item, now=NOW)) == summary(
            compiled.triage(item, now=NOW)), item


def test_the_scored_fixture_gets_the_same_decisions() -> None:
    """The scored fixture (decisive rules, negative weights, ties both ways) on its own
    words: the same decisions and score tables on both engines."""
    path = FIXTURES / "scored"
    compiled, durable = triage.load_policy(path), triage.load_policy(path, engine="durable")
    words = ["漏水", "坏了", "太差", "修", "请问", "吗", "客服", "谢谢", "曝光", "修过", "冒烟",
             "，"]
    texts = ["".join(c) for n in (1, 2, 3) for c in itertools.permutations(words, n)][:3000]
    scored = 0
    for i, text in enumerate(texts):
        item = {"id": str(i), "channel": "phone", "text": text, "prior_rejections": i % 3}
        a, b = compiled.triage(item, now=NOW), durable.triage(item, now=NOW)
        assert summary(a) == summary(b), text
        scored += bool(a.scores)
    assert scored > 1000


# -- the engine's own limits and behaviour -----------------------------------------------


def raw_ruleset(pattern: str) -> Any:
    """A one-rule ruleset on durable-rules' own regex test (``$mt``), as a function."""
    engine = _c_engine()
    handle = engine.create_ruleset(f"probe-{pattern}", json.dumps(
        {"r": {"all": [{"m": {"$mt": {"text": pattern}}}]}}, ensure_ascii=False))

    def matches(text: str) -> bool:
        fact = json.dumps({"text": text}, ensure_ascii=False)
        code, state = engine.assert_fact(handle, fact)
        fired = bool(code == 0 and engine.start_action_for_state(handle, state))
        if fired:
            engine.complete_and_start_action(handle, state)
        engine.retract_fact(handle, fact)
        return fired
    return matches


@pytest.mark.parametrize(("pattern", "text"), [
    (".*(漏水|异响).*", "漏水异"), (".*(ab|cd).*", "abc"), (".*aba.*", "abab")])
def test_durable_regex_misses_are_why_text_is_matched_outside_it(pattern: str,
                                                                 text: str) -> None:
    """durable-rules' own regex engine misses these matches (Python's re finds them), so
    the durable engine takes keyword and regex results from triage's text layer."""
    assert re.search(pattern, text) is not None
    assert raw_ruleset(pattern)(text) is False


def test_keywords_that_durable_regex_misses_are_still_found(tmp_path: Path) -> None:
    """The same words as a policy: both engines see 漏水 in "漏水异" and aba in "abab"."""
    text = MINIMAL.replace("  leak: [漏水, 渗水]", "  leak: [漏水, 异响, aba]")
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    durable = triage.load_policy(tmp_path, engine="durable")
    for body in ("漏水异", "abab"):
        decision = durable.triage({"id": "k", "channel": "web", "text": body}, now=NOW)
        assert decision.category == "product_quality"


def test_a_rule_too_wide_for_one_ruleset_is_refused_at_load_by_name(tmp_path: Path) -> None:
    """A rule whose 'any' lists multiply into more tests than the engine's stack holds."""
    many = [{"field": "attributes.a", "eq": i} for i in range(9)]
    text = prepend_rules(MINIMAL, "category", [{
        "id": "cat.wide", "priority": 30, "when": {"all": [{"any": many}, {"any": many}]},
        "set": {"category": "service"}}])
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    assert triage.load_policy(tmp_path).rule_count > 0  # the compiled engine takes it
    with pytest.raises(triage.EngineError, match=r"cat\.wide .*MAX_STACK_SIZE"):
        triage.load_policy(tmp_path, engine="durable")


def test_too_many_fields_for_one_fact_is_refused_at_load(tmp_path: Path) -> None:
    """A fact holds at most 252 properties: a policy testing 45 fields cannot be run."""
    tests = [{"field": f"attributes.a{i}", "exists": True} for i in range(45)]
    text = prepend_rules(MINIMAL, "category", [
        {"id": f"cat.f{i}", "priority": 30 + i, "when": t, "set": {"category": "service"}}
        for i, t in enumerate(tests)])
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(triage.EngineError, match="252 properties"):
        triage.load_policy(tmp_path, engine="durable")


def test_a_complaint_matching_seventy_rules_is_decided(tmp_path: Path) -> None:
    """70 flag rules all holding for one complaint (more than the 64 matches one assert
    can take): the rules are spread over rulesets, so it is decided, and the next
    complaint sees none of its matches."""
    vocabulary = [f"词{i:02d}" for i in range(70)]
    text = prepend_rules(MINIMAL, "flags", [
        {"id": f"fl.w{i}", "when": {"text": [w]}, "set": {"flags": ["recurrence"]}}
        for i, w in enumerate(vocabulary)])
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    compiled = triage.load_policy(tmp_path)
    durable = triage.load_policy(tmp_path, engine="durable")
    crowded = {"id": "all", "channel": "web", "text": "，".join(vocabulary)}
    quiet = {"id": "one", "channel": "web", "text": "漏水"}
    for record in (crowded, quiet, crowded):
        assert summary(durable.triage(record, now=NOW)) == summary(
            compiled.triage(record, now=NOW))
    assert len([h for h in durable.triage(crowded, now=NOW).explanation
                if h.stage == "flags"]) == 70


def test_two_versions_side_by_side_and_threads(tmp_path: Path) -> None:
    """Two policy versions loaded at once keep their own rulesets; 4 threads sharing one
    durable policy get exactly the compiled engine's decisions."""
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "policy.yaml").write_text(MINIMAL, encoding="utf-8")
    (b / "policy.yaml").write_text(MINIMAL.replace("set: {category: product_quality}",
                                                   "set: {category: service}"), "utf-8")
    first, second = (triage.load_policy(p, engine="durable") for p in (a, b))
    leak = {"id": "l", "channel": "web", "text": "漏水"}
    assert (first.triage(leak).category, second.triage(leak).category,
            first.triage(leak).category) == ("product_quality", "service", "product_quality")
    compiled = triage.load_policy(a)
    texts = ["".join(p) for p in itertools.permutations(["漏水", "态度差", "冒烟", "不是"], 3)]
    expected = {t: summary(compiled.triage({"id": "t", "channel": "web", "text": t}, now=NOW))
                for t in texts}
    wrong: list[str] = []

    def work() -> None:
        for _ in range(20):
            for t in texts:
                got = first.triage({"id": "t", "channel": "web", "text": t}, now=NOW)
                if summary(got) != expected[t]:
                    wrong.append(t)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(triage.EngineError, match="'compiled' or 'durable'"):
        triage.load_policy(engine="rete")  # type: ignore[arg-type]
