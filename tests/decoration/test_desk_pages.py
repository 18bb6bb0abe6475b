"""The desk's decoration pages: registration, the permit's page and actions, violations and the notice."""
from __future__ import annotations

import hashlib
import uuid as uuidlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.decoration import flood_tests, materials, violations
from app.extensions import db
from app.models import (
    DecorationEvent,
    DecorationPermit,
    FindingResult,
    Language,
    PermitStatus,
    RecheckResult,
    Role,
    RoundKind,
    UnitState,
    Violation,
    ViolationStatus,
    WetArea,
)
from app.photos import uploads
from app.rounds import intake, schedule
from app.rounds.plan import build_plan

from tests import factories


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"building": "3棟"}, stairwells=True, language=Language.EN)
    w.add_unit("vacant", "building", "301", state=UnitState.VACANT, floor=3)
    w.add_unit("occupied", "building", "302", floor=3)
    factories.contact(w["occupied"], name="陳大文", phone="13800138000")
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("boss", Role.SUPERVISOR, "estate")
    w.add_person("steward", Role.STEWARD, "building", username="amy")
    return w.save()


def form_data(unit_id: int, **over) -> dict:
    data = {
        "unit": str(unit_id), "owner_name": "陳大文", "owner_phone": "13800138000", "contractor_name": "好家裝修",
        "contractor_phone": "13900139000", "workers": "3", "worker_names": "張三, 李四", "planned_start": "2026-12-01",
        "planned_end": "2026-12-31", "scope": "廚房及衛生間翻新", "working_hours": "08:00-12:00, 14:00-18:00",
        "quiet_rest_days": "y", "deposit": "2000.00",
    }
    data.update(over)
    return data


def register(world, unit=None, **over) -> DecorationPermit:
    """A registration through the service (setup for the other pages)."""
    permit = factories.permit(world["desk"], unit or world["occupied"], **{
        "contractor_name": "好家裝修", "workers": 2, "planned_start": date(2026, 12, 1),
        "planned_end": date(2026, 12, 31), "scope": "廚房翻新", "deposit": Decimal("1000"), **over})
    db.session.commit()
    return permit


def violation_found(world, unit=None, code="DEC-PROTECTION", reason="FLOOR-UNPROTECTED") -> Violation:
    """A decoration daily check with one breach, completed through the sync store, with a stored photo."""
    unit = unit or world["occupied"]
    steward = world["steward"]
    now = datetime.now(timezone.utc)
    rnd = intake.start_round(db.session, steward, uuid=str(uuidlib.uuid4()), kind=RoundKind.DECORATION,
                             estate_id=world["estate"].id, unit_id=unit.id, started_at=now, now=now)
    plan = build_plan(db.session, rnd)
    answers, photo = [], str(uuidlib.uuid4())
    breach_uuid = None
    for point in plan.checkpoints:
        for item in plan.items_at[point.key]:
            answer_uuid = str(uuidlib.uuid4())
            if item.code == code and breach_uuid is None:
                breach_uuid = answer_uuid
                answers.append(intake.FindingInput(uuid=answer_uuid, checkpoint=point.key, item_code=code,
                                                   result=FindingResult.DEFECT, reason_code=reason,
                                                   photo_uuids=(photo,)))
            else:
                answers.append(intake.FindingInput(uuid=answer_uuid, checkpoint=point.key, item_code=item.code,
                                                   result=FindingResult.FINE))
    intake.complete_round(db.session, steward, rnd.uuid, answers, fingerprint=str(uuidlib.uuid4()), now=now)
    data = factories.jpeg_bytes()
    uploads.store_photo(db.session, steward, photo, breach_uuid, data, hashlib.sha256(data).hexdigest(),
                        max_bytes=10_000_000, max_pixels=50_000_000)
    db.session.commit()
    return db.session.scalars(sa.select(Violation).where(Violation.unit_id == unit.id)
                              .order_by(Violation.id.desc())).first()


def post(client, auth, url, **data):
    return client.post(url, data={"csrf_token": auth.csrf(), **data})


def stored_permits():
    return db.session.scalars(sa.select(DecorationPermit).order_by(DecorationPermit.id)).all()


# Registration


def test_registration_form_prefills_from_the_unit_and_the_estate(client, auth, world):
    auth.login("desk")
    page = client.get(f"/decoration/new?unit_id={world['occupied'].id}").get_data(as_text=True)
    assert "陳大文" in page and "13800138000" in page  # the owner on file
    assert 'value="08:00-12:00,14:00-18:00"' in page  # the estate's hours
    assert f'<option selected value="{world["occupied"].id}">3棟 302</option>' in page


