"""The one guard (app/guard.py) on every route × every class of bad input, on the database the suite
runs on (SQLite, or PostgreSQL with TEST_DATABASE_URL).

The routes are read from app.url_map, so a route added later is covered without touching this file.
Each route is asked by a user its @roles allow (the demo estate with its history, and an administrator),
with the real records of the demo in its other path parameters, so bad input reaches as far as it can.
The classes: paths (bad identifiers in each path parameter), bodies (JSON beyond the bounds), query
strings, forms, files and headers. Every answer must be a 2xx/3xx or a clear 4xx in the usual error shape
(JSON under /api/), never a 5xx; refused input stores nothing. Each class prints how many cases it ran
and what they answered (pytest -s), the figures of the closing note of issue 17.
"""
from __future__ import annotations

import io
import re
import uuid as uuidlib
from collections import Counter
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from app import demo
from app.access import PUBLIC, allowed_roles
from app.extensions import db
from app.models import (
    ComplaintCategory,
    DecorationPermit,
    Estate,
    Finding,
    FloodTest,
    LeaveCover,
    MaterialRequest,
    OwnerContact,
    Photo,
    RepairTicket,
    Role,
    Round,
    Unit,
    User,
    Violation,
)

from .. import factories
from ..conftest import AuthActions, IsolatedClient, csrf_from

LOGINS = {Role.SUPERVISOR: "super1", Role.DESK: "desk1", Role.STEWARD: "steward1", Role.ADMIN: "guard-admin",
          Role.ENGINEERING: "eng1", Role.GATE: "gate"}
