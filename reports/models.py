"""Tables of the reports room: the points ledger (one row per award or redemption, never a
mutable total), hours declared by volunteers, the award pass's cursor and the bulletin archive."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from orders.models import OrderEvent

# The reports read the order history by kind and time (done in November, rated this week…);
# without this every figure scans the whole history. Declared here, next to its reader.
Index("ix_order_events_status_at", OrderEvent.to_status, OrderEvent.at)


class HolderKind(StrEnum):
    volunteer = "volunteer"  # a team member id
    resident = "resident"  # a resident key ("tg:123")


class Rule(StrEnum):
    """Why a ledger row exists. Awards come from order events; redemptions from an admin."""

    per_order = "per_order"  # 完成 a delivery
    per_hour = "per_hour"  # its service hours, measured accept → done (capped)
    hours_declared = "hours_declared"  # correction when the volunteer declares the hours
    five_star = "five_star"  # the delivery was rated 5 stars
    rating = "rating"  # the resident rated an order
    redeem = "redeem"  # 积分兑换 (negative points)

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS = {
    Rule.per_order: "完成服务",
    Rule.per_hour: "服务时长",
    Rule.hours_declared: "登记时长",
    Rule.five_star: "五星好评",
    Rule.rating: "评价服务",
    Rule.redeem: "积分兑换",
}


class PointsEntry(Base):
    __tablename__ = "points_ledger"
    __table_args__ = (
        # The proof that an award is made once: one row per (source event, rule), whichever
        # instance runs the award pass and however often. Redemptions have no source event
        # (NULLs never collide).
        UniqueConstraint("source_event_id", "rule", name="uq_points_ledger_source_rule"),
        Index("ix_points_ledger_holder", "holder_kind", "holder_id", "id"),
        Index("ix_points_ledger_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_kind: Mapped[HolderKind] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[Rule] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)  # negative for a redemption
    hours: Mapped[float | None] = mapped_column(Float)  # per_hour / hours_declared: the hours
    source_event_id: Mapped[int | None] = mapped_column(Integer)  # order_events.id
    order_id: Mapped[int | None] = mapped_column(Integer)
    village_id: Mapped[str | None] = mapped_column(String(48))  # where the work was done
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it was earned (the event's time)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))  # Actor.label: system:points or the admin
    reason: Mapped[str] = mapped_column(Text, default="")


class DeclaredHours(Base):
    """Hours a volunteer declared for a delivery (once per order); they replace the measured ones."""

    __tablename__ = "points_declared_hours"

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(48))
    hours: Mapped[float] = mapped_column(Float)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportsCursor(Base):
    """How far the award pass has read order_events (an optimisation: the unique key above,
    not the cursor, is what makes awards exactly-once)."""

    __tablename__ = "reports_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Bulletin(Base):
    """One archived bulletin (月报): its files on disk and its headline figures."""

    __tablename__ = "bulletins"
    __table_args__ = (UniqueConstraint("area_id", "period_start", "period_end", name="uq_bulletins_area_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[str] = mapped_column(String(48))
    period_start: Mapped[date] = mapped_column(Date)  # first local day
    period_end: Mapped[date] = mapped_column(Date)  # the day after the last one
    title: Mapped[str] = mapped_column(String(120))
    files: Mapped[dict[str, str]] = mapped_column(JSON)  # format → path relative to reports.archive_dir
    headline: Mapped[dict[str, float | int | None]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # to the area's admins in the bot
