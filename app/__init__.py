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
    from .database import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter
    if app.config["PROXY_FIX_X_FOR"] or app.config["PROXY_FIX_X_PROTO"]:  # behind nginx (docs/deploy.md)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"],  # type: ignore[method-assign]
                                x_proto=app.config["PROXY_FIX_X_PROTO"])

    from . import access, api, database, errors, i18n, labels, pwa, security, storage
    from .extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    limiter.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"  # phones change networks all day
    access.init_app(app)  # before CSRF: a signed-out phone hears "sign in", not "bad token"
    from . import audit

    audit.init_app(app)  # every change to an audited model is logged (app/audit.py)
    from .desk.views import allow_large_imports

    app.before_request(allow_large_imports)  # before CSRF reads the form
    csrf.init_app(app)
    api.init_app(app)
    pwa.init_app(app)
    storage.init_app(app)
    errors.init_app(app)  # after the API, so its handlers win
    security.init_app(app)  # headers on every response, errors included

    from .auth import bp as auth_bp
    from .decorations import bp as decoration_bp
    from .desk import bp as desk_bp
    from .gate import bp as gate_bp
    from .engineering import bp as engineering_bp
    from .repairs import bp as tickets_bp
    from .main import bp as main_bp
    from .reports import bp as reports_bp
    from .rounds import bp as rounds_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(engineering_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(decoration_bp)
    app.register_blueprint(gate_bp)
    from .auditlog import bp as audit_bp

    app.register_blueprint(audit_bp)

    from . import cli

    cli.init_app(app)
    access.check_every_route_declared(app)
    database.read_phase_around_hooks(app)  # last: it wraps every app-level before_request hook
    return app
