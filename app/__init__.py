"""Xuncha (巡查): field inspections for property management."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from .config import PROJECT_ROOT, ConfigError, load_config

__all__ = ["create_app", "ConfigError"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides what the environment gives (tests pass theirs here)."""
    instance_path = Path((config or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(load_config(instance_path, config))
    # Before any route is added: `<int:…>` names a record, whose ID fits the database's integer.
    # `<uuid:…>` is a UUID (else 400) and JSON bodies are parsed within bounds (app/guard.py).
    from . import guard
    from .database import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter
    guard.init_app(app)
    if app.config["PROXY_FIX_X_FOR"] or app.config["PROXY_FIX_X_PROTO"]:  # behind nginx (docs/deploy.md)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"],  # type: ignore[method-assign]
                                x_proto=app.config["PROXY_FIX_X_PROTO"])

    from . import access, api, database, errors, i18n, labels, navigation, pwa, security
    from .extensions import csrf, db, limiter, login_manager, migrate
    from .photos import storage, sweep

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    limiter.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    navigation.init_app(app)
    from . import notices

    notices.init_app(app)  # the bell on every page, pushes after each commit
    login_manager.init_app(app)
    login_manager.session_protection = "basic"  # phones change networks all day
    access.init_app(app)  # before CSRF: a signed-out phone hears "sign in", not "bad token"
    from . import audit

    audit.init_app(app)  # every change to an audited model is logged (app/audit/__init__.py)
    from .workfile.views import allow_large_imports

    app.before_request(allow_large_imports)  # before CSRF reads the form
    csrf.init_app(app)
    guard.install_hook(app)  # malformed input refused before CSRF reads the form and before any view
    api.init_app(app)
    pwa.init_app(app)
    storage.init_app(app)
    sweep.install()  # a rolled-back transaction deletes the photo files it saved
    errors.init_app(app)  # after the API, so its handlers win
    security.init_app(app)  # headers on every response, errors included

    # One blueprint per room; each package's views.py (or named view module) defines it.
    from .audit.views import bp as audit_bp
    from .complaints.views import bp as complaints_bp
    from .auth.views import bp as auth_bp
    from .dashboard.views import bp as dashboard_bp
    from .decoration.gate import bp as gate_bp
    from .decoration.views import bp as decoration_bp
    from .notices.views import bp as notices_bp
    from .owners.views import bp as owner_bp
    from .owners.views import desk as owners_bp
    from .photos.views import bp as photos_bp
    from .places.views import bp as places_bp
    from .repairs.engineering import bp as engineering_bp
    from .repairs.team_pages import bp as teams_bp
    from .repairs.views import bp as tickets_bp
    from .reports.views import bp as reports_bp
    from .review.views import bp as review_bp
    from .rounds.checklists.views import bp as checklists_bp
    from .rounds.checkpoint_pages import bp as checkpoints_bp
    from .rounds.schedule_pages import bp as schedules_bp
    from .rounds.views import bp as rounds_bp
    from .staff.views import bp as staff_bp
    from .units.views import bp as units_bp
    from .workfile.views import bp as workfile_bp

    for blueprint in (auth_bp, photos_bp, rounds_bp, dashboard_bp, review_bp, units_bp, workfile_bp,
                      engineering_bp, reports_bp, tickets_bp, decoration_bp, gate_bp, audit_bp, places_bp, staff_bp,
                      schedules_bp, checklists_bp, teams_bp, complaints_bp, owner_bp, owners_bp,
                      checkpoints_bp, notices_bp):
        app.register_blueprint(blueprint)

    from . import cli

    cli.init_app(app)
    access.check_every_route_declared(app)
    database.read_phase_around_hooks(app)  # last: it wraps every app-level before_request hook
    return app
