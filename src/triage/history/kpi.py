"""Monthly KPIs of a case store: response, on-time, repeat complaints, satisfaction.

``monthly_kpis(store, "2026-11", calendars=...)`` reads the cases received in the month
(and, for repeat complaints and a team's week, those of ``lookback_days`` before), replays
each case's events against the deadlines its decision set (``triage.status.case_status``:
pauses move due times in the milestone's own business time), and adds up the figures of
POLICY-BRIEF §8 with their targets attached, per month and per group (owner team,
category or channel). The result is frozen and writes itself as JSON or CSV.

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

import csv
import io
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ..deadlines.calendar import BusinessCalendar
from ..deadlines.durations import DueTime, Duration
from ..deadlines.planner import Deadline
from ..decision import Decision, RoleRef
from ..errors import HistoryError
from ..status import EVENT_MEETS, REOPENS, case_status
from .case import OPEN_STATES, Case, CaseState, fold, ordered
from .events import STATUS_KINDS, utc
from .facts import TEAM_CATEGORY, TEAM_SUBCATEGORIES
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
_ENGAGED = frozenset({"accepted", "contacted", "answered"})
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


@dataclass(frozen=True, slots=True)
class MilestoneOutcome:
    """One deadline of one case at ``as_of``: due (after pauses), when met, its state."""

    milestone: str
    label: str
    due: datetime
    met_at: datetime | None
    state: MilestoneState


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """What one case adds to the KPIs (times in the KPI zone)."""

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
        return self.repeat_flagged or self.repeat_of is not None

    @property
    def breached(self) -> tuple[str, ...]:
        """The milestones met late or overdue."""
        return tuple(m.milestone for m in self.milestones if m.state in ("late", "overdue"))

    def group(self, by: GroupBy) -> str:
        """The case's key under ``by`` (a missing channel: ``unknown``)."""
        if by == "owner":
            return self.owner_team
        if by == "category":
            return self.category
        return self.channel or "unknown"


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


@dataclass(frozen=True, slots=True)
class MonthlyKpis:
    """A month's KPIs: the whole month, each group, the team weeks, the daily trend and
    the categories; ``cases`` holds each case's outcome (for the report)."""

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
    cases: tuple[CaseOutcome, ...]

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
            "breached_cases": sum(1 for c in self.cases if c.breached),
            "special_cases": sum(1 for c in self.cases if c.handling == "special"),
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
    cases = list(store.cases_between(start - timedelta(days=lookback_days), end,
                                     deadlines_only=True))
    return kpis_of_cases(cases, month, calendars=calendars, group_by=group_by,
                         as_of=as_of, zone=where, team_subcategories=team_subcategories,
                         team_week_cap=team_week_cap)


def kpis_of_cases(cases: Iterable[Case], month: str, *,
                  calendars: Mapping[str, BusinessCalendar],
                  group_by: GroupBy | None = None, as_of: datetime | None = None,
                  zone: ZoneInfo | None = None,
                  team_subcategories: Sequence[str] = TEAM_SUBCATEGORIES,
                  team_week_cap: int = TEAM_WEEK_CAP) -> MonthlyKpis:
    """``monthly_kpis`` over cases already read (those before the month are context:
    earlier cases for repeat complaints and the first week's team counts)."""
    where = zone or _zone_of(calendars)
    start, end = month_bounds(month, where)
    every = sorted(cases, key=lambda c: (c.record.received_at, c.case_id))
    latest = max((c.last_at for c in every), default=end)
    moment = max(end, latest) if as_of is None else utc(as_of, "as_of")
    moment = moment.astimezone(where)
    earlier: dict[str, list[Case]] = defaultdict(list)
    outcomes: list[CaseOutcome] = []
    for case in every:
        record = case.record
        if start <= record.received_at < end:
            outcomes.append(_outcome(case, earlier[record.customer], calendars, moment,
                                     where))
        earlier[record.customer].append(case)
    month_cases = tuple(outcomes)
    total = _group(None, month_cases)
    groups: tuple[KpiGroup, ...] = ()
    if group_by is not None:
        keyed: dict[str, list[CaseOutcome]] = defaultdict(list)
        for outcome in month_cases:
            keyed[outcome.group(group_by)].append(outcome)
        groups = tuple(_group(k, keyed[k]) for k in sorted(keyed))
    return MonthlyKpis(month, start, end, moment, group_by, total, groups,
                       _team_weeks(every, start, end, where, team_subcategories,
                                   team_week_cap),
                       _daily(month_cases, start, end),
                       tuple(sorted(Counter(c.category for c in month_cases).items(),
                                    key=lambda kv: (-kv[1], kv[0]))),
                       month_cases)


def _zone_of(calendars: Mapping[str, BusinessCalendar]) -> ZoneInfo:
    zones = {getattr(c, "tz", None) for c in calendars.values()}
    first = next(iter(zones), None)
    return first if len(zones) == 1 and isinstance(first, ZoneInfo) \
        else ZoneInfo("Asia/Shanghai")


def replayed_decision(case: Case, calendars: Mapping[str, BusinessCalendar]) -> Decision:
    """The case's decision as ``triage.status`` replays it: its deadlines (due time,
    calendar, length) from the stored JSON; every other field as recorded."""
    record = case.record
    deadlines = []
    for item in record.decision.get("deadlines", ()):
        name = item["calendar"]
        if name not in calendars:
            raise HistoryError(f"case {record.case_id!r}: its {item['milestone']!r} "
                               f"deadline is on calendar {name!r}, which the calendars "
                               "given do not have",
                               "pass the calendars of the policy that decided it: "
                               + ", ".join(sorted(calendars)))
        due = datetime.fromisoformat(item["due"])
        within = item.get("within")
        length = Duration.parse(within) if within else _ELAPSED
        derivation = DueTime(name, length, record.received_at, due, (), item["milestone"],
                             _TRACE)
        deadlines.append(Deadline(item["milestone"], item.get("label", item["milestone"]),
                                  due, name, "", within or "", None, "", (), derivation))
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


