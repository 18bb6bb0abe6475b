"""Who hears of decoration's events (app/notices): a gate's material request reaches the stewards
of the unit at once; a request escalated by the desk, or refused and not settled with the owner
within a day (the overdue sweep, once), and a violation escalated at its re-check reach the
supervisors of the unit."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..models import MaterialRequest, MaterialStatus, NoticeKind, Role, Violation
from ..notices import operations as notices
from .base import MATERIAL_SETTLE_HOURS


def material_requested(session: Session, request: MaterialRequest, now: datetime) -> None:
    unit = request.unit
    stewards = notices.staff_covering(session, [Role.STEWARD], request.estate_id, unit.building, now)
    notices.notify_all(session, stewards, NoticeKind.GATE_REQUEST, estate_id=request.estate_id,
                       link=notices.link_to("rounds.today") + "#materials", now=now,
                       place=unit.label, text=request.materials)


def material_escalated(session: Session, request: MaterialRequest, now: datetime) -> None:
    unit = request.unit
    supervisors = notices.staff_covering(session, [Role.SUPERVISOR], request.estate_id, unit.building, now)
    notices.notify_all(session, supervisors, NoticeKind.ESCALATION, estate_id=request.estate_id,
                       link=notices.link_to("decoration.escalations"), now=now, subject="material",
                       place=unit.label, text=request.resolution_note or request.materials)


def violation_escalated(session: Session, violation: Violation, now: datetime) -> None:
    unit = violation.unit
    supervisors = notices.staff_covering(session, [Role.SUPERVISOR], violation.estate_id, unit.building, now)
    notices.notify_all(session, supervisors, NoticeKind.ESCALATION, estate_id=violation.estate_id,
                       link=notices.link_to("decoration.violation", violation_id=violation.id), now=now,
                       number=violation.notice_number or "", place=unit.label, text=violation.summary)


def unsettled(session: Session, now: datetime) -> int:
    """The sweep: a refused request not settled with the owner within a day goes up, once."""
    due = now - timedelta(hours=MATERIAL_SETTLE_HOURS)
    made = 0
    for request in session.scalars(sa.select(MaterialRequest).where(
            MaterialRequest.status == MaterialStatus.REFUSED, MaterialRequest.decided_at <= due,
            MaterialRequest.decided_at >= due - notices.FRESHLY_LATE).order_by(MaterialRequest.id)
            .options(selectinload(MaterialRequest.unit))):
        unit = request.unit
        supervisors = notices.staff_covering(session, [Role.SUPERVISOR], request.estate_id, unit.building, now)
        made += len(notices.notify_all(session, supervisors, NoticeKind.ESCALATION, estate_id=request.estate_id,
                                       link=notices.link_to("decoration.escalations"), key=f"material-unsettled:{request.id}",
                                       now=now, subject="material", place=unit.label, text=request.reason or request.materials))
    return made


@notices.overdue_sweep.connect
def _unsettled_materials(session: Session, *, now: datetime) -> int:
    return unsettled(session, now)
