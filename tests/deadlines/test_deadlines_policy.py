"""Deadlines set by policy rules: merging, calendars, 2027 without data, errors in YAML."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import triage
from triage.deadlines.calendar import BusinessCalendar
from triage.deadlines.durations import Duration
from triage.deadlines.planner import Deadline, DeadlinePlanner, DeadlineSpec
from triage.errors import CalendarError

from ..conftest import FIXTURES, write_policy

SH = ZoneInfo("Asia/Shanghai")
MINIMAL = (FIXTURES / "minimal" / "policy.yaml").read_text(encoding="utf-8")


def deadlines_policy(tmp_path: Path, calendars: str, stage: str) -> triage.Policy:
    """The minimal fixture with milestones, the given calendars and deadlines stage."""
    text = MINIMAL.replace("  domain: {auto_dealer: 4S店}\n",
                           "  domain: {auto_dealer: 4S店}\n  milestones: {first_contact: 首次联系,"
                           " resolution: 处理完毕, follow_up: 回访, answer: 答复}\n")
    return triage.load_policy(write_policy(tmp_path, {
        "policy.yaml": text, "calendars.yaml": calendars, "deadlines.yaml": stage}))


OFFICE = """calendars:
  office:
    hours: {mon-fri: ["09:00-12:00", "13:30-18:00"]}
    beyond_data: %s
"""

RESOLVE_2WD = """stages:
  deadlines:
    default:
      - {milestone: resolution, within: 2wd, calendar: office}
"""


def due(decision: triage.Decision, milestone: str) -> datetime:
    return next(d.due for d in decision.deadlines if d.milestone == milestone)


def record(text: str = "漏水", received: str = "2026-11-20T17:00:00+08:00", **extra: object
           ) -> dict[str, object]:
    return {"id": "d1", "channel": "phone", "text": text, "received_at": received, **extra}


def test_default_policy_dealer_deadlines_with_follow_up_after_resolution(
        default_policy: triage.Policy) -> None:
    """A dealership complaint: contact within 2 working hours, resolve in 3 days, visit 2 later."""
    decision = default_policy.triage(record(
        "发动机异响，修了三次还没修好", "2026-09-30T17:20:00+08:00",
        product={"domain": "auto_dealer"}))
    assert due(decision, "first_contact") == datetime(2026, 10, 1, 9, 50, tzinfo=SH)
    assert due(decision, "resolution") == datetime(2026, 10, 4, 0, 0, tzinfo=SH)
    assert due(decision, "follow_up") == datetime(2026, 10, 6, 0, 0, tzinfo=SH)
    assert {d.rule_id for d in decision.deadlines} == {"deadlines.auto"}


def test_default_policy_factory_system_and_real_estate_deadlines(
        default_policy: triage.Policy) -> None:
    """Maker's system: respond in 30 working minutes, close in 7 days; real estate: 48 hours."""
    maker = default_policy.triage(record(
        "客户反映车机黑屏", "2026-11-23T20:00:00+08:00", channel="factory_system",
        product={"domain": "auto_dealer"}))
    assert due(maker, "first_response") == datetime(2026, 11, 24, 9, 0, tzinfo=SH)
    assert due(maker, "resolution") == datetime(2026, 12, 1, 0, 0, tzinfo=SH)
    home = default_policy.triage(record("楼上漏水到我家", product={"domain": "real_estate"}))
    assert due(home, "answer") == datetime(2026, 11, 22, 17, 0, tzinfo=SH)


def test_quality_department_counts_working_days_around_national_day(
        default_policy: triage.Policy) -> None:
    """Received the day before National Day: 2 working days end on 9 October."""
    decision = default_policy.triage(record(
        "整批电容耐压不合格，已经停线", "2026-09-30T10:00:00+08:00",
        product={"domain": "manufacturing"}))
    assert due(decision, "first_response") == datetime(2026, 10, 9, 17, 30, tzinfo=SH)
    assert due(decision, "containment") == datetime(2026, 10, 1, 10, 0, tzinfo=SH)
    assert decision.severity == "severe"