def _unpaused(case: Case, as_of: datetime, zone: ZoneInfo) -> tuple[MilestoneOutcome, ...]:
    """``milestone_outcomes`` for a case never paused: no due time moves, so each is the
    stored one, met by the first event that meets it (a reopening forgets the met
    resolution, follow-up and answer). Equal to the replay (a property test checks)."""
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
    outcomes = []
    for item in case.record.decision.get("deadlines", ()):
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


def _outcome(case: Case, before: Sequence[Case], calendars: Mapping[str, BusinessCalendar],
             as_of: datetime, zone: ZoneInfo) -> CaseOutcome:
    record = case.record
    deadlines = record.decision.get("deadlines", ())
    for item in deadlines:
        if item["calendar"] not in calendars:
            replayed_decision(case, calendars)  # raises, naming the calendar
    if any(e.kind == "paused" for e in case.events):
        outcomes = milestone_outcomes(case, calendars, as_of, zone)
    else:
        outcomes = _unpaused(case, as_of, zone)
    by_name = {m.milestone: m for m in outcomes}
    response = next((n for n in RESPONSE_MILESTONES if n in by_name), None)
    if response is None:
        responded = any(e.kind == "answered" and e.at <= as_of for e in case.events)
        on_time = None
    else:
        responded = by_name[response].met_at is not None
        on_time = by_name[response].state == "met"
    calendar_of = {d["milestone"]: d["calendar"] for d in deadlines}
    fallback = next(iter(calendar_of.values()), None)

    def hours(milestone: str, kind: str) -> float | None:
        met = by_name[milestone].met_at if milestone in by_name else next(
            (e.at for e in case.events if e.kind == kind and e.at <= as_of), None)
        name = calendar_of.get(milestone, fallback)
        if met is None or name is None:
            return None
        spent = calendars[name].working_time_between(record.received_at, met)
        return spent.total_seconds() / 3600

    return CaseOutcome(
        record.case_id, record.customer, record.received_at.astimezone(zone),
        record.request_type, record.category, record.subcategory, record.product,
        record.owner_team, record.channel, record.handling, record.severity, case.state,
        tuple(outcomes), response, responded, on_time,
        hours("first_contact", "contacted"), hours("resolution", "resolved"),
        case.satisfaction, _repeat_of(case, before), REPEAT_FLAG in record.flags)


def _repeat_of(case: Case, before: Sequence[Case]) -> str | None:
    """The latest earlier case of the customer on the same topic that had been taken on
    (accepted, contacted or answered) and was still open when ``case`` came in."""
    record = case.record
    if record.request_type != "complaint":
        return None
    came = record.received_at
    for earlier in reversed(before):
        old = earlier.record
        if (old.category, old.subcategory, old.product) != (
                record.category, record.subcategory, record.product) or old.received_at >= came:
            continue
        seen = [e for e in ordered(earlier.events) if e.at < came]
        if any(e.kind in _ENGAGED for e in seen) and fold(seen)[0] in OPEN_STATES:
            return old.case_id
    return None


def _group(key: str | None, cases: Sequence[CaseOutcome]) -> KpiGroup:
    inquiries = [c for c in cases if c.request_type == "inquiry"]
    complaints = [c for c in cases if c.request_type == "complaint"]
    timed_inquiries = [c for c in inquiries if c.on_time is not None]
    timed_complaints = [c for c in complaints if c.on_time is not None]
    surveyed = [c for c in cases if c.satisfaction is not None]
    names: dict[str, None] = {}
    for case in cases:
        for m in case.milestones:
            names.setdefault(m.milestone, None)
    milestones = []
    for name in names:
        states = Counter(m.state for c in cases for m in c.milestones if m.milestone == name)
        milestones.append(MilestoneCount(name, sum(states.values()), states["met"],
                                         states["late"], states["overdue"], states["pending"]))
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


def _team_weeks(cases: Sequence[Case], start: datetime, end: datetime, zone: ZoneInfo,
                subcategories: Sequence[str], cap: int) -> tuple[TeamWeek, ...]:
    first_monday = start.date() - timedelta(days=start.weekday())
    weeks: dict[tuple[str, date], list[str]] = defaultdict(list)
    for case in cases:  # in receipt order
        record = case.record
        if record.category != TEAM_CATEGORY or record.subcategory not in subcategories:
            continue
        received = record.received_at.astimezone(zone)
        monday = received.date() - timedelta(days=received.weekday())
        if first_monday <= monday and received < end:
            weeks[(record.owner_team, monday)].append(record.case_id)
    out = []
    for (team, monday), ids in sorted(weeks.items()):
        year, week, _ = monday.isocalendar()
        out.append(TeamWeek(team, f"{year}-W{week:02d}", monday, len(ids), cap, tuple(ids)))
    return tuple(out)


def _daily(cases: Sequence[CaseOutcome], start: datetime, end: datetime
           ) -> tuple[DayCount, ...]:
    received: Counter[date] = Counter()
    due: Counter[date] = Counter()
    on_time: Counter[date] = Counter()
    for case in cases:
        day = case.received_at.date()
        received[day] += 1
        if case.on_time is not None:
            due[day] += 1
            on_time[day] += case.on_time
    days = []
    day = start.date()
    while datetime.combine(day, time(0), tzinfo=start.tzinfo) < end:
        days.append(DayCount(day, received[day], due[day], on_time[day]))
        day += timedelta(days=1)
    return tuple(days)
