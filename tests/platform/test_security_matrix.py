"""The security matrix across estates: a user of another estate, in every role, reaches none of an
estate's objects, by id or by UUID, in the path, the query or the body, and sees none of them in lists.

tests/platform/test_access.py walks every route for anonymous and every role of the estate that owns the
objects (its MATRIX, which also fails when a route is added without an entry). Here the same
routes are walked by the staff of a second estate: a route their role may use answers 404 for the
first estate's object (its existence is not theirs to know), a route their role may not use 403;
nothing of the first estate appears in any answer, and nothing of it changes. Requests that carry a
body are checked against a positive control: the owner estate's user sends the very same request and
is let through, so the other estate's 404 is the scope check, not a bad body.
"""
from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    DecorationPermit,
    Finding,
    FloodTest,
    MaterialRequest,
    Photo,
    RepairTicket,
    Role,
    Round,
    Violation,
)
from app.models.base import new_uuid

from tests import factories
from tests.conftest import AuthActions
from tests.platform.test_access import COMPANY_WIDE, HIDDEN_OBJECT, MATRIX

# Routes that name an object (by id or UUID) in their path or query.
OBJECT_ROUTES = sorted(e for e, (_m, path, _a) in MATRIX.items() if "{" in path)
# Routes without an object: lists, forms, exports. They must not list the other estate's objects.
OTHER_ROUTES = sorted(e for e, (_m, path, _a) in MATRIX.items() if "{" not in path)
# Pages that take an id only as a hint and ignore one outside the user's scope (200, nothing shown):
# the walk page is a cacheable shell that loads its round through the API (404 there); the
# registration form pre-fills a unit only when it is the user's.
IGNORES_FOREIGN_HINT = {"rounds.walk", "decoration.new"}
# The owners' public pages: anyone holding the code or the status link reaches them, by design (what
# they show is checked in tests/owners/); a rating of work not done yet is refused (422).
PUBLIC_BY_TOKEN = {"owner.report": 200, "owner.status": 200, "owner.rate": 422, "owner.photo": 200}


def photo_upload(**fields) -> dict:
    data = factories.jpeg_bytes()
    return {"data": {"file": (io.BytesIO(data), "p.jpg", "image/jpeg"),
                     "sha256": hashlib.sha256(data).hexdigest(), **fields},
            "content_type": "multipart/form-data"}


def photo_part(**owner) -> dict:
    """The whole photo as one part of a resumable upload (PUT …/upload?offset=0&…)."""
    data = factories.jpeg_bytes()
    return {"data": data, "content_type": "application/octet-stream",
            "query_string": {"offset": 0, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **owner}}


# A body that the owner estate's user gets through with: the other estate's must be refused for
# the object, not for the body. (Routes not named here act on the object alone.)
BODIES = {
    "api_decoration.FloodTestNeighbourCheck": lambda ids: {"json": {"uuid": new_uuid(), "units": "2-601",
                                                                    "leak": False}},
    "api_decoration.FloodTestResult": lambda ids: {"json": {"uuid": new_uuid(), "passed": False, "note": "滲漏"}},
    "api_decoration.MaterialDecision": lambda ids: {"json": {"uuid": new_uuid(), "approved": True}},
    "api_photos.PhotoUpload": lambda ids: photo_upload(finding_uuid=ids["finding_uuid"]),
    "api_photos.PhotoPartUpload": lambda ids: photo_part(finding_uuid=ids["finding_uuid"]),
    "api_rounds.FindingAmendments": lambda ids: {"json": {"uuid": new_uuid(), "result": "fine", "why": "複查後已修好"}},
    "api_rounds.RoundCompletion": lambda ids: {"json": {"findings": []}},
    "gate.decide": lambda ids: {"data": {"uuid": new_uuid(), "approved": "1"}},
    "rounds.amend": lambda ids: {"data": {"uuid": new_uuid(), "result": "fine", "why": "複查後已修好",
                                          "round_uuid": ids["round_uuid"]}},
    "tickets.merge": lambda ids: {"data": {"into": str(ids["ticket_id"])}},
    "teams.new": lambda ids: {"data": {"name": "電梯公司", "kind": "outside_party", "phone": "400-882-0031"}},
    "teams.update": lambda ids: {"data": {"name": "工程部", "kind": "engineering", "phone": "0755-1234", "active": "1"}},
}


