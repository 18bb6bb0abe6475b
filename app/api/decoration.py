"""Decoration (二次裝修) on the phone: flood tests, violation re-checks, material entry decisions.

Every POST carries a UUID made on the phone and is stored once: the same request again gets the
same 201, a different one under a stored UUID a 409 that changes nothing. Each answer echoes the
UUID the phone's outbox waits for (a flood test's steps echo the test's UUID). Time rules (the
flood test's 48 hours) run on the server's clock; the phone's `recorded_at` is kept, never counted.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import roles
from ..decoration import flood_tests, materials, violations
from ..extensions import db
from ..models import Role
from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    FloodResultSchema,
    FloodTestSchema,
    FloodTestStartSchema,
    MaterialDecisionInSchema,
    MaterialDecisionSchema,
    MaterialListSchema,
    NeighbourCheckSchema,
    RecheckInSchema,
    RecheckSchema,
    documented_errors,
)

blp = Blueprint("api_decoration", __name__, url_prefix="/api/v1",
                description="Decoration: flood tests, violation re-checks, material entry")


@blp.route("/flood-tests")
@roles(Role.STEWARD)
class FloodTests(MethodView):
    @blp.arguments(FloodTestStartSchema)
    @blp.response(201, FloodTestSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data):
        """Start a flood test (閉水試驗) of one wet area with the water level's photo (idempotent by UUID).
        Its 48 hours count from when this request reaches the server."""
        test = flood_tests.start_flood_test(db.session, current_user, now=None, **data)
        db.session.commit()
        return test


@blp.route("/flood-tests/<uuid:test_uuid>/neighbour-check")
@roles(Role.STEWARD)
class FloodTestNeighbourCheck(MethodView):
    @blp.arguments(NeighbourCheckSchema)
    @blp.response(201, FloodTestSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data, test_uuid):
        """The unit below and the adjacent units checked for leaks (required before a pass; a leak
        fails the test). Answers with the flood test, whose `uuid` is the test's."""
        test = flood_tests.check_neighbours(db.session, current_user, flood_test_uuid=test_uuid, now=None, **data)
        db.session.commit()
        return test


@blp.route("/flood-tests/<uuid:test_uuid>/result")
@roles(Role.STEWARD)
class FloodTestResult(MethodView):
    @blp.arguments(FloodResultSchema)
    @blp.response(201, FloodTestSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data, test_uuid):
        """Pass or fail the flood test. A pass needs 48 hours by the server's clock since the start
        reached it (422 names the earliest pass time) and a neighbour check without leaks."""
        test = flood_tests.end_flood_test(db.session, current_user, flood_test_uuid=test_uuid, now=None, **data)
        db.session.commit()
        return test


@blp.route("/violation-rechecks")
@roles(Role.STEWARD)
class ViolationRechecks(MethodView):
    @blp.arguments(RecheckInSchema)
    @blp.response(201, RecheckSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data):
        """The re-check (複查) of a noticed violation at its deadline: rectified closes it; not
        rectified or refused escalates it to the supervisor. A closed one answers 409, nothing recorded."""
        record = violations.record_recheck(db.session, current_user, now=None, **data)
        db.session.commit()
        return record


@blp.route("/material-requests")
@roles(Role.STEWARD)
class MaterialRequests(MethodView):
    @blp.response(200, MaterialListSchema)
    @documented_errors(blp, *READ_ERRORS)
    def get(self):
        """Material entry requests from the gate waiting for this steward's decision, oldest first."""
        return {"items": materials.material_tasks(db.session, current_user)}


@blp.route("/material-requests/<int:request_id>/decision")
@roles(Role.STEWARD)
class MaterialDecision(MethodView):
    @blp.arguments(MaterialDecisionInSchema)
    @blp.response(201, MaterialDecisionSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, data, request_id):
        """Let the materials in, or refuse with a reason (the desk then contacts the owner)."""
        request = materials.decide_material(db.session, current_user, request_id=request_id, now=None, **data)
        db.session.commit()
        return request
