"""What a phone takes offline (GET /api/v1/offline-pack: a ready plan for every target, the
checklist version a round started offline keeps) and its session (a fresh CSRF token)."""
from __future__ import annotations

import uuid as uuidlib

import sqlalchemy as sa

from app.extensions import db
from app.models import ChecklistVersion, Role, Round, RoundKind, UnitState

from tests import factories


def test_offline_pack_holds_a_ready_plan_for_every_target(client, auth, app):
    estate = factories.estate()
    building = factories.building(estate, floors=2)
    factories.entrance(building)
    unit = factories.unit(building, "1-101", state=UnitState.DECORATING)
    factories.user(Role.STEWARD, username="amy", buildings=[building])
    factories.user(Role.DESK, username="desk", estates=[estate])
    auth.login("amy")
    pack = client.get("/api/v1/offline-pack").get_json()
    keys = {t["key"] for t in pack["targets"]}
    assert keys == {f"corridor/{estate.id}/{building.id}/", f"decoration/{estate.id}/{building.id}/{unit.id}"}
    for target in pack["targets"]:
        plan = pack["plans"][target["key"]]
        checklist = pack["checklists"][plan["checklist"]]
        codes = {i["code"] for i in checklist["items"]}
        assert plan["checkpoints"] and all(set(c["items"]) <= codes for c in plan["checkpoints"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0  # reading it starts nothing
    auth.logout()
    auth.login("desk")
    assert client.get("/api/v1/offline-pack").status_code == 403


def test_a_round_started_offline_keeps_the_checklist_version_it_walked(client, auth, app):
    estate = factories.estate()
    building = factories.building(estate)
    factories.entrance(building)
    factories.user(Role.STEWARD, username="amy", estates=[estate])
    v1 = db.session.scalars(sa.select(ChecklistVersion).where(ChecklistVersion.kind == RoundKind.CORRIDOR)).one()
    newer = ChecklistVersion(kind=RoundKind.CORRIDOR, version=2, content_sha256="x" * 64, title_zh_hant="t",
                             title_zh_hans="t", title_en="t")
    db.session.add(newer)
    auth.login("amy")
    headers = {"X-CSRFToken": auth.csrf()}
    body = {"uuid": str(uuidlib.uuid4()), "kind": "corridor", "estate_id": estate.id, "building_id": building.id,
            "checklist_version": 1}
    assert client.post("/api/v1/rounds", json=body, headers=headers).get_json()["checklist_version"] == 1
    assert db.session.scalars(sa.select(Round)).one().checklist_version_id == v1.id
    missing = dict(body, uuid=str(uuidlib.uuid4()), checklist_version=9)
    response = client.post("/api/v1/rounds", json=missing, headers=headers)
    assert response.status_code == 422 and "checklist_version" in response.get_json()["errors"]


def test_session_endpoint_gives_a_fresh_csrf_token(client, auth, app):
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])
    assert client.get("/api/v1/session").status_code == 401
    auth.login("amy")
    data = client.get("/api/v1/session").get_json()
    assert data["username"] == "amy" and data["csrf_token"]
    response = client.post("/api/v1/rounds", json={}, headers={"X-CSRFToken": data["csrf_token"]})
    assert response.status_code == 422  # past the CSRF check: the body is what is wrong


def test_the_session_carrying_the_csrf_token_is_never_cached(client, auth, app):
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])
    auth.login("amy")
    response = client.get("/api/v1/session")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_a_state_change_from_another_origin_is_refused_beside_the_token(client, auth, app):
    """The token decides when no Origin is sent (curl, older phones); our own host passes (https behind
    nginx too, whatever scheme the app sees); another
    site's, or the opaque "null" of a sandboxed page, is refused before the view runs."""
    factories.user(Role.STEWARD, username="amy", estates=[factories.estate()])
    auth.login("amy")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    for origin, status in (("http://localhost", 422), ("https://localhost", 422), (None, 422), ("https://evil.example", 403), ("null", 403),
                           ("http://localhost.evil.example", 403), ("http://localhost:8080", 403)):
        headers = {"X-CSRFToken": token, **({"Origin": origin} if origin else {})}
        response = client.post("/api/v1/rounds", json={}, headers=headers)
        assert response.status_code == status, origin
        if status == 403:
            assert response.get_json()["errors"] == {"origin": ["Not this site."]}
    assert client.post("/language", data={"lang": "en", "csrf_token": token},
                       headers={"Origin": "https://evil.example"}).status_code == 403
