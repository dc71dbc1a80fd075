"""Benchmark of the case store: recording cases, appending events, reading a month back.

``python benchmarks/history.py [--cases N] [--batch N] [--postgres URL] [--kpi-cases N]``
records N
cases (default 10,000; the figure in docs/history.md is for 100,000) on SQLite, each
with its ``received`` event and five more (accepted, contacted, answered, resolved,
follow_up_done: six events a case), the events appended ``--batch`` cases at a time.
It prints the rate of each step, the events per second overall (target: >= 5,000 on
SQLite), the time of ``cases_between`` over one month and of ``history_facts``. The
same runs on PostgreSQL when ``--postgres`` or ``TRIAGE_TEST_POSTGRES`` names a server
(in a scratch schema, dropped after).

``--kpi-cases N`` (default 0: skipped) then fills a store with a simulated month of N
cases (``triage.history.simulate``, about six events each) and times ``monthly_kpis`` of
that month (the median of five runs) in a fresh process, as ``triage kpi`` does, on both
backends (target: 100,000 cases in under 5 s), the time to build its per-case outcomes
afterwards, and the same KPIs in the process that simulated the month.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import triage
from triage.history import CaseEvent, CaseStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate

SH = ZoneInfo("Asia/Shanghai")
ORIGIN = datetime(2026, 9, 1, tzinfo=SH)
#: Receipts spread over this many days (so one month holds about a third of the cases).
SPREAD_DAYS = 90
TARGET_EVENTS_PER_S = 5_000.0
STEPS = (("accepted", 0.2), ("contacted", 1.5), ("answered", 20.0), ("resolved", 40.0),
         ("follow_up_done", 60.0))


def decisions(count: int) -> list[triage.Decision]:
    """Decisions of the bundled policy for ``count`` synthetic complaints."""
    policy = triage.load_policy()
    return [policy.triage(r) for r in generate(count, seed=7)]


def run(url: str, *, cases: int, batch: int, schema: str | None = None) -> dict[str, float]:
    """Fill a fresh store at ``url`` and time each step; the figures by name."""
    made = decisions(200)
    customers = max(1, cases // 3)
    step = timedelta(days=SPREAD_DAYS) / cases
    figures: dict[str, float] = {}
    with CaseStore(url, schema=schema) as store:
        start = time.perf_counter()
        for n in range(cases):
            store.record_decision(made[n % len(made)], customer=f"cust{n % customers}",
                                  case_id=f"case{n:07d}", at=ORIGIN + n * step,
                                  product=f"p{n % 40}")
        recorded = time.perf_counter() - start
        start = time.perf_counter()
        for first in range(0, cases, batch):
            events = []
            for n in range(first, min(first + batch, cases)):
                received = ORIGIN + n * step
                for kind, hours in STEPS:
                    events.append(CaseEvent(
                        f"case{n:07d}", kind, received + timedelta(hours=hours),  # type: ignore[arg-type]
                        actor="bench", satisfaction=(n % 5) + 1
                        if kind == "follow_up_done" else None))
            store.append_many(events)
        appended = time.perf_counter() - start
        total = store.event_count()
        assert total == cases * 6, total
        figures["cases/s (record_decision)"] = cases / recorded
        figures["events/s (append_many)"] = cases * 5 / appended
        figures["events/s overall"] = total / (recorded + appended)

        month = ORIGIN + timedelta(days=30)
        start = time.perf_counter()
        seen = sum(len(c.events) for c in store.cases_between(month, month + timedelta(days=30)))
        figures["cases_between one month (s)"] = time.perf_counter() - start
        figures["events in that month"] = seen

        samples = []
        for n in range(0, cases, max(1, cases // 200)):
            record = made[n % len(made)]
            begin = time.perf_counter()
            store.history_facts(f"cust{n % customers}", at=ORIGIN + n * step + step,
                                category=record.category, subcategory=record.subcategory,
                                team=record.owner.role)
            samples.append(time.perf_counter() - begin)
        figures["history_facts median (ms)"] = statistics.median(samples) * 1000
    return figures


KPI_TARGET_S = 5.0
#: monthly_kpis runs per store; the median is reported.
KPI_RUNS = 5


def kpi_run(url: str, *, cases: int, schema: str | None = None) -> dict[str, float]:
    """A simulated month of ``cases`` cases at ``url``, and the time of its KPIs: in a
    fresh process, as ``triage kpi`` computes them (the figure against the target), and
    in the process that just simulated the month (its heap full of what that left)."""
    from triage.history.simulate import simulate_month  # noqa: PLC0415

    policy = triage.load_policy()
    figures: dict[str, float] = {}
    with CaseStore(url, schema=schema) as store:
        start = time.perf_counter()
        simulate_month(store, policy.triage, month="2026-11", cases=cases, seed=0,
                       batch=5_000)
        figures["simulate + record (s)"] = time.perf_counter() - start
    done = subprocess.run([sys.executable, __file__, "--time-kpis", url, schema or ""],
                          capture_output=True, text=True, check=True)
    figures.update(json.loads(done.stdout))
    figures["in the simulating process (s)"] = time_kpis(url, schema)["monthly_kpis (s)"]
    return figures


def time_kpis(url: str, schema: str | None) -> dict[str, float]:
    """Medians of ``KPI_RUNS`` runs of monthly_kpis (plain and by owner, interleaved),
    and the time to build the per-case outcomes after one."""
    from triage.history.kpi import monthly_kpis  # noqa: PLC0415

    calendars = triage.load_policy().calendars
    plain, grouped = [], []
    with CaseStore(url, schema=schema) as store:
        for _ in range(KPI_RUNS):  # interleaved: the machines are noisy
            start = time.perf_counter()
            kpis = monthly_kpis(store, "2026-11", calendars=calendars)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            monthly_kpis(store, "2026-11", calendars=calendars, group_by="owner")
            grouped.append(time.perf_counter() - start)
        start = time.perf_counter()
        _ = kpis.cases
        built = time.perf_counter() - start
    return {"monthly_kpis (s)": statistics.median(plain),
            "cases in the month": kpis.total.cases,
            "monthly_kpis by owner (s)": statistics.median(grouped),
            "then its CaseOutcomes (s)": built}


def show(name: str, figures: dict[str, float]) -> None:
    print(f"== {name}")
    for key, value in figures.items():
        print(f"  {key:<30} {value:>12,.1f}" if value >= 10 else f"  {key:<30} {value:>12.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000,
                        help="cases whose events go in one append_many (default 1,000)")
    parser.add_argument("--postgres", default=os.environ.get("TRIAGE_TEST_POSTGRES"),
                        help="a PostgreSQL URL (default: $TRIAGE_TEST_POSTGRES)")
    parser.add_argument("--kpi-cases", type=int, default=0,
                        help="also time monthly_kpis over a simulated month of N cases")
    parser.add_argument("--time-kpis", nargs=2, metavar=("URL", "SCHEMA"),
                        help=argparse.SUPPRESS)  # the fresh process of kpi_run
    args = parser.parse_args(argv)
    if args.time_kpis:
        url, schema = args.time_kpis
        print(json.dumps(time_kpis(url, schema or None)))
        return 0
    if args.kpi_cases:
        return kpi_main(args.kpi_cases, args.postgres)
    print(f"{args.cases:,} cases x 6 events, events of {args.batch:,} cases per batch")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = run(str(Path(folder) / "cases.db"), cases=args.cases, batch=args.batch)
    show("SQLite", sqlite)
    rate = sqlite["events/s overall"]
    verdict = "meets" if rate >= TARGET_EVENTS_PER_S else "MISSES"
    print(f"  SQLite {verdict} the target of {TARGET_EVENTS_PER_S:,.0f} events/s")
    if args.postgres:
        schema = "bench_" + uuid.uuid4().hex[:12]
        try:
            show("PostgreSQL", run(args.postgres, cases=args.cases, batch=args.batch,
                                   schema=schema))
        finally:
            import psycopg  # noqa: PLC0415 (only with a server)
            from psycopg import sql  # noqa: PLC0415

            with psycopg.connect(args.postgres, autocommit=True) as db:
                db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
    return 0 if rate >= TARGET_EVENTS_PER_S else 1


def kpi_main(cases: int, postgres: str | None) -> int:
    """Time the KPIs of a simulated month on SQLite and, given a URL, PostgreSQL."""
    print(f"monthly_kpis over a simulated month of {cases:,} cases")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        figures = kpi_run(str(Path(folder) / "cases.db"), cases=cases)
    show("SQLite", figures)
    worst = max(worst, figures["monthly_kpis (s)"])
    if postgres:
        schema = "bench_" + uuid.uuid4().hex[:12]
        try:
            figures = kpi_run(postgres, cases=cases, schema=schema)
            show("PostgreSQL", figures)
            worst = max(worst, figures["monthly_kpis (s)"])
        finally:
            import psycopg  # noqa: PLC0415 (only with a server)
            from psycopg import sql  # noqa: PLC0415

            with psycopg.connect(postgres, autocommit=True) as db:
                db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
    verdict = "meets" if worst < KPI_TARGET_S else "MISSES"
    print(f"  slowest monthly_kpis {worst:.1f} s: {verdict} the target of {KPI_TARGET_S:g} s")
    return 0 if worst < KPI_TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
