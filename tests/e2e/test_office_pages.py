"""Issue 16, the office in real Chromium: the tabs on a 412 × 915 phone (at most five, the page's own
always shown, the rest in a menu), and every interactive element of the desk's and the supervisor's
main pages at least 44 × 44 px, on a phone and on a 1280 × 800 screen. Screenshots land in
test-artifacts/."""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 412, "height": 915}
DESKTOP = {"width": 1280, "height": 800}

# Everything a finger or a pointer can use; a checkbox or radio button counts by its label.
TAP_TARGETS = r"""() => [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .map(el => (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label')) || el)
    .filter(el => el.offsetParent !== null || getComputedStyle(el).position === 'fixed')
    .map(el => { const r = el.getBoundingClientRect();
                 return [el.tagName + ' ' + (el.textContent || el.name || el.type || '').trim().slice(0, 30),
                         Math.round(r.width), Math.round(r.height)]; })
    .filter(([, w, h]) => w > 0 && h > 0 && (w < 44 || h < 44))"""

DESK_PAGES = ["/desk/", "/tickets/", "/desk/findings", "/decoration/", "/tickets/overdue", "/reports/summary",
              "/gate/requests", "/desk/units", "/tickets/export.csv"]
SUPERVISOR_PAGES = ["/desk/supervisor", "/audit", "/admin/schedules/", "/tickets/clocks"]


@pytest.fixture
def demo_history(runner):
    assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0


@pytest.fixture
def screen(browser):
    contexts = []

    def open_screen(viewport=PHONE):
        mobile = viewport["width"] < 600
        context = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-TW",
                                      has_touch=mobile, is_mobile=mobile)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_screen
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"office-{name}.png"), full_page=True)


def visible_bar(page) -> list[str]:
    """The tab bar's entries a person sees on screen (the menu closed)."""
    return page.evaluate("""() => [...document.querySelectorAll('.tabs a, .tabs summary')]
        .filter(el => el.offsetParent !== null && !el.closest('.tabs-menu'))
        .map(el => { const r = el.getBoundingClientRect();
                     return [el.textContent.trim(), r.left >= 0 && r.right <= innerWidth + 0.5]; })""")


@pytest.mark.parametrize(("username", "landing", "deep"), [
    ("desk1", "/desk/", "/desk/units"), ("super1", "/desk/supervisor", "/audit")])
def test_the_tabs_fit_a_phone_with_the_page_on_screen_always_shown(live_server, screen, demo_history, username,
                                                                     landing, deep):
    page = screen()
    sign_in(page, live_server, username)
    page.wait_for_url(f"{live_server}{landing}")
    bar = visible_bar(page)
    assert 2 <= len(bar) <= 5 and all(inside for _, inside in bar), bar
    assert page.evaluate("document.querySelector('.tabs').scrollWidth <= innerWidth")
    assert page.locator(".tabs-phone a.active").is_visible()
    assert not page.locator(".tabs-menu").is_visible()

    # The menu holds the rest: open it and go to a page that is not in the bar.
    page.click(".tabs-more > summary")
    menu = page.locator(".tabs-menu a")
    assert menu.count() >= 4 and menu.first.is_visible()
    page.click(f".tabs-menu a[href='{deep}']")
    page.wait_for_url(f"{live_server}{deep}")
    bar = visible_bar(page)
    assert len(bar) <= 5 and all(inside for _, inside in bar), bar
    active = page.locator(".tabs-phone a.active")
    assert active.is_visible() and active.get_attribute("href") == deep
    page.click(".tabs-more > summary")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"office-{username}-tabs-menu-open.png"))  # the screen, not the page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize(("username", "pages"), [("desk1", DESK_PAGES), ("super1", DESK_PAGES + SUPERVISOR_PAGES)])
