"""Photos sent by phones and forms: checked before any pixel is decoded, cleaned and shrunk by the
pipeline (pipeline.py), saved in storage (storage.py), stored exactly once under the phone's UUID.

A photo names the finding it shows, or a record of another domain (a flood test's). Which photos a
user may see, and whose a record's photo is, the owning domains answer through the signals below.
"""
from __future__ import annotations

import hashlib
import threading
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Finding, Photo, PhotoStatus, Role, User
from ..refusals import Conflict, NotFound, Rejected, TooLarge
from .pipeline import PhotoRejected, process_photo
from .storage import get_storage, new_key
from .sweep import forget_unless_committed

_signals = Namespace()

#: `photo_visible.send(session, user=…, photo=…)`: each owning domain answers True when it shows the
#: photo to the user (the round's, the ticket's, the violation's, the record's).
photo_visible = _signals.signal("photo-visible")

#: `record_photo_estate.send(session, user=…, record_uuid=…)`: the domain that knows the record
#: answers its estate (or raises NotFound when it is not the user's); None when it does not know it.
record_photo_estate = _signals.signal("record-photo-estate")


# At most two photos are decoded at once per process: a burst of large uploads queues up
# instead of taking all the memory (two cores; the phone sends ≤ 2048 px anyway).
_DECODING = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class PhotoUpload:
    """A photo upload that passed its checks and is still to be processed and stored."""

    uuid: str
    finding_uuid: str | None
    sha256: str
    camera_timezone: str
    record_uuid: str | None = None  # a decoration record's photo instead of a finding's


def check_photo(session: Session, user: User, uuid: str, finding_uuid: str | None, data: bytes,
                sha256: str, *, record_uuid: str | None = None) -> Photo | PhotoUpload:
    """The checks before any pixel is decoded: the photo already stored (the same answer again),
    a conflict, a finding that is not the user's, bytes that do not match their SHA-256.

    A decoration record's photo names `record_uuid` (a flood test's UUID) instead of a finding."""
    if hashlib.sha256(data).hexdigest() != sha256:
        message = _l("The photo arrived incomplete (its checksum does not match). It will be sent again.")
        raise Rejected(message, {"sha256": [message]})
    return check_owner(session, user, uuid, finding_uuid, sha256, record_uuid=record_uuid)


def check_owner(session: Session, user: User, uuid: str, finding_uuid: str | None, sha256: str, *,
                record_uuid: str | None = None) -> Photo | PhotoUpload:
    """The checks of `check_photo` that need no bytes (a resumable upload's parts make them before
    the last byte arrives): the photo already stored, a conflict, a finding that is not the user's."""
    record_upload = None
    if record_uuid is not None:
        finding_uuid, record_upload = None, _check_record_photo(session, user, uuid, record_uuid, sha256)
    photo = session.scalars(sa.select(Photo).where(Photo.uuid == uuid)).first()
    if photo is not None and not _sent_by(photo, user):
        # Someone else's photo: not found, as if it did not exist (no replay answer, no conflict).
        raise NotFound(_l("This finding does not exist or is not yours."))
    if photo is not None and (photo.finding_uuid, photo.record_uuid) != (finding_uuid, record_uuid):
        raise Conflict(_l("This photo was already stored for another finding."))
    if photo is not None and photo.status is PhotoStatus.STORED:
        if photo.sha256 == sha256:
            return photo
        raise Conflict(_l("A different photo was already stored under this ID."))
    if record_upload is not None:
        return record_upload
    if photo is not None and photo.finding is not None:  # named by its finding's completion: loaded above
        finding = photo.finding
    else:
        finding = session.scalars(sa.select(Finding).where(Finding.uuid == finding_uuid)).first()
    if finding is not None and finding.round.steward_id != user.id:
        raise NotFound(_l("This finding does not exist or is not yours."))
    estates = [finding.round.estate] if finding else [*user.estates, *(b.estate for b in user.buildings)]
    if not estates:
        raise NotFound(_l("This finding does not exist or is not yours."))
    return PhotoUpload(uuid, finding_uuid, sha256, estates[0].timezone)


def stored_photo_of(session: Session, user: User, uuid: str) -> Photo | None:
    """Photo `uuid` if it is stored and `user`'s (sent by them, or named by their round's finding)."""
    photo = session.scalars(sa.select(Photo).where(Photo.uuid == uuid)).first()
    if photo is None or photo.status is not PhotoStatus.STORED or not _sent_by(photo, user):
        return None
    return photo


def _sent_by(photo: Photo, user: User) -> bool:
    """The photo is this user's: they uploaded it, or it is named by a finding of their round."""
    if photo.uploaded_by_id is not None:
        return photo.uploaded_by_id == user.id
    return photo.finding is not None and photo.finding.round.steward_id == user.id


def _check_record_photo(session: Session, user: User, uuid: str, record_uuid: str, sha256: str) -> PhotoUpload:
    """A record's photo (a flood test's): the record must be the steward's, or not have arrived yet
    (offline). The record's domain answers through `record_photo_estate`."""
    known = [estate for _, estate in record_photo_estate.send(session, user=user, record_uuid=record_uuid)
             if estate is not None]
    estates = known or [*user.estates, *(b.estate for b in user.buildings)]
    if not estates or user.role is not Role.STEWARD:
        raise NotFound(_l("This record does not exist or is not yours."))
    return PhotoUpload(uuid, None, sha256, estates[0].timezone, record_uuid=record_uuid)


