"""The monthly report: one self-contained HTML page of a month's KPIs.

``render_report(kpis)`` writes the KPIs against their targets (green met, red missed),
a daily chart of volume and on-time rate, the categories by volume, the breached and
special cases, and each team's weekly attitude/process complaints with the cap marked.
Charts are inline SVG built here, with no script, stylesheet, font or image from
elsewhere; the same KPIs give the same bytes. Every text that comes from cases (ids,
customers, teams, labels) goes through ``html.escape``: case data is never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape

from .kpi import CaseOutcome, KpiGroup, MonthlyKpis, Rate

#: Chinese names of the codes the report shows, used when ``labels`` has none.
LABELS: Mapping[str, str] = {
    "product_quality": "产品质量", "service": "服务", "repair_quality": "维修质量",
    "user_caused": "用户原因", "other": "其他", "complaint": "投诉", "inquiry": "咨询",
    "repair": "报修", "suggestion": "建议", "challenge": "质疑", "praise": "表扬",
    "first_contact": "首次联系", "first_response": "首次响应", "answer": "答复",
    "resolution": "解决", "follow_up": "回访", "containment": "围堵", "analysis": "分析",
    "callback": "回电", "special": "特殊问题", "general": "一般性问题",
    "late": "逾期完成", "overdue": "逾期未完成", "met": "按时", "pending": "未到期",
}
_MAX_ROWS = 300
#: A code to its escaped Chinese label.
_Namer = Callable[[str | None], str]
_CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",sans-serif;
margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{border-radius:6px;padding:10px 14px;min-width:170px;color:#fff}
.tile b{display:block;font-size:24px}.ok{background:#2e7d32}.bad{background:#c62828}
.none{background:#757575}
table{border-collapse:collapse;font-size:13px;margin-top:8px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}
tr.over td{background:#ffebee}.note{color:#666;font-size:12px}
"""


def render_report(kpis: MonthlyKpis, *, title: str | None = None,
                  labels: Mapping[str, str] | None = None) -> str:
    """The report page of ``kpis`` as HTML text (UTF-8, self-contained)."""
    names = {**LABELS, **(labels or {})}

    def name(code: str | None) -> str:
        return escape(names.get(code or "", code or "—"))

    heading = escape(title or f"{kpis.month} 投诉统计月报")
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{heading}</title><style>{_CSS}</style></head><body>",
        f"<h1>{heading}</h1>",
        f'<p class="note">统计范围：{escape(kpis.start.isoformat())} 至 '
        f"{escape(kpis.end.isoformat())}（按受理时间）；判定时点："
        f"{escape(kpis.as_of.isoformat())}；共 {kpis.total.cases} 件。</p>",
        "<h2>关键指标与目标</h2>", _tiles(kpis.total),
        "<h2>每日受理量与按时回复率</h2>", _daily_chart(kpis),
        "<h2>各类别受理量</h2>", _category_chart(kpis, name),
        "<h2>各时限节点超时情况</h2>", _milestones(kpis.total, name),
        "<h2>各团队每周服务态度/流程类投诉（上限每周 3 件）</h2>", _team_weeks(kpis),
        "<h2>超时案件</h2>", _cases([c for c in kpis.cases if c.breached], name),
        "<h2>特殊问题案件</h2>",
        _cases([c for c in kpis.cases if c.handling == "special"], name),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _tiles(group: KpiGroup) -> str:
    out = ['<div class="tiles">']
    for rate in group.rates:
        out.append(_tile(rate))
    out.append("</div>")
    first, resolution = group.first_contact, group.resolution
    out.append(f'<p class="note">首次联系平均 {_hours(first.mean_hours)}，P90 '
               f"{_hours(first.p90_hours)}；解决平均 {_hours(resolution.mean_hours)}，P90 "
               f"{_hours(resolution.p90_hours)}（工作时间）。</p>")
    return "\n".join(out)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


def _tile(rate: Rate) -> str:
    target = rate.target
    css = "none" if rate.met is None else ("ok" if rate.met else "bad")
    verdict = "无数据" if rate.met is None else ("达标" if rate.met else "未达标")
    sign = "≥" if target.at_least else "≤"
    return (f'<div class="tile {css}" data-kpi="{escape(rate.kpi)}">'
            f"{escape(target.label)}<b>{_percent(rate.value)}</b>"
            f"{rate.numerator}/{rate.denominator} · 目标 {sign}{target.value * 100:g}% · "
            f"{verdict}</div>")


