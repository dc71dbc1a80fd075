"""Reliability: reload while serving, threads, process pools, hostile input of every kind."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import triage
from triage.cli import main
from triage.integrations import batch
from triage.integrations.batch import decide_line, triage_lines
from triage.integrations.store import PolicyStore
from triage.language.schema import policy_json_schema

from .conftest import FIXTURES, prepend_rules, scale, write_policy

MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    """Two policies that decide 漏水 differently: A says product_quality, B says service."""
    a = write_policy(tmp_path / "a", {"policy.yaml": MINIMAL})
    b = write_policy(tmp_path / "b", {"policy.yaml": MINIMAL.replace(
        "when: {text: [$leak]}\n        set: {category: product_quality}",
        "when: {text: [$leak]}\n        set: {category: service}")})
    return a, b


def test_reload_swaps_only_a_policy_that_loads_and_passes_its_cases(tmp_path: Path) -> None:
    """A broken file or a failing case leaves the old policy serving, with the reasons."""
    a, b = two_versions(tmp_path)
    store = PolicyStore(a)
    first = store.version
    broken = write_policy(tmp_path / "broken", {"policy.yaml": MINIMAL.replace("rules:", "rule:")})
    result = store.reload(broken)
    assert not result.ok and result.version == first and result.problems
    failing = write_policy(tmp_path / "failing", {
        "policy.yaml": MINIMAL,
        "cases/c.yaml": "cases:\n  - complaint: {text: 漏水}\n    expect: {category: service}\n"})
    assert not store.reload(failing).ok and store.version == first
    assert store.reload(b).ok and store.version != first
    assert store.triage({"id": "1", "channel": "web", "text": "漏水"}).category == "service"


RELOADS = scale(10, 100)


def test_threads_triage_while_another_reloads(tmp_path: Path) -> None:
    """8 threads, 100 reloads (10 in CI): no exception, nothing lost, each decision made
    wholly by one version."""
    a, b = two_versions(tmp_path)
    store = PolicyStore(a)
    expected = {triage.load_policy(a).version: "product_quality",
                triage.load_policy(b).version: "service"}
    stop = threading.Event()
    errors: list[BaseException] = []
    counts = [0] * 8
    asked = [0] * 8

    def serve(slot: int) -> None:
        try:
            while not stop.is_set():
                asked[slot] += 1
                decision = store.triage({"id": str(slot), "channel": "web", "text": "漏水"})
                assert decision.category == expected[decision.policy_version]
                counts[slot] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    reloads = [store.reload(b if i % 2 == 0 else a).ok for i in range(RELOADS)]
    stop.set()
    for t in threads:
        t.join()
    assert not errors and all(reloads) and all(c > 0 for c in counts)
    assert counts == asked  # count in == count out


def test_process_pool_gives_the_same_lines_in_the_same_order() -> None:
    """Two worker processes: the same output as one process, bad lines included."""
    lines = [json.dumps({"id": f"p{i}", "channel": "phone", "text": t}, ensure_ascii=False)
             .encode() for i, t in enumerate(["漏水", "态度差", "刹车失灵", "表扬师傅"] * 30)]
    lines[7] = b'{"id": "bad", "text": '
    lines[11] = b"\xff\xfe not utf-8"
    lines[13] = b"   "
    pooled = list(triage_lines(lines, workers=2, chunk_size=16, now=NOW))
    policy = triage.load_policy()
    single = [(isinstance(r, triage.RecordError), r.to_json()) for r in
              (decide_line(policy, n, line, NOW) for n, line in enumerate(lines, start=1))
              if r is not None]
    assert pooled == single
    assert len(pooled) == len(lines) - 1  # the blank line gives nothing
    assert [i for i, (error, _) in enumerate(pooled) if error] == [7, 11]


def test_the_pool_reads_only_a_few_chunks_ahead_of_what_it_yields() -> None:
    """Memory stays flat on a long input: when the first result comes out, the pool has
    read at most AHEAD chunks per worker (plus the one being submitted), not the input."""
    pulled = 0

    def lines() -> Iterator[bytes]:
        nonlocal pulled
        for i in range(5_000):
            pulled += 1
            yield json.dumps({"id": f"m{i}", "channel": "phone", "text": "漏水"}).encode()

    results = triage_lines(lines(), workers=2, chunk_size=10, now=NOW, detail="lean")
    next(results)
    assert pulled <= (batch.AHEAD * 2 + 1) * 10
    assert sum(1 for _ in results) == 4_999 and pulled == 5_000


_FORKED_POOL = """
import json, shutil, sys
from datetime import datetime
import triage
from triage.integrations.batch import triage_lines
folder = sys.argv[1]
shutil.copytree(triage.bundled_policy_path(), folder)
policy = triage.load_policy(folder)
shutil.rmtree(folder)
lines = [line.encode() for line in sys.stdin.read().splitlines()]
now = datetime.fromisoformat(sys.argv[2])
print(json.dumps(list(triage_lines(lines, policy=policy, workers=2, chunk_size=8, now=now,
                                   detail="lean"))))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked only on Linux")
