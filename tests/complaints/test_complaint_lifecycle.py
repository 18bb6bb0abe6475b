"""A complaint from the desk's registration to its closing: number and target time at once, the
steward's investigation as a task of the today page (with a photo), the records of the same
place beside it, the answer to the owner, the cause; late ones for the supervisor."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.complaints import operations
from app.extensions import db
from app.models import ComplaintCategory, ComplaintStatus, Photo, ReturnVisit
from app.repairs import tickets

from tests import factories
from tests.complaints.helpers import last_complaint, post, register


def test_the_desk_registers_at_once_with_the_categorys_target_time(client, auth, world):
    auth.login("desk")
    before = datetime.now(timezone.utc)
    response = register(client, world["building"], category="security")
    assert response.status_code == 302
    complaint = last_complaint()
    assert complaint.number.startswith("TS-") and complaint.unit_id == world["home"].id
    assert complaint.category is ComplaintCategory.SECURITY and complaint.status is ComplaintStatus.OPEN
    assert timedelta(hours=11, minutes=59) < complaint.due_at - before < timedelta(hours=12, minutes=1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert complaint.number in page and "陳大文" in page and "13800138000" in page
    assert [e.kind for e in complaint.events] == ["registered"]


def test_bad_input_says_why_and_stores_nothing(client, auth, world):
    auth.login("desk")
    response = register(client, world["building"], room="9-999")
    assert response.status_code == 422
    assert "9-999" in response.get_data(as_text=True)
    response = register(client, world["building"], description="", complainant_name="")
    assert response.status_code == 422
    assert last_complaint() is None


def test_the_steward_investigates_from_the_today_page_with_a_photo(client, auth, world):
    auth.login("desk")
    register(client, world["building"])
    complaint = last_complaint()
    auth.logout()
    auth.login("amy")
    today = client.get("/rounds/today").get_data(as_text=True)
    assert f'data-complaint="{complaint.id}"' in today and "樓上深夜裝修噪音" in today
    # A note is needed: nothing is stored without it.
    data = {"csrf_token": auth.csrf(), "note": ""}
    assert client.post(f"/complaints/{complaint.id}/investigate", data=data).status_code == 422
    data = {"csrf_token": auth.csrf(), "note": "602 室違規夜間施工，已制止",
            "photos": [(io.BytesIO(factories.jpeg_bytes()), "site.jpg", "image/jpeg")]}
    response = client.post(f"/complaints/{complaint.id}/investigate", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    complaint = last_complaint()
    assert complaint.status is ComplaintStatus.INVESTIGATED and complaint.investigated_by_id == world["steward"].id
    photo = db.session.scalars(sa.select(Photo).where(Photo.record_uuid == complaint.uuid)).one()
    assert f'data-complaint="{complaint.id}"' not in client.get("/rounds/today").get_data(as_text=True)
    # The desk sees the photo; the other estate's desk does not.
    auth.logout()
    auth.login("desk")
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200
    auth.logout()
    auth.login("far-desk")
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 404
    assert client.get(f"/complaints/{complaint.id}").status_code == 404


def test_the_complaint_page_shows_tickets_and_findings_of_the_same_place(client, auth, world):
    estate, building = world["estate"], world["building"]
    finding = factories.finding_with_photo(world["steward"], estate, building)  # a light out in the stairwell
    ticket = tickets.ticket_for_defect(db.session, finding)
    db.session.commit()
    auth.login("desk")
    register(client, building, room="", category="facilities", description="樓道燈一直不亮")
    complaint = last_complaint()
    db.session.commit()
    # Registered against the building; named for the stairwell by the operation directly.
    complaint.entrance_id = building.entrances[0].id
    db.session.commit()
    page = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert ticket.number in page and "樓道照明" in page


def test_answer_then_close_with_a_cause_plans_the_return_visit(client, auth, world):
    auth.login("desk")
    register(client, world["building"])
    complaint = last_complaint()
    path = f"/complaints/{complaint.id}"
    with force_locale("en"):
        assert post(client, auth, f"{path}/close", cause="裝修").status_code == 409  # not answered yet
    assert post(client, auth, f"{path}/reply", text="").status_code == 409
    assert post(client, auth, f"{path}/reply", text="已通知 602 室停止夜間施工").status_code == 302
    assert post(client, auth, f"{path}/close", cause="").status_code == 409
    assert post(client, auth, f"{path}/close", cause="鄰居違規夜間施工").status_code == 302
    complaint = last_complaint()
    assert complaint.status is ComplaintStatus.CLOSED and complaint.cause == "鄰居違規夜間施工"
    visit = db.session.scalars(sa.select(ReturnVisit)).one()
    assert visit.complaint_id == complaint.id and visit.due_at - complaint.closed_at == timedelta(days=3)
    assert [e.kind for e in complaint.events] == ["registered", "replied", "closed"]


def test_late_complaints_reach_the_supervisor(client, auth, world):
    now = datetime.now(timezone.utc)
    late = operations.register(db.session, world["desk"], world["estate"], operations.Registration(
        channel=operations.ComplaintChannel.PHONE, category=ComplaintCategory.PARKING, complainant_name="李",
        complainant_phone="", description="車位被佔"), now=now - timedelta(hours=30))
    fresh = operations.register(db.session, world["desk"], world["estate"], operations.Registration(
        channel=operations.ComplaintChannel.PHONE, category=ComplaintCategory.OTHER, complainant_name="張",
        complainant_phone="", description="信箱壞了"), now=now)
    db.session.commit()
    auth.login("boss")
    page = client.get("/complaints/late").get_data(as_text=True)
    assert late.number in page and fresh.number not in page


def test_the_supervisor_sets_target_times(client, auth, world):
    auth.login("boss")
    form = {c.value: "24" for c in ComplaintCategory}
    assert post(client, auth, "/complaints/targets", **{**form, "noise": "0"}).status_code == 422
    assert operations.target_hours(db.session, world["estate"].id, ComplaintCategory.NOISE) == 24  # the default
    assert post(client, auth, "/complaints/targets", **{**form, "noise": "6"}).status_code == 302
    assert operations.target_hours(db.session, world["estate"].id, ComplaintCategory.NOISE) == 6
    auth.logout()
    auth.login("desk")
    assert post(client, auth, "/complaints/targets", **form).status_code == 403


@pytest.mark.parametrize("who", ["amy", "far-desk"])
def test_who_sees_the_complaint_list(client, auth, world, who):
    auth.login("desk")
    register(client, world["building"])
    number = last_complaint().number
    auth.logout()
    auth.login(who)
    response = client.get("/complaints/")
    assert response.status_code == (403 if who == "amy" else 200)
    assert number not in response.get_data(as_text=True)
