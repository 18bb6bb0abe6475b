"""A round through the phone's API: start, plan, complete (idempotent, all or nothing), started
only in the steward's buildings; every kind of round can be walked."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Finding,
    FindingResult,
    Role,
    Round,
    RoundStatus,
)
from app.models.base import new_uuid

from tests import factories
from tests.rounds.intake_helpers import all_fine, finding_count, start_corridor


def test_start_is_idempotent_by_uuid(api, world):
    api.login("amy")
    body, first = start_corridor(api, world)
    assert first.status_code == 201
    again = api.post("/api/v1/rounds", body)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 1
    assert first.get_json()["status"] == "in_progress"


def test_same_uuid_for_another_place_is_a_conflict(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    other = dict(body, kind="facility", building_id=None)
    response = api.post("/api/v1/rounds", other)
    assert response.status_code == 409
    assert set(response.get_json()) == {"code", "message", "errors"}


def test_a_round_in_an_estate_not_assigned_is_refused_clearly(api, world):
    api.login("bob")
    _, response = start_corridor(api, world)
    assert response.status_code == 404
    assert "not on your rounds" in response.get_json()["message"] or response.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


def test_someone_elses_round_uuid_is_404(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    api.auth.logout()
    api.login("bob")
    assert api.get(f"/api/v1/rounds/{body['uuid']}").status_code == 404
    assert api.post("/api/v1/rounds", body).status_code == 404


def test_plan_walks_stairwell_and_floor(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    keys = [c["key"] for c in plan["checkpoints"]]
    entrance_id = world["building"].entrances[0].id
    assert keys == [f"entrance:{entrance_id}", f"floor:{entrance_id}:1", f"floor:{entrance_id}:2"]
    floor_items = plan["checkpoints"][1]["items"]
    assert "COR-LIGHT" in floor_items and "COR-HYGIENE" in floor_items
    light = next(i for i in plan["items"] if i["code"] == "COR-LIGHT")
    assert light["label"]["zh_Hant"] and light["reasons"] and light["route"] == "engineering"


def test_complete_all_fine_then_repeat_then_conflict(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    completion = {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": all_fine(plan)}
    done = api.post(f"/api/v1/rounds/{body['uuid']}/completion", completion)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["status"] == "completed"
    assert done.get_json()["findings"] == len(completion["findings"])

    again = api.post(f"/api/v1/rounds/{body['uuid']}/completion", completion)
    assert again.status_code == 201 and again.get_json() == done.get_json()

    changed = dict(completion, findings=[dict(completion["findings"][0], result="not_applicable"),
                                         *completion["findings"][1:]])
    conflict = api.post(f"/api/v1/rounds/{body['uuid']}/completion", changed)
    assert conflict.status_code == 409
    stored = db.session.scalars(sa.select(Finding).where(Finding.uuid == completion["findings"][0]["uuid"])).one()
    assert stored.result is FindingResult.FINE


def corridor_plan(api, world) -> dict:
    """The plan of the world's corridor round, read from a probe round (as the phone's pack has it)."""
    body, _ = start_corridor(api, world)
    return api.get(f"/api/v1/rounds/{body['uuid']}").get_json()


def rounds_stored() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Round))


def test_start_and_completion_in_one_request(api, world):
    """A round walked offline: its start rides with its completion, stored in one transaction;
    a resend (with or without the start) answers the same."""
    api.login("amy")
    plan = corridor_plan(api, world)
    round_uuid = new_uuid()
    start = {"kind": "corridor", "estate_id": world["estate"].id, "building_id": world["building"].id,
             "started_at": datetime.now(timezone.utc).isoformat()}
    completion = {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": all_fine(plan)}
    done = api.post(f"/api/v1/rounds/{round_uuid}/completion", dict(completion, start=start))
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["uuid"] == round_uuid and done.get_json()["status"] == "completed"
    assert done.get_json()["findings"] == len(completion["findings"])
    stored = db.session.scalars(sa.select(Round).where(Round.uuid == round_uuid)).one()
    assert stored.building_id == world["building"].id and len(stored.findings) == len(completion["findings"])

    again = api.post(f"/api/v1/rounds/{round_uuid}/completion", dict(completion, start=start))
    alone = api.post(f"/api/v1/rounds/{round_uuid}/completion", completion)
    assert again.status_code == alone.status_code == 201
    assert again.get_json() == alone.get_json() == done.get_json()
    assert rounds_stored() == 2 and finding_count() == len(completion["findings"])


def test_a_start_sent_before_its_completion_still_counts(api, world):
    api.login("amy")
    plan = corridor_plan(api, world)
    body, started = start_corridor(api, world)
    start = {k: v for k, v in body.items() if k != "uuid"}
    done = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": all_fine(plan), "start": start})
    assert done.status_code == 201 and done.get_json()["started_at"] == started.get_json()["started_at"]


@pytest.mark.parametrize("case", ["unanswered", "other_place", "not_in_scope", "bad_start"])
def test_a_refused_start_and_completion_stores_nothing(api, world, case):
    api.login("amy")
    plan = corridor_plan(api, world)
    round_uuid = new_uuid()
    start = {"kind": "corridor", "estate_id": world["estate"].id, "building_id": world["building"].id}
    findings = all_fine(plan)
    expected = 422
    if case == "unanswered":
        findings = findings[:-3]
    elif case == "other_place":  # the UUID was started elsewhere before: the start conflicts
        api.post("/api/v1/rounds", {"uuid": round_uuid, "kind": "facility", "estate_id": world["estate"].id})
        expected = 409
    elif case == "not_in_scope":
        start["estate_id"] = world["stranger"].estates[0].id
        expected = 404
    else:
        start["kind"] = "sightseeing"
    before = (rounds_stored(), finding_count())
    response = api.post(f"/api/v1/rounds/{round_uuid}/completion", {"findings": findings, "start": start})
    assert response.status_code == expected, response.get_json()
    assert set(response.get_json()) == {"code", "message", "errors"}
    assert (rounds_stored(), finding_count()) == before
    assert db.session.scalars(sa.select(Round).where(Round.status == RoundStatus.COMPLETED)).first() is None


def test_another_stewards_round_uuid_with_a_start_is_404(api, world):
    api.login("amy")
    plan = corridor_plan(api, world)
    body, _ = start_corridor(api, world)
    api.auth.logout()
    api.login("bob")
    start = {k: v for k, v in body.items() if k != "uuid"}
    response = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": all_fine(plan), "start": start})
    assert response.status_code == 404
    assert finding_count() == 0


def test_unanswered_required_items_are_refused_and_nothing_is_stored(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    response = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": all_fine(plan)[:-3]})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "unanswered" in errors and len(errors["unanswered_items"]) >= 1
    assert finding_count() == 0
    assert db.session.scalars(sa.select(Round)).one().status is RoundStatus.IN_PROGRESS


def defect_on_light(plan, **extra):
    findings = all_fine(plan)
    light = next(f for f in findings if f["item_code"] == "COR-LIGHT")
    light.update(result="defect", **extra)
    return findings, light


def test_a_defect_needs_a_reason_and_its_required_photo(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    findings, light = defect_on_light(plan)
    response = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": findings})
    assert response.status_code == 422
    index = findings.index(light)
    errors = response.get_json()["errors"]
    assert f"findings.{index}.reason" in errors and f"findings.{index}.photos" in errors
    assert finding_count() == 0

    light.update(reason_code="LIGHT-OFF", photo_uuids=[new_uuid()], action_code=None, note="3樓東側")
    ok = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": findings})
    assert ok.status_code == 201, ok.get_json()
    stored = db.session.scalars(sa.select(Finding).where(Finding.uuid == light["uuid"])).one()
    assert stored.result is FindingResult.DEFECT and stored.reason_code == "LIGHT-OFF" and stored.note == "3樓東側"
    assert [p.uuid for p in stored.photos] == light["photo_uuids"]
    assert stored.photos[0].status.value == "pending"


def test_bad_json_gets_field_errors(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    response = api.post(f"/api/v1/rounds/{body['uuid']}/completion",
                        {"findings": [{"uuid": "nope", "checkpoint": "x", "item_code": "Y", "result": "great"}]})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "findings.0.uuid" in errors and "findings.0.result" in errors


def test_openapi_document_is_generated_from_the_code(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/rounds", "/api/v1/rounds/{uuid}", "/api/v1/rounds/{uuid}/completion",
                 "/api/v1/photos/{uuid}", "/api/v1/findings/{uuid}/amendments"):
        assert path in doc["paths"], path
    assert "FindingIn" in doc["components"]["schemas"]


def test_api_without_login_is_401_json(client):
    response = client.post("/api/v1/rounds", json={})
    assert response.status_code in (400, 401)
    assert set(response.get_json()) == {"code", "message", "errors"}


@pytest.fixture
def demo(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    return db.session.scalars(sa.select(factories.Estate)).one()


def answers_for(plan) -> list[dict]:
    """Everything fine, every meter read (a little above its last reading)."""
    items = {i["code"]: i for i in plan["items"]}
    findings = []
    for c in plan["checkpoints"]:
        for code in c["items"]:
            f = {"uuid": new_uuid(), "checkpoint": c["key"], "item_code": code, "result": "fine"}
            if items[code]["type"] == "reading":
                f["reading_value"] = "12.5"
            findings.append(f)
    return findings


@pytest.mark.parametrize("kind", ["corridor", "facility", "vacant_unit", "decoration", "meter"])
def test_every_kind_of_round_can_be_walked_and_completed(api, demo, kind):
    from app.models import User
    from app.rounds import schedule

    steward = db.session.scalars(sa.select(User).where(User.username == "steward1")).one()
    target = next(t for t in schedule.targets_for(db.session, steward, demo) if t.kind.value == kind)
    api.login("steward1", "xuncha-demo")
    body = {"uuid": new_uuid(), "kind": kind, "estate_id": demo.id,
            "building_id": target.building.id if target.building else None,
            "unit_id": target.unit.id if target.unit else None}
    assert api.post("/api/v1/rounds", body).status_code == 201
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    applies = {c["applies_to"] for c in plan["checkpoints"]}
    expected = {
        "corridor": {"entrance", "floor"},
        "facility": {"estate", "road", "greenery", "playground", "shopfront", "garage", "entrance", "elevator"},
        "vacant_unit": {"unit"}, "decoration": {"unit"}, "meter": {"meter"},
    }[kind]
    assert applies == expected
    response = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": answers_for(plan)})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["findings"] == sum(len(c["items"]) for c in plan["checkpoints"])


@pytest.mark.parametrize(("assigned", "target", "status"), [
    ("estate", "building", 201),        # estate-wide: every building of the estate
    ("estate", "neighbour", 201),
    ("building", "building", 201),      # one building: that one only
    ("building", "neighbour", 404),
    ("both", "neighbour", 404),         # buildings named: they narrow the estate-wide assignment
    ("estate", "elsewhere", 404),       # a building of another estate, named with this estate
])
def test_a_corridor_round_starts_only_in_the_stewards_buildings(world, api, assigned, target, status):
    estate, building = world["estate"], world["building"]
    places = dict(building=building, neighbour=factories.building(estate, name="2棟"),
                  elsewhere=factories.building(factories.estate(), name="9棟"))
    factories.user(Role.STEWARD, username="cleo", estates=[estate] if assigned in ("estate", "both") else [],
                   buildings=[building] if assigned in ("building", "both") else [])
    db.session.commit()
    api.login("cleo")
    response = api.post("/api/v1/rounds", {"uuid": new_uuid(), "kind": "corridor", "estate_id": estate.id,
                                           "building_id": places[target].id})
    assert response.status_code == status, response.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == (1 if status == 201 else 0)
