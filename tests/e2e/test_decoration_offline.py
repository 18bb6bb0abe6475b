"""Decoration on the phone with no signal, in real Chromium: the daily check finds a breach (a
violation, stopped on the spot, with its photo), a visit ends with nobody on site, and a flood test
is started from the today page; all of it reaches the server once the signal is back."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import demo
from app.decoration import flood_tests, materials, permits, violations
from app.extensions import db
from app.models import (
    DecorationEvent,
    FindingResult,
    FloodTest,
    FloodTestStatus,
    Photo,
    PhotoStatus,
    Role,
    Round,
    RoundStatus,
    UnitState,
    Violation,
    ViolationStatus,
    VisitOutcome,
)
from app.photos import uploads
from tests import factories

from .conftest import unfold, sign_in
from .test_offline import outbox_size, ready_offline

pytestmark = pytest.mark.e2e


@pytest.fixture
def decorating(app):
    """One building, one unit registered for decoration by the desk, and its steward."""
    estate = factories.estate()
    building = factories.building(estate, floors=3)
    factories.entrance(building)
    unit = factories.unit(building, "201", state=UnitState.OCCUPIED, floor=2)
    factories.user(Role.STEWARD, "deco-steward", buildings=[building], password=demo.DEMO_PASSWORD)
    desk = factories.user(Role.DESK, "deco-desk", estates=[estate], password=demo.DEMO_PASSWORD)
    today = date.today()
    permits.register(db.session, desk, permits.Registration(
        unit_id=unit.id, owner_name="陳大文", owner_phone="13800138000", contractor_name="好師傅裝修",
        contractor_phone="13900139000", workers=3, planned_start=today, planned_end=today + timedelta(days=30),
        scope="廚房及浴室翻新", deposit=Decimal("3000")))
    unit_id = unit.id
    db.session.commit()  # and no transaction left open: SQLite's write lock is the server's
    return unit_id


def open_today_offline(page, base):
    sign_in(page, base, "deco-steward")
    page.wait_for_url(f"{base}/rounds/today")
    ready_offline(page)
    page.context.set_offline(True)
    page.reload()


def start_check(page):
    page.locator(".kind-decoration form button").first.click()
    page.wait_for_selector(".checkpoint")
    return page.evaluate("new URLSearchParams(location.search).get('round')")


def back_online_and_synced(page):
    page.reload()
    page.wait_for_selector(".delivery .badge-local")  # reloaded with no signal: still on this phone
    page.context.set_offline(False)
    page.wait_for_selector(".delivery .badge-office", timeout=20_000)
    page.wait_for_selector("#sync-bar[data-pending='0']")


def test_a_breach_found_offline_becomes_a_stopped_violation_with_its_photo(live_server, phone, decorating,
                                                                           camera_photo):
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    open_today_offline(phone, live_server)
    round_uuid = start_check(phone)

    total = phone.locator(".checkpoint-picker option").count()
    for index in range(total):
        debris = phone.locator('li[data-item="DEC-COMMON-DEBRIS"]')
        if debris.count():
            debris.locator("button.result-defect").click()
            debris.locator(".chip").first.click()
            debris.locator("input[type=file]").set_input_files(str(camera_photo))
            debris.locator(".thumb img").wait_for()
        phone.click(".all-fine")
        phone.click(".walk-nav .primary")
    phone.wait_for_selector(".summary")
    assert phone.locator(".visit-outcome .outcome-checked[aria-pressed=true]").count() == 1
    assert phone.locator(".count-defect strong").inner_text() == "1"
    phone.click("button.complete")
    phone.wait_for_selector(".done .delivery .badge-local")
    assert outbox_size(phone) == 3  # start, completion, photo

    back_online_and_synced(phone)
    assert errors == []

    db.session.commit()
    rnd = db.session.scalars(sa.select(Round).where(Round.uuid == round_uuid)).one()
    assert rnd.status is RoundStatus.COMPLETED and rnd.visit_outcome is None
    violation = db.session.scalars(sa.select(Violation).where(Violation.unit_id == decorating)).one()
    assert violation.status is ViolationStatus.STOPPED and violation.round_id == rnd.id
    [finding] = violation.findings
    assert finding.item.code == "DEC-COMMON-DEBRIS" and finding.result is FindingResult.DEFECT
    [photo] = db.session.scalars(sa.select(Photo).where(Photo.finding_id == finding.id)).all()
    assert photo.status is PhotoStatus.STORED
    db.session.commit()


def test_nobody_on_site_completes_without_answers_offline(live_server, phone, decorating):
    open_today_offline(phone, live_server)
    round_uuid = start_check(phone)
    phone.click(".to-summary")
    phone.wait_for_selector(".summary")
    assert phone.locator("button.complete").is_disabled()  # a check needs its answers
    phone.click(".visit-outcome .outcome-nobody")
    phone.click("button.complete")
    phone.wait_for_selector(".done .delivery .badge-local")

    back_online_and_synced(phone)
    db.session.commit()
    rnd = db.session.scalars(sa.select(Round).where(Round.uuid == round_uuid)).one()
    assert rnd.status is RoundStatus.COMPLETED and rnd.visit_outcome is VisitOutcome.NOBODY
    assert not rnd.findings
    kinds = db.session.scalars(sa.select(DecorationEvent.kind).where(DecorationEvent.unit_id == decorating)).all()
    assert "visit_nobody" in kinds
    db.session.commit()


def test_a_flood_test_started_offline_reaches_the_office_with_its_photo(live_server, phone, decorating,
                                                                        camera_photo):
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    open_today_offline(phone, live_server)
    unit = phone.locator(f".flood-unit[data-unit='{decorating}']")
    unfold(phone)
    unit.locator(".flood-new summary").click()
    form = unit.locator("form.flood-start")
    form.locator("select[name=area]").select_option("kitchen")
    form.locator("input[name=level]").fill("5")
    form.locator("button[type=submit]").click()
    assert form.locator(".field-error").inner_text()  # the photo is required
    form.locator("input[type=file]").set_input_files(str(camera_photo))
    form.locator(".thumb img").wait_for()
    form.locator("button[type=submit]").click()
    test = unit.locator(".flood-test[data-local='1']")
    test.locator(".badge-local").wait_for()
    assert "48" in test.locator(".pass-from").inner_text()  # not known before the office has it
    test.locator(".flood-answer summary").click()
    assert test.locator("button.answer-1").is_disabled()  # no pass before 48 h (and the neighbours)
    assert outbox_size(phone) == 2  # the start, its photo

    phone.reload()  # still with no signal: the test is still on this phone
    test.locator(".badge-local").wait_for()
    phone.context.set_offline(False)
    test.locator(".badge-office").wait_for(timeout=20_000)
    phone.wait_for_selector("#sync-bar[data-pending='0']")
    assert errors == []

    db.session.commit()
    flood = db.session.scalars(sa.select(FloodTest)).one()
    assert flood.unit_id == decorating and flood.status is FloodTestStatus.RUNNING
    assert flood.water_level_cm == Decimal("5") and flood.wet_area.value == "kitchen"
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == flood.start_photo_uuid)).one()
    assert photo.status is PhotoStatus.STORED and photo.record_uuid == flood.uuid
    earliest, flood_uuid = flood_tests.earliest_pass(flood), flood.uuid
    db.session.commit()

    # The server's answer tells the phone when the test may pass (the estate's time).
    local_time = earliest.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    phone.wait_for_function("([el, t]) => el.textContent.includes(t)",
                            arg=[test.locator(".pass-from").element_handle(), local_time])

    phone.reload()  # online: the server's card, no longer the phone's
    unfold(phone)
    card = phone.locator(f".flood-test[data-test='{flood_uuid}']")
    assert card.get_attribute("data-local") is None
    assert card.get_attribute("data-earliest") == earliest.isoformat()

    # The neighbours are checked; a pass before 48 hours is the server's to refuse, shown with a way to retry.
    card.locator(".neighbour summary").click()
    card.locator("input[name=units]").fill("101, 202")
    card.locator(".neighbour-form button").click()
    card.locator(".flood-local .badge-office").wait_for(timeout=20_000)
    card.locator(".flood-answer summary").click()
    assert card.locator("button.answer-1").is_disabled()  # the phone's clock says not yet
    card.locator("button.answer-1").evaluate("(b) => { b.disabled = false; }")
    card.locator("button.answer-1").click()
    card.locator(".flood-local .badge-attention").wait_for(timeout=20_000)
    assert card.locator(".flood-local .field-error").inner_text()
    card.locator(".flood-local button.retry").wait_for()
    db.session.commit()
    flood = db.session.scalars(sa.select(FloodTest)).one()
    assert flood.status is FloodTestStatus.RUNNING and flood.neighbour_units == "101, 202"
    assert flood.neighbour_leak is False and flood.result_uuid is None
    db.session.commit()


def test_materials_and_a_recheck_answered_offline_reach_the_office(live_server, phone, decorating):
    import uuid as uuidlib
    from datetime import datetime, timezone

    from app.models import MaterialRequest, MaterialStatus, Unit, User
    from app.rounds import schedule

    desk = db.session.scalars(sa.select(User).where(User.username == "deco-desk")).one()
    unit = db.session.get(Unit, decorating)

    def material(text):
        uuid = str(uuidlib.uuid4())
        photo = uploads.store_form_photo(db.session, desk, uuid, factories.jpeg_bytes(), max_bytes=10_000_000,
                                         max_pixels=50_000_000, timezone_name=unit.building.estate.timezone)
        db.session.flush()
        return materials.raise_material_request(db.session, desk, uuid=uuid, unit_id=unit.id, materials=text,
                                                photo_uuid=photo.uuid).id

    first = material("瓷磚 20 箱")
    violation = Violation(estate_id=unit.building.estate_id, unit_id=unit.id, summary="公共走廊堆放建築垃圾",
                          found_by_id=desk.id, found_at=datetime.now(timezone.utc), status=ViolationStatus.STOPPED)
    db.session.add(violation)
    db.session.flush()
    violations.issue_notice(db.session, desk, violation, requirements="即日清理",
                            deadline=schedule.local_date(unit.building.estate, datetime.now(timezone.utc)))
    violation_id = violation.id
    db.session.commit()

    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    open_today_offline(phone, live_server)
    card = phone.locator(f".material-card[data-request='{first}']")
    card.locator("button.answer-0").click()  # a refusal needs a reason
    assert card.locator(".dec-form .field-error").is_visible()
    card.locator("button.answer-1").click()
    card.locator(".dec-answer .badge-local").wait_for()
    recheck = phone.locator(f".recheck-card[data-violation='{violation_id}']")
    recheck.locator(".recheck-open summary").click()
    recheck.locator("button.answer-rectified").click()
    recheck.locator(".dec-answer .badge-local").wait_for()
    assert outbox_size(phone) == 2

    phone.context.set_offline(False)
    card.locator(".dec-answer .badge-office").wait_for(timeout=20_000)
    recheck.locator(".dec-answer .badge-office").wait_for(timeout=20_000)

    # A new request from the gate reaches the open page by itself.
    second = material("水泥 10 包")
    db.session.commit()
    phone.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    phone.locator(f".material-card[data-request='{second}'] button.answer-1").wait_for()
    assert phone.locator(".material-card").first.get_attribute("data-request") == str(second)
    assert phone.locator("#dec-announce").inner_text()
    assert errors == []

    db.session.commit()
    assert db.session.get(MaterialRequest, first).status is MaterialStatus.APPROVED
    assert db.session.get(MaterialRequest, second).status is MaterialStatus.PENDING
    assert db.session.get(Violation, violation_id).status is ViolationStatus.RECTIFIED
    db.session.commit()
