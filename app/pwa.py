"""The installable app: its manifest and the service worker, served at the root scope.

The worker's cache version is a hash of every static file and of the worker itself, so a
deploy that changes any of them changes the version, and the old caches are dropped.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from .access import public
from .config import PROJECT_ROOT
from .extensions import csrf, db

bp = Blueprint("pwa", __name__)
WORKER_SOURCE = PROJECT_ROOT / "service-worker" / "sw.js"


def _static_files(static_dir: Path) -> list[Path]:
    return sorted(p for p in static_dir.rglob("*") if p.is_file() and not p.name.startswith("."))


def build_version(static_dir: Path, worker: Path = WORKER_SOURCE) -> str:
    digest = hashlib.sha256()
    for path in _static_files(static_dir):
        digest.update(str(path.relative_to(static_dir)).encode())  # a renamed file changes it too
        digest.update(path.read_bytes())
    digest.update(worker.read_bytes())
    return digest.hexdigest()[:16]


def init_app(app: Flask) -> None:
    static_dir = Path(app.static_folder)
    app.extensions["pwa"] = {
        "version": build_version(static_dir),
        "static": [str(p.relative_to(static_dir)).replace("\\", "/") for p in _static_files(static_dir)],
    }
    app.register_blueprint(bp)


@bp.route("/sw.js")
@public
def service_worker():
    pwa = current_app.extensions["pwa"]
    precache = [url_for("static", filename=name) for name in pwa["static"] if not name.endswith(("README", "LICENSE"))]
    prelude = (
        f"const VERSION = {json.dumps(pwa['version'])};\n"
        f"const PRECACHE = {json.dumps(precache + [url_for('rounds.walk'), url_for('pwa.offline')])};\n"
    )
    response = Response(prelude + WORKER_SOURCE.read_text(encoding="utf-8"), mimetype="text/javascript")
    # The browser must always see a new worker at once; the files it caches are versioned.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/manifest.webmanifest")
@public
def manifest():
    icon = lambda name, size, purpose="any": {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"), "sizes": size, "type": "image/png", "purpose": purpose}
    body = {
        "name": _("Xuncha field inspections"),
        "short_name": _("Xuncha"),
        "description": _("Rounds, defects and photos for building stewards, with or without signal."),
        "lang": "zh-Hant",
        "start_url": url_for("rounds.today"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#0b4f6c",
        "background_color": "#f2f4f5",
        "icons": [icon("icon-192.png", "192x192"), icon("icon-512.png", "512x512"),
                  icon("icon-maskable-512.png", "512x512", "maskable")],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@bp.route("/offline")
@public
def offline():
    """What a page that was never cached shows when there is no signal."""
    from flask import render_template

    return render_template("offline.html")


@bp.route("/healthz")
@public
@csrf.exempt
def healthz():
    """For load balancers and monitors: the app answers and the database is reachable."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status
