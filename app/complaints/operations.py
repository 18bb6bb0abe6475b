"""Complaints (投訴, manual 五): registered by the desk at once, investigated on site by the steward
(a task on the today list), checked against the records of the same place, answered to the owner,
closed with a cause. Target times per category, set per estate; late ones go to the supervisor."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from ..models import (
    Building,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintCounter,
    ComplaintEvent,
    ComplaintInvestigation,
    ComplaintStatus,
    ComplaintTarget,
    Entrance,
    Estate,
    OwnerReport,
    Photo,
    PhotoStatus,
    PublicArea,
    ReturnVisit,
    Role,
    Unit,
    User,
    VisitPlan,
)
from ..refusals import Conflict
from ..rounds import schedule
from . import alerts
from .labels import STATUS

# Target times (hours) from registration to closing, per category; an estate sets its own.
DEFAULT_TARGET_HOURS = {
    ComplaintCategory.NOISE: 24,
    ComplaintCategory.HYGIENE: 24,
    ComplaintCategory.STAFF_CONDUCT: 72,
    ComplaintCategory.NEIGHBOUR_DISPUTE: 72,
    ComplaintCategory.PARKING: 24,
    ComplaintCategory.SECURITY: 12,
    ComplaintCategory.FACILITIES: 48,
    ComplaintCategory.OTHER: 72,
}
MAX_TARGET_HOURS = 24 * 30
MAX_PHOTOS = 3


class ComplaintError(Conflict):
    """A refused complaint action: a step its status does not allow, a value missing or wrong."""


def target_hours(session: Session, estate_id: int, category: ComplaintCategory) -> int:
    row = session.get(ComplaintTarget, (estate_id, category))
    return row.hours if row else DEFAULT_TARGET_HOURS[category]


def set_targets(session: Session, estate: Estate, by: User, hours: dict[ComplaintCategory, int]) -> None:
    """An estate's own target times, set by a supervisor of the whole estate; all checked first."""
    if by.role is not Role.SUPERVISOR or estate.id not in by.whole_estate_ids:
        raise ComplaintError(_l("This estate does not exist or is not yours."))
    for value in hours.values():
        if not 1 <= value <= MAX_TARGET_HOURS:
            raise ComplaintError(_l("Target times are between 1 hour and 30 days."))
    for category, value in hours.items():
        row = session.get(ComplaintTarget, (estate.id, category)) or ComplaintTarget(
            estate_id=estate.id, category=category)
        row.hours = value
        session.add(row)


def next_number(session: Session, estate: Estate, now: datetime) -> str:
    """TS-YYYYMMDD-NNNN, numbered per local day; safe with concurrent writers."""
    day = schedule.local_date(estate, now)
    counter = session.scalars(sa.select(ComplaintCounter).where(ComplaintCounter.day == day).with_for_update()).first()
    if counter is None:
        try:
            with session.begin_nested():
                counter = ComplaintCounter(day=day, last=0)
                session.add(counter)
        except IntegrityError:
            counter = session.scalars(sa.select(ComplaintCounter).where(ComplaintCounter.day == day)
                                      .with_for_update()).one()
    counter.last += 1
    return f"TS-{day:%Y%m%d}-{counter.last:04d}"


def _log(complaint: Complaint, kind: str, by: User | None, note: str = "", **data) -> None:
    event = ComplaintEvent(kind=kind, by_id=by.id if by else None, note=note[:1000], data=data)
    event.complaint = complaint
    session = object_session(complaint)
    if session is not None:
        session.add(event)


@dataclass(frozen=True)
class Registration:
    """A complaint as the desk takes it down: who, how reached, what, where, what they expect."""

    channel: ComplaintChannel
    category: ComplaintCategory
    complainant_name: str
    complainant_phone: str
    description: str
    expectation: str = ""
    building: Building | None = None
    entrance: Entrance | None = None
    unit: Unit | None = None
    public_area: PublicArea | None = None
    place_text: str = ""