def _daily_chart(kpis: MonthlyKpis) -> str:
    days = kpis.daily
    width, height, left, bottom, top = 900, 260, 44, 30, 14
    plot_w, plot_h = width - left - 44, height - bottom - top
    most = max((d.received for d in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    out = [f'<svg class="chart" id="daily" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="每日受理量与按时回复率">',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
           'stroke="#555"/>']
    points = []
    for i, day in enumerate(days):
        bar = plot_h * day.received / most
        x = left + i * step
        out.append(f'<rect x="{x + 2:.1f}" y="{top + plot_h - bar:.1f}" '
                   f'width="{max(step - 4, 1):.1f}" height="{max(bar, 0.5):.1f}" '
                   f'fill="#90caf9"><title>{day.day.isoformat()}：{day.received} 件</title>'
                   "</rect>")
        if i % 5 == 0 or i == len(days) - 1:
            out.append(f'<text x="{x + step / 2:.1f}" y="{height - 10}" font-size="11" '
                       f'text-anchor="middle">{day.day.month}/{day.day.day}</text>')
        if day.on_time_rate is not None:
            points.append(f"{x + step / 2:.1f},{top + plot_h * (1 - day.on_time_rate):.1f}")
    if points:
        out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#c62828" '
                   'stroke-width="2"/>')
    for share in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - share)
        out.append(f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" font-size="11" '
                   f'fill="#c62828">{share * 100:.0f}%</text>')
    out.append(f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end">'
               f"{most}</text>")
    out.append(f'<text x="{left - 6}" y="{top + plot_h + 4}" font-size="11" '
               'text-anchor="end">0</text></svg>')
    out.append('<p class="note">蓝色柱：当日受理件数；红线：当日受理案件中按时回复的比例。</p>')
    return "\n".join(out)


def _category_chart(kpis: MonthlyKpis, name: _Namer) -> str:
    rows = kpis.categories
    width, row_h, left = 600, 26, 110
    height = max(len(rows), 1) * row_h + 10
    most = max((n for _, n in rows), default=0) or 1
    out = [f'<svg class="chart" id="categories" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="各类别受理量">']
    for i, (category, count) in enumerate(rows):
        y = 5 + i * row_h
        bar = (width - left - 70) * count / most
        out.append(f'<text x="{left - 8}" y="{y + 16}" font-size="13" text-anchor="end">'
                   f"{name(category)}</text>")
        out.append(f'<rect x="{left}" y="{y + 3}" width="{max(bar, 0.5):.1f}" height="18" '
                   'fill="#ffb74d"/>')
        out.append(f'<text x="{left + bar + 6:.1f}" y="{y + 16}" font-size="12">{count}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _table(head: Sequence[str], rows: Iterable[tuple[Sequence[str], str]]) -> str:
    """A table; each row's cells are already escaped, with a CSS class for the row."""
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for cells, css in rows:
        klass = f' class="{css}"' if css else ""
        out.append(f"<tr{klass}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _milestones(group: KpiGroup, name: _Namer) -> str:
    return _table(["节点", "应完成", "按时", "逾期完成", "逾期未完成", "未到期"],
                  (([name(m.milestone), str(m.total), str(m.met), str(m.late),
                     str(m.overdue), str(m.pending)], "over" if m.breached else "")
                   for m in group.milestones))


def _team_weeks(kpis: MonthlyKpis) -> str:
    if not kpis.team_weeks:
        return '<p class="note">本月没有记为服务态度或流程类的投诉。</p>'
    table = _table(["团队", "周", "周一", "件数", "上限", "超出上限的案件"],
                   (([escape(w.team), escape(w.week), w.monday.isoformat(), str(w.count),
                      str(w.cap), escape("、".join(w.over_cap)) or "—"],
                     "over" if w.over else "") for w in kpis.team_weeks))
    return table + '\n<p class="note">红底行：该周超过上限，第 4 件起列出。</p>'


def _cases(cases: Sequence[CaseOutcome], name: _Namer) -> str:
    if not cases:
        return '<p class="note">无。</p>'
    shown = cases[:_MAX_ROWS]
    table = _table(["案件", "受理时间", "类型", "类别", "责任团队", "渠道", "超时节点", "状态"],
                   (([escape(c.case_id), c.received_at.strftime("%m-%d %H:%M"),
                      name(c.request_type), name(c.category), escape(c.owner_team),
                      escape(c.channel or "—"),
                      "、".join(f"{name(m.milestone)}（{name(m.state)}）" for m in c.milestones
                               if m.state in ("late", "overdue")) or "—",
                      escape(c.state)], "") for c in shown))
    more = len(cases) - len(shown)
    return table + (f'\n<p class="note">另有 {more} 件未列出（见 triage kpi 的输出）。</p>'
                    if more else "")
