"""A unit's history (the owner archive's box): rounds, findings, tickets and decoration records in order."""
from __future__ import annotations

import hashlib
import uuid as uuidlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.decoration import flood_tests, materials, violations
from app.extensions import db
from app.models import (
    Finding,
    FindingResult,
    MeterKind,
    Role,
    RoundKind,
    TicketChannel,
    UnitState,
    WetArea,
)
from app.photos import uploads
from app.repairs import tickets
from app.units import history as unit_history

from tests import factories

T0 = datetime(2026, 10, 5, 2, 0, tzinfo=timezone.utc)  # vacant-unit check
T1 = datetime(2026, 10, 20, 3, 0, tzinfo=timezone.utc)  # meter reading
T2 = datetime(2026, 11, 2, 1, 30, tzinfo=timezone.utc)  # repair ticket
T3 = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)  # decoration registered
T4 = datetime(2026, 11, 12, 2, 0, tzinfo=timezone.utc)  # violation found, notice issued
T5 = datetime(2026, 11, 15, 2, 0, tzinfo=timezone.utc)  # flood test started
T6 = datetime(2026, 11, 16, 6, 0, tzinfo=timezone.utc)  # gate asks for materials
OWNER_PHONE, PERMIT_PHONE = "13800138000", "13911112222"


def finding(rnd, code: str, result=FindingResult.FINE, reason: str | None = None, at: datetime = T0, **place):  # noqa: ANN001, ANN201
    item = next(i for i in rnd.checklist_version.items if i.code == code)
    obj = Finding(uuid=str(uuidlib.uuid4()), round=rnd, item=item, result=result, reason_code=reason,
                  recorded_at=at, received_at=at, **place)
    db.session.add(obj)
    db.session.flush()
    return obj


def record_photo(app, user, record_uuid: str, color=(20, 120, 200)):  # noqa: ANN001, ANN201
    photo = uploads.store_form_photo(db.session, user, record_uuid, factories.jpeg_bytes(color=color),
                                     max_bytes=app.config["PHOTO_MAX_BYTES"], max_pixels=app.config["PHOTO_MAX_PIXELS"],
                                     timezone_name="Asia/Shanghai")
    db.session.flush()
    return photo


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"b1": "1棟", "b2": "2棟"}, other="別的小區")
    w.add_person("steward", Role.STEWARD, "b1", username="s1")
    w.add_person("s2", Role.STEWARD, "b2")
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("super", Role.SUPERVISOR, "estate")
    w.add_person("gate", Role.GATE, "estate")
    w.add_person("eng", Role.ENGINEERING, "estate")
    w.add_person("desk_other", Role.DESK, "other")
    estate, b1, steward, desk, gate = w["estate"], w["b1"], w["steward"], w["desk"], w["gate"]
    unit = w.add_unit("unit", "b1", "1-502", state=UnitState.VACANT, floor=5)
    factories.contact(unit, name="陳大文", phone=OWNER_PHONE)
    water = factories.meter(estate, b1, unit, MeterKind.WATER)

    # A vacant-unit check with a defect and its photo.
    vacant = factories.round_(RoundKind.VACANT_UNIT, steward, estate, date(2026, 10, 5), unit_=unit)
    vacant.started_at, vacant.completed_at = T0 - timedelta(minutes=10), T0
    leak = finding(vacant, "VAC-LEAK", FindingResult.DEFECT, "CEILING-SEEPAGE", unit_id=unit.id)
    data = factories.jpeg_bytes()
    uploads.store_photo(db.session, steward, str(uuidlib.uuid4()), leak.uuid, data, hashlib.sha256(data).hexdigest(),
                        max_bytes=10_000_000, max_pixels=50_000_000)
    # The building's meter reading, on the unit's water meter.
    meters = factories.round_(RoundKind.METER, steward, estate, date(2026, 10, 20), building_=b1)
    meters.started_at, meters.completed_at = T1 - timedelta(minutes=30), T1
    finding(meters, "MTR-WATER", reading_value=Decimal("123.40"), at=T1, meter_id=water.id)
    # A repair the owner phoned in.
    ticket = tickets.register_report(db.session, desk, estate, tickets.Report(
        channel=TicketChannel.PHONE, reporter_name="陳大文", reporter_phone=OWNER_PHONE,
        description="廚房水龍頭滴水", unit=unit, place_text="廚房"), now=T2)
    # The decoration: registered, a breach on a daily check, its notice, a flood test, materials.
    permit = factories.permit(desk, unit, now=T3, owner_phone=PERMIT_PHONE, contractor_name="安居裝修",
                              contractor_phone="13700001111", planned_start=date(2026, 11, 11),
                              planned_end=date(2026, 12, 31), scope="更換地磚，翻新衛生間")
    check = factories.round_(RoundKind.DECORATION, steward, estate, date(2026, 11, 12), unit_=unit)
    check.started_at, check.completed_at = T4 - timedelta(minutes=15), T4
    breach = finding(check, "DEC-PERMIT", FindingResult.DEFECT, "SCOPE-EXCEEDED", at=T4, unit_id=unit.id)
    violation = violations.after_completion(db.session, check, [breach], now=T4)
    violations.issue_notice(db.session, desk, violation, deadline=date(2026, 11, 15), requirements="恢復原狀",
                            now=T4 + timedelta(hours=2))
    test_uuid = str(uuidlib.uuid4())
    start_photo = record_photo(app, steward, test_uuid)
    flood = flood_tests.start_flood_test(db.session, steward, uuid=test_uuid, unit_id=unit.id, wet_area=WetArea.BATHROOM,
                                         photo_uuid=start_photo.uuid, now=T5)
    request_uuid = str(uuidlib.uuid4())
    material_photo = record_photo(app, gate, request_uuid, color=(90, 90, 20))
    material = materials.raise_material_request(db.session, gate, uuid=request_uuid, unit_id=unit.id,
                                                materials="瓷磚 40 箱", photo_uuid=material_photo.uuid, now=T6)
    db.session.commit()
    return dict(estate=estate, unit=unit, steward=steward, desk=desk, ticket=ticket, permit=permit,
                violation=violation, flood=flood, material=material, leak=leak, start_photo=start_photo,
                material_photo=material_photo)


