"""Who is signed in, a fresh CSRF token, and the steward's offline pack."""
from __future__ import annotations

from flask import session
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from marshmallow import fields

from ..access import ALL_ROLES, roles
from ..extensions import db
from ..models import Role
from ..security import export_key
from .offline_pack import offline_pack
from .schemas import READ_ERRORS, OfflinePackSchema, SessionSchema, documented_errors
from .complaints import InvestigationTaskSchema
from .tickets import VerificationTaskSchema

blp = Blueprint("api_session", __name__, url_prefix="/api/v1", description="Session and offline data")


class PackSchema(OfflinePackSchema):
    verifications = fields.List(fields.Nested(VerificationTaskSchema),
                                metadata={"description": "repaired public tickets waiting for this steward's check"})
    investigations = fields.List(fields.Nested(InvestigationTaskSchema),
                                 metadata={"description": "complaints waiting for this steward's investigation on site"})


@blp.route("/session")
@roles(*ALL_ROLES)
class CurrentSession(MethodView):
    @blp.response(200, SessionSchema)
    @documented_errors(blp, 401)
    def get(self):
        """The signed-in user and a CSRF token for the requests that follow (cached pages hold stale ones).
        Answered with Cache-Control: no-store: no cache on the way or on the phone keeps the token."""
        key_id = session.get("export_key_id") if current_user.role is Role.STEWARD else None
        return {"user_id": current_user.id, "username": current_user.username,
                "display_name": current_user.display_name, "role": current_user.role.value,
                "csrf_token": generate_csrf(), "export_key_id": key_id,
                "export_key": export_key(current_user.id, key_id) if key_id else None}, 200, {"Cache-Control": "no-store"}


@blp.route("/offline-pack")
@roles(Role.STEWARD)
class OfflinePack(MethodView):
    @blp.response(200, PackSchema)
    @documented_errors(blp, *READ_ERRORS)
    def get(self):
        """Everything the phone needs to start and walk this steward's rounds with no signal."""
        return offline_pack(db.session, current_user)
