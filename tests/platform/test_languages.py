"""The language of a page: chosen from the user's saved choice, the switcher or the browser's header;
the pages and error pages of every role in it."""
from __future__ import annotations

import os
import re
import tempfile

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import session

from app.config import PROJECT_ROOT
from app.extensions import db
from app.i18n import LANGUAGES, language_from_header, select_locale
from app.models import Language, Role, User

from tests import factories
from tests.conftest import AuthActions
from tests.platform.test_translation_catalogs import load_catalog

TRANSLATIONS = PROJECT_ROOT / "translations"

# What each language calls a few things on the pages.
SIGN_IN = {"zh_Hant": "登入", "zh_Hans": "登录", "en": "Sign in"}
USERNAME = {"zh_Hant": "帳號", "zh_Hans": "用户名", "en": "Username"}
HTML_LANG = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}
NOT_FOUND = {
    "zh_Hant": "此頁面或記錄不存在，或您無權查看。",
    "zh_Hans": "此页面或记录不存在，或您无权查看。",
    "en": "This page or record does not exist, or is not yours to see.",
}


# --- the compiled catalogs the app reads ----------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    """Compile any .po newer than its .mo, as `make translations` does before `make test`."""
    for lang in LANGUAGES:
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not po.is_file() or (mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime):
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)


# --- locale choice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("zh-Hant-TW", "zh_Hant"),
        ("zh_TW", "zh_Hant"),
        ("zh", "zh_Hant"),
        ("zh-CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("zh-cn", "zh_Hans"),
        ("en-US", "en"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr", None),
        ("fr-FR, de;q=0.5", None),
        ("", None),
        (None, None),
        ("en;q=0.4, zh-CN;q=0.8", "zh_Hans"),
        ("zh-TW;q=0.5, en;q=0.9", "en"),
        ("zh-CN;q=0, en;q=0.1", "en"),
        ("zh-CN;q=0", None),
        ("fr, zh-HK;q=0.7, en;q=0.3", "zh_Hant"),
        ("en;q=0.8, zh-TW;q=0.8", "en"),  # equal weights: the first named wins
        ("zh-CN;q=bogus, en;q=0.5", "en"),
    ],
)
def test_language_from_header(header, expected):
    assert language_from_header(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh_Hant"),
        ("fr", "zh_Hant"),
        ("zh-TW", "zh_Hant"),
        ("zh-CN", "zh_Hans"),
        ("en-US", "en"),
        ("en;q=0.4, zh-CN;q=0.8", "zh_Hans"),
    ],
)
def test_select_locale_from_the_browser(app, header, expected):
    headers = {"Accept-Language": header} if header else {}
    with app.test_request_context("/login", headers=headers):
        assert select_locale() == expected


def test_select_locale_prefers_the_browsers_own_choice_to_its_header(app):
    with app.test_request_context("/login", headers={"Accept-Language": "zh-CN"}):
        session["lang"] = "en"
        assert select_locale() == "en"
        session["lang"] = "klingon"  # not one of ours: ignored
        assert select_locale() == "zh_Hans"


# --- pages ----------------------------------------------------------------------------------------


def page(response) -> str:
    return response.get_data(as_text=True)


def assert_in_language(html: str, lang: str) -> None:
    assert f'<html lang="{HTML_LANG[lang]}">' in html
    others = [SIGN_IN[o] for o in LANGUAGES if o != lang and SIGN_IN[o] not in SIGN_IN[lang]]
    assert SIGN_IN[lang] in html
    assert USERNAME[lang] in html
    # "Sign in" is on the login page only once per language it is shown in (title, heading, button).
    assert not any(f">{word}<" in html for word in others), f"login page in {lang} shows another language"


def switch_language(client, auth, lang: str, next_path: str = "/login"):
    return client.post("/language", data={"lang": lang, "next": next_path, "csrf_token": auth.csrf()})


def test_login_page_is_traditional_chinese_by_default(client):
    html = page(client.get("/login"))
    assert_in_language(html, "zh_Hant")
    assert "<title>登入 · 巡查</title>" in html
    assert "Sign in" not in html and "Username" not in html


@pytest.mark.parametrize(
    ("header", "lang"),
    [("en", "en"), ("en-US,en;q=0.9", "en"), ("zh-CN", "zh_Hans"), ("zh-HK", "zh_Hant"), ("fr", "zh_Hant")],
)
def test_login_page_follows_accept_language(client, header, lang):
    assert_in_language(page(client.get("/login", headers={"Accept-Language": header})), lang)


def test_form_errors_and_flashes_are_translated(client, auth, app):
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])
    token = auth.csrf()
    empty = page(client.post("/login", data={"username": "", "password": "", "csrf_token": token},
                             headers={"Accept-Language": "zh-CN"}))
    assert "请输入用户名。" in empty and "请输入密码。" in empty
    wrong = page(client.post("/login", data={"username": "amy", "password": "nope", "csrf_token": token},
                             headers={"Accept-Language": "zh-TW"}))
    assert "帳號或密碼錯誤。" in wrong and "Wrong username or password." not in wrong


def test_language_switcher_changes_the_language_of_an_anonymous_browser(client, auth):
    zh = {"Accept-Language": "zh-TW"}
    assert_in_language(page(client.get("/login", headers=zh)), "zh_Hant")
    response = switch_language(client, auth, "en")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    # The browser's choice beats its Accept-Language header from now on.
    assert_in_language(page(client.get("/login", headers=zh)), "en")
    switch_language(client, auth, "zh_Hans")
    assert_in_language(page(client.get("/login", headers=zh)), "zh_Hans")