@pytest.fixture
def two_estates(estate_world):
    """Estate A with one object of every type (tests/platform/conftest.py's estate_world) and estate B's staff,
    one user per role, plus a steward of B's own building."""
    estate_a, unit_a, users_a, ids = estate_world
    b = factories.build_world()
    b.add_unit("unit", "building", "8-808")
    users_b = b.add_everyone(prefix="b-")
    users_b["building-steward"] = b.add_person("building_steward", Role.STEWARD, "building",
                                               username="b-building-steward")
    ids = {**ids, "estate_id": estate_a.id, "building_id": unit_a.building_id}
    db.session.commit()
    return estate_a, b["estate"], users_a, users_b, ids


def markers(ids: dict) -> list[str]:
    """Strings that name estate A's objects: none may reach estate B's staff."""
    permit = db.session.get(DecorationPermit, ids["permit_id"])
    violation = db.session.get(Violation, ids["violation_id"])
    ticket = db.session.get(RepairTicket, ids["ticket_id"])
    material = db.session.get(MaterialRequest, ids["material_id"])
    return [ids["round_uuid"], ids["finding_uuid"], ids["photo_uuid"], ids["flood_test_uuid"], ticket.number,
            permit.number, violation.notice_number, permit.unit.label, material.uuid, "陳大文", "13912345678",
            "13800138000", "安居裝飾"]


def fingerprint() -> dict:
    """Every object of estate A as it stands, to prove a refused request changed nothing."""
    def rows(model):
        return [{c.key: getattr(obj, c.key) for c in sa.inspect(model).column_attrs}
                for obj in db.session.scalars(sa.select(model).order_by(model.id))]
    db.session.expire_all()
    return {m.__name__: rows(m) for m in (Round, Finding, Photo, RepairTicket, DecorationPermit, Violation,
                                          FloodTest, MaterialRequest)}


def signed_in(app, username: str):
    """A client of its own, signed in once as `username` (a sign-in costs one scrypt check)."""
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(username).status_code == 302
    client.csrf_token = auth.csrf()
    return client


def send(client, method: str, path: str, body: dict | None):
    token = client.csrf_token
    kwargs = dict(body or {})
    if "data" in kwargs and "content_type" not in kwargs:
        kwargs["data"] = {**kwargs["data"], "csrf_token": token}
    elif method != "GET" and not kwargs and "/api/" not in path:
        kwargs["data"] = {"csrf_token": token}
    return client.open(path, method=method, headers={"X-CSRFToken": token}, **kwargs)


def page_text(response) -> str:
    return response.get_data().decode("utf-8", "replace")  # a photo is bytes


def leaked(secrets: list[str], response, asked: str = "") -> list[str]:
    """Estate A's markers in the answer, except those the request itself named (a path echoed back)."""
    text = page_text(response)
    return [s for s in secrets if s in text and s not in asked]


B_USERS = [*(r.value for r in Role), "building-steward"]


@pytest.mark.parametrize("who", B_USERS)
def test_another_estates_staff_reach_no_object_by_path(app, client, two_estates, who):
    """Every object route for this user of estate B: 404 where the role may use the route, else 403."""
    _a, _b, _users_a, users_b, ids = two_estates
    user = users_b[who if who == "building-steward" else Role(who)]
    b_client = signed_in(app, user.username)
    secrets = markers(ids)
    before = fingerprint()
    checked = 0
    for endpoint in OBJECT_ROUTES:
        method, template, allowed = MATRIX[endpoint]
        path = template.format(**ids)
        response = send(b_client, method, path, BODIES[endpoint](ids) if endpoint in BODIES else None)
        if user.role not in allowed:
            expected = 403
        elif endpoint in IGNORES_FOREIGN_HINT:
            expected = 200
        elif endpoint in PUBLIC_BY_TOKEN:
            expected = PUBLIC_BY_TOKEN[endpoint]
        elif endpoint in COMPANY_WIDE and user.role is Role.ADMIN:  # every estate is the administrator's
            expected = 302 if method == "POST" and endpoint != "places.reveal" else 200  # a reveal is a page
        else:
            expected = 404
        assert response.status_code == expected, (endpoint, response.status_code, page_text(response)[:300])
        if not (endpoint in COMPANY_WIDE and user.role is Role.ADMIN):  # every estate is the administrator's
            assert not leaked(secrets, response, path), endpoint
        checked += 1
    assert fingerprint() == before, "a refused request changed something"
    assert checked == len(OBJECT_ROUTES)


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_the_bodies_above_pass_for_the_owner(app, client, two_estates, endpoint):
    """Positive control: estate A's own user sends the same request and is let through, so the
    other estate's 404 is the scope check and not a bad body."""
    _a, _b, users_a, _users_b, ids = two_estates
    method, template, allowed = MATRIX[endpoint]
    owner = next(r for r in Role if r in allowed and (endpoint, r) not in HIDDEN_OBJECT)
    response = send(signed_in(app, users_a[owner].username), method, template.format(**ids), BODIES[endpoint](ids))
    assert response.status_code not in (400, 401, 403, 404, 422, 500), (response.status_code, page_text(response)[:300])


