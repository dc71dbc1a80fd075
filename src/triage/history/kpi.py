"""Monthly KPIs of a case store: response, on-time, repeat complaints, satisfaction.

``monthly_kpis(store, "2026-11", calendars=...)`` reads the cases received in the month
(and, for repeat complaints and a team's week, those of ``lookback_days`` before) with
their marks (``triage.history.marks``: what each case's events add up to, kept by the
store), judges each deadline its decision set against them (pauses move due times in the
milestone's own business time, as ``triage.status.case_status`` does when it replays the
events), and adds up the figures of POLICY-BRIEF §8 with their targets attached, per
month and per group (owner team, category or channel). The result is frozen and writes
itself as JSON or CSV. While a month is read and added up the cyclic garbage collector
is held (``_collector_held``): the hundreds of thousands of small acyclic tuples a month
makes would otherwise cost a quarter of the time in collections that find nothing.

Definitions (docs/history.md, "KPIs"):

- A case belongs to the month it was received in (in ``zone``, default the calendars').
- The response milestone of a case is its ``answer`` deadline, else ``first_response``,
  else ``first_contact``. Responded: that milestone met by ``as_of`` (a case without
  such a deadline: an ``answered`` event). On time: met no later than its due time.
- Inquiry response rate: inquiries responded to / inquiries. On-time rates: inquiries
  (complaints) whose response milestone was met on time / inquiries (complaints) with
  a response deadline; one still pending at ``as_of`` counts against the rate.
- Repeat complaint: a complaint flagged ``repeat_complaint``, or one whose customer has
  an earlier case on the same topic (category, subcategory, product) that had been
  accepted, contacted or answered, and was still open (not resolved, not closed), when
  this one came in. Rate: repeat complaints / complaints.
- Satisfaction: surveyed cases (a ``follow_up_done`` with a score) rated 满意 or 基本满意
  (3-5) / surveyed cases.
- Team weeks: service complaints of the attitude/process subcategories per owner team
  and ISO week (Monday to Sunday in ``zone``), for every week that touches the month;
  more than ``TEAM_WEEK_CAP`` (3, brief §7) is over the cap.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from ..deadlines.calendar import BusinessCalendar
from ..deadlines.datefmt import format_due
from ..deadlines.durations import DueTime, Duration, paused_due
from ..deadlines.planner import Deadline
from ..decision import Decision, RoleRef
from ..errors import HistoryError
from ..status import EVENT_MEETS, REOPENS, case_status
from .case import OPEN_STATES, Case, CaseRecord, CaseState, fold
from .events import STATUS_KINDS, utc
from .facts import TEAM_CATEGORY, TEAM_SUBCATEGORIES
from .marks import (
    ENGAGED_KINDS,
    FIRST_KINDS,
    MET_MILESTONES,
    MarkedCase,
    Marks,
    PlannedDeadline,
    from_micros,
    micros,
)
from .store import CaseStore

GroupBy = Literal["owner", "category", "channel"]
GROUP_BY: tuple[str, ...] = ("owner", "category", "channel")
MilestoneState = Literal["met", "late", "overdue", "pending"]
#: At most this many attitude/process complaints a week per team (POLICY-BRIEF §7).
TEAM_WEEK_CAP = 3
#: Milestones that count as the response, in order of preference.
RESPONSE_MILESTONES: tuple[str, ...] = ("answer", "first_response", "first_contact")
#: The flag a policy may set on a complaint it reads as a repeat complaint.
REPEAT_FLAG = "repeat_complaint"
#: Scores counted as satisfied: 满意 (4-5) and 基本满意 (3).
SATISFIED_FROM = 3
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: A stand-in length for a deadline stored without ``within`` (older stores): an elapsed
#: unit, so a pause moves it by the pause's own length.
_ELAPSED = Duration(1, "h")
_TRACE = (("start", 0, 0, None, None, None), ("due", 0, 0, None, None, None))
_NOBODY = RoleRef("", "")


@dataclass(frozen=True, slots=True)
class Target:
    """A KPI's target (POLICY-BRIEF §8): ``value`` with ``at_least`` or at most."""

    kpi: str
    label: str
    value: float
    at_least: bool

    def met_by(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target; None without a value (nothing counted)."""
        if value is None:
            return None
        return value >= self.value - 1e-12 if self.at_least else value <= self.value + 1e-12

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "label": self.label, "value": self.value,
                "comparison": ">=" if self.at_least else "<="}


#: The brief's targets, by KPI name.
TARGETS: Mapping[str, Target] = {t.kpi: t for t in (
    Target("inquiry_response_rate", "咨询回复率", 1.0, True),
    Target("on_time_inquiries", "咨询按时回复率", 1.0, True),
    Target("on_time_complaints", "投诉按时回复率", 1.0, True),
    Target("repeat_complaint_rate", "重复投诉率", 0.01, False),
    Target("satisfaction_rate", "满意率", 0.90, True),
)}


@dataclass(frozen=True, slots=True)
class Rate:
    """``numerator / denominator`` (``value`` None when nothing was counted), with its
    target and whether it is met."""

    kpi: str
    numerator: int
    denominator: int
    target: Target

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        return self.target.met_by(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": self.value, "target": self.target.to_dict(), "met": self.met}


@dataclass(frozen=True, slots=True)
class Spread:
    """Business hours from receipt to a milestone: how many cases, mean and p90."""

    count: int
    mean_hours: float | None
    p90_hours: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean_hours": self.mean_hours,
                "p90_hours": self.p90_hours}


@dataclass(frozen=True, slots=True)
class MilestoneCount:
    """One milestone over a group: met on time, met late, overdue (unmet, past due at
    ``as_of``) and pending; ``breached`` = late + overdue."""

    milestone: str
    total: int
    met: int
    late: int
    overdue: int
    pending: int

    @property
    def breached(self) -> int:
        return self.late + self.overdue

    def to_dict(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "total": self.total, "met": self.met,
                "late": self.late, "overdue": self.overdue, "pending": self.pending,
                "breached": self.breached}


class MilestoneOutcome(NamedTuple):
    """One deadline of one case at ``as_of``: due (after pauses), when met, its state."""

    milestone: str
    label: str
    due: datetime
    met_at: datetime | None
    state: MilestoneState


class CaseOutcome(NamedTuple):
    """What one case adds to the KPIs (times in the KPI zone). A named tuple: a month
    holds one per case, so it is built cheaply."""

    case_id: str
    customer: str
    received_at: datetime
    request_type: str
    category: str
    subcategory: str | None
    product: str | None
    owner_team: str
    channel: str | None
    handling: str
    severity: str
    state: CaseState
    milestones: tuple[MilestoneOutcome, ...]
    response: str | None
    responded: bool
    on_time: bool | None
    first_contact_hours: float | None
    resolution_hours: float | None
    satisfaction: int | None
    repeat_of: str | None
    repeat_flagged: bool

    @property
    def repeat(self) -> bool:
        return _is_repeat(self)

    @property
    def breached(self) -> tuple[str, ...]:
        """The milestones met late or overdue."""
        return tuple(m.milestone for m in self.milestones if m.state in ("late", "overdue"))

    def group(self, by: GroupBy) -> str:
        """The case's key under ``by`` (a missing channel: ``unknown``)."""
        return _group_key(self, by)


#: A milestone in a case's figures: milestone, label, due and met (epoch µs), state.
_Milestone = tuple[str, str, int, "int | None", MilestoneState]


class _Figures(NamedTuple):
    """What one case adds to the KPIs, with times in epoch µs: what the figures are
    added up from; its ``CaseOutcome`` is built from it only when asked for."""

    request_type: str
    category: str
    owner_team: str
    channel: str | None
    handling: str
    day: int
    state: CaseState
    milestones: tuple[_Milestone, ...]
    response: str | None
    responded: bool
    on_time: bool | None
    first_contact_hours: float | None
    resolution_hours: float | None
    satisfaction: int | None
    repeat_of: str | None
    repeat_flagged: bool

    @property
    def repeat(self) -> bool:
        return _is_repeat(self)

    @property
    def breached(self) -> bool:
        return any(m[4] in ("late", "overdue") for m in self.milestones)

    def group(self, by: GroupBy) -> str:
        return _group_key(self, by)


def _is_repeat(case: CaseOutcome | _Figures) -> bool:
    """A repeat complaint: flagged so by the policy, or found repeating an open case."""
    return case.repeat_flagged or case.repeat_of is not None


def _group_key(case: CaseOutcome | _Figures, by: GroupBy) -> str:
    """The case's key under ``by`` (a missing channel: ``unknown``)."""
    if by == "owner":
        return case.owner_team
    if by == "category":
        return case.category
    return case.channel or "unknown"


@dataclass(frozen=True, slots=True)
class KpiGroup:
    """The KPIs of one group of cases (the whole month: ``key`` None)."""

    key: str | None
    cases: int
    by_request_type: Mapping[str, int]
    inquiry_response: Rate
    on_time_inquiries: Rate
    on_time_complaints: Rate
    repeat_complaints: Rate
    satisfaction: Rate
    milestones: tuple[MilestoneCount, ...]
    first_contact: Spread
    resolution: Spread

    @property
    def rates(self) -> tuple[Rate, ...]:
        return (self.inquiry_response, self.on_time_inquiries, self.on_time_complaints,
                self.repeat_complaints, self.satisfaction)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "cases": self.cases,
                "by_request_type": dict(self.by_request_type),
                "kpis": {r.kpi: r.to_dict() for r in self.rates},
                "milestones": [m.to_dict() for m in self.milestones],
                "first_contact": self.first_contact.to_dict(),
                "resolution": self.resolution.to_dict()}


