"""Hooks: the investigations on the steward's today page, and who sees a complaint's photos
(the investigation's photos' owner is answered in investigations.py)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Photo, User
from ..photos.uploads import photo_visible
from ..rounds.today import steward_tasks
from . import investigations, operations, queries


@steward_tasks.connect
def _investigations(session: Session, *, steward: User) -> dict:
    """Complaints of the steward's places waiting for the investigation on site."""
    return {"investigations": queries.investigations_for(session, steward)}


@photo_visible.connect
def _complaint_photo_visible(session: Session, *, user: User, photo: Photo) -> bool:
    if photo.record_uuid is None:
        return False
    complaint = investigations.complaint_of_record(session, photo.record_uuid)
    return complaint is not None and operations.may_see(user, complaint)
