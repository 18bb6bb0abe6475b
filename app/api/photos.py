"""Photos: one upload per request, idempotent by UUID, checked against the SHA-256 the phone computed."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from ..access import roles
from ..database import commit_and_keep, reads_first
from ..extensions import db
from ..models import Photo, Role
from ..photos import uploads
from .schemas import (
    WRITE_ERRORS,
    PhotoSchema,
    PhotoUploadSchema,
    documented_errors,
)

class MultipartParser(FlaskParser):
    """The "files" location reads the whole multipart body, files and fields alike, so one schema parses
    and documents it (OpenAPI 3: a multipart/form-data request body with every field, not formData)."""

    def load_files(self, req, schema):  # noqa: ANN001, ANN201
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class MultipartBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


blp = MultipartBlueprint("api_photos", __name__, url_prefix="/api/v1",
                         description="Photos of findings and decoration records")


@blp.route("/photos/<uuid:uuid>")
@roles(Role.STEWARD)
class PhotoUpload(MethodView):
    @blp.arguments(PhotoUploadSchema, location="files", unknown=RAISE)  # as documented: no other field
    @blp.response(201, PhotoSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def put(self, form, uuid):
        """Upload the photo `uuid` of a finding or of a decoration record (multipart: file, sha256, and
        exactly one of finding_uuid and record_uuid; a flood test's photos name the test's UUID)."""
        data = form["file"].read()
        with reads_first() as end_reads:
            checked = uploads.check_photo(db.session, current_user, uuid, form["finding_uuid"], data, form["sha256"],
                                          record_uuid=form["record_uuid"])
            end_reads()  # no lock is held while the photo is decoded; record_photo checks again
        if isinstance(checked, Photo):
            return checked  # sent before: the same answer again
        processed = uploads.process_upload(checked, data, max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                                           max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
        photo = uploads.record_photo(db.session, current_user, checked, processed, len(data))
        commit_and_keep()
        return photo
