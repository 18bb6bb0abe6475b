"""Material entry (材料進場) asked by the gate: the steward decides on site, the desk settles a
refusal with the owner, the supervisor hears of what stays unsettled.

Every function works in the caller's transaction and raises a refusal (app/refusals.py) before it
changes anything, so a refusal leaves nothing half-done."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..access import OFFICE
from ..models import (
    MaterialRequest,
    MaterialStatus,
    Role,
    User,
)
from ..refusals import Conflict, NotFound
from ..steps import content_sha256, phone_time, same_step
from . import alerts
from .base import (
    active_permit,
    in_scope,
    in_scope_now_or_then,
    log_event,
    now_or_utc,
    refuse,
    step_uuid_free,
    unit_for,
)


def material_request_by_uuid(session: Session, uuid: str) -> MaterialRequest | None:
    """The request stored under this UUID, whoever raised it (the caller decides what it may see)."""
    return session.scalars(sa.select(MaterialRequest).where(MaterialRequest.uuid == uuid)).first()


def raise_material_request(session: Session, user: User, *, uuid: str, unit_id: int, materials: str,
                           photo_uuid: str | None, now: datetime | None = None) -> MaterialRequest:
    """The gate (or the desk on its behalf) asks to let materials in; the steward decides."""
    now = now_or_utc(now)
    materials = (materials or "").strip()

    def again(existing: MaterialRequest) -> MaterialRequest:
        if existing.raised_by_id != user.id:
            raise NotFound(_l("This request does not exist or is not yours."))
        if existing.unit_id != unit_id or existing.materials != materials[:500]:
            raise Conflict(_l("This request was already sent with other details."))
        return existing

    existing = material_request_by_uuid(session, uuid)
    if existing is not None:
        return again(existing)
    if user.role not in (Role.GATE, *OFFICE):
        raise NotFound(_l("This unit does not exist or is not yours."))
    unit = unit_for(session, user, unit_id)
    if not materials:
        raise refuse(_l("Say what materials are coming in."), "materials")
    if not photo_uuid:
        raise refuse(_l("Take a photo of the materials."), "photo")
    permit = active_permit(session, unit.id)
    if permit is None:
        raise Conflict(_l("%(unit)s has no active decoration registration: materials cannot come in.", unit=unit.label))
    request = MaterialRequest(uuid=uuid, estate_id=permit.estate_id, unit_id=unit.id, permit=permit,
                              materials=materials[:500], photo_uuid=photo_uuid, raised_by_id=user.id, raised_at=now)
    session.add(request)
    try:
        session.flush()
    except IntegrityError:  # the same request (a double tap) stored at the same moment
        session.rollback()
        existing = material_request_by_uuid(session, uuid)
        if existing is None:
            raise Conflict(_l("This request was stored at the same moment by another request.")) from None
        return again(existing)
    log_event(session, unit.id, "material_requested", user, permit=permit, at=now, material_request_id=request.id,
              note=request.materials, photo_uuid=photo_uuid)
    session.flush()
    alerts.material_requested(session, request, now)
    return request


def material_tasks(session: Session, steward: User, at: datetime | None = None) -> list[MaterialRequest]:
    """Requests waiting for this steward's decision at `at` (default now), oldest first: the top of
    their list."""
    estate_ids = steward.estate_ids_on(at) if steward.role is Role.STEWARD else set()
    if not estate_ids:
        return []
    query = (sa.select(MaterialRequest)
             .where(MaterialRequest.status == MaterialStatus.PENDING,
                    MaterialRequest.estate_id.in_(estate_ids))
             .order_by(MaterialRequest.raised_at, MaterialRequest.id)
             .options(selectinload(MaterialRequest.unit), selectinload(MaterialRequest.permit)))
    return [r for r in session.scalars(query) if in_scope(steward, r.unit, at)]


def decide_material(session: Session, steward: User, *, uuid: str, request_id: int, approved: bool, reason: str = "",
                    recorded_at: datetime | None = None, now: datetime | None = None) -> MaterialRequest:
    """Approve, or refuse with a reason (the desk then contacts the owner). Stored once by UUID."""
    now = now_or_utc(now)
    reason = (reason or "").strip()
    fingerprint = content_sha256({"request_id": request_id, "approved": approved, "reason": reason})
    request = session.scalars(sa.select(MaterialRequest).where(MaterialRequest.id == request_id).with_for_update()
                              .execution_options(populate_existing=True)).first()
    if request is None or steward.role is not Role.STEWARD \
            or not in_scope_now_or_then(steward, request.unit, phone_time(recorded_at, now)):
        raise NotFound(_l("This request does not exist or is not yours."))
    step_uuid_free(session, steward, request, MaterialRequest.decision_uuid, uuid,
                   _l("This request does not exist or is not yours."))
    if same_step(request if request.decision_uuid == uuid else None, steward, fingerprint, sent_by=None,
                 fingerprint_of="decision_content_sha256",
                 conflict=_l("This decision was already stored with another answer.")):
        return request
    if request.status is not MaterialStatus.PENDING:
        raise Conflict(_l("This request was already decided."))
    if not approved and not reason:
        raise refuse(_l("Say why the materials may not come in."), "reason")
    if approved and request.permit is not None and request.permit.work_stopped:
        raise Conflict(_l("Work is stopped at this unit (停工): materials cannot be approved."))
    request.status = MaterialStatus.APPROVED if approved else MaterialStatus.REFUSED
    request.decision_uuid, request.decision_content_sha256 = uuid, fingerprint
    request.decided_by_id, request.decided_at, request.reason = steward.id, now, reason[:1000]
    log_event(session, request.unit_id, "material_approved" if approved else "material_refused", steward,
              permit=request.permit, at=now, material_request_id=request.id, note=reason)
    session.flush()
    return request


def settle_material(session: Session, user: User, request: MaterialRequest, *, escalate: bool, note: str,
                    now: datetime | None = None) -> None:
    """The desk contacted the owner about a refused request: settled, or escalated to the supervisor,
    who settles it in the end."""
    now = now_or_utc(now)
    if user.role not in OFFICE or not in_scope(user, request.unit):
        raise NotFound(_l("This request does not exist or is not yours."))
    escalated = request.status is MaterialStatus.ESCALATED
    if escalated and (user.role is not Role.SUPERVISOR or escalate):
        raise Conflict(_l("This request is with the supervisor: only the supervisor settles it."))
    if request.status is not MaterialStatus.REFUSED and not escalated:
        raise Conflict(_l("Only a refused request waits for the owner to be contacted."))
    if not (note or "").strip():
        raise refuse(_l("Write what was agreed with the owner."), "note")
    request.status = MaterialStatus.ESCALATED if escalate else MaterialStatus.RESOLVED
    request.resolved_by_id, request.resolved_at, request.resolution_note = user.id, now, note.strip()[:1000]
    log_event(session, request.unit_id, "material_escalated" if escalate else "material_resolved", user,
              permit=request.permit, at=now, material_request_id=request.id, note=note.strip())
    session.flush()
    if escalate:
        alerts.material_escalated(session, request, now)
