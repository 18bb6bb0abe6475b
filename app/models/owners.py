"""Owners' own reports by QR code (業主掃碼報事): the printed codes and the reports they bring."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, new_uuid, str_enum, utcnow
from .complaints import Complaint
from .places import Building, Entrance, Estate, PublicArea, Retirable, Unit, place_words
from .tickets import RepairTicket


class OwnerCode(Retirable, db.Model):
    """A printed QR code for a stairwell, a public area or a unit's door notice. Its token is the
    only thing in the URL: unguessable, and a retired code answers 404 like one never made."""

    __tablename__ = "owner_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id", ondelete="CASCADE"))
    entrance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrance.id", ondelete="CASCADE"))
    public_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("public_area.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    building: Mapped[Building | None] = relationship()
    entrance: Mapped[Entrance | None] = relationship()
    public_area: Mapped[PublicArea | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def kind(self) -> str:
        return "unit" if self.unit_id else "entrance" if self.entrance_id else "public_area"

    @property
    def place_label(self) -> str:
        return place_words(building=self.building.name if self.building else None,
                           room=self.unit.room_number if self.unit else None,
                           area=self.public_area.name if self.public_area else None,
                           entrance=self.entrance.name if self.entrance else None, fallback=self.estate.name)


class OwnerReportKind(enum.Enum):
    REPAIR = "repair"
    COMPLAINT = "complaint"


class OwnerReport(db.Model):
    """What an owner sent by a code: it became a ticket or a complaint, or was counted as seen
    again on the ticket already open. Its status token is the owner's private link."""

    __tablename__ = "owner_report"
    __table_args__ = (sa.Index("ix_owner_report_estate_created", "estate_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)  # names its photos
    status_token: Mapped[str] = mapped_column(sa.String(48), unique=True)
    code_id: Mapped[int] = mapped_column(sa.ForeignKey("owner_code.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"))
    kind: Mapped[OwnerReportKind] = mapped_column(str_enum(OwnerReportKind))
    item: Mapped[str] = mapped_column(sa.String(32))  # what the owner chose (light, door, noise …)
    floor: Mapped[int | None]
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="zh_Hant")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_ticket.id", ondelete="SET NULL"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaint.id", ondelete="SET NULL"), index=True)
    seen_again: Mapped[bool] = mapped_column(default=False)  # added to a ticket already open

    code: Mapped[OwnerCode] = relationship()
    estate: Mapped[Estate] = relationship()
    ticket: Mapped[RepairTicket | None] = relationship()
    complaint: Mapped[Complaint | None] = relationship()