def test_workers_forked_from_a_loaded_policy_share_it(tmp_path: Path) -> None:
    """Given a loaded Policy, the workers are forked with it and never read its folder:
    they decide as it does even once the folder is gone. In a fresh interpreter, which
    has no other thread (a fork is refused while other threads run, as in this one)."""
    texts = ["漏水三次了", "客服态度差", "咨询保修期"] * 20
    lines = [json.dumps({"id": f"f{i}", "channel": "phone", "text": t}, ensure_ascii=False)
             for i, t in enumerate(texts)]
    done = subprocess.run([sys.executable, "-c", _FORKED_POOL, str(tmp_path / "rules"),
                           NOW.isoformat()], input="\n".join(lines), capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    pooled = [tuple(pair) for pair in json.loads(done.stdout)]
    policy = triage.load_policy()
    single = [(False, decide_line(policy, n, line.encode(), NOW).to_json(detail="lean"))  # type: ignore[union-attr]
              for n, line in enumerate(lines, start=1)]
    assert pooled == single and len(pooled) == 60


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
records = st.dictionaries(
    st.sampled_from(["id", "text", "channel", "customer", "product", "demands",
                     "prior_rejections", "received_at", "attributes", "request_type", "x"]),
    json_values, max_size=8)


DEFAULT = triage.load_policy()


@settings(max_examples=scale(25, 500), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records | json_values, max_size=5))
def test_any_json_gets_a_decision_or_an_error_record_in_order(items: list[object]) -> None:
    """Arbitrary JSON values as records: one result each, in order, never an exception."""
    policy = DEFAULT
    lines = [json.dumps(item) for item in items]
    results = list(policy.triage_many(lines, now=NOW))
    assert len(results) == len(lines)
    assert all(isinstance(r, triage.Decision | triage.RecordError) for r in results)
    assert [r.line for r in results if isinstance(r, triage.RecordError)] == [
        i + 1 for i, r in enumerate(results) if isinstance(r, triage.RecordError)]


@settings(max_examples=scale(10, 200), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=60), max_size=6))
@example(chunks=[b"\x1c"])  # str.strip() removes it, bytes.strip() does not: was a crash
@example(chunks=[b"\x0b"])  # bytes.strip() removes it, JSON does not count it as blank
@example(chunks=[b"\xff\xfe", b"{}", b" \t"])
def test_cli_route_on_random_bytes_never_crashes(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str],
                                                 chunks: list[bytes]) -> None:
    """Random bytes on stdin: exit 0 or 2, one output line per non-blank input line."""
    data = b"\n".join(c.replace(b"\n", b" ").replace(b"\r", b" ") for c in chunks)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code = main(["route", "-", "--no-progress", "--policy", str(FIXTURES / "minimal")])
    out = capsys.readouterr().out
    assert code in (0, 2)
    expected = sum(1 for line in data.split(b"\n") if line.strip(b" \t\r\n"))  # JSON blanks
    assert (len(out.rstrip("\n").split("\n")) if out else 0) == expected


LONG_TEXT = scale(1_100_000, 10_500_000)


def test_long_texts_are_refused_by_default_and_decided_when_allowed() -> None:
    """Past max_text_length (default 1,000,000 characters) a record error; with the limit
    raised, a decision: 1.1 million characters in CI, 10.5 million (about 30 MB of UTF-8)
    with --run-slow. Time grows linearly (benchmarks/long_text.py)."""
    unit = "客服态度太差，漏水一直没人管。"
    text = (unit * (LONG_TEXT // len(unit) + 1))[:LONG_TEXT]
    record = {"id": "long", "channel": "web", "text": text}
    (error,) = triage.load_policy().triage_many([record])
    assert isinstance(error, triage.RecordError) and "1,000,000" in error.message
    policy = triage.load_policy(max_text_length=LONG_TEXT)
    decision = policy.triage(record, now=NOW)
    assert decision.category in ("service", "product_quality")
    assert any(hit.evidence for hit in decision.explanation)
    line = json.dumps(record, ensure_ascii=False)  # the same through a JSON line
    (again,) = policy.triage_many([line], now=NOW)
    assert isinstance(again, triage.Decision) and again.category == decision.category


schema_keys = st.sampled_from(["policy", "taxonomy", "vocabularies", "roles", "stages",
                               "calendars", "escalation", "forbidden", "name", "rules",
                               "default", "when", "set", "text", "id", "priority", "words"])
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6) | schema_keys,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(schema_keys, inner,
                                                                max_size=4),
    max_leaves=25)


