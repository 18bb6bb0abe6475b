"""The desk imports a steward's exported unsynced work: stored once, however often it arrives."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid as uuidlib

import pytest
import sqlalchemy as sa

from app import security
from app.decoration import materials, permits
from app.extensions import db
from app.models import Finding, Photo, PhotoStatus, Role, Round, RoundStatus, User

from tests import factories


def exported_file(client, auth, world) -> dict:
    """What the phone's "export my unsynced work" button writes (static/js/app.js: exportWork)."""
    auth.login("amy")
    round_uuid = str(uuidlib.uuid4())
    start = {"uuid": round_uuid, "kind": "corridor", "estate_id": world["estate"].id,
             "building_id": world["building"].id, "unit_id": None, "started_at": None, "checklist_version": 1}
    # The plan as the phone holds it in its offline pack.
    pack = client.get("/api/v1/offline-pack").get_json()
    auth.logout()
    plan = pack["plans"][f"corridor/{world['estate'].id}/{world['building'].id}/"]
    findings = [{"uuid": str(uuidlib.uuid4()), "checkpoint": c["key"], "item_code": code, "result": "fine",
                 "photo_uuids": []} for c in plan["checkpoints"] for code in c["items"]]
    photo_uuid, data = str(uuidlib.uuid4()), factories.jpeg_bytes()
    light = next(f for f in findings if f["item_code"] == "COR-LIGHT")
    light.update(result="defect", reason_code="LIGHT-OFF", photo_uuids=[photo_uuid])
    user_id = world["steward"].id
    return {
        "format": "xuncha-unsynced-work/1", "user_id": user_id, "exported_at": "2026-11-26T10:00:00Z",
        "entries": [
            {"user": user_id, "type": "start", "roundUuid": round_uuid, "body": start},
            {"user": user_id, "type": "complete", "roundUuid": round_uuid, "body": {"findings": findings}},
            {"user": user_id, "type": "photo", "roundUuid": round_uuid, "photoUuid": photo_uuid},
        ],
        "photos": [{"uuid": photo_uuid, "finding_uuid": light["uuid"], "sha256": hashlib.sha256(data).hexdigest(),
                    "jpeg_base64": base64.b64encode(data).decode()}],
    }


def signed(document: dict, key: str | None = None, key_id: str | None = None) -> dict:
    """The file as the phone writes it: the work as text, signed with the key its steward's phone was given
    at sign-in (made here as /api/v1/session makes it, unless given)."""
    key_id = key_id or security.new_export_key_id()
    key = key or security.export_key(document["user_id"], key_id)
    payload = json.dumps(document)
    return {"format": "xuncha-unsynced-work/2", "user_id": document["user_id"], "key_id": key_id,
            "signature": security.export_signature(key, payload), "payload": payload}


def post_file(client, auth, document, raw=None):
    body = raw if raw is not None else json.dumps(signed(document)).encode()
    return client.post("/desk/import", data={"csrf_token": auth.csrf(), "file": (io.BytesIO(body), "work.json")},
                       content_type="multipart/form-data")


def test_import_stores_the_round_and_photo_once(client, auth, world):
    document = exported_file(client, auth, world)
    auth.login("desk")
    first = post_file(client, auth, document)
    assert first.status_code == 200
    assert "needs attention" not in first.get_data(as_text=True).lower()
    rnd = db.session.scalars(sa.select(Round)).one()
    assert rnd.status is RoundStatus.COMPLETED and rnd.steward.username == "amy"
    assert db.session.scalars(sa.select(Photo)).one().status is PhotoStatus.STORED
    findings = db.session.scalar(sa.select(sa.func.count()).select_from(Finding))

    again = post_file(client, auth, document)  # twice: nothing twice
    assert again.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == findings
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1


def test_a_desk_of_another_estate_cannot_import_it(client, auth, world):
    document = exported_file(client, auth, world)
    auth.login("far-desk")
    response = post_file(client, auth, document)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


@pytest.mark.parametrize("raw", [b"not json", b'{"format": "something else"}', b"[]"])
def test_a_file_that_is_not_an_export_is_refused_clearly(client, auth, world, raw):
    auth.login("desk")
    response = post_file(client, auth, None, raw=raw)
    assert response.status_code == 422
    assert "flash-error" in response.get_data(as_text=True)


