"""The installable app: manifest, service worker with a content-derived version, offline pack."""
from __future__ import annotations

import json
import re
import shutil
import uuid as uuidlib

import sqlalchemy as sa

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import ChecklistVersion, Role, Round, RoundKind, UnitState
from app.pwa import build_version

from tests import factories


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/rounds/today"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"]
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"


def test_service_worker_is_served_at_the_root_with_its_version_and_precache(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', body).group(1)
    assert version == app.extensions["pwa"]["version"]
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    assert "/static/js/round.js" in precache and "/static/vendor/idb/idb.js" in precache and "/rounds/walk" in precache
    assert "caches.delete" in body and "xuncha-" in body  # stale, prefixed caches are dropped on activate


def test_the_version_changes_when_any_static_file_changes(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(PROJECT_ROOT / "static", static)
    worker = tmp_path / "sw.js"
    shutil.copyfile(PROJECT_ROOT / "service-worker" / "sw.js", worker)
    before = build_version(static, worker)
    assert build_version(static, worker) == before
    (static / "css" / "app.css").write_text((static / "css" / "app.css").read_text() + "\n/* deploy */\n")
    after_css = build_version(static, worker)
    assert after_css != before
    worker.write_text(worker.read_text() + "\n// deploy\n")
    assert build_version(static, worker) != after_css


def test_pages_of_stewards_register_the_worker_and_link_the_manifest(client, auth, app):
    estate = factories.estate()
    factories.user(Role.STEWARD, username="amy", estates=[estate])
    auth.login("amy")
    html = client.get("/rounds/today").get_data(as_text=True)
    assert 'rel="manifest"' in html and "js/app.js" in html and 'id="sync-bar"' in html
    assert re.search(r'<meta name="xuncha-user" content="\d+">', html)


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
