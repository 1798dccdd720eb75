"""The NLU room's table: the review inbox (messages the NLU missed, masked, waiting for a label)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class ReviewItem(Base):
    """One resident message that fell back, had low confidence or was corrected at the
    confirmation step.  `text` is already masked (nlu/mask.py): no phones, order numbers or
    names are ever stored here."""

    __tablename__ = "nlu_review_items"
    __table_args__ = (Index("ix_nlu_review_items_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(24))  # fallback | low_confidence | corrected
    predicted_intent: Mapped[str] = mapped_column(String(32))
    predicted_service: Mapped[str | None] = mapped_column(String(48), nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    village_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # new | labelled | irrelevant
    label_intent: Mapped[str | None] = mapped_column(String(32), nullable=True)
    label_service: Mapped[str | None] = mapped_column(String(48), nullable=True)
    labelled_by: Mapped[str | None] = mapped_column(String(48), nullable=True)
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
