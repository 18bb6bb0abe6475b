"""Who hears of decoration's events (app/notices): a gate's material request reaches the stewards
of the unit at once; a request escalated by the desk reaches the supervisors of the unit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import MaterialRequest, NoticeKind, Role
from ..notices import operations as notices


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
                       link=notices.link_to("gate.requests"), now=now, subject="material",
                       place=unit.label, text=request.resolution_note or request.materials)
