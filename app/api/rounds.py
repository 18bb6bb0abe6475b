"""Rounds: start one, read its plan, complete it, amend a finding."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import roles
from ..database import commit_and_keep, reads_first
from ..extensions import db
from ..models import Role, RoundStatus
from ..rounds import intake
from ..rounds.checkpoints import code_digests, scans_required
from ..rounds.plan import build_plan, checkpoint_documents
from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    AmendmentInSchema,
    AmendmentSchema,
    CompletionSchema,
    PlanSchema,
    RoundSchema,
    RoundStartSchema,
    documented_errors,
)

blp = Blueprint("api_rounds", __name__, url_prefix="/api/v1", description="Rounds walked by stewards")


def plan_document(rnd) -> dict:  # noqa: ANN001
    plan = build_plan(db.session, rnd)
    version = rnd.checklist_version
    target = rnd.unit.label if rnd.unit else rnd.building.name if rnd.building else rnd.estate.name
    findings = []
    if rnd.status is RoundStatus.COMPLETED:  # what the office holds, for a phone whose copy differs
        keys = {c.place: c.key for c in plan.checkpoints}
        for f in rnd.findings:
            now = f.current
            findings.append({"uuid": f.uuid, "checkpoint": keys.get(f.place), "item_code": f.item.code,
                             "result": now.result.value, "reason_code": now.reason_code, "reason_text": now.reason_text,
                             "action_code": now.action_code, "note": now.note,
                             "reading_value": None if now.reading_value is None else str(now.reading_value)})
    return {
        "round": rnd,
        "findings": findings,
        "title": {"zh_Hant": version.title_zh_hant, "zh_Hans": version.title("zh_Hans"), "en": version.title("en")},
        "place": target,
        "items": plan.items,
        "checkpoints": checkpoint_documents(plan, code_digests(db.session, rnd.estate_id)),
        "scans_required": scans_required(db.session, rnd.estate_id, rnd.kind),
    }


@blp.route("/rounds")
@roles(Role.STEWARD)
class Rounds(MethodView):
    @blp.arguments(RoundStartSchema)
    @blp.response(201, RoundSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data):
        """Start a round (idempotent by UUID)."""
        rnd = intake.start_round(db.session, current_user, **data)
        commit_and_keep()
        return rnd


@blp.route("/rounds/<uuid:uuid>")
@roles(Role.STEWARD, Role.DESK, Role.SUPERVISOR)
class RoundPlan(MethodView):
    @blp.response(200, PlanSchema)
    @documented_errors(blp, *READ_ERRORS, 400, 404)  # 400: the path's uuid is no UUID
    def get(self, uuid):
        """The round with everything needed to walk it offline: checklist, checkpoints, meter history."""
        return plan_document(intake.round_for(db.session, current_user, uuid))


@blp.route("/rounds/<uuid:uuid>/completion")
@roles(Role.STEWARD)
class RoundCompletion(MethodView):
    @blp.arguments(CompletionSchema)
    @blp.response(201, RoundSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data, uuid):
        """Complete a round with all its findings, in one transaction (idempotent by content); with
        `start`, a round the server has not seen yet is started in the same transaction."""
        with reads_first() as end_reads:
            rnd = intake.complete_round(db.session, current_user, uuid, data.findings, completed_at=data.completed_at,
                                        fingerprint=data.fingerprint, visit_outcome=data.visit_outcome,
                                        start=data.start, between_checks_and_writes=end_reads,
                                        scans=data.scans)
        commit_and_keep()
        return rnd


@blp.route("/findings/<uuid:uuid>/amendments")
@roles(Role.STEWARD, Role.DESK, Role.SUPERVISOR)
class FindingAmendments(MethodView):
    @blp.arguments(AmendmentInSchema)
    @blp.response(201, AmendmentSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data, uuid):
        """Correct a finding of a completed round; the original stays."""
        amendment = intake.amend_finding(db.session, current_user, uuid, **data)
        db.session.commit()
        return amendment
