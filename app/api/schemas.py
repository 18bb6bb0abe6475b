"""marshmallow schemas of the API's resources."""
from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Callable

import sqlalchemy as sa
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)
from sqlalchemy.orm import object_session
from werkzeug.datastructures import FileStorage

from ..database import MAX_ID
from ..guard import UUID_PATTERN
from ..decoration.flood_tests import earliest_pass
from ..decoration.violations import RESIDENT_KINDS
from ..models import (
    Finding,
    FindingResult,
    FloodTestStatus,
    MaterialStatus,
    RecheckResult,
    RoundKind,
    RoundStatus,
    ScanMethod,
    ViolationStatus,
    VisitOutcome,
    WetArea,
)
from ..rounds.intake import Completion, FindingInput
from ..rounds.scans import ScanInput
from ..steps import content_sha256

UUID = validate.Regexp(f"^{UUID_PATTERN.pattern}$", error="Not a UUID.")
# Record IDs are the database's 32-bit integers: a larger one is refused here, not by PostgreSQL.
ID = validate.Range(min=1, max=MAX_ID)

# The error answers an operation can give, all in app/errors.py's one shape {"code", "message", "errors"}:
# 400 unreadable body or missing CSRF token, 401 not signed in, 403 another role's, 404 not found or not
# yours, 409 the UUID was stored with other content (or the record moved on), 413 too large, 422 fields
# wrong (documented by @blp.arguments). The fuzzing test (tests/api/test_openapi_fuzz.py) holds the app to them.
READ_ERRORS = (401, 403)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413)


def documented_errors(blp, *codes: int) -> Callable:  # noqa: ANN001
    """Document these error answers on an operation (flask-smorest's shared response components)."""

    def decorator(func: Callable) -> Callable:
        for code in sorted(set(codes), reverse=True):
            func = blp.alt_response(code, response=HTTPStatus(code).name)(func)
        return func

    return decorator


NUL_MESSAGE = "Text may not contain the character U+0000."


class InSchema(Schema):
    """A request body. Text holding U+0000 is refused up front: PostgreSQL cannot store it (SQLite
    could), so both databases answer the same 422 and nothing is written. Nested schemas check their own."""

    @pre_load
    def _refuse_nul(self, data, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if not isinstance(data, Mapping):
            return data  # marshmallow answers "Invalid input type."
        errors = {}
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and "\x00" in v for v in values) or (isinstance(key, str) and "\x00" in key):
                errors[str(key).replace("\x00", "")] = [NUL_MESSAGE]
        if errors:
            raise ValidationError(errors)
        return data


class LabelSchema(Schema):
    zh_Hant = fields.String()
    zh_Hans = fields.String()
    en = fields.String()


class ChoiceSchema(Schema):
    code = fields.String()
    label = fields.Nested(LabelSchema)


class RoundStartSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID)
    kind = fields.Enum(RoundKind, by_value=True, required=True)
    estate_id = fields.Integer(required=True, strict=True, validate=ID)
    building_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)
    unit_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)
    started_at = fields.AwareDateTime(load_default=None, allow_none=True)
    checklist_version = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID,
                                       metadata={"description": "the version walked on the phone"})


class RoundStartInCompletionSchema(RoundStartSchema):
    """The start of the round, sent with its completion when neither has reached the server yet."""

    class Meta:
        exclude = ("uuid",)  # the completion's path names the round


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
        # A label without a translation reads in Traditional Chinese (ChecklistItem.label).
        return {"zh_Hant": item.label_zh_hant, "zh_Hans": item.label("zh_Hans"), "en": item.label("en")}


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
    codes = fields.List(fields.String(), metadata={
        "description": "SHA-256 (hex) of the text of this checkpoint's current sticker codes: a scan is matched "
                       "on the phone by its digest; the server judges it again"})


