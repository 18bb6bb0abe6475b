"""Reading tickets for the desk's pages: the filtered list in keyset pages, the tickets a ticket may
be merged into, and the lookups by number, room and finding that the forms name."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import (
    Building,
    DefectRoute,
    Finding,
    RepairTicket,
    TicketChannel,
    TicketStatus,
    Unit,
    Urgency,
    User,
)
from ..guard import record_id
from ..refusals import Refusal
from . import tickets

PAGE_SIZE = 50
MERGE_CHOICES = 30
CLOSED = (TicketStatus.CLOSED, TicketStatus.CANCELLED)


class FilterError(Refusal):
    """A filter value the list does not know (a status, route or urgency not among its choices)."""

    status = 400


@dataclass(frozen=True)
class TicketFilter:
    """The ticket list's filters, as the page's query string gives them."""

    status: str = "open"  # "open", "all", or one TicketStatus value
    route: DefectRoute | None = None
    urgency: Urgency | None = None
    number: str = ""  # a part of the ticket number
    before: int | None = None  # keyset: tickets older than this id
    source: str = ""  # "round" (found on a round), "report" (phone, walk-in, app) or "" (both)
    follow_up: str = ""  # "check" (a public repair checked on site), "visit" (a unit repair's return visit)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TicketFilter:
        status = args.get("status") or "open"
        if status not in ("open", "all") and status not in {s.value for s in TicketStatus}:
            raise FilterError(_l("Choose one of the listed values."))
        try:
            route = DefectRoute(args["route"]) if args.get("route") else None
            urgency = Urgency(args["urgency"]) if args.get("urgency") else None
        except ValueError:
            raise FilterError(_l("Choose one of the listed values.")) from None
        raw_before = (args.get("before") or "").strip()
        try:
            before = record_id(raw_before) if raw_before else None
        except ValueError:
            before = None  # a damaged page link: the first page
        source, follow_up = args.get("source") or "", args.get("follow_up") or ""
        if source not in SOURCES or follow_up not in FOLLOW_UPS:
            raise FilterError(_l("Choose one of the listed values."))
        return cls(status, route, urgency, (args.get("q") or "").strip().upper(), before, source, follow_up)


SOURCES = {"": None, "round": [TicketChannel.ROUND], "report": sorted(tickets.INTAKE_CHANNELS | {TicketChannel.APP},
                                                                   key=lambda c: c.value)}
FOLLOW_UPS = {"": None, "check": False, "visit": True}  # is_unit_repair


@dataclass(frozen=True)
class TicketPage:
    tickets: list[RepairTicket]
    next_before: int | None  # the cursor of the next page, None on the last


def ticket_page(session: Session, user: User, flt: TicketFilter, limit: int = PAGE_SIZE) -> TicketPage:
    """Tickets the user may see, newest first, filtered; engineering sees only its own team's."""
    query = filtered(user, flt)
    if flt.before:
        query = query.where(RepairTicket.id < flt.before)
    rows = list(session.scalars(query.order_by(RepairTicket.id.desc()).limit(limit + 1)
                                .options(*tickets.PLACE_LOADS)))
    return TicketPage(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


def count(session: Session, user: User, flt: TicketFilter) -> int:
    """How many tickets the list shows for this filter (the landing pages' figures: one rule)."""
    return session.scalar(sa.select(sa.func.count()).select_from(filtered(user, flt).subquery()))


def filtered(user: User, flt: TicketFilter):  # noqa: ANN201 - a Select
    query = tickets.visible_tickets(user)
    if flt.status == "open":
        query = query.where(RepairTicket.status.not_in(CLOSED))
    elif flt.status != "all":
        query = query.where(RepairTicket.status == TicketStatus(flt.status))
    if flt.route is not None:
        query = query.where(RepairTicket.route == flt.route)
    if flt.urgency is not None:
        query = query.where(RepairTicket.urgency == flt.urgency)
    if flt.number:
        query = query.where(RepairTicket.number.contains(flt.number))
    if SOURCES[flt.source] is not None:
        query = query.where(RepairTicket.channel.in_(SOURCES[flt.source]))
    if FOLLOW_UPS[flt.follow_up] is not None:
        query = query.where(RepairTicket.is_unit_repair == FOLLOW_UPS[flt.follow_up])
    return query


def merge_choices(session: Session, user: User, ticket: RepairTicket) -> list[RepairTicket]:
    """The open tickets of the same estate this one may be merged into (the office only)."""
    if not ticket.is_open:
        return []
    return list(session.scalars(
        tickets.visible_tickets(user).where(
            RepairTicket.estate_id == ticket.estate_id, RepairTicket.id != ticket.id,
            RepairTicket.status.not_in(CLOSED))
        .order_by(RepairTicket.id.desc()).limit(MERGE_CHOICES)))


def ticket_by_number(session: Session, user: User, number: str) -> RepairTicket:
    """The ticket with this number, if the user may see it; else a refusal naming the number."""
    number = (number or "").strip().upper()
    target = session.scalars(sa.select(RepairTicket).where(RepairTicket.number == number)).first() if number else None
    if target is None or not tickets.may_see_ticket(user, target):
        raise tickets.TicketError(_l("There is no ticket %(number)s.", number=number or "—"))
    return target


def finding_on_ticket(session: Session, ticket: RepairTicket, finding_uuid: str) -> Finding:
    finding = session.scalars(sa.select(Finding).where(Finding.uuid == finding_uuid,
                                                       Finding.ticket_id == ticket.id)).first()
    if finding is None:
        raise tickets.TicketError(_l("This defect is not on this ticket."))
    return finding


def unit_by_room(session: Session, building: Building | None, room: str) -> Unit | None:
    """The unit a caller names by its room number; a refusal on the `room` field when there is none."""
    room = (room or "").strip()
    if not room:
        return None
    if building is None:
        message = _l("Choose the building of this room.")
        raise tickets.TicketError(message, {"room": [message]})
    unit = session.scalars(sa.select(Unit).where(Unit.building_id == building.id, Unit.room_number == room)).first()
    if unit is None:
        message = _l("There is no room %(room)s in %(building)s.", room=room, building=building.name)
        raise tickets.TicketError(message, {"room": [message]})
    return unit