def test_every_control_of_the_office_pages_is_thumb_sized(live_server, screen, demo_history, username, pages,
                                                          viewport):
    page = screen(viewport)
    sign_in(page, live_server, username)
    page.wait_for_load_state()
    small = {}
    for path in pages:
        page.goto(f"{live_server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
        found = page.evaluate(TAP_TARGETS)
        if found:
            small[path] = found
        if viewport is PHONE:
            shot(page, f"{username}{path.replace('/', '-').rstrip('-')}")
    # A ticket of the list, with its forms.
    page.goto(f"{live_server}/tickets/?status=all")
    page.click(".ticket-card a.ticket-number >> nth=0")
    page.wait_for_url("**/tickets/*")
    found = page.evaluate(TAP_TARGETS)
    if found:
        small["ticket"] = found
    assert small == {}


def test_marking_reviewed_stays_in_place_and_can_be_undone(live_server, screen, demo_history):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Finding

    db.session.execute(sa.update(Finding).values(reviewed_at=None, reviewed_by_id=None))
    db.session.commit()
    page = screen()
    sign_in(page, live_server, "desk1")
    page.wait_for_load_state()
    page.goto(f"{live_server}/desk/findings?unreviewed_only=1")
    unreviewed = page.locator(".count-unreviewed strong")
    before = unreviewed.inner_text()
    card = page.locator("#" + page.locator('.review-list .card[data-reviewed="no"]').nth(20).get_attribute("id"))
    card.locator(".mark-form button").scroll_into_view_if_needed()
    y = page.evaluate("scrollY")
    assert y > 1000
    card.locator(".mark-form button").click()
    page.wait_for_function("(el) => el.dataset.reviewed === 'yes'", arg=card.element_handle())
    assert abs(page.evaluate("scrollY") - y) < 5  # no jump to the top
    assert card.locator(".just-reviewed .badge").is_visible()
    if before.isdigit():
        assert int(unreviewed.inner_text()) == int(before) - 1
    card.locator(".just-reviewed .undo").click()
    page.wait_for_function("(el) => el.dataset.reviewed === 'no'", arg=card.element_handle())
    assert card.locator(".mark-form button").is_visible()
    assert abs(page.evaluate("scrollY") - y) < 5
    if before.isdigit():
        assert unreviewed.inner_text() == before

    # Several at once: tick two, mark them, and undo from the bar at the bottom.
    first, second = (page.locator("#" + page.locator('.review-list .card[data-reviewed="no"]').nth(i).get_attribute("id"))
                     for i in (2, 3))
    first.locator(".select-finding").click()
    second.locator(".select-finding").click()
    assert page.locator(".selected-count").inner_text() == "(2)"
    y = page.evaluate("scrollY")
    page.click("#bulk-selected button")
    page.wait_for_function("(el) => el.dataset.reviewed === 'yes'", arg=second.element_handle())
    assert first.get_attribute("data-reviewed") == "yes"
    assert abs(page.evaluate("scrollY") - y) < 5
    assert page.locator(".bulk-status .undo").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "office-findings-marked.png"))
    page.click(".bulk-status .undo")
    page.wait_for_function("(el) => el.dataset.reviewed === 'no'", arg=second.element_handle())
    assert first.get_attribute("data-reviewed") == "no"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)
                             .where(Finding.reviewed_at.is_not(None))) == 0


def test_the_findings_csv_takes_the_dates_as_typed_and_a_refusal_keeps_them(live_server, screen, demo_history):
    from datetime import date, timedelta

    page = screen()
    sign_in(page, live_server, "desk1")
    page.wait_for_load_state()
    page.goto(f"{live_server}/desk/findings")
    last = date.today()
    first = last - timedelta(days=6)
    page.fill("input[name=date_from]", first.isoformat())
    page.fill("input[name=date_to]", last.isoformat())  # typed, not applied with "Show"
    with page.expect_download() as download:
        page.click(".csv-link")
    assert download.value.suggested_filename == f"xuncha-findings-{first}-{last}.csv"

    # Only a start date: refused, and both what was typed and the boxes stay as they were.
    page.fill("input[name=date_to]", "")
    page.click(".csv-link")
    page.wait_for_url("**/desk/findings.csv?**")
    assert page.locator(".flash-error").is_visible()
    assert page.input_value("input[name=date_from]") == first.isoformat()
    assert page.is_checked("input[name=defects_only]") and page.is_checked("input[name=unreviewed_only]")

    # The ticket export: no error before anything is typed, and date fields a thumb can use.
    page.goto(f"{live_server}/tickets/export.csv")
    assert page.locator(".flash-error, .field-error").count() == 0
    for box in (page.locator("#from").bounding_box(), page.locator("#to").bounding_box()):
        assert box["height"] >= 44 and box["width"] >= 200


def pdf_pages(pdf: bytes) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_a_ticket_prints_on_one_sheet_with_its_title_once(live_server, screen, demo_history, app):
    """Issue 16, item 11: Chromium's own print (page.pdf with the page's @page size) of a ticket with
    every field filled and many photos is one A5 sheet (and one A4 sheet); the title is not doubled
    and 處理方 names the team once."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Finding, Photo, RepairTicket, Role, User
    from app.repairs import tickets

    from .. import factories

    ticket = db.session.scalars(
        sa.select(RepairTicket).join(Finding, Finding.ticket_id == RepairTicket.id).join(Photo, Photo.finding_id == Finding.id)
        .where(RepairTicket.team_id.is_not(None))
        .group_by(RepairTicket.id).order_by(sa.func.count(Photo.id).desc(), RepairTicket.id)).first()
    eng = db.session.scalars(sa.select(User).where(User.role == Role.ENGINEERING)).first()
    for n in range(3):  # "after" photos too: more than one row would fit
        tickets.store_after_photo(db.session, eng, ticket, factories.jpeg_bytes((1600, 1200), (40 * n, 120, 60)),
                                  max_bytes=app.config["PHOTO_MAX_BYTES"], max_pixels=app.config["PHOTO_MAX_PIXELS"])
    ticket.reporter_name, ticket.reporter_phone = "陳太", "13800000000"
    ticket.expectation = "下班後(18:30 後)在家,請先電話聯絡;如需入戶請預約週末上午。" * 2
    db.session.commit()

    page = screen(DESKTOP)
    sign_in(page, live_server, "desk1")
    page.wait_for_load_state()
    for size in ("a5", "a4"):
        page.goto(f"{live_server}/tickets/{ticket.id}/print?size={size}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator("h1").inner_text().count("工程維修單") == 1
        handler = page.locator("td.handler").inner_text()
        assert handler.count(ticket.team.name) == 1, handler
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        (ARTIFACTS / f"office-ticket-{size}.pdf").write_bytes(pdf)
        assert pdf_pages(pdf) == 1, size
        if size == "a5":  # one row of four; the fifth is in the app
            assert page.locator(".photos figure").count() == 4 and page.locator(".photos-more").is_visible()
