"""What the complaint pages read: the desk's list, the late ones, the records of the same place,
and the steward's investigations."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Complaint,
    ComplaintStatus,
    Finding,
    FindingResult,
    RepairTicket,
    Role,
    Round,
    Unit,
    User,
    Violation,
)
from .operations import visible_complaints

PLACE_LOADS = tuple(selectinload(getattr(Complaint, name))
                    for name in ("estate", "building", "unit", "public_area", "entrance"))
PAGE = 100
SAME_PLACE_DAYS = 90


def complaint_list(session: Session, user: User, status: str = "open", before: int | None = None,
                   limit: int = PAGE) -> tuple[list[Complaint], int | None]:
    """Newest first; "open" (default), "closed" or "all"; paged by id."""
    query = visible_complaints(user)
    if status == "open":
        query = query.where(Complaint.status != ComplaintStatus.CLOSED)
    elif status == "closed":
        query = query.where(Complaint.status == ComplaintStatus.CLOSED)
    if before:
        query = query.where(Complaint.id < before)
    rows = list(session.scalars(query.order_by(Complaint.id.desc()).limit(limit + 1).options(*PLACE_LOADS)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def late_complaints(session: Session, user: User, now: datetime | None = None, limit: int = 200) -> list[Complaint]:
    """Open complaints past their target time, most late first (the supervisor's list)."""
    now = now or datetime.now(timezone.utc)
    query = (visible_complaints(user).where(Complaint.status != ComplaintStatus.CLOSED, Complaint.due_at < now)
             .order_by(Complaint.due_at, Complaint.id).limit(limit).options(*PLACE_LOADS))
    return list(session.scalars(query))


def investigations_for(session: Session, steward: User, limit: int = 50) -> list[Complaint]:
    """The complaints of the steward's places waiting for their investigation on site, oldest first."""
    if steward.role is not Role.STEWARD:
        return []
    query = (visible_complaints(steward).where(Complaint.status == ComplaintStatus.OPEN)
             .order_by(Complaint.due_at, Complaint.id).limit(limit).options(*PLACE_LOADS))
    return list(session.scalars(query))


@dataclass(frozen=True)
class SamePlace:
    tickets: list[RepairTicket]
    findings: list[Finding]
    violations: list[Violation]


def same_place(session: Session, complaint: Complaint, days: int = SAME_PLACE_DAYS) -> SamePlace:
    """Verify against the records (核實): the repair tickets, round findings (defects) and decoration
    violations of the same place over the last `days` days. A unit: that unit; a stairwell: its
    tickets, findings and its units' violations; a public area: that area; else the building."""
    since = complaint.created_at - timedelta(days=days)
    t, f = RepairTicket, Finding
    if complaint.unit_id:
        t_where, f_where = [t.unit_id == complaint.unit_id], [f.unit_id == complaint.unit_id]
        v_where = [Violation.unit_id == complaint.unit_id]
    elif complaint.entrance_id:
        t_where, f_where = [t.entrance_id == complaint.entrance_id], [f.entrance_id == complaint.entrance_id]
        v_where = [Violation.unit_id.in_(sa.select(Unit.id).where(Unit.entrance_id == complaint.entrance_id))]
    elif complaint.public_area_id:
        t_where, f_where = [t.public_area_id == complaint.public_area_id], [f.public_area_id == complaint.public_area_id]
        v_where = [sa.false()]
    elif complaint.building_id:
        t_where = [t.building_id == complaint.building_id]
        f_where = [f.round_id.in_(sa.select(Round.id).where(Round.building_id == complaint.building_id,
                                                            Round.estate_id == complaint.estate_id))]
        v_where = [Violation.unit_id.in_(sa.select(Unit.id).where(Unit.building_id == complaint.building_id))]
    else:
        return SamePlace([], [], [])
    tickets = list(session.scalars(
        sa.select(t).where(t.estate_id == complaint.estate_id, t.created_at >= since, *t_where)
        .order_by(t.created_at.desc()).limit(20)))
    findings = list(session.scalars(
        sa.select(f).join(Round).where(Round.estate_id == complaint.estate_id, f.result == FindingResult.DEFECT,
                                       f.recorded_at >= since, *f_where)
        .order_by(f.recorded_at.desc()).limit(20).options(selectinload(f.item), selectinload(f.round))))
    violations = list(session.scalars(
        sa.select(Violation).where(Violation.estate_id == complaint.estate_id, Violation.found_at >= since, *v_where)
        .order_by(Violation.found_at.desc()).limit(20)))
    return SamePlace(tickets, findings, violations)
