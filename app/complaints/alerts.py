"""Who hears of complaints' events (app/notices): a complaint registered (or reopened) reaches the
stewards of its place, who investigate it on site; one past its target time reaches the
supervisors, once (the overdue sweep)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from ..models import Complaint, ComplaintStatus, NoticeKind, Role
from ..notices import operations as notices


def _words(complaint: Complaint) -> dict:
    return {"number": complaint.number, "place": complaint.place_label, "text": complaint.description}


def assigned(session: Session, complaint: Complaint, now: datetime | None = None) -> None:
    session.flush()
    stewards = notices.staff_covering(session, [Role.STEWARD], complaint.estate_id, complaint.building, now)
    notices.notify_all(session, stewards, NoticeKind.COMPLAINT_ASSIGNED, estate_id=complaint.estate_id,
                       link=notices.link_to("complaints.investigate", complaint_id=complaint.id), now=now,
                       **_words(complaint))


def reopened(complaint: Complaint, now: datetime | None = None) -> None:
    session = object_session(complaint)
    if session is not None:
        assigned(session, complaint, now)


def overdue(session: Session, now: datetime) -> int:
    made = 0
    late = sa.select(Complaint).where(Complaint.status != ComplaintStatus.CLOSED, Complaint.due_at < now,
                                      Complaint.due_at >= now - notices.FRESHLY_LATE).order_by(Complaint.id)
    for complaint in session.scalars(late):
        supervisors = notices.staff_covering(session, [Role.SUPERVISOR], complaint.estate_id, complaint.building, now)
        key = f"complaint-late:{complaint.id}:{int(complaint.due_at.astimezone(timezone.utc).timestamp())}"
        made += len(notices.notify_all(session, supervisors, NoticeKind.WORK_OVERDUE, estate_id=complaint.estate_id,
                                       link=notices.link_to("complaints.detail", complaint_id=complaint.id), key=key,
                                       now=now, subject="complaint", **_words(complaint)))
    return made


@notices.overdue_sweep.connect
def _overdue_complaints(session: Session, *, now: datetime) -> int:
    return overdue(session, now)
