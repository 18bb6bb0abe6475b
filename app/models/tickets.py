"""Repair tickets (工程維修單) and their event log."""
from __future__ import annotations

import enum
from datetime import date, datetime


import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow
from .checklists import DefectRoute, Urgency
from .people import User
from .places import Estate, Unit


class TicketStatus(enum.Enum):
    NEW = "new"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    REPAIRED = "repaired"  # waiting for the check on site (public) or the return visit (unit)
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TicketChannel(enum.Enum):
    ROUND = "round"  # found on a steward's round
    PHONE = "phone"
    WALK_IN = "walk_in"
    APP = "app"


class RepairTicket(db.Model):
    __tablename__ = "repair_ticket"
    __table_args__ = (sa.Index("ix_repair_ticket_open_place", "estate_id", "item_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)  # WX-20261126-0007
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    # Where, as the finding recorded it (all empty: the estate itself).
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id"))
    entrance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrance.id"))
    floor: Mapped[int | None]
    public_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("public_area.id"))
    asset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("asset.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    meter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meter.id"))
    item_code: Mapped[str | None] = mapped_column(sa.String(48))  # stable across checklist versions
    channel: Mapped[TicketChannel] = mapped_column(str_enum(TicketChannel))
    route: Mapped[DefectRoute] = mapped_column(str_enum(DefectRoute))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency))
    # A unit repair gets a return visit (回訪); a public one is checked on site.
    is_unit_repair: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(sa.String(1000))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.NEW, index=True)
    recurrences: Mapped[int] = mapped_column(default=0)  # seen again on later rounds while open
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    estate: Mapped[Estate] = relationship()
    unit: Mapped[Unit | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status not in (TicketStatus.CLOSED, TicketStatus.CANCELLED)


class TicketEvent(db.Model):
    """Who did what to a ticket, when: the ticket's history, never edited."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("repair_ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))  # opened, seen_again, dispatched, …
    from_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    to_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    ticket: Mapped[RepairTicket] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


class TicketCounter(db.Model):
    """The last ticket number given out on a day (numbers are per day: WX-YYYYMMDD-NNNN)."""

    __tablename__ = "ticket_counter"

    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)





class TicketClock(db.Model):
    """An estate's own target times for one urgency (defaults in app/tickets.py: DEFAULT_CLOCKS)."""

    __tablename__ = "ticket_clock"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), primary_key=True)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), primary_key=True)
    on_site_minutes: Mapped[int | None]
    done_minutes: Mapped[int]
