"""The complaints' world: the usual estate (one building with a stairwell), its steward amy, the desk,
a supervisor, and a second estate with its desk."""
from __future__ import annotations

import pytest

from app.models import Role

from tests import factories


@pytest.fixture
def world(app) -> factories.World:
    w = factories.build_world(floors=3, stairwells=True, other=True)
    w.add_person("steward", Role.STEWARD, "estate", username="amy")
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("boss", Role.SUPERVISOR, "estate")
    w.add_person("far_desk", Role.DESK, "other")
    w.add_unit("home", "building", "1-101")
    return w.save()