def register(session: Session, by: User | None, estate: Estate, reg: Registration,
             now: datetime | None = None) -> Complaint:
    """Register a complaint at once and give it its number. `by` None: an owner's own report."""
    now = now or datetime.now(timezone.utc)
    if by is None and reg.channel is not ComplaintChannel.APP:
        raise ComplaintError(_l("Write down who took the complaint."))
    if by is not None and reg.channel is ComplaintChannel.APP:
        raise ComplaintError(_l("A complaint taken by the desk comes by phone or in person."))
    if by is not None and not reg.complainant_name.strip():
        raise ComplaintError(_l("Write down who complains."), {"complainant_name": [_l("Write down who complains.")]})
    if not reg.description.strip():
        raise ComplaintError(_l("Describe the complaint."), {"description": [_l("Describe the complaint.")]})
    if reg.unit is not None and reg.public_area is not None:
        raise ComplaintError(_l("Give a unit or a public place, not both."))
    building = reg.unit.building if reg.unit else reg.entrance.building if reg.entrance else reg.building
    if (building is not None and building.estate_id != estate.id) or (
            reg.public_area is not None and reg.public_area.estate_id != estate.id):
        raise ComplaintError(_l("This place is not in the estate."))
    if by is not None and not by.covers_place(estate.id, building):
        raise ComplaintError(_l("You register complaints only for the buildings you are assigned to."))
    complaint = Complaint(
        number=next_number(session, estate, now), estate=estate, estate_id=estate.id,
        building_id=building.id if building else None,
        entrance_id=(reg.entrance.id if reg.entrance else reg.unit.entrance_id if reg.unit else None),
        unit_id=reg.unit.id if reg.unit else None,
        public_area_id=reg.public_area.id if reg.public_area else None, place_text=reg.place_text.strip()[:200],
        category=reg.category, channel=reg.channel, complainant_name=reg.complainant_name.strip()[:120],
        complainant_phone=reg.complainant_phone.strip()[:32], description=reg.description.strip()[:1000],
        expectation=reg.expectation.strip()[:500], status=ComplaintStatus.OPEN, created_at=now,
        due_at=now + timedelta(hours=target_hours(session, estate.id, reg.category)),
        created_by_id=by.id if by else None,
    )
    session.add(complaint)
    _log(complaint, "registered", by, channel=reg.channel.value)
    alerts.assigned(session, complaint, now)
    return complaint


def _require(complaint: Complaint, *allowed: ComplaintStatus) -> None:
    if complaint.status not in allowed:
        raise ComplaintError(_l("This step is not possible while the complaint is “%(status)s”.",
                                status=STATUS[complaint.status]))


def reply(complaint: Complaint, by: User, *, text: str, now: datetime | None = None) -> None:
    """The owner is told what was found and what is done (回覆業主)."""
    _require(complaint, ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATED, ComplaintStatus.REPLIED)
    if not text.strip():
        raise ComplaintError(_l("Write down what the owner was told."))
    complaint.status = ComplaintStatus.REPLIED
    complaint.replied_at = now or datetime.now(timezone.utc)
    complaint.reply = text.strip()[:1000]
    _log(complaint, "replied", by, text.strip())


def close(complaint: Complaint, by: User, *, cause: str, now: datetime | None = None) -> None:
    """Closed with its cause, once the owner has been answered."""
    _require(complaint, ComplaintStatus.REPLIED)
    if not cause.strip():
        raise ComplaintError(_l("Name the cause to close the complaint."))
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_at = now or datetime.now(timezone.utc)
    complaint.cause = cause.strip()[:500]
    _log(complaint, "closed", by, cause.strip())
    plan_complaint_visit(object_session(complaint), complaint)


