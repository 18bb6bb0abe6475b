"""The installable app: manifest, service worker with a content-derived version, the pages that
register it."""
from __future__ import annotations

import json
import re
import shutil

from app.config import PROJECT_ROOT
from app.models import Role
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
