"""The steward's investigation on site from the phone (POST /api/v1/investigations): in the offline
pack, stored exactly once by its UUID (409 for other content under it), its photos sent after it
naming its UUID; late ones (the complaint moved on) are kept, not applied."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import ComplaintInvestigation, ComplaintStatus, Photo, PhotoStatus
from app.models.base import new_uuid

from tests import factories
from tests.complaints.helpers import last_complaint, post, register

URL = "/api/v1/investigations"


def registered(client, auth, world):
    auth.login("desk")
    register(client, world["building"])
    auth.logout()
    return last_complaint()


def body(complaint, **fields):
    return {"uuid": new_uuid(), "complaint_id": complaint.id, "note": "602 室夜間施工，已當場制止",
            "photo_uuids": [], "recorded_at": "2026-12-08T01:00:00+00:00", **fields}


def test_in_the_pack_recorded_once_with_its_photos_and_shown_to_the_desk(client, auth, api, world):
    complaint = registered(client, auth, world)
    api.login("amy")
    pack = api.get("/api/v1/offline-pack").get_json()
    [task] = pack["investigations"]
    assert task["complaint_id"] == complaint.id and task["number"] == complaint.number
    assert task["category"] == "noise" and task["description"] == "樓上深夜裝修噪音"

    photo_uuid = new_uuid()
    sent = body(complaint, photo_uuids=[photo_uuid])
    first = api.post(URL, sent)
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert answer["uuid"] == sent["uuid"] and answer["applied"] is True
    assert answer["complaint_status"] == "investigated"
    again = api.post(URL, sent)  # the phone sends it again (no answer reached it): the same answer
    assert again.status_code == 201 and again.get_json() == answer
    other = api.post(URL, {**sent, "note": "另一個說法"})
    assert other.status_code == 409 and other.get_json()["code"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintInvestigation)) == 1

    jpeg = factories.jpeg_bytes()
    uploaded = api.upload(photo_uuid, jpeg, record_uuid=sent["uuid"])
    assert uploaded.status_code == 201, uploaded.get_json()
    assert api.upload(photo_uuid, jpeg, record_uuid=sent["uuid"]).status_code == 201  # resent: the same
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).one()
    assert photo.status is PhotoStatus.STORED and photo.record_uuid == sent["uuid"]
    complaint = last_complaint()
    assert complaint.status is ComplaintStatus.INVESTIGATED and complaint.investigation == sent["note"]
    assert [e.kind for e in complaint.events] == ["registered", "investigated"]
    assert api.get("/api/v1/offline-pack").get_json()["investigations"] == []

    # The desk sees what was found and the photo; the other estate's desk sees neither.
    api.login("desk")
    page = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "602 室夜間施工" in page and f"/photos/{photo_uuid}/thumb" in page
    assert client.get(f"/photos/{photo_uuid}/thumb").status_code == 200
    api.login("far-desk")
    assert client.get(f"/photos/{photo_uuid}/thumb").status_code == 404


def test_bad_input_is_refused_and_stores_nothing(client, auth, api, world):
    complaint = registered(client, auth, world)
    api.login("amy")
    assert api.post(URL, body(complaint, note="")).status_code == 422
    assert api.post(URL, body(complaint, note="   ")).status_code == 422
    too_many = body(complaint, photo_uuids=[new_uuid() for _ in range(4)])
    assert api.post(URL, too_many).status_code == 422
    assert api.post(URL, body(complaint, uuid="not-a-uuid")).status_code == 422
    assert api.post(URL, body(complaint, complaint_id=2_000_000)).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintInvestigation)) == 0
    # Someone else's UUID: not found, nothing told; the desk may not record one.
    sent = body(complaint)
    assert api.post(URL, sent).status_code == 201
    api.login("desk")
    assert api.post(URL, body(complaint)).status_code == 403


def test_a_complaint_that_moved_on_keeps_the_late_investigation_unapplied(client, auth, api, world):
    complaint = registered(client, auth, world)
    auth.login("desk")
    assert post(client, auth, f"/complaints/{complaint.id}/reply", text="已通知").status_code == 302
    auth.logout()
    api.login("amy")
    answer = api.post(URL, body(complaint))
    assert answer.status_code == 201 and answer.get_json()["applied"] is False
    complaint = last_complaint()
    assert complaint.status is ComplaintStatus.REPLIED and complaint.investigation == ""
    assert complaint.events[-1].kind == "late_investigation"
