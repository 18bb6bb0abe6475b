"""Flood tests (閉水試驗): held 48 hours by the server's clock, neighbours below checked, passed or
failed; every step sent by a phone is stored once by its UUID.

Every function works in the caller's transaction and raises a refusal (app/refusals.py) before it
changes anything, so a refusal leaves nothing half-done."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import (
    FLOOD_TEST_HOURS,
    FloodTest,
    FloodTestStatus,
    Role,
    User,
    WetArea,
)
from ..refusals import Conflict, NotFound
from ..steps import content_sha256, same_step
from .base import (
    active_permit,
    in_scope,
    log_event,
    now_or_utc,
    refuse,
    step_uuid_free,
    unit_for,
)


def flood_test_for(session: Session, user: User, uuid: str, *, for_update: bool = False) -> FloodTest:
    query = sa.select(FloodTest).where(FloodTest.uuid == uuid)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    test = session.scalars(query).first()
    if test is None or user.role is Role.GATE or not in_scope(user, test.unit):
        raise NotFound(_l("This flood test does not exist or is not yours."))
    return test


def earliest_pass(test: FloodTest) -> datetime:
    return test.started_at + timedelta(hours=FLOOD_TEST_HOURS)


def start_flood_test(session: Session, steward: User, *, uuid: str, unit_id: int, wet_area: WetArea, photo_uuid: str,
                     water_level_cm: Decimal | None = None, recorded_at: datetime | None = None,
                     now: datetime | None = None) -> FloodTest:
    """Start a flood test of one wet area, with the photo of the water level. Its 48 hours count
    from now, the server's time: a phone's clock, right or wrong, never shortens them."""
    now = now_or_utc(now)
    fingerprint = content_sha256({"unit_id": unit_id, "wet_area": wet_area.value, "photo_uuid": photo_uuid,
                                  "water_level_cm": str(water_level_cm) if water_level_cm is not None else None})
    existing = session.scalars(sa.select(FloodTest).where(FloodTest.uuid == uuid)).first()
    if same_step(existing, steward, fingerprint, fingerprint_of="start_content_sha256", sent_by="started_by_id",
                 conflict=_l("This flood test was already started with other details."),
                 not_found=_l("This flood test does not exist or is not yours.")):
        return existing
    if steward.role is not Role.STEWARD:
        raise NotFound(_l("This unit does not exist or is not yours."))
    unit = unit_for(session, steward, unit_id)
    permit = active_permit(session, unit.id)
    if permit is None:
        raise Conflict(_l("%(unit)s has no active decoration registration.", unit=unit.label))
    if not photo_uuid:
        raise refuse(_l("Take a photo of the water level."), "photo_uuid")
    running = session.scalars(sa.select(FloodTest).where(
        FloodTest.unit_id == unit.id, FloodTest.wet_area == wet_area, FloodTest.status == FloodTestStatus.RUNNING)).first()
    if running is not None:
        raise Conflict(_l("A flood test of this area is already running (started %(at)s).",
                          at=running.started_at.isoformat(timespec="minutes")))
    test = FloodTest(uuid=uuid, permit=permit, unit_id=unit.id, wet_area=wet_area, started_by_id=steward.id,
                     started_at=now, phone_started_at=recorded_at, water_level_cm=water_level_cm,
                     start_photo_uuid=photo_uuid, start_content_sha256=fingerprint)
    session.add(test)
    try:
        session.flush()
    except IntegrityError:  # a twin of this start, or another start of this area, at the same moment
        session.rollback()
        twin = session.scalars(sa.select(FloodTest).where(FloodTest.uuid == uuid)).first()
        if twin is not None and twin.started_by_id == steward.id and twin.start_content_sha256 == fingerprint:
            return twin
        raise Conflict(_l("A flood test of this area is already running.")) from None
    log_event(session, unit.id, "flood_started", steward, permit=permit, at=now, flood_test_id=test.id,
              wet_area=wet_area.value, photo_uuid=photo_uuid,
              phone_time=recorded_at.isoformat() if recorded_at else None)
    session.flush()
    return test


def check_neighbours(session: Session, steward: User, *, uuid: str, flood_test_uuid: str, units: str, leak: bool,
                     note: str = "", recorded_at: datetime | None = None, now: datetime | None = None) -> FloodTest:
    """The unit below and the adjacent units checked for leaks: required before a pass; a leak fails the test."""
    now = now_or_utc(now)
    units, note = (units or "").strip(), (note or "").strip()
    fingerprint = content_sha256({"flood_test_uuid": flood_test_uuid, "units": units, "leak": leak, "note": note})
    test = flood_test_for(session, steward, flood_test_uuid, for_update=True)
    step_uuid_free(session, steward, test, FloodTest.neighbour_uuid, uuid,
                   _l("This flood test does not exist or is not yours."))
    if same_step(test if test.neighbour_uuid == uuid else None, steward, fingerprint, sent_by=None,
                 fingerprint_of="neighbour_content_sha256",
                 conflict=_l("This neighbour check was already stored with another answer.")):
        return test
    if steward.role is not Role.STEWARD:
        raise NotFound(_l("This flood test does not exist or is not yours."))
    if test.status is not FloodTestStatus.RUNNING:
        raise Conflict(_l("This flood test has already ended."))
    if test.neighbour_uuid is not None:
        raise Conflict(_l("The neighbours were already checked for this flood test."))
    if not units:
        raise refuse(_l("Name the units you checked (the one below and the adjacent ones)."), "units")
    if leak and not note:
        raise refuse(_l("Describe the leak."), "note")
    test.neighbour_uuid, test.neighbour_checked_at, test.neighbour_checked_by_id = uuid, now, steward.id
    test.neighbour_units, test.neighbour_leak, test.neighbour_note = units[:255], leak, note[:1000]
    test.neighbour_content_sha256 = fingerprint
    log_event(session, test.unit_id, "neighbour_checked", steward, permit=test.permit, at=now, flood_test_id=test.id,
              note="；".join(x for x in (units, note) if x), leak=leak)
    if leak:
        _end(session, test, steward, FloodTestStatus.FAILED, note, None, now)
    session.flush()
    return test


def end_flood_test(session: Session, steward: User, *, uuid: str, flood_test_uuid: str, passed: bool, note: str = "",
                   photo_uuid: str | None = None, recorded_at: datetime | None = None,
                   now: datetime | None = None) -> FloodTest:
    """Pass or fail the test. A pass needs 48 hours since the server heard of the start, by the
    server's clock (`now`), and a neighbour check without leaks."""
    now = now_or_utc(now)
    note = (note or "").strip()
    fingerprint = content_sha256({"flood_test_uuid": flood_test_uuid, "passed": passed, "note": note,
                                  "photo_uuid": photo_uuid})
    test = flood_test_for(session, steward, flood_test_uuid, for_update=True)
    step_uuid_free(session, steward, test, FloodTest.result_uuid, uuid,
                   _l("This flood test does not exist or is not yours."))
    if same_step(test if test.result_uuid == uuid else None, steward, fingerprint, sent_by=None,
                 fingerprint_of="result_content_sha256",
                 conflict=_l("This result was already stored with another answer.")):
        return test
    if steward.role is not Role.STEWARD:
        raise NotFound(_l("This flood test does not exist or is not yours."))
    if test.status is not FloodTestStatus.RUNNING:
        raise Conflict(_l("This flood test has already ended."))
    if passed:
        if now < earliest_pass(test):
            raise refuse(_l("A flood test passes only after %(hours)d hours. This one reached the office at "
                            "%(start)s UTC and can pass from %(earliest)s UTC.", hours=FLOOD_TEST_HOURS,
                            start=test.started_at.strftime("%Y-%m-%d %H:%M"),
                            earliest=earliest_pass(test).strftime("%Y-%m-%d %H:%M")), "passed")
        if test.neighbour_checked_at is None:
            raise refuse(_l("Check the unit below and the adjacent units for leaks before the pass."), "neighbours")
    elif not note:
        raise refuse(_l("Say why it failed."), "note")
    test.result_uuid, test.result_content_sha256 = uuid, fingerprint
    _end(session, test, steward, FloodTestStatus.PASSED if passed else FloodTestStatus.FAILED, note, photo_uuid, now)
    session.flush()
    return test


def _end(session: Session, test: FloodTest, by: User, status: FloodTestStatus, note: str, photo_uuid: str | None,
         now: datetime) -> None:
    test.status, test.ended_at, test.ended_by_id = status, now, by.id
    test.result_note, test.result_photo_uuid = note[:1000], photo_uuid
    hours = round((now - test.started_at).total_seconds() / 3600, 1)
    log_event(session, test.unit_id, f"flood_{status.value}", by, permit=test.permit, at=now, flood_test_id=test.id,
              note=note, hours=hours, wet_area=test.wet_area.value, photo_uuid=photo_uuid)
