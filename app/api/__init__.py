"""The JSON API the phone talks to: /api/v1/…, documented at /api/openapi.json."""
from flask import Flask

from ..extensions import api


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Xuncha")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)

    from .rounds import blp as rounds_blp
    from .photos import blp as photos_blp
    from .session import blp as session_blp
    from .tickets import blp as tickets_blp
    from .decoration import blp as decoration_blp

    api.register_blueprint(rounds_blp)
    api.register_blueprint(photos_blp)
    api.register_blueprint(session_blp)
    api.register_blueprint(tickets_blp)
    api.register_blueprint(decoration_blp)
