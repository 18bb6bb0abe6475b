"""An owner scans a code and reports, with no account: the place filled in, a repair ticket in the
desk's intake marked owner report (or "already reported" on the one open), a private status link;
the limits and refusals of a public page."""
from __future__ import annotations

import io
import re
import uuid

import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.models import (
    Complaint,
    OwnerCode,
    OwnerReport,
    Photo,
    RepairTicket,
    TicketChannel,
    TicketEvent,
)
from app.owners import codes

from tests import factories
from tests.conftest import csrf_from

URL_IN_SHEET = re.compile(r'data-url="(http://localhost/o/[^"]+)"')


def stairwell_code() -> OwnerCode:
    return db.session.scalars(sa.select(OwnerCode).where(OwnerCode.entrance_id.is_not(None))).one()


def send(client, token: str, ip: str | None = None, photos=(), **fields):
    env = {"REMOTE_ADDR": ip or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.1"}
    page = client.get(f"/o/{token}", environ_base=env)
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "kind": "repair", "item": "light", "floor": "3",
            "description": "三樓燈不亮", "phone": "13700137000", **fields,
            "photos": [(io.BytesIO(p), f"p{i}.jpg", "image/jpeg") for i, p in enumerate(photos)]}
    return client.post(f"/o/{token}", data=data, content_type="multipart/form-data", environ_base=env)


def test_the_sheet_draws_one_svg_code_per_stairwell_and_it_opens_the_place(client, auth, world):
    auth.login("desk")
    sheet = client.get("/owners/sheet?kind=entrance").get_data(as_text=True)
    urls = URL_IN_SHEET.findall(sheet)
    assert len(urls) == 1 and sheet.count('class="segno"') == 1 and 'class="segno"' in sheet
    auth.logout()
    page = client.get(urls[0].removeprefix("http://localhost"), headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert world["estate"].name in text and "1梯" in text and "Report to the management office" in text


def test_a_report_becomes_an_owner_ticket_with_its_photo_and_a_status_link(client, auth, world):
    code = stairwell_code()
    response = send(client, code.token, photos=[factories.jpeg_bytes((2400, 1800))])
    assert response.status_code == 303
    status_url = response.headers["Location"]
    report = db.session.scalars(sa.select(OwnerReport)).one()
    ticket = report.ticket
    assert ticket.channel is TicketChannel.APP and ticket.item_code == "COR-LIGHT" and ticket.floor == 3
    assert ticket.entrance_id == code.entrance_id and ticket.created_by_id is None and not report.seen_again
    photo = db.session.scalars(sa.select(Photo).where(Photo.record_uuid == report.uuid)).one()
    assert max(photo.width, photo.height) <= 2048
    status = client.get(status_url).get_data(as_text=True)
    assert "13700137000" not in status  # nothing personal on a public page
    assert f"/o/s/{report.status_token}/photos/{photo.uuid}/thumb" in status
    assert client.get(f"/o/s/{report.status_token}/photos/{photo.uuid}/thumb").status_code == 200
    # The desk's intake shows it as an owner report, with the photo and the phone to call back.
    auth.login("desk")
    intake = client.get("/owners/reports").get_data(as_text=True)
    assert ticket.number in intake and "13700137000" in intake and photo.uuid in intake
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200
    auth.logout()
    auth.login("far-desk")
    assert ticket.number not in client.get("/owners/reports").get_data(as_text=True)
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 404


def test_the_same_thing_reported_again_is_seen_again_not_duplicated(client, world):
    code = stairwell_code()
    send(client, code.token)
    response = send(client, code.token, floor="5", description="五樓也不亮")
    assert response.status_code == 303
    with force_locale("en"):
        page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "already reported" in page and "Expected by" in page
    ticket = db.session.scalars(sa.select(RepairTicket)).one()
    assert ticket.recurrences == 1
    assert [e.kind for e in db.session.scalars(sa.select(TicketEvent).order_by(TicketEvent.id))] == [
        "opened", "seen_again"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OwnerReport)) == 2


def test_a_complaint_by_code_is_registered_for_the_desk(client, world):
    code = stairwell_code()
    assert send(client, code.token, kind="complaint", item="noise", description="樓上深夜噪音").status_code == 303
    complaint = db.session.scalars(sa.select(Complaint)).one()
    assert complaint.channel.value == "app" and complaint.entrance_id == code.entrance_id
    assert complaint.complainant_phone == "13700137000" and complaint.created_by_id is None


