"""Scope and integrity rules found in review: building-scoped staff, amendments that keep what
they do not mention, rounds in progress of others, offline starts after a unit changed state."""
from __future__ import annotations

import io
import json
import uuid as uuidlib
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app import refusals
from app.extensions import db
from app.models import Finding, FindingResult, MeterKind, Role, RoundKind, UnitState
from app.rounds import intake, schedule

from . import factories


@pytest.fixture
def world(app):
    estate = factories.estate()
    b1, b2 = factories.building(estate, floors=1), factories.building(estate, floors=1)
    factories.entrance(b1)
    factories.entrance(b2)
    amy = factories.user(Role.STEWARD, username="amy", buildings=[b1])
    bob = factories.user(Role.STEWARD, username="bob", estates=[estate])
    factories.user(Role.DESK, username="desk-b1", buildings=[b1])
    return dict(estate=estate, b1=b1, b2=b2, amy=amy, bob=bob)


def test_building_scoped_desk_sees_only_its_buildings_rounds(client, auth, world):
    mine = factories.finding_with_photo(world["amy"], world["estate"], world["b1"])
    theirs = factories.finding_with_photo(world["bob"], world["estate"], world["b2"])
    auth.login("desk-b1")
    assert client.get(f"/rounds/{mine.round.uuid}").status_code == 200
    assert client.get(f"/rounds/{theirs.round.uuid}").status_code == 404
    assert client.get(f"/api/v1/rounds/{theirs.round.uuid}").status_code == 404
    assert client.get(f"/photos/{theirs.photos[0].uuid}/thumb").status_code == 404
    listing = client.get("/desk/findings").get_data(as_text=True)
    assert mine.uuid in listing and theirs.uuid not in listing


def test_an_amendment_keeps_what_it_does_not_mention(app, world):
    steward, estate, b1 = world["amy"], world["estate"], world["b1"]
    meter = factories.meter(estate, b1, kind=MeterKind.WATER)
    rnd = factories.round_(RoundKind.METER, steward, estate, date(2026, 11, 3), building_=b1)
    item = next(i for i in rnd.checklist_version.items if i.code == "MTR-WATER")
    finding = Finding(uuid=str(uuidlib.uuid4()), round=rnd, item=item, meter_id=meter.id, result=FindingResult.FINE,
                      reading_value=Decimal("321.50"), note="表在樓梯間", recorded_at=datetime.now(timezone.utc))
    db.session.add(finding)
    db.session.flush()
    intake.amend_finding(db.session, steward, finding.uuid, result=FindingResult.FINE, why="補充", note="表在1樓樓梯間")
    assert finding.current.reading_value == Decimal("321.50") and finding.current.note == "表在1樓樓梯間"
    from app.rounds.plan import reading_history

    assert [v for _, v in reading_history(db.session, [meter.id])[meter.id]] == [Decimal("321.50")]


def test_another_stewards_round_in_progress_is_not_offered_to_resume(app, world):
    estate, b1 = world["estate"], world["b1"]
    today = schedule.local_date(estate, datetime.now(timezone.utc))
    factories.round_(RoundKind.CORRIDOR, world["bob"], estate, today, building_=b1, completed=False)
    amy_view = [d for d in schedule.due_rounds(db.session, world["amy"]) if d.kind is RoundKind.CORRIDOR]
    assert amy_view and amy_view[0].round_in_progress is None
    bob_view = [d for d in schedule.due_rounds(db.session, world["bob"])
                if d.kind is RoundKind.CORRIDOR and d.target.building.id == b1.id]
    assert bob_view[0].round_in_progress is not None


def test_a_round_walked_offline_is_accepted_after_the_unit_stopped_decorating(app, world):
    unit = factories.unit(world["b1"], "1-101", state=UnitState.DECORATING)
    unit.state = UnitState.OCCUPIED  # the desk accepted the decoration before the phone synced
    rnd = intake.start_round(db.session, world["amy"], uuid=str(uuidlib.uuid4()), kind=RoundKind.DECORATION,
                             estate_id=world["estate"].id, unit_id=unit.id)
    assert rnd.building_id == world["b1"].id
    with pytest.raises(refusals.NotFound):  # but never outside the steward's buildings
        other = factories.unit(world["b2"], "2-101", state=UnitState.DECORATING)
        intake.start_round(db.session, world["amy"], uuid=str(uuidlib.uuid4()), kind=RoundKind.DECORATION,
                           estate_id=world["estate"].id, unit_id=other.id)


def test_import_of_a_malformed_entry_is_reported_not_a_crash(client, auth, world):
    auth.login("desk-b1")
    document = {"format": "xuncha-unsynced-work/1", "user_id": world["amy"].id, "entries": ["junk", 7], "photos": []}
    response = client.post("/desk/import", content_type="multipart/form-data",
                           data={"csrf_token": auth.csrf(), "file": (io.BytesIO(json.dumps(document).encode()), "w.json")})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("field-error") == 2


def test_import_accepts_files_larger_than_one_photo(app, client, auth, world):
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024  # far below a day's export
    auth.login("desk-b1")
    document = {"format": "xuncha-unsynced-work/1", "user_id": world["amy"].id, "entries": [],
                "photos": [], "padding": "x" * (300 * 1024)}  # under the test client's 500 KB spool
    response = client.post("/desk/import", content_type="multipart/form-data",
                           data={"csrf_token": auth.csrf(), "file": (io.BytesIO(json.dumps(document).encode()), "w.json")})
    assert response.status_code == 200
