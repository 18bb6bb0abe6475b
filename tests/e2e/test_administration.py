"""Real Chromium at 412 × 915: the administrator assigns a steward and sets a schedule, and the steward
signs in on a phone and sees the rounds due; a cover for leave shows the covered building's rounds on
the cover's phone only on its days. Every administration page fits the phone, with thumb-sized
targets; screenshots land in test-artifacts/."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext

from app.extensions import db
from app.models import Role

from .. import factories
from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
PHONE = {"width": 412, "height": 915}
TARGETS = ("button, .tabs a, input[type=text], input[type=search], input[type=date], input[type=number], "
           "input[type=password], select, label.check, summary, .card-action a, a.button")


def zh_hant(message: str, **values) -> str:
    with force_locale("zh_Hant"):
        translated = gettext(message, **values)
    assert translated != message % values if values else translated != message, f"no translation for {message!r}"
    return translated


@pytest.fixture
def phones(browser, request):
    """Phone-sized browser contexts (one per person), in Traditional Chinese."""
    contexts = []

    def open_phone():
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-TW", has_touch=True,
                                      is_mobile=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_phone
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url
    small = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
            .filter(el => el.offsetParent !== null && !el.closest('.phone-preview'))
            .map(el => [el.tagName + ' ' + el.textContent.trim().slice(0, 30), el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""", TARGETS)
    assert small == [], (page.url, small)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    timezone: str


def settled(value):  # noqa: ANN001, ANN201
    """Outside a request the test's session writes on SQLite (BEGIN IMMEDIATE): what it read is
    committed at once, so the live server's writers never wait for the test."""
    db.session.commit()
    return value


@pytest.fixture
def estate(app):
    place = factories.estate("翠湖花園")
    b1, b2 = factories.building(place, "1棟"), factories.building(place, "2棟")
    for b in (b1, b2):
        factories.entrance(b)
    factories.user(Role.ADMIN, username="boss", display_name="系統管理員甲")
    found = (Place(place.id, place.name, place.timezone), b1, b2)
    return settled(found)


def round_places(page) -> list[str]:
    return [t.strip() for t in page.locator(".round-card.kind-corridor .round-place").all_inner_texts()]


def test_the_administrator_assigns_a_steward_and_sets_a_schedule_and_the_steward_sees_the_rounds_due(
        live_server, phones, estate):
    place, b1, _b2 = estate
    b1_id = settled(b1.id)
    ming = factories.user(Role.STEWARD, username="ming", display_name="陳小明")
    db.session.commit()
    admin = phones()
    sign_in(admin, live_server, "boss")

    # Staff: 陳小明 gets building 1棟 of 翠湖花園.
    admin.goto(f"{live_server}/admin/staff/")
    fits_the_phone(admin)
    shot(admin, "staff-list")
    admin.click("text=陳小明")
    admin.click(f"summary:has-text('{place.name}')")
    admin.check(f"input[name='estate-{place.id}'][value=some]")
    admin.check(f"input[name=building][value='{b1_id}']")
    fits_the_phone(admin)
    shot(admin, "staff-user")
    admin.click(f"button:has-text('{zh_hant('Save')}')")
    admin.wait_for_load_state()
    assert zh_hant("Saved.") in admin.locator(".flash-info").inner_text()
    db.session.expire_all()
    assert settled([b.name for b in ming.buildings]) == ["1棟"]

    # Schedules: corridors of 翠湖花園 every day from the next window, after a preview.
    admin.click(f".tabs a:visible:has-text('{zh_hant('Schedules')}')")
    admin.wait_for_url(f"{live_server}/admin/schedules/{place.id}")
    fits_the_phone(admin)
    shot(admin, "schedules-estate")
    admin.click(f"a:has-text('{zh_hant('Change the window of %(kind)s', kind=zh_hant('Corridor round'))}')")
    admin.check("input[name=period][value=week]")
    for day in ("0", "1", "2", "3", "4", "5", "6"):
        admin.uncheck(f"input[name=weekday][value='{day}']")
    admin.click(f"button:has-text('{zh_hant('Save')}')")  # no weekday: never falls due
    assert zh_hant("Weekly window: tick at least one weekday; with none it never falls due.") in \
        admin.locator(".field-error").first.inner_text()
    admin.check("input[name=period][value=day]")
    admin.click(f"button:has-text('{zh_hant('Preview four weeks')}')")
    preview = admin.locator(".schedule-preview")
    assert "陳小明" in preview.inner_text() and "1棟" in preview.inner_text()
    fits_the_phone(admin)
    shot(admin, "schedules-preview")
    admin.click(f"button:has-text('{zh_hant('Save')}')")
    admin.wait_for_url(f"{live_server}/admin/schedules/{place.id}")
    assert zh_hant("Every day") in admin.locator(".schedule-card").first.inner_text()

    # The steward, on a phone: the rounds of 1棟 are due, not those of 2棟.
    steward = phones()
    sign_in(steward, live_server, "ming")
    steward.wait_for_url(f"{live_server}/rounds/today")
    assert round_places(steward) == ["1棟"]
    fits_the_phone(steward)
    shot(steward, "steward-today")


