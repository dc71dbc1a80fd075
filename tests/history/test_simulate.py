"""The seeded demo month: the same seed gives the same store, with every twist in it."""

from __future__ import annotations

from pathlib import Path

import pytest

import triage
from triage.history import CaseStore, HistoryError
from triage.history.kpi import monthly_kpis
from triage.history.simulate import simulate_month


def test_the_same_seed_gives_the_same_month(tmp_path: Path,
                                            default_policy: triage.Policy) -> None:
    """Two runs of seed 3 write the same cases and events; the month has late answers,
    pauses, repeats, surveys and several teams."""
    dumps = []
    for name in ("a.db", "b.db"):
        with CaseStore(tmp_path / name) as store:
            made = simulate_month(store, default_policy.triage, cases=300, seed=3)
            cases = list(store.cases_between(*_november()))
            dumps.append([(c.case_id, c.customer, c.record.category, c.record.channel,
                           [(e.kind, e.at, e.satisfaction) for e in c.events]) for c in cases])
            kpis = monthly_kpis(store, "2026-11",
                                calendars=default_policy.calendars)
    assert dumps[0] == dumps[1]
    assert made.cases == 300 and made.paused and made.late and made.repeats
    assert kpis.total.cases == 300
    assert kpis.total.satisfaction.denominator > 200
    assert any(m.breached for m in kpis.total.milestones)
    assert len({c.owner_team for c in kpis.cases}) >= 4
    assert len({c.channel for c in kpis.cases}) >= 4


def test_bad_arguments_are_refused(default_policy: triage.Policy) -> None:
    """A case count out of range or a bad month is a HistoryError."""
    with CaseStore(":memory:") as store:
        with pytest.raises(HistoryError, match="is not a number of cases"):
            simulate_month(store, default_policy.triage, cases=0)
        with pytest.raises(HistoryError, match="is not a month"):
            simulate_month(store, default_policy.triage, month="11/2026")


def _november() -> tuple[object, object]:
    from .conftest import at  # noqa: PLC0415

    return at(1, 0), at(1, 0, month=12)
