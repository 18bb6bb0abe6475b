"""The desk review's world: two estates, ours (翠湖花園, two buildings of three floors) and theirs,
their stewards, our desk and a supervisor of both."""
from __future__ import annotations

import pytest

from app.models import Role

from tests import factories


@pytest.fixture
def world(app):
    w = factories.World()
    w.add_estate("mine", "翠湖花園")
    w.add_building("b1", "mine", "1棟", floors=3, stairwell=True)
    w.add_building("b2", "mine", "2棟", floors=3, stairwell=True)
    w.add_estate("theirs", "別人花園")
    w.add_building("tb", "theirs", "9棟", floors=3, stairwell=True)
    w.add_person("amy", Role.STEWARD, "mine", display_name="管家甲")
    w.add_person("bob", Role.STEWARD, "mine", display_name="管家乙")
    w.add_person("zed", Role.STEWARD, "theirs", display_name="管家丙")
    w.add_person("desk", Role.DESK, "mine", display_name="前台甲")
    w.add_person("sup", Role.SUPERVISOR, "mine", "theirs")
    return w