def body_cases():
    """Objects named in the body (by id and by UUID): (name, role, method, path, body)."""
    steward = Role.STEWARD
    return [
        ("round on A's estate", steward, "POST", "/api/v1/rounds",
         lambda ids: {"json": {"uuid": new_uuid(), "kind": "corridor", "estate_id": ids["estate_id"],
                               "building_id": ids["building_id"]}}),
        ("decoration round on A's unit", steward, "POST", "/api/v1/rounds",
         lambda ids: {"json": {"uuid": new_uuid(), "kind": "decoration", "estate_id": ids["estate_id"],
                               "unit_id": ids["decoration_unit_id"]}}),
        ("A's round UUID replayed", steward, "POST", "/api/v1/rounds",
         lambda ids: {"json": {"uuid": ids["round_uuid"], "kind": "corridor", "estate_id": ids["estate_id"],
                               "building_id": ids["building_id"]}}),
        ("flood test on A's unit", steward, "POST", "/api/v1/flood-tests",
         lambda ids: {"json": {"uuid": new_uuid(), "unit_id": ids["decoration_unit_id"], "wet_area": "bathroom",
                               "photo_uuid": new_uuid()}}),
        ("A's flood test UUID replayed", steward, "POST", "/api/v1/flood-tests",
         lambda ids: {"json": {"uuid": ids["flood_test_uuid"], "unit_id": ids["decoration_unit_id"],
                               "wet_area": "bathroom", "photo_uuid": new_uuid()}}),
        ("re-check of A's violation", steward, "POST", "/api/v1/violation-rechecks",
         lambda ids: {"json": {"uuid": new_uuid(), "violation_id": ids["violation_id"], "result": "rectified"}}),
        ("check of A's ticket", steward, "POST", "/api/v1/verifications",
         lambda ids: {"json": {"uuid": new_uuid(), "ticket_id": ids["ticket_id"], "passed": True}}),
        ("photo of A's finding", steward, "PUT", "/api/v1/photos/{new}",
         lambda ids: photo_upload(finding_uuid=ids["finding_uuid"])),
        ("photo of A's flood test", steward, "PUT", "/api/v1/photos/{new}",
         lambda ids: photo_upload(record_uuid=ids["flood_test_uuid"])),
        ("A's photo UUID replayed", steward, "PUT", "/api/v1/photos/{photo_uuid}",
         lambda ids: photo_upload(finding_uuid=ids["finding_uuid"])),
        ("part of a photo of A's finding", steward, "PUT", "/api/v1/photos/{new}/upload",
         lambda ids: photo_part(finding_uuid=ids["finding_uuid"])),
        ("part of a photo of A's flood test", steward, "PUT", "/api/v1/photos/{new}/upload",
         lambda ids: photo_part(record_uuid=ids["flood_test_uuid"])),
        ("part of A's photo UUID replayed", steward, "PUT", "/api/v1/photos/{photo_uuid}/upload",
         lambda ids: photo_part(finding_uuid=ids["finding_uuid"])),
        ("round started on A's estate (web)", steward, "POST", "/rounds/start",
         lambda ids: {"data": {"uuid": new_uuid(), "kind": "corridor", "estate_id": str(ids["estate_id"]),
                               "building_id": str(ids["building_id"])}}),
    ]