DEFAULT_COMPLAINT_DAYS = 3  # every complaint is visited within 3 days of closing (回訪)
DEFAULT_REPAIR_SHARE = 30  # percent of the closed unit repairs, drawn at random


def visit_plan(session: Session, estate_id: int) -> VisitPlan:
    """The estate's return-visit plan (its own, or the defaults, not stored until changed)."""
    return session.get(VisitPlan, estate_id) or VisitPlan(
        estate_id=estate_id, complaint_days=DEFAULT_COMPLAINT_DAYS, repair_share=DEFAULT_REPAIR_SHARE)


def plan_complaint_visit(session: Session, complaint: Complaint) -> ReturnVisit:
    """A closed complaint gets its return visit, due within the plan's days (one per closing)."""
    rounds = session.scalar(sa.select(sa.func.count()).select_from(ReturnVisit)
                            .where(ReturnVisit.complaint_id == complaint.id)) or 0
    visit = ReturnVisit(estate_id=complaint.estate_id, complaint=complaint, round_no=rounds + 1, reason="complaint",
                        planned_at=complaint.closed_at,
                        due_at=complaint.closed_at + timedelta(days=visit_plan(session, complaint.estate_id)
                                                               .complaint_days))
    session.add(visit)
    return visit


def reopen(complaint: Complaint, by: User | None, *, why: str, now: datetime | None = None) -> None:
    """A return visit graded C reopens the complaint: investigated again, with a new target time."""
    now = now or datetime.now(timezone.utc)
    _require(complaint, ComplaintStatus.CLOSED)
    complaint.status = ComplaintStatus.OPEN
    complaint.closed_at = None
    complaint.investigated_at = None
    complaint.due_at = now + timedelta(hours=target_hours(object_session(complaint), complaint.estate_id,
                                                          complaint.category))
    _log(complaint, "reopened", by, why, escalated=True)
    alerts.reopened(complaint, now)


def log_visit(complaint: Complaint, by: User | None, grade: str, words: str) -> None:
    _log(complaint, "return_visit", by, words.strip(), grade=grade, by_owner=by is None)


def is_late(complaint: Complaint, now: datetime) -> bool:
    return complaint.is_open and now > complaint.due_at


# Who sees which complaint: the office the complaints of the places it covers; a steward the ones
# of their places (to investigate them). Engineering and the gate: none.


def visible_complaints(user: User):  # noqa: ANN201 - a Select
    query = sa.select(Complaint).where(user.covered_places(Complaint.building_id, Complaint.estate_id))
    if user.role not in (Role.DESK, Role.SUPERVISOR, Role.STEWARD):
        query = query.where(sa.false())
    return query


def may_see(user: User, complaint: Complaint) -> bool:
    return user.role in (Role.DESK, Role.SUPERVISOR, Role.STEWARD) and user.covers_place(
        complaint.estate_id, complaint.building)


def may_investigate(user: User, complaint: Complaint) -> bool:
    return user.role is Role.STEWARD and user.covers_place(complaint.estate_id, complaint.building)


def complaint_photos(session: Session, complaint: Complaint) -> list[Photo]:
    """The investigation's photos, and those an owner sent with the report that made the complaint."""
    reported = sa.select(OwnerReport.uuid).where(OwnerReport.complaint_id == complaint.id)
    # The phone's investigations: the photos each names, sent under its UUID (app/complaints/investigations.py).
    named = sa.select(ComplaintInvestigation.uuid, ComplaintInvestigation.photo_uuids).where(
        ComplaintInvestigation.complaint_id == complaint.id)
    investigated = [sa.and_(Photo.record_uuid == uuid, Photo.uuid.in_(list(photos or ())))
                    for uuid, photos in session.execute(named) if photos]
    return list(session.scalars(sa.select(Photo).where(
        sa.or_(Photo.record_uuid == complaint.uuid, Photo.record_uuid.in_(reported), *investigated),
        Photo.status == PhotoStatus.STORED).order_by(Photo.id)))
