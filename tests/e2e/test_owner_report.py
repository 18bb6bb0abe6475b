"""An owner scans a stairwell's code on a phone (412×915), reports a broken light with a photo shrunk
on the phone, and the desk sees it in its intake; the desk dispatches it, engineering repairs it
with an "after" photo, the owner's status link shows it done with both photos, and the owner rates it."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Estate, OwnerCode, OwnerReport, Photo, ReturnVisit, TicketChannel, TicketStatus
from app.owners import codes
from app.repairs import tickets

from .conftest import ARTIFACTS, sign_in
from .test_ticket_loop import office_step

import pytest

pytestmark = pytest.mark.e2e
OWNER_PHONE = {"width": 412, "height": 915}


def a_quiet_stairwell_code() -> str:
    """A stairwell's code whose light has no open ticket in the demo's history (so the report opens one)."""
    estate = db.session.scalars(sa.select(Estate)).first()
    codes.ensure_codes(db.session, estate, "entrance")
    db.session.commit()
    for code in db.session.scalars(sa.select(OwnerCode).where(OwnerCode.entrance_id.is_not(None))):
        if tickets.open_ticket_for(db.session, code.estate_id, "COR-LIGHT", entrance_id=code.entrance_id) is None:
            token = code.token
            db.session.commit()
            return token
    raise AssertionError("every stairwell of the demo has its light on a ticket")


def test_an_owner_reports_a_broken_light_by_code_and_rates_the_repair(live_server, browser, demo_estate,
                                                                     camera_photo):
    token = a_quiet_stairwell_code()

    # The desk prints the sheet: the code's URL is read from it (what the QR code encodes).
    desk = browser.new_context(viewport=OWNER_PHONE, locale="zh-TW")
    desk_page = desk.new_page()
    desk_page.set_default_timeout(15_000)
    sign_in(desk_page, live_server, "desk1")
    desk_page.wait_for_load_state()
    desk_page.goto(f"{live_server}/owners/sheet?kind=entrance")
    card = desk_page.locator(f".qr-card[data-url$='/o/{token}']")
    assert card.locator("svg.segno").count() == 1
    desk_page.screenshot(path=str(ARTIFACTS / "owner-qr-sheet.png"), full_page=False)
    url = card.get_attribute("data-url")
    assert url == f"{live_server}/o/{token}"

    # The owner scans it: no account, the place filled in, in the phone's language.
    owner = browser.new_context(viewport=OWNER_PHONE, device_scale_factor=2, locale="zh-TW", has_touch=True,
                                is_mobile=True)
    phone = owner.new_page()
    phone.set_default_timeout(15_000)
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    phone.goto(url)
    assert "向管理處報事" in phone.locator("h1").inner_text()
    assert "1梯" in phone.locator(".owner-place").inner_text()
    phone.select_option("#item", "light")
    phone.fill("#floor", "3")
    phone.fill("#description", "三樓樓道燈不亮")
    phone.set_input_files("#photos", str(camera_photo))
    phone.wait_for_selector("#photos[data-ready='1']")
    phone.fill("#phone", "13700137000")
    phone.screenshot(path=str(ARTIFACTS / "owner-report-form.png"), full_page=True)
    submit = phone.locator("form.owner-form button[type=submit]")
    box = submit.bounding_box()
    assert box["height"] >= 44
    with phone.expect_navigation():
        submit.click()
    assert "/o/s/" in phone.url, phone.locator(".field-error, .flash-error").all_inner_texts()
    phone.wait_for_selector(".owner-status[data-stage='received']")
    assert "13700137000" not in phone.content()
    status_url = phone.url

    db.session.commit()
    report = db.session.scalars(sa.select(OwnerReport)).one()
    ticket = report.ticket
    assert ticket.channel is TicketChannel.APP and ticket.item_code == "COR-LIGHT" and not report.seen_again
    photo = db.session.scalars(sa.select(Photo).where(Photo.record_uuid == report.uuid)).one()
    assert max(photo.width, photo.height) == 1600  # shrunk on the phone (a 3000×2000 camera photo)
    ticket_id, number = ticket.id, ticket.number
    db.session.commit()

    # The desk sees it in its intake, marked as an owner report, with the photo.
    desk_page.goto(f"{live_server}/owners/reports")
    row = desk_page.locator(".owner-report-card", has_text=number)
    assert "業主掃碼報事" in row.inner_text()
    row.locator(".thumb img").wait_for()
    desk_page.screenshot(path=str(ARTIFACTS / "owner-intake.png"), full_page=False)
    desk.close()

    # Dispatched by the desk, repaired by engineering with an "after" photo.
    office_step(browser, live_server, "desk1", ticket_id, "dispatch", {"input[name=who]": "王師傅"})
    office_step(browser, live_server, "eng1", ticket_id, "start")
    office_step(browser, live_server, "eng1", ticket_id, "repair",
                {"textarea[name=work_done]": "更換燈管", "input[type=file]": str(camera_photo)})

    # The owner's link shows it done, before and after, and asks for a rating.
    phone.goto(status_url)
    phone.wait_for_selector(".owner-status[data-stage='done']")
    assert phone.locator(".owner-status img").count() == 2
    assert "王師傅" not in phone.content()  # nobody's name on a public page
    phone.check("input[name=grade][value=A]")
    phone.fill("#words", "修得很快")
    with phone.expect_navigation():
        phone.click(".rating-form button[type=submit]")
    phone.wait_for_selector(".rated")
    phone.screenshot(path=str(ARTIFACTS / "owner-report-rated.png"), full_page=True)
    db.session.commit()
    visit = db.session.scalars(sa.select(ReturnVisit)).one()
    assert visit.by_owner and visit.grade == "A" and visit.ticket_id == ticket_id
    assert db.session.get(type(ticket), ticket_id).status is TicketStatus.REPAIRED  # the steward still checks it
    db.session.commit()
    assert errors == []
    owner.close()
