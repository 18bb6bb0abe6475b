"""The decoration services' world (test_permits, test_daily_checks_and_violations, test_flood_tests,
test_materials; the other modules here build their own)."""
from __future__ import annotations

import pytest

from app.models import Role, UnitState, VacancyReason

from tests import factories


@pytest.fixture
def world(app):
    w = factories.build_world(buildings={"b1": "1棟", "b2": "2棟"}, other=True, people={
        "amy": (Role.STEWARD, "b1"), "bob": (Role.STEWARD, "b2"), "zed": (Role.STEWARD, "other"),
        "desk": (Role.DESK, "estate"), "boss": (Role.SUPERVISOR, "estate"), "gate": (Role.GATE, "estate")})
    w.add_unit("unit", "b1", "1-601", state=UnitState.VACANT, vacancy_reason=VacancyReason.UNSOLD)
    w.add_unit("below", "b1", "1-501")
    return w
