"""Order, its history, and activities (one activity may serve several orders)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime


class OrderStatus(StrEnum):
    submitted = "submitted"  # 点单: waiting for a team (none found yet → flagged)
    dispatched = "dispatched"  # 配单: matched to a team, waiting for a volunteer
    accepted = "accepted"  # 接单
    done = "done"  # 完成
    rated = "rated"  # 评单
    cancelled = "cancelled"
    expired = "expired"  # nobody accepted in time and no tier left: flagged to admins

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


# Not yet at an end: still to be served, and the resident may still cancel (orders.service's
# TRANSITIONS allow cancelled from exactly these; a test holds them to it).
OPEN_STATUSES = (OrderStatus.submitted, OrderStatus.dispatched, OrderStatus.accepted, OrderStatus.expired)

STATUS_LABELS = {
    OrderStatus.submitted: "待派单",
    OrderStatus.dispatched: "已派单",
    OrderStatus.accepted: "已接单",
    OrderStatus.done: "已完成",
    OrderStatus.rated: "已评价",
    OrderStatus.cancelled: "已撤销",
    OrderStatus.expired: "超时未接",
}


class Activity(Base):
    """One delivery (a haircut afternoon, a clinic) that may serve several orders."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[str] = mapped_column(String(48))
    village_id: Mapped[str] = mapped_column(String(48))
    team_id: Mapped[str] = mapped_column(String(48))
    volunteer_id: Mapped[str] = mapped_column(String(48))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    people_served: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())

    orders: Mapped[list[Order]] = relationship(back_populates="activity")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_deadline", "status", "accept_deadline"),
        Index("ix_orders_resident", "resident_key"),
        Index("ix_orders_village_service", "village_id", "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    request_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    resident_key: Mapped[str] = mapped_column(String(64))
    resident_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    service_id: Mapped[str] = mapped_column(String(48))
    village_id: Mapped[str] = mapped_column(String(48))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    people_count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(Text)

    status: Mapped[OrderStatus] = mapped_column(String(16), default=OrderStatus.submitted)
    team_id: Mapped[str | None] = mapped_column(String(48))
    tier: Mapped[str | None] = mapped_column(String(16))
    volunteer_id: Mapped[str | None] = mapped_column(String(48))
    accept_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flagged: Mapped[str | None] = mapped_column(Text)  # why admins must look at it
    people_served: Mapped[int | None] = mapped_column(Integer)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    activity: Mapped[Activity | None] = relationship(back_populates="orders")
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )


class OrderEvent(Base):
    """The history: every transition, who, when, from, to, why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="events")