BODY_CASES = body_cases()


@pytest.mark.parametrize("who", ["steward", "building-steward"])
def test_another_estates_staff_reach_no_object_by_body(app, client, two_estates, who):
    """Ids and UUIDs of estate A in a request body: 404, nothing stored, nothing of A in the answer."""
    _a, _b, users_a, users_b, ids = two_estates
    permit = db.session.get(DecorationPermit, ids["permit_id"])
    ids = {**ids, "decoration_unit_id": permit.unit_id}
    b_client = signed_in(app, users_b[Role.STEWARD if who == "steward" else who].username)
    secrets = markers(ids)
    before = fingerprint()
    for name, _role, method, template, body in BODY_CASES:
        response = send(b_client, method, template.format(new=new_uuid(), **ids), body(ids))
        assert response.status_code == 404, (name, response.status_code, page_text(response)[:300])
        assert not leaked(secrets, response), name
    assert fingerprint() == before, "a refused request changed something"

    # Positive control: estate A's steward gets through with the same bodies (a replayed UUID is
    # its own: the same answer as before, or a 409 for new content under it).
    a_client = signed_in(app, users_a[Role.STEWARD].username)
    for name, _role, method, template, body in BODY_CASES:
        response = send(a_client, method, template.format(new=new_uuid(), **ids), body(ids))
        assert response.status_code in (200, 201, 302, 409), (name, response.status_code, page_text(response)[:300])


QUERY_PATHS = [
    "/desk/units?q={room}", "/desk/findings?estate_id={estate_id}", "/tickets/?estate={estate_id}",
    "/reports/summary?estate={estate_id}", "/tickets/clocks?estate={estate_id}",
    "/decoration/rules?estate={estate_id}", "/decoration/?estate={estate_id}",
    "/desk/findings.csv?date_from=2026-01-01&date_to=2026-12-31&estate_id={estate_id}",
    "/tickets/export.csv?estate={estate_id}",
]


@pytest.mark.parametrize("who", B_USERS)
def test_another_estates_staff_see_none_of_its_objects_in_lists(app, client, two_estates, who):
    """Lists, searches, exports, the offline pack, and the same asked for estate A by the query:
    nothing of estate A for estate B's staff."""
    _a, _b, _users_a, users_b, ids = two_estates
    user = users_b[who if who == "building-steward" else Role(who)]
    b_client = signed_in(app, user.username)
    permit = db.session.get(DecorationPermit, ids["permit_id"])
    secrets = markers(ids)
    for endpoint in OTHER_ROUTES:
        method, path, allowed = MATRIX[endpoint]
        if endpoint == "auth.logout":
            continue  # signs out: nothing to list
        response = send(b_client, method, path, None)
        assert response.status_code != 500, endpoint
        if endpoint in COMPANY_WIDE and user.role is Role.ADMIN:
            continue  # the administrator's pages list every estate
        assert user.role in allowed or response.status_code == 403, (endpoint, response.status_code)
        assert not leaked(secrets, response), endpoint
    for template in QUERY_PATHS:
        path = template.format(room=permit.unit.room_number, **ids)
        response = send(b_client, "GET", path, None)
        assert response.status_code in (200, 302, 400, 403, 404, 422), (path, response.status_code)
        assert not leaked(secrets, response), path


def test_the_matrix_size():
    """Counted for the report: route × role (× estate) cases walked here and in tests/platform/test_access.py."""
    same_estate = len(MATRIX) * (len(Role) + 1)  # tests/platform/test_access.py: anonymous and every role
    by_path = len(OBJECT_ROUTES) * len(B_USERS)
    in_lists = (len(OTHER_ROUTES) - 1 + len(QUERY_PATHS)) * len(B_USERS)
    by_body = len(BODY_CASES) * 2
    print(f"\nsecurity matrix: {same_estate} same-estate route×role cases; other estate: {by_path} by path, "
          f"{by_body} by body, {in_lists} lists/queries; {len(BODIES)} positive controls")
    assert same_estate and by_path and in_lists and by_body
