"""Who hears of repairs' events (app/notices): a ticket dispatched to engineering reaches the
engineers of its place; a repaired public ticket, the stewards who check it on site; a return visit
graded C, the supervisors; and a ticket past its time, the supervisors once per deadline (the
overdue sweep)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session, selectinload

from ..models import DefectRoute, NoticeKind, RepairTicket, Role, TicketStatus
from ..notices import operations as notices



def _ticket_notice(ticket: RepairTicket, roles: list[Role], kind: NoticeKind, endpoint: str, now: datetime | None,
                   **extra) -> None:  # noqa: ANN003
    session = object_session(ticket)
    if session is None:
        return
    session.flush()
    people = notices.staff_covering(session, roles, ticket.estate_id, ticket.building, now)
    notices.notify_all(session, people, kind, estate_id=ticket.estate_id,
                       link=notices.link_to(endpoint, **({"ticket_id": ticket.id} if endpoint == "tickets.detail" else {})),
                       now=now, number=ticket.number, place=ticket.place_label, text=ticket.description, **extra)


def dispatched(ticket: RepairTicket, now: datetime | None = None) -> None:
    """Engineering's tickets reach the engineers (the other teams have no accounts: they are called)."""
    if ticket.route is DefectRoute.ENGINEERING:
        _ticket_notice(ticket, [Role.ENGINEERING], NoticeKind.TICKET_DISPATCHED, "tickets.detail", now)


def check_due(ticket: RepairTicket, now: datetime | None = None) -> None:
    """A repaired public ticket waits for the steward's check on site (on their today page)."""
    if not ticket.is_unit_repair:
        _ticket_notice(ticket, [Role.STEWARD], NoticeKind.REPAIR_CHECK_DUE, "rounds.today", now)


def graded_c(ticket: RepairTicket, now: datetime | None = None) -> None:
    """A return visit (or an owner's rating) graded C: the supervisor is alerted."""
    _ticket_notice(ticket, [Role.SUPERVISOR], NoticeKind.ESCALATION, "tickets.detail", now, subject="visit")


def _deadline(ticket: RepairTicket, now: datetime) -> datetime | None:
    """The deadline this ticket has passed (the return visit's, the on-site time's or its done time)."""
    if ticket.status is TicketStatus.REPAIRED:
        return ticket.visit_due_at if ticket.visit_due_at and ticket.visit_due_at < now else None
    if ticket.on_site_due_at and ticket.on_site_at is None and ticket.on_site_due_at < now and ticket.due_at >= now:
        return ticket.on_site_due_at
    return ticket.due_at if ticket.due_at < now else None


def overdue(session: Session, now: datetime) -> int:
    """The sweep: each ticket freshly past a deadline reaches its supervisors, once per deadline."""
    since = now - notices.FRESHLY_LATE
    working = [TicketStatus.NEW, TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS]
    late = sa.or_(
        sa.and_(RepairTicket.status.in_(working), RepairTicket.due_at < now, RepairTicket.due_at >= since),
        sa.and_(RepairTicket.status.in_(working), RepairTicket.on_site_at.is_(None),
                RepairTicket.on_site_due_at < now, RepairTicket.on_site_due_at >= since),
        sa.and_(RepairTicket.status == TicketStatus.REPAIRED, RepairTicket.visit_due_at < now,
                RepairTicket.visit_due_at >= since),
    )
    made = 0
    people_of: dict[tuple, list] = {}
    for ticket in session.scalars(sa.select(RepairTicket).where(late).order_by(RepairTicket.id)
                                  .options(selectinload(RepairTicket.building))):
        deadline = _deadline(ticket, now)
        if deadline is None:
            continue
        place = (ticket.estate_id, ticket.building_id)
        if place not in people_of:
            people_of[place] = notices.staff_covering(session, [Role.SUPERVISOR], ticket.estate_id, ticket.building, now)
        key = f"ticket-late:{ticket.id}:{int(deadline.astimezone(timezone.utc).timestamp())}"
        made += len(notices.notify_all(session, people_of[place], NoticeKind.WORK_OVERDUE, estate_id=ticket.estate_id,
                                       link=notices.link_to("tickets.detail", ticket_id=ticket.id), key=key, now=now,
                                       subject="ticket", number=ticket.number, place=ticket.place_label,
                                       text=ticket.description))
    return made


@notices.overdue_sweep.connect
def _overdue_tickets(session: Session, *, now: datetime) -> int:
    return overdue(session, now)
