"""The security gate's page (materials in, units stopped), the desk's handling of refused material
requests, and the steward's web decision."""
from __future__ import annotations

import io
import re
import uuid as uuidlib
from datetime import date

import pytest
import sqlalchemy as sa

from app.decoration import materials, permits
from app.extensions import db
from app.models import (
    DecorationEvent,
    Language,
    MaterialRequest,
    MaterialStatus,
    Photo,
    PhotoStatus,
    Role,
)
from app.photos import uploads

from tests import factories

OWNER_NAME, OWNER_PHONE = "王業主", "13911112222"
CONTACT_NAME, CONTACT_PHONE = "李住戶", "13733334444"
UUID_INPUT = re.compile(r'name="uuid" type="hidden" value="([0-9a-f-]{36})"')


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"building": "1棟"}, other="遠方苑", language=Language.EN)
    w.add_unit("unit", "building", "1-101")
    w.add_unit("idle", "building", "1-102")  # occupied, no decoration registration
    factories.contact(w["unit"], name=CONTACT_NAME, phone=CONTACT_PHONE)
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("gate", Role.GATE, "estate")
    w.add_person("steward", Role.STEWARD, "building", username="amy")
    w.add_person("boss", Role.SUPERVISOR, "estate")
    w.add_building("far_building", "other")
    w.add_person("far_gate", Role.GATE, "other")
    w.add_person("far_steward", Role.STEWARD, "other")
    w.add_permit("permit", "unit", owner_name=OWNER_NAME, owner_phone=OWNER_PHONE, contractor_name="好家裝修",
                 contractor_phone="13655556666", planned_start=date(2026, 11, 1), planned_end=date(2027, 1, 31),
                 scope="廚衛翻新")
    return w.save()


def gate_form_uuid(client) -> str:
    html = client.get("/gate/").get_data(as_text=True)
    match = UUID_INPUT.search(html)
    assert match, "no request uuid on the gate page"
    return match.group(1)


def ask(client, auth, unit_id, *, uuid=None, materials="瓷磚 20 箱", data=None, filename="materials.jpg", **kw):
    uuid = uuid or gate_form_uuid(client)
    return client.post("/gate/", data={
        "csrf_token": auth.csrf(), "uuid": uuid, "unit": unit_id, "materials": materials,
        "photo": (io.BytesIO(factories.jpeg_bytes() if data is None else data), filename)},
        content_type="multipart/form-data", **kw)


def post(client, auth, path, data=None, **kw):
    return client.post(path, data={"csrf_token": auth.csrf(), **(data or {})}, **kw)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def raise_request(world) -> MaterialRequest:
    """A request raised through the service, with a real photo, as the gate page does."""
    uuid = str(uuidlib.uuid4())
    photo = uploads.store_form_photo(db.session, world["gate"], uuid, factories.jpeg_bytes(), max_bytes=10_000_000,
                                     max_pixels=50_000_000, timezone_name="Asia/Shanghai")
    request = materials.raise_material_request(db.session, world["gate"], uuid=uuid, unit_id=world["unit"].id,
                                               materials="水泥 10 包", photo_uuid=photo.uuid)
    db.session.commit()
    return request


def flashed(client) -> str:
    """The messages waiting for the next page (the steward's page belongs to another area)."""
    with client.session_transaction() as session:
        return " ".join(str(message) for _, message in session.get("_flashes", []))


def decide(client, auth, request_id, approved, reason="", uuid=None, **kw):
    return post(client, auth, f"/gate/requests/{request_id}/decide",
                {"uuid": uuid or str(uuidlib.uuid4()), "approved": "1" if approved else "0", "reason": reason}, **kw)


def test_gate_raises_a_request_with_a_photo(client, auth, world):
    auth.login("gate")
    page = client.get("/gate/").get_data(as_text=True)
    assert "1棟 1-101 · 好家裝修" in page and 'capture="environment"' in page and 'accept="image/*"' in page
    assert "1-102" not in page  # only decorating units
    uuid = gate_form_uuid(client)
    response = ask(client, auth, world["unit"].id, uuid=uuid)
    assert response.status_code == 302 and response.location.endswith("/gate/")
    request = db.session.scalars(sa.select(MaterialRequest)).one()
    assert request.uuid == uuid and request.status is MaterialStatus.PENDING
    assert request.materials == "瓷磚 20 箱" and request.permit_id == world["permit"].id
    photo = db.session.scalars(sa.select(Photo)).one()
    assert photo.uuid == request.photo_uuid and photo.record_uuid == request.uuid
    assert photo.status is PhotoStatus.STORED and photo.uploaded_by_id == world["gate"].id
    event = db.session.scalars(sa.select(DecorationEvent).where(DecorationEvent.kind == "material_requested")).one()
    assert event.material_request_id == request.id and event.unit_id == world["unit"].id
    page = client.get("/gate/").get_data(as_text=True)
    assert "Sent to the steward" in page and "瓷磚 20 箱" in page
    assert f"/photos/{photo.uuid}/thumb" in page
    # The gate sees its request's photo; so does the building's steward; another estate's users do not.
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200
    auth.logout()
    auth.login("amy")
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200
    assert client.get(f"/photos/{photo.uuid}/display").status_code == 200
    for stranger in ("far-gate", "far-steward"):
        auth.logout()
        auth.login(stranger)
        assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 404


