"""A round walked on the phone is never walked again, and a conflict never strands what was recorded
(issue 16, item 1): the today list merges the server's list with what the phone holds."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Finding, FindingAmendment, FindingResult, Round, RoundKind, RoundStatus

from .conftest import sign_in
from .test_offline import outbox_size, ready_offline

pytestmark = pytest.mark.e2e

BIG_PHONE = {"width": 412, "height": 915}


@pytest.fixture
def big_phone(browser, request):
    from .conftest import ARTIFACTS
    context = browser.new_context(viewport=BIG_PHONE, device_scale_factor=1, locale="zh-TW", has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    if context.pages:
        context.pages[-1].screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def walk_all_fine(page, defect_photo=None):
    """Answer every place of the round on screen ("all fine", or one defect with its photo first) and complete it."""
    page.wait_for_selector(".checkpoint")
    total = page.locator(".checkpoint-picker option").count()
    for index in range(total):
        if defect_photo and index == 0:
            item = page.locator("li.item").first
            item.locator("button.result-defect").click()
            item.locator(".chip").first.click()
            item.locator("input[type=file]").set_input_files(str(defect_photo))
            item.locator(".thumb img").wait_for()
        page.click(".all-fine")
        page.click(".walk-nav .primary")
    page.wait_for_selector(".summary")
    page.click("button.complete")
    page.wait_for_selector(".done")


def decoration_rounds():
    db.session.commit()
    rounds = [(r.uuid, r.status, len(r.findings))
              for r in db.session.scalars(sa.select(Round).where(Round.kind == RoundKind.DECORATION))]
    db.session.commit()
    return rounds


def test_a_round_done_offline_is_not_started_again_and_syncs_once(live_server, big_phone, demo_estate):
    page = big_phone
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(page)
    card = page.locator(".kind-decoration[data-start]").first
    uuid = card.get_attribute("data-start")

    # No signal, and the page on screen was never reloaded under the worker: start from it.
    page.context.set_offline(True)
    card.locator("form button").click()
    page.wait_for_url(f"**/rounds/walk?round={uuid}")
    walk_all_fine(page)

    # The offline copy of the today page carries the same round ids as the page that was on screen.
    page.goto(f"{live_server}/rounds/today")
    page.wait_for_selector(f"#on-this-phone [data-local-round='{uuid}']")
    assert page.locator(f".round-card[data-start='{uuid}']").is_hidden()  # not under "due" with "start"
    assert page.locator(f"#on-this-phone [data-local-round='{uuid}'] .badge-local").count() == 1
    assert page.locator(".today-groups [data-count='on-this-phone']").inner_text() == "1"  # counted on top
    page.screenshot(path="test-artifacts/today-offline-walked.png")
    answered = page.evaluate("""async (uuid) => {
        const db = await new Promise((ok, fail) => { const r = indexedDB.open('xuncha'); r.onsuccess = () => ok(r.result); r.onerror = fail; });
        const round = await new Promise((ok) => { const r = db.transaction('rounds').objectStore('rounds').get(uuid); r.onsuccess = () => ok(r.result); });
        db.close();
        return Object.values(round.answers).filter((a) => a.result).length;
    }""", uuid)
    assert answered > 0

    # Even a start sent from the hidden card (a stale tap) opens the round walked, answers kept.
    page.evaluate("(uuid) => document.querySelector(`.round-card[data-start='${uuid}'] form`).requestSubmit()", uuid)
    page.wait_for_url(f"**/rounds/walk?round={uuid}")
    page.wait_for_selector(".done")
    assert outbox_size(page) == 2  # one start, one completion: nothing queued twice

    page.context.set_offline(False)
    page.click(".sync-now")
    page.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    page.wait_for_selector(".delivery.status-office")
    assert page.locator("#sync-bar[data-attention='0']").count() == 1
    rounds = decoration_rounds()
    assert [(u, s) for u, s, _ in rounds] == [(uuid, RoundStatus.COMPLETED)]
    assert rounds[0][2] == answered

    # Online again, the today page no longer offers it (the server knows it is done).
    page.goto(f"{live_server}/rounds/today")
    page.wait_for_selector("#sync-bar[data-pending='0']")
    assert page.locator(f".round-card[data-start='{uuid}']:visible").count() == 0
    assert errors == []


def test_a_conflict_shows_both_versions_and_sends_the_differences_as_corrections(live_server, big_phone, demo_estate,
                                                                                  browser, camera_photo):
    page = big_phone
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(page)
    uuid = page.locator(".kind-decoration[data-start]").first.get_attribute("data-start")
    page.context.set_offline(True)
    page.locator(f".round-card[data-start='{uuid}'] form button").click()
    walk_all_fine(page, defect_photo=camera_photo)  # this phone saw a defect

    # Meanwhile another phone of the same steward walked the same card, all fine.
    other = browser.new_context(viewport=BIG_PHONE, locale="zh-TW")
    second = other.new_page()
    sign_in(second, live_server)
    second.wait_for_url(f"{live_server}/rounds/today")
    second.locator(f".round-card[data-start='{uuid}'] form button").click()
    walk_all_fine(second)
    second.wait_for_selector(".delivery.status-office", timeout=20_000)
    other.close()

    page.context.set_offline(False)
    page.click(".sync-now")
    # Never "sent" and "needs attention" at once; the round page shows both versions.
    page.wait_for_selector(".delivery.status-attention .conflict-row", timeout=20_000)
    assert page.locator("#sync-bar[data-attention='0']").count() == 0
    assert page.locator(".conflict-row").count() == 1
    page.screenshot(path="test-artifacts/round-conflict.png", full_page=True)
    assert page.locator(".conflict-row .version-phone").inner_text().count("有問題") == 1
    page.goto(f"{live_server}/rounds/today")  # the message links to what it asks to fix
    link = page.locator("[data-notice^=attention] a")
    link.wait_for()
    link.click()
    page.wait_for_selector(".send-differences")
    page.click(".send-differences")
    page.wait_for_selector(".delivery.status-office", timeout=20_000)

    db.session.commit()
    defect = db.session.scalars(sa.select(FindingAmendment)).one()
    assert defect.result is FindingResult.DEFECT and defect.reason_code
    assert db.session.scalars(sa.select(Finding).where(Finding.id == defect.finding_id)).one().round.uuid == uuid
    db.session.commit()
    assert outbox_size(page) == 0


def test_a_conflict_set_aside_keeps_the_reason_in_the_export_file(live_server, big_phone, demo_estate, browser,
                                                                  camera_photo):
    page = big_phone
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(page)
    uuid = page.locator(".kind-decoration[data-start]").first.get_attribute("data-start")
    page.context.set_offline(True)
    page.locator(f".round-card[data-start='{uuid}'] form button").click()
    walk_all_fine(page, defect_photo=camera_photo)
    other = browser.new_context(viewport=BIG_PHONE, locale="zh-TW")
    second = other.new_page()
    sign_in(second, live_server)
    second.wait_for_url(f"{live_server}/rounds/today")
    second.locator(f".round-card[data-start='{uuid}'] form button").click()
    walk_all_fine(second)
    second.wait_for_selector(".delivery.status-office", timeout=20_000)
    other.close()

    page.context.set_offline(False)
    page.click(".sync-now")
    page.wait_for_selector(".aside-form")
    page.click(".set-aside")  # a reason is needed
    assert page.locator(".aside-form .field-error").is_visible()
    page.fill(".aside-reason", "業主說裂縫是舊的")
    page.click(".set-aside")
    page.wait_for_selector(".delivery.status-aside")
    assert page.locator("#sync-bar[data-attention='0']").count() == 1
    page.goto(f"{live_server}/rounds/today")
    page.click("form[action='/logout'] button")
    guard = page.locator("[data-notice=logout]")
    guard.wait_for()
    with page.expect_download() as download:
        guard.locator("button").nth(1).click()
    import json
    from pathlib import Path
    exported = json.loads(json.loads(Path(download.value.path()).read_text())["payload"])  # signed: the work inside
    complete = [e for e in exported["entries"] if e["type"] == "complete"]
    assert complete and complete[0]["status"] == "aside" and complete[0]["reason"] == "業主說裂縫是舊的"
    assert [(s) for _, s, _ in decoration_rounds()] == [RoundStatus.COMPLETED]
