"""Importing a steward's "unsynced work" file at the desk: the last resort when a phone cannot
sync (a broken phone, a user who had to sign out). Every entry goes through the same idempotent
store as the phone's outbox, so importing twice, or the phone syncing later, stores nothing twice."""
from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from .. import audit, guard, refusals
from ..api import schemas
from ..api.schemas import CompletionSchema, RoundStartSchema
from ..api.complaints import InvestigationInSchema
from ..api.tickets import VerificationInSchema
from ..complaints import investigations
from ..complaints import operations as complaint_operations
from ..database import MAX_ID
from ..decoration import base, flood_tests, materials, violations
from ..guard import UUID_PATTERN, is_uuid
from ..models import (
    Complaint,
    FloodTest,
    MaterialRequest,
    Photo,
    RepairTicket,
    Role,
    Round,
    User,
    Violation,
)
from ..photos import uploads
from ..refusals import Rejected
from ..security import EXPORT_KEY_ID, export_signature
from ..repairs import tickets, verification
from ..rounds import intake

IMPORTED = audit.IMPORTED
FORMAT = "xuncha-unsynced-work/1"  # the work itself: what the phone's outbox holds
SIGNED_FORMAT = "xuncha-unsynced-work/2"  # the file: that work as text, signed with the phone's key


def open_signed(envelope: object, key_for: Callable[[int, str], str]) -> dict:
    """The work inside a signed file, or ImportRefused. `key_for(user_id, key_id)` makes the key the
    steward's phone was given at sign-in (app/security.py: export_key); the signature must be that key's
    HMAC-SHA256 of the payload's text, and the payload must name the same steward."""
    if isinstance(envelope, dict) and envelope.get("format") == FORMAT:
        raise ImportRefused(_l("This file is not signed by a steward's phone. Export it again from the phone."))
    if not isinstance(envelope, dict) or envelope.get("format") != SIGNED_FORMAT:
        raise ImportRefused(_l("This is not a Xuncha unsynced-work file."))
    user_id, key_id = envelope.get("user_id"), envelope.get("key_id")
    signature, payload = envelope.get("signature"), envelope.get("payload")
    if not (isinstance(user_id, int) and not isinstance(user_id, bool) and 1 <= user_id <= MAX_ID
            and isinstance(key_id, str) and EXPORT_KEY_ID.fullmatch(key_id)
            and isinstance(signature, str) and isinstance(payload, str)):
        raise ImportRefused(_l("This file is not signed by a steward's phone. Export it again from the phone."))
    expected = export_signature(key_for(user_id, key_id), payload)
    if not hmac.compare_digest(expected, signature.lower()):
        raise ImportRefused(_l("This file was changed after the phone signed it, or was not written by the "
                               "steward's phone. Nothing was imported."))
    try:
        document = guard.loads(payload)
    except guard.MalformedJSON:
        raise ImportRefused(_l("This is not a Xuncha unsynced-work file.")) from None
    if not isinstance(document, dict) or document.get("user_id") != user_id:
        raise ImportRefused(_l("This is not a Xuncha unsynced-work file."))
    document["key_id"] = key_id
    return document


@dataclass
class ImportReport:
    steward: User
    stored: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


class ImportRefused(Rejected):
    """The file, or one of its entries, cannot be imported by this desk user."""


