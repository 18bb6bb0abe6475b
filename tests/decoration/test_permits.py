"""Decoration registrations at the service level (app/decoration/permits.py): the unit's state through
registration, acceptance and cancellation, the estate's working hours, numbers per day, and the
refusals that change nothing."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import refusals
from app.decoration import base, permits
from app.extensions import db
from app.models import (
    DecorationEvent,
    DecorationPermit,
    PermitStatus,
    Role,
    RoundKind,
    UnitState,
    VacancyReason,
)

from tests import factories
from tests.decoration.service_helpers import (
    NOW,
    due_kinds,
    events,
    noticed,
    register,
    registration,
)


def test_registration_makes_the_unit_decorating_and_files_the_vacant_sheet(world):
    unit = world["unit"]
    sheet = factories.round_(RoundKind.VACANT_UNIT, world["amy"], world["estate"], date(2026, 11, 3),
                             building_=world["b1"], unit_=unit)
    assert due_kinds(world, NOW - timedelta(days=60)) == [RoundKind.VACANT_UNIT]
    permit = register(world)
    assert unit.state is UnitState.DECORATING and unit.vacancy_reason is None
    assert permit.prior_state is UnitState.VACANT and permit.number.startswith("ZX-20261124-")
    assert permit.working_hours == "08:00-12:00,14:00-18:00" and permit.quiet_rest_days
    assert events(unit) == ["registered", "vacant_sheet_filed"]
    filed = db.session.scalars(sa.select(DecorationEvent).where(DecorationEvent.kind == "vacant_sheet_filed")).one()
    assert filed.round_id == sheet.id
    # The vacant-unit check stops; the decoration check appears every day.
    assert due_kinds(world) == [RoundKind.DECORATION]
    assert due_kinds(world, NOW + timedelta(days=1)) == [RoundKind.DECORATION]


def test_the_estates_working_hours_are_the_default_and_a_registration_may_differ(world):
    world["estate"].decoration_hours = "09:00-12:00"
    permit = register(world)
    assert permit.working_hours == "09:00-12:00"
    other = permits.register(db.session, world["desk"],
                             registration(world["below"], working_hours="08:30-11:30, 13:30-17:30"), now=NOW)
    assert other.working_hours == "08:30-11:30,13:30-17:30"


@pytest.mark.parametrize(("changes", "field"), [
    (dict(planned_end=date(2026, 11, 1)), "planned_end"),
    (dict(owner_name=" "), "owner_name"),
    (dict(workers=0), "workers"),
    (dict(working_hours="8-12"), "working_hours"),
    (dict(working_hours="14:00-12:00"), "working_hours"),
    (dict(deposit=Decimal("-1")), "deposit"),
])
def test_bad_registrations_are_refused_and_change_nothing(world, changes, field):
    with pytest.raises(refusals.Rejected) as refused:
        permits.register(db.session, world["desk"], registration(world["unit"], **changes), now=NOW)
    assert field in refused.value.errors
    assert world["unit"].state is UnitState.VACANT
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DecorationPermit)) == 0


@pytest.mark.parametrize(("changes", "field"), [
    (dict(deposit=Decimal("NaN")), "deposit"),
    (dict(deposit=Decimal("Infinity")), "deposit"),
    (dict(deposit=Decimal("1e20")), "deposit"),
    (dict(workers=10**22), "workers"),
])
def test_registration_numbers_are_bounded(world, changes, field):
    with pytest.raises(refusals.Rejected) as refused:
        permits.register(db.session, world["desk"], registration(world["unit"], **changes), now=NOW)
    assert field in refused.value.errors and world["unit"].state is UnitState.VACANT


def test_a_registration_overlapping_an_active_one_is_refused(world):
    first = register(world)
    with force_locale("en"), pytest.raises(refusals.Conflict) as refused:
        permits.register(db.session, world["desk"], registration(world["unit"], planned_start=date(2027, 1, 5),
                                                                 planned_end=date(2027, 2, 1)), now=NOW)
    assert first.number in str(refused.value.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DecorationPermit)) == 1


@pytest.mark.parametrize("who", ["amy", "gate"])
def test_only_the_office_registers(world, who):
    with pytest.raises(refusals.NotFound):
        permits.register(db.session, world[who], registration(world["unit"]), now=NOW)


def test_numbers_count_per_day_across_estates(world):
    first = register(world)
    elsewhere = factories.unit(factories.building(factories.estate()), "9-901")
    boss = factories.user(Role.DESK, username="far-desk", estates=[elsewhere.building.estate])
    second = permits.register(db.session, boss, registration(elsewhere), now=NOW)
    assert (first.number, second.number) == ("ZX-20261124-01", "ZX-20261124-02")
    assert register(world, unit=world["below"], now=NOW + timedelta(days=1)).number == "ZX-20261125-01"


def test_acceptance_returns_the_unit_and_stops_the_daily_check(world):
    permit = register(world)
    with pytest.raises(refusals.Rejected):
        permits.accept(db.session, world["desk"], permit, passed=True, note="", return_state=UnitState.DECORATING)
    permits.accept(db.session, world["desk"], permit, passed=False, note="陽臺防水未做", return_state=None)
    assert permit.status is PermitStatus.ACTIVE
    permits.accept(db.session, world["desk"], permit, passed=True, note="", return_state=UnitState.OCCUPIED,
                   now=NOW + timedelta(days=30))
    assert permit.status is PermitStatus.COMPLETED and world["unit"].state is UnitState.OCCUPIED
    assert due_kinds(world, NOW + timedelta(days=31)) == []
    assert events(world["unit"])[-2:] == ["acceptance_failed", "accepted"]
    with pytest.raises(refusals.Conflict):
        permits.accept(db.session, world["desk"], permit, passed=True, note="", return_state=UnitState.OCCUPIED)
    # A new registration is possible once the last one is accepted.
    assert register(world, now=NOW + timedelta(days=40)).status is PermitStatus.ACTIVE


def test_back_to_vacant_keeps_the_reason_it_was_vacant(world):
    permit = register(world)
    assert permit.prior_vacancy_reason is VacancyReason.UNSOLD
    permits.accept(db.session, world["desk"], permit, passed=True, note="", return_state=UnitState.VACANT)
    assert world["unit"].state is UnitState.VACANT and world["unit"].vacancy_reason is VacancyReason.UNSOLD


def test_cancel_returns_the_unit_to_its_state_before(world):
    permit = register(world)
    with pytest.raises(refusals.Rejected):
        permits.cancel(db.session, world["desk"], permit, " ")
    permits.cancel(db.session, world["desk"], permit, "登記錯單元")
    assert world["unit"].state is UnitState.VACANT and permit.status is PermitStatus.CANCELLED


def test_a_registration_with_open_records_cannot_be_cancelled(world):
    violation = noticed(world)
    with pytest.raises(refusals.Conflict):
        permits.cancel(db.session, world["desk"], violation.permit, "登記錯單元")
    assert violation.permit.status is PermitStatus.ACTIVE and world["unit"].state is UnitState.DECORATING


def test_an_office_user_of_some_buildings_sees_only_their_units(world):
    permit = register(world)
    permits.stop_work(db.session, world["desk"], permit, "私拆承重牆")
    b2_desk = factories.user(Role.DESK, username="b2-desk", buildings=[world["b2"]])
    b2_boss = factories.user(Role.SUPERVISOR, username="b2-boss", buildings=[world["b2"]])
    assert not base.in_scope(b2_desk, world["unit"])
    with pytest.raises(refusals.NotFound):
        base.permit_for(db.session, b2_desk, permit.id)
    assert permits.stopped_units(db.session, b2_boss) == []
    assert permits.stopped_units(db.session, world["gate"]) == [permit]


def test_the_unit_page_shows_the_work_stopped(client, auth, world):
    permit = register(world)
    permits.stop_work(db.session, world["desk"], permit, "私拆承重牆")
    db.session.commit()
    auth.login("amy")
    html = client.get(f"/desk/units/{world['unit'].id}").get_data(as_text=True)
    assert "decoration-stopped" in html and "私拆承重牆" in html and permit.number in html
