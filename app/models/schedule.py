"""An estate's own schedule rules, overriding the manual's defaults from a date on."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow
from .checklists import RoundKind


class Period(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class ScheduleRule(db.Model):
    """How often a round kind recurs in one estate, from `effective_from` on.

    Rules are never edited in place: a change adds a row, so the rule that was
    in force for any past date stays known and rounds already done stay done.
    """

    __tablename__ = "schedule_rule"
    __table_args__ = (
        sa.UniqueConstraint("estate_id", "kind", "effective_from"),
        sa.CheckConstraint("window_days IS NULL OR window_days >= 1", name="window_positive"),
        sa.CheckConstraint("anchor >= 0 AND anchor <= 28", name="anchor_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind))
    period: Mapped[Period] = mapped_column(str_enum(Period))
    # WEEK: weekday the round falls due (0 = Monday); MONTH: day of month (1–28); DAY: unused (0).
    anchor: Mapped[int] = mapped_column(default=0)
    # Days from falling due until it is overdue; NULL = the whole period.
    window_days: Mapped[int | None]
    effective_from: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