@settings(max_examples=scale(15, 300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(schema_keys, yaml_values, max_size=6))
def test_random_policy_documents_load_or_fail_with_problems(tmp_path: Path,
                                                            doc: dict[str, object]) -> None:
    """Any YAML document built from the schema's words: a Policy or a PolicyError."""
    folder = tmp_path / "fuzz"
    shutil.rmtree(folder, ignore_errors=True)
    write_policy(folder, {"policy.yaml": yaml.safe_dump(doc, allow_unicode=True)})
    try:
        triage.load_policy(folder)
    except triage.PolicyError as exc:
        assert exc.problems


# -- hostile records: each class gets a decision or an error record naming the field -------

DEEP: dict[str, object] = {"a": None}
for _ in range(5_000):
    DEEP = {"a": DEEP}

HOSTILE_RECORDS = [
    ("control characters", {"text": "漏水\x00\x01\x1b[31m\u202e\ufeff"}, None),
    ("lone surrogate", {"text": "漏水\ud800"}, "text: not valid Unicode"),
    ("attributes nested 5,000 deep", {"attributes": DEEP}, "attributes: nested deeper"),
    ("number too large", {"prior_rejections": 10**30}, "prior_rejections"),
    ("negative count", {"prior_rejections": -1}, "prior_rejections"),
    ("not a number", {"prior_rejections": float("nan")}, "prior_rejections"),
    ("text as a number", {"text": 12315}, None),
    ("text as a list", {"text": ["漏水"]}, "text"),
    ("missing text and channel", {"text": None, "channel": None}, "text"),
    ("unknown channel", {"channel": "pigeon"}, "channel: 'pigeon' is not allowed"),
    ("impossible date", {"received_at": "2026-13-45T10:00:00"}, "received_at"),
    ("year far in the future", {"received_at": "9999-12-31T23:59:59+14:00"},
     "received_at: year 9999"),
    ("unknown field", {"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("name", "change", "error"), HOSTILE_RECORDS,
                         ids=[h[0] for h in HOSTILE_RECORDS])
def test_hostile_record_gets_a_decision_or_a_clear_error(name: str, change: dict[str, object],
                                                         error: str | None) -> None:
    """The bad record between two good ones: three results, in order, the bad one named."""
    bad = {"id": "bad", "channel": "web", "text": "漏水"} | change
    bad = {k: v for k, v in bad.items() if v is not None}
    good = {"id": "ok", "channel": "web", "text": "漏水"}
    results = list(DEFAULT.triage_many([good, bad, good], now=NOW))
    assert [type(r).__name__ for r in results[::2]] == ["Decision", "Decision"]
    if error is None:
        assert isinstance(results[1], triage.Decision)
    else:
        assert isinstance(results[1], triage.RecordError)
        assert results[1].line == 2 and error in results[1].message
        assert len(results[1].message) < 500


BAD_LINES = [
    ("nested 100,000 deep", '{"id": "d", "channel": "web", "text": "x", "attributes": '
     + '{"a": ' * 100_000 + "1" + "}" * 100_001, "JSON"),
    ("escaped lone surrogate", '{"id": "s", "channel": "web", "text": "\\ud800"}', "JSON"),
    ("number beyond float", '{"id": "n", "channel": "web", "text": "x", '
     '"prior_rejections": 1e999}', "prior_rejections"),
    ("cut off", '{"id": "c", "channel": "web", "text": "漏', "JSON"),
    ("not an object", '["漏水"]', "JSON object"),
]


@pytest.mark.parametrize(("name", "line", "error"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_bad_json_line_is_an_error_record(name: str, line: str, error: str) -> None:
    """A JSON line the parser or the model refuses: an error record, the next line decided."""
    bad, good = DEFAULT.triage_many([line, '{"id": "g", "channel": "web", "text": "漏水"}'])
    assert isinstance(bad, triage.RecordError) and error in bad.message and bad.line == 1
    assert isinstance(good, triage.Decision)


EVIL_PATTERNS = ["(a+)+$", "(x|x)*y", "(a|aa)*b", "(a*)*b", "((a+)+)+c", "(.*a){12}z"]


@pytest.mark.parametrize("pattern", EVIL_PATTERNS)
def test_evil_regex_on_a_megabyte_finishes(tmp_path: Path, pattern: str) -> None:
    """Classic catastrophic-backtracking patterns on 1,000,000 characters: RE2 runs them in
    linear time, so each is decided (the whole parametrised test takes seconds)."""
    text = prepend_rules(MINIMAL, "category", [{"id": "cat.evil", "priority": 30, "when": {
        "regex": pattern}, "set": {"category": "service"}}])
    policy = triage.load_policy(write_policy(tmp_path, {"policy.yaml": text}))
    for body in ("a" * 999_999 + "!", "x" * 999_999 + "!"):
        assert policy.triage({"id": "e", "channel": "web", "text": body}).category == "other"


# -- hostile or broken policies ------------------------------------------------------------


def test_oversized_policy_files_are_refused_without_being_read(tmp_path: Path) -> None:
    """A 50 MB policy file (sparse: nothing to read) is refused at once with the limit."""
    write_policy(tmp_path, {"policy.yaml": MINIMAL})
    with (tmp_path / "huge.yaml").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(triage.PolicyError) as caught:
        triage.load_policy(tmp_path)
    (problem,) = caught.value.problems
    assert problem.code == "too-large" and problem.file.endswith("huge.yaml")
    assert "5,242,880" in problem.message


SCHEMA = json.loads(policy_json_schema())
NAMES = st.sampled_from(["leak", "agent", "manager", "office", "category", "severity",
                         "request_type", "flags", "owner", "handling", "product_quality",
                         "service", "漏水", "2wd", "09:00-18:00", "mon-fri", "x y", ""])
CONDITIONS = st.sampled_from([{"text": ["漏水"]}, {"text": {"none": ["$leak"]}},
                              {"field": "channel", "eq": "phone"}, {"flag": "safety"},
                              {"all": []}, {"regex": "(a+)+$"}, {"any": [{"text": 1}]}, [], 3])


def from_schema(node: dict[str, object], depth: int = 0) -> st.SearchStrategy[object]:
    """Documents shaped by the policy's JSON Schema (from the pydantic models), with names
    drawn from a small pool so that references sometimes resolve and sometimes do not."""
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        return st.deferred(lambda: from_schema(SCHEMA["$defs"][name], depth + 1))
    if "anyOf" in node:
        return st.one_of([from_schema(n, depth) for n in node["anyOf"]])  # type: ignore[union-attr]
    if "enum" in node:
        return st.sampled_from(node["enum"])  # type: ignore[arg-type]
    kind = node.get("type")
    if kind == "object":
        if depth > 4:
            return st.just({})
        properties: dict[str, dict[str, object]] = node.get("properties", {})  # type: ignore[assignment]
        required = set(node.get("required", []))  # type: ignore[arg-type]
        fixed = st.fixed_dictionaries(
            {k: from_schema(v, depth + 1) for k, v in properties.items() if k in required},
            optional={k: from_schema(v, depth + 1) for k, v in properties.items()
                      if k not in required})
        extra = node.get("additionalProperties") or next(
            iter(dict(node.get("patternProperties", {})).values()), None)  # type: ignore[call-overload]
        if isinstance(extra, dict):
            more = st.dictionaries(NAMES, from_schema(extra, depth + 1), max_size=3)
            return st.builds(lambda a, b: {**b, **a}, fixed, more)
        return fixed
    if kind == "array":
        return st.lists(from_schema(node.get("items", {}), depth + 1), max_size=3)  # type: ignore[arg-type]
    if kind == "string":
        return NAMES | st.text(max_size=5)
    if kind == "integer":
        return st.integers(-3, 100)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return CONDITIONS | NAMES  # untyped: a rule's 'when', or a free value


@settings(max_examples=scale(20, 400), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=from_schema(SCHEMA))
def test_documents_built_from_the_schema_load_or_fail_with_problems(
        tmp_path: Path, doc: dict[str, object]) -> None:
    """Schema-shaped documents: a Policy that decides a complaint, or a PolicyError whose
    problems all have a place; never another exception."""
    folder = tmp_path / "schema_fuzz"
    shutil.rmtree(folder, ignore_errors=True)
    write_policy(folder, {"policy.yaml": yaml.safe_dump(doc, allow_unicode=True)})
    try:
        policy = triage.load_policy(folder)
    except triage.PolicyError as exc:
        assert exc.problems and all(p.line >= 1 and p.column >= 1 for p in exc.problems)
    else:
        assert isinstance(policy.triage({"id": "1", "channel": "web", "text": "漏水"},
                                        now=NOW), triage.Decision)
