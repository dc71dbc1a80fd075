"""Reliability: reload while serving, threads, process pools, hostile input of every kind."""

from __future__ import annotations

import io
import json
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.batch import decide_line, triage_lines
from triage.cli import main
from triage.store import PolicyStore

from .conftest import FIXTURES, write_policy

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


@pytest.mark.slow
def test_threads_triage_while_another_reloads_a_hundred_times(tmp_path: Path) -> None:
    """8 threads, 100 reloads: no exception, nothing lost, each decision wholly one version."""
    a, b = two_versions(tmp_path)
    store = PolicyStore(a)
    expected = {triage.load_policy(a).version: "product_quality",
                triage.load_policy(b).version: "service"}
    stop = threading.Event()
    errors: list[BaseException] = []
    counts = [0] * 8

    def serve(slot: int) -> None:
        try:
            while not stop.is_set():
                decision = store.triage({"id": str(slot), "channel": "web", "text": "漏水"})
                assert decision.category == expected[decision.policy_version]
                counts[slot] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    reloads = [store.reload(b if i % 2 == 0 else a).ok for i in range(100)]
    stop.set()
    for t in threads:
        t.join()
    assert not errors and all(reloads) and all(c > 0 for c in counts)


@pytest.mark.slow
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


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=60), max_size=6))
def test_cli_route_on_random_bytes_never_crashes(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str],
                                                 chunks: list[bytes]) -> None:
    """Random bytes on stdin: exit 0 or 2, one output line per non-blank input line."""
    data = b"\n".join(c.replace(b"\n", b" ").replace(b"\r", b" ") for c in chunks)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code = main(["route", "-", "--no-progress", "--policy", str(FIXTURES / "minimal")])
    out = capsys.readouterr().out
    assert code in (0, 2)
    expected = sum(1 for line in data.split(b"\n") if line.strip())
    assert (len(out.rstrip("\n").split("\n")) if out else 0) == expected


@pytest.mark.slow
def test_long_texts_are_refused_by_default_and_decided_when_allowed() -> None:
    """Past max_text_length (default 1,000,000 characters) a record error; 2 MB when raised."""
    text = "客服态度太差，漏水一直没人管。" * 140_000  # about 2.1 million characters
    record = {"id": "long", "channel": "web", "text": text}
    (error,) = triage.load_policy().triage_many([record])
    assert isinstance(error, triage.RecordError) and "1,000,000" in error.message
    decision = triage.load_policy(max_text_length=3_000_000).triage(record, now=NOW)
    assert decision.category in ("service", "product_quality")


schema_keys = st.sampled_from(["policy", "taxonomy", "vocabularies", "roles", "stages",
                               "calendars", "escalation", "forbidden", "name", "rules",
                               "default", "when", "set", "text", "id", "priority", "words"])
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6) | schema_keys,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(schema_keys, inner,
                                                                max_size=4),
    max_leaves=25)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
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