def test_default_policy_warns_when_a_deadline_runs_into_2027(
        default_policy: triage.Policy) -> None:
    """Past the data the calendars assume ordinary weekends, say so, and skip 1 January."""
    decision = default_policy.triage(record(
        "整批电容耐压不合格", "2026-12-30T16:00:00+08:00", product={"domain": "manufacturing"}))
    assert any("2027" in w for w in decision.warnings)
    first = next(d for d in decision.deadlines if d.milestone == "first_response")
    assert any("2027" in w for w in first.warnings)
    # New Year's Day is in the policy already; the weekend after it is assumed ordinary.
    assert first.due == datetime(2027, 1, 4, 17, 30, tzinfo=SH)


def test_beyond_data_error_rejects_the_record_naming_the_year(tmp_path: Path) -> None:
    """With beyond_data: error, triage raises; triage_many gives an error record, in order."""
    policy = deadlines_policy(tmp_path, OFFICE % "error", RESOLVE_2WD)
    with pytest.raises(CalendarError, match="2027"):
        policy.triage(record(received="2026-12-31T10:00:00+08:00"))
    lines = [json.dumps(record(received=r)) for r in
             ("2026-12-01T10:00:00+08:00", "2026-12-31T10:00:00+08:00")]
    ok, failed = policy.triage_many(lines)
    assert isinstance(ok, triage.Decision)
    assert isinstance(failed, triage.RecordError)
    assert failed.line == 2 and failed.code == "deadline-error" and "2027" in failed.message


def test_2027_holidays_written_in_the_policy_count(tmp_path: Path) -> None:
    """Staff add 2027 when it is published: its holidays are skipped, no warning remains."""
    calendars = (OFFICE % "error") + "    holidays: {2027-01-01: 元旦}\n    known_years: [2027]\n"
    policy = deadlines_policy(tmp_path, calendars, RESOLVE_2WD)
    decision = policy.triage(record(received="2026-12-30T16:00:00+08:00"))
    assert due(decision, "resolution") == datetime(2027, 1, 4, 18, 0, tzinfo=SH)
    assert decision.warnings == ()


def test_highest_priority_rule_wins_per_milestone_and_default_fills_in(tmp_path: Path) -> None:
    """Rules override the default milestone by milestone; the strongest rule decides."""
    stage = """stages:
  deadlines:
    default:
      - {milestone: resolution, within: 2wd}
      - {milestone: first_contact, within: 2h}
    rules:
      - id: dl.leak
        priority: 5
        when: {text: [漏水]}
        set: {deadlines: [{milestone: resolution, within: 1wd}]}
      - id: dl.danger
        priority: 9
        when: {text: [冒烟]}
        set: {deadlines: [{milestone: resolution, within: same_day}]}
"""
    calendars = (OFFICE % "error").replace("calendars:", "policy: {name: p, default_calendar: "
                                                         "office}\ncalendars:")
    text = MINIMAL.replace("policy:\n  name: minimal\n", "")
    policy = triage.load_policy(write_policy(tmp_path, {
        "policy.yaml": text.replace("  domain: {auto_dealer: 4S店}\n",
                                    "  domain: {auto_dealer: 4S店}\n  milestones: "
                                    "{first_contact: 首次联系, resolution: 处理完毕}\n"),
        "calendars.yaml": calendars, "deadlines.yaml": stage}))
    with_default_calendar = policy  # every item above names a calendar or is clock time
    both = with_default_calendar.triage(record("漏水还冒烟", "2026-11-23T10:00:00+08:00"))
    assert {d.milestone: d.rule_id for d in both.deadlines} == {
        "first_contact": "deadlines.default", "resolution": "dl.danger"}
    assert due(both, "resolution") == datetime(2026, 11, 23, 18, 0, tzinfo=SH)
    leak = with_default_calendar.triage(record("漏水", "2026-11-23T10:00:00+08:00"))
    assert due(leak, "resolution") == datetime(2026, 11, 24, 18, 0, tzinfo=SH)


