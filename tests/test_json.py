"""The compact JSON of decisions and error records (``triage._json``): orjson's text, the
standard library's where orjson refuses a value; either way the same JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage._json import compact

from .conftest import CORPUS_DIR


def _stdlib(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.text())  # lone surrogates and integers past 64 bits included
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                       max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_values)
def test_the_text_is_the_standard_librarys(value: object) -> None:
    """Without floats, compact writes exactly what json.dumps writes, also for the values
    orjson refuses (they fall back to it)."""
    assert compact(value) == _stdlib(value)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_as_the_same_number(number: float) -> None:
    """orjson writes 1e16 where json writes 1e+16: another text, the same float."""
    assert json.loads(compact({"x": number})) == {"x": number}


def test_every_corpus_decision_is_written_as_before() -> None:
    """Lean and full decisions of the whole corpus, and error records: the same text as
    the standard library gives, line for line."""
    policy = triage.load_policy()
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    lines = [line for path in sorted(CORPUS_DIR.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines()[:150] if line.strip()]
    records = [json.loads(line)["complaint"] for line in lines]
    assert len(records) > 1000
    for record in records:
        decision = policy.triage(record, now=now)
        for detail in ("lean", "full"):
            assert decision.to_json(detail=detail) == _stdlib(decision.to_dict(detail))  # type: ignore[arg-type]
    error = next(iter(policy.triage_many(['{"id": "x", "text": "\\ud800"}'])))
    assert isinstance(error, triage.RecordError)
    assert error.to_json() == _stdlib(error.to_dict())
