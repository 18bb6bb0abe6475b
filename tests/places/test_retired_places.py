"""A retired place is walked no more: it leaves the due rounds and new rounds' plans, while a round
started before it was retired keeps it (its plan, summary and findings stay as they were)."""
from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from app.models import Role, RoundKind, UnitState
from app.models.base import utcnow
from app.rounds import schedule
from app.rounds.plan import build_plan

from .. import factories


def test_a_retired_unit_and_building_are_no_longer_due(app):
    estate = factories.estate()
    kept, retired_building = factories.building(estate), factories.building(estate)
    vacant = factories.unit(kept, "101", state=UnitState.VACANT)
    steward = factories.user(Role.STEWARD, estates=[estate])
    targets = {(t.kind, t.building.id if t.building else None, t.unit.id if t.unit else None)
               for t in schedule.targets_for(db.session, steward, estate)}
    assert (RoundKind.VACANT_UNIT, kept.id, vacant.id) in targets
    assert (RoundKind.CORRIDOR, retired_building.id, None) in targets
    vacant.retired_at = retired_building.retired_at = utcnow()
    db.session.flush()
    targets = {(t.kind, t.building.id if t.building else None, t.unit.id if t.unit else None)
               for t in schedule.targets_for(db.session, steward, estate)}
    assert (RoundKind.VACANT_UNIT, kept.id, vacant.id) not in targets
    assert (RoundKind.CORRIDOR, retired_building.id, None) not in targets
    assert (RoundKind.CORRIDOR, kept.id, None) in targets
    estate.retired_at = utcnow()
    assert schedule.targets_for(db.session, steward, estate) == []


def test_a_round_started_before_a_stairwell_was_retired_keeps_it(app):
    estate = factories.estate()
    building = factories.building(estate, floors=2)
    first, second = factories.entrance(building, "1梯"), factories.entrance(building, "2梯")
    steward = factories.user(Role.STEWARD, estates=[estate])
    earlier = factories.round_(RoundKind.CORRIDOR, steward, estate, date(2026, 11, 3), building_=building)
    second.retired_at = earlier.started_at + timedelta(minutes=5)
    later = factories.round_(RoundKind.CORRIDOR, steward, estate, date(2026, 11, 10), building_=building,
                             completed=False)
    later.started_at = second.retired_at + timedelta(days=7)
    db.session.flush()
    assert {p.entrance_id for p in build_plan(db.session, earlier).checkpoints} == {first.id, second.id}
    assert {p.entrance_id for p in build_plan(db.session, later).checkpoints} == {first.id}