def test_a_damaged_entry_is_reported_and_the_rest_imported(client, auth, world):
    document = exported_file(client, auth, world)
    document["photos"][0]["jpeg_base64"] = "%%%not base64%%%"
    auth.login("desk")
    response = post_file(client, auth, document)
    assert response.status_code == 200
    assert db.session.scalars(sa.select(Round)).one().status is RoundStatus.COMPLETED
    assert "field-error" in response.get_data(as_text=True)


def test_an_exported_check_of_a_repair_is_imported_once(client, auth, world):
    from app.models import RepairTicket, TicketStatus, TicketVerification
    from app.repairs import tickets

    document = exported_file(client, auth, world)
    auth.login("desk")
    assert post_file(client, auth, document).status_code == 200
    ticket = db.session.scalars(sa.select(RepairTicket)).one()
    desk = db.session.scalars(sa.select(User).where(User.username == "desk")).one()
    tickets.dispatch(ticket, desk, to="工程部")
    tickets.repair(ticket, desk, work_done="換燈管")
    db.session.commit()
    check_uuid = str(uuidlib.uuid4())
    document = {"format": "xuncha-unsynced-work/1", "user_id": world["steward"].id, "photos": [], "entries": [
        {"user": world["steward"].id, "type": "verification", "roundUuid": check_uuid,
         "body": {"uuid": check_uuid, "ticket_id": ticket.id, "passed": True, "note": "",
                  "recorded_at": "2026-11-26T10:00:00+08:00"}}]}
    for _ in range(2):
        response = post_file(client, auth, document)
        assert response.status_code == 200 and "damaged" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketVerification)) == 1
    assert db.session.get(RepairTicket, ticket.id).status is TicketStatus.CLOSED


def test_exported_decoration_work_is_imported_once(client, auth, world):
    """A flood test started with its photo, and a material decision, exported from the phone."""
    from datetime import date
    from decimal import Decimal

    from app.models import (
        DecorationPermit,
        FloodTest,
        MaterialRequest,
        MaterialStatus,
        UnitState,
    )

    unit = factories.unit(world["building"], "1-601", state=UnitState.VACANT)
    desk = db.session.scalars(sa.select(User).where(User.username == "desk")).one()
    gate = factories.user(Role.GATE, username="gate", estates=[world["estate"]])
    permits.register(db.session, desk, permits.Registration(
        unit_id=unit.id, owner_name="陳大文", owner_phone="13800138000", contractor_name="安居裝飾",
        contractor_phone="13900139000", workers=2, planned_start=date(2026, 11, 1), planned_end=date(2027, 1, 1),
        scope="廚衛", deposit=Decimal("0")))
    request = materials.raise_material_request(db.session, gate, uuid=str(uuidlib.uuid4()), unit_id=unit.id,
                                               materials="水泥", photo_uuid=str(uuidlib.uuid4()))
    db.session.commit()
    steward_id = world["steward"].id
    test_uuid, photo_uuid, decision_uuid = (str(uuidlib.uuid4()) for _ in range(3))
    data = factories.jpeg_bytes()
    document = {"format": "xuncha-unsynced-work/1", "user_id": steward_id, "entries": [
        {"user": steward_id, "type": "flood-start", "roundUuid": test_uuid, "url": "/api/v1/flood-tests",
         "body": {"uuid": test_uuid, "unit_id": unit.id, "wet_area": "bathroom", "photo_uuid": photo_uuid,
                  "water_level_cm": 3, "recorded_at": "2026-11-26T10:00:00+08:00"}},
        {"user": steward_id, "type": "photo", "roundUuid": test_uuid, "photoUuid": photo_uuid},
        {"user": steward_id, "type": "material", "roundUuid": decision_uuid,
         "url": f"/api/v1/material-requests/{request.id}/decision",
         "body": {"uuid": decision_uuid, "approved": True, "reason": ""}},
    ], "photos": [{"uuid": photo_uuid, "finding_uuid": None, "record_uuid": test_uuid,
                   "sha256": hashlib.sha256(data).hexdigest(), "jpeg_base64": base64.b64encode(data).decode()}]}
    auth.login("far-desk")
    post_file(client, auth, document)  # a desk of another estate: refused, nothing stored
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FloodTest)) == 0
    auth.logout()
    auth.login("desk")
    for _ in range(2):
        response = post_file(client, auth, document)
        assert response.status_code == 200 and "damaged" not in response.get_data(as_text=True)
    test = db.session.scalars(sa.select(FloodTest)).one()
    assert test.uuid == test_uuid and db.session.scalar(sa.select(sa.func.count()).select_from(DecorationPermit)) == 1
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).one()
    assert photo.record_uuid == test_uuid and photo.status is PhotoStatus.STORED
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.APPROVED


