"""The steward's phone as issue 16 asks (items 3 and 6): the sync bar takes one line and the page
does not move; every tappable control of every role's main pages is at least 44 × 44 px; photos
are shrunk on the phone everywhere (the gate's, engineering's "after" photo); a removed photo can be
brought back; a server photo with no signal is a placeholder, not a broken image."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RepairTicket, Round, RoundStatus, TicketStatus, User

from .conftest import ARTIFACTS, sign_in
from .test_offline import ready_offline

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 412, "height": 915}

# Every control a finger taps: links, buttons, fields, the summaries of folded parts.
SMALL_TARGETS = """() => {
  const small = [];
  const controls = document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]');
  for (const el of controls) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.classList.contains('visually-hidden')) continue; // not on screen
    // A link inside a sentence is exempt (WCAG 2.5.8 "inline").
    const p = el.tagName === 'A' ? el.closest('p') : null;
    if (p && p.textContent.trim().length > el.textContent.trim().length) continue;
    let box = r;
    const label = el.closest('label');
    if (label && ['checkbox', 'radio', 'file'].includes(el.type)) box = label.getBoundingClientRect();
    if (box.width < 44 || box.height < 44) {
      small.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || el.name || '').trim().slice(0, 24)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""


@pytest.fixture
def demo_history(runner):
    assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0


def open_folds(page):
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-TW", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_every_tappable_control_of_every_role_is_at_least_44_px(live_server, browser, demo_history, camera_photo):
    db.session.commit()
    ticket = db.session.scalars(sa.select(RepairTicket.id).order_by(RepairTicket.id.desc())).first()
    unit = db.session.scalars(sa.select(Round.unit_id).where(Round.unit_id.is_not(None))).first()
    done = db.session.scalars(sa.select(Round.uuid).join(User, User.id == Round.steward_id)
                              .where(User.username == "steward1", Round.status == RoundStatus.COMPLETED)).first()
    db.session.commit()
    pages = {
        "steward1": ["/rounds/today", "/decoration/", "/desk/units", f"/desk/units/{unit}",
                     f"/desk/units/{unit}/history", f"/rounds/{done}"],
        "gate": ["/gate/"],
        "eng1": ["/engineering/", "/engineering/meters", f"/tickets/{ticket}"],
        "desk1": ["/desk/", "/tickets", f"/tickets/{ticket}", "/desk/findings", "/tickets/overdue",
                  "/reports/summary", "/gate/requests", "/decoration/", "/desk/units"],
        "super1": ["/desk/supervisor", "/audit", "/tickets/overdue"],
    }
    small = {}
    for user, paths in pages.items():
        page = new_page(browser)
        page.goto(f"{live_server}/login")
        small["/login"] = page.evaluate(SMALL_TARGETS)
        sign_in(page, live_server, user)
        page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(f"{live_server}{path}")
            page.wait_for_load_state("networkidle")
            open_folds(page)
            small[f"{user} {path}"] = page.evaluate(SMALL_TARGETS)
        if user == "steward1":
            # The round page with a defect open: result buttons, reasons, actions, the photo and its ×.
            page.goto(f"{live_server}/rounds/today")
            page.locator(".kind-decoration form button").first.click()
            page.wait_for_selector(".checkpoint")
            item = page.locator("li.item").first
            item.locator("button.result-defect").click()
            item.locator("input[type=file]").set_input_files(str(camera_photo))
            item.locator(".thumb img").wait_for()
            small["steward1 walk"] = page.evaluate(SMALL_TARGETS)
            item.locator(".thumb-remove").click()
            item.locator(".undo-remove").wait_for()
            small["steward1 walk, photo removed"] = page.evaluate(SMALL_TARGETS)
            page.click(".to-summary")
            page.wait_for_selector(".summary")
            small["steward1 walk summary"] = page.evaluate(SMALL_TARGETS)
            page.click(".sync-toggle")
            small["steward1 sync details"] = page.evaluate(SMALL_TARGETS)
        page.context.close()
    assert {where: found for where, found in small.items() if found} == {}


def test_the_sync_bar_is_one_line_and_the_page_does_not_move(live_server, browser, demo_estate):
    page = new_page(browser)
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(page)
    bar = page.locator("#sync-bar")
    top = page.locator("main").bounding_box()["y"]
    assert bar.bounding_box()["height"] <= 50  # one line
    assert page.locator(".sync-status").inner_text() == "全部已送達辦公室。"

    page.context.set_offline(True)
    page.click(".sync-now")
    page.wait_for_selector("#sync-bar[data-state='offline']")
    assert page.locator("main").bounding_box()["y"] == top and bar.bounding_box()["height"] <= 50
    assert "沒有訊號" in page.locator(".sync-status").inner_text()

    page.click(".sync-toggle")  # the details (notices, storage) on a tap, over the page
    page.locator(".sync-details .notice-offline").wait_for()
    assert page.locator(".sync-toggle").get_attribute("aria-expanded") == "true"
    assert page.locator("main").bounding_box()["y"] == top
    page.click(".sync-toggle")
    assert page.locator(".sync-details").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "sync-bar-offline.png"))
    page.context.close()