@dataclass(frozen=True, slots=True)
class TeamWeek:
    """A team's attitude/process complaints in one ISO week; ``over`` past the cap."""

    team: str
    week: str
    monday: date
    count: int
    cap: int
    case_ids: tuple[str, ...]

    @property
    def over(self) -> bool:
        return self.count > self.cap

    @property
    def over_cap(self) -> tuple[str, ...]:
        """The cases past the cap (the 4th of the week on), in receipt order."""
        return self.case_ids[self.cap:]

    def to_dict(self) -> dict[str, Any]:
        return {"team": self.team, "week": self.week, "monday": self.monday.isoformat(),
                "count": self.count, "cap": self.cap, "over": self.over,
                "over_cap": list(self.over_cap)}


@dataclass(frozen=True, slots=True)
class DayCount:
    """One day of the month: cases received, and of those with a response deadline, how
    many were answered on time."""

    day: date
    received: int
    due: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


class _Outcomes:
    """A month's per-case outcomes, built on first use (a month's KPIs need only their
    figures; the report and callers that read ``MonthlyKpis.cases`` build them once)."""

    __slots__ = ("_build", "_built")

    def __init__(self, build: Callable[[], tuple[CaseOutcome, ...]]) -> None:
        self._build: Callable[[], tuple[CaseOutcome, ...]] | None = build
        self._built: tuple[CaseOutcome, ...] | None = None

    def get(self) -> tuple[CaseOutcome, ...]:
        if self._built is None:
            assert self._build is not None
            with _collector_held():
                self._built, self._build = self._build(), None
        return self._built


