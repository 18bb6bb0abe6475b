"""Helpers of the decoration services' tests (test_permits, test_daily_checks_and_violations,
test_flood_tests, test_materials): a registration, a daily check through the sync service, a noticed
violation, a started flood test, and what is due at the unit."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from app.decoration import flood_tests, permits, violations
from app.extensions import db
from app.models import (
    DecorationEvent,
    DecorationPermit,
    FindingResult,
    RoundKind,
    Violation,
    VisitOutcome,
    WetArea,
)
from app.models.base import new_uuid
from app.rounds import intake, schedule
from app.rounds.plan import build_plan

from tests import factories


NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Asia/Shanghai


def registration(unit, **changes) -> permits.Registration:
    return factories.registration(unit, **{"scope": "廚衛改造，全屋刷漆", **changes})


def register(world, unit=None, now=NOW) -> DecorationPermit:
    return permits.register(db.session, world["desk"], registration(unit or world["unit"]), now=now)


def daily_check(world, *, defects=(), outcome=None, now=NOW):
    """A decoration daily check started and completed through the sync service, like the phone does."""
    steward, unit = world["amy"], world["unit"]
    rnd = intake.start_round(db.session, steward, uuid=new_uuid(), kind=RoundKind.DECORATION,
                             estate_id=world["estate"].id, unit_id=unit.id, now=now)
    plan = build_plan(db.session, rnd)
    point = plan.checkpoints[0]
    answers = []
    if outcome in (None, VisitOutcome.CHECKED):
        for item in plan.items_at[point.key]:
            if item.code in defects:
                photo = new_uuid()
                answers.append(intake.FindingInput(uuid=new_uuid(), checkpoint=point.key, item_code=item.code,
                                                   result=FindingResult.DEFECT, reason_code=item.reasons[0]["code"],
                                                   action_code="STOPPED", photo_uuids=(photo,), recorded_at=now))
            else:
                answers.append(intake.FindingInput(uuid=new_uuid(), checkpoint=point.key, item_code=item.code,
                                                   result=FindingResult.FINE, recorded_at=now))
    return intake.complete_round(db.session, steward, rnd.uuid, answers, completed_at=now, fingerprint=new_uuid(),
                                 now=now, visit_outcome=outcome)


def events(unit) -> list[str]:
    return list(db.session.scalars(sa.select(DecorationEvent.kind).where(DecorationEvent.unit_id == unit.id)
                                   .order_by(DecorationEvent.id)))


def due_kinds(world, at=NOW) -> list[RoundKind]:
    """What is due at the unit (the steward's corridors are due too, and do not matter here)."""
    return [d.kind for d in schedule.due_rounds(db.session, world["amy"], at) if d.target.unit is world["unit"]]


def noticed(world, deadline=date(2026, 11, 27)) -> Violation:
    register(world)
    daily_check(world, defects=("DEC-COMMON-DEBRIS",))
    violation = db.session.scalars(sa.select(Violation)).one()
    violations.issue_notice(db.session, world["desk"], violation, deadline=deadline, requirements="三日內清走", now=NOW)
    return violation


def started_test(world, now=NOW):
    register(world)
    return flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                        wet_area=WetArea.BATHROOM, photo_uuid=new_uuid(),
                                        water_level_cm=Decimal("3.0"), recorded_at=now, now=now)


def neighbours(world, test, now, leak=False, note=""):
    return flood_tests.check_neighbours(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid,
                                        units="1-501, 1-602", leak=leak, note=note, now=now)
