"""Complaints (投訴) and their event log, the estate's target times per category, and return
visits (回訪) planned from complaints and repairs (manual 五, 六)."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, new_uuid, str_enum, utcnow
from .people import User
from .places import Building, Entrance, Estate, PublicArea, Unit, place_words
from .tickets import RepairTicket


class ComplaintCategory(enum.Enum):
    NOISE = "noise"
    HYGIENE = "hygiene"
    STAFF_CONDUCT = "staff_conduct"
    NEIGHBOUR_DISPUTE = "neighbour_dispute"
    PARKING = "parking"
    SECURITY = "security"
    FACILITIES = "facilities"
    OTHER = "other"


class ComplaintChannel(enum.Enum):
    PHONE = "phone"
    WALK_IN = "walk_in"
    APP = "app"  # an owner's own report by QR code


class ComplaintStatus(enum.Enum):
    OPEN = "open"  # registered; waiting for the investigation on site
    INVESTIGATED = "investigated"  # the steward has been on site
    REPLIED = "replied"  # the owner has been told
    CLOSED = "closed"  # with its cause


class Complaint(db.Model):
    __tablename__ = "complaint"
    __table_args__ = (
        sa.Index("ix_complaint_estate_status_due", "estate_id", "status", "due_at"),
        sa.Index("ix_complaint_estate_created", "estate_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)  # names its photos
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)  # TS-20261207-0003
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id"))
    entrance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrance.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    public_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("public_area.id"))
    place_text: Mapped[str] = mapped_column(sa.String(200), default="")
    category: Mapped[ComplaintCategory] = mapped_column(str_enum(ComplaintCategory))
    channel: Mapped[ComplaintChannel] = mapped_column(str_enum(ComplaintChannel))
    complainant_name: Mapped[str] = mapped_column(sa.String(120), default="")
    complainant_phone: Mapped[str] = mapped_column(sa.String(32), default="")
    description: Mapped[str] = mapped_column(sa.String(1000))
    expectation: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[ComplaintStatus] = mapped_column(str_enum(ComplaintStatus), default=ComplaintStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    investigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    investigated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    investigation: Mapped[str] = mapped_column(sa.String(1000), default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(sa.String(1000), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(sa.String(500), default="")

    estate: Mapped[Estate] = relationship()
    building: Mapped[Building | None] = relationship()
    entrance: Mapped[Entrance | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    public_area: Mapped[PublicArea | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    investigated_by: Mapped[User | None] = relationship(foreign_keys=[investigated_by_id])
    events: Mapped[list["ComplaintEvent"]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status is not ComplaintStatus.CLOSED

    @property
    def place_label(self) -> str:
        label = place_words(
            building=self.building.name if self.building else None,
            room=self.unit.room_number if self.unit else None,
            area=self.public_area.name if self.public_area else None,
            entrance=self.entrance.name if self.entrance else None, fallback=self.estate.name)
        return f"{label} · {self.place_text}" if self.place_text else label


class ComplaintEvent(db.Model):
    """Who did what to a complaint, when: never edited."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))  # registered, investigated, replied, closed, reopened …
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


class ComplaintInvestigation(db.Model):
    """The steward's investigation on site (現場調查) of a complaint, made on the phone (maybe
    offline) and stored exactly once by its UUID; its photos name the investigation's UUID.
    Kept even when the complaint had moved on (`applied` False), so nothing done on site is lost."""

    __tablename__ = "complaint_investigation"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(sa.String(1000))
    photo_uuids: Mapped[list] = mapped_column(sa.JSON, default=list)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied: Mapped[bool] = mapped_column(default=True)  # False: the complaint was no longer open
    content_sha256: Mapped[str] = mapped_column(sa.String(64))

    complaint: Mapped[Complaint] = relationship()
    by: Mapped[User] = relationship()


class ComplaintTarget(db.Model):
    """An estate's own target time for one category (defaults in app/complaints/operations.py)."""

    __tablename__ = "complaint_target"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[ComplaintCategory] = mapped_column(str_enum(ComplaintCategory), primary_key=True)
    hours: Mapped[int]


class ComplaintCounter(db.Model):
    """The last complaint number given out on a day (TS-YYYYMMDD-NNNN)."""

    __tablename__ = "complaint_counter"

    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class VisitPlan(db.Model):
    """An estate's return-visit plan (回訪): complaints within `complaint_days` of closing (all of
    them), unit repairs by a share in percent, chosen at random."""

    __tablename__ = "visit_plan"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), primary_key=True)
    complaint_days: Mapped[int] = mapped_column(default=3)
    repair_share: Mapped[int] = mapped_column(default=30)
    # Closed repairs up to here have been drawn from (the next draw starts after it).
    repairs_drawn_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReturnVisit(db.Model):
    """One planned return visit: of a complaint or of a repair ticket; done with a grade and words."""

    __tablename__ = "return_visit"
    __table_args__ = (
        sa.Index("ix_return_visit_estate_done_due", "estate_id", "done_at", "due_at"),
        sa.UniqueConstraint("complaint_id", "round_no", name="uq_return_visit_complaint_round"),
        sa.UniqueConstraint("ticket_id", "round_no", name="uq_return_visit_ticket_round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_ticket.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(default=1)  # a reopened record is visited again
    reason: Mapped[str] = mapped_column(sa.String(24))  # complaint, drawn, after_c, owner
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    by_owner: Mapped[bool] = mapped_column(default=False)  # the owner's own rating on the status link
    grade: Mapped[str | None] = mapped_column(sa.String(1))  # A 滿意 / B 較滿意 / C 不滿意
    words: Mapped[str] = mapped_column(sa.String(1000), default="")

    estate: Mapped[Estate] = relationship()
    complaint: Mapped[Complaint | None] = relationship()
    ticket: Mapped[RepairTicket | None] = relationship()
    by: Mapped[User | None] = relationship()