def test_language_switcher_ignores_unknown_languages(client, auth):
    response = switch_language(client, auth, "fr")
    assert response.status_code == 302
    assert_in_language(page(client.get("/login")), "zh_Hant")


def test_language_switcher_needs_the_csrf_token(client):
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert_in_language(page(client.get("/login")), "zh_Hant")


def test_the_switcher_marks_the_current_language(client):
    html = page(client.get("/login", headers={"Accept-Language": "zh-CN"}))
    current = re.findall(r'<button[^>]*value="(\w+)"[^>]*aria-current="true"', html)
    assert current == ["zh_Hans"]


def test_a_signed_in_users_saved_language_beats_the_browser_header(client, auth):
    user = factories.user(Role.STEWARD, username="amy", estates=[factories.estate()], language=Language.ZH_HANS)
    assert auth.login("amy").status_code == 302
    html = page(client.get("/rounds/today", headers={"Accept-Language": "en-US"}))
    assert f'<html lang="{HTML_LANG["zh_Hans"]}">' in html
    assert "今日巡查" in html and "退出登录" in html and "楼宇客服管家" in html  # role label (lazy string)
    assert "Sign out" not in html
    assert user.language is Language.ZH_HANS


def test_a_signed_in_user_without_a_saved_language_follows_the_browser(client, auth):
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])
    auth.login("amy")
    html = page(client.get("/rounds/today", headers={"Accept-Language": "en"}))
    assert '<html lang="en">' in html and "Sign out" in html and "Today's rounds" in html
    html = page(client.get("/rounds/today"))
    assert '<html lang="zh-Hant">' in html and "登出" in html and "今日巡查" in html


def test_switching_while_signed_in_saves_the_language_on_the_user(client, auth, app):
    user = factories.user(Role.DESK, username="dora", estates=[factories.estate()], language=Language.ZH_HANT)
    user_id = user.id
    auth.login("dora")
    response = switch_language(client, auth, "en", next_path="/desk/")
    assert response.status_code == 302 and response.headers["Location"] == "/desk/"
    db.session.expire_all()
    assert db.session.get(User, user_id).language is Language.EN
    html = page(client.get("/desk/", headers={"Accept-Language": "zh-TW"}))
    assert '<html lang="en">' in html and "Desk" in html and "Sign out" in html

    # The setting follows the user to a new browser, whatever that browser asks for.
    auth.logout()
    other = app.test_client()
    AuthActions(other).login("dora")
    html = page(other.get("/desk/", headers={"Accept-Language": "zh-CN"}))
    assert '<html lang="en">' in html and "Sign out" in html


def test_the_language_survives_signing_out(client, auth):
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])
    auth.login("amy")
    switch_language(client, auth, "zh_Hans", next_path="/rounds/today")
    response = auth.logout()
    assert response.status_code == 302
    html = page(client.get("/login", headers={"Accept-Language": "en"}))
    assert_in_language(html, "zh_Hans")
    assert "您已退出登录。" in html


# --- error pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"), [(None, "zh_Hant"), ("zh-CN", "zh_Hans"), ("zh-TW", "zh_Hant"), ("en", "en")]
)
def test_404_page_is_in_the_browsers_language(client, header, lang):
    headers = {"Accept-Language": header} if header else {}
    response = client.get("/no/such/page", headers=headers)
    html = page(response)
    assert response.status_code == 404
    assert f'<html lang="{HTML_LANG[lang]}">' in html
    assert NOT_FOUND[lang] in html
    for other in LANGUAGES:
        if other != lang:
            assert NOT_FOUND[other] not in html


def test_json_errors_are_in_the_browsers_language(client):
    response = client.get("/api/no-such-thing", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert response.get_json()["message"] == NOT_FOUND["zh_Hans"]


def test_403_page_is_in_the_signed_in_users_language(client, auth):
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()], language=Language.ZH_HANS)
    auth.login("amy")
    response = client.get("/desk/", headers={"Accept-Language": "en"})
    html = page(response)
    assert response.status_code == 403
    assert '<html lang="zh-Hans">' in html
    assert "您的岗位无权使用此页面。" in html and "返回首页" in html


def test_csrf_error_page_is_translated(client):
    response = client.post("/language", data={"lang": "en"}, headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 400
    assert "表單的安全驗證碼遺失或已過期，請重新載入頁面後再試。" in page(response)


def test_pages_of_every_role_have_no_untranslated_english_in_chinese(client, auth):
    """A crude net: the English of each catalog message must not show on a Chinese page."""
    estate = factories.estate()
    factories.building(estate)
    pages = {
        Role.STEWARD: "/rounds/today",
        Role.DESK: "/desk/",
        Role.SUPERVISOR: "/desk/supervisor",
        Role.ENGINEERING: "/engineering/",
    }
    english = {m.id for m in load_catalog("en") if m.id and len(m.id) > 3 and " " in m.id}
    for role, path in pages.items():
        user = factories.user(role, estates=[estate], language=Language.ZH_HANT)
        auth.login(user.username)
        html = page(client.get(path))
        assert '<html lang="zh-Hant">' in html
        shown = sorted(e for e in english if e in html)
        assert not shown, f"{path}: English on a zh_Hant page: {shown}"
        auth.logout()
