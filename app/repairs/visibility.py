"""Who sees which repair ticket, and the lists read through that rule: the supervisor's late tickets,
engineering's queue, the escalated return visits."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..models import (
    DefectRoute,
    RepairTicket,
    Role,
    TicketEvent,
    TicketStatus,
    Urgency,
    User,
)

# What a ticket's place_label reads, loaded with a list of tickets in one query each.
PLACE_LOADS = tuple(selectinload(getattr(RepairTicket, name)) for name in (
    "estate", "building", "unit", "public_area", "entrance", "asset", "meter"))


# Who sees which ticket: desk and supervisors the tickets of the places they cover (their
# buildings', and the estate's own if assigned estate-wide); engineering only its own team's (the
# engineering route) among those; stewards none here (their verification tasks come to the round).


def visible_tickets(user: User):  # noqa: ANN201 - a Select
    query = sa.select(RepairTicket).where(user.covered_places(RepairTicket.building_id, RepairTicket.estate_id))
    if user.role is Role.ENGINEERING:
        query = query.where(RepairTicket.route == DefectRoute.ENGINEERING)
    elif user.role not in (Role.DESK, Role.SUPERVISOR):
        query = query.where(sa.false())
    return query


def may_see_ticket(user: User, ticket: RepairTicket, when: datetime | None = None) -> bool:
    """Whether `user` may see `ticket` at `when` (default now: a cover for leave counts on its days)."""
    if not user.covers_place(ticket.estate_id, ticket.building, when):
        return False
    if user.role is Role.ENGINEERING:
        return ticket.route is DefectRoute.ENGINEERING
    if user.role is Role.STEWARD:  # the check on site of a public repair in their scope
        return not ticket.is_unit_repair
    return user.role in (Role.DESK, Role.SUPERVISOR)


def overdue_tickets(session: Session, user: User, now: datetime | None = None,
                    limit: int = 200) -> list[RepairTicket]:
    """Late tickets for the supervisor (上報): past their done time, not reached on site in time,
    or waiting past their return visit; most late first."""
    now = now or datetime.now(timezone.utc)
    working = [TicketStatus.NEW, TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS]
    late_work = sa.and_(RepairTicket.status.in_(working), sa.or_(
        RepairTicket.due_at < now,
        sa.and_(RepairTicket.on_site_due_at < now, RepairTicket.on_site_at.is_(None)),
    ))
    late_visit = sa.and_(RepairTicket.status == TicketStatus.REPAIRED, RepairTicket.visit_due_at < now)
    query = visible_tickets(user).where(sa.or_(late_work, late_visit)).order_by(
        sa.func.coalesce(RepairTicket.on_site_due_at, RepairTicket.due_at), RepairTicket.id).limit(limit)
    return list(session.scalars(query.options(*PLACE_LOADS)))


def engineering_queue(session: Session, user: User, limit: int = 200) -> list[RepairTicket]:
    """The team's open work on a phone: urgent first, then by due time."""
    urgency_order = sa.case((RepairTicket.urgency == Urgency.URGENT, 0), (RepairTicket.urgency == Urgency.NORMAL, 1),
                            else_=2)
    query = (visible_tickets(user)
             .where(RepairTicket.status.in_([TicketStatus.NEW, TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS]))
             .order_by(urgency_order, RepairTicket.due_at).limit(limit))
    return list(session.scalars(query.options(*PLACE_LOADS)))


def escalations(session: Session, user: User, since: datetime, limit: int = 50) -> list[TicketEvent]:
    """Return visits graded C (不滿意) since `since`: the supervisor is alerted."""
    query = (sa.select(TicketEvent).join(RepairTicket)
             .where(RepairTicket.id.in_(visible_tickets(user).with_only_columns(RepairTicket.id)),
                    TicketEvent.kind == "return_visit", TicketEvent.data["grade"].as_string() == "C",
                    TicketEvent.at >= since)
             .order_by(TicketEvent.at.desc()).limit(limit))
    return list(session.scalars(query))  # the grade in the query: the limit counts C visits only
