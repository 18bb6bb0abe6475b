"""A complaint in Chromium at 412×915: the desk registers it by phone, the steward finds it on the
today page and records the investigation on site with a photo and no signal (it reaches the office
once the signal is back), the desk sees it beside the records
of the same place, answers the owner and closes it with its cause; its return visit is then due."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Complaint, ComplaintStatus, ReturnVisit

from .conftest import ARTIFACTS, sign_in
from .test_offline import outbox_size, ready_offline

pytestmark = pytest.mark.e2e
PHONE = {"width": 412, "height": 915}


def page_of(browser, username, base):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-TW", has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, username)
    page.wait_for_load_state()
    return context, page


def test_a_complaint_from_the_desk_to_the_steward_and_back(live_server, browser, demo_estate, camera_photo):
    desk_ctx, desk = page_of(browser, "desk1", live_server)
    desk.goto(f"{live_server}/complaints/new")
    desk.select_option("#channel", "phone")
    desk.select_option("#category", "noise")
    desk.fill("#complainant_name", "陳大文")
    desk.fill("#complainant_phone", "13800138000")
    desk.select_option("#building", label="1棟")
    desk.fill("#room", "1-101")
    desk.fill("#description", "樓上深夜施工噪音")
    desk.fill("#expectation", "今晚停止")
    with desk.expect_navigation():
        desk.click("form.panel button[type=submit]")
    desk.wait_for_selector(".complaint-card")
    db.session.commit()
    complaint = db.session.scalars(sa.select(Complaint)).one()
    complaint_id, number = complaint.id, complaint.number
    db.session.commit()
    assert number in desk.locator("h1").inner_text()

    steward_ctx, steward = page_of(browser, "steward1", live_server)
    errors = []
    steward.on("pageerror", lambda e: errors.append(str(e)))
    steward.goto(f"{live_server}/rounds/today")
    ready_offline(steward)
    steward.context.set_offline(True)  # on site, with no signal
    steward.reload()
    card = steward.locator(f".investigation-card[data-complaint='{complaint_id}']")
    assert "樓上深夜施工噪音" in card.inner_text()
    card.scroll_into_view_if_needed()
    steward.screenshot(path=str(ARTIFACTS / "complaint-today.png"), full_page=False)
    card.locator(".investigate-open summary").click()
    card.locator("button[type=submit]").click()
    assert card.locator(".note-error").is_visible()  # what was found is needed
    card.locator("textarea[name=note]").fill("1-201 室夜間施工，已當場制止")
    card.locator("input[type=file]").set_input_files(str(camera_photo))
    card.locator(".inv-thumbs img").wait_for()  # shrunk on the phone
    steward.screenshot(path=str(ARTIFACTS / "complaint-investigate.png"), full_page=False)
    card.locator("button[type=submit]").click()
    card.locator(".investigation-answer .badge-local").wait_for()
    assert outbox_size(steward) == 2  # the investigation, its photo
    steward.context.set_offline(False)
    card.locator(".investigation-answer .badge-office").wait_for(timeout=20_000)
    steward.wait_for_selector("#sync-bar[data-pending='0']")
    assert errors == []
    steward_ctx.close()

    desk.goto(f"{live_server}/complaints/{complaint_id}")
    assert "1-201 室夜間施工" in desk.locator(".facts").inner_text()
    desk.locator(".panel .thumbs img").first.wait_for()
    desk.fill("#reply-text", "已通知 1-201 停止夜間施工")
    with desk.expect_navigation():
        desk.click("form[action$='/reply'] button")
    desk.fill("#cause", "鄰居違規夜間裝修")
    with desk.expect_navigation():
        desk.click("form[action$='/close'] button")
    desk.screenshot(path=str(ARTIFACTS / "complaint-closed.png"), full_page=True)
    db.session.commit()
    complaint = db.session.get(Complaint, complaint_id)
    assert complaint.status is ComplaintStatus.CLOSED
    assert db.session.scalars(sa.select(ReturnVisit).where(ReturnVisit.complaint_id == complaint_id)).one()
    db.session.commit()
    desk.goto(f"{live_server}/complaints/visits")
    assert number in desk.locator(".visit-card").first.inner_text()
    desk_ctx.close()
