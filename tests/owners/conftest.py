"""The owners' world: an estate with one building (a stairwell, 6 floors), a unit, a garage; its desk
and steward; stairwell codes made."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import PublicArea, PublicAreaKind, Role
from app.owners import codes

from tests import factories


@pytest.fixture
def world(app) -> factories.World:
    w = factories.build_world(floors=6, stairwells=True, other=True)
    w["building"].entrances[0].highest_floor = 6
    w.add_person("steward", Role.STEWARD, "estate", username="amy")
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("far_desk", Role.DESK, "other")
    w.add_unit("home", "building", "1-101")
    db.session.add(PublicArea(estate_id=w["estate"].id, kind=PublicAreaKind.GARAGE, name="地下車庫"))
    db.session.flush()
    codes.ensure_codes(db.session, w["estate"], "entrance")
    return w.save()
