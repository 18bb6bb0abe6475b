"""A whole corridor round walked in Chromium at phone size, with one defect and its photo,
ending in the desk's list of findings."""
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
)

from .conftest import sign_in

pytestmark = pytest.mark.e2e


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
        phone.click(".all-fine")
        phone.click(".walk-nav .primary")

    phone.wait_for_selector(".summary")
    assert phone.locator(".count-defect strong").inner_text() == "1"
    assert phone.locator(".defect-summary .thumb img").count() == 1
    phone.click("button.complete")
    phone.wait_for_selector(".done")
    phone.click(".done a")
    phone.wait_for_selector(".checkpoint-summary")
    assert phone.locator(".finding.result-defect .thumb img").count() == 1
    assert errors == []

    rnd = db.session.scalars(sa.select(Round).where(Round.kind == RoundKind.CORRIDOR)).one()
    assert rnd.status is RoundStatus.COMPLETED
    defect = db.session.scalars(sa.select(Finding).where(Finding.result == FindingResult.DEFECT)).one()
    assert defect.item.code == "COR-LIGHT" and defect.note == "近電梯口" and defect.reason_code
    photo = db.session.scalars(sa.select(Photo)).one()
    assert photo.status is PhotoStatus.STORED and photo.finding_id == defect.id
    assert max(photo.width, photo.height) <= 2048 and photo.width > photo.height  # landscape, as taken
    db.session.commit()  # end this read: SQLite transactions hold the write lock the server needs

    # The desk sees it at once, photo included.
    desk = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-TW")
    page = desk.new_page()
    sign_in(page, live_server, "desk1")
    page.goto(f"{live_server}/desk/findings?defects_only=1")
    card = page.locator(".findings-list .finding.result-defect")
    assert card.count() == 1
    image = card.locator(".thumb img")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    desk.close()