class StoredFindingSchema(Schema):
    """A completed round's finding as it stands now (its latest correction)."""

    uuid = fields.String()
    checkpoint = fields.String(allow_none=True, metadata={"description": "null: a place no longer on the plan"})
    item_code = fields.String()
    result = fields.String()
    reason_code = fields.String(allow_none=True)
    reason_text = fields.String()
    action_code = fields.String(allow_none=True)
    note = fields.String()
    reading_value = fields.String(allow_none=True)


class PlanSchema(Schema):
    round = fields.Nested(RoundSchema)
    findings = fields.List(fields.Nested(StoredFindingSchema),
                           metadata={"description": "a completed round's findings as they stand; empty before"})
    title = fields.Nested(LabelSchema)
    place = fields.String()
    items = fields.List(fields.Nested(ItemSchema))
    checkpoints = fields.List(fields.Nested(CheckpointSchema))
    scans_required = fields.Boolean(metadata={"description": "the estate asks this kind of round to scan each checkpoint"})


class ResidentViolationMarkSchema(InSchema):
    """A defect marked on site as a resident violation (住戶違章), traced to the unit responsible."""

    kind = fields.String(required=True, validate=validate.OneOf(RESIDENT_KINDS))
    room = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"description": "the room responsible, in the round's building"})


class FindingInSchema(InSchema):
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
    # Left out unless marked, so a finding sent before this field existed keeps its fingerprint.
    resident_violation = fields.Nested(ResidentViolationMarkSchema, allow_none=True, metadata={
        "description": "a defect marked as a resident violation: it becomes one on the unit, or the finding "
                       "says why not"})


class ScanInSchema(InSchema):
    """A checkpoint's code read on the round (camera or NFC), or its sticker found missing or damaged."""

    uuid = fields.String(required=True, validate=UUID, metadata={"description": "made on the phone"})
    method = fields.Enum(ScanMethod, by_value=True, required=True)
    code = fields.String(load_default="", validate=validate.Length(max=256), metadata={
        "description": "the text read (camera, nfc); a code of another estate or round, a forged or retired code, "
                       "a second scan of one code or a time in the future is kept as refused, with its reason"})
    checkpoint = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
                               metadata={"description": "sticker_damaged: the checkpoint whose sticker it is"})
    reason = fields.String(load_default="", validate=validate.Length(max=500),
                           metadata={"description": "sticker_damaged: what is wrong with it (required)"})
    scanned_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "the phone's clock"})

    @validates_schema
    def _what_it_needs(self, data: dict, **_: object) -> None:
        if data.get("method") is ScanMethod.STICKER_DAMAGED:
            errors = {}
            if not data.get("checkpoint"):
                errors["checkpoint"] = ["Name the checkpoint whose sticker is missing or damaged."]
            if not data.get("reason", "").strip():
                errors["reason"] = ["Say what is wrong with the sticker."]
            if errors:
                raise ValidationError(errors)
        elif data.get("method") is not None and not data.get("code", "").strip():
            raise ValidationError({"code": ["A scan needs the text the code holds."]})


class CompletionSchema(InSchema):
    completed_at = fields.AwareDateTime(load_default=None, allow_none=True)
    # Left out unless given, so a completion sent before this field existed keeps its fingerprint.
    visit_outcome = fields.Enum(VisitOutcome, by_value=True, metadata={
        "description": "decoration checks: checked (default), nobody, refused or finished; then no answer is required"})
    findings = fields.List(fields.Nested(FindingInSchema), required=True, validate=validate.Length(max=5000))
    # Left out unless given, like visit_outcome: a completion without scans keeps its fingerprint.
    scans = fields.List(fields.Nested(ScanInSchema), validate=validate.Length(max=2000), metadata={
        "description": "checkpoint codes scanned on the round and stickers found damaged; a bad scan never "
                       "refuses the round: it is kept as refused with its reason"})
    start = fields.Nested(RoundStartInCompletionSchema, metadata={
        "description": "the round's start, when the phone sends start and completion in one request "
                       "(a round walked offline): stored first, in the same transaction; not part of the "
                       "completion's content for idempotency"})

    @post_load
    def _completion(self, data: dict, **_: object) -> Completion:
        start = data.pop("start", None)  # not part of the content: a resend without it is the same
        findings = [FindingInput(**{**f, "photo_uuids": tuple(f["photo_uuids"])}) for f in data["findings"]]
        scans = [ScanInput(**s) for s in data.get("scans", [])]
        return Completion(findings=findings, fingerprint=content_sha256(data), completed_at=data["completed_at"],
                          visit_outcome=data.get("visit_outcome"), start=start, scans=scans)