def test_a_decoration_entry_with_a_strange_path_is_reported_not_a_crash(client, auth, world):
    document = {"format": "xuncha-unsynced-work/1", "user_id": world["steward"].id, "photos": [], "entries": [
        {"user": world["steward"].id, "type": "flood-result", "roundUuid": str(uuidlib.uuid4()), "url": "/api",
         "body": {"uuid": str(uuidlib.uuid4()), "passed": True}}]}
    auth.login("desk")
    response = post_file(client, auth, document)
    assert response.status_code == 200


def test_import_of_a_malformed_entry_is_reported_not_a_crash(client, auth, world):
    auth.login("desk")
    document = {"format": "xuncha-unsynced-work/1", "user_id": world["steward"].id, "entries": ["junk", 7], "photos": []}
    response = client.post("/desk/import", content_type="multipart/form-data",
                           data={"csrf_token": auth.csrf(), "file": (io.BytesIO(json.dumps(signed(document)).encode()), "w.json")})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("field-error") == 2


def test_import_accepts_files_larger_than_one_photo(app, client, auth, world):
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024  # far below a day's export
    auth.login("desk")
    document = {"format": "xuncha-unsynced-work/1", "user_id": world["steward"].id, "entries": [],
                "photos": [], "padding": "x" * (300 * 1024)}  # under the test client's 500 KB spool
    response = client.post("/desk/import", content_type="multipart/form-data",
                           data={"csrf_token": auth.csrf(), "file": (io.BytesIO(json.dumps(signed(document)).encode()), "w.json")})
    assert response.status_code == 200


def test_the_file_is_signed_with_the_key_the_phone_got_at_sign_in(client, auth, world):
    """The phone's key comes with its session (a steward's only); the desk imports what it signed, and the
    audit log says who imported what."""
    from app.models import AuditEntry

    document = exported_file(client, auth, world)
    auth.login("amy")
    phone = client.get("/api/v1/session").get_json()
    assert len(phone["export_key"]) == 64 and len(phone["export_key_id"]) == 32
    auth.logout()
    auth.login("desk")
    desk = client.get("/api/v1/session").get_json()
    assert desk["export_key"] is None and desk["export_key_id"] is None  # the desk has no key to sign with
    file = signed(document, key=phone["export_key"], key_id=phone["export_key_id"])
    response = post_file(client, auth, None, raw=json.dumps(file).encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Round)).one().steward.username == "amy"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "imported")).one()
    desk_id = db.session.scalars(sa.select(User.id).where(User.username == "desk")).one()
    assert entry.user_id == desk_id and entry.entity_key == "amy" and entry.estate_id == world["estate"].id
    assert entry.after["imported_by"] == "desk" and entry.after["key_id"] == phone["export_key_id"]
    assert len(entry.after["stored"]) == 3 and entry.after["skipped"] == []


def tampered_files(document: dict) -> dict[str, dict]:
    good = signed(document)
    later = json.loads(good["payload"])
    later["entries"][1]["body"]["findings"][0]["result"] = "defect"
    desk_id = db.session.scalars(sa.select(User.id).where(User.username == "desk")).one()
    made_for_desk = signed({**document, "user_id": desk_id})
    return {
        "written by hand (not signed)": document,
        "altered after signing": {**good, "payload": json.dumps(later)},
        "signature of another file": {**good, "signature": signed({**document, "exported_at": "x"})["signature"]},
        "another key id": {**good, "key_id": security.new_export_key_id()},
        "the desk's own id and key, named the steward's": {**made_for_desk, "user_id": document["user_id"]},
        "no signature": {**good, "signature": None},
        "a made-up key": signed(document, key="00" * 32),
    }


@pytest.mark.parametrize("case", ["written by hand (not signed)", "altered after signing", "signature of another file",
                                  "another key id", "the desk's own id and key, named the steward's", "no signature",
                                  "a made-up key"])
def test_a_file_altered_or_written_by_hand_is_refused(client, auth, world, case):
    document = exported_file(client, auth, world)
    auth.login("desk")
    file = tampered_files(document)[case]
    response = post_file(client, auth, None, raw=json.dumps(file).encode())
    assert response.status_code == 422
    assert "flash-error" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0


