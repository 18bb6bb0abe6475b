"""Return visits (回訪, manual 六) as a plan: every closed complaint within the plan's days, a share
of the closed unit repairs drawn at random (the repair after one graded C always), the desk's list
of visits due, the call recorded with a grade A/B/C and the owner's words. A C reopens the
complaint or the ticket and reaches the supervisor. A repair's visit is the repairs domain's own
step (app/repairs/tickets.py: return_visit), reused here, not copied."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Complaint,
    Estate,
    RepairTicket,
    ReturnVisit,
    Role,
    TicketEvent,
    TicketStatus,
    User,
    VisitPlan,
)
from ..repairs import tickets
from . import operations
from .operations import ComplaintError, visit_plan

GRADES = ("A", "B", "C")
FIRST_DRAW_DAYS = 30  # the first draw of an estate looks back this far
_random = random.SystemRandom()


def set_plan(session: Session, estate: Estate, by: User, *, complaint_days: int, repair_share: int) -> VisitPlan:
    if by.role is not Role.SUPERVISOR or estate.id not in by.whole_estate_ids:
        raise ComplaintError(_l("This estate does not exist or is not yours."))
    if not 1 <= complaint_days <= 30:
        raise ComplaintError(_l("A complaint's return visit is due between 1 and 30 days after closing."))
    if not 0 <= repair_share <= 100:
        raise ComplaintError(_l("The share of repairs is a percentage between 0 and 100."))
    plan = session.get(VisitPlan, estate.id) or VisitPlan(estate_id=estate.id)
    plan.complaint_days, plan.repair_share = complaint_days, repair_share
    session.add(plan)
    return plan


def _graded_c_before(session: Session, ticket: RepairTicket) -> bool:
    """Whether the unit's previous repair got a C (by its own visit or a planned one)."""
    previous = session.scalars(
        sa.select(RepairTicket.id).where(RepairTicket.unit_id == ticket.unit_id, RepairTicket.id < ticket.id)
        .order_by(RepairTicket.id.desc()).limit(1)).first()
    if previous is None:
        return False
    by_event = session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == previous, TicketEvent.kind == "return_visit",
        TicketEvent.data["grade"].as_string() == "C"))
    return bool(by_event)


def draw_repairs(session: Session, estate: Estate, now: datetime | None = None,
                 rng: random.Random | None = None) -> list[ReturnVisit]:
    """Draw the estate's unit repairs closed since the last draw: each with the plan's share of
    chance, and always the one after a repair graded C. Each closed repair is drawn from once."""
    now = now or datetime.now(timezone.utc)
    rng = rng or _random
    plan = session.get(VisitPlan, estate.id)
    if plan is None:
        plan = visit_plan(session, estate.id)
        session.add(plan)
    since = plan.repairs_drawn_until or now - timedelta(days=FIRST_DRAW_DAYS)
    closed = session.scalars(
        sa.select(RepairTicket).where(RepairTicket.estate_id == estate.id, RepairTicket.is_unit_repair.is_(True),
                                      RepairTicket.status == TicketStatus.CLOSED, RepairTicket.closed_at > since,
                                      RepairTicket.closed_at <= now)
        .order_by(RepairTicket.closed_at, RepairTicket.id))
    planned = []
    for ticket in closed:
        if session.scalar(sa.select(ReturnVisit.id).where(ReturnVisit.ticket_id == ticket.id).limit(1)):
            continue
        after_c = ticket.unit_id is not None and _graded_c_before(session, ticket)
        if not after_c and rng.random() * 100 >= plan.repair_share:
            continue
        visit = ReturnVisit(estate_id=estate.id, ticket=ticket, ticket_id=ticket.id, round_no=1, reason="after_c" if after_c else "drawn",
                            planned_at=now, due_at=now + timedelta(days=plan.complaint_days))
        session.add(visit)
        planned.append(visit)
    plan.repairs_drawn_until = now
    return planned


def _visible(user: User):  # noqa: ANN202
    complaints = operations.visible_complaints(user).with_only_columns(Complaint.id)
    ticket_ids = tickets.visible_tickets(user).with_only_columns(RepairTicket.id)
    return sa.or_(ReturnVisit.complaint_id.in_(complaints), ReturnVisit.ticket_id.in_(ticket_ids))


@dataclass(frozen=True)
class Due:
    planned: list[ReturnVisit]
    repairs_waiting: list[RepairTicket]  # unit repairs waiting for their own return visit step


def visits_due(session: Session, user: User, limit: int = 200) -> Due:
    """The desk's list: planned visits not done yet (soonest due first), and the unit repairs that
    wait for their own return visit before they close."""
    planned = list(session.scalars(
        sa.select(ReturnVisit).where(ReturnVisit.done_at.is_(None), _visible(user))
        .order_by(ReturnVisit.due_at, ReturnVisit.id).limit(limit)
        .options(selectinload(ReturnVisit.complaint), selectinload(ReturnVisit.ticket),
                 selectinload(ReturnVisit.estate))))
    waiting = list(session.scalars(
        tickets.visible_tickets(user).where(RepairTicket.status == TicketStatus.REPAIRED,
                                            RepairTicket.is_unit_repair.is_(True))
        .order_by(RepairTicket.visit_due_at, RepairTicket.id).limit(limit).options(*tickets.PLACE_LOADS)))
    return Due(planned, waiting)


def graded_c(session: Session, user: User, since: datetime, limit: int = 50) -> list[ReturnVisit]:
    """Planned visits graded C since `since`: the supervisor's list."""
    return list(session.scalars(
        sa.select(ReturnVisit).where(ReturnVisit.grade == "C", ReturnVisit.done_at >= since, _visible(user))
        .order_by(ReturnVisit.done_at.desc()).limit(limit)))


def may_record(user: User, visit: ReturnVisit) -> bool:
    if user.role not in (Role.DESK, Role.SUPERVISOR):
        return False
    if visit.complaint is not None:
        return operations.may_see(user, visit.complaint)
    return visit.ticket is not None and tickets.may_see_ticket(user, visit.ticket)


def record(session: Session, visit: ReturnVisit, by: User | None, *, grade: str, words: str = "",
           now: datetime | None = None) -> None:
    """The call, recorded: a grade and the owner's words. C reopens the complaint or the ticket
    (the ticket by repairs' own return visit step) and reaches the supervisor. `by` None: the
    owner's own rating on the status link."""
    now = now or datetime.now(timezone.utc)
    if visit.done_at is not None:
        raise ComplaintError(_l("This return visit is already recorded."))
    if grade not in GRADES:
        raise ComplaintError(_l("The grade is A, B or C."))
    if grade == "C" and not words.strip():
        raise ComplaintError(_l("Write down what the owner is not satisfied with."))
    visit.grade, visit.words = grade, words.strip()[:1000]
    visit.done_at, visit.by_id, visit.by_owner = now, by.id if by else None, by is None
    if visit.complaint is not None:
        operations.log_visit(visit.complaint, by, grade, words)
        if grade == "C":
            operations.reopen(visit.complaint, by, why=words.strip(), now=now)
    elif visit.ticket is not None:
        ticket = visit.ticket
        if ticket.is_unit_repair and ticket.status in (TicketStatus.REPAIRED, TicketStatus.CLOSED):
            tickets.return_visit(ticket, by, grade=grade, comment=words.strip(), now=now,
                                 later=ticket.status is TicketStatus.CLOSED)
        elif not ticket.is_unit_repair and by is None:
            tickets.owner_rating(ticket, grade=grade, comment=words.strip())