def test_a_photo_that_is_not_an_image_stores_nothing(client, auth, world):
    auth.login("gate")
    response = ask(client, auth, world["unit"].id, data=b"%PDF-1.4 not a photo at all", filename="a.pdf")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="flash flash-error"' in html
    assert count(MaterialRequest) == 0 and count(Photo) == 0 and count(DecorationEvent) == 1  # the registration


def test_photo_and_materials_are_required(client, auth, world):
    auth.login("gate")
    uuid = gate_form_uuid(client)
    response = client.post("/gate/", data={"csrf_token": auth.csrf(), "uuid": uuid, "unit": world["unit"].id,
                                           "materials": ""}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say what materials are coming in." in html and "Take a photo of the materials." in html
    assert count(MaterialRequest) == 0 and count(Photo) == 0


def test_a_unit_without_an_active_registration_is_refused(client, auth, world):
    auth.login("gate")
    response = ask(client, auth, world["idle"].id)
    assert response.status_code == 422
    assert "no active decoration registration" in response.get_data(as_text=True)
    assert count(MaterialRequest) == 0 and count(Photo) == 0


def test_a_cancelled_registration_stops_requests(client, auth, world):
    auth.login("gate")
    uuid = gate_form_uuid(client)
    permits.cancel(db.session, world["desk"], world["permit"], "登記錯誤")
    db.session.commit()
    response = ask(client, auth, world["unit"].id, uuid=uuid)
    assert response.status_code == 422 and count(MaterialRequest) == 0 and count(Photo) == 0
    assert "No unit is registered for decoration now" in response.get_data(as_text=True)


def test_a_double_submit_stores_one_request(client, auth, world):
    auth.login("gate")
    uuid = gate_form_uuid(client)
    assert ask(client, auth, world["unit"].id, uuid=uuid).status_code == 302
    assert ask(client, auth, world["unit"].id, uuid=uuid).status_code == 302
    assert count(MaterialRequest) == 1 and count(Photo) == 1
    # A fresh page is a fresh request.
    assert gate_form_uuid(client) != uuid


def test_the_gate_never_sees_owner_details(client, auth, world):
    request = raise_request(world)
    materials.decide_material(db.session, world["steward"], uuid=str(uuidlib.uuid4()), request_id=request.id,
                              approved=False, reason="未按時段進場")
    materials.settle_material(db.session, world["desk"], request, escalate=False, note="已與業主溝通")
    permits.stop_work(db.session, world["desk"], world["permit"], "擅自拆改承重牆")
    db.session.commit()
    auth.login("gate")
    assert client.get(f"/desk/units/{world['unit'].id}").status_code == 403
    assert client.get("/gate/requests").status_code == 403
    html = client.get("/gate/").get_data(as_text=True)
    assert "擅自拆改承重牆" in html and "未按時段進場" in html  # the stopped unit and the steward's reason
    for secret in (OWNER_NAME, OWNER_PHONE, CONTACT_NAME, CONTACT_PHONE, "已與業主溝通"):
        assert secret not in html
    # Nor for the desk or a supervisor looking at the gate's page.
    for username in ("desk", "boss"):
        auth.logout()
        auth.login(username)
        html = client.get("/gate/").get_data(as_text=True)
        assert "擅自拆改承重牆" in html
        for secret in (OWNER_NAME, OWNER_PHONE, CONTACT_NAME, CONTACT_PHONE):
            assert secret not in html


def test_stopped_units_are_listed_for_the_gate(client, auth, world):
    auth.login("gate")
    assert "No unit has its work stopped." in client.get("/gate/").get_data(as_text=True)
    permits.stop_work(db.session, world["desk"], world["permit"], "噪音擾民")
    db.session.commit()
    html = client.get("/gate/").get_data(as_text=True)
    assert "噪音擾民" in html and "1棟 1-101" in html and "Since " in html


def test_steward_refuses_only_with_a_reason(client, auth, world):
    request = raise_request(world)
    auth.login("amy")
    assert decide(client, auth, request.id, approved=False).status_code == 302
    assert "Say why the materials may not come in." in flashed(client)
    request = db.session.get(MaterialRequest, request.id)
    assert request.status is MaterialStatus.PENDING and request.decision_uuid is None
    response = decide(client, auth, request.id, approved=False, reason="非施工時段")
    assert response.status_code == 302 and response.location.endswith("/rounds/today")
    request = db.session.get(MaterialRequest, request.id)
    assert request.status is MaterialStatus.REFUSED and request.reason == "非施工時段"
    assert request.decided_by_id == world["steward"].id
    # The desk sees it with the owner's phone to call.
    auth.logout()
    auth.login("desk")
    html = client.get("/gate/requests").get_data(as_text=True)
    assert "非施工時段" in html and "水泥 10 包" in html and f"/photos/{request.photo_uuid}/thumb" in html
    assert f'href="tel:{OWNER_PHONE}"' in html and OWNER_NAME in html
    assert f'href="tel:{CONTACT_PHONE}"' in html and CONTACT_NAME in html


def test_steward_approval_and_a_repeated_decision(client, auth, world):
    request = raise_request(world)
    auth.login("amy")
    uuid = str(uuidlib.uuid4())
    assert decide(client, auth, request.id, approved=True, uuid=uuid).status_code == 302
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.APPROVED
    # The same decision sent again is the same decision; another one is refused.
    assert decide(client, auth, request.id, approved=True, uuid=uuid).status_code == 302
    decide(client, auth, request.id, approved=False, reason="改主意")
    assert "This request was already decided." in flashed(client)
    request = db.session.get(MaterialRequest, request.id)
    assert request.status is MaterialStatus.APPROVED and request.reason == ""
    assert count(DecorationEvent) == 3  # registered, requested, approved


def test_approval_is_refused_when_work_is_stopped(client, auth, world):
    request = raise_request(world)
    permits.stop_work(db.session, world["desk"], world["permit"], "擅自拆改承重牆")
    db.session.commit()
    auth.login("amy")
    decide(client, auth, request.id, approved=True)
    assert "Work is stopped at this unit" in flashed(client)
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.PENDING


def test_a_steward_of_another_estate_gets_404(client, auth, world):
    request = raise_request(world)
    auth.login("far-steward")
    assert decide(client, auth, request.id, approved=True).status_code == 404
    assert decide(client, auth, 999999, approved=True).status_code == 404
    assert post(client, auth, f"/gate/requests/{request.id}/decide",
                {"uuid": str(uuidlib.uuid4()), "approved": "yes"}).status_code == 400
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.PENDING


def test_desk_settles_or_escalates(client, auth, world):
    first, second = raise_request(world), raise_request(world)
    for r in (first, second):
        materials.decide_material(db.session, world["steward"], uuid=str(uuidlib.uuid4()), request_id=r.id,
                                  approved=False, reason="無出入證")
    db.session.commit()
    auth.login("desk")
    response = post(client, auth, f"/gate/requests/{first.id}/settle", {"note": "", "escalate": "0"},
                    follow_redirects=True)
    assert "Write what was agreed with the owner." in response.get_data(as_text=True)
    assert db.session.get(MaterialRequest, first.id).status is MaterialStatus.REFUSED
    assert post(client, auth, f"/gate/requests/{first.id}/settle",
                {"note": "業主補辦出入證", "escalate": "0"}).status_code == 302
    first = db.session.get(MaterialRequest, first.id)
    assert first.status is MaterialStatus.RESOLVED and first.resolution_note == "業主補辦出入證"
    assert first.resolved_by_id == world["desk"].id
    assert post(client, auth, f"/gate/requests/{second.id}/settle",
                {"note": "業主不接電話", "escalate": "1"}).status_code == 302
    assert db.session.get(MaterialRequest, second.id).status is MaterialStatus.ESCALATED
    kinds = db.session.scalars(sa.select(DecorationEvent.kind).order_by(DecorationEvent.id)).all()
    assert kinds[-2:] == ["material_resolved", "material_escalated"]
    html = client.get("/gate/requests").get_data(as_text=True)
    assert "業主不接電話" in html and "業主補辦出入證" not in html  # escalated listed, settled gone
    assert f'action="/gate/requests/{second.id}/settle"' not in html  # with the supervisor now
    # Settled already: refused.
    response = post(client, auth, f"/gate/requests/{first.id}/settle", {"note": "again", "escalate": "1"},
                    follow_redirects=True)
    assert "Only a refused request waits for the owner to be contacted." in response.get_data(as_text=True)
    assert db.session.get(MaterialRequest, first.id).status is MaterialStatus.RESOLVED


def test_desk_of_another_estate_cannot_settle(client, auth, world):
    request = raise_request(world)
    materials.decide_material(db.session, world["steward"], uuid=str(uuidlib.uuid4()), request_id=request.id,
                              approved=False, reason="無出入證")
    far = factories.user(Role.DESK, username="far-desk", estates=[factories.estate()], language=Language.EN)
    assert far.id
    db.session.commit()
    auth.login("far-desk")
    assert "無出入證" not in client.get("/gate/requests").get_data(as_text=True)
    assert post(client, auth, f"/gate/requests/{request.id}/settle", {"note": "x"}).status_code == 404
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.REFUSED


def test_roles_of_the_gate_pages(client, auth, world):
    auth.login("amy")
    assert client.get("/gate/").status_code == 403
    assert client.get("/gate/requests").status_code == 403
    auth.logout()
    auth.login("desk")
    assert client.get("/gate/").status_code == 200
    assert client.get("/gate/requests").status_code == 200
    assert decide(client, auth, 1, approved=True).status_code == 403
    auth.logout()
    factories.user(Role.GATE, username="gate-zh", estates=[world["estate"]])  # the default language
    auth.login("gate-zh")
    html = client.get("/gate/").get_data(as_text=True)
    assert "1棟 1-101 · 好家裝修" in html and OWNER_NAME not in html
