"""Security headers on every response, pages free of inline script, production cookies, and a
cookie signed with another deployment's secret."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask_login.utils import encode_cookie

from app import create_app
from app.access import public
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Role

from tests import factories
from tests.conftest import AuthActions, base_config
from tests.platform.test_access import ANON, MATRIX

REQUIRED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:", "blob:"},
    "connect-src": {"'self'"},
    "worker-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}


def csp_directives(header: str) -> dict[str, set[str]]:
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def assert_security_headers(response, production: bool = False) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.path} → {response.status_code}"
    csp = csp_directives(headers.get("Content-Security-Policy", ""))
    for name, values in REQUIRED_CSP.items():
        assert csp.get(name) == values, (where, name, csp.get(name))
    assert not any("'unsafe-inline'" in v or "'unsafe-eval'" in v for v in csp.values()), where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin"), where
    assert "camera=(self)" in headers.get("Permissions-Policy", ""), where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert ("Strict-Transport-Security" in headers) is production, where


class InlineCode(HTMLParser):
    """Finds what a CSP without 'unsafe-inline' would block: inline scripts, event handler
    attributes, javascript: URLs, style attributes and <style> blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.found.append(f"inline <script {attrs}>")
        if tag == "style":
            self.found.append("<style> block")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("who", [ANON, *Role], ids=lambda w: w if isinstance(w, str) else w.value)
def test_every_route_answers_with_the_security_headers_and_no_inline_code(client, auth, estate_world, who):
    """Every route of the matrix, as anonymous and as every role: allowed answers, redirects,
    403s, 404s and 4xx for empty bodies all carry the headers; no HTML page has inline code."""
    _estate, _unit, users, ids = estate_world
    if who != ANON:
        assert auth.login(users[who].username).status_code == 302
    token = auth.csrf()
    html_pages = 0
    for endpoint in sorted(MATRIX, key=lambda e: e == "auth.logout"):  # sign out last
        method, path, _allowed = MATRIX[endpoint]
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(path.format(**ids), method=method, data=data, headers={"X-CSRFToken": token})
        assert_security_headers(response)
        if response.mimetype == "text/html":
            html_pages += 1
            assert inline_code(response.get_data(as_text=True)) == [], endpoint
    assert html_pages > 0


def test_templates_have_no_inline_code():
    """Also the templates no matrix request renders: the same rules on their source."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    style = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.I)
    found = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for pattern in (inline_script, handler, style, re.compile(r"javascript:", re.I)):
            found += [f"{path.relative_to(PROJECT_ROOT)}: {m.group(0)}" for m in pattern.finditer(source)]
    assert found == []


def test_static_scripts_never_set_style_attributes_or_run_strings():
    """Scripts may only set styles through the CSSOM (allowed under style-src 'self') and never
    evaluate strings as code (no 'unsafe-eval')."""
    found = []
    for path in sorted([*(PROJECT_ROOT / "static" / "js").rglob("*.js"), PROJECT_ROOT / "service-worker" / "sw.js"]):
        source = path.read_text(encoding="utf-8")
        for pattern in (r"setAttribute\(\s*['\"]style", r"\beval\(", r"new Function\(", r"style=",
                        r"setTimeout\(\s*['\"]", r"\bon[a-z]+=\""):
            found += [f"{path.name}: {pattern}" for _ in re.finditer(pattern, source)]
    assert found == []


@pytest.fixture
def crashing(app, tmp_path):
    """A second app on the same database with a route that crashes, and a tight login limit."""
    cfg = base_config(tmp_path / "crash", app.config["SQLALCHEMY_DATABASE_URI"])
    crashing = create_app({**cfg, "LOGIN_FAILURE_LIMIT": "1 per 15 minutes", "MAX_CONTENT_LENGTH": 1024})

    @crashing.route("/boom")
    @public
    def boom():
        raise RuntimeError("bug")

    @crashing.route("/api/boom")
    @public
    def api_boom():
        raise RuntimeError("bug")

    db.session.commit()
    yield crashing
    with crashing.app_context():
        db.session.remove()
        db.engine.dispose()


def test_error_answers_carry_the_headers_too(crashing, estate_world):
    _estate, _unit, users, _ids = estate_world
    gate = users[Role.GATE].username
    db.session.commit()  # and no read after it: the other app's requests write to the same SQLite file
    client = crashing.test_client()
    answers = {
        "500 page": client.get("/boom"),
        "500 API": client.get("/api/boom"),
        "404 page": client.get("/no-such-page"),
        "404 API": client.get("/api/v1/no-such-thing"),
        "405": client.put("/login"),
        "401 API": client.get("/api/v1/offline-pack"),
        "400 CSRF": client.post("/language", data={"lang": "en"}),
        "413": client.post("/login", data={"username": "x" * 4096}),
    }
    assert AuthActions(client).login(gate).status_code == 302
    answers["403"] = client.get("/desk/findings")
    AuthActions(client).logout()
    for _ in range(3):
        answers["429"] = client.post("/login", data={"username": "nobody", "password": "wrong",
                                                     "csrf_token": AuthActions(client).csrf()})
    expected = {"500 page": 500, "500 API": 500, "404 page": 404, "404 API": 404, "405": 405, "401 API": 401,
                "400 CSRF": 400, "413": 413, "429": 429, "403": 403}
    assert {name: r.status_code for name, r in answers.items()} == expected
    for response in answers.values():
        assert_security_headers(response)


def test_the_service_worker_and_static_files_carry_the_headers(client):
    for path in ("/sw.js", "/static/js/app.js", "/static/css/app.css", "/manifest.webmanifest", "/offline",
                 "/healthz", "/api/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


# Production cookies


@pytest.fixture
def production(app, tmp_path):
    """A production-configured app (as XUNCHA_ENV=production sets it) on the test's database, reached over HTTPS."""
    cfg = base_config(tmp_path / "prod", app.config["SQLALCHEMY_DATABASE_URI"])
    cfg.update(ENV="production", TESTING=False, SECRET_KEY="production-secret-" + "x" * 40)
    prod = create_app(cfg)
    yield prod
    with prod.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_lax_and_host_prefixed(app, production):
    username = factories.user(Role.STEWARD, estates=[factories.estate()]).username
    db.session.commit()  # and no read after it: the other app's requests write to the same SQLite file
    client = production.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    response = AuthActions(client).login(username)
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-xuncha="))
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= set(attributes)
    assert attributes["samesite"] == "SameSite=Lax" and attributes["path"] == "Path=/"
    assert "domain" not in attributes  # a __Host- cookie may not name a domain
    assert not [c for c in cookies if c.startswith("session=")]
    assert client.get("/rounds/today").status_code == 200  # the browser sends it back over HTTPS
    assert_security_headers(response, production=True)
    assert production.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    assert production.config["REMEMBER_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_HTTPONLY"]