def process_upload(upload: PhotoUpload, data: bytes, *, max_bytes: int, max_pixels: int):  # noqa: ANN201
    """Decode, clean and shrink the photo: no database, so no lock is held meanwhile."""
    try:
        with _DECODING:
            return process_photo(data, max_bytes=max_bytes, max_pixels=max_pixels,
                                 camera_timezone=upload.camera_timezone)
    except PhotoRejected as exc:
        error = TooLarge if exc.code == "too_large" else Rejected
        raise error(exc.message, {"file": [exc.message]}) from None


def record_photo(session: Session, user: User, upload: PhotoUpload, processed, size: int,  # noqa: ANN001
                 now: datetime | None = None) -> Photo:
    """Save the processed photo's files, then its row, briefly; a twin that won the race is kept."""
    now = now or datetime.now(timezone.utc)
    storage = get_storage()
    display_key, thumb_key = new_key(), new_key()
    forget_unless_committed(session, display_key, thumb_key)  # a rollback takes them away
    storage.save(display_key, processed.display)
    storage.save(thumb_key, processed.thumbnail)

    def discard() -> None:
        storage.delete(display_key)
        storage.delete(thumb_key)

    photo = session.scalars(
        sa.select(Photo).where(Photo.uuid == upload.uuid).with_for_update().execution_options(populate_existing=True)
    ).first()
    owner = (upload.finding_uuid, upload.record_uuid)
    if photo is not None and (photo.status is PhotoStatus.STORED or (photo.finding_uuid, photo.record_uuid) != owner):
        discard()  # stored by a twin request while this one was decoding
        if (photo.finding_uuid, photo.record_uuid) == owner and photo.sha256 == upload.sha256:
            return photo
        raise Conflict(_l("A different photo was already stored under this ID."))
    user_id = user.id  # read before the new row is pending: no autoflush outside the try below
    if photo is None:
        finding = session.scalars(sa.select(Finding).where(Finding.uuid == upload.finding_uuid)).first() \
            if upload.finding_uuid else None
        photo = Photo(uuid=upload.uuid, finding_uuid=upload.finding_uuid, record_uuid=upload.record_uuid,
                      finding=finding)
        session.add(photo)
    photo.status = PhotoStatus.STORED
    photo.uploaded_by_id = user_id
    photo.sha256 = upload.sha256
    photo.source_format = processed.source_format
    photo.width, photo.height = processed.width, processed.height
    photo.byte_size = size
    photo.display_key, photo.thumb_key = display_key, thumb_key
    photo.captured_at = processed.captured_at
    photo.received_at = now
    try:
        session.flush()
    except IntegrityError:  # the same photo was inserted at the same moment; keep the first
        session.rollback()
        discard()
        stored = session.scalars(sa.select(Photo).where(Photo.uuid == upload.uuid)).first()
        if stored is not None and stored.sha256 == upload.sha256 and (stored.finding_uuid, stored.record_uuid) == owner:
            return stored
        raise Conflict(_l("A different photo was already stored under this ID.")) from None
    return photo


def store_photo(
    session: Session, user: User, uuid: str, finding_uuid: str, data: bytes, sha256: str, *,
    max_bytes: int, max_pixels: int, now: datetime | None = None,
) -> Photo:
    """Check, clean and store one photo of a finding (which may not have arrived yet), in the
    caller's transaction. The API splits these steps to hold no lock while decoding."""
    checked = check_photo(session, user, uuid, finding_uuid, data, sha256)
    if isinstance(checked, Photo):
        return checked
    processed = process_upload(checked, data, max_bytes=max_bytes, max_pixels=max_pixels)
    return record_photo(session, user, checked, processed, len(data), now)


def store_form_photo(session: Session, user: User | None, record_uuid: str | None, data: bytes, *, timezone_name: str,
                     max_bytes: int, max_pixels: int, now: datetime | None = None) -> Photo:
    """A photo uploaded with a web form (a repair's "after" photo, the gate's request): checked like
    any photo, stored in the caller's transaction, under `record_uuid` when it belongs to a record.
    `user` None: sent by an owner with no account (app/owners), whose report's domain shows it."""
    upload = PhotoUpload(str(uuidlib.uuid4()), "", hashlib.sha256(data).hexdigest(), timezone_name)
    processed = process_upload(upload, data, max_bytes=max_bytes, max_pixels=max_pixels)
    storage = get_storage()
    photo = Photo(uuid=upload.uuid, finding_uuid=None, record_uuid=record_uuid, status=PhotoStatus.STORED,
                  uploaded_by_id=user.id if user else None, sha256=upload.sha256, source_format=processed.source_format,
                  width=processed.width, height=processed.height, byte_size=len(data), display_key=new_key(),
                  thumb_key=new_key(), captured_at=processed.captured_at,
                  received_at=now or datetime.now(timezone.utc))
    forget_unless_committed(session, photo.display_key, photo.thumb_key)  # a failed repair leaves no files
    storage.save(photo.display_key, processed.display)
    storage.save(photo.thumb_key, processed.thumbnail)
    session.add(photo)
    return photo


def photo_for(session: Session, user: User, uuid: str) -> Photo:
    """A stored photo `user` may see: one the domain that owns it shows them (its round, ticket,
    violation or record answers `photo_visible`), or a loose one they uploaded themselves."""
    photo = session.scalars(sa.select(Photo).where(Photo.uuid == uuid, Photo.status == PhotoStatus.STORED)).first()
    if photo is None:
        raise NotFound(_l("This photo does not exist or is not yours."))
    if any(seen for _, seen in photo_visible.send(session, user=user, photo=photo)):
        return photo
    if photo.record_uuid is None and photo.finding is None and photo.uploaded_by_id == user.id:
        return photo
    raise NotFound(_l("This photo does not exist or is not yours."))
