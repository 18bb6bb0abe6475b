"""Photos of decoration records, and which of them a user may see.

Every function works in the caller's transaction and raises a refusal (app/refusals.py) before it
changes anything, so a refusal leaves nothing half-done."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import (
    Estate,
    FloodTest,
    MaterialRequest,
    Photo,
    Role,
    User,
    ViolationRecheck,
)
from ..photos.uploads import photo_visible, record_photo_estate
from ..refusals import NotFound
from .base import in_scope


def may_see_record_photo(session: Session, user: User, photo: Photo) -> bool:
    """Photos of decoration records: whoever may see the unit's decoration (the gate only its requests')."""
    uuid = photo.record_uuid
    if not uuid:
        return False
    request = session.scalars(sa.select(MaterialRequest).where(MaterialRequest.photo_uuid == photo.uuid)).first()
    if request is not None:
        return in_scope(user, request.unit)
    if user.role is Role.GATE:
        return False
    test = session.scalars(sa.select(FloodTest).where(sa.or_(FloodTest.uuid == uuid, FloodTest.result_uuid == uuid))).first()
    if test is not None:
        return in_scope(user, test.unit)
    recheck = session.scalars(sa.select(ViolationRecheck).where(ViolationRecheck.uuid == uuid)).first()
    if recheck is not None:
        return in_scope(user, recheck.violation.unit)
    return photo.uploaded_by_id == user.id


@photo_visible.connect
def _decoration_photo_visible(session: Session, *, user: User, photo: Photo) -> bool:
    """A breach's photo is the violation's evidence: whoever may follow the violation (the steward
    re-checking it), never the gate; a record's photo as `may_see_record_photo` says."""
    if photo.finding is not None and photo.finding.violation is not None and user.role is not Role.GATE \
            and in_scope(user, photo.finding.violation.unit):
        return True
    return photo.record_uuid is not None and may_see_record_photo(session, user, photo)


@record_photo_estate.connect
def _flood_test_estate(session: Session, *, user: User, record_uuid: str) -> Estate | None:
    """A flood test's photo: the test must be the steward's; None when the test has not arrived yet."""
    test = session.scalars(sa.select(FloodTest).where(
        sa.or_(FloodTest.uuid == record_uuid, FloodTest.result_uuid == record_uuid))).first()
    if test is None:
        return None
    if user.role is not Role.STEWARD or not in_scope(user, test.unit):
        raise NotFound(_l("This record does not exist or is not yours."))
    return test.unit.building.estate
