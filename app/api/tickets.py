"""Repair tickets on the phone: the steward's check on site of a finished public repair."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..access import roles
from ..extensions import db
from ..models import Role, TicketStatus
from ..repairs import verification
from .schemas import ID, UUID, WRITE_ERRORS, InSchema, documented_errors

blp = Blueprint("api_tickets", __name__, url_prefix="/api/v1", description="Repair tickets checked on site")


class VerificationInSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID, metadata={"description": "made on the phone"})
    ticket_id = fields.Integer(required=True, strict=True, validate=ID)
    passed = fields.Boolean(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000),
                         metadata={"description": "what is still wrong (required when it failed)"})
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "when it was checked, by the phone's clock"})
    photo_uuid = fields.String(load_default=None, allow_none=True, validate=UUID)


class VerificationSchema(Schema):
    uuid = fields.String()
    ticket_id = fields.Integer()
    ticket_number = fields.String(attribute="ticket.number")
    ticket_status = fields.Enum(TicketStatus, by_value=True, attribute="ticket.status")
    passed = fields.Boolean()
    note = fields.String()
    applied = fields.Boolean(metadata={"description": "false: the ticket had moved on; the check is kept"})
    recorded_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()


class VerificationTaskSchema(Schema):
    """A repaired public ticket waiting for the steward's check (offline pack)."""

    ticket_id = fields.Integer()
    number = fields.String()
    estate_id = fields.Integer()
    building_id = fields.Integer(allow_none=True)
    place = fields.String()
    description = fields.String()
    repair = fields.String(metadata={"description": "the work done, as the team wrote it"})
    repaired_at = fields.AwareDateTime(allow_none=True)
    repaired_on = fields.Date(allow_none=True)
    after_photos = fields.List(fields.String())
    defect_photos = fields.List(fields.String())


@blp.route("/verifications")
@roles(Role.STEWARD)
class Verifications(MethodView):
    @blp.arguments(VerificationInSchema)
    @blp.response(201, VerificationSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data):
        """Record the check on site of a repaired public ticket (idempotent by UUID)."""
        record = verification.record_verification(db.session, current_user, **data)
        db.session.commit()
        return record
