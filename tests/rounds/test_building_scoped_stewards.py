"""A steward assigned to some buildings of an estate, beside an estate-wide one: the other steward's
round in progress is not theirs to resume; a round they walked offline is accepted after its unit
changed state, but never outside their buildings."""
from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timezone

import pytest

from app import refusals
from app.extensions import db
from app.models import Role, RoundKind, UnitState
from app.rounds import intake, schedule

from tests import factories


@pytest.fixture
def world(app):
    return factories.build_world(buildings={"b1": None, "b2": None}, floors=1, stairwells=True, people={
        "amy": (Role.STEWARD, "b1"), "bob": (Role.STEWARD, "estate"), "desk_b1": (Role.DESK, "b1")})


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
