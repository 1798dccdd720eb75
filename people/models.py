"""Volunteer sign-ups and staff hand-offs: requests residents make of the people who run a station."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class VolunteerSignup(Base):
    """当志愿者: a resident's request to join, approved by admins in the web console."""

    __tablename__ = "volunteer_signups"
    __table_args__ = (Index("ix_volunteer_signups_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_key: Mapped[str] = mapped_column(String(64))
    village_id: Mapped[str | None] = mapped_column(String(48))
    skills: Mapped[str | None] = mapped_column(Text)  # in the resident's own words
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/approved/rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffHandoff(Base):
    """找工作人员: a chat handed to the staff covering the resident's village."""

    __tablename__ = "staff_handoffs"
    __table_args__ = (Index("ix_staff_handoffs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_key: Mapped[str] = mapped_column(String(64))
    village_id: Mapped[str | None] = mapped_column(String(48))
    message: Mapped[str | None] = mapped_column(Text)
    notified: Mapped[str] = mapped_column(Text, default="")  # staff ids, comma separated
    status: Mapped[str] = mapped_column(String(16), default="open")  # open/closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
