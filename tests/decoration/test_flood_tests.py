"""Flood tests (閉水試驗, app/decoration/flood_tests.py): a pass needs 48 hours by the server's clock
and the neighbours' check, a leak below fails it, one running test per wet area, each step once."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from app import refusals
from app.decoration import flood_tests
from app.extensions import db
from app.models import FloodTestStatus, WetArea
from app.models.base import new_uuid

from tests.decoration.service_helpers import (
    NOW,
    events,
    neighbours,
    register,
    started_test,
)


def test_a_pass_needs_48_hours_by_the_server_clock_whatever_the_phone_says(world):
    test = started_test(world)
    neighbours(world, test, NOW + timedelta(hours=40))
    phone_days_ahead = NOW + timedelta(days=5)
    with force_locale("en"), pytest.raises(refusals.Rejected) as refused:
        flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                                   recorded_at=phone_days_ahead, now=NOW + timedelta(hours=47, minutes=59))
    assert "48" in str(refused.value.message) and "2026-11-26 02:00" in str(refused.value.message)
    assert test.status is FloodTestStatus.RUNNING and test.ended_at is None
    flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                               recorded_at=phone_days_ahead, now=NOW + timedelta(hours=48))
    assert test.status is FloodTestStatus.PASSED and test.ended_at == NOW + timedelta(hours=48)
    assert events(world["unit"])[-3:] == ["flood_started", "neighbour_checked", "flood_passed"]


def test_a_start_synced_late_counts_from_when_it_reached_the_server(world):
    # Started offline at 10:00 by the phone (or a phone whose clock is days behind), synced at 20:00.
    register(world)
    arrived = NOW + timedelta(hours=10)
    test = flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                        wet_area=WetArea.KITCHEN, photo_uuid=new_uuid(),
                                        recorded_at=NOW - timedelta(days=3), now=arrived)
    assert test.started_at == arrived and test.phone_started_at == NOW - timedelta(days=3)
    neighbours(world, test, arrived + timedelta(hours=1))
    with pytest.raises(refusals.Rejected):
        flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                                   now=NOW + timedelta(hours=50))
    flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                               now=arrived + timedelta(hours=48))
    assert test.status is FloodTestStatus.PASSED


def test_a_pass_needs_the_neighbour_check(world):
    test = started_test(world)
    with force_locale("en"), pytest.raises(refusals.Rejected) as refused:
        flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                                   now=NOW + timedelta(hours=49))
    assert "neighbours" in refused.value.errors and test.status is FloodTestStatus.RUNNING


def test_a_leak_below_fails_the_test(world):
    test = started_test(world)
    with pytest.raises(refusals.Rejected):
        neighbours(world, test, NOW + timedelta(hours=5), leak=True, note="")
    assert test.neighbour_checked_at is None
    neighbours(world, test, NOW + timedelta(hours=5), leak=True, note="1-501 衛生間天花滲水")
    assert test.status is FloodTestStatus.FAILED
    with pytest.raises(refusals.Conflict):
        flood_tests.end_flood_test(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid, passed=True,
                                   now=NOW + timedelta(hours=49))


def test_the_neighbours_are_checked_once(world):
    test = started_test(world)
    first = new_uuid()
    flood_tests.check_neighbours(db.session, world["amy"], uuid=first, flood_test_uuid=test.uuid, units="1-501",
                                 leak=False, now=NOW)
    with pytest.raises(refusals.Conflict):
        flood_tests.check_neighbours(db.session, world["amy"], uuid=new_uuid(), flood_test_uuid=test.uuid,
                                     units="1-502", leak=False, now=NOW)
    # The first one sent again is the same answer, and changes nothing.
    flood_tests.check_neighbours(db.session, world["amy"], uuid=first, flood_test_uuid=test.uuid, units="1-501",
                                 leak=False, now=NOW)
    assert test.neighbour_units == "1-501" and events(world["unit"]).count("neighbour_checked") == 1


def test_one_running_test_per_wet_area_and_a_photo_of_the_water_level(world):
    test = started_test(world)
    with pytest.raises(refusals.Conflict):
        flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                     wet_area=WetArea.BATHROOM, photo_uuid=new_uuid(), now=NOW)
    with pytest.raises(refusals.Rejected):
        flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                     wet_area=WetArea.BALCONY, photo_uuid="", now=NOW)
    # The same start again is the same test.
    again = flood_tests.start_flood_test(db.session, world["amy"], uuid=test.uuid, unit_id=world["unit"].id,
                                         wet_area=WetArea.BATHROOM, photo_uuid=test.start_photo_uuid,
                                         water_level_cm=Decimal("3.0"), now=NOW + timedelta(hours=1))
    assert again is test and again.started_at == NOW


def test_a_step_id_used_on_another_flood_test_is_a_conflict(world):
    first = started_test(world)
    second = flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                          wet_area=WetArea.KITCHEN, photo_uuid=new_uuid(), now=NOW)
    step = new_uuid()
    flood_tests.check_neighbours(db.session, world["amy"], uuid=step, flood_test_uuid=first.uuid, units="1-501",
                                 leak=False, now=NOW)
    with pytest.raises(refusals.Conflict):
        flood_tests.check_neighbours(db.session, world["amy"], uuid=step, flood_test_uuid=second.uuid, units="1-501",
                                     leak=False, now=NOW)
    assert second.neighbour_checked_at is None


def test_no_flood_test_without_an_active_registration(world):
    with pytest.raises(refusals.Conflict):
        flood_tests.start_flood_test(db.session, world["amy"], uuid=new_uuid(), unit_id=world["unit"].id,
                                     wet_area=WetArea.BATHROOM, photo_uuid=new_uuid(), now=NOW)