def test_an_exported_correction_is_imported_once(client, auth, world):
    """A correction the phone queued (static/js/round.js) goes through the same idempotent store."""
    from app.models import FindingAmendment, FindingResult

    document = exported_file(client, auth, world)
    auth.login("desk")
    assert post_file(client, auth, document).status_code == 200
    finding = db.session.scalars(sa.select(Finding).where(Finding.result == FindingResult.FINE)).first()
    round_uuid = db.session.scalars(sa.select(Round)).one().uuid
    body = {"uuid": str(uuidlib.uuid4()), "result": "defect", "why": "補拍後發現", "reason_text": "燈罩裂開"}
    correction = {"format": "xuncha-unsynced-work/1", "user_id": world["steward"].id, "photos": [], "entries": [
        {"user": world["steward"].id, "type": "amendment", "roundUuid": round_uuid,
         "url": f"/api/v1/findings/{finding.uuid}/amendments", "method": "POST", "body": body}]}
    for _ in range(2):
        response = post_file(client, auth, correction)
        assert response.status_code == 200 and "damaged" not in response.get_data(as_text=True)
    stored = db.session.scalars(sa.select(FindingAmendment)).one()
    assert stored.uuid == body["uuid"] and stored.amended_by.username == "amy"


def test_an_exported_investigation_of_a_complaint_is_imported_once_with_its_photo(client, auth, world):
    from app.complaints import operations
    from app.models import ComplaintCategory, ComplaintChannel, ComplaintInvestigation, ComplaintStatus

    desk = db.session.scalars(sa.select(User).where(User.username == "desk")).one()
    complaint = operations.register(db.session, desk, world["estate"], operations.Registration(
        channel=ComplaintChannel.PHONE, category=ComplaintCategory.HYGIENE, complainant_name="陳大文",
        complainant_phone="13800138000", description="樓道有異味", building=world["building"]))
    db.session.commit()
    uuid, photo_uuid, data = str(uuidlib.uuid4()), str(uuidlib.uuid4()), factories.jpeg_bytes()
    steward = world["steward"].id
    document = {"format": "xuncha-unsynced-work/1", "user_id": steward, "entries": [
        {"user": steward, "type": "investigation", "roundUuid": uuid,
         "body": {"uuid": uuid, "complaint_id": complaint.id, "note": "垃圾桶未清", "photo_uuids": [photo_uuid],
                  "recorded_at": "2026-11-26T10:00:00+08:00"}},
        {"user": steward, "type": "photo", "roundUuid": uuid, "photoUuid": photo_uuid}],
        "photos": [{"uuid": photo_uuid, "finding_uuid": None, "record_uuid": uuid,
                    "sha256": hashlib.sha256(data).hexdigest(), "jpeg_base64": base64.b64encode(data).decode()}]}
    auth.login("desk")
    for _ in range(2):
        response = post_file(client, auth, document)
        assert response.status_code == 200 and "damaged" not in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(ComplaintInvestigation)).one().uuid == uuid
    assert db.session.get(type(complaint), complaint.id).status is ComplaintStatus.INVESTIGATED
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).one()
    assert photo.status is PhotoStatus.STORED and photo.record_uuid == uuid


def test_an_exported_rounds_checkpoint_scans_are_imported_with_it(client, auth, world):
    from datetime import datetime, timezone

    from app.models import CheckpointScan, RoundKind, ScanOutcome
    from app.rounds import checkpoints

    checkpoints.ensure_codes(db.session, world["estate"], RoundKind.CORRIDOR)
    db.session.commit()
    key, _label, code = checkpoints.codes_of(db.session, world["estate"], RoundKind.CORRIDOR)[0]
    document = exported_file(client, auth, world)
    complete = next(e for e in document["entries"] if e["type"] == "complete")
    complete["body"]["scans"] = [{"uuid": str(uuidlib.uuid4()), "method": "camera",
                                  "code": checkpoints.code_text(code),
                                  "scanned_at": datetime.now(timezone.utc).isoformat()}]
    auth.login("desk")
    assert post_file(client, auth, document).status_code == 200
    [scan] = db.session.scalars(sa.select(CheckpointScan)).all()
    assert (scan.checkpoint_key, scan.outcome) == (key, ScanOutcome.ACCEPTED)
