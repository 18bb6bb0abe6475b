"""The JSON API the phone talks to: /api/v1/…, documented at /api/openapi.json."""
from decimal import Decimal

from flask import Flask
from marshmallow import fields

from ..extensions import api
from ..guard import UUID_PATTERN, UUIDConverter


def _decimal_bounds_as_numbers(self, field, ret, **kwargs) -> dict:  # noqa: ANN001, ANN003
    """apispec writes a Decimal field's Range as strings ("9999.0"); the document says numbers."""
    if not isinstance(field, fields.Decimal):
        return {}
    return {key: float(ret[key]) for key in ("minimum", "maximum") if isinstance(ret.get(key), Decimal)}


def _uuid_format(self, field, ret, **kwargs) -> dict:  # noqa: ANN001, ANN003
    """A text field checked as a UUID is documented as one (format: uuid), as path ids are."""
    from .schemas import UUID

    return {"format": "uuid"} if any(v is UUID for v in getattr(field, "validators", ())) else {}


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Xuncha")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    # No catch-all "default" answer: each operation lists the errors it can give (schemas.documented_errors).
    api.DEFAULT_ERROR_RESPONSE_NAME = None
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(_decimal_bounds_as_numbers)
    api.ma_plugin.converter.add_attribute_function(_uuid_format)
    # Path identifiers as the guard reads them (app/guard.py): UUIDs, and record IDs within the database's integer.
    api.register_converter(UUIDConverter, lambda _c: {"type": "string", "format": "uuid",
                                                      "pattern": f"^{UUID_PATTERN.pattern}$"})

    from .complaints import blp as complaints_blp
    from .decoration import blp as decoration_blp
    from .notices import blp as notices_blp
    from .photos import blp as photos_blp
    from .rounds import blp as rounds_blp
    from .session import blp as session_blp
    from .tickets import blp as tickets_blp

    api.register_blueprint(rounds_blp)
    api.register_blueprint(photos_blp)
    api.register_blueprint(session_blp)
    api.register_blueprint(tickets_blp)
    api.register_blueprint(decoration_blp)
    api.register_blueprint(complaints_blp)
    api.register_blueprint(notices_blp)
    # A rule between fields that marshmallow cannot tell apispec: the upload names exactly one owner.
    from .schemas import PhotoUploadSchema

    api.spec.components.schemas["PhotoUpload"]["oneOf"] = PhotoUploadSchema.ONE_OF
