"""Signing in and out: neutral failures, disabled users, CSRF, rate limits, cookies."""
from __future__ import annotations

import pytest

from app.auth.service import authenticate
from app.extensions import db
from app.models import Role

from tests import factories
from tests.conftest import AuthActions

NEUTRAL = "Wrong username or password."


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages; tests/platform/test_i18n.py checks the other languages."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def steward(app):
    return factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.STEWARD, "/rounds/today"),
        (Role.DESK, "/desk/"),
        (Role.SUPERVISOR, "/desk/supervisor"),
        (Role.ENGINEERING, "/engineering/"),
    ],
)
def test_each_role_lands_on_its_own_page(client, auth, app, role, landing):
    user = factories.user(role, estates=[factories.estate()])
    response = auth.login(user.username)
    assert response.status_code == 302 and response.headers["Location"] == landing
    assert client.get(landing).status_code == 200
    assert client.get("/").headers["Location"] == landing


def test_password_is_stored_as_a_scrypt_hash(app):
    user = factories.user(password="s3cret-pass")
    user.set_password("s3cret-pass")
    assert user.password_hash.startswith("scrypt:")
    assert "s3cret-pass" not in user.password_hash
    assert user.check_password("s3cret-pass") and not user.check_password("s3cret-pasS")


def test_username_is_case_insensitive(auth, steward):
    assert auth.login("AMY").status_code == 302


@pytest.mark.parametrize(("username", "password"), [("amy", "wrong password"), ("nobody", factories.PASSWORD)])
def test_wrong_password_and_unknown_user_get_the_same_answer(client, auth, steward, username, password):
    response = auth.login(username, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert NEUTRAL in html
    assert client.get("/rounds/today").status_code == 302  # still signed out


def test_a_disabled_user_cannot_sign_in(auth, steward):
    steward.active = False
    response = auth.login("amy")
    assert response.status_code == 200 and NEUTRAL in response.get_data(as_text=True)


def test_authenticate_service(app, steward):
    assert authenticate(db.session, " Amy ", factories.PASSWORD) is steward
    assert authenticate(db.session, "amy", "nope") is None
    assert authenticate(db.session, "ghost", factories.PASSWORD) is None


def test_empty_form_says_what_is_missing(client, auth):
    response = client.post("/login", data={"csrf_token": auth.csrf()})
    html = response.get_data(as_text=True)
    assert "Enter your username." in html and "Enter your password." in html


def test_post_without_csrf_token_is_refused_with_a_clear_message(client, steward):
    response = client.post("/login", data={"username": "amy", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert client.get("/rounds/today").status_code == 302


def test_fetch_with_the_csrf_header_is_accepted(client, auth, steward):
    token = auth.csrf()
    response = client.post(
        "/login", data={"username": "amy", "password": factories.PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 302


def test_logout_needs_post_and_signs_out(client, auth, steward):
    auth.login("amy")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 302
    assert client.get("/rounds/today").status_code == 302


def test_a_request_in_flight_at_sign_out_does_not_sign_the_user_back_in(app, client, auth, steward):
    auth.login("amy")
    client.get("/rounds/today")  # the page a phone has open when the steward signs out
    signed_in = client.get_cookie("session").value
    auth.logout()
    # The phone's background fetch left before the sign-out and is answered after it, with the
    # old cookie: the server no longer takes it, whatever the browser keeps.
    late = app.test_client()
    late.set_cookie("session", signed_in)
    assert late.get("/api/v1/offline-pack").status_code == 401
    assert late.get("/rounds/today").status_code == 302
    assert client.get("/rounds/today").status_code == 302


def test_signing_out_ends_the_users_other_sessions_and_a_new_sign_in_works(app, client, auth, steward):
    phone = app.test_client()
    assert AuthActions(phone).login("amy").status_code == 302
    auth.login("amy")
    assert phone.get("/rounds/today").status_code == 200
    auth.logout()  # on the other device
    assert phone.get("/rounds/today").status_code == 302
    auth.login("amy")
    assert client.get("/rounds/today").status_code == 200


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(client, auth, steward):
    auth.login("amy")
    steward.set_password("a-new-password-1")
    db.session.commit()
    assert client.get("/rounds/today").status_code == 302


def test_next_parameter_cannot_redirect_off_site(client, auth, steward):
    token = auth.csrf()
    data = {"username": "amy", "password": factories.PASSWORD, "csrf_token": token}
    assert client.post("/login?next=https://evil.example/", data=data).headers["Location"] == "/rounds/today"
    auth.logout()
    data["csrf_token"] = auth.csrf()
    assert client.post("/login?next=//evil.example/x", data=data).headers["Location"] == "/rounds/today"
    auth.logout()
    data["csrf_token"] = auth.csrf()
    assert client.post("/login?next=/desk/units", data=data).headers["Location"] == "/desk/units"


@pytest.mark.parametrize("target", ["/language\nenv;", "/language\r\nSet-Cookie: x=1", "/\\evil.example",
                                    "/x\x00y", "/x\ty"])
def test_a_redirect_target_with_a_newline_or_a_backslash_is_not_followed(client, auth, steward, target):
    """A web scanner's `POST /language` with next=/language%0Aenv; answered 500 (a header cannot hold a
    newline): every redirect target read from a request is checked first, and falls back to a safe page."""
    token = auth.csrf()
    response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    if "\x00" in target:
        assert response.status_code == 400  # the guard refuses U+0000 in any form field
        return
    assert response.status_code == 302 and response.headers["Location"] == "/"
    data = {"username": "amy", "password": factories.PASSWORD, "csrf_token": auth.csrf()}
    signed_in = client.post("/login", query_string={"next": target}, data=data)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/rounds/today"


def test_anonymous_user_is_sent_to_login_and_back(client, auth, steward):
    response = client.get("/rounds/today")
    assert response.headers["Location"] == "/login?next=/rounds/today"
    token = auth.csrf()
    response = client.post(
        "/login?next=/rounds/today", data={"username": "amy", "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/rounds/today"


def test_repeated_failures_from_one_address_get_429_but_other_addresses_and_the_user_are_fine(app, client, auth, steward):
    limit = int(app.config["LOGIN_FAILURE_LIMIT"].split()[0])
    for _ in range(limit):
        assert auth.login("amy", "guess").status_code == 200
    blocked = auth.login("amy", factories.PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in blocked.get_data(as_text=True)

    # The real user, from her own phone (another address), is not locked out.
    other = app.test_client()
    other.environ_base.update(REMOTE_ADDR="10.1.2.3", HTTP_ACCEPT_LANGUAGE="en")
    page = other.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = other.post(
        "/login",
        data={"username": "amy", "password": factories.PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302


def test_successful_sign_ins_are_not_counted_as_failures(app, client, auth, steward):
    limit = int(app.config["LOGIN_FAILURE_LIMIT"].split()[0])
    for _ in range(limit + 2):
        assert auth.login("amy").status_code == 302
        auth.logout()


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, steward):
    response = auth.login("amy")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # local http runs; production sets Secure (tests/platform/test_config.py)
