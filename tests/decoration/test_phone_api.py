"""The decoration API the steward's phone talks to: flood tests held 48 hours by the server's clock,
violation re-checks, material entry decisions, record photos and the offline pack. Every POST is
stored once by its UUID; everything outside the steward's units is 404."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import refusals
from app.decoration import flood_tests, materials, permits, violations
from app.extensions import db
from app.models import (
    DecorationEvent,
    FindingResult,
    FloodTest,
    FloodTestStatus,
    MaterialRequest,
    MaterialStatus,
    Photo,
    Role,
    RoundKind,
    Violation,
    ViolationRecheck,
    ViolationStatus,
    WetArea,
)
from app.models.base import new_uuid
from app.rounds import intake, schedule
from app.rounds.plan import build_plan

from tests import factories

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Asia/Shanghai


def register(desk, unit):
    return factories.permit(desk, unit, owner_name="王業主", owner_phone="13911112222", contractor_name="好家裝修",
                            contractor_phone="13655556666", planned_start=date(2026, 11, 1),
                            planned_end=date(2027, 1, 31), scope="廚衛翻新")


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"building": "1棟"}, other="遠方苑", people={
        "desk": (Role.DESK, "estate"), "gate": (Role.GATE, "estate"), "amy": (Role.STEWARD, "building"),
        "far_desk": (Role.DESK, "other"), "far_gate": (Role.GATE, "other"), "zed": (Role.STEWARD, "other")})
    w.add_unit("unit", "building", "1-101")
    w.add_building("far_building", "other", "9棟")
    w.add_unit("far_unit", "far_building", "9-101")
    w["permit"] = register(w["desk"], w["unit"])
    w["far_permit"] = register(w["far_desk"], w["far_unit"])
    return w.save()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def events(kind: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(DecorationEvent).where(DecorationEvent.kind == kind))


def age(test_uuid: str, hours: float) -> None:
    """Time passes: the start reached the server `hours` ago."""
    db.session.execute(sa.text("UPDATE flood_test SET started_at = :at WHERE uuid = :uuid"),
                       {"at": datetime.now(timezone.utc) - timedelta(hours=hours), "uuid": test_uuid})
    db.session.commit()


def start_body(unit, **kw) -> dict:
    return {"uuid": new_uuid(), "unit_id": unit.id, "wet_area": "bathroom", "photo_uuid": new_uuid(),
            "water_level_cm": 3, **kw}


# Flood tests


def test_start_is_idempotent_by_uuid_and_answers_the_test(api, world):
    api.login("amy")
    body = start_body(world["unit"])
    first = api.post("/api/v1/flood-tests", body)
    assert first.status_code == 201, first.get_json()
    doc = first.get_json()
    assert doc["uuid"] == body["uuid"] and doc["unit_id"] == world["unit"].id and doc["unit"] == world["unit"].label
    assert (doc["wet_area"], doc["status"], doc["neighbour_checked_at"], doc["ended_at"]) == (
        "bathroom", "running", None, None)
    started = datetime.fromisoformat(doc["started_at"])
    assert datetime.fromisoformat(doc["earliest_pass_at"]) - started == timedelta(hours=48)
    assert set(doc) == {"uuid", "unit_id", "unit", "wet_area", "status", "started_at", "earliest_pass_at",
                        "neighbour_checked_at", "neighbour_units", "neighbour_leak", "ended_at", "result_note"}

    again = api.post("/api/v1/flood-tests", body)
    assert again.status_code == 201 and again.get_json() == doc
    changed = api.post("/api/v1/flood-tests", {**body, "wet_area": "kitchen"})
    assert changed.status_code == 409
    test = db.session.scalars(sa.select(FloodTest)).one()
    assert test.wet_area is WetArea.BATHROOM and test.start_photo_uuid == body["photo_uuid"]
    assert events("flood_started") == 1


def test_a_phone_clock_days_ahead_does_not_pass_a_test(api, world):
    api.login("amy")
    ahead = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    body = start_body(world["unit"], recorded_at=ahead)
    assert api.post("/api/v1/flood-tests", body).status_code == 201
    check = {"uuid": new_uuid(), "units": "1-001, 1-102", "leak": False, "recorded_at": ahead}
    checked = api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check", check)
    assert checked.status_code == 201 and checked.get_json()["uuid"] == body["uuid"]
    assert checked.get_json()["neighbour_units"] == "1-001, 1-102" and checked.get_json()["neighbour_leak"] is False

    result = {"uuid": new_uuid(), "passed": True, "note": "", "recorded_at": ahead}
    early = api.post(f"/api/v1/flood-tests/{body['uuid']}/result", result)
    assert early.status_code == 422 and "passed" in early.get_json()["errors"]
    test = db.session.scalars(sa.select(FloodTest)).one()
    assert f"{test.started_at + timedelta(hours=48):%Y-%m-%d %H:%M}" in early.get_json()["message"]
    assert test.status is FloodTestStatus.RUNNING and test.result_uuid is None and test.ended_at is None


def test_a_pass_after_48_hours_by_the_server_clock(api, world):
    api.login("amy")
    body = start_body(world["unit"])
    api.post("/api/v1/flood-tests", body)
    api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check",
             {"uuid": new_uuid(), "units": "1-001", "leak": False})
    result = {"uuid": new_uuid(), "passed": True, "note": "無滲漏"}
    age(body["uuid"], 47.9)
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/result", result).status_code == 422
    age(body["uuid"], 48.1)
    passed = api.post(f"/api/v1/flood-tests/{body['uuid']}/result", result)
    assert passed.status_code == 201, passed.get_json()
    doc = passed.get_json()
    assert doc["uuid"] == body["uuid"] and doc["status"] == "passed" and doc["result_note"] == "無滲漏"
    assert doc["ended_at"] is not None

    again = api.post(f"/api/v1/flood-tests/{body['uuid']}/result", result)
    assert again.status_code == 201 and again.get_json() == doc
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/result",
                    {**result, "passed": False, "note": "漏"}).status_code == 409
    test = db.session.scalars(sa.select(FloodTest)).one()
    assert test.status is FloodTestStatus.PASSED and test.result_note == "無滲漏"
    assert events("flood_passed") == 1 and events("flood_failed") == 0


def test_a_pass_without_the_neighbour_check_is_refused(api, world):
    api.login("amy")
    body = start_body(world["unit"])
    api.post("/api/v1/flood-tests", body)
    age(body["uuid"], 50)
    response = api.post(f"/api/v1/flood-tests/{body['uuid']}/result", {"uuid": new_uuid(), "passed": True})
    assert response.status_code == 422 and "neighbours" in response.get_json()["errors"]
    assert db.session.scalars(sa.select(FloodTest)).one().status is FloodTestStatus.RUNNING


def test_a_leak_next_door_fails_the_test(api, world):
    api.login("amy")
    body = start_body(world["unit"], wet_area="kitchen")
    api.post("/api/v1/flood-tests", body)
    check = {"uuid": new_uuid(), "units": "1-001", "leak": True, "note": "樓下天花滲水"}
    response = api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check", check)
    assert response.status_code == 201 and response.get_json()["status"] == "failed"
    assert response.get_json()["neighbour_leak"] is True
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check", check).status_code == 201  # repeat
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check",
                    {**check, "leak": False}).status_code == 409
    age(body["uuid"], 50)
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/result",
                    {"uuid": new_uuid(), "passed": True}).status_code == 409
    test = db.session.scalars(sa.select(FloodTest)).one()
    assert test.status is FloodTestStatus.FAILED and test.neighbour_leak is True
    assert events("flood_failed") == 1


def test_48_hours_by_a_fixed_server_clock(world):
    amy, unit = world["amy"], world["unit"]
    test = flood_tests.start_flood_test(db.session, amy, uuid=new_uuid(), unit_id=unit.id, wet_area=WetArea.BALCONY,
                                        photo_uuid=new_uuid(), recorded_at=T0 + timedelta(days=5), now=T0)
    assert test.started_at == T0 and test.phone_started_at == T0 + timedelta(days=5)
    with pytest.raises(refusals.Rejected):  # no neighbour check yet
        flood_tests.end_flood_test(db.session, amy, uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                                   now=T0 + timedelta(hours=49))
    flood_tests.check_neighbours(db.session, amy, uuid=new_uuid(), flood_test_uuid=test.uuid, units="1-001",
                                 leak=False, now=T0 + timedelta(hours=1))
    with pytest.raises(refusals.Rejected) as early:
        flood_tests.end_flood_test(db.session, amy, uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                                   recorded_at=T0 + timedelta(days=6), now=T0 + timedelta(hours=47, minutes=59))
    assert "2026-11-26 02:00" in str(early.value.message)
    assert test.status is FloodTestStatus.RUNNING
    flood_tests.end_flood_test(db.session, amy, uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                               now=T0 + timedelta(hours=48))
    assert test.status is FloodTestStatus.PASSED and test.ended_at == T0 + timedelta(hours=48)


# Violations and their re-check


def find_violation(world, item_code="DEC-PERMIT", reason="NO-PERMIT") -> Violation:
    """A decoration check with one breach, through the real round pipeline, then the notice."""
    amy, unit = world["amy"], world["unit"]
    rnd = intake.start_round(db.session, amy, uuid=new_uuid(), kind=RoundKind.DECORATION,
                             estate_id=world["estate"].id, unit_id=unit.id)
    plan = build_plan(db.session, rnd)
    findings = []
    for point in plan.checkpoints:
        for item in plan.items_at[point.key]:
            defect = item.code == item_code
            findings.append(intake.FindingInput(
                uuid=new_uuid(), checkpoint=point.key, item_code=item.code,
                result=FindingResult.DEFECT if defect else FindingResult.FINE,
                reason_code=reason if defect else None, photo_uuids=(new_uuid(),) if defect else ()))
    intake.complete_round(db.session, amy, rnd.uuid, findings, fingerprint=new_uuid())
    violation = db.session.scalars(sa.select(Violation).where(Violation.round_id == rnd.id)).one()
    today = schedule.local_date(world["estate"], datetime.now(timezone.utc))
    violations.issue_notice(db.session, world["desk"], violation, deadline=today, requirements="恢復原狀")
    db.session.commit()
    return violation


def test_a_rectified_recheck_closes_the_violation_once(api, world):
    violation = find_violation(world)
    api.login("amy")
    body = {"uuid": new_uuid(), "violation_id": violation.id, "result": "rectified", "note": "已整改"}
    first = api.post("/api/v1/violation-rechecks", body)
    assert first.status_code == 201, first.get_json()
    doc = first.get_json()
    assert (doc["uuid"], doc["violation_id"], doc["result"], doc["violation_status"]) == (
        body["uuid"], violation.id, "rectified", "rectified")
    assert doc["recorded_at"] and doc["received_at"]
    again = api.post("/api/v1/violation-rechecks", body)
    assert again.status_code == 201 and again.get_json() == doc
    assert api.post("/api/v1/violation-rechecks", {**body, "note": "其實沒有"}).status_code == 409
    assert db.session.get(Violation, violation.id).status is ViolationStatus.RECTIFIED
    assert count(ViolationRecheck) == 1


def test_a_recheck_of_a_closed_violation_is_409_and_records_nothing(api, world):
    violation = find_violation(world)
    api.login("amy")
    api.post("/api/v1/violation-rechecks", {"uuid": new_uuid(), "violation_id": violation.id, "result": "rectified"})
    before = (count(ViolationRecheck), count(DecorationEvent))
    late = api.post("/api/v1/violation-rechecks", {"uuid": new_uuid(), "violation_id": violation.id,
                                                   "result": "not_rectified", "note": "又改回去了"})
    assert late.status_code == 409
    assert (count(ViolationRecheck), count(DecorationEvent)) == before
    assert db.session.get(Violation, violation.id).status is ViolationStatus.RECTIFIED


def test_not_rectified_escalates_to_the_supervisor(api, world):
    violation = find_violation(world)
    api.login("amy")
    body = {"uuid": new_uuid(), "violation_id": violation.id, "result": "not_rectified"}
    missing_note = api.post("/api/v1/violation-rechecks", body)
    assert missing_note.status_code == 422 and "note" in missing_note.get_json()["errors"]
    response = api.post("/api/v1/violation-rechecks", {**body, "note": "未拆除"})
    assert response.status_code == 201 and response.get_json()["violation_status"] == "escalated"
    assert db.session.get(Violation, violation.id).status is ViolationStatus.ESCALATED
    assert events("violation_escalated") == 1 and events("recheck_not_rectified") == 1
    assert not db.session.get(type(world["permit"]), world["permit"].id).work_stopped


def test_refused_on_a_serious_violation_stops_the_work(api, world):
    violation = find_violation(world, "DEC-STRUCTURE", "LOAD-WALL")  # urgent: a serious breach
    permit = db.session.get(type(world["permit"]), world["permit"].id)
    assert violation.serious and permit.work_stopped  # stopped on the spot
    permits.resume_work(db.session, world["desk"], permit, "業主承諾整改")
    db.session.commit()
    api.login("amy")
    response = api.post("/api/v1/violation-rechecks", {"uuid": new_uuid(), "violation_id": violation.id,
                                                       "result": "refused", "note": "業主拒絕"})
    assert response.status_code == 201 and response.get_json()["violation_status"] == "escalated"
    permit = db.session.get(type(world["permit"]), world["permit"].id)
    assert permit.work_stopped and events("work_stopped") == 2


# Material entry


def raise_request(world, gate="gate", unit="unit") -> MaterialRequest:
    request = materials.raise_material_request(db.session, world[gate], uuid=new_uuid(), unit_id=world[unit].id,
                                               materials="水泥 10 包", photo_uuid=new_uuid())
    db.session.commit()
    return request


def test_material_requests_are_listed_and_decided_once(api, world):
    request = raise_request(world)
    raise_request(world, "far_gate", "far_unit")
    api.login("amy")
    listed = api.get("/api/v1/material-requests")
    assert listed.status_code == 200
    [item] = listed.get_json()["items"]
    assert item["id"] == request.id and item["uuid"] == request.uuid and item["unit"] == world["unit"].label
    assert (item["materials"], item["status"], item["contractor"]) == ("水泥 10 包", "pending", "好家裝修")
    assert "王業主" not in str(listed.get_json()) and "13911112222" not in str(listed.get_json())

    path = f"/api/v1/material-requests/{request.id}/decision"
    refused = {"uuid": new_uuid(), "approved": False, "reason": ""}
    no_reason = api.post(path, refused)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.PENDING

    approved = {"uuid": new_uuid(), "approved": True}
    first = api.post(path, approved)
    assert first.status_code == 201, first.get_json()
    assert first.get_json() == {"uuid": approved["uuid"], "request_id": request.id, "status": "approved", "reason": ""}
    assert api.post(path, approved).get_json() == first.get_json()
    assert api.post(path, {**approved, "approved": False, "reason": "停工"}).status_code == 409
    assert api.post(path, {**refused, "reason": "太晚"}).status_code == 409  # already decided
    assert db.session.get(MaterialRequest, request.id).status is MaterialStatus.APPROVED
    assert api.get("/api/v1/material-requests").get_json()["items"] == []


# Scope: another estate's steward finds nothing


def test_another_estates_steward_gets_404_everywhere(api, world):
    violation = find_violation(world)
    request = raise_request(world)
    far_request = raise_request(world, "far_gate", "far_unit")
    api.login("amy")
    body = start_body(world["unit"])
    assert api.post("/api/v1/flood-tests", body).status_code == 201
    neighbour = {"uuid": new_uuid(), "units": "1-001", "leak": False}
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check", neighbour).status_code == 201
    recheck = {"uuid": new_uuid(), "violation_id": violation.id, "result": "rectified"}
    assert api.post("/api/v1/violation-rechecks", recheck).status_code == 201
    decision = {"uuid": new_uuid(), "approved": True}
    assert api.post(f"/api/v1/material-requests/{request.id}/decision", decision).status_code == 201
    before = (count(FloodTest), count(ViolationRecheck), count(DecorationEvent))

    api.login("zed")
    assert api.post("/api/v1/flood-tests", start_body(world["unit"])).status_code == 404  # by unit id
    assert api.post("/api/v1/flood-tests", body).status_code == 404  # amy's test uuid re-posted
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/neighbour-check",
                    {"uuid": new_uuid(), "units": "x", "leak": False}).status_code == 404
    assert api.post(f"/api/v1/flood-tests/{body['uuid']}/result",
                    {"uuid": new_uuid(), "passed": False, "note": "x"}).status_code == 404
    assert api.post("/api/v1/violation-rechecks", {**recheck, "uuid": new_uuid()}).status_code == 404  # by id
    assert api.post("/api/v1/violation-rechecks", recheck).status_code == 404  # amy's recheck uuid
    assert api.post(f"/api/v1/material-requests/{request.id}/decision",
                    {"uuid": new_uuid(), "approved": True}).status_code == 404
    assert [i["id"] for i in api.get("/api/v1/material-requests").get_json()["items"]] == [far_request.id]
    # Amy's step UUIDs re-posted on zed's own records.
    own = start_body(world["far_unit"])
    assert api.post("/api/v1/flood-tests", own).status_code == 201
    assert api.post(f"/api/v1/flood-tests/{own['uuid']}/neighbour-check", neighbour).status_code == 404
    assert api.post(f"/api/v1/material-requests/{far_request.id}/decision", decision).status_code == 404
    assert count(ViolationRecheck) == before[1]
    assert db.session.get(MaterialRequest, far_request.id).status is MaterialStatus.PENDING
    assert db.session.scalars(sa.select(FloodTest).where(FloodTest.uuid == own["uuid"])).one().neighbour_uuid is None


def test_a_step_uuid_reused_on_ones_own_other_test_is_a_conflict(api, world):
    api.login("amy")
    first, second = start_body(world["unit"]), start_body(world["unit"], wet_area="kitchen")
    api.post("/api/v1/flood-tests", first)
    api.post("/api/v1/flood-tests", second)
    check = {"uuid": new_uuid(), "units": "1-001", "leak": False}
    assert api.post(f"/api/v1/flood-tests/{first['uuid']}/neighbour-check", check).status_code == 201
    assert api.post(f"/api/v1/flood-tests/{second['uuid']}/neighbour-check", check).status_code == 409


def test_other_roles_may_not_use_the_phone_api(api, world):
    api.login("desk")
    assert api.post("/api/v1/flood-tests", start_body(world["unit"])).status_code == 403
    assert api.get("/api/v1/material-requests").status_code == 403


# Photos of decoration records


def test_a_flood_test_photo_is_uploaded_under_the_test_uuid(api, world):
    api.login("amy")
    body = start_body(world["unit"])
    data = factories.jpeg_bytes()
    # The photo may arrive before the test (the outbox sends what it can).
    first = api.upload(body["photo_uuid"], data, record_uuid=body["uuid"])
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["uuid"] == body["photo_uuid"] and first.get_json()["record_uuid"] == body["uuid"]
    assert first.get_json()["finding_uuid"] is None
    assert api.upload(body["photo_uuid"], data, record_uuid=body["uuid"]).get_json() == first.get_json()
    assert api.post("/api/v1/flood-tests", body).status_code == 201
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == body["photo_uuid"])).one()
    assert (photo.record_uuid, photo.finding_uuid) == (body["uuid"], None)
    # The result photo, after the test arrived, names the test too.
    result_photo = new_uuid()
    assert api.upload(result_photo, factories.jpeg_bytes(color=(0, 0, 200)),
                      record_uuid=body["uuid"]).status_code == 201
    assert api.get(f"/photos/{body['photo_uuid']}/thumb").status_code == 200
    # Under a finding it is another photo: refused.
    assert api.upload(body["photo_uuid"], data, finding_uuid=new_uuid()).status_code == 409

    api.login("desk")
    assert api.get(f"/photos/{body['photo_uuid']}/thumb").status_code == 200
    api.login("zed")
    assert api.upload(new_uuid(), data, record_uuid=body["uuid"]).status_code == 404
    assert api.get(f"/photos/{body['photo_uuid']}/thumb").status_code == 404


def test_a_photo_names_exactly_one_owner(api, world):
    api.login("amy")
    data = factories.jpeg_bytes()
    both = api.upload(new_uuid(), data, finding_uuid=new_uuid(), record_uuid=new_uuid())
    assert both.status_code == 422 and "record_uuid" in both.get_json()["errors"]
    neither = api.upload(new_uuid(), data)
    assert neither.status_code == 422
    assert count(Photo) == 0


# The offline pack and the API document


def test_the_offline_pack_holds_the_stewards_decoration_work(api, world):
    violation = find_violation(world)
    request = raise_request(world)
    raise_request(world, "far_gate", "far_unit")
    now = datetime.now(timezone.utc)
    running = flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                           wet_area=WetArea.BATHROOM, photo_uuid=new_uuid())
    old = flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                       wet_area=WetArea.KITCHEN, photo_uuid=new_uuid(), now=now - timedelta(days=10))
    flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=old.uuid, passed=False,
                               note="漏", now=now - timedelta(days=9))
    db.session.commit()
    api.login("amy")
    pack = api.get("/api/v1/offline-pack").get_json()

    [task] = pack["rechecks"]
    assert task["violation_id"] == violation.id and task["unit_id"] == world["unit"].id
    assert task["notice_number"] == violation.notice_number and task["requirements"] == "恢復原狀"
    assert task["overdue"] is False and len(task["photos"]) == 0  # the breach's photo never arrived
    [unit] = pack["decorating_units"]
    assert (unit["unit_id"], unit["permit_number"], unit["work_stopped"]) == (
        world["unit"].id, world["permit"].number, False)
    assert [t["uuid"] for t in unit["flood_tests"]] == [running.uuid]  # the one ended 9 days ago is gone
    assert unit["flood_tests"][0]["status"] == "running" and unit["flood_tests"][0]["earliest_pass_at"]
    assert [m["id"] for m in pack["materials"]] == [request.id]
    assert "王業主" not in str(pack)

    api.login("zed")
    pack = api.get("/api/v1/offline-pack").get_json()
    assert pack["rechecks"] == [] and [u["unit_id"] for u in pack["decorating_units"]] == [world["far_unit"].id]


def test_the_openapi_document_lists_the_decoration_paths(client):
    doc = client.get("/api/openapi.json").get_json()
    for path in ("/api/v1/flood-tests", "/api/v1/flood-tests/{test_uuid}/neighbour-check",
                 "/api/v1/flood-tests/{test_uuid}/result", "/api/v1/violation-rechecks",
                 "/api/v1/material-requests", "/api/v1/material-requests/{request_id}/decision"):
        assert path in doc["paths"], path
    upload = doc["paths"]["/api/v1/photos/{uuid}"]["put"]
    assert "record_uuid" in str(upload)
