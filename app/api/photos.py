"""Photos: idempotent by UUID, checked against the SHA-256 the phone computed; sent in one request
(multipart) or in resumable parts (app/photos/resumable.py), which a weak signal can cut without losing
what already arrived."""
from __future__ import annotations

import functools

from flask import current_app, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from ..access import roles
from ..database import commit_and_keep, reads_first
from ..extensions import db
from ..models import Photo, Role
from ..photos import resumable, uploads
from ..refusals import TooLarge
from .schemas import (
    READ_ERRORS,
    UUID,
    WRITE_ERRORS,
    InSchema,
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


class PhotoPartArgsSchema(InSchema):
    """A part's place in its photo and what the photo is: sent with every part, so any part may be the first
    the server sees (or the first after a cut) and the server can check the finished photo."""

    offset = fields.Integer(required=True, validate=validate.Range(min=0), metadata={
        "description": "where this part starts: the bytes the server has (GET …/upload tells it after a cut)"})
    size = fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "the whole photo's bytes"})
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 in hex."),
                           metadata={"description": "the whole photo's SHA-256, checked when its last byte is in"})
    finding_uuid = fields.String(validate=UUID, metadata={"description": "the finding shown"})
    record_uuid = fields.String(validate=UUID, metadata={"description": "or a decoration record (a flood test's UUID)"})

    _exactly_one_owner = PhotoUploadSchema._exactly_one_owner
    _owner_or_none = PhotoUploadSchema._owner_or_none


class UploadStateSchema(Schema):
    uuid = fields.String()
    offset = fields.Integer(metadata={"description": "the bytes the server has: the next part starts here"})
    size = fields.Integer(metadata={"description": "the whole photo's bytes (0: the server has none of it)"})
    stored = fields.Boolean(metadata={"description": "the photo is stored: nothing more to send"})
    photo = fields.Nested(PhotoSchema, allow_none=True)


def _part_within_limits(view):  # noqa: ANN001, ANN201
    """A part longer than the largest part is refused before anything is read (also before its arguments)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if (request.content_length or 0) > resumable.part_max_bytes():
            message = resumable.part_too_large_message()
            raise TooLarge(message, {"body": [message]})
        return view(*args, **kwargs)

    return wrapper


_PART_BODY = {"required": True, "content": {"application/octet-stream": {
    "schema": {"type": "string", "format": "binary", "description": "the part's bytes (at most 1 MB)"}}}}


@blp.route("/photos/<uuid:uuid>/upload")
@roles(Role.STEWARD)
class PhotoPartUpload(MethodView):
    @blp.response(200, UploadStateSchema)
    @documented_errors(blp, *READ_ERRORS, 400)
    def get(self, uuid):
        """How much of photo `uuid` the server has: after a cut, the phone continues from `offset`."""
        with reads_first():
            return resumable.upload_status(db.session, current_user, uuid)

    @_part_within_limits
    @blp.arguments(PhotoPartArgsSchema, location="query", unknown=RAISE)
    @blp.doc(requestBody=_PART_BODY)
    @blp.response(200, UploadStateSchema, description="part kept; the next one starts at `offset`")
    @blp.alt_response(201, schema=UploadStateSchema, description="the photo is stored (now or before)")
    @documented_errors(blp, *WRITE_ERRORS, 422)
    def put(self, args, uuid):
        """Send photo `uuid` in parts: this one's bytes, from `offset`. A part at another offset than the
        server's is refused with 409 and the server's offset in `errors.offset`; a finished photo that does
        not match its SHA-256 is refused with 422 and sent again from the start; over its limit, 413."""
        with reads_first() as end_reads:
            state = resumable.receive_part(
                db.session, current_user, uuid, offset=args["offset"], size=args["size"], sha256=args["sha256"],
                finding_uuid=args["finding_uuid"], record_uuid=args["record_uuid"], body=request.stream,
                length=request.content_length, max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                max_pixels=current_app.config["PHOTO_MAX_PIXELS"], end_reads=end_reads)
        if state.finished:
            commit_and_keep()
            resumable.finish(uuid)
        return state, 201 if state.stored else 200