@dataclass(frozen=True, slots=True)
class MonthlyKpis:
    """A month's KPIs: the whole month, each group, the team weeks, the daily trend and
    the categories; ``cases`` holds each case's outcome (for the report, built on first
    use); ``breached_cases`` and ``special_cases`` count them."""

    month: str
    start: datetime
    end: datetime
    as_of: datetime
    group_by: GroupBy | None
    total: KpiGroup
    groups: tuple[KpiGroup, ...]
    team_weeks: tuple[TeamWeek, ...]
    daily: tuple[DayCount, ...]
    categories: tuple[tuple[str, int], ...]
    breached_cases: int
    special_cases: int
    _outcomes: _Outcomes = field(repr=False, compare=False)

    @property
    def cases(self) -> tuple[CaseOutcome, ...]:
        """Each case's outcome, in receipt order."""
        return self._outcomes.get()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (without the per-case outcomes)."""
        return {
            "month": self.month, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "as_of": self.as_of.isoformat(),
            "group_by": self.group_by, "targets": {k: t.to_dict() for k, t in TARGETS.items()},
            "total": self.total.to_dict(), "groups": [g.to_dict() for g in self.groups],
            "team_weeks": [w.to_dict() for w in self.team_weeks],
            "daily": [{"day": d.day.isoformat(), "received": d.received, "due": d.due,
                       "on_time": d.on_time} for d in self.daily],
            "categories": dict(self.categories),
            "breached_cases": self.breached_cases,
            "special_cases": self.special_cases,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_csv(self) -> str:
        """One row per figure: month, group, metric, value, numerator, denominator,
        target, met (the 投诉统计表 as a sheet)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["month", "group_by", "group", "metric", "value", "numerator",
                         "denominator", "target", "met"])
        by = self.group_by or ""
        for group in (self.total, *self.groups):
            key = "all" if group.key is None else group.key
            writer.writerow([self.month, by, key, "cases", group.cases, "", "", "", ""])
            for rate in group.rates:
                target = rate.target
                writer.writerow([self.month, by, key, rate.kpi, _num(rate.value),
                                 rate.numerator, rate.denominator,
                                 f"{'>=' if target.at_least else '<='}{target.value:g}",
                                 "" if rate.met is None else str(rate.met).lower()])
            for m in group.milestones:
                writer.writerow([self.month, by, key, f"breaches.{m.milestone}", m.breached,
                                 m.breached, m.total, "", ""])
            for name, spread in (("first_contact", group.first_contact),
                                 ("resolution", group.resolution)):
                writer.writerow([self.month, by, key, f"{name}_hours.mean",
                                 _num(spread.mean_hours), "", spread.count, "", ""])
                writer.writerow([self.month, by, key, f"{name}_hours.p90",
                                 _num(spread.p90_hours), "", spread.count, "", ""])
        for week in self.team_weeks:
            writer.writerow([self.month, "team_week", f"{week.team} {week.week}",
                             "attitude_process_complaints", week.count, "", "",
                             f"<={week.cap}", str(not week.over).lower()])
        return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (``YYYY-MM``) and of the next, in ``zone``."""
    found = _MONTH.match(month) if isinstance(month, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
        raise HistoryError(f"month {month!r} is not a month",
                           "write it as YYYY-MM, e.g. 2026-11")
    year, number = int(found.group(1)), int(found.group(2))
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def monthly_kpis(store: CaseStore, month: str, *,
                 calendars: Mapping[str, BusinessCalendar],
                 group_by: GroupBy | None = None, as_of: datetime | None = None,
                 zone: ZoneInfo | None = None, lookback_days: int = 30,
                 team_subcategories: Sequence[str] = TEAM_SUBCATEGORIES,
                 team_week_cap: int = TEAM_WEEK_CAP) -> MonthlyKpis:
    """The KPIs of the cases ``store`` received in ``month`` (``YYYY-MM``).

    ``calendars`` are the policy's business calendars by name (the ones its decisions'
    deadlines name); ``as_of`` the moment the cases are judged at (default: the month's
    end or the last event seen, whichever is later: a late answer still counts as late).
    Raises ``HistoryError`` for a bad month, group or a deadline on an unknown calendar.

    Cases are read with their marks (``CaseStore.marked_between``); only the events of a
    case that has events after ``as_of``, or of an earlier case whose marks cannot tell
    whether a repeat complaint repeats it, are read and replayed. The figures equal
    ``kpis_of_cases`` over the same cases read with their events (a property test
    checks).
    """
    if group_by is not None and group_by not in GROUP_BY:
        raise HistoryError(f"cannot group KPIs by {group_by!r}",
                           "group by one of " + ", ".join(GROUP_BY) + ", or None")
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) \
            or lookback_days < 0:
        raise HistoryError(f"lookback_days {lookback_days!r} is not a number of days",
                           "pass a whole number of days, 0 or more (30 by default)")
    if not isinstance(calendars, Mapping) or not calendars:
        raise HistoryError("monthly_kpis needs the policy's business calendars",
                           "pass calendars= (a mapping of calendar name to "
                           "BusinessCalendar, as the policy's deadlines name them)")
    where = zone or _zone_of(calendars)
    start, end = month_bounds(month, where)
    with _collector_held():
        entries = [_Entry(m, m.marks, None, m.received_at) for m in
                   store.marked_between(start - timedelta(days=lookback_days), end)]
        _read_events(store, [e for e in entries if e.marks is None])
        return _kpis(entries, month, start, end, calendars, group_by, as_of, where,
                     team_subcategories, team_week_cap,
                     lambda wanted: _read_events(store, wanted))


def kpis_of_cases(cases: Iterable[Case], month: str, *,
                  calendars: Mapping[str, BusinessCalendar],
                  group_by: GroupBy | None = None, as_of: datetime | None = None,
                  zone: ZoneInfo | None = None,
                  team_subcategories: Sequence[str] = TEAM_SUBCATEGORIES,
                  team_week_cap: int = TEAM_WEEK_CAP) -> MonthlyKpis:
    """``monthly_kpis`` over cases already read with their events (those before the
    month are context: earlier cases for repeat complaints and the first week's team
    counts); every case is replayed from its events."""
    where = zone or _zone_of(calendars)
    start, end = month_bounds(month, where)
    entries = [_Entry(c.record, None, c, micros(c.record.received_at)) for c in cases]
    with _collector_held():
        return _kpis(entries, month, start, end, calendars, group_by, as_of, where,
                     team_subcategories, team_week_cap, lambda wanted: None)


@contextlib.contextmanager
def _collector_held() -> Iterator[None]:
    """Hold the cyclic garbage collector for the block, as it was before afterwards.

    What a month is read into and added up from is tuples and slotted records that form
    no cycles, so a collection in the block frees nothing; with the collector running,
    the allocations of 100,000 cases set off collections that each walk the growing
    heap (about a quarter of ``monthly_kpis``). Reference counting still frees all that
    is dropped. Left alone when the collector is already off (the caller's choice)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(slots=True)
class _Entry:
    """One case as the KPIs read it: ``head`` (its fields), and its marks or its events
    (``case``, whose record then is ``head``)."""

    head: MarkedCase | CaseRecord
    marks: Marks | None
    case: Case | None
    received_us: int

    @property
    def last_us(self) -> int:
        if self.case is not None:
            return micros(self.case.last_at)
        assert self.marks is not None
        return self.marks.last_at


def _read_events(store: CaseStore, wanted: Sequence[_Entry]) -> None:
    """Read the records and events of ``wanted`` (entries without events) in batches."""
    todo = {e.head.case_id: e for e in wanted if e.case is None}
    for case in store.cases(todo):
        entry = todo[case.case_id]
        entry.case, entry.head = case, case.record


def _kpis(entries: list[_Entry], month: str, start: datetime, end: datetime,
          calendars: Mapping[str, BusinessCalendar], group_by: GroupBy | None,
          as_of: datetime | None, where: ZoneInfo, team_subcategories: Sequence[str],
          team_week_cap: int, read: Callable[[Sequence[_Entry]], None]) -> MonthlyKpis:
    every = sorted(entries, key=lambda e: (e.received_us, e.head.case_id))
    end_us, start_us = micros(end), micros(start)
    latest = max((e.last_us for e in every), default=end_us)
    moment = from_micros(max(end_us, latest)) if as_of is None else utc(as_of, "as_of")
    moment = moment.astimezone(where)
    moment_us = micros(moment)
    month_entries = [e for e in every if start_us <= e.received_us < end_us]
    earlier: dict[str, list[_Entry]] = defaultdict(list)
    # the month's complaints whose customer had cases before: the customer's cases in
    # receipt order and how many came first
    topics: dict[str, tuple[list[_Entry], int]] = {}
    for entry in every:
        before = earlier[entry.head.customer]
        if before and entry.head.request_type == "complaint" \
                and start_us <= entry.received_us < end_us:
            topics[entry.head.case_id] = (before, len(before))
        before.append(entry)
    # the events needed: cases with events after as_of, and repeats their marks leave open
    wanted = [e for e in month_entries if e.case is None and e.last_us > moment_us]
    for entry in month_entries:
        if entry.head.case_id not in topics:
            continue
        for old in _repeat_candidates(entry, topics[entry.head.case_id]):
            taken = _taken_and_open(old, entry)
            if taken is None:
                wanted.append(old)
            elif taken:
                break
    read(wanted)
    # epoch µs to KPI-zone times: a calendar of that zone does it fastest
    same = next((c for c in calendars.values() if c.tz is where), None)
    local = same.from_epoch if same is not None else functools.partial(_in_zone, zone=where)
    day_of = same.epoch_ordinal if same is not None else functools.partial(_ordinal, zone=where)
    layouts: dict[int, _Layout] = {}  # by plan (one object per plan in a read)
    figures_of: list[_Figures] = []
    for entry in month_entries:
        topic = topics.get(entry.head.case_id)
        repeat_of = None if topic is None else _repeat_of(entry, topic)
        marks = entry.marks
        if entry.case is not None or marks is None:
            figures_of.append(_figures(entry, repeat_of, calendars, moment, where, day_of))
            continue
        layout = layouts.get(id(marks.plan))
        if layout is None:
            assert isinstance(entry.head, MarkedCase)
            layout = layouts[id(marks.plan)] = _layout(marks.plan, entry.head, calendars)
        figures_of.append(_marked_figures(entry, marks, layout, repeat_of, calendars,
                                          moment_us, day_of))
    figures = tuple(figures_of)
    total = _group(None, figures)
    groups: tuple[KpiGroup, ...] = ()
    if group_by is not None:
        keyed: dict[str, list[_Figures]] = defaultdict(list)
        for figure in figures:
            keyed[figure.group(group_by)].append(figure)
        groups = tuple(_group(k, keyed[k]) for k in sorted(keyed))
    return MonthlyKpis(month, start, end, moment, group_by, total, groups,
                       _team_weeks(every, start, end, local, team_subcategories,
                                   team_week_cap),
                       _daily(figures, start, end),
                       tuple(sorted(Counter(c.category for c in figures).items(),
                                    key=lambda kv: (-kv[1], kv[0]))),
                       sum(1 for f in figures if f.breached),
                       sum(1 for f in figures if f.handling == "special"),
                       _Outcomes(functools.partial(_case_outcomes, month_entries, figures,
                                                   local)))


def _case_outcomes(entries: Sequence[_Entry], figures: Sequence[_Figures],
                   local: Callable[[int], datetime]) -> tuple[CaseOutcome, ...]:
    """The ``CaseOutcome`` of each case from its entry and figures."""
    out = []
    for entry, f in zip(entries, figures, strict=True):
        head = entry.head
        out.append(CaseOutcome(
            head.case_id, head.customer, local(entry.received_us), head.request_type,
            head.category, head.subcategory, head.product, head.owner_team, head.channel,
            head.handling, head.severity, f.state,
            tuple(MilestoneOutcome(m, label, local(due), None if met is None else local(met),
                                   state) for m, label, due, met, state in f.milestones),
            f.response, f.responded, f.on_time, f.first_contact_hours, f.resolution_hours,
            f.satisfaction, f.repeat_of, f.repeat_flagged))
    return tuple(out)


def _zone_of(calendars: Mapping[str, BusinessCalendar]) -> ZoneInfo:
    zones = {getattr(c, "tz", None) for c in calendars.values()}
    first = next(iter(zones), None)
    return first if len(zones) == 1 and isinstance(first, ZoneInfo) \
        else ZoneInfo("Asia/Shanghai")


def _check_calendars(record: CaseRecord | MarkedCase, calendars: Mapping[str, BusinessCalendar],
                     deadlines: Iterable[tuple[str, str]] | None = None) -> None:
    """``HistoryError`` for a deadline of ``record`` (or of ``deadlines``: milestone and
    calendar pairs) on a calendar that ``calendars`` lacks."""
    if deadlines is None:
        assert isinstance(record, CaseRecord)
        deadlines = ((d["milestone"], d["calendar"]) for d in record.decision.get(
            "deadlines", ()))
    for milestone, name in deadlines:
        if name not in calendars:
            raise HistoryError(f"case {record.case_id!r}: its {milestone!r} "
                               f"deadline is on calendar {name!r}, which the calendars "
                               "given do not have",
                               "pass the calendars of the policy that decided it: "
                               + ", ".join(sorted(calendars)))


def replayed_decision(case: Case, calendars: Mapping[str, BusinessCalendar]) -> Decision:
    """The case's decision as ``triage.status`` replays it: its deadlines (due time,
    calendar, length) from the stored JSON; every other field as recorded."""
    record = case.record
    _check_calendars(record, calendars)
    deadlines = []
    for item in record.decision.get("deadlines", ()):
        name = item["calendar"]
        due = datetime.fromisoformat(item["due"])
        within = item.get("within")
        length = Duration.parse(within) if within else _ELAPSED
        derivation = DueTime(name, length, record.received_at, due, (), item["milestone"],
                             _TRACE)
        deadlines.append(Deadline(item["milestone"], item.get("label", item["milestone"]),
                                  due, item.get("due_text") or format_due(due), name, "",
                                  within or "", None, "", (), derivation))
    return Decision(record.complaint_id, record.request_type, record.handling,
                    record.category, record.subcategory, record.severity, record.flags,
                    RoleRef(record.owner_team, record.owner_team), (), (),
                    record.policy_version, tuple(deadlines),
                    received_at=record.received_at)


def milestone_outcomes(case: Case, calendars: Mapping[str, BusinessCalendar],
                       as_of: datetime, zone: ZoneInfo) -> tuple[MilestoneOutcome, ...]:
    """Each deadline of ``case`` at ``as_of``, replayed by ``triage.status.case_status``
    (pauses move due times in the milestone's business time)."""
    decision = replayed_decision(case, calendars)
    events = [s for e in case.events if (s := e.to_status_event()) is not None]
    status = case_status(decision, events, as_of, calendars, ())
    outcomes = []
    for m in status.milestones:
        state: MilestoneState
        if m.met_at is not None:
            state = "met" if m.state == "met" else "late"
        else:
            state = "pending" if m.state == "pending" else "overdue"
        outcomes.append(MilestoneOutcome(m.milestone, m.label, m.due.astimezone(zone),
                                         None if m.met_at is None
                                         else m.met_at.astimezone(zone), state))
    return tuple(outcomes)


def _met_by(case: Case, as_of: datetime) -> dict[str, datetime]:
    """When each milestone was first met by an event up to ``as_of`` (a reopening
    forgets the met resolution, follow-up and answer)."""
    met: dict[str, datetime] = {}
    for event in case.events:
        if event.at > as_of:
            break
        kind = STATUS_KINDS.get(event.kind)
        if kind == "reopened":
            for reopened in REOPENS:
                met.pop(reopened, None)
        elif kind is not None and (meets := EVENT_MEETS.get(kind)) is not None:
            met.setdefault(meets, event.at)
    return met


def _unpaused(case: Case, as_of: datetime, zone: ZoneInfo) -> tuple[MilestoneOutcome, ...]:
    """``milestone_outcomes`` for a case never paused: no due time moves, so each is the
    stored one, met by the first event that meets it (a reopening forgets the met
    resolution, follow-up and answer). Equal to the replay (a property test checks)."""
    return _stored_outcomes(case.record, _met_by(case, as_of), as_of, zone)


def _stored_outcomes(record: CaseRecord, met: Mapping[str, datetime], as_of: datetime,
                     zone: ZoneInfo) -> tuple[MilestoneOutcome, ...]:
    """Each stored deadline of ``record`` at ``as_of``, met at the time ``met`` gives."""
    outcomes = []
    for item in record.decision.get("deadlines", ()):
        milestone = item["milestone"]
        due = datetime.fromisoformat(item["due"]).astimezone(zone)
        met_at = met.get(milestone)
        state: MilestoneState
        if met_at is not None:
            state = "met" if met_at <= due else "late"
            met_at = met_at.astimezone(zone)
        else:
            state = "pending" if as_of <= due else "overdue"
        outcomes.append(MilestoneOutcome(milestone, item.get("label", milestone), due,
                                         met_at, state))
    return tuple(outcomes)


class _Layout(NamedTuple):
    """Where a deadline plan puts what the KPIs read, worked out once per plan: for each
    deadline the index of its milestone in ``Marks.met`` (None: no event meets it), the
    response milestone's place, and for first contact and resolution the deadline's
    place (None: read the first event of its kind) and the calendar that times it."""

    met_index: tuple[int | None, ...]
    response: int | None
    hours: tuple[tuple[int | None, int, str | None], ...]


_HOURS = (("first_contact", FIRST_KINDS.index("contacted")),
          ("resolution", FIRST_KINDS.index("resolved")))
_ANSWERED = FIRST_KINDS.index("answered")


def _layout(plan: tuple[PlannedDeadline, ...], record: MarkedCase,
            calendars: Mapping[str, BusinessCalendar]) -> _Layout:
    names = [d[0] for d in plan]
    calendar_of = {d[0]: d[2] for d in plan}
    _check_calendars(record, calendars, calendar_of.items())
    fallback = next(iter(calendar_of.values()), None)
    response = next((names.index(n) for n in RESPONSE_MILESTONES if n in names), None)
    return _Layout(
        tuple(MET_MILESTONES.index(n) if n in MET_MILESTONES else None for n in names),
        response,
        tuple((names.index(m) if m in names else None, kind,
               calendar_of.get(m, fallback)) for m, kind in _HOURS))


def _marked_figures(entry: _Entry, marks: Marks, layout: _Layout, repeat_of: str | None,
                    calendars: Mapping[str, BusinessCalendar], as_of_us: int,
                    day_of: Callable[[int], int]) -> _Figures:
    """``_figures`` from a case's marks: each stored due time, moved by the pauses (one
    still running ends at ``as_of``) as ``triage.status`` moves it."""
    received = entry.received_us
    pauses = [(s, as_of_us if e is None else e) for s, e in marks.pauses] \
        if marks.pauses else None
    met = marks.met
    milestones = []
    for (milestone, label, name, within), stored, index in zip(
            marks.plan, marks.dues, layout.met_index, strict=True):
        due = stored if not pauses else paused_due(
            calendars[name], received, stored,
            Duration.parse(within) if within else _ELAPSED, pauses)
        met_at = None if index is None else met[index]
        state: MilestoneState
        if met_at is not None:
            state = "met" if met_at <= due else "late"
        else:
            state = "pending" if as_of_us <= due else "overdue"
        milestones.append((milestone, label, due, met_at, state))
    first = marks.first
    if layout.response is None:
        responded, on_time = first[_ANSWERED] is not None, None
    else:
        response = milestones[layout.response]
        responded, on_time = response[3] is not None, response[4] == "met"
    hours = _hours(calendars, received, [
        (first[kind] if place is None else milestones[place][3], timed_on)
        for place, kind, timed_on in layout.hours])
    head = entry.head
    return _Figures(head.request_type, head.category, head.owner_team, head.channel,
                    head.handling, day_of(received), marks.state, tuple(milestones),
                    None if layout.response is None else marks.plan[layout.response][0],
                    responded, on_time, hours[0], hours[1], marks.satisfaction, repeat_of,
                    REPEAT_FLAG in head.flags)


def _ordinal(us: int, zone: ZoneInfo) -> int:
    """The ordinal of the date in ``zone`` of epoch microseconds ``us``."""
    return _in_zone(us, zone).toordinal()


def _in_zone(us: int, zone: ZoneInfo) -> datetime:
    """Epoch microseconds as an aware datetime in ``zone`` (exact: the float is within
    0.2 µs and ``fromtimestamp`` rounds)."""
    if us % 1_000_000:
        return datetime.fromtimestamp(us / 1_000_000, zone)
    return datetime.fromtimestamp(us // 1_000_000, zone)


def _figures(entry: _Entry, repeat_of: str | None,
             calendars: Mapping[str, BusinessCalendar], as_of: datetime,
             zone: ZoneInfo, day_of: Callable[[int], int]) -> _Figures:
    """What a case read with its events adds to the KPIs, replayed from its events."""
    case = entry.case
    assert case is not None
    record = case.record
    received = entry.received_us
    _check_calendars(record, calendars)
    replayed = (milestone_outcomes(case, calendars, as_of, zone)
                if any(e.kind == "paused" for e in case.events)
                else _unpaused(case, as_of, zone))
    milestones = tuple((m.milestone, m.label, micros(m.due),
                        None if m.met_at is None else micros(m.met_at), m.state)
                       for m in replayed)
    first: dict[str, int] = {}
    for event in case.events:
        if event.at <= as_of and event.kind in FIRST_KINDS:
            first.setdefault(event.kind, micros(event.at))
    calendar_of = {d["milestone"]: d["calendar"] for d in record.decision.get("deadlines", ())}
    met: dict[str, int | None] = {m[0]: m[3] for m in milestones}
    response = next((n for n in RESPONSE_MILESTONES if n in met), None)
    if response is None:
        responded, on_time = "answered" in first, None
    else:
        responded = met[response] is not None
        on_time = next(m[4] == "met" for m in milestones if m[0] == response)
    fallback = next(iter(calendar_of.values()), None)
    hours = _hours(calendars, received, [
        (met[milestone] if milestone in met else first.get(kind),
         calendar_of.get(milestone, fallback))
        for milestone, kind in (("first_contact", "contacted"), ("resolution", "resolved"))])
    return _Figures(record.request_type, record.category, record.owner_team,
                    record.channel, record.handling, day_of(received), case.state,
                    milestones, response, responded, on_time, hours[0], hours[1],
                    case.satisfaction, repeat_of, REPEAT_FLAG in record.flags)


def _hours(calendars: Mapping[str, BusinessCalendar], received: int,
           spans: Sequence[tuple[int | None, str | None]]) -> list[float | None]:
    """Business hours from ``received`` to each (time, calendar) of ``spans`` (epoch µs;
    None where either is None): two working-clock readings where the calendar's day
    table reaches (the receipt's read once per calendar), else its day-by-day count."""
    clocks: dict[str, int | None] = {}
    out: list[float | None] = []
    for at, timed_on in spans:
        if at is None or timed_on is None:
            out.append(None)
            continue
        calendar = calendars[timed_on]
        if timed_on not in clocks:
            clocks[timed_on] = calendar.working_clock(received)
        start = clocks[timed_on]
        end = None if start is None else calendar.working_clock(at)
        spent = calendar.working_us_between(received, at) if start is None or end is None \
            else end - start
        out.append(spent / 1_000_000 / 3600)
    return out


def _repeat_candidates(entry: _Entry, before: tuple[list[_Entry], int]) -> Iterator[_Entry]:
    """The customer's earlier cases on the topic of ``entry`` (a complaint), the latest
    first (``before``: the customer's cases in receipt order, and how many came first)."""
    record = entry.head
    if record.request_type != "complaint":
        return
    topic = (record.category, record.subcategory, record.product)
    cases, count = before
    for index in range(count - 1, -1, -1):
        earlier = cases[index]
        old = earlier.head
        if (old.category, old.subcategory, old.product) == topic \
                and earlier.received_us < entry.received_us:
            yield earlier


def _taken_and_open(earlier: _Entry, entry: _Entry) -> bool | None:
    """Whether ``earlier`` had been taken on (accepted, contacted or answered) and was
    still open when ``entry`` came in; None when its marks cannot tell and its events
    are needed."""
    if earlier.case is not None:
        came = from_micros(entry.received_us)
        seen = [e for e in earlier.case.events if e.at < came]
        return any(e.kind in ENGAGED_KINDS for e in seen) and fold(seen)[0] in OPEN_STATES
    marks = earlier.marks
    assert marks is not None
    came_us = entry.received_us
    if marks.engaged_at is None or marks.engaged_at >= came_us:
        return False
    if marks.last_at < came_us:
        return marks.state in OPEN_STATES
    return None


def _repeat_of(entry: _Entry, before: tuple[list[_Entry], int]) -> str | None:
    """The latest earlier case of the customer on the same topic that had been taken on
    and was still open when ``entry`` came in."""
    for earlier in _repeat_candidates(entry, before):
        if _taken_and_open(earlier, entry):
            return earlier.head.case_id
    return None


def _group(key: str | None, cases: Sequence[_Figures]) -> KpiGroup:
    inquiries = [c for c in cases if c.request_type == "inquiry"]
    complaints = [c for c in cases if c.request_type == "complaint"]
    timed_inquiries = [c for c in inquiries if c.on_time is not None]
    timed_complaints = [c for c in complaints if c.on_time is not None]
    surveyed = [c for c in cases if c.satisfaction is not None]
    counts: dict[str, Counter[str]] = {}  # milestones in order of first appearance
    for case in cases:
        for m in case.milestones:
            states = counts.get(m[0])
            if states is None:
                states = counts[m[0]] = Counter()
            states[m[4]] += 1
    milestones = [MilestoneCount(name, sum(states.values()), states["met"], states["late"],
                                 states["overdue"], states["pending"])
                  for name, states in counts.items()]
    return KpiGroup(
        key, len(cases), dict(sorted(Counter(c.request_type for c in cases).items())),
        Rate("inquiry_response_rate", sum(c.responded for c in inquiries), len(inquiries),
             TARGETS["inquiry_response_rate"]),
        Rate("on_time_inquiries", sum(bool(c.on_time) for c in timed_inquiries),
             len(timed_inquiries), TARGETS["on_time_inquiries"]),
        Rate("on_time_complaints", sum(bool(c.on_time) for c in timed_complaints),
             len(timed_complaints), TARGETS["on_time_complaints"]),
        Rate("repeat_complaint_rate", sum(c.repeat for c in complaints), len(complaints),
             TARGETS["repeat_complaint_rate"]),
        Rate("satisfaction_rate",
             sum(1 for c in surveyed if (c.satisfaction or 0) >= SATISFIED_FROM),
             len(surveyed), TARGETS["satisfaction_rate"]),
        tuple(milestones),
        _spread([c.first_contact_hours for c in cases]),
        _spread([c.resolution_hours for c in cases]))


def _spread(values: Iterable[float | None]) -> Spread:
    """Count, mean and p90 (nearest rank) of the values given."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return Spread(0, None, None)
    rank = max(1, math.ceil(0.9 * len(known)))
    return Spread(len(known), round(math.fsum(known) / len(known), 6),
                  round(known[rank - 1], 6))


def _team_weeks(entries: Sequence[_Entry], start: datetime, end: datetime,
                local: Callable[[int], datetime], subcategories: Sequence[str],
                cap: int) -> tuple[TeamWeek, ...]:
    first_monday = start.date() - timedelta(days=start.weekday())
    end_us = micros(end)
    weeks: dict[tuple[str, date], list[str]] = defaultdict(list)
    for entry in entries:  # in receipt order
        head = entry.head
        if head.category != TEAM_CATEGORY or head.subcategory not in subcategories:
            continue
        received = local(entry.received_us)
        monday = received.date() - timedelta(days=received.weekday())
        if first_monday <= monday and entry.received_us < end_us:
            weeks[(head.owner_team, monday)].append(head.case_id)
    out = []
    for (team, monday), ids in sorted(weeks.items()):
        year, week, _ = monday.isocalendar()
        out.append(TeamWeek(team, f"{year}-W{week:02d}", monday, len(ids), cap, tuple(ids)))
    return tuple(out)


def _daily(cases: Sequence[_Figures], start: datetime, end: datetime
           ) -> tuple[DayCount, ...]:
    received: Counter[int] = Counter()
    due: Counter[int] = Counter()
    on_time: Counter[int] = Counter()
    for case in cases:
        received[case.day] += 1
        if case.on_time is not None:
            due[case.day] += 1
            on_time[case.day] += case.on_time
    days = []
    day = start.date()
    while datetime.combine(day, time(0), tzinfo=start.tzinfo) < end:
        o = day.toordinal()
        days.append(DayCount(day, received[o], due[o], on_time[o]))
        day += timedelta(days=1)
    return tuple(days)