def test_calendar_chosen_by_a_field_follows_the_site_time_zone(tmp_path: Path) -> None:
    """A site in another zone gets its own calendar through 'select'."""
    calendars = """calendars:
  beijing: {timezone: Asia/Shanghai, hours: {daily: ["09:00-18:00"]}, chinese_holidays: false}
  berlin: {timezone: Europe/Berlin, hours: {daily: ["09:00-18:00"]}, chinese_holidays: false}
  site:
    select: {field: attributes.site, cases: {de: berlin}, default: beijing}
"""
    stage = """stages:
  deadlines:
    default:
      - {milestone: first_contact, within: 1wh, calendar: site}
"""
    policy = deadlines_policy(tmp_path, calendars, stage)
    received = "2026-11-23T20:00:00+08:00"  # 13:00 in Berlin
    here = policy.triage(record(received=received))
    there = policy.triage(record(received=received, attributes={"site": "de"}))
    assert due(here, "first_contact") == datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    assert due(there, "first_contact") == datetime(2026, 11, 23, 14, 0,
                                                   tzinfo=ZoneInfo("Europe/Berlin"))
    assert there.deadlines[0].calendar == "berlin"


def test_missing_anchor_leaves_the_milestone_out_with_a_warning(tmp_path: Path) -> None:
    """follow_up after resolution, when no resolution is set: not computed, and said so."""
    stage = """stages:
  deadlines:
    default: []
    rules:
      - id: dl.visit
        when: {text: [漏水]}
        set: {deadlines: [{milestone: follow_up, within: 2d, after: resolution, calendar: office}]}
"""
    policy = deadlines_policy(tmp_path, OFFICE % "error", stage)
    decision = policy.triage(record())
    assert decision.deadlines == ()
    assert any("回访" in w and "处理完毕" in w for w in decision.warnings)


def test_deadline_json_carries_due_text_steps_and_rule(default_policy: triage.Policy) -> None:
    """Each deadline in JSON says when, as staff say it, why, and which rule set it."""
    decision = default_policy.triage(record(product={"domain": "auto_dealer"}))
    data = decision.to_dict()["deadlines"]
    assert [d["milestone"] for d in data] == ["first_contact", "resolution", "follow_up"]
    assert data[0]["due_text"].endswith("前") and data[0]["steps"][0]["kind"] == "start"
    assert data[2]["after"] == "resolution"


BROKEN = {
    "calendars.yaml": """calendars:
  office:
    hours: {mon-fri: ["09:00-25:00"]}
  shop:
    timezone: Mars/Olympus
""",
    "deadlines.yaml": """stages:
  deadlines:
    default:
      - {milestone: resolution, within: 3days, calendar: office}
    rules:
      - id: dl.a
        when: {text: [漏水]}
        set:
          deadlines:
            - {milestone: answr, within: 2h}
            - {milestone: follow_up, within: 2d, after: resolution, calendar: ofice}
      - id: dl.b
        when: {text: [冒烟]}
        set:
          deadlines:
            - {milestone: resolution, within: 1d, after: follow_up, calendar: office}
      - id: dl.c
        when: {text: [起火]}
        set:
          deadlines:
            - {milestone: follow_up, within: 1d, after: resolution, calendar: office}
""",
}


def test_deadline_mistakes_are_all_reported_with_their_place(tmp_path: Path) -> None:
    """Bad hours, zone, duration, milestone, calendar and anchor chain: all, located."""
    text = MINIMAL.replace("  domain: {auto_dealer: 4S店}\n",
                           "  domain: {auto_dealer: 4S店}\n  milestones: {resolution: 处理完毕,"
                           " follow_up: 回访, answer: 答复}\n")
    with pytest.raises(triage.PolicyError) as caught:
        triage.load_policy(write_policy(tmp_path, {"policy.yaml": text, **BROKEN}))
    found = {(Path(p.file).name, p.line, p.code) for p in caught.value.problems}
    assert ("calendars.yaml", 3, "bad-hours") in found
    assert ("calendars.yaml", 5, "bad-timezone") in found
    assert ("deadlines.yaml", 4, "bad-duration") in found
    assert not any(code == "missing-default" for _, _, code in found)
    assert ("deadlines.yaml", 10, "unknown-value") in found
    assert ("deadlines.yaml", 11, "undefined-calendar") in found
    # every member of the chain, each at its own "after:"
    assert ("deadlines.yaml", 11, "anchor-chain") in found
    assert ("deadlines.yaml", 16, "anchor-chain") in found
    assert ("deadlines.yaml", 21, "anchor-chain") in found
    messages = "\n".join(p.format() for p in caught.value.problems)
    assert "did you mean 'answer'?" in messages and "did you mean 'office'?" in messages