class AmendmentInSchema(InSchema):
    """Fields left out keep the answer as it stands."""

    uuid = fields.String(required=True, validate=UUID, metadata={
        "description": "made by the client: the same correction sent again is stored once"})
    result = fields.Enum(FindingResult, by_value=True, required=True)
    why = fields.String(required=True, validate=validate.Length(min=1, max=500))
    reason_code = fields.String(allow_none=True)
    reason_text = fields.String(validate=validate.Length(max=500))
    action_code = fields.String(allow_none=True)
    note = fields.String(validate=validate.Length(max=1000))
    reading_value = fields.Decimal(allow_none=True, places=2, allow_nan=False,
                                   validate=validate.Range(min=0, max=9_999_999_999))


class AmendmentSchema(Schema):
    uuid = fields.String()
    finding_uuid = fields.String(attribute="finding.uuid")
    result = fields.Enum(FindingResult, by_value=True)
    why = fields.String()
    amended_at = fields.AwareDateTime()


class FileField(fields.Raw):
    """A part of a multipart body that is a file (a form field of the same name is not)."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if not isinstance(value, FileStorage):
            raise ValidationError("Send a file.")
        return value


class PhotoUploadSchema(InSchema):
    """The whole multipart body of a photo upload: the file, its SHA-256, and exactly one of
    `finding_uuid` (a finding's photo) and `record_uuid` (a decoration record's)."""

    file = FileField(required=True, metadata={"type": "string", "format": "binary", "description": "the JPEG"})

    finding_uuid = fields.String(validate=UUID, metadata={"description": "the finding shown"})
    record_uuid = fields.String(validate=UUID, metadata={
        "description": "or a decoration record: the flood test's UUID (its start or its result photo)"})
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 in hex."))

    # Documented as oneOf the two (app/api/__init__.py): exactly one is sent.
    ONE_OF = [{"required": ["finding_uuid"]}, {"required": ["record_uuid"]}]

    @validates_schema
    def _exactly_one_owner(self, data, **kwargs) -> None:  # noqa: ANN001, ANN003
        if (data.get("finding_uuid") is None) == (data.get("record_uuid") is None):
            message = "Send exactly one of finding_uuid and record_uuid."
            raise ValidationError({"finding_uuid": [message], "record_uuid": [message]})

    @post_load
    def _owner_or_none(self, data: dict, **_: object) -> dict:
        return {"finding_uuid": None, "record_uuid": None, **data}


class PhotoSchema(Schema):
    uuid = fields.String()
    finding_uuid = fields.String(allow_none=True)
    record_uuid = fields.String(allow_none=True)
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
    export_key_id = fields.String(allow_none=True, metadata={"description": "a steward's: names the key below"})
    export_key = fields.String(allow_none=True, metadata={
        "description": "a steward's, made at sign-in and kept only on this phone: the HMAC-SHA256 key (hex) it "
                       "signs its unsynced-work file with"})


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
    scans_required = fields.Boolean()


# Decoration (二次裝修) on the phone: flood tests, re-checks, material entry.


class FloodTestSchema(Schema):
    uuid = fields.String(metadata={"description": "the test's UUID, made on the phone when it started"})
    unit_id = fields.Integer()
    unit = fields.String(attribute="unit.label")
    wet_area = fields.Enum(WetArea, by_value=True)
    status = fields.Enum(FloodTestStatus, by_value=True)
    started_at = fields.AwareDateTime(metadata={"description": "when the start reached the server"})
    earliest_pass_at = fields.Function(lambda t: earliest_pass(t).isoformat(), metadata={
        "type": "string", "format": "date-time", "description": "48 hours after started_at, by the server's clock"})
    neighbour_checked_at = fields.AwareDateTime(allow_none=True)
    neighbour_units = fields.String()
    neighbour_leak = fields.Boolean(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)
    result_note = fields.String()


class MaterialRequestSchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    unit_id = fields.Integer()
    unit = fields.String(attribute="unit.label")
    materials = fields.String()
    photo_uuid = fields.String(allow_none=True)
    raised_at = fields.AwareDateTime()
    status = fields.Enum(MaterialStatus, by_value=True)
    contractor = fields.Function(lambda r: r.permit.contractor_name if r.permit else "",
                                 metadata={"type": "string", "description": "the contractor of the registration"})


class RecheckTaskSchema(Schema):
    """A noticed violation whose deadline has come: re-check it on site (複查)."""

    violation_id = fields.Integer()
    unit_id = fields.Integer()
    unit = fields.String()
    notice_number = fields.String()
    summary = fields.String()
    requirements = fields.String()
    deadline = fields.Date()
    overdue = fields.Boolean()
    photos = fields.List(fields.String())


class DecoratingUnitSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    permit_number = fields.String()
    work_stopped = fields.Boolean()
    flood_tests = fields.List(fields.Nested(FloodTestSchema),
                              metadata={"description": "running, or ended in the last 7 days"})


class FloodTestStartSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID, metadata={"description": "made on the phone"})
    unit_id = fields.Integer(required=True, strict=True, validate=ID)
    wet_area = fields.Enum(WetArea, by_value=True, required=True)
    photo_uuid = fields.String(required=True, validate=UUID, metadata={"description": "the water level's photo"})
    water_level_cm = fields.Decimal(load_default=None, allow_none=True, places=1, allow_nan=False,
                                    validate=validate.Range(min=0, max=9999))
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "the phone's clock: kept, never counted"})


class NeighbourCheckSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID)
    units = fields.String(required=True, validate=validate.Length(max=255),
                          metadata={"description": "the unit below and the adjacent units checked"})
    leak = fields.Boolean(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class FloodResultSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID)
    passed = fields.Boolean(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    photo_uuid = fields.String(load_default=None, allow_none=True, validate=UUID)
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class RecheckInSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID)
    violation_id = fields.Integer(required=True, strict=True, validate=ID)
    result = fields.Enum(RecheckResult, by_value=True, required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000),
                         metadata={"description": "what is still wrong (required unless rectified)"})
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class RecheckSchema(Schema):
    uuid = fields.String()
    violation_id = fields.Integer()
    result = fields.Enum(RecheckResult, by_value=True)
    violation_status = fields.Enum(ViolationStatus, by_value=True, attribute="violation.status")
    recorded_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()


class MaterialDecisionInSchema(InSchema):
    uuid = fields.String(required=True, validate=UUID)
    approved = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=1000),
                           metadata={"description": "why not (required when refused)"})
    recorded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class MaterialDecisionSchema(Schema):
    uuid = fields.String(attribute="decision_uuid", metadata={"description": "the decision's UUID"})
    request_id = fields.Integer(attribute="id")
    status = fields.Enum(MaterialStatus, by_value=True)
    reason = fields.String()


class MaterialListSchema(Schema):
    items = fields.List(fields.Nested(MaterialRequestSchema))


class OfflinePackSchema(Schema):
    generated_at = fields.AwareDateTime()
    user_id = fields.Integer()
    targets = fields.List(fields.Nested(PackTargetSchema))
    plans = fields.Dict(keys=fields.String(), values=fields.Nested(PackPlanSchema))
    checklists = fields.Dict(keys=fields.String(), values=fields.Nested(PackChecklistSchema))
    rechecks = fields.List(fields.Nested(RecheckTaskSchema),
                           metadata={"description": "violations due for this steward's re-check"})
    decorating_units = fields.List(fields.Nested(DecoratingUnitSchema),
                                   metadata={"description": "this steward's units being decorated"})
    materials = fields.List(fields.Nested(MaterialRequestSchema),
                            metadata={"description": "material entry requests waiting for this steward"})
