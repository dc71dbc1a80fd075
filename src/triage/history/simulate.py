"""A seeded month of cases for demonstrations: complaints, their decisions, their events.

``simulate_month(store, decide, month="2026-11", cases=3000, seed=0)`` writes complaint
records of several domains and channels (texts put together from short phrases written
for this module), has ``decide`` turn each into a ``Decision`` (the caller's policy:
history never loads one), records them and appends what staff and customers did: quick
and late first contacts, late answers, pauses for a test, rejected answers, cases left
open, repeat complaints of a customer on a topic still open, and follow-up calls with
a satisfaction. The same seed gives the same store.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..decision import Decision
from ..errors import HistoryError
from .events import CaseEvent
from .kpi import month_bounds
from .store import CaseStore

Decide = Callable[[Mapping[str, Any]], Decision]

#: (domain, product names, complaint phrases); each phrase may carry the service
#: subcategory (attitude or process) it was written for.
_DOMAINS: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str | None], ...]], ...] = (
    ("real_estate", ("5号楼", "8号楼", "12号楼"), (
        ("卫生间顶上一直往下滴水，墙皮都泡起来了", None),
        ("交房的时候窗框就有裂缝，到现在也没人来修", None),
        ("物业前台说话很冲，问两句就不耐烦", "attitude"),
        ("报修登记了一个星期，每次打电话都说再等等", "process"),
        ("请问车位什么时候可以办理过户", None),
        ("小区的绿地被改成了停车场，和买房时说的不一样", None),
    )),
    ("auto_dealer", ("轿车", "SUV"), (
        ("刚保养完发动机就有异响，你们得给个说法", None),
        ("接待的顾问全程玩手机，爱答不理", "attitude"),
        ("约好上午修车，等到下午都没人管，流程太乱了", "process"),
        ("请问首保需要带哪些材料", None),
        ("修车耽误了三天上班，要求赔偿误工费和打车费", None),
        ("刹车片换完还是有尖叫声，这已经是第二次了", None),
    )),
    ("electronics", ("洗衣机", "冰箱", "空调"), (
        ("空调用了三天就不制冷了，要求退货", None),
        ("客服挂我电话，态度非常恶劣", "attitude"),
        ("说好48小时上门，结果三天了也没人联系我", "process"),
        ("请问保修期是从哪天开始算", None),
        ("降价才一个星期，要求退还差价", None),
    )),
    ("cosmetics", ("面霜", "精华液"), (
        ("用了这款面霜脸上起红疹，又痒又疼", None),
        ("柜台的店员冷嘲热讽，说我不识货", "attitude"),
        ("请问敏感肌能不能用这款精华", None),
    )),
)
#: How often an attitude or process phrase is picked against another phrase.
_TEAM_WEIGHT = 0.04
#: Channels of the complaint record, with weights.
_CHANNELS: tuple[tuple[str, int], ...] = (
    ("phone", 50), ("web", 20), ("visit", 10), ("email", 8), ("letter", 3), ("callback", 2),
    ("factory_system", 7))


@dataclass(frozen=True, slots=True)
class SimulatedMonth:
    """What ``simulate_month`` wrote: cases, events, and how many of each twist."""

    month: str
    cases: int
    events: int
    repeats: int
    paused: int
    late: int


def simulate_month(store: CaseStore, decide: Decide, *, month: str = "2026-11",
                   cases: int = 3000, seed: int = 0,
                   zone: ZoneInfo | None = None, batch: int = 500) -> SimulatedMonth:
    """Write ``cases`` simulated cases received in ``month`` into ``store``.

    ``decide`` maps a complaint record (a dict as ``Policy.triage`` takes it) to its
    decision. A service complaint written about attitude or process that the policy gives
    no subcategory gets the one it was written for, so the report's team weeks show
    something whatever policy decides.
    """
    if isinstance(cases, bool) or not isinstance(cases, int) or not 1 <= cases <= 1_000_000:
        raise HistoryError(f"cases {cases!r} is not a number of cases",
                           "give a whole number from 1 to 1,000,000")
    where = zone or ZoneInfo("Asia/Shanghai")
    start, end = month_bounds(month, where)
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    times = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(cases))
    open_topics: dict[str, tuple[int, int, int, str]] = {}
    pending: list[CaseEvent] = []
    totals = {"events": 0, "repeats": 0, "paused": 0, "late": 0}
    for number, moment in enumerate(times):
        received = _office_hours(moment, rng)
        topic = rng.choice(tuple(open_topics)) if open_topics and rng.random() < 0.012 \
            else None
        if topic is not None:
            customer = topic
            domain_index, product_index, phrase_index, _ = open_topics[topic]
            totals["repeats"] += 1
        else:
            customer = f"1{rng.randrange(3000000000, 3999999999)}"
            domain_index = rng.randrange(len(_DOMAINS))
            product_index = rng.randrange(len(_DOMAINS[domain_index][1]))
            choices = _DOMAINS[domain_index][2]
            phrase_index = rng.choices(range(len(choices)),
                                       [_TEAM_WEIGHT if sub else 1.0 for _, sub in choices])[0]
        domain, products, phrases = _DOMAINS[domain_index]
        phrase, subcategory = phrases[phrase_index]
        text = phrase if topic is None else f"上次反映的问题还没解决，{phrase}"
        channel = rng.choices([c for c, _ in _CHANNELS], [w for _, w in _CHANNELS])[0]
        case_id = f"D{number + 1:06d}"
        decision = decide({"id": case_id, "channel": channel, "text": text,
                           "product": {"domain": domain}, "received_at": received.isoformat()})
        if decision.category == "service" and subcategory and decision.subcategory is None:
            decision = dataclasses.replace(decision, subcategory=subcategory)
        store.record_decision(decision, customer=customer, at=received,
                              product=products[product_index], domain=domain, channel=channel)
        events, twists = _events(case_id, decision, received, rng)
        pending.extend(events)
        totals["events"] += len(events) + 1
        totals["paused"] += twists[0]
        totals["late"] += twists[1]
        if decision.request_type == "complaint" and not twists[2] and topic is None:
            open_topics[customer] = (domain_index, product_index, phrase_index, case_id)
        elif topic is not None:
            open_topics.pop(topic, None)
        if len(pending) >= batch:
            store.append_many(pending)
            pending = []
    if pending:
        store.append_many(pending)
    return SimulatedMonth(month, cases, totals["events"], totals["repeats"], totals["paused"],
                          totals["late"])


def _office_hours(moment: datetime, rng: random.Random) -> datetime:
    """Most complaints come in between 8:00 and 20:00."""
    if 8 <= moment.hour < 20 or rng.random() < 0.1:
        return moment
    return moment.replace(hour=rng.randrange(8, 20))


def _events(case_id: str, decision: Decision, received: datetime, rng: random.Random
            ) -> tuple[list[CaseEvent], tuple[bool, bool, bool]]:
    """The events of one case; whether it was paused, late somewhere, and resolved."""
    due = {d.milestone: d.due for d in decision.deadlines}
    out: list[CaseEvent] = []
    late = False

    def when(milestone: str, default_hours: float, late_share: float) -> datetime:
        nonlocal late
        limit = due.get(milestone, received + timedelta(hours=default_hours))
        room = max((limit - received).total_seconds(), 600.0)
        if rng.random() < late_share:
            late = True
            return limit + timedelta(seconds=rng.uniform(600, max(room, 3600.0)))
        return received + timedelta(seconds=rng.uniform(60, room * 0.9))

    def add(kind: str, at: datetime, **extra: Any) -> None:
        out.append(CaseEvent(case_id, kind, at, actor=rng.choice(  # type: ignore[arg-type]
            ("坐席01", "坐席02", "坐席03", "专员A", "专员B")), **extra))

    add("accepted", received + timedelta(minutes=rng.uniform(1, 25)))
    contacted = when("first_contact", 2, 0.06)
    add("contacted", max(contacted, out[-1].at))
    paused = rng.random() < 0.12
    if paused:
        stop = out[-1].at + timedelta(hours=rng.uniform(0.5, 6))
        add("paused", stop, note="等待客户提供照片")
        add("resumed", stop + timedelta(hours=rng.uniform(2, 30)))
    answered = max(when("answer", 24, 0.08), out[-1].at + timedelta(minutes=5))
    add("answered", answered, note="已给出处理方案")
    if rng.random() < 0.06:
        add("answer_rejected", answered + timedelta(hours=rng.uniform(1, 8)))
        add("answered", out[-1].at + timedelta(hours=rng.uniform(2, 20)), note="调整了方案")
    resolved = rng.random() > 0.07
    if resolved:
        at = max(when("resolution", 72, 0.05), out[-1].at + timedelta(minutes=30))
        add("resolved", at)
        if rng.random() < 0.92:
            score = rng.choices((5, 4, 3, 2, 1), (62, 20, 10, 5, 3))[0]
            add("follow_up_done", at + timedelta(hours=rng.uniform(4, 40)),
                satisfaction=score)
    return out, (paused, late, resolved)