def test_bad_input_is_said_on_the_page_and_nothing_is_stored(client, app, world):
    code = stairwell_code()
    app.config["OWNER_PHOTO_MAX_BYTES"] = 50_000
    cases = [dict(phone="abc"), dict(item="teleport"), dict(kind="complaint", item="noise", description=""),
             dict(floor="99"), dict(photos=[factories.jpeg_bytes()] * 4),
             dict(photos=[b"not a photo at all" * 100]), dict(photos=[factories.jpeg_bytes((3000, 3000))])]
    for fields in cases:
        response = send(client, code.token, **fields)
        assert response.status_code in (413, 422), fields
        assert 'class="field-error"' in response.get_data(as_text=True) or "flash-error" in response.get_data(as_text=True)
    for model in (OwnerReport, RepairTicket, Complaint, Photo):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model


def test_guessed_or_retired_codes_and_links_answer_404_telling_nothing(client, world):
    code = stairwell_code()
    guess = codes.new_token()
    guessed = client.get("/o/" + guess)
    assert guessed.status_code == 404
    assert client.get("/o/s/" + "x" * 32).status_code == 404
    codes.retire(code)
    db.session.commit()
    retired = client.get(f"/o/{code.token}")
    assert retired.status_code == 404
    assert (without_tokens(retired.get_data(as_text=True)).replace(code.token, "T")
            == without_tokens(guessed.get_data(as_text=True)).replace(guess, "T"))


def without_tokens(html: str) -> str:
    return re.sub(r'(csrf[-_]token"? (?:type="hidden" )?(?:content|value)=)"[^"]+"', r"\1", html)


def test_a_post_without_the_csrf_token_is_refused(client, world):
    code = stairwell_code()
    response = client.post(f"/o/{code.token}", data={"kind": "repair", "item": "light", "phone": "13700137000"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OwnerReport)) == 0


def test_per_address_limit_answers_429_with_a_plain_message(client, app, world):
    code = stairwell_code()
    app.config["OWNER_REPORT_LIMIT_PER_ADDRESS"] = "2 per hour"
    ip = f"192.0.2.{uuid.uuid4().int % 250}"
    assert send(client, code.token, ip=ip).status_code == 303
    assert send(client, code.token, ip=ip).status_code == 303
    refused = send(client, code.token, ip=ip)
    assert refused.status_code == 429 and "<form" in refused.get_data(as_text=True)  # the language switch only
    assert send(client, code.token).status_code == 303  # another address
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OwnerReport)) == 3


def test_per_code_limit_answers_429_from_any_address(client, app, world):
    code = stairwell_code()
    app.config["OWNER_REPORT_LIMIT_PER_CODE"] = "2 per hour"
    assert send(client, code.token).status_code == 303
    assert send(client, code.token).status_code == 303
    assert send(client, code.token).status_code == 429
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OwnerReport)) == 2


def test_the_owners_photo_reaches_the_ticket_page_and_engineering(client, auth, world):
    from app.models import Role

    world.add_person("eng", Role.ENGINEERING, "estate")
    world.save()
    code = stairwell_code()
    send(client, code.token, photos=[factories.jpeg_bytes()])
    report = db.session.scalars(sa.select(OwnerReport)).one()
    photo = db.session.scalars(sa.select(Photo).where(Photo.record_uuid == report.uuid)).one()
    auth.login("eng")
    page = client.get(f"/tickets/{report.ticket_id}").get_data(as_text=True)
    assert f"/photos/{photo.uuid}/thumb" in page
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200


def test_an_owners_complaint_photo_is_on_the_complaint_for_the_steward(client, auth, world):
    code = stairwell_code()
    send(client, code.token, kind="complaint", item="hygiene", description="樓道有垃圾",
         photos=[factories.jpeg_bytes()])
    report = db.session.scalars(sa.select(OwnerReport)).one()
    photo = db.session.scalars(sa.select(Photo).where(Photo.record_uuid == report.uuid)).one()
    auth.login("amy")
    page = client.get(f"/complaints/{report.complaint_id}").get_data(as_text=True)
    assert f"/photos/{photo.uuid}/thumb" in page
    assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200
