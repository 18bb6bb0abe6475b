"""Whose rounds: a steward's targets by estate and building, vacant and decorating units as their
state changes, meter rounds per metered building and for the estate's meters (calendar and
helpers: schedule_helpers.py)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import MeterKind, Role, UnitState
from app.rounds.schedule import (
    Target,
    due_for_estate,
    due_rounds,
    meter_targets,
    targets_for,
)

from tests import factories
from tests.rounds.schedule_helpers import (
    CORRIDOR,
    DECORATION,
    DUE,
    FACILITY,
    METER,
    OVERDUE,
    VACANT,
    d,
    due,
    only,
    place,
    places,
    utc,
)


# --------------------------------------------------------------------------- scope


@pytest.fixture
def scoped(site):
    """Site plus a vacant unit and meters in each building, and an estate-level public meter."""
    factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.unit(site.b2, "201", state=UnitState.VACANT)
    factories.meter(site.estate, site.b1)
    factories.meter(site.estate, site.b2)
    factories.meter(site.estate)  # garage, no building
    return site


def test_estate_wide_steward_covers_every_building_and_the_estate(scoped):
    assert places(targets_for(db.session, scoped.steward, scoped.estate)) == {
        (CORRIDOR, "1棟", None), (CORRIDOR, "2棟", None),
        (FACILITY, None, None),
        (VACANT, "1棟", "101"), (VACANT, "2棟", "201"),
        (METER, "1棟", None), (METER, "2棟", None), (METER, None, None),
    }


def test_building_steward_covers_only_those_buildings(scoped):
    steward = factories.user(buildings=[scoped.b1])
    expected = {(CORRIDOR, "1棟", None), (VACANT, "1棟", "101"), (METER, "1棟", None)}
    assert places(targets_for(db.session, steward, scoped.estate)) == expected
    assert places(due_rounds(db.session, steward, utc("2026-11-24T04:00:00"))) == expected


def test_steward_with_estate_and_buildings_gets_those_buildings_and_estate_wide_rounds(scoped):
    steward = factories.user(estates=[scoped.estate], buildings=[scoped.b2])
    assert places(targets_for(db.session, steward, scoped.estate)) == {
        (CORRIDOR, "2棟", None), (VACANT, "2棟", "201"), (METER, "2棟", None),
        (FACILITY, None, None), (METER, None, None),
    }


def test_steward_sees_nothing_of_estates_not_assigned(scoped):
    elsewhere = factories.estate("別處")
    factories.building(elsewhere, "別處1棟")
    stranger = factories.user(estates=[elsewhere])
    assert targets_for(db.session, stranger, scoped.estate) == []
    assert due_for_estate(db.session, stranger, scoped.estate, d("2026-11-24")) == []
    assert {r.target.estate.id for r in due_rounds(db.session, stranger, utc("2026-11-24T04:00:00"))} == {elsewhere.id}


def test_steward_with_no_assignment_has_nothing_due(scoped):
    assert due_rounds(db.session, factories.user(), utc("2026-11-24T04:00:00")) == []


def test_building_in_one_estate_and_another_estate_wide(scoped):
    other = factories.estate("別處")
    factories.building(other, "別處1棟")
    steward = factories.user(estates=[other], buildings=[scoped.b1])
    result = due_rounds(db.session, steward, utc("2026-11-24T04:00:00"))
    assert places(result) == {
        (CORRIDOR, "1棟", None), (VACANT, "1棟", "101"), (METER, "1棟", None),
        (CORRIDOR, "別處1棟", None), (FACILITY, None, None),
    }
    assert only(result, FACILITY).target.estate.id == other.id


@pytest.mark.parametrize("role", [Role.DESK, Role.SUPERVISOR, Role.ENGINEERING])
def test_due_rounds_is_empty_for_non_stewards(scoped, role):
    person = factories.user(role, estates=[scoped.estate], buildings=[scoped.b1])
    assert due_rounds(db.session, person, utc("2026-11-24T04:00:00")) == []


def test_due_rounds_lists_overdue_first_then_by_kind_and_place(scoped):
    factories.unit(scoped.b1, "102", state=UnitState.DECORATING)
    factories.unit(scoped.b1, "103", state=UnitState.VACANT)
    result = due_rounds(db.session, scoped.steward, utc("2026-11-23T04:00:00"))  # Monday 12:00 in Shanghai
    assert [(place(r), r.status) for r in result] == [
        ((CORRIDOR, "1棟", None), OVERDUE),
        ((CORRIDOR, "2棟", None), OVERDUE),
        ((FACILITY, None, None), OVERDUE),
        ((DECORATION, "1棟", "102"), DUE),
        ((VACANT, "1棟", "101"), DUE),
        ((VACANT, "1棟", "103"), DUE),
        ((VACANT, "2棟", "201"), DUE),
        ((METER, None, None), DUE),
        ((METER, "1棟", None), DUE),
        ((METER, "2棟", None), DUE),
    ]


# --------------------------------------------------------------------------- vacant and decorating units


@pytest.mark.parametrize(
    "state, expected",
    [
        (UnitState.VACANT, {(VACANT, "1棟", "101")}),
        (UnitState.DECORATING, {(DECORATION, "1棟", "101")}),
        (UnitState.OCCUPIED, set()),
        (UnitState.RENTED, set()),
    ],
    ids=lambda v: v.value if isinstance(v, UnitState) else "",
)
def test_unit_rounds_follow_the_unit_state(site, state, expected):
    factories.unit(site.b1, "101", state=state)
    unit_places = {p for p in places(due(site.steward, site.estate, "2026-11-24")) if p[2] is not None}
    assert unit_places == expected


def test_unit_rounds_appear_and_disappear_as_the_state_changes(site):
    unit = factories.unit(site.b1, "101", state=UnitState.OCCUPIED)

    def unit_places(day: str = "2026-11-24") -> set:
        return {p for p in places(due(site.steward, site.estate, day)) if p[2] is not None}

    assert unit_places() == set()
    unit.state = UnitState.VACANT
    db.session.flush()
    assert unit_places() == {(VACANT, "1棟", "101")}
    unit.state = UnitState.DECORATING
    db.session.flush()
    assert unit_places() == {(DECORATION, "1棟", "101")}
    unit.state = UnitState.OCCUPIED
    db.session.flush()
    assert unit_places() == set()


def test_decoration_is_due_every_day(site):
    unit = factories.unit(site.b1, "101", state=UnitState.DECORATING)
    factories.round_(DECORATION, site.steward, site.estate, d("2026-11-23"), building_=site.b1, unit_=unit)
    deco = only(due(site.steward, site.estate, "2026-11-24"), DECORATION, "1棟", "101")
    assert (deco.status, deco.occurrence.start, deco.occurrence.end) == (DUE, d("2026-11-24"), d("2026-11-25"))
    factories.round_(DECORATION, site.steward, site.estate, d("2026-11-24"), building_=site.b1, unit_=unit)
    assert (DECORATION, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-24"))
    assert (DECORATION, "1棟", "101") in places(due(site.steward, site.estate, "2026-11-25"))


def test_vacant_unit_due_all_month_and_never_overdue(site):
    factories.unit(site.b1, "101", state=UnitState.VACANT)
    for day in ["2026-11-01", "2026-11-15", "2026-11-30"]:
        vacant = only(due(site.steward, site.estate, day), VACANT, "1棟", "101")
        assert (vacant.status, vacant.occurrence.start, vacant.occurrence.end) == (
            DUE, d("2026-11-01"), d("2026-12-01")), day


def test_vacant_round_of_last_month_does_not_count(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-10-31"), building_=site.b1, unit_=unit)
    assert (VACANT, "1棟", "101") in places(due(site.steward, site.estate, "2026-11-01"))
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-10-31"))


def test_unit_round_recorded_without_its_building_still_counts(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-05"), unit_=unit)
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-20"))


def test_round_of_one_unit_does_not_settle_another(site):
    u1 = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.unit(site.b1, "102", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-05"), building_=site.b1, unit_=u1)
    assert {p for p in places(due(site.steward, site.estate, "2026-11-20")) if p[0] is VACANT} == {
        (VACANT, "1棟", "102")}


def test_vacant_round_does_not_settle_the_decoration_check(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-24"), building_=site.b1, unit_=unit)
    unit.state = UnitState.DECORATING
    db.session.flush()
    assert only(due(site.steward, site.estate, "2026-11-24"), DECORATION, "1棟", "101").status is DUE


# --------------------------------------------------------------------------- meters


def test_meter_targets_one_per_metered_building_and_one_for_estate_meters(site):
    b3 = factories.building(site.estate, "3棟")  # no meters
    home = factories.unit(site.b1, "101")
    factories.meter(site.estate, site.b1, home, MeterKind.WATER)
    factories.meter(site.estate, site.b1, home, MeterKind.ELECTRICITY)
    factories.meter(site.estate, site.b1)  # building public meter
    factories.meter(site.estate, site.b2, kind=MeterKind.ELECTRICITY)
    factories.meter(site.estate)  # estate public meter
    buildings = [site.b1, site.b2, b3]

    wide = meter_targets(db.session, site.estate, buildings, estate_wide=True)
    assert [place(t) for t in wide] == [(METER, "1棟", None), (METER, "2棟", None), (METER, None, None)]
    assert [place(t) for t in meter_targets(db.session, site.estate, buildings, estate_wide=False)] == [
        (METER, "1棟", None), (METER, "2棟", None)]
    assert [place(t) for t in meter_targets(db.session, site.estate, [site.b2], estate_wide=False)] == [
        (METER, "2棟", None)]


def test_no_estate_meter_round_without_estate_level_meters(site):
    factories.meter(site.estate, site.b1)
    assert places(meter_targets(db.session, site.estate, [site.b1, site.b2], estate_wide=True)) == {
        (METER, "1棟", None)}


def test_meters_of_another_estate_do_not_count(site):
    other = factories.estate()
    factories.meter(other)
    factories.meter(other, factories.building(other))
    assert meter_targets(db.session, site.estate, [site.b1, site.b2], estate_wide=True) == []


def test_household_meter_without_building_counts_for_its_units_building(site):
    home = factories.unit(site.b2, "201")
    factories.meter(site.estate, unit_=home)  # building left empty
    assert places(meter_targets(db.session, site.estate, [site.b1, site.b2], estate_wide=True)) == {
        (METER, "2棟", None)}


def test_meter_rounds_settle_per_building_per_month(site):
    factories.meter(site.estate, site.b1)
    factories.meter(site.estate, site.b2)
    factories.meter(site.estate)
    factories.round_(METER, site.steward, site.estate, d("2026-10-30"), building_=site.b2)  # last month
    factories.round_(METER, site.steward, site.estate, d("2026-11-02"), building_=site.b1)
    meters = {p for p in places(due(site.steward, site.estate, "2026-11-30")) if p[0] is METER}
    assert meters == {(METER, "2棟", None), (METER, None, None)}

    factories.round_(METER, site.steward, site.estate, d("2026-11-30"))  # estate meters
    meters = {p for p in places(due(site.steward, site.estate, "2026-11-30")) if p[0] is METER}
    assert meters == {(METER, "2棟", None)}
    meters = {p for p in places(due(site.steward, site.estate, "2026-12-01")) if p[0] is METER}
    assert meters == {(METER, "1棟", None), (METER, "2棟", None), (METER, None, None)}


def test_target_key(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    assert Target(FACILITY, site.estate).key == (FACILITY, site.estate.id, None, None)
    assert Target(VACANT, site.estate, site.b1, unit).key == (VACANT, site.estate.id, site.b1.id, unit.id)
