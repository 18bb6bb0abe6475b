"""A whole corridor round walked in Chromium at phone size, with one defect and its photo, and
corridor clutter marked as a resident violation of the unit responsible, ending in the desk's list
of findings."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Finding,
    FindingResult,
    Photo,
    PhotoStatus,
    Round,
    RoundKind,
    RoundStatus,
    Violation,
)

from .conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e


def press(button):
    """Click a button low on the long round page where a finger would: it is the topmost element at its
    centre (Playwright's own scrolling there lands beside it, under the fixed walk buttons)."""
    button.scroll_into_view_if_needed()
    assert button.evaluate("(b) => { const r = b.getBoundingClientRect();"
                           " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === b; }")
    button.dispatch_event("click")


def test_corridor_round_with_a_defect_and_photo_reaches_the_desk(live_server, phone, runner, camera_photo, browser):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))

    sign_in(phone, live_server, "steward2")
    phone.wait_for_url(f"{live_server}/rounds/today")
    phone.locator(".kind-corridor form button").first.click()
    phone.wait_for_selector(".checkpoint")
    total = len(phone.locator(".checkpoint-picker option").all())
    assert total == 22  # 2 stairwells × (entrance + 10 floors)

    for index in range(total):
        if index == 3:  # a broken light on this floor
            light = phone.locator('li[data-item="COR-LIGHT"]')
            light.locator("button.result-defect").click()
            light.locator(".chip").first.click()
            light.locator("input[type=file]").set_input_files(str(camera_photo))
            light.locator(".thumb img").wait_for()
            light.locator("textarea.note").fill("近電梯口")
        if index == 5:  # bikes in the corridor, traced to the unit responsible (a resident violation)
            clutter = phone.locator('li[data-item="COR-CLUTTER"]')
            clutter.locator("button.result-defect").click()
            clutter.locator(".defect-details > .chips .chip").nth(1).click()
            clutter.locator("input[type=file]").set_input_files(str(camera_photo))
            clutter.locator(".thumb img").wait_for()
            press(clutter.locator(".resident-toggle"))
            assert clutter.locator(":scope > .field-error").is_visible()  # its kind and room are needed
            press(clutter.locator(".resident-mark .chip[aria-pressed=false]").first)  # corridor clutter
            clutter.locator(".resident-room").fill("1-501")
            phone.screenshot(path=str(ARTIFACTS / "round-resident-violation.png"), full_page=False)
        phone.click(".all-fine")
        phone.click(".walk-nav .primary")

    phone.wait_for_selector(".summary")
    assert phone.locator(".count-defect strong").inner_text() == "2"
    assert phone.locator(".defect-summary .thumb img").count() == 2
    assert "1-501" in phone.locator(".resident-summary").inner_text()
    phone.click("button.complete")
    phone.wait_for_selector(".done")
    phone.click(".done a")
    phone.wait_for_selector(".checkpoint-summary")
    phone.locator(".finding.result-defect .thumb img").nth(1).wait_for()
    assert phone.locator(".resident-mark[data-kind='clutter']").count() == 1
    assert errors == []

    rnd = db.session.scalars(sa.select(Round).where(Round.kind == RoundKind.CORRIDOR)).one()
    assert rnd.status is RoundStatus.COMPLETED
    defect, clutter = db.session.scalars(sa.select(Finding).where(Finding.result == FindingResult.DEFECT)
                                         .order_by(Finding.recorded_at)).all()
    assert defect.item.code == "COR-LIGHT" and defect.note == "近電梯口" and defect.reason_code
    assert clutter.item.code == "COR-CLUTTER" and clutter.ticket_id is None
    defect_uuid = defect.uuid
    violation = db.session.get(Violation, clutter.violation_id)
    assert violation.kind == "clutter" and violation.unit.room_number == "1-501" and violation.permit_id is None
    photo = db.session.scalars(sa.select(Photo).where(Photo.finding_id == defect.id)).one()
    assert photo.status is PhotoStatus.STORED and photo.finding_id == defect.id
    assert max(photo.width, photo.height) <= 2048 and photo.width > photo.height  # landscape, as taken
    db.session.commit()  # end this read: SQLite transactions hold the write lock the server needs

    # The desk sees it at once, photo included.
    desk = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-TW")
    page = desk.new_page()
    sign_in(page, live_server, "desk1")
    page.goto(f"{live_server}/desk/findings?defects_only=1")
    cards = page.locator(".findings-list .finding.result-defect")
    assert cards.count() == 2
    assert cards.locator(".resident-mark[data-kind='clutter']").count() == 1  # and the violation it became
    card = page.locator(f"#f-{defect_uuid}")
    image = card.locator(".thumb img")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    desk.close()