def test_registration_of_a_vacant_unit(client, auth, world):
    auth.login("desk")
    response = post(client, auth, "/decoration/new", **form_data(world["vacant"].id))
    assert response.status_code == 302
    permit = stored_permits()[0]
    assert response.headers["Location"].endswith(f"/decoration/{permit.id}")
    assert permit.unit.state is UnitState.DECORATING and permit.prior_state is UnitState.VACANT
    assert permit.working_hours == "08:00-12:00,14:00-18:00" and permit.workers == 3
    assert permit.deposit == Decimal("2000.00") and permit.quiet_rest_days is True
    assert [e.kind for e in permit.events] == ["registered", "vacant_sheet_filed"]
    page = client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    assert "Decoration registered" in page and "Vacant-unit inspection record filed" in page
    # The unit is no longer offered for a new registration.
    assert "3棟 301" not in client.get("/decoration/new").get_data(as_text=True)
    assert "3棟 301" in client.get("/decoration/").get_data(as_text=True)


def test_end_before_start_is_shown_and_nothing_is_stored(client, auth, world):
    auth.login("desk")
    response = post(client, auth, "/decoration/new",
                    **form_data(world["occupied"].id, planned_start="2026-12-10", planned_end="2026-12-01"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The planned end is before the planned start." in page
    assert "好家裝修" in page and "廚房及衛生間翻新" in page  # the form kept what was typed
    assert stored_permits() == [] and db.session.scalars(sa.select(DecorationEvent)).all() == []
    assert world["occupied"].state is UnitState.OCCUPIED


def test_bad_working_hours_are_shown_next_to_the_field(client, auth, world):
    auth.login("desk")
    response = post(client, auth, "/decoration/new", **form_data(world["occupied"].id, working_hours="8 to 6"))
    assert response.status_code == 422
    assert "Write working hours like" in response.get_data(as_text=True)
    assert stored_permits() == []


def test_an_overlapping_registration_is_refused(client, auth, world):
    first = register(world)
    auth.login("desk")
    response = post(client, auth, "/decoration/new", **form_data(world["occupied"].id, contractor_name="別家"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "already has an active decoration registration" in page and first.number in page
    assert [p.id for p in stored_permits()] == [first.id]
    # From the unit's link, the desk lands on the registration that exists.
    again = client.get(f"/decoration/new?unit_id={world['occupied'].id}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/decoration/{first.id}")


def test_a_steward_reads_but_does_not_register(client, auth, world):
    permit = register(world)
    auth.login("amy")
    assert client.get("/decoration/new").status_code == 403
    assert "3棟 302" in client.get("/decoration/").get_data(as_text=True)
    assert client.get(f"/decoration/unit/{world['occupied'].id}").status_code == 200
    assert post(client, auth, f"/decoration/{permit.id}/stop", reason="x").status_code == 403


def test_a_permit_outside_the_users_scope_is_not_found(client, auth, world):
    permit = register(world)
    other = factories.estate()
    factories.user(Role.DESK, username="far", estates=[other])
    auth.login("far")
    assert client.get(f"/decoration/{permit.id}").status_code == 404
    assert post(client, auth, f"/decoration/{permit.id}/stop", reason="x").status_code == 404


# The permit's page


def test_the_owner_phone_is_for_the_desk_only(client, auth, world):
    permit = register(world)
    auth.login("amy")
    page = client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    assert "13800138000" not in page and "陳大文" not in page
    assert "好家裝修" in page and "13900139000" in page  # the contractor works on site
    auth.logout()
    auth.login("desk")
    page = client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    assert "13800138000" in page and "陳大文" in page


def test_stop_and_resume(client, auth, world):
    permit = register(world)
    auth.login("desk")
    refused = post(client, auth, f"/decoration/{permit.id}/stop", reason="")
    assert refused.status_code == 302
    assert "Say why the work is stopped." in client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    post(client, auth, f"/decoration/{permit.id}/stop", reason="擅自拆改承重牆")
    db.session.refresh(permit)
    assert permit.work_stopped and permit.work_stopped_reason == "擅自拆改承重牆"
    page = client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    assert "Work stopped" in page and "擅自拆改承重牆" in page
    assert client.get("/decoration/escalations").status_code == 403  # the supervisor's duty (上報)
    auth.logout()
    auth.login("boss")
    assert "3棟 302" in client.get("/decoration/escalations").get_data(as_text=True)
    auth.logout()
    auth.login("desk")
    post(client, auth, f"/decoration/{permit.id}/resume", note="已恢復原狀")
    db.session.refresh(permit)
    assert not permit.work_stopped
    assert [e.kind for e in permit.events][-2:] == ["work_stopped", "work_resumed"]


def test_acceptance_waits_for_open_violations(client, auth, world):
    permit = register(world)
    violation = violation_found(world)
    auth.login("desk")
    post(client, auth, f"/decoration/{permit.id}/accept", passed="yes", return_state="rented", note="")
    db.session.refresh(permit)
    assert permit.status is PermitStatus.ACTIVE and world["occupied"].state is UnitState.DECORATING
    assert "1 open violation(s)" in client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    # The violation is put right: noticed, re-checked rectified by the steward.
    violations.issue_notice(db.session, world["desk"], violation, deadline=date.today() + timedelta(days=3),
                            requirements="")
    violations.record_recheck(db.session, world["steward"], uuid=str(uuidlib.uuid4()), violation_id=violation.id,
                              result=RecheckResult.RECTIFIED,
                              now=datetime.now(timezone.utc) + timedelta(days=3))
    db.session.commit()
    post(client, auth, f"/decoration/{permit.id}/accept", passed="yes", return_state="rented", note="驗收合格")
    db.session.refresh(permit)
    assert permit.status is PermitStatus.COMPLETED and permit.acceptance_note == "驗收合格"
    assert world["occupied"].state is UnitState.RENTED
    assert "3棟 302" in client.get("/decoration/").get_data(as_text=True)  # recently completed


def test_a_failed_acceptance_is_recorded(client, auth, world):
    permit = register(world)
    auth.login("desk")
    post(client, auth, f"/decoration/{permit.id}/accept", passed="no", return_state="occupied", note="牆面未修補")
    db.session.refresh(permit)
    assert permit.status is PermitStatus.ACTIVE and permit.events[-1].kind == "acceptance_failed"


def test_cancel_returns_the_unit(client, auth, world):
    permit = register(world, unit=world["vacant"])
    auth.login("boss")
    post(client, auth, f"/decoration/{permit.id}/cancel", note="登記錯誤")
    db.session.refresh(permit)
    assert permit.status is PermitStatus.CANCELLED and world["vacant"].state is UnitState.VACANT


# Violations


def test_the_violation_page_shows_the_evidence(client, auth, world):
    register(world)
    violation = violation_found(world)
    assert violation.status is ViolationStatus.STOPPED
    auth.login("amy")
    page = client.get(f"/decoration/violations/{violation.id}").get_data(as_text=True)
    photo = violation.findings[0].photos[0].uuid
    assert f"/photos/{photo}/thumb" in page
    assert "Issue the rectification notice" in page and "Record the call" not in page
    assert "13800138000" not in page
    index = client.get("/decoration/").get_data(as_text=True)
    assert f"/decoration/violations/{violation.id}" in index


def test_notice_then_the_printable_form(client, auth, world):
    register(world)
    violation = violation_found(world)
    auth.login("amy")
    before = client.get(f"/decoration/violations/{violation.id}/notice")
    assert before.status_code == 302  # nothing to print before a notice
    today = schedule.local_date(world["estate"], datetime.now(timezone.utc))
    deadline = today + timedelta(days=3)
    page = client.get(f"/decoration/violations/{violation.id}").get_data(as_text=True)
    assert f'value="{deadline.isoformat()}"' in page  # three days by default
    post(client, auth, f"/decoration/violations/{violation.id}/notice", deadline=deadline.isoformat(),
         requirements="三日內恢復地面保護")
    db.session.refresh(violation)
    assert violation.status is ViolationStatus.NOTICED and violation.notice_number
    sheet = client.get(f"/decoration/violations/{violation.id}/notice")
    assert sheet.status_code == 200
    text = sheet.get_data(as_text=True)
    assert "違章整改通知書" in text and "翠湖花園" in text and violation.notice_number in text
    assert violation.summary.splitlines()[0] in text  # the items
    assert "三日內恢復地面保護" in text
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text
    assert "逾期未整改者，本中心將上報處理並按規定停工" in text
    assert "陳大文" not in text and "13800138000" not in text


def test_a_deadline_in_the_past_is_refused(client, auth, world):
    register(world)
    violation = violation_found(world)
    auth.login("desk")
    post(client, auth, f"/decoration/violations/{violation.id}/notice", deadline="2000-01-01", requirements="")
    db.session.refresh(violation)
    assert violation.status is ViolationStatus.STOPPED and violation.notice_number is None
    assert "Give a deadline from today on." in client.get(f"/decoration/violations/{violation.id}").get_data(
        as_text=True)


def test_the_desk_logs_the_call_and_the_steward_may_not(client, auth, world):
    register(world)
    violation = violation_found(world)
    auth.login("amy")
    assert post(client, auth, f"/decoration/violations/{violation.id}/call", note="業主答應整改").status_code == 403
    auth.logout()
    auth.login("desk")
    page = client.get(f"/decoration/violations/{violation.id}").get_data(as_text=True)
    assert "13800138000" in page  # the desk phones the owner from here
    post(client, auth, f"/decoration/violations/{violation.id}/call", note="業主答應整改")
    db.session.refresh(violation)
    assert violation.owner_called_at is not None
    page = client.get(f"/decoration/violations/{violation.id}").get_data(as_text=True)
    assert "Owner phoned" in page and "業主答應整改" in page


def test_the_supervisor_resolves_an_escalated_violation(client, auth, world):
    register(world)
    violation = violation_found(world)
    violations.issue_notice(db.session, world["desk"], violation, deadline=date.today() + timedelta(days=1),
                            requirements="")
    violations.record_recheck(db.session, world["steward"], uuid=str(uuidlib.uuid4()), violation_id=violation.id,
                              result=RecheckResult.REFUSED, note="業主拒絕",
                              now=datetime.now(timezone.utc) + timedelta(days=2))
    db.session.commit()
    auth.login("desk")
    assert client.get("/decoration/escalations").status_code == 403  # escalations are the supervisor's to read
    assert post(client, auth, f"/decoration/violations/{violation.id}/resolve", note="x").status_code == 403
    auth.logout()
    auth.login("boss")
    assert f"/decoration/violations/{violation.id}" in client.get("/decoration/escalations").get_data(as_text=True)
    page = client.get(f"/decoration/violations/{violation.id}").get_data(as_text=True)
    assert "Refuses to rectify" in page and "Settle and close" in page
    post(client, auth, f"/decoration/violations/{violation.id}/resolve", note="業主已恢復原狀，扣除部分押金")
    db.session.refresh(violation)
    assert violation.status is ViolationStatus.RESOLVED
    assert f"/decoration/violations/{violation.id}" not in client.get("/decoration/escalations").get_data(
        as_text=True)


def test_the_permit_page_shows_flood_tests_and_materials(client, auth, world):
    permit = register(world)
    start = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
    flood_tests.start_flood_test(db.session, world["steward"], uuid=str(uuidlib.uuid4()), unit_id=world["occupied"].id,
                                 wet_area=WetArea.BATHROOM, photo_uuid=str(uuidlib.uuid4()),
                                 water_level_cm=Decimal("3.0"), now=start)
    materials.raise_material_request(db.session, world["desk"], uuid=str(uuidlib.uuid4()),
                                     unit_id=world["occupied"].id, materials="瓷磚 20 箱",
                                     photo_uuid=str(uuidlib.uuid4()))
    db.session.commit()
    auth.login("desk")
    page = client.get(f"/decoration/{permit.id}").get_data(as_text=True)
    assert "Bathroom" in page and "Running" in page and "Flood test started" in page
    assert "Dec 4 09:00" in page  # can pass 48 hours after the server heard of the start (Shanghai time)
    assert "瓷磚 20 箱" in page and "Waiting for the steward" in page
    test = permit.flood_tests[0]
    assert f"/photos/{test.start_photo_uuid}/thumb" in page
    assert "1 flood test running" in client.get("/decoration/").get_data(as_text=True)


def test_the_supervisor_sets_the_estates_working_hours_for_new_registrations(client, auth, app):
    from app.models import Estate

    estate = factories.estate()
    boss = factories.user(Role.SUPERVISOR, username="rules-boss", estates=[estate])
    db.session.commit()
    auth.login(boss.username)
    bad = client.post("/decoration/rules", data={"csrf_token": auth.csrf(), "estate": estate.id,
                                                 "working_hours": "8 to 12"})
    assert bad.status_code == 422 and "8 to 12" in bad.get_data(as_text=True)
    assert db.session.get(Estate, estate.id).decoration_hours == "08:00-12:00,14:00-18:00"
    good = client.post("/decoration/rules", data={"csrf_token": auth.csrf(), "estate": estate.id,
                                                  "working_hours": "08:30-12:00, 13:30-17:30"})
    assert good.status_code == 302
    saved = db.session.get(Estate, estate.id)
    assert saved.decoration_hours == "08:30-12:00,13:30-17:30" and not saved.decoration_quiet_rest_days
