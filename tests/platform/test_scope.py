"""A user's building scope, one rule in two forms: `User.covers_building` asks about one building,
`User.covered_buildings` is the same rule as a query condition (for lists limited in SQL)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Building, Role

from tests import factories


@pytest.fixture
def estates(app):
    w = factories.World()
    here, there = w.add_estate("here", "此處"), w.add_estate("there", "別處")
    for estate, name in (("here", "1棟"), ("here", "2棟"), ("there", "別1棟"), ("there", "別2棟")):
        w.add_building(name, estate, name)
    db.session.flush()
    return here, there, {name: w[name] for name in ("1棟", "2棟", "別1棟", "別2棟")}


ASSIGNMENTS = {  # estate-wide, buildings -> the buildings covered
    "estate-wide": (["here"], [], {"1棟", "2棟"}),
    "one building": ([], ["1棟"], {"1棟"}),
    "estate-wide and one of its buildings": (["here"], ["2棟"], {"2棟"}),
    "a building here, another estate wide": (["there"], ["1棟"], {"1棟", "別1棟", "別2棟"}),
    "both estates wide": (["here", "there"], [], {"1棟", "2棟", "別1棟", "別2棟"}),
    "nothing": ([], [], set()),
}


@pytest.mark.parametrize("case", ASSIGNMENTS)
@pytest.mark.parametrize("role", [Role.STEWARD, Role.DESK, Role.GATE])
def test_the_question_and_the_query_agree(estates, case, role):
    here, there, buildings = estates
    wide, own, expected = ASSIGNMENTS[case]
    user = factories.user(role, estates=[{"here": here, "there": there}[e] for e in wide],
                          buildings=[buildings[b] for b in own])
    asked = {name for name, b in buildings.items() if user.covers_building(b)}
    queried = set(db.session.scalars(sa.select(Building.name).where(user.covered_buildings())))
    assert asked == queried == expected


@pytest.mark.parametrize("case", ASSIGNMENTS)
def test_a_records_place_is_covered_alike_by_the_question_and_the_query(estates, case):
    """Records of a building follow the building rule; the estate's own (no building) need the estate."""
    here, there, buildings = estates
    wide, own, _ = ASSIGNMENTS[case]
    user = factories.user(Role.DESK, estates=[{"here": here, "there": there}[e] for e in wide],
                          buildings=[buildings[b] for b in own])
    places = [(b.estate_id, b) for b in buildings.values()] + [(here.id, None), (there.id, None)]
    rows = sa.union_all(*(  # a table of places, one row each (SQLite has no VALUES with column names)
        sa.select(sa.literal(n, sa.Integer).label("n"),
                  sa.literal(b.id if b else None, sa.Integer).label("building_id"),
                  sa.literal(estate_id, sa.Integer).label("estate_id"))
        for n, (estate_id, b) in enumerate(places))).subquery("place")
    queried = set(db.session.scalars(sa.select(rows.c.n).where(user.covered_places(rows.c.building_id,
                                                                                    rows.c.estate_id))))
    asked = {n for n, (estate_id, b) in enumerate(places) if user.covers_place(estate_id, b)}
    assert asked == queried
    assert (len(places) - 2 in asked) is ("here" in wide)  # the estate's own: only for those assigned to it
