"""The steward's investigation on site (現場調查) of a complaint, from the phone like every other step:
made offline, sent (perhaps many times) later, stored exactly once by its UUID (app/steps.py).

Its photos are shrunk on the phone and sent after it, each naming the investigation's UUID as its
record. An investigation reaching a complaint that has moved on (investigated by a colleague,
answered, closed) is kept unapplied with a 'late_investigation' event: nothing done on site is lost.
"""
from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Complaint, ComplaintInvestigation, ComplaintStatus, Estate, Role, User
from ..photos.uploads import record_photo_estate
from ..refusals import Conflict, NotFound, Rejected
from ..steps import content_sha256, phone_time, same_step
from ..photos import uploads
from .operations import MAX_PHOTOS, ComplaintError, _log, _require, may_investigate

NOT_YOURS = _l("This complaint does not exist or is not yours.")


def _stored(session: Session, uuid: str) -> ComplaintInvestigation | None:
    return session.scalars(sa.select(ComplaintInvestigation).where(ComplaintInvestigation.uuid == uuid)).first()


def _again(stored: ComplaintInvestigation | None, steward: User, fingerprint: str) -> ComplaintInvestigation | None:
    return same_step(stored, steward, fingerprint, not_found=NOT_YOURS,
                     conflict=_l("This investigation was already stored with other content."))


def _may_investigate(steward: User, complaint: Complaint, when: datetime | None = None) -> bool:
    return steward.role is Role.STEWARD and steward.covers_place(complaint.estate_id, complaint.building, when)


def record_investigation(session: Session, steward: User, *, uuid: str, complaint_id: int, note: str,
                         photo_uuids: list[str] | tuple[str, ...] = (), recorded_at: datetime | None = None,
                         now: datetime | None = None) -> ComplaintInvestigation:
    """Store the investigation `uuid` of complaint `complaint_id` exactly once; it moves the
    complaint on to "investigated" if the complaint is still open, else it is kept unapplied."""
    now = now or datetime.now(timezone.utc)
    note = (note or "").strip()
    photo_uuids = list(photo_uuids)
    fingerprint = content_sha256({
        "complaint_id": complaint_id, "note": note, "photo_uuids": photo_uuids,
        "recorded_at": recorded_at.astimezone(timezone.utc).isoformat() if recorded_at else None})
    again = _again(_stored(session, uuid), steward, fingerprint)
    if again is not None:
        return again
    # The complaint's row lock (PostgreSQL) queues two stewards' investigations of one complaint.
    complaint = session.scalars(sa.select(Complaint).where(Complaint.id == complaint_id).with_for_update()
                                .execution_options(populate_existing=True)).first()
    at = phone_time(recorded_at, now)
    # Theirs now, or on the day it was done: a cover's investigation synced the day after is kept.
    if complaint is None or not (_may_investigate(steward, complaint) or _may_investigate(steward, complaint, at)):
        raise NotFound(NOT_YOURS)
    if not note:
        message = _l("Say what you found on site.")
        raise Rejected(message, {"note": [message]})
    if len(photo_uuids) > MAX_PHOTOS or len(set(photo_uuids)) != len(photo_uuids):
        message = _l("At most three photos.")
        raise Rejected(message, {"photo_uuids": [message]})
    record = ComplaintInvestigation(
        uuid=uuid, complaint_id=complaint.id, by_id=steward.id, note=note[:1000], photo_uuids=photo_uuids,
        recorded_at=at, received_at=now, applied=complaint.status is ComplaintStatus.OPEN,
        content_sha256=fingerprint)
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the same UUID arrived twice at once: the other request stored it
        session.rollback()
        again = _again(_stored(session, uuid), steward, fingerprint)
        if again is None:
            raise Conflict(_l("This investigation was stored at the same moment by another request.")) from None
        return again
    if record.applied:
        complaint.status = ComplaintStatus.INVESTIGATED
        complaint.investigated_at, complaint.investigated_by_id = at, steward.id
        complaint.investigation = note[:1000]
        _log(complaint, "investigated", steward, note, photos=len(photo_uuids), uuid=uuid)
    else:
        _log(complaint, "late_investigation", steward, note, photos=len(photo_uuids), uuid=uuid)
    session.flush()
    return record


def investigate(session: Session, complaint: Complaint, steward: User, *, note: str, photos: list[bytes] = (),
                max_bytes: int, max_pixels: int, now: datetime | None = None) -> ComplaintInvestigation:
    """The same investigation sent with the web form (a phone with no script, online): its photos
    are stored first, then it is recorded as the phone's would be, under a UUID made here."""
    now = now or datetime.now(timezone.utc)
    if not may_investigate(steward, complaint):
        raise ComplaintError(NOT_YOURS)
    _require(complaint, ComplaintStatus.OPEN)
    if not (note or "").strip():
        raise ComplaintError(_l("Say what you found on site."), {"note": [_l("Say what you found on site.")]})
    if len(photos) > MAX_PHOTOS:
        raise ComplaintError(_l("At most three photos."))
    stored = [uploads.store_form_photo(session, steward, complaint.uuid, data, timezone_name=complaint.estate.timezone,
                                       max_bytes=max_bytes, max_pixels=max_pixels, now=now) for data in photos]
    return record_investigation(session, steward, uuid=str(uuidlib.uuid4()), complaint_id=complaint.id, note=note,
                                photo_uuids=[p.uuid for p in stored], recorded_at=now, now=now)


def investigation_photo_uuids(session: Session, complaint: Complaint) -> dict[str, set[str]]:
    """Per investigation of the complaint (its UUID), the photos it names."""
    rows = session.execute(sa.select(ComplaintInvestigation.uuid, ComplaintInvestigation.photo_uuids)
                           .where(ComplaintInvestigation.complaint_id == complaint.id))
    return {uuid: set(photos or ()) for uuid, photos in rows}


def complaint_of_record(session: Session, record_uuid: str) -> Complaint | None:
    """The complaint a photo's record names: the complaint itself (a form's photos, an owner's) or
    one of its investigations."""
    complaint = session.scalars(sa.select(Complaint).where(Complaint.uuid == record_uuid)).first()
    if complaint is not None:
        return complaint
    record = _stored(session, record_uuid)
    return record.complaint if record is not None else None


@record_photo_estate.connect
def _investigation_photo_estate(session: Session, *, user: User, record_uuid: str) -> Estate | None:
    """An investigation's photo: the investigation must be the steward's; None when it has not
    arrived yet (its photos follow it in the phone's outbox)."""
    record = _stored(session, record_uuid)
    if record is None:
        return None
    if record.by_id != user.id:
        raise NotFound(NOT_YOURS)
    return record.complaint.estate
