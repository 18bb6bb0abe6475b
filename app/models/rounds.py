"""The round aggregate: one walk of one checklist over one place."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, new_uuid, str_enum, utcnow
from .checklists import ChecklistVersion, RoundKind
from .people import User
from .places import Building, Estate, Unit


class RoundStatus(enum.Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Round(db.Model):
    __tablename__ = "round"
    __table_args__ = (sa.Index("ix_round_estate_kind_date", "estate_id", "kind", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Made on the phone, so a round started offline is stored exactly once.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    # The place walked: a building (corridor, meters), a unit (vacant, decoration) or the estate.
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    steward_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_version.id"))
    # The estate's local date the round was started on: what the schedule counts.
    local_date: Mapped[date]
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    estate: Mapped[Estate] = relationship()
    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    steward: Mapped[User] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