PREFERENCE = (Role.SUPERVISOR, Role.DESK, Role.STEWARD, Role.ADMIN, Role.ENGINEERING, Role.GATE)
ARGUMENT = re.compile(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>")
SIGN_OUT = {"auth.logout"}  # asked last in a class that may act: it ends the session
ALLOWED = {200, 201, 204, 302, 303, 400, 401, 403, 404, 405, 409, 413, 415, 422}


class World:
    """The demo estate with its history, one client per role, and the real records for path parameters."""

    def __init__(self, app, runner) -> None:  # noqa: ANN001
        assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0
        factories.user(Role.ADMIN, "guard-admin", estates=list(db.session.scalars(sa.select(Estate))))
        db.session.commit()
        self.app = app
        app.test_client_class = IsolatedClient  # each request in its own app context, as in production
        self.clients = {}
        self.tokens = {}
        first = lambda model, *where: db.session.scalars(sa.select(model).where(*where).order_by(model.id)).first()  # noqa: E731
        steward = db.session.scalar(sa.select(User).where(User.username == "steward1"))
        finding = first(Finding, Finding.round_id.in_(sa.select(Round.id).where(Round.steward_id == steward.id)))
        photo = first(Photo, Photo.finding_id == finding.id) or first(Photo)
        self.values = {
            "round_uuid": finding.round.uuid, "finding_uuid": finding.uuid, "photo_uuid": photo.uuid,
            "test_uuid": first(FloodTest).uuid, "ticket_id": first(RepairTicket).id, "unit_id": first(Unit).id,
            "contact_id": first(OwnerContact).id, "user_id": db.session.scalar(
                sa.select(User.id).where(User.username == "steward2")), "request_id": first(MaterialRequest).id,
            "permit_id": first(DecorationPermit).id, "violation_id": first(Violation).id,
            "estate_id": first(Estate).id, "place_id": first(Estate).id, "kind": "corridor", "variant": "display",
            "cover_id": (first(LeaveCover).id if first(LeaveCover) else 1), "filename": "css/app.css",
            "kind_key": "estates",
        }
        self.uuid_by_path = {"/api/v1/rounds/": finding.round.uuid, "/api/v1/findings/": finding.uuid,
                             "/api/v1/photos/": photo.uuid}
        for role in (None, *PREFERENCE):  # signed in before any count is taken: a sign-in is audited
            self.client(role)

    def client(self, role: Role | None):  # noqa: ANN201
        if role not in self.clients:
            c = self.app.test_client()
            if role is not None:
                assert AuthActions(c).login(LOGINS[role], demo.DEMO_PASSWORD if role is not Role.ADMIN
                                            else factories.PASSWORD).status_code == 302
                self.tokens[role] = csrf_from(c.get("/login", follow_redirects=True).get_data(as_text=True))
            self.clients[role] = c
        return self.clients[role]

    def role_for(self, endpoint: str) -> Role | None:
        allowed = allowed_roles(self.app, endpoint)
        if allowed == PUBLIC:
            return None
        return next(r for r in PREFERENCE if r in allowed)

    def value(self, rule, name: str) -> str:  # noqa: ANN001
        if name == "uuid":
            return next((v for prefix, v in self.uuid_by_path.items() if rule.rule.startswith(prefix)),
                        str(uuidlib.uuid4()))
        return str(self.values.get(name, "1"))

    def url(self, rule, bad: tuple[str, str] | None = None) -> str:  # noqa: ANN001
        """The rule's path with real values, or with `bad` = (parameter, raw value) in one place."""
        def fill(match: re.Match) -> str:
            name = match.group(2)
            if bad and bad[0] == name:
                return quote(bad[1], safe="%") if not bad[1].startswith("%") else bad[1]
            if match.group(1) == "any":
                return re.search(r"any\(([^,)]+)", match.group(0)).group(1).strip()
            return quote(self.value(rule, name), safe="/")
        return ARGUMENT.sub(fill, rule.rule)

    def headers(self, role: Role | None) -> dict:
        return {"X-CSRFToken": self.tokens[role]} if role in self.tokens else {}


@pytest.fixture
def world(app, runner) -> World:
    return World(app, runner)


def rules(app, methods=None):  # noqa: ANN001, ANN201
    """Every rule of app.url_map with the methods asked, those that end the session last."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if methods is None or method in methods:
                found.append((rule, method))
    return sorted(found, key=lambda rm: (rm[0].endpoint in SIGN_OUT, rm[0].rule, rm[1]))


def counts() -> dict[str, int]:
    """Rows in every table: what `nothing stored` is checked against."""
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def check(response, url: str, method: str, answered: Counter, failures: list, allowed=ALLOWED) -> None:  # noqa: ANN001
    answered[response.status_code] += 1
    if response.status_code not in allowed:
        failures.append(f"{method} {url!r}: {response.status_code} {response.get_data(as_text=True)[:200]!r}")
        return
    if url.startswith("/api/") and response.status_code >= 400:
        body = response.get_json(silent=True)
        if not (isinstance(body, dict) and set(body) == {"code", "message", "errors"}
                and body["code"] == response.status_code):
            failures.append(f"{method} {url!r}: {response.status_code} not in the error shape: {body!r}")


def report(name: str, cases: int, answered: Counter, failures: list) -> None:
    print(f"\n[{db.engine.dialect.name}] {name}: {cases} cases, answered {dict(sorted(answered.items()))}")
    assert not failures, f"{len(failures)} of {cases}:\n" + "\n".join(failures[:40])


# 1. Paths: every path parameter of every route, each bad value its converter must refuse.

BAD_PATH_VALUES = {
    "uuid": ["not-a-uuid", "\x00" + str(uuidlib.uuid4())[1:], "a" * 300, "%ED%A0%80", "0" * 36,
             str(uuidlib.uuid4()) + "0", "'; DROP TABLE rounds;--"],
    "int": [str(2**64), str(2**31), "0", "-1", "1.5", "9" * 400, "%00"],
    "any": ["zzz", "%00"],
    "default": ["%00", "x" * 300, "%ED%A0%80", ".."],
}


def test_bad_path_identifiers_on_every_route(world):
    before, answered, failures, cases = counts(), Counter(), [], 0
    for rule, method in rules(world.app):
        role = world.role_for(rule.endpoint)
        for match in ARGUMENT.finditer(rule.rule):
            converter = match.group(1) or "default"
            if converter == "path":
                continue  # static files: werkzeug's safe_join answers 404 for anything outside static/
            for bad in BAD_PATH_VALUES.get(converter, BAD_PATH_VALUES["default"]):
                url = world.url(rule, (match.group(2), bad))
                response = world.client(role).open(url, method=method, headers=world.headers(role),
                                                   json={} if method in ("POST", "PUT") else None)
                cases += 1
                # A malformed UUID is a 400 before any view; a number out of range names no record: 404 (405 where
                # another rule of the same path takes another method: werkzeug names it).
                check(response, url, method, answered, failures,
                      allowed={400} if converter == "uuid" else {400, 404, 405})
    assert counts() == before
    report("paths", cases, answered, failures)


# 2. Bodies: JSON beyond the bounds, to every route that takes a body (API and pages).

BAD_BODIES = {
    "nested 1000 deep": "[" * 1000 + "]" * 1000,
    "object nested 1000 deep": '{"a":' * 1000 + "1" + "}" * 1000,
    "nested 33 deep": "[" * 33 + "]" * 33,
    "lone surrogate": '{"uuid": "%s", "note": "cut \\ud83d", "why": "x"}' % uuidlib.uuid4(),
    "lone low surrogate in a key": '{"\\udc00": 1}',
    "NUL": '{"note": "a\\u0000b", "why": "\\u0000"}',
    "number of 5001 digits": '{"estate_id": %s}' % ("1" * 5001),
    "float of 5001 digits": '{"reading_value": 1.%s}' % ("1" * 5000),
    "NaN": '{"reading_value": NaN}',
    "infinity": '{"reading_value": 1e999}',
    "not UTF-8": b'{"note": "\xff\xfe"}',
    "not JSON": "{'single': quotes}",
}


def test_bad_json_bodies_on_every_route(world):
    before, answered, failures, cases = counts(), Counter(), [], 0
    for rule, method in rules(world.app, {"POST", "PUT", "PATCH", "DELETE"}):
        role = world.role_for(rule.endpoint)
        for name, body in BAD_BODIES.items():
            url = world.url(rule)
            response = world.client(role).open(url, method=method, data=body, content_type="application/json",
                                               headers=world.headers(role))
            cases += 1
            check(response, url, f"{method} [{name}]", answered, failures, allowed={400, 422})
    assert counts() == before
    report("bodies", cases, answered, failures)


# 3. Query strings: numbers beyond any integer, days outside the calendar's reach, NUL, redirects.

BAD_QUERIES = [
    {"before": str(2**64)}, {"before": "-1"}, {"estate": str(2**64)}, {"estate_id": str(2**64)},
    {"unit_id": str(2**64)}, {"estate": "١٢"}, {"from": "9999-12-31", "to": "9999-12-31"},
    {"from": "0001-01-01", "to": "0001-01-02"}, {"start": "0001-01-01"}, {"start": "9999-12-31"},
    {"date_from": "0001-01-01", "date_to": "9999-12-31"}, {"q": "\x00"}, {"q": "x" * 5000},
    {"status": "\x00"}, {"kind": "\x00"}, {"period": "\x00"}, {"size": "\x00"}, {"next": "/language\nenv;"},
    {"next": "//evil.example"}, {"covered": str(2**64)}, {"role": "\x00"}, {"\x00": "1"},
]


def test_bad_query_strings_on_every_page(world):
    before, answered, failures, cases = counts(), Counter(), [], 0
    for rule, method in rules(world.app, {"GET"}):
        role = world.role_for(rule.endpoint)
        for query in BAD_QUERIES:
            url = world.url(rule)
            response = world.client(role).get(url, query_string=query)
            cases += 1
            check(response, url + "?" + "&".join(query), "GET", answered, failures)
            if response.mimetype == "text/csv" and response.status_code == 200:
                assert response.get_data(as_text=True).endswith("\r\n"), f"{url} {query}: the CSV was cut off"
            if any("\x00" in k + v for k, v in query.items()):
                if response.status_code != 400:
                    failures.append(f"GET {url} {query!r}: a NUL answered {response.status_code}, not 400")
    assert counts() == before
    report("query strings", cases, answered, failures)


# 4. Forms: every field a page reads, with NUL (refused before the view) and with values out of range.

FIELDS = ["note", "text", "why", "description", "reason", "q", "username", "display_name", "location", "units",
          "materials", "working_hours", "timezone", "name", "code", "next", "lang", "route", "result", "kind"]
OUT_OF_RANGE = {"estate": str(2**64), "floor": "9" * 400, "days": "9" * 400, "estate_id": str(2**64), "unit_id": str(2**64), "building_id": str(2**64),
                "ticket_id": str(2**64), "covered": str(2**64), "cover": str(2**64), "first_day": "9999-12-31",
                "last_day": "0001-01-01", "deadline": "9999-12-31", "return_visit_hours": "9" * 400,
                "urgent_done": "9" * 400, "amount": "9" * 400, "seen": "9" * 400, "rows": "9" * 400,
                "next": "/language\nenv;", "uuid": "\t", "lang": "x" * 300,
                **{c.value: "9" * 400 for c in ComplaintCategory}}  # the complaint target hours


def test_bad_form_fields_on_every_route(world):
    answered, failures, cases = Counter(), [], 0
    before = counts()
    for rule, method in rules(world.app, {"POST", "PUT"}):
        role = world.role_for(rule.endpoint)
        url = world.url(rule)
        headers = world.headers(role)
        for name in FIELDS:
            response = world.client(role).open(url, method=method, headers=headers, data={
                name: "before\x00after", "csrf_token": headers.get("X-CSRFToken", "")})
            cases += 1
            check(response, url, f"{method} [{name}=NUL]", answered, failures, allowed={400})
    assert counts() == before, "a refused form stored nothing"
    for rule, method in rules(world.app, {"POST", "PUT"}):
        if rule.endpoint in SIGN_OUT:
            continue
        role = world.role_for(rule.endpoint)
        url = world.url(rule)
        headers = world.headers(role)
        response = world.client(role).open(url, method=method, headers=headers,
                                           data={**OUT_OF_RANGE, "csrf_token": headers.get("X-CSRFToken", "")})
        cases += 1
        check(response, url, f"{method} [out of range]", answered, failures)
        if response.status_code in (302, 303):
            assert "\n" not in response.headers["Location"]
    report("forms", cases, answered, failures)


# 5. Files: a name that cannot be stored, and content that is no photo / no JSON / JSON beyond the bounds.

def bad_files() -> dict[str, tuple[bytes, str]]:
    return {
        "NUL in the file name": (b"x", "a\x00.jpg"),
        "not a JPEG": (b"GIF89a" + b"\x00" * 64, "x.jpg"),
        "empty": (b"", "x.jpg"),
        "JSON nested 1000 deep": (b"[" * 1000 + b"]" * 1000, "work.json"),
        "JSON with a lone surrogate": (b'{"format": "xuncha-unsynced-work/1", "user_id": 1, "note": "\\ud800"}',
                                       "work.json"),
        "user id of 2^64": (b'{"format": "xuncha-unsynced-work/1", "user_id": 18446744073709551616, '
                            b'"entries": []}', "work.json"),
        "entries not a list": (b'{"format": "xuncha-unsynced-work/1", "user_id": 1, "entries": 5}', "work.json"),
    }


def test_bad_files_on_every_route(world):
    before, answered, failures, cases = counts(), Counter(), [], 0
    for refused_first in (True, False):  # first the NUL in a name, refused before any view: nothing stored
        if not refused_first:
            assert counts() == before
        for rule, method in rules(world.app, {"POST", "PUT"}):
            if rule.endpoint in SIGN_OUT:
                continue
            role = world.role_for(rule.endpoint)
            url = world.url(rule)
            headers = world.headers(role)
            for name, (content, filename) in bad_files().items():
                if (name == "NUL in the file name") != refused_first:
                    continue
                data = {"file": (io.BytesIO(content), filename), "sha256": "0" * 64, "csrf_token": headers.get(
                    "X-CSRFToken", ""), "finding_uuid": world.values["finding_uuid"]}
                response = world.client(role).open(url, method=method, headers=headers, data=data,
                                                   content_type="multipart/form-data")
                cases += 1
                check(response, url, f"{method} [{name}]", answered, failures)
                if refused_first and response.status_code != 400:
                    failures.append(f"{method} {url}: a NUL in a file name answered {response.status_code}")
    report("files", cases, answered, failures)


# 6. Headers: another site's Origin on a state change, a multipart body without its boundary, a broken
#    Accept-Language or cookie, a method no route has (405 names the allowed ones).

def test_bad_headers_on_every_route(world):
    before, answered, failures, cases = counts(), Counter(), [], 0
    for rule, method in rules(world.app):
        role = world.role_for(rule.endpoint)
        url = world.url(rule)
        client = world.client(role)
        # Without the CSRF token on a state change: whatever the header, the request must not act.
        base = world.headers(role) if method == "GET" else {}
        if method in ("POST", "PUT"):
            for origin in ("https://evil.example", "null", "http://localhost.evil.example"):
                response = client.open(url, method=method, headers={**base, "Origin": origin}, data={})
                cases += 1
                check(response, url, f"{method} [Origin {origin}]", answered, failures, allowed={403})
            response = client.open(url, method=method, headers=base, data=b"--x\r\n",
                                   content_type="multipart/form-data")  # no boundary
            cases += 1
            check(response, url, f"{method} [multipart without boundary]", answered, failures, allowed={400, 422})
            response = client.open(url, method=method, headers={**base, "Content-Type": "application/json; charset=utf-7"},
                                   data=b'{"a": "+AGEAYgBj-"}')
            cases += 1
            check(response, url, f"{method} [charset utf-7]", answered, failures, allowed={400, 415, 422})
        for headers in ({"Accept-Language": "zz-ZZ;q=abc, \x7f"}, {"Cookie": "session=\x7f%%%"},
                        {"If-Modified-Since": "yesterday"}, {"X-CSRFToken": "x" * 5000}):
            response = (world.app.test_client() if "Cookie" in headers else client).open(url, method=method, headers={**base, **headers},
                                   data={} if method in ("POST", "PUT") else None)
            cases += 1
            check(response, url, f"{method} [{headers}]", answered, failures)
        if method == "GET":
            response = client.open(url, method="TRACE")
            cases += 1
            check(response, url, "TRACE", answered, failures, allowed={405})
            if "Allow" not in response.headers:
                failures.append(f"TRACE {url}: 405 without an Allow header")
    assert counts() == before
    report("headers", cases, answered, failures)
