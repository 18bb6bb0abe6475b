"""Photos: one upload per request, idempotent by UUID, checked against the SHA-256 the phone computed."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from .. import sync
from ..access import roles
from ..extensions import db
from ..models import Role
from .schemas import PhotoFileSchema, PhotoSchema, PhotoUploadSchema

blp = Blueprint("api_photos", __name__, url_prefix="/api/v1", description="Photos of findings")


@blp.route("/photos/<string:uuid>")
@roles(Role.STEWARD)
class PhotoUpload(MethodView):
    @blp.arguments(PhotoUploadSchema, location="form")
    @blp.arguments(PhotoFileSchema, location="files")
    @blp.response(201, PhotoSchema)
    def put(self, form, files, uuid):
        """Upload the photo `uuid` of a finding (multipart: file, finding_uuid, sha256)."""
        photo = sync.store_photo(
            db.session, current_user, uuid, form["finding_uuid"], files["file"].read(), form["sha256"],
            max_bytes=current_app.config["PHOTO_MAX_BYTES"], max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
        )
        db.session.commit()
        return photo
