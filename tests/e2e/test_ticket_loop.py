"""The repair loop in Chromium: a defect found on a phone becomes a ticket, engineering repairs it,
and the check on site comes back to the steward's today list, answered with no signal and synced."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Finding,
    FindingResult,
    RepairTicket,
    TicketStatus,
    TicketVerification,
)

from .conftest import unfold, PHONE, sign_in
from .test_offline import outbox_size, ready_offline

pytestmark = pytest.mark.e2e


def server_ticket() -> tuple[int, TicketStatus, list[str], list[tuple[bool, bool]]]:
    """The one ticket as plain values; no transaction is left open (SQLite's lock is the server's)."""
    db.session.commit()
    ticket = db.session.scalars(sa.select(RepairTicket)).one()
    checks = [(v.passed, v.applied) for v in db.session.scalars(sa.select(TicketVerification))]
    answer = (ticket.id, ticket.status, [e.kind for e in ticket.events], checks)
    db.session.commit()
    return answer


def office_step(browser, base, username, ticket_id, action, fill=None):
    """A desk or engineering user submits one of the ticket page's forms."""
    context = browser.new_context(viewport=PHONE, locale="zh-TW")
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, username)
    page.wait_for_load_state()
    page.goto(f"{base}/tickets/{ticket_id}")
    form = page.locator(f"form[action='/tickets/{ticket_id}/{action}']")
    for selector, value in (fill or {}).items():
        if selector.endswith("[type=file]"):
            form.locator(selector).set_input_files(value)
        else:
            form.locator(selector).fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    context.close()


def test_a_defect_repaired_by_engineering_is_checked_offline_and_closes_the_ticket(
        live_server, phone, demo_estate, camera_photo, browser):
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))

    # 1. The steward finds a defect on a vacant-unit check; it syncs and opens a ticket.
    sign_in(phone, live_server, "steward1")
    phone.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(phone)
    unfold(phone)
    phone.locator(".kind-vacant_unit form button").first.click()
    phone.wait_for_selector(".checkpoint")
    item = phone.locator('li[data-item="VAC-CLOSED"]')
    item.locator("button.result-defect").click()
    item.locator(".chip").first.click()
    item.locator("input[type=file]").set_input_files(str(camera_photo))
    item.locator(".thumb img").wait_for()
    phone.click(".all-fine")
    phone.click(".walk-nav .primary")
    phone.wait_for_selector(".summary")
    phone.click("button.complete")
    phone.wait_for_selector(".done")
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    ticket_id, status, events, _ = server_ticket()
    assert status is TicketStatus.NEW and events == ["opened"]
    defect = db.session.scalars(sa.select(Finding).where(Finding.result == FindingResult.DEFECT)).one()
    assert defect.ticket_id == ticket_id and defect.item.code == "VAC-CLOSED"
    db.session.commit()

    # 2. The desk dispatches it; engineering goes on site and repairs it, with an "after" photo.
    # The route's team (工程部) is chosen already; the desk names the person.
    office_step(browser, live_server, "desk1", ticket_id, "dispatch", {"input[name=who]": "王師傅"})
    office_step(browser, live_server, "eng1", ticket_id, "start")
    office_step(browser, live_server, "eng1", ticket_id, "repair",
                {"textarea[name=work_done]": "更換門鎖", "input[type=file]": str(camera_photo)})
    assert server_ticket()[1] is TicketStatus.REPAIRED

    # 3. The check is on the steward's today list, with both photos.
    phone.goto(f"{live_server}/rounds/today")
    card = phone.locator(f".check-card[data-ticket='{ticket_id}']")
    card.wait_for()
    assert "更換門鎖" in card.inner_text()
    card.locator("details.check-open summary").click()
    images = card.locator(".thumb img")
    assert images.count() == 2
    card.scroll_into_view_if_needed()  # the thumbnails load lazily
    for i in range(2):
        phone.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle())
    ready_offline(phone)

    # 4. No signal: the page comes from the phone, the check is answered and kept in the outbox.
    phone.context.set_offline(True)
    phone.reload()
    card = phone.locator(f".check-card[data-ticket='{ticket_id}']")
    card.locator("details.check-open summary").click()
    card.locator("button.check-fail").click()  # a fail says what is still wrong: asked on the phone
    card.locator(".check-form .field-error").wait_for()
    assert outbox_size(phone) == 0
    card.locator("button.check-pass").click()
    card.locator(".check-answer .badge-local").wait_for()
    assert card.locator(".check-form").is_hidden()
    assert outbox_size(phone) == 1
    assert server_ticket()[1] is TicketStatus.REPAIRED

    # Back on the same (cached) page later, still offline: the answer is still shown, not asked again.
    phone.reload()
    phone.locator(f".check-card[data-ticket='{ticket_id}'] .check-answer .badge-local").wait_for()

    # 5. The signal is back: it goes up by itself and the ticket is closed.
    phone.context.set_offline(False)
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    phone.locator(f".check-card[data-ticket='{ticket_id}'] .check-answer .badge-office").wait_for()
    _, status, events, checks = server_ticket()
    assert status is TicketStatus.CLOSED
    assert events == ["opened", "dispatch", "start", "repair", "verified"]
    assert checks == [(True, True)]

    # The next page from the server no longer lists it.
    phone.goto(f"{live_server}/rounds/today")
    phone.wait_for_selector("#sync-bar[data-offline-ready='true']")
    assert phone.locator(".check-card").count() == 0
    assert errors == []
