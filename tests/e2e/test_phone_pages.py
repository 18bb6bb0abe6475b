"""Real Chromium at 360 px: sign in, see today's rounds, nothing wider than the screen, thumb-sized targets."""
from __future__ import annotations

import math
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from app.extensions import db
from app.models import User

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def zh_hant(message: str) -> str:
    """The Traditional Chinese the page must show (and proof that a translation exists)."""
    with force_locale("zh_Hant"):
        translated = gettext(message)
    assert translated != message, f"no zh_Hant translation for {message!r}"
    return translated


def assert_fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def assert_thumb_sized(page, selector):
    small = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
            .filter(el => el.offsetParent !== null)
            .map(el => [el.textContent.trim(), el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""",
        selector,
    )
    assert small == []


def test_steward_signs_in_on_a_phone_and_sees_todays_rounds(live_server, phone, demo_estate):
    sign_in(phone, live_server, "steward1")
    phone.wait_for_url(f"{live_server}/rounds/today")
    assert phone.locator("html").get_attribute("lang") == "zh-Hant"
    assert phone.locator("h1").inner_text() == zh_hant("Today's rounds")
    cards = phone.locator(".round-card")
    assert cards.count() > 5
    assert phone.locator(".kind-decoration").count() >= 1
    assert_fits_the_phone(phone)
    assert_thumb_sized(phone, "button, .tabs a, input")


def readable_size(n: float) -> str:
    """What the page shows for a size (static/js/app.js readableSize)."""
    if n >= 1024 ** 3:
        gb = n / 1024 ** 3
        return f"{gb:.0f} GB" if n >= 10 * 1024 ** 3 else f"{float(f'{gb:.1f}'):g} GB"
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:.1f} MB"
    return f"{math.ceil(n / 1024)} KB"


def test_the_phone_shows_whether_its_storage_is_kept_and_how_much_is_free(live_server, phone, demo_estate):
    sign_in(phone, live_server, "steward1")
    phone.wait_for_url(f"{live_server}/rounds/today")
    info = phone.locator(".storage-info")
    phone.wait_for_function("() => document.querySelector('.storage-info').textContent.includes('·')")
    persisted, quota = phone.evaluate(
        "Promise.all([navigator.storage.persisted(), navigator.storage.estimate().then(e => e.quota)])")
    answer = zh_hant("Storage: kept by the browser" if persisted else "Storage: the browser may clear it when space runs low")
    text = info.inner_text()
    # Sizes in units a person reads at a glance (Chromium's quota is gigabytes): "10 GB", not "10240.1 MB".
    used = r"(?:\d+ KB|\d+\.\d MB|\d+(?:\.\d)? GB)"
    shown = re.escape(zh_hant("%(used)s used of %(quota)s")).replace(re.escape("%(used)s"), used).replace(
        re.escape("%(quota)s"), re.escape(readable_size(quota)))
    assert re.fullmatch(re.escape(answer + " · ") + shown, text), (text, quota)


def test_wrong_password_shows_the_neutral_message(live_server, phone, demo_estate):
    phone.goto(f"{live_server}/login")
    phone.fill("#username", "steward1")
    phone.fill("#password", "wrong")
    phone.click("button[type=submit]")
    assert phone.locator(".flash-error").inner_text() == zh_hant("Wrong username or password.")
    assert_fits_the_phone(phone)


@pytest.mark.parametrize("username", ["desk1", "super1", "eng1"])
def test_other_roles_pages_fit_a_phone(live_server, phone, demo_estate, username):
    sign_in(phone, live_server, username)
    phone.wait_for_load_state()
    assert phone.locator("h1").count() == 1
    assert_fits_the_phone(phone)
    assert_thumb_sized(phone, "button, .tabs a, input")


def test_switching_language_saves_it_for_the_user(live_server, phone, demo_estate):
    sign_in(phone, live_server, "steward1")
    phone.wait_for_url(f"{live_server}/rounds/today")
    phone.click("button[value=en]")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "Today's rounds"
    user = db.session.scalars(sa.select(User).where(User.username == "steward1")).one()
    db.session.refresh(user)
    assert user.language.value == "en"