def test_select_must_name_calendars_with_hours_and_nothing_else(tmp_path: Path) -> None:
    """A selecting calendar names real calendars and does not also set hours."""
    calendars = """calendars:
  office: {hours: {daily: ["09:00-18:00"]}, chinese_holidays: false}
  site:
    hours: {daily: ["08:00-20:00"]}
    select: {field: attributes.site, cases: {de: berln}, default: office}
"""
    stage = RESOLVE_2WD.replace("calendar: office", "calendar: site")
    with pytest.raises(triage.PolicyError) as caught:
        deadlines_policy(tmp_path, calendars, stage)
    found = {(p.line, p.code) for p in caught.value.problems}
    assert (4, "conflict") in found
    assert (5, "undefined-calendar") in found


@pytest.mark.parametrize("text", ["整批电容耐压不合格，已经停线", "发动机异响，修了三次还没修好"])
def test_receipt_zone_does_not_change_deadlines(default_policy: triage.Policy,
                                                 text: str) -> None:
    """One receipt instant written with +08:00, in UTC or as a Shanghai time: the same
    deadlines, derivations and warnings (the planner reads the receipt in the zone once)."""
    results = []
    for received in ("2026-12-30T17:20:00.5+08:00", "2026-12-30T09:20:00.5Z",
                     datetime(2026, 12, 30, 17, 20, 0, 500_000, tzinfo=SH)):
        for domain in ("manufacturing", "auto_dealer"):
            decision = default_policy.triage(record(text, received,  # type: ignore[arg-type]
                                                    product={"domain": domain}))
            results.append((domain, [d.to_dict() for d in decision.deadlines],
                            decision.warnings))
    assert results[:2] == results[2:4] == results[4:]
    assert all(deadlines for _, deadlines, _ in results)


def test_planner_merges_orders_and_builds_plain_deadlines() -> None:
    """Strongest rule per milestone, anchors after the others, taxonomy order then the
    unlisted milestones by name; the deadlines are ordinary frozen values."""
    office = BusinessCalendar("office")
    planner = DeadlinePlanner({"office": office}, {}, "office",
                              {"resolution": "处理完毕", "first_contact": "首次联系"}, {})

    def spec(milestone: str, text: str, after: str | None = None) -> DeadlineSpec:
        return DeadlineSpec(milestone, Duration.parse(text), text, after=after)

    specs = [("r1", [spec("zeta", "1wd"), spec("alpha", "1d", after="resolution")]),
             ("r2", [spec("resolution", "2wd"), spec("zeta", "3wd")]),
             ("default", [spec("first_contact", "2wh"), spec("resolution", "5wd"),
                          spec("omega", "1d", after="missing")])]
    deadlines, warnings = planner.plan(specs, None, datetime(2026, 11, 20, 17, tzinfo=SH))
    assert [(d.milestone, d.rule_id) for d in deadlines] == [
        ("resolution", "r2"), ("first_contact", "default"), ("alpha", "r1"), ("zeta", "r1")]
    assert [d.due for d in deadlines] == [
        datetime(2026, 11, 24, 18, tzinfo=SH), datetime(2026, 11, 23, 10, tzinfo=SH),
        datetime(2026, 11, 26, tzinfo=SH), datetime(2026, 11, 23, 18, tzinfo=SH)]
    assert warnings == ("omega应在missing之后计算，但本投诉没有missing期限，未能计算",)
    first = deadlines[0]
    assert first == Deadline(*(getattr(first, f.name) for f in fields(Deadline)))
    assert replace(first, label="x").label == "x" and "resolution" in repr(first)
    with pytest.raises(AttributeError):
        first.due = first.due  # type: ignore[misc]