def test_a_removed_photo_can_be_brought_back(live_server, browser, demo_estate, camera_photo):
    page = new_page(browser)
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    page.locator(".kind-decoration form button").first.click()
    page.wait_for_selector(".checkpoint")
    item = page.locator("li.item").first
    item.locator("button.result-defect").click()
    item.locator("input[type=file]").set_input_files(str(camera_photo))
    item.locator(".thumb img").wait_for()
    item.locator(".thumb-remove").click()
    item.locator(".undo-remove").wait_for()
    assert item.locator(".thumb img").count() == 0
    item.locator(".undo-remove").click()
    item.locator(".thumb img").wait_for()
    page.reload()  # kept on the phone, as it was
    page.locator("li.item").first.locator(".thumb img").wait_for()
    page.context.close()


def test_a_server_photo_offline_is_a_placeholder_not_a_broken_image(live_server, browser, demo_history):
    page = new_page(browser)
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(page)
    page.context.set_offline(True)
    page.reload()
    image = page.locator("#materials .thumb img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete", arg=image.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0  # the placeholder drew
    page.context.close()


@pytest.fixture
def noisy_photo(tmp_path):
    """A camera-sized JPEG of several megabytes (noise does not compress)."""
    import os

    from PIL import Image
    path = tmp_path / "big.jpg"
    Image.frombytes("RGB", (3000, 2000), os.urandom(3000 * 2000 * 3)).save(path, quality=92)
    return path


def test_the_gate_and_engineering_photos_are_shrunk_on_the_phone(live_server, browser, demo_history, noisy_photo):
    camera_photo = noisy_photo
    big = camera_photo.stat().st_size
    gate = new_page(browser)
    sign_in(gate, live_server, "gate")
    gate.wait_for_load_state("networkidle")
    sent = []
    gate.on("request", lambda r: sent.append(len(r.post_data_buffer or b"")) if r.method == "POST" else None)
    gate.select_option("select[name=unit]", index=1)
    gate.fill("[name=materials]", "瓷磚 10 箱")
    gate.set_input_files("input[name=photo]", str(camera_photo))
    gate.wait_for_selector("input[name=photo][data-shrunk='done']")
    gate.click("form[enctype] button[type=submit]")
    gate.wait_for_load_state("networkidle")
    gate.context.close()
    assert sent and max(sent) < big * 0.6

    eng = new_page(browser)
    sign_in(eng, live_server, "eng1")
    eng.wait_for_load_state("networkidle")
    eng.goto(f"{live_server}/engineering/")
    queue = [a.get_attribute("href") for a in eng.locator("a.ticket-number").all()]
    for href in queue:  # the first of the team's tickets that can be marked repaired
        eng.goto(f"{live_server}{href}")
        if eng.locator("input[name=photo]").count():
            ticket = int(href.rstrip("/").split("/")[-1])
            break
    eng.on("request", lambda r: sent.append(len(r.post_data_buffer or b"")) if r.method == "POST" else None)
    sent.clear()
    eng.fill("textarea[name=work_done]", "更換燈管")
    eng.set_input_files("input[name=photo]", str(camera_photo))
    eng.wait_for_selector("input[name=photo][data-shrunk='done']")
    eng.locator("form:has(input[name=photo]) button[type=submit]").click()
    eng.wait_for_load_state("networkidle")
    eng.context.close()
    assert sent and max(sent) < big * 0.6  # 3.3 MB was sent as it was before
    db.session.commit()
    assert db.session.scalars(sa.select(RepairTicket.status).where(RepairTicket.id == ticket)).one() \
        is TicketStatus.REPAIRED
    db.session.commit()


def test_fixes_the_gate_card_yesterdays_request_the_before_photo_and_the_estates_time(live_server, browser,
                                                                                        demo_history):
    from datetime import timedelta

    from app.models import MaterialRequest, MaterialStatus

    # A phone set to another time zone: times read in the estate's (Asia/Shanghai), as the server's.
    context = browser.new_context(viewport=VIEWPORT, locale="zh-TW", timezone_id="America/Los_Angeles")
    page = context.new_page()
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    card = page.locator(".material-card").first
    server_said = card.locator(".round-when").last.inner_text()
    page.evaluate("() => document.querySelector('.material-card').remove()")
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")  # polls the gate's requests
    card = page.locator(".material-card").first
    card.wait_for()
    assert card.locator(".round-when").last.inner_text() == server_said

    # Answered: "In the office · Approve", no "null".
    card.locator("button.answer-1").click()
    card.locator(".dec-answer .badge-office").wait_for(timeout=20_000)
    assert "null" not in card.locator(".dec-answer").inner_text()

    # The check of a repair: the photo before it is headed so, not "defect".
    open_folds(page)
    headings = page.locator(".check-card .sub-label").all_inner_texts()
    assert "維修前" in headings and "有問題" not in headings
    context.close()

    # The gate: a request from yesterday still waiting is not one of "today's requests".
    db.session.commit()
    request_ = db.session.scalars(sa.select(MaterialRequest)).first()
    request_.status, request_.decision_uuid, request_.decided_at = MaterialStatus.PENDING, None, None
    request_.raised_at = request_.raised_at - timedelta(days=1)
    db.session.commit()
    gate = new_page(browser)
    sign_in(gate, live_server, "gate")
    gate.wait_for_load_state("networkidle")
    assert gate.locator(".gate-requests .card").count() == 0
    assert gate.locator(".gate-earlier .card").count() == 1
    gate.context.close()


def test_counts_agree_and_the_saved_round_shows_the_ticket_each_defect_opened(live_server, browser, demo_estate,
                                                                               camera_photo):
    page = new_page(browser)
    sign_in(page, live_server, "steward2")
    page.wait_for_url(f"{live_server}/rounds/today")
    page.locator(".kind-corridor form button").first.click()
    page.wait_for_selector(".checkpoint")
    # Nothing answered yet: no place shows as done (not even one with optional items only).
    assert [t for t in page.locator(".checkpoint-picker option").all_inner_texts() if "✓" in t] == []
    # Optional items say so in words, not with a bare "·".
    optional = page.locator(".item-label .optional")
    assert optional.count() and all(t.strip() == "（選答）" for t in optional.all_inner_texts())
    total = page.locator(".checkpoint-picker option").count()
    for index in range(total):
        if index == 1:
            light = page.locator('li[data-item="COR-LIGHT"]')
            light.locator("button.result-defect").click()
            light.locator(".chip").first.click()
            # On-the-spot actions a steward really takes: not "ticket opened" (tickets open by themselves).
            actions = light.locator(".chips").nth(1).all_inner_texts()
            assert "已開工程維修單" not in " ".join(actions) and "已致電工程部到場" in " ".join(actions)
            light.locator("input[type=file]").set_input_files(str(camera_photo))
            light.locator(".thumb img").wait_for()
        page.click(".all-fine")
        page.click(".walk-nav .primary")
    page.wait_for_selector(".summary")
    progress = page.locator(".progress-text").inner_text()  # "必答項目已答 N / N"
    answered = int(page.locator(".count-defect strong").inner_text()) + int(page.locator(".count-fine strong").inner_text()) \
        + int(page.locator(".count-na strong").inner_text())
    total_line = page.locator(".count-total").inner_text()
    assert f"共 {answered} 項答案" in total_line and "必答" in progress
    required = int(total_line.split("必答 ")[1].split("，")[0])
    assert progress.endswith(f"{required} / {required}")  # the same required count on both
    page.click("button.complete")
    page.wait_for_selector(".delivery.status-office", timeout=20_000)
    page.click(".done a")
    page.wait_for_selector(".checkpoint-summary")
    ticket = page.locator(".finding.result-defect .finding-ticket")
    assert ticket.count() == 1 and "WX-" in ticket.inner_text() and "已開工程維修單" in ticket.inner_text()
    assert page.locator(".count-total").inner_text() == total_line
    page.context.close()


def test_full_phone_storage_is_told_and_what_was_kept_stays(live_server, browser, demo_estate):
    page = new_page(browser)
    sign_in(page, live_server)
    page.wait_for_url(f"{live_server}/rounds/today")
    page.locator(".kind-decoration form button").first.click()
    page.wait_for_selector(".checkpoint")
    first = page.locator("li.item").nth(0)
    first.locator("button.result-fine").click()
    first.locator("button.result-fine[aria-pressed='true']").wait_for()
    # The phone runs out of space (the browser refuses every write from now on).
    page.evaluate("""() => {
        const refuse = () => { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
        IDBObjectStore.prototype.put = refuse;
        IDBObjectStore.prototype.add = refuse;
    }""")
    page.locator("li.item").nth(1).locator("button.result-fine").click()
    alert = page.locator("#storage-alert")
    alert.wait_for()
    assert "儲存空間已滿" in alert.inner_text()
    page.reload()  # space again: what was answered before the storage filled up is still there
    page.wait_for_selector(".checkpoint")
    assert page.locator("li.item").nth(0).locator("button.result-fine").get_attribute("aria-pressed") == "true"
    page.context.close()
