"""marshmallow schemas of the API's resources."""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import object_session

from ..models import Finding, FindingResult, RoundKind, RoundStatus

UUID = validate.Regexp(r"^[0-9a-fA-F-]{36}$", error="Not a UUID.")


class LabelSchema(Schema):
    zh_Hant = fields.String()
    zh_Hans = fields.String()
    en = fields.String()


class ChoiceSchema(Schema):
    code = fields.String()
    label = fields.Nested(LabelSchema)


class RoundStartSchema(Schema):
    uuid = fields.String(required=True, validate=UUID)
    kind = fields.Enum(RoundKind, by_value=True, required=True)
    estate_id = fields.Integer(required=True, strict=True)
    building_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    unit_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    started_at = fields.AwareDateTime(load_default=None, allow_none=True)
    checklist_version = fields.Integer(load_default=None, allow_none=True, strict=True,
                                       metadata={"description": "the version walked on the phone"})


class RoundSchema(Schema):
    uuid = fields.String()
    kind = fields.Enum(RoundKind, by_value=True)
    status = fields.Enum(RoundStatus, by_value=True)
    estate_id = fields.Integer()
    building_id = fields.Integer(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    local_date = fields.Date()
    started_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    checklist_version = fields.Integer(attribute="checklist_version.version")
    findings = fields.Method("_count", metadata={"description": "number of stored findings"})

    def _count(self, rnd) -> int:  # noqa: ANN001
        # Known when the round was just completed; else a count (len(rnd.findings) would load them all).
        if rnd.stored_findings is not None:
            return rnd.stored_findings
        return object_session(rnd).scalar(sa.select(sa.func.count()).where(Finding.round_id == rnd.id))


class ItemSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    type = fields.String(attribute="item_type.value")
    applies_to = fields.String()
    label = fields.Method("_label")
    hint = fields.Dict()
    route = fields.String(attribute="route.value")
    urgency = fields.String(attribute="urgency.value")
    photo_required = fields.Boolean()
    required = fields.Boolean()
    meter_kind = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(ChoiceSchema))
    actions = fields.List(fields.Nested(ChoiceSchema))

    def _label(self, item) -> dict:  # noqa: ANN001
        return {"zh_Hant": item.label_zh_hant, "zh_Hans": item.label_zh_hans, "en": item.label_en}


class MeterSchema(Schema):
    kind = fields.String()
    serial = fields.String()
    location = fields.String()
    unit_label = fields.String(allow_none=True)
    unit_vacant = fields.Boolean()
    previous_value = fields.Method("_previous_value", allow_none=True)
    previous_date = fields.Method("_previous_date", allow_none=True)
    median_consumption = fields.Method("_median", allow_none=True)

    def _previous_value(self, m):  # noqa: ANN001
        return str(m.previous[1]) if m.previous else None

    def _previous_date(self, m):  # noqa: ANN001
        return m.previous[0].isoformat() if m.previous else None

    def _median(self, m):  # noqa: ANN001
        return str(m.median_consumption) if m.median_consumption is not None else None


class CheckpointSchema(Schema):
    key = fields.String()
    applies_to = fields.String()
    label = fields.String()
    items = fields.List(fields.String(), metadata={"description": "codes of the items asked here"})
    meter = fields.Nested(MeterSchema, allow_none=True)


class PlanSchema(Schema):
    round = fields.Nested(RoundSchema)
    title = fields.Nested(LabelSchema)
    place = fields.String()
    items = fields.List(fields.Nested(ItemSchema))
    checkpoints = fields.List(fields.Nested(CheckpointSchema))


class FindingInSchema(Schema):
    uuid = fields.String(required=True, validate=UUID)
    checkpoint = fields.String(required=True, validate=validate.Length(min=1, max=64))
    item_code = fields.String(required=True, validate=validate.Length(min=1, max=48))
    result = fields.Enum(FindingResult, by_value=True, required=True)
    reason_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=48))
    reason_text = fields.String(load_default="", validate=validate.Length(max=500))
    action_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=48))
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    reading_value = fields.Decimal(load_default=None, allow_none=True, places=2, allow_nan=False,
                                   validate=validate.Range(min=0, max=9_999_999_999))
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True)
    photo_uuids = fields.List(fields.String(validate=UUID), load_default=list, validate=validate.Length(max=12))


class CompletionSchema(Schema):
    completed_at = fields.AwareDateTime(load_default=None, allow_none=True)
    findings = fields.List(fields.Nested(FindingInSchema), required=True, validate=validate.Length(max=5000))


class AmendmentInSchema(Schema):
    """Fields left out keep the answer as it stands."""

    result = fields.Enum(FindingResult, by_value=True, required=True)
    why = fields.String(required=True, validate=validate.Length(min=1, max=500))
    reason_code = fields.String(allow_none=True)
    reason_text = fields.String(validate=validate.Length(max=500))
    action_code = fields.String(allow_none=True)
    note = fields.String(validate=validate.Length(max=1000))
    reading_value = fields.Decimal(allow_none=True, places=2, allow_nan=False)


class AmendmentSchema(Schema):
    uuid = fields.String()
    finding_uuid = fields.String(attribute="finding.uuid")
    result = fields.Enum(FindingResult, by_value=True)
    why = fields.String()
    amended_at = fields.AwareDateTime()


class PhotoUploadSchema(Schema):
    finding_uuid = fields.String(required=True, validate=UUID)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 in hex."))


class PhotoFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class PhotoSchema(Schema):
    uuid = fields.String()
    finding_uuid = fields.String()
    status = fields.String(attribute="status.value")
    sha256 = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    captured_at = fields.AwareDateTime(allow_none=True)


class SessionSchema(Schema):
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    csrf_token = fields.String()


class PackTargetSchema(Schema):
    key = fields.String()
    kind = fields.String()
    estate_id = fields.Integer()
    building_id = fields.Integer(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    place = fields.String()
    status = fields.String()
    due_by = fields.Date()
    round_in_progress = fields.String(allow_none=True)


class PackChecklistSchema(Schema):
    kind = fields.String()
    version = fields.Integer()
    title = fields.Nested(LabelSchema)
    items = fields.List(fields.Nested(ItemSchema))


class PackPlanSchema(Schema):
    checklist = fields.String()
    place = fields.String()
    checkpoints = fields.List(fields.Nested(CheckpointSchema))


class OfflinePackSchema(Schema):
    generated_at = fields.AwareDateTime()
    user_id = fields.Integer()
    targets = fields.List(fields.Nested(PackTargetSchema))
    plans = fields.Dict(keys=fields.String(), values=fields.Nested(PackPlanSchema))
    checklists = fields.Dict(keys=fields.String(), values=fields.Nested(PackChecklistSchema))
