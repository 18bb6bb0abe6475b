"""The decoration daily check's outcomes and the violation flow (app/decoration/violations.py):
breaches become one violation, a serious one stops the work, the notice, the re-check on the deadline
day, escalation to the supervisor with the evidence."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import refusals
from app.decoration import permits, violations
from app.extensions import db
from app.models import (
    Finding,
    PermitStatus,
    RecheckResult,
    Role,
    RoundKind,
    UnitState,
    Violation,
    ViolationStatus,
    VisitOutcome,
)
from app.models.base import new_uuid
from app.photos import uploads
from app.rounds import intake

from tests import factories
from tests.decoration.service_helpers import (
    NOW,
    daily_check,
    due_kinds,
    events,
    noticed,
    register,
)


@pytest.mark.parametrize("outcome", [VisitOutcome.NOBODY, VisitOutcome.REFUSED, VisitOutcome.FINISHED])
def test_a_visit_outcome_completes_the_check_without_answers(world, outcome):
    permit = register(world)
    rnd = daily_check(world, outcome=outcome)
    assert rnd.visit_outcome is outcome and not rnd.findings
    assert events(world["unit"])[-1] == f"visit_{outcome.value}"
    assert (permit.finished_reported_at is not None) is (outcome is VisitOutcome.FINISHED)
    # Done for today; tomorrow it is due again until the work is accepted.
    assert RoundKind.DECORATION not in due_kinds(world)
    assert due_kinds(world, NOW + timedelta(days=1)) == [RoundKind.DECORATION]


def test_a_checked_visit_still_needs_every_answer(world):
    register(world)
    rnd = intake.start_round(db.session, world["amy"], uuid=new_uuid(), kind=RoundKind.DECORATION,
                             estate_id=world["estate"].id, unit_id=world["unit"].id, now=NOW)
    with pytest.raises(refusals.Rejected) as refused:
        intake.complete_round(db.session, world["amy"], rnd.uuid, [], fingerprint="x", now=NOW,
                              visit_outcome=VisitOutcome.CHECKED)
    assert "unanswered" in refused.value.errors


def test_only_a_decoration_check_has_a_visit_outcome(world):
    rnd = intake.start_round(db.session, world["amy"], uuid=new_uuid(), kind=RoundKind.CORRIDOR,
                             estate_id=world["estate"].id, building_id=world["b1"].id, now=NOW)
    with pytest.raises(refusals.Rejected) as refused:
        intake.complete_round(db.session, world["amy"], rnd.uuid, [], fingerprint="x", now=NOW,
                              visit_outcome=VisitOutcome.NOBODY)
    assert "visit_outcome" in refused.value.errors


def test_breaches_become_one_violation_stopped_on_the_spot(world):
    permit = register(world)
    daily_check(world, defects=("DEC-COMMON-DEBRIS", "DEC-PROTECTION"))
    violation = db.session.scalars(sa.select(Violation)).one()
    assert violation.status is ViolationStatus.STOPPED and violation.permit is permit and not violation.serious
    assert len(violation.findings) == 2 and all(f.violation is violation for f in violation.findings)
    assert "裝修垃圾" in violation.summary or len(violation.summary.splitlines()) == 2
    assert not permit.work_stopped
    assert "violation_found" in events(world["unit"])
    # Breaches are not repair tickets.
    assert all(f.ticket_id is None for f in db.session.scalars(sa.select(Finding)))


def test_a_serious_breach_stops_the_work(world):
    permit = register(world)
    daily_check(world, defects=("DEC-STRUCTURE",))
    violation = db.session.scalars(sa.select(Violation)).one()
    assert violation.serious and permit.work_stopped
    assert permits.stopped_units(db.session, world["gate"]) == [permit]
    with pytest.raises(refusals.Conflict):
        permits.stop_work(db.session, world["desk"], permit, "again")
    with pytest.raises(refusals.NotFound):
        permits.resume_work(db.session, world["amy"], permit, "整改完")
    permits.resume_work(db.session, world["boss"], permit, "承重牆已恢復，經工程部確認")
    assert not permit.work_stopped and permits.stopped_units(db.session, world["gate"]) == []


def test_the_notice_numbers_the_violation_and_the_recheck_comes_on_the_deadline_day(world):
    violation = noticed(world)
    assert violation.status is ViolationStatus.NOTICED and violation.notice_number.startswith("ZG-20261124-")
    with pytest.raises(refusals.Conflict):
        violations.issue_notice(db.session, world["desk"], violation, deadline=date(2026, 11, 28),
                                requirements="", now=NOW)
    on_day = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    assert violations.recheck_tasks(db.session, world["amy"], NOW) == []
    assert [t.violation_id for t in violations.recheck_tasks(db.session, world["amy"], on_day)] == [violation.id]
    late = violations.recheck_tasks(db.session, world["amy"], on_day + timedelta(days=2))[0]
    assert late.overdue
    # Only the steward of the unit's building gets the task.
    assert violations.recheck_tasks(db.session, world["bob"], on_day) == []


@pytest.mark.parametrize("deadline", [date(2026, 11, 23), None, date(2027, 3, 1)])
def test_a_notice_needs_a_sensible_deadline(world, deadline):
    register(world)
    daily_check(world, defects=("DEC-COMMON-DEBRIS",))
    violation = db.session.scalars(sa.select(Violation)).one()
    with pytest.raises(refusals.Rejected):
        violations.issue_notice(db.session, world["desk"], violation, deadline=deadline, requirements="", now=NOW)
    assert violation.status is ViolationStatus.STOPPED and violation.notice_number is None


def test_rectified_at_the_recheck_closes_the_violation(world):
    violation = noticed(world)
    violations.log_owner_call(db.session, world["desk"], violation, "業主答應週四前清走", now=NOW)
    with pytest.raises(refusals.NotFound):
        violations.log_owner_call(db.session, world["amy"], violation, "x")
    record = violations.record_recheck(db.session, world["amy"], uuid=new_uuid(), violation_id=violation.id,
                                       result=RecheckResult.RECTIFIED, now=NOW + timedelta(days=3))
    assert violation.status is ViolationStatus.RECTIFIED and violation.closed_at is not None
    assert record.violation is violation
    # A re-check on a closed violation is refused and changes nothing.
    with pytest.raises(refusals.Conflict):
        violations.record_recheck(db.session, world["amy"], uuid=new_uuid(), violation_id=violation.id,
                                  result=RecheckResult.REFUSED, note="x")
    assert violation.status is ViolationStatus.RECTIFIED and len(violation.rechecks) == 1


def test_refused_at_the_recheck_escalates_to_the_supervisor_with_the_evidence(world):
    violation = noticed(world)
    with pytest.raises(refusals.Rejected):
        violations.record_recheck(db.session, world["amy"], uuid=new_uuid(), violation_id=violation.id,
                                  result=RecheckResult.REFUSED, note="")
    uuid = new_uuid()
    violations.record_recheck(db.session, world["amy"], uuid=uuid, violation_id=violation.id,
                              result=RecheckResult.REFUSED, note="業主拒絕清理", now=NOW + timedelta(days=3))
    # The same re-check sent again is the same record; another answer under its UUID is a conflict.
    again = violations.record_recheck(db.session, world["amy"], uuid=uuid, violation_id=violation.id,
                                      result=RecheckResult.REFUSED, note="業主拒絕清理")
    assert again.uuid == uuid and len(violation.rechecks) == 1
    with pytest.raises(refusals.Conflict):
        violations.record_recheck(db.session, world["amy"], uuid=uuid, violation_id=violation.id,
                                  result=RecheckResult.RECTIFIED)
    assert violation.status is ViolationStatus.ESCALATED
    up = violations.escalations(db.session, world["boss"])
    assert up.violations == [violation] and violation.findings  # the evidence travels with it
    assert events(world["unit"])[-2:] == ["recheck_refused", "violation_escalated"]
    with pytest.raises(refusals.NotFound):
        violations.resolve_violation(db.session, world["desk"], violation, "x")
    violations.resolve_violation(db.session, world["boss"], violation, "主管上門協調，業主已清理")
    assert violation.status is ViolationStatus.RESOLVED and violations.escalations(db.session, world["boss"]).violations == []


def test_a_steward_of_another_building_or_estate_cannot_recheck(world):
    violation = noticed(world)
    for who in ("bob", "zed"):
        with pytest.raises(refusals.NotFound):
            violations.record_recheck(db.session, world[who], uuid=new_uuid(), violation_id=violation.id,
                                      result=RecheckResult.RECTIFIED)
    assert violation.status is ViolationStatus.NOTICED


def test_acceptance_waits_for_open_violations(world):
    violation = noticed(world)
    permit = violation.permit
    with pytest.raises(refusals.Conflict):
        permits.accept(db.session, world["desk"], permit, passed=True, note="", return_state=UnitState.OCCUPIED)
    assert permit.status is PermitStatus.ACTIVE and world["unit"].state is UnitState.DECORATING


def test_the_evidence_photos_are_seen_by_any_steward_of_the_building(world):
    import hashlib

    from app.models import Photo, PhotoStatus

    violation = noticed(world)
    finding = violation.findings[0]
    data = factories.jpeg_bytes()
    photo_uuid = finding.photos[0].uuid
    uploads.store_photo(db.session, world["amy"], photo_uuid, finding.uuid, data, hashlib.sha256(data).hexdigest(),
                        max_bytes=10_000_000, max_pixels=50_000_000)
    db.session.flush()
    colleague = factories.user(Role.STEWARD, username="cathy", buildings=[world["b1"]])
    assert uploads.photo_for(db.session, colleague, photo_uuid).status is PhotoStatus.STORED
    for outsider in (world["bob"], world["gate"]):
        with pytest.raises(refusals.NotFound):
            uploads.photo_for(db.session, outsider, photo_uuid)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1