def test_entries_of_every_kind_in_time_order(world):
    history = unit_history.unit_history(db.session, world["desk"], world["unit"])
    entries = [e for m in history.months for e in m.entries]
    kinds = [e.kind for e in entries]
    assert kinds[:6] == ["round", "finding", "ticket", "permit", "event", "round"]  # the vacant sheet filed on registration
    assert kinds[6:] == ["violation", "event", "flood_test", "material"]  # the notice logged after the violation
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert [m.month for m in history.months] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert not history.truncated
    # Each record is told once: "registered", "violation found", "flood started"… belong to their record.
    assert {e.event.kind for e in entries if e.event} == {"registered", "violation_found", "flood_started",
                                                          "material_requested"}
    flood = next(e for e in entries if e.kind == "flood_test")
    assert flood.extra["start_photos"] == [world["start_photo"].uuid]
    assert next(e for e in entries if e.kind == "material").photos == [world["material_photo"].uuid]


def test_the_filter_keeps_one_kind(world):
    only = unit_history.unit_history(db.session, world["desk"], world["unit"], "tickets")
    assert [e.kind for m in only.months for e in m.entries] == ["ticket"]
    deco = unit_history.unit_history(db.session, world["desk"], world["unit"], "decoration")
    assert {e.group for m in deco.months for e in m.entries} == {"decoration"}
    nonsense = unit_history.unit_history(db.session, world["desk"], world["unit"], "passwords")
    assert nonsense.kind == "all"


def test_the_newest_entries_are_kept_when_there_are_too_many(world):
    history = unit_history.unit_history(db.session, world["desk"], world["unit"], limit=3)
    entries = [e for m in history.months for e in m.entries]
    assert history.truncated and [e.kind for e in entries] == ["event", "flood_test", "material"]


def test_the_desk_sees_the_page_with_photos_links_and_no_owner_details(client, auth, world):
    auth.login("desk")
    html = client.get(f"/desk/units/{world['unit'].id}/history").get_data(as_text=True)
    positions = [html.index(marker) for marker in (
        world["leak"].round.uuid, "123.40", world["ticket"].number, world["permit"].number, "瓷磚 40 箱")]
    assert positions == sorted(positions)
    assert f"/tickets/{world['ticket'].id}" in html and world["violation"].notice_number in html
    for photo in (world["leak"].photos[0], world["start_photo"], world["material_photo"]):
        assert f"/photos/{photo.uuid}/thumb" in html
    assert "安居裝修" in html  # the contractor works on site
    for secret in (OWNER_PHONE, PERMIT_PHONE, "陳大文"):
        assert secret not in html
    assert client.get(f"/photos/{world['start_photo'].uuid}/thumb").status_code == 200


def test_the_steward_sees_their_units_history_without_ticket_links(client, auth, world):
    auth.login("s1")
    unit_page = client.get(f"/desk/units/{world['unit'].id}").get_data(as_text=True)
    assert f"/desk/units/{world['unit'].id}/history" in unit_page
    response = client.get(f"/desk/units/{world['unit'].id}/history?kind=all")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert world["ticket"].number in html and f"/tickets/{world['ticket'].id}" not in html
    assert f"/rounds/{world['leak'].round.uuid}" in html
    assert f"/photos/{world['material_photo'].uuid}/thumb" in html
    assert OWNER_PHONE not in html and PERMIT_PHONE not in html
    for photo in (world["leak"].photos[0], world["start_photo"], world["material_photo"]):
        assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 200


@pytest.mark.parametrize(("username", "status"), [
    ("s2", 404),  # a steward of another building
    ("desk-other", 404),  # the desk of another estate
    ("gate", 403),
    ("eng", 403),
    ("super", 200),
])
def test_who_may_read_the_history(client, auth, world, username, status):
    auth.login(username)
    assert client.get(f"/desk/units/{world['unit'].id}/history").status_code == status


def test_an_unknown_unit_is_not_found(client, auth, world):
    auth.login("desk")
    assert client.get("/desk/units/999999/history").status_code == 404


def test_the_queries_do_not_grow_with_the_history(world):
    def queries() -> int:
        db.session.expire_all()
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            unit_history.unit_history(db.session, world["desk"], db.session.get(type(world["unit"]), world["unit"].id))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = queries()
    for n in range(12):
        rnd = factories.round_(RoundKind.DECORATION, world["steward"], world["estate"], date(2026, 11, 13) + timedelta(days=n),
                               unit_=world["unit"])
        finding(rnd, "DEC-PERMIT", at=T6 + timedelta(days=n), unit_id=world["unit"].id)
    db.session.commit()
    assert queries() == before <= 40, before
