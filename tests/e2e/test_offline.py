"""Offline first, in real Chromium: work captured with no signal reaches the server exactly once."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import demo, security, workfile
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

from .conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


def ready_offline(page):
    """The worker controls the page (activated, not just ready) and the offline pack is stored.

    (Waits take functions, not expression strings: Playwright runs a string through eval(), which
    the Content-Security-Policy refuses.)"""
    page.wait_for_function("() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")
    page.wait_for_selector("#sync-bar[data-offline-ready='true']")


def outbox_size(page) -> int:
    return page.evaluate("""async () => {
        const db = await new Promise((ok, fail) => { const r = indexedDB.open('xuncha'); r.onsuccess = () => ok(r.result); r.onerror = fail; });
        const n = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').count(); r.onsuccess = () => ok(r.result); });
        db.close();
        return n;
    }""")


def capture_offline(page, base, photo):
    """Sign in, wait until ready offline, lose the signal, and complete a round with a photo."""
    sign_in(page, base)
    page.wait_for_url(f"{base}/rounds/today")
    ready_offline(page)
    page.context.set_offline(True)
    page.reload()
    walk_decoration_check(page, photo)


def walk_decoration_check(page, photo):
    """Start the first decoration daily check from the today page and complete it: one breach with a photo."""
    page.locator(".kind-decoration form button").first.click()
    page.wait_for_selector(".checkpoint")
    item = page.locator("li.item").first
    item.locator("button.result-defect").click()
    item.locator(".chip").first.click()
    item.locator("input[type=file]").set_input_files(str(photo))
    item.locator(".thumb img").wait_for()
    page.click(".all-fine")
    page.click(".walk-nav .primary")
    page.wait_for_selector(".summary")
    page.click("button.complete")
    page.wait_for_selector(".done")


@dataclass(frozen=True)
class Stored:
    status: RoundStatus
    findings: int
    items: int


def server_rounds():
    """What the server holds, as plain values: the test keeps no transaction (no SQLite lock) open."""
    db.session.commit()
    rounds = [Stored(r.status, len(r.findings), len(r.checklist_version.items))
              for r in db.session.scalars(sa.select(Round).where(Round.kind == RoundKind.DECORATION))]
    photos = [(p.status, p.finding_id) for p in db.session.scalars(sa.select(Photo))]
    db.session.commit()
    return rounds, photos


def test_offline_reload_is_served_by_the_service_worker(live_server, phone, demo_estate):
    sign_in(phone, live_server)
    phone.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(phone)
    phone.context.set_offline(True)
    phone.reload()
    assert phone.locator(".round-card").count() > 3
    phone.goto(f"{live_server}/desk/units")  # never cached: the offline page, not a browser error
    assert phone.locator("a[href='/rounds/today']").count() >= 1


def test_round_with_photo_done_offline_survives_closing_and_syncs_once(live_server, phone, demo_estate, camera_photo, browser):
    sign_in(phone, live_server)
    phone.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(phone)
    context = phone.context
    context.set_offline(True)
    phone.reload()
    walk_decoration_check(phone, camera_photo)
    assert phone.locator(".delivery .badge-local").count() == 1
    assert outbox_size(phone) == 3  # start, completion, photo
    assert server_rounds() == ([], [])

    # Close the page, open the app again, still with no signal: everything is still there.
    phone.close()
    page = context.new_page()
    page.goto(f"{live_server}/rounds/today")
    page.wait_for_selector("#on-this-phone .local-round")
    assert page.locator("#on-this-phone .badge-local").count() == 1
    assert outbox_size(page) == 3

    sent = []
    page.on("request", lambda r: sent.append((r.method, r.url.split("/api/v1", 1)[1], r.post_data))
            if "/api/v1/rounds" in r.url or "/api/v1/photos" in r.url else None)
    context.set_offline(False)  # the signal is back: it goes up by itself
    page.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    # The round walked offline goes up as one request: its start rides with its completion.
    assert [(method, path.split("/")[1]) for method, path, _ in sent] == [("POST", "rounds"), ("PUT", "photos")]
    assert sent[0][1].endswith("/completion")
    assert json.loads(sent[0][2])["start"]["kind"] == "decoration"
    rounds, photos = server_rounds()
    assert len(rounds) == 1 and rounds[0].status is RoundStatus.COMPLETED
    assert len(photos) == 1 and photos[0][0] is PhotoStatus.STORED
    defect = db.session.scalars(sa.select(Finding).where(Finding.result == FindingResult.DEFECT)).one()
    assert photos[0][1] == defect.id
    db.session.commit()

    desk = browser.new_context(viewport=PHONE, locale="zh-TW")
    desk_page = desk.new_page()
    sign_in(desk_page, live_server, "desk1")
    desk_page.goto(f"{live_server}/desk/findings?defects_only=1")
    image = desk_page.locator(".finding.result-defect .thumb img")
    image.wait_for()
    desk_page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    desk.close()


def test_network_cut_mid_sync_is_retried_and_stored_once(live_server, phone, demo_estate, camera_photo):
    capture_offline(phone, live_server, camera_photo)

    cut = {"completion": 0, "photo": 0}

    def lose_the_answer(route):
        # The server gets and stores the request, but the phone never hears back.
        kind = "photo" if "/photos/" in route.request.url else "completion"
        if cut[kind] == 0:
            cut[kind] += 1
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    phone.route("**/api/v1/rounds/*/completion", lose_the_answer)
    phone.route("**/api/v1/photos/**", lose_the_answer)  # a photo goes in parts: …/photos/<uuid>/upload?offset=…
    phone.context.set_offline(False)
    phone.wait_for_function("() => document.querySelector('[data-notice=retry]') !== null")
    phone.click(".sync-now")
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    phone.click(".sync-now")  # and once more: nothing left, nothing sent twice
    assert cut == {"completion": 1, "photo": 1}
    rounds, photos = server_rounds()
    assert len(rounds) == 1 and rounds[0].status is RoundStatus.COMPLETED and len(photos) == 1
    assert rounds[0].findings == rounds[0].items  # every answer once


def test_a_server_error_keeps_the_entry_and_it_is_sent_later(live_server, phone, demo_estate, camera_photo):
    sign_in(phone, live_server)
    phone.wait_for_url(f"{live_server}/rounds/today")
    ready_offline(phone)
    failing = {"on": True}
    phone.route("**/api/v1/rounds/*/completion",
                lambda route: route.fulfill(status=500, body="<html>oops</html>", content_type="text/html")
                if failing["on"] else route.continue_())
    walk_decoration_check(phone, camera_photo)
    phone.wait_for_function("() => document.querySelector('[data-notice=retry]') !== null")
    assert outbox_size(phone) == 2  # the start went through; completion and photo wait
    rounds, _ = server_rounds()
    assert rounds[0].status is RoundStatus.IN_PROGRESS
    failing["on"] = False
    phone.click(".sync-now")
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    rounds, photos = server_rounds()
    assert rounds[0].status is RoundStatus.COMPLETED and len(photos) == 1


def test_session_expired_while_offline_costs_nothing(live_server, phone, demo_estate, camera_photo):
    capture_offline(phone, live_server, camera_photo)
    phone.context.clear_cookies()  # the session ended while the phone was offline
    phone.context.set_offline(False)
    phone.click(".sync-now")
    login_link = phone.locator("[data-notice=login] a")
    login_link.wait_for()
    assert outbox_size(phone) == 3
    login_link.click()
    phone.fill("#username", "steward1")
    phone.fill("#password", demo.DEMO_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    rounds, photos = server_rounds()
    assert len(rounds) == 1 and rounds[0].status is RoundStatus.COMPLETED and len(photos) == 1


def test_a_new_service_worker_while_the_outbox_holds_work_loses_nothing(live_server, phone, demo_estate, camera_photo, app):
    capture_offline(phone, live_server, camera_photo)
    assert outbox_size(phone) == 3

    app.extensions["pwa"]["version"] = "a-new-deploy"  # what a deploy with changed files does
    phone.route("**/api/v1/**", lambda route: route.abort())  # back online, but the API is unreachable
    phone.context.set_offline(False)
    phone.goto(f"{live_server}/rounds/today")
    update = phone.locator("[data-notice=update] button")
    update.wait_for(timeout=20_000)
    with phone.expect_navigation():  # the page that asked reloads under the new worker
        update.click()
    phone.wait_for_load_state()
    phone.wait_for_function("() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")
    phone.wait_for_function("() => caches.keys().then((names) => names.some((n) => n.endsWith('a-new-deploy')) && !names.some((n) => !n.endsWith('a-new-deploy')))")
    assert outbox_size(phone) == 3
    phone.unroute("**/api/v1/**")
    phone.click(".sync-now")
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    rounds, photos = server_rounds()
    assert len(rounds) == 1 and rounds[0].status is RoundStatus.COMPLETED and len(photos) == 1


def test_shared_phone_logout_is_guarded_and_work_stays_with_its_owner(live_server, phone, demo_estate, camera_photo):
    capture_offline(phone, live_server, camera_photo)
    phone.route("**/api/v1/**", lambda route: route.abort())  # signal, but the office cannot be reached
    phone.context.set_offline(False)
    phone.goto(f"{live_server}/rounds/today")

    phone.click("form[action='/logout'] button")  # signing out with unsent work is stopped
    guard = phone.locator("[data-notice=logout]")
    guard.wait_for()
    with phone.expect_download() as download:
        guard.locator("button").nth(1).click()  # export my unsynced work
    signed = json.loads(Path(download.value.path()).read_text())
    # Signed with the key this phone got at sign-in (the desk's import verifies it).
    assert signed["format"] == "xuncha-unsynced-work/2" and len(signed["signature"]) == 64 and signed["key_id"]
    exported = json.loads(signed["payload"])
    assert exported["format"] == "xuncha-unsynced-work/1"
    # What WebCrypto signed is what the desk's import verifies (app/workfile: open_signed).
    assert workfile.open_signed(signed, security.export_key)["entries"] == exported["entries"]
    assert [e["type"] for e in exported["entries"]] == ["start", "complete", "photo"]
    assert len(exported["photos"]) == 1 and exported["photos"][0]["jpeg_base64"]
    guard.locator("button").nth(2).click()  # sign out anyway: the work stays on the phone
    phone.wait_for_url(f"{live_server}/login")
    phone.unroute("**/api/v1/**")

    # Another steward on the same phone neither sees nor sends it.
    sign_in(phone, live_server, "steward2")
    phone.wait_for_url(f"{live_server}/rounds/today")
    phone.wait_for_selector("#sync-bar[data-pending='0']")
    assert phone.locator("#on-this-phone").count() == 0
    assert outbox_size(phone) == 3
    assert server_rounds() == ([], [])

    phone.click("form[action='/logout'] button")  # nothing of steward2's waits: signs out at once
    phone.wait_for_url(f"{live_server}/login")
    sign_in(phone, live_server, "steward1")
    phone.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
    rounds, photos = server_rounds()
    assert len(rounds) == 1 and rounds[0].status is RoundStatus.COMPLETED and len(photos) == 1


def test_a_note_cut_in_the_middle_of_an_emoji_is_repaired_before_it_is_queued(live_server, phone):
    """Half an emoji (a lone UTF-16 surrogate) can be stored nowhere: the server answers 422 and the round
    would wait for attention. The outbox queues text well formed (static/js/store.js: wellFormed)."""
    phone.goto(f"{live_server}/login")
    checked = phone.evaluate("""async () => {
        const { wellFormed } = await import('/static/js/store.js');
        const out = wellFormed({ note: 'cut \\ud83d', nested: [{ why: '\\udc00x' }], whole: 'ok \\ud83d\\ude00', n: 7,
                                 none: null, ['\\ud800key']: 1 });
        return [out.note === 'cut \\ufffd', out.nested[0].why === '\\ufffdx', out.whole === 'ok \\ud83d\\ude00',
                out.n === 7, out.none === null, out['\\ufffdkey'] === 1];
    }""")
    assert checked == [True] * 6
