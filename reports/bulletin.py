"""The bulletin (月报) of one area and period, in plain Chinese: the headline numbers, the
charts, the honour list (红榜) of volunteers and villages, what needs attention, and the
tables that the PDF, the Excel file and the CSV all print (one definition for the three)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import local
from core.config import AppConfig
from orders.models import STATUS_LABELS, OrderStatus
from reports.charts import all_charts
from reports.figures import Figures, GroupFigures, Satisfaction, VolunteerFigures

Cell = str | int | float | None
ATTENTION_LINES = 20


@dataclass(frozen=True)
class Table:
    name: str  # sheet name: short, no / \ ? * [ ]
    columns: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Bulletin:
    title: str
    area_name: str
    period_label: str
    generated_at: datetime
    summary: list[str]  # sentences, the first paragraph
    headline: list[tuple[str, str]]  # label, value as shown
    charts: dict[str, str]  # name → SVG
    honour_volunteers: list[VolunteerFigures]
    honour_villages: list[GroupFigures]
    attention: list[str]
    tables: list[Table]
    figures: Figures


def make_bulletin(config: AppConfig, figures: Figures, generated_at: datetime, *, charts: bool = True) -> Bulletin:
    settings = config.reports
    f = figures
    title = (
        f"{f.area.name}{f.period.label}工作月报" if f.period.is_month else f"{f.area.name}工作报表({f.period.label})"
    )
    volunteers = [v for v in f.volunteers if v.points > 0 or v.fulfilled > 0][: settings.honour_size]
    villages = sorted(
        (v for v in f.villages if v.fulfilled > 0),
        key=lambda v: (-v.fulfilled, -(v.satisfaction.average or 0), v.key),
    )[: settings.honour_size]
    return Bulletin(
        title=title, area_name=f.area.name, period_label=f.period.label, generated_at=generated_at,
        summary=_summary(f), headline=_headline(f), charts=all_charts(f) if charts else {},
        honour_volunteers=volunteers, honour_villages=villages, attention=_attention(config, f),
        tables=_tables(config, f), figures=f,
    )  # fmt: skip


def _summary(f: Figures) -> list[str]:
    sat = f.satisfaction
    lines = [
        f"{f.period.label},{f.area.name}群众点单 {f.placed} 个,完成服务 {f.fulfilled} 个,"
        f"开展活动 {f.activities} 场,服务群众 {f.people_served} 人次。",
        f"志愿者服务时长 {_num(f.hours)} 小时,获得积分 {f.points_awarded} 分。",
    ]
    if sat.ratings:
        lines.append(f"群众评价 {sat.ratings} 次,平均 {sat.average:.1f} 星,满意(4–5星)占 {_pct(sat.good_share)}。")
    else:
        lines.append("本期还没有群众评价。")
    b = f.broadcasts
    lines.append(f"大喇叭播出 {b.aired} 次,审核通过通知 {b.announcements_approved} 条。")
    return lines


def _headline(f: Figures) -> list[tuple[str, str]]:
    sat, b = f.satisfaction, f.broadcasts
    return [
        ("群众点单", f"{f.placed} 个"),
        ("完成服务", f"{f.fulfilled} 个"),
        ("开展活动", f"{f.activities} 场"),
        ("服务群众", f"{f.people_served} 人次"),
        ("平均评分", f"{sat.average:.1f} 星" if sat.average is not None else "—"),
        ("满意率(4–5星)", _pct(sat.good_share)),
        ("接单用时(中位)", _duration(f.time_to_accept.median_hours)),
        ("完成用时(中位)", _duration(f.time_to_done.median_hours)),
        ("超时没人接", f"{f.expired} 个"),
        ("志愿服务时长", f"{_num(f.hours)} 小时"),
        ("获得积分", f"{f.points_awarded} 分"),
        ("大喇叭播出", f"{b.aired} 次"),
    ]


def _attention(config: AppConfig, f: Figures) -> list[str]:
    orders = [
        f"{_village(config, a.village_id)} {_service(config, a.service_id)}(单号 {a.order_number}):"
        + ("超时没人接,请改派。" if a.status is OrderStatus.expired else "没有服务队能接,请安排。")
        for a in f.attention
    ]
    low = config.reports.low_rating
    ratings = [
        f"{_village(config, c.village_id)} {_service(config, c.service_id)}(单号 {c.order_number})"
        f"只得了 {c.rating} 星" + (f":“{c.text}”" if c.text else "。")
        for c in f.comments
        if c.rating <= low
    ]
    items = _at_most(orders, "个单子要处理,见 Excel 表“需关注”") + _at_most(ratings, "个低分评价,见 Excel 表“评价”")
    idle = [v.name for v in f.villages if v.fulfilled == 0]
    if idle:
        items.append("本期没有完成服务的村:" + "、".join(idle) + "。")
    b = f.broadcasts
    if b.missed or b.failed:
        items.append(f"大喇叭有 {b.missed} 次错过、{b.failed} 次生成失败,请检查设备和网络。")
    return items


def _at_most(lines: list[str], rest: str, limit: int = ATTENTION_LINES) -> list[str]:
    """A county can have hundreds: the bulletin names the first ones and counts the others."""
    return lines if len(lines) <= limit else [*lines[:limit], f"另有 {len(lines) - limit} {rest}。"]


def _tables(config: AppConfig, f: Figures) -> list[Table]:
    sat_columns = ["评价数", "平均星级", "满意率"]

    def group(name: str, label: str, rows: list[GroupFigures]) -> Table:
        columns = [label, "点单", "完成", "活动", "服务人次", *sat_columns]
        body = [[r.name, r.placed, r.fulfilled, r.activities, r.people_served, *_sat(r.satisfaction)] for r in rows]
        return Table(name, columns, body)

    b = f.broadcasts
    return [
        Table("概况", ["项目", "数值"], [[label, value] for label, value in _headline_values(f)]),
        Table(
            "按状态",
            ["状态", "订单数"],
            [[STATUS_LABELS[s], f.by_status[s.value]] for s in OrderStatus if s.value in f.by_status],
        ),
        group("按服务", "服务", f.services),
        group("按村", "村", f.villages),
        group("按服务队", "服务队", f.teams),
        Table(
            "志愿者",
            ["志愿者", "服务队", "接单", "完成", "服务时长(小时)", "积分", *sat_columns],
            [[v.name, v.team, v.accepted, v.fulfilled, v.hours, v.points, *_sat(v.satisfaction)] for v in f.volunteers],
        ),
        Table(
            "评价",
            ["单号", "村", "服务", "服务队", "星级", "留言", "时间"],
            [
                [
                    c.order_number,
                    _village(config, c.village_id),
                    _service(config, c.service_id),
                    _team(config, c.team_id),
                    c.rating,
                    c.text or "",
                    f"{local(c.at):%Y-%m-%d %H:%M}",
                ]
                for c in f.comments
            ],
        ),
        Table(
            "广播",
            ["项目", "数值"],
            [
                ["应播", b.planned],
                ["已播出", b.aired],
                ["错过", b.missed],
                ["生成失败", b.failed],
                ["已备好未登记", b.ready_unconfirmed],
                ["待生成", b.pending],
                ["已配音", b.voiced],
                ["备用语音", b.backup_voice],
                ["备用语音占比", b.backup_share],
                ["审核通过的通知", b.announcements_approved],
            ],
        ),
        Table("近12个月", ["月份", "点单", "完成"], [[m.month, m.placed, m.fulfilled] for m in f.trend]),
        Table(
            "需关注",
            ["单号", "村", "服务", "状态", "原因"],
            [
                [a.order_number, _village(config, a.village_id), _service(config, a.service_id), a.status.label, a.why]
                for a in f.attention
            ],
        ),
    ]


def _headline_values(f: Figures) -> list[tuple[str, Cell]]:
    """The 概况 sheet: raw numbers, not text, so a spreadsheet can add them up."""
    sat = f.satisfaction
    return [
        ("群众点单", f.placed), ("完成服务", f.fulfilled), ("开展活动", f.activities),
        ("服务群众(人次)", f.people_served), ("评价数", sat.ratings), ("平均星级", sat.average),
        ("满意率(4–5星)", sat.good_share), ("接单用时中位数(小时)", f.time_to_accept.median_hours),
        ("接单用时P90(小时)", f.time_to_accept.p90_hours), ("完成用时中位数(小时)", f.time_to_done.median_hours),
        ("完成用时P90(小时)", f.time_to_done.p90_hours), ("超时没人接", f.expired), ("没有服务队能接", f.unmatched),
        ("志愿服务时长(小时)", f.hours), ("获得积分", f.points_awarded),
        ("大喇叭播出", f.broadcasts.aired), ("审核通过的通知", f.broadcasts.announcements_approved),
    ]  # fmt: skip


def _sat(s: Satisfaction) -> list[Cell]:
    return [s.ratings, s.average, s.good_share]


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def _num(value: float) -> str:
    return f"{value:g}"


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    return f"{hours * 60:.0f} 分钟" if hours < 1 else f"{hours:.1f} 小时"


def _village(config: AppConfig, village_id: str) -> str:
    village = config.villages.get(village_id)
    return village.name if village else village_id


def _service(config: AppConfig, service_id: str) -> str:
    service = config.services.get(service_id)
    return service.name if service else service_id


def _team(config: AppConfig, team_id: str | None) -> str:
    team = config.teams_by_id.get(team_id or "")
    return team.name if team else (team_id or "—")
