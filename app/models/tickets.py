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
from .places import (
    Asset,
    Building,
    Entrance,
    Estate,
    Meter,
    PublicArea,
    Unit,
    place_words,
)


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


class TeamKind(enum.Enum):
    """What a team does: the manual routes hygiene to the cleaners, repairs to engineering, and
    what neither can do to an outside party (the elevator company, a utility)."""

    ENGINEERING = "engineering"  # 工程部
    CLEANING = "cleaning"  # 保潔
    GREENING = "greening"  # 綠化
    OUTSIDE_PARTY = "outside_party"  # 外部單位: elevator maintenance, utilities, municipal


# The tickets each kind of team takes: a ticket dispatched to a team goes that team's way.
ROUTE_OF_TEAM = {
    TeamKind.ENGINEERING: DefectRoute.ENGINEERING,
    TeamKind.CLEANING: DefectRoute.CLEANING,
    TeamKind.GREENING: DefectRoute.CLEANING,  # greenery is kept by the estate's environment side, as hygiene is
    TeamKind.OUTSIDE_PARTY: DefectRoute.OUTSIDE_PARTY,
}


class Team(db.Model):
    """A team of an estate that repair tickets are dispatched to, with the number to call."""

    __tablename__ = "team"
    __table_args__ = (sa.UniqueConstraint("estate_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    kind: Mapped[TeamKind] = mapped_column(str_enum(TeamKind))
    phone: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    estate: Mapped[Estate] = relationship()

    @property
    def route(self) -> DefectRoute:
        return ROUTE_OF_TEAM[self.kind]


class RepairTicket(db.Model):
    __tablename__ = "repair_ticket"
    __table_args__ = (
        sa.Index("ix_repair_ticket_open_place", "estate_id", "item_code", "status"),
        sa.Index("ix_repair_ticket_estate_status_due", "estate_id", "status", "due_at"),
        # The summaries read an estate's tickets of one period: keep that flat as years go by.
        sa.Index("ix_repair_ticket_estate_created", "estate_id", "created_at"),
        sa.Index("ix_repair_ticket_estate_repaired", "estate_id", "repaired_at"),
        sa.Index("ix_repair_ticket_estate_closed", "estate_id", "closed_at"),
    )

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
    # A phone or walk-in report (desk intake): who reported it, where in their words, what they expect.
    reporter_name: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    reporter_phone: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    place_text: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    expectation: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    # Where the work stands: who it went to, when someone was on site, when it was repaired.
    dispatched_to: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id"))  # the team it was dispatched to
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_site_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_site_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A ticket merged into another stays as a closed pointer to it.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_ticket.id"))

    estate: Mapped[Estate] = relationship()
    building: Mapped[Building | None] = relationship()
    entrance: Mapped[Entrance | None] = relationship()
    public_area: Mapped[PublicArea | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    meter: Mapped[Meter | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    team: Mapped[Team | None] = relationship()
    merged_into: Mapped["RepairTicket | None"] = relationship(remote_side=[id])
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    findings: Mapped[list["Finding"]] = relationship(back_populates="ticket", order_by="Finding.id")  # noqa: F821
    after_photos: Mapped[list["Photo"]] = relationship(order_by="Photo.id")  # noqa: F821

    @property
    def is_open(self) -> bool:
        return self.status not in (TicketStatus.CLOSED, TicketStatus.CANCELLED)

    @property
    def place(self) -> tuple:
        """Where, in the order of Finding.place."""
        return (self.entrance_id, self.floor, self.public_area_id, self.asset_id, self.unit_id, self.meter_id)

    @property
    def place_label(self) -> str:
        label = place_words(
            building=self.building.name if self.building else None,
            room=self.unit.room_number if self.unit else None,
            area=self.public_area.name if self.public_area else None,
            asset=self.asset.name if self.asset else None,
            entrance=self.entrance.name if self.entrance else None, floor=self.floor,
            meter=self.meter.serial if self.meter else None, fallback=self.estate.name,
        )
        return f"{label} · {self.place_text}" if self.place_text else label


class TicketEvent(db.Model):
    """Who did what to a ticket, when: the ticket's history, never edited."""

    __tablename__ = "ticket_event"
    # Recent return visits graded C (the supervisor's list) and the period's grades (summaries).
    __table_args__ = (sa.Index("ix_ticket_event_kind_at", "kind", "at"),)

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


class TicketVerification(db.Model):
    """A steward's check on site of a repaired public ticket, sent from the phone (maybe offline).

    Stored exactly once by its UUID; applied to the ticket if it is still waiting for the check."""

    __tablename__ = "ticket_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("repair_ticket.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    passed: Mapped[bool]
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    photo_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied: Mapped[bool] = mapped_column(default=True)  # False: the ticket had moved on already
    content_sha256: Mapped[str] = mapped_column(sa.String(64))

    ticket: Mapped[RepairTicket] = relationship()
    by: Mapped[User] = relationship()


class TicketClock(db.Model):
    """An estate's own target times for one urgency (defaults in app/repairs/tickets.py: DEFAULT_CLOCKS)."""

    __tablename__ = "ticket_clock"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), primary_key=True)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), primary_key=True)
    on_site_minutes: Mapped[int | None]
    done_minutes: Mapped[int]