def test_local_runs_keep_a_plain_session_cookie_over_http(client, auth):
    steward = factories.user(Role.STEWARD, estates=[factories.estate()])
    response = auth.login(steward.username)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" not in cookie and "HttpOnly" in cookie
    assert "Strict-Transport-Security" not in response.headers


# A cookie from another deployment


def test_a_session_signed_with_another_deployments_secret_is_signed_out(app, client, auth, tmp_path):
    username = factories.user(Role.STEWARD, estates=[factories.estate()]).username
    other = create_app({**base_config(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"]),
                        "SECRET_KEY": "another-deployments-secret"})
    db.session.commit()  # and no read after it: the other app's requests write to the same SQLite file
    other_client = other.test_client()
    assert AuthActions(other_client).login(username).status_code == 302
    assert other_client.get("/api/v1/session").status_code == 200  # valid where it was made
    foreign = other_client.get_cookie("session").value

    client.set_cookie("session", foreign)
    page = client.get("/rounds/today")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    api = client.get("/api/v1/session")
    assert api.status_code == 401 and api.get_json()["code"] == 401
    # Posting with it is refused before anything is read: the CSRF token was the other secret's too.
    assert client.post("/api/v1/rounds", json={}).status_code in (400, 401)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("value", ["", "garbage", "e30.bad.signature", "x" * 4000, "%ff%fe", "..."])
def test_a_broken_session_cookie_is_signed_out_not_a_crash(client, value):
    client.set_cookie("session", value)
    assert client.get("/api/v1/session").status_code == 401
    response = client.get("/rounds/today")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_remember_cookie_signed_with_another_secret_is_ignored(app, client, tmp_path):
    steward = factories.user(Role.STEWARD, estates=[factories.estate()])
    db.session.commit()
    other = create_app({**base_config(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"]),
                        "SECRET_KEY": "another-deployments-secret"})
    with other.test_request_context():
        forged = encode_cookie(str(steward.get_id()))
    with app.test_request_context():
        genuine = encode_cookie(str(steward.get_id()))
    assert forged != genuine
    client.set_cookie(app.config["REMEMBER_COOKIE_NAME"], forged)
    assert client.get("/api/v1/session").status_code == 401
    client.set_cookie(app.config["REMEMBER_COOKIE_NAME"], genuine)  # the control: this one signs in
    assert client.get("/api/v1/session").status_code == 200
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
