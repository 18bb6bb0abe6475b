"""Fixtures of the rounds' tests."""
from __future__ import annotations

import pytest

from app.models import MeterKind, Role, UnitState

from tests import factories
from tests.rounds.schedule_helpers import Site


@pytest.fixture
def site(app) -> Site:
    """One estate (Asia/Shanghai) with two buildings, 1棟 and 2棟, and a steward of the whole estate."""
    w = factories.build_world(estate="花園小區", buildings={"b1": "1棟", "b2": "2棟"},
                              people={"steward": (Role.STEWARD, "estate")})
    return Site(w["estate"], w["b1"], w["b2"], w["steward"])


@pytest.fixture
def world(app):
    """The intake's world (test_intake.py, test_readings_and_amendments.py; the other modules here build
    their own): building 1棟 of two floors with one stairwell, its vacant unit 1-101 with a water meter,
    steward amy of the whole estate; a second estate with a building and its steward bob ("stranger")."""
    w = factories.build_world(buildings={"building": "1棟"}, floors=2, stairwells=True, other=True)
    w.add_unit("vacant", "building", "1-101", state=UnitState.VACANT)
    w["meter"] = factories.meter(w["estate"], w["building"], w["vacant"], MeterKind.WATER)
    w.add_person("steward", Role.STEWARD, "estate", username="amy")
    w.add_person("stranger", Role.STEWARD, "other", username="bob")
    w.add_building("other_building", "other")
    return w
