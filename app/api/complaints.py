"""Complaints on the phone: the steward's investigation on site (現場調查), made offline like every step."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..access import roles
from ..complaints import investigations
from ..complaints.operations import MAX_PHOTOS
from ..extensions import db
from ..models import ComplaintStatus, Role
from .schemas import ID, UUID, WRITE_ERRORS, InSchema, documented_errors

blp = Blueprint("api_complaints", __name__, url_prefix="/api/v1", description="Complaints investigated on site")


class InvestigationInSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID, metadata={"description": "made on the phone"})
    complaint_id = fields.Integer(required=True, strict=True, validate=ID)
    note = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                         metadata={"description": "what was found on site"})
    photo_uuids = fields.List(fields.String(validate=UUID), load_default=list, validate=validate.Length(max=MAX_PHOTOS),
                              metadata={"description": "the photos sent after it, each naming this UUID as its record"})
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "when it was done, by the phone's clock"})


class InvestigationSchema(Schema):
    uuid = fields.String()
    complaint_id = fields.Integer()
    complaint_number = fields.String(attribute="complaint.number")
    complaint_status = fields.Enum(ComplaintStatus, by_value=True, attribute="complaint.status")
    note = fields.String()
    photo_uuids = fields.List(fields.String())
    applied = fields.Boolean(metadata={"description": "false: the complaint had moved on; the investigation is kept"})
    recorded_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()


class InvestigationTaskSchema(Schema):
    """A complaint of the steward's places waiting for the investigation on site (offline pack)."""

    complaint_id = fields.Integer(attribute="id")
    number = fields.String()
    category = fields.String(attribute="category.value")
    place = fields.String(attribute="place_label")
    description = fields.String()
    expectation = fields.String()
    due_at = fields.AwareDateTime()


@blp.route("/investigations")
@roles(Role.STEWARD)
class Investigations(MethodView):
    @blp.arguments(InvestigationInSchema)
    @blp.response(201, InvestigationSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data):
        """Record the investigation on site of a complaint (idempotent by UUID). A complaint no longer
        open keeps it unapplied (`applied` false); its photos follow, each naming this UUID."""
        record = investigations.record_investigation(db.session, current_user, **data)
        db.session.commit()
        return record