def import_unsynced(session: Session, desk_user: User, document: dict, *, max_bytes: int, max_pixels: int) -> ImportReport:
    """Apply each entry of an exported outbox as its steward would have sent it; commits per entry."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused(_l("This is not a Xuncha unsynced-work file."))
    user_id, entries, photo_list = document.get("user_id"), document.get("entries", []), document.get("photos", [])
    if not isinstance(entries, list) or not isinstance(photo_list, list):
        raise ImportRefused(_l("This is not a Xuncha unsynced-work file."))
    valid_id = isinstance(user_id, int) and not isinstance(user_id, bool) and 1 <= user_id <= MAX_ID
    steward = session.get(User, user_id) if valid_id else None
    if steward is None or steward.role is not Role.STEWARD or not (
        steward.visible_estate_ids & desk_user.visible_estate_ids
    ):
        raise ImportRefused(_l("This file belongs to a steward outside your estates."))
    photos = {p.get("uuid"): p for p in photo_list if isinstance(p, dict) and is_uuid(p.get("uuid"))}
    report = ImportReport(steward)
    for entry in entries:
        label = "?"
        try:
            if not isinstance(entry, dict) or not all(is_uuid(entry.get(k)) for k in ("roundUuid", "photoUuid")
                                                      if entry.get(k) is not None):
                raise ValueError("damaged entry")
            label = f"{entry['type']} {entry.get('photoUuid') or entry.get('roundUuid')}"
            _apply(session, steward, entry, photos, max_bytes=max_bytes, max_pixels=max_pixels)
            _check_desk_covers(session, desk_user, entry)
            session.commit()
            report.stored.append(label)
        except refusals.Refusal as exc:
            session.rollback()
            report.problems.append((label, str(exc.message)))
        except (ValidationError, KeyError, TypeError, ValueError, binascii.Error):
            session.rollback()
            report.problems.append((label, str(_l("This entry is damaged and was skipped."))))
    # Who imported what: one entry in the audit log, beside each stored record's own (its actor the desk user).
    audit.record(session, IMPORTED, steward,
                 f"unsynced-work file of {steward.username} imported by {desk_user.username}: "
                 f"{len(report.stored)} stored, {len(report.problems)} skipped",
                 after={"imported_by": desk_user.username, "key_id": document.get("key_id"),
                        "exported_at": str(document.get("exported_at") or "")[:40],
                        "stored": report.stored[:200], "skipped": [label for label, _ in report.problems][:200]},
                 estate_id=min(steward.visible_estate_ids & desk_user.visible_estate_ids))
    session.commit()
    return report


def _check_desk_covers(session: Session, desk_user: User, entry: dict) -> None:
    """The desk imports only into rounds of the estates or buildings it covers."""
    if entry.get("type") == "verification":
        ticket = session.get(RepairTicket, entry["body"]["ticket_id"])
        if ticket is None or not tickets.may_see_ticket(desk_user, ticket):
            raise ImportRefused(_l("This repair is outside your estates."))
        return
    if entry.get("type") == "investigation":
        complaint = session.get(Complaint, entry["body"]["complaint_id"])
        if complaint is None or not complaint_operations.may_see(desk_user, complaint):
            raise ImportRefused(_l("This complaint is outside your estates."))
        return
    if entry.get("type") in DECORATION_ENTRIES:

        unit = _decoration_unit(session, entry)
        if unit is None or not base.in_scope(desk_user, unit):
            raise ImportRefused(_l("This unit is outside your estates."))
        return
    rnd = session.scalars(sa.select(Round).where(Round.uuid == entry.get("roundUuid"))).first()
    if rnd is not None and not intake.may_see_round(desk_user, rnd):
        raise ImportRefused(_l("This round is outside your estates."))


def _apply(session: Session, steward: User, entry: dict, photos: dict, *, max_bytes: int, max_pixels: int) -> None:
    kind = entry["type"]
    if kind == "start":
        intake.start_round(session, steward, **RoundStartSchema().load(entry["body"]))
    elif kind == "complete":
        done = CompletionSchema().load(entry["body"])
        intake.complete_round(session, steward, entry["roundUuid"], done.findings, completed_at=done.completed_at,
                              fingerprint=done.fingerprint, visit_outcome=done.visit_outcome, start=done.start,
                              scans=done.scans)
    elif kind == "photo":
        photo = photos.get(entry["photoUuid"])
        if photo is None:
            raise ImportRefused(_l("The photo itself is missing from the file."))
        data = base64.b64decode(photo["jpeg_base64"], validate=True)
        if photo.get("record_uuid"):  # a decoration record's photo (a flood test's water level)
            checked = uploads.check_photo(session, steward, photo["uuid"], None, data, photo["sha256"],
                                          record_uuid=photo["record_uuid"])
            if not isinstance(checked, Photo):
                processed = uploads.process_upload(checked, data, max_bytes=max_bytes, max_pixels=max_pixels)
                uploads.record_photo(session, steward, checked, processed, len(data))
        else:
            uploads.store_photo(session, steward, photo["uuid"], photo["finding_uuid"], data, photo["sha256"],
                                max_bytes=max_bytes, max_pixels=max_pixels)
    elif kind == "amendment":  # a correction of a finding the office already holds (static/js/round.js)
        match = AMENDMENT_PATH.fullmatch(str(entry.get("url", "")))
        if match is None:
            raise ValueError("not an amendment's path")
        intake.amend_finding(session, steward, match.group(1), **schemas.AmendmentInSchema().load(entry["body"]))
    elif kind == "verification":

        verification.record_verification(session, steward, **VerificationInSchema().load(entry["body"]))
    elif kind == "investigation":  # a complaint investigated on site (static/js/investigation.js)
        investigations.record_investigation(session, steward, **InvestigationInSchema().load(entry["body"]))
    elif kind in DECORATION_ENTRIES:
        _apply_decoration(session, steward, kind, entry)
    else:
        raise ValueError(kind)


# What the phone's today page queues for decoration (static/js/decoration.js): each entry type
# and the API path it is sent to; the id in the path is the record's.
DECORATION_PATHS = {
    "flood-start": re.compile(r"/api/v1/flood-tests"),
    "flood-neighbour": re.compile(rf"/api/v1/flood-tests/({UUID_PATTERN.pattern})/neighbour-check"),
    "flood-result": re.compile(rf"/api/v1/flood-tests/({UUID_PATTERN.pattern})/result"),
    "recheck": re.compile(r"/api/v1/violation-rechecks"),
    "material": re.compile(r"/api/v1/material-requests/([1-9]\d{0,8})/decision"),  # a record ID (< 2³¹)
}
DECORATION_ENTRIES = set(DECORATION_PATHS)
AMENDMENT_PATH = re.compile(rf"/api/v1/findings/({UUID_PATTERN.pattern})/amendments")


def _record_id(entry: dict) -> str:
    """The record's id in the entry's API path (/api/v1/flood-tests/<uuid>/result → the uuid);
    a path that is not the one its type is sent to is a damaged entry."""
    match = DECORATION_PATHS[entry["type"]].fullmatch(str(entry.get("url", "")))
    if match is None or not match.groups():
        raise ValueError("not this entry type's path")
    return match.group(1)


def _apply_decoration(session: Session, steward: User, kind: str, entry: dict) -> None:

    body = entry["body"]
    if kind == "flood-start":
        flood_tests.start_flood_test(session, steward, **schemas.FloodTestStartSchema().load(body))
    elif kind == "flood-neighbour":
        flood_tests.check_neighbours(session, steward, flood_test_uuid=_record_id(entry),
                                     **schemas.NeighbourCheckSchema().load(body))
    elif kind == "flood-result":
        flood_tests.end_flood_test(session, steward, flood_test_uuid=_record_id(entry),
                                   **schemas.FloodResultSchema().load(body))
    elif kind == "recheck":
        violations.record_recheck(session, steward, **schemas.RecheckInSchema().load(body))
    else:
        materials.decide_material(session, steward, request_id=int(_record_id(entry)),
                                  **schemas.MaterialDecisionInSchema().load(body))


def _decoration_unit(session: Session, entry: dict):  # noqa: ANN202
    """The unit a decoration entry is about, once it is stored (None if it is not)."""

    kind, body = entry["type"], entry.get("body") or {}
    if kind == "recheck":
        violation = session.get(Violation, body.get("violation_id"))
        return violation.unit if violation else None
    if kind == "material":
        request = session.get(MaterialRequest, int(_record_id(entry)))
        return request.unit if request else None
    uuid = body.get("uuid") if kind == "flood-start" else _record_id(entry)
    test = session.scalars(sa.select(FloodTest).where(FloodTest.uuid == uuid)).first()
    return test.unit if test else None