def test_a_cover_shows_the_covered_buildings_rounds_on_the_covers_phone_only_on_its_days(
        live_server, phones, estate):
    place, b1, b2 = estate
    factories.user(Role.STEWARD, username="ming", display_name="陳小明", buildings=[b1])
    factories.user(Role.STEWARD, username="hua", display_name="林小華", buildings=[b2])
    db.session.commit()
    today = datetime.now(ZoneInfo(place.timezone)).date()

    cover = phones()
    sign_in(cover, live_server, "hua")
    cover.wait_for_url(f"{live_server}/rounds/today")
    assert round_places(cover) == ["2棟"]

    admin = phones()
    sign_in(admin, live_server, "boss")
    admin.goto(f"{live_server}/admin/staff/covers")

    def arrange(first, last) -> None:
        admin.select_option("#covered", label="陳小明 (ming)")
        admin.select_option("#cover", label="林小華 (hua)")
        admin.fill("#first_day", first.isoformat())
        admin.fill("#last_day", last.isoformat())
        admin.click(f"button:has-text('{zh_hant('Arrange the cover')}')")
        admin.wait_for_load_state()

    # From tomorrow: not on the cover's phone today.
    arrange(today + timedelta(days=1), today + timedelta(days=3))
    assert admin.locator(".flash-info").count() == 1
    cover.reload()
    assert round_places(cover) == ["2棟"]

    # A leave already over is refused, saying why; nothing is stored.
    arrange(today - timedelta(days=5), today - timedelta(days=2))
    assert zh_hant("This leave is already over: its last day is before today.") in \
        admin.locator(".field-error").first.inner_text()

    # Today only: both buildings on the cover's phone, until the cover is ended.
    arrange(today, today)
    fits_the_phone(admin)
    shot(admin, "covers")
    cover.reload()
    assert sorted(round_places(cover)) == ["1棟", "2棟"]
    shot(cover, "cover-today")
    admin.click(f"button:has-text('{zh_hant('End this cover today')}') >> nth=0")
    admin.wait_for_load_state()
    cover.reload()
    assert round_places(cover) == ["2棟"]


def test_the_checklist_editor_fits_the_phone_and_previews(live_server, phones, estate):
    admin = phones()
    sign_in(admin, live_server, "boss")
    admin.goto(f"{live_server}/admin/checklists/")
    fits_the_phone(admin)
    shot(admin, "checklists")
    admin.goto(f"{live_server}/admin/checklists/meter")
    admin.click(f"button:has-text('{zh_hant('Preview on a phone')}')")
    admin.wait_for_load_state()
    assert admin.locator(".phone-preview .item").count() >= 5
    fits_the_phone(admin)
    shot(admin, "checklist-preview")
    # Halfway down the long form, its buttons stay at the bottom of the screen.
    admin.locator("#item-2").scroll_into_view_if_needed()
    box = admin.locator("button[value=publish]").bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]
    admin.screenshot(path=str(ARTIFACTS / "admin-checklist-editing.png"))


def test_the_administration_pages_pass_axe(live_server, browser, estate):
    from .test_accessibility import BLOCKING, describe, run_axe

    place, b1, _b2 = estate
    ming = factories.user(Role.STEWARD, username="ming", display_name="陳小明", buildings=[b1])
    ming_id = settled(ming.id)
    context = browser.new_context(viewport=PHONE, locale="zh-TW", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server, "boss")
    found = []
    for path in ("/admin/staff/", f"/admin/staff/{ming_id}", "/admin/staff/new", "/admin/staff/covers",
                 f"/admin/schedules/{place.id}", f"/admin/schedules/{place.id}/corridor", "/admin/checklists/",
                 "/admin/checklists/corridor", "/password"):
        page.goto(f"{live_server}{path}")
        found += [("boss", path, v) for v in run_axe(page) if v["impact"] in BLOCKING]
    page.goto(f"{live_server}/admin/schedules/{place.id}/corridor")
    page.click("button[value=preview]")
    page.wait_for_load_state()
    found += [("boss", "schedule preview", v) for v in run_axe(page) if v["impact"] in BLOCKING]
    page.goto(f"{live_server}/admin/checklists/meter")
    page.click("button[value=preview]")
    page.wait_for_load_state()
    found += [("boss", "checklist preview", v) for v in run_axe(page) if v["impact"] in BLOCKING]
    context.close()
    assert not found, describe(found)
