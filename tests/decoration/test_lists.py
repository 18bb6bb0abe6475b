"""The lists of the decoration and gate pages (app/decoration/lists.py), read without a request, and
the step-UUID rule the service applies for every caller (phone, desk's import, web page)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from app import refusals
from app.decoration import flood_tests, lists, materials, permits, violations
from app.extensions import db
from app.models import (
    MaterialStatus,
    PermitStatus,
    Role,
    UnitState,
    Violation,
    ViolationStatus,
    WetArea,
)
from app.models.base import new_uuid

from tests import factories

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Asia/Shanghai


@pytest.fixture
def world(app):
    w = factories.build_world(buildings={"b1": "1棟", "b2": "2棟"}, other=True, people={
        "amy": (Role.STEWARD, "b1"), "zed": (Role.STEWARD, "other"), "desk": (Role.DESK, "estate"),
        "b2_desk": (Role.DESK, "b2"), "far_desk": (Role.DESK, "other"), "gate": (Role.GATE, "estate"),
        "far_gate": (Role.GATE, "other"), "nobody": (Role.DESK,)})
    for key, building, room in (("a", "b1", "1-601"), ("b", "b1", "1-201"), ("c", "b2", "2-101"),
                                ("idle", "b1", "1-301")):
        w.add_unit(key, building, room)
    w.add_building("far_building", "other", "遠1棟")
    w.add_unit("far", "far_building", "F-101")
    w["permits"] = {k: register(w["far_desk"] if k == "far" else w["desk"], w[k]) for k in ("a", "b", "c", "far")}
    return w


def register(desk, unit, now=NOW):
    return factories.permit(desk, unit, now=now)


def ask(world, unit, *, gate="gate", now=NOW):
    return materials.raise_material_request(db.session, world[gate], uuid=new_uuid(), unit_id=unit.id,
                                            materials="瓷磚 20 箱", photo_uuid=new_uuid(), now=now)


def test_active_registrations_by_building_and_room_within_the_users_buildings(world):
    p = world["permits"]
    assert lists.active_permits(db.session, world["desk"]) == [p["b"], p["a"], p["c"]]
    assert lists.active_permits(db.session, world["b2_desk"]) == [p["c"]]
    assert lists.active_permits(db.session, world["amy"]) == [p["b"], p["a"]]
    assert lists.active_permits(db.session, world["nobody"]) == []


def test_units_free_to_register_leave_out_the_decorating_ones(world):
    free = lists.units_free_to_register(db.session, world["desk"])
    assert world["idle"] in free and not {world["a"], world["b"], world["c"], world["far"]} & set(free)
    assert lists.units_free_to_register(db.session, world["nobody"]) == []


def test_a_building_scoped_desk_is_offered_only_its_buildings_units(world):
    spare = factories.unit(world["b2"], "2-102")
    # Not 1棟's idle unit, which the registration itself would refuse.
    assert lists.units_free_to_register(db.session, world["b2_desk"]) == [spare]


def test_open_violations_nearest_deadline_first_and_overdue_by_the_estates_day(world):
    due_today, later, fresh = (
        Violation(estate_id=world["estate"].id, unit_id=world[k].id, permit=world["permits"][k], summary=k,
                  found_by_id=world["amy"].id, found_at=NOW, status=ViolationStatus.STOPPED) for k in ("a", "b", "c"))
    db.session.add_all([due_today, later, fresh])
    db.session.flush()
    violations.issue_notice(db.session, world["desk"], later, deadline=date(2026, 11, 26), requirements="", now=NOW)
    violations.issue_notice(db.session, world["desk"], due_today, deadline=date(2026, 11, 24), requirements="", now=NOW)
    assert lists.open_violations(db.session, world["desk"]) == [due_today, later, fresh]
    assert lists.open_violations(db.session, world["b2_desk"]) == [fresh]
    assert lists.overdue([due_today, later, fresh], NOW) == set()  # the deadline day is not late yet
    assert lists.overdue([due_today, later, fresh], NOW + timedelta(days=1)) == {due_today.id}


def test_recently_completed_newest_first_and_a_units_registrations_newest_first(world):
    p = world["permits"]
    for k, days in (("a", 1), ("b", 2)):
        permits.accept(db.session, world["desk"], p[k], passed=True, note="", now=NOW + timedelta(days=days),
                       return_state=UnitState.OCCUPIED)
    assert lists.recently_completed(db.session, world["desk"]) == [p["b"], p["a"]]
    assert lists.recently_completed(db.session, world["b2_desk"]) == []
    again = register(world["desk"], world["a"])
    assert again.status is PermitStatus.ACTIVE
    assert lists.unit_permits(db.session, world["a"]) == [again, p["a"]]


def test_recently_completed_is_full_for_a_building_scoped_user_when_other_buildings_finished_later(world):
    count = lists.RECENTLY_COMPLETED
    b2_units = [factories.unit(world["b2"], f"2-{n}") for n in range(201, 201 + count)]
    b1_units = [factories.unit(world["b1"], f"1-{n}") for n in range(701, 701 + count)]
    for n, unit in enumerate(b2_units + b1_units):  # 1棟's finish after all of 2棟's
        permit = register(world["desk"], unit)
        permits.accept(db.session, world["desk"], permit, passed=True, note="", now=NOW + timedelta(hours=n),
                       return_state=UnitState.OCCUPIED)
    seen = lists.recently_completed(db.session, world["b2_desk"])
    assert len(seen) == lists.RECENTLY_COMPLETED and {p.unit for p in seen} == set(b2_units)


def test_the_gate_sees_today_and_what_still_waits_newest_first(world):
    yesterday_decided = ask(world, world["a"], now=NOW - timedelta(days=1))
    materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=yesterday_decided.id,
                              approved=True, now=NOW - timedelta(days=1))
    yesterday_waiting = ask(world, world["b"], now=NOW - timedelta(days=1))
    today = ask(world, world["c"], now=NOW)
    ask(world, world["far"], gate="far_gate", now=NOW)
    assert lists.gate_requests(db.session, world["gate"], NOW) == [today, yesterday_waiting]
    assert lists.gate_requests(db.session, world["nobody"], NOW) == []
    assert lists.permit_materials(db.session, world["permits"]["b"]) == [yesterday_waiting]
    b2_gate = factories.user(Role.GATE, username="b2-gate", buildings=[world["b2"]])
    assert lists.gate_requests(db.session, b2_gate, NOW) == [today]  # not 1棟's


def test_material_destinations_by_building_and_room(world):
    p = world["permits"]
    assert lists.material_destinations(db.session, world["gate"]) == [p["b"], p["a"], p["c"]]
    assert lists.material_destinations(db.session, world["far_gate"]) == [p["far"]]


def test_requests_to_settle_split_refused_and_escalated_in_the_order_decided(world):
    first, second = ask(world, world["a"]), ask(world, world["b"])
    for request, minutes in ((second, 1), (first, 2)):
        materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=request.id, approved=False,
                                  reason="超出登記範圍", now=NOW + timedelta(minutes=minutes))
    assert lists.requests_to_settle(db.session, world["desk"]).refused == [second, first]
    materials.settle_material(db.session, world["desk"], first, escalate=True, note="業主不同意", now=NOW)
    waiting = lists.requests_to_settle(db.session, world["desk"])
    assert (waiting.refused, waiting.escalated) == ([second], [first])
    assert first.status is MaterialStatus.ESCALATED
    assert lists.requests_to_settle(db.session, world["b2_desk"]) == \
        lists.RequestsToSettle([], [])


# The step-UUID rule: the same answers whoever calls the service.


def test_a_step_uuid_of_a_record_outside_ones_units_is_not_found_and_ones_own_a_conflict(world):
    amy_test = flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["a"].id,
                                            wet_area=WetArea.BATHROOM, photo_uuid=new_uuid(), now=NOW)
    step = new_uuid()
    flood_tests.check_neighbours(db.session, world["amy"], uuid=step, flood_test_uuid=amy_test.uuid, units="1-501",
                                 leak=False, now=NOW)
    zed_test = flood_tests.start_flood_test(db.session, world["zed"], uuid=new_uuid(), unit_id=world["far"].id,
                                            wet_area=WetArea.BATHROOM, photo_uuid=new_uuid(), now=NOW)
    with pytest.raises(refusals.NotFound):
        flood_tests.check_neighbours(db.session, world["zed"], uuid=step, flood_test_uuid=zed_test.uuid, units="F-1",
                                     leak=False, now=NOW)
    assert zed_test.neighbour_uuid is None
    other = flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["a"].id,
                                         wet_area=WetArea.KITCHEN, photo_uuid=new_uuid(), now=NOW)
    with pytest.raises(refusals.Conflict):
        flood_tests.check_neighbours(db.session, world["amy"], uuid=step, flood_test_uuid=other.uuid, units="1-501",
                                     leak=False, now=NOW)

    amy_request, zed_request = ask(world, world["a"]), ask(world, world["far"], gate="far_gate")
    decision = new_uuid()
    materials.decide_material(db.session, world["amy"], uuid=decision, request_id=amy_request.id, approved=True,
                              now=NOW)
    with pytest.raises(refusals.NotFound):
        materials.decide_material(db.session, world["zed"], uuid=decision, request_id=zed_request.id,
                                  approved=True, now=NOW)
    assert zed_request.status is MaterialStatus.PENDING
