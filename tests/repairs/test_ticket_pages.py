"""The ticket pages: intake, the lifecycle through the forms, engineering's queue, refusals,
printing, the CSV export and the late list."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    DefectRoute,
    Language,
    Photo,
    RepairTicket,
    Role,
    TicketChannel,
    TicketClock,
    TicketStatus,
)
from app.repairs import tickets

from tests import factories


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"building": "1棟"}, stairwells=True, everyone=True,
                              language=Language.EN)
    w.add_unit("unit", "building", "1-101")
    return w


def report(world, route=DefectRoute.ENGINEERING, unit=None, created_at=None, **kw) -> RepairTicket:
    ticket = tickets.register_report(
        db.session, world["users"][Role.DESK], world["estate"],
        tickets.Report(channel=TicketChannel.PHONE, reporter_name="陳太", reporter_phone="13800000000",
                       description=kw.pop("description", "走廊燈不亮"), place_text="1棟大堂", route=route, unit=unit,
                       **kw), now=created_at)
    db.session.commit()
    return ticket


def post(client, auth, path, data=None, **kw):
    return client.post(path, data={"csrf_token": auth.csrf(), **(data or {})}, **kw)


def test_desk_registers_a_phone_report_and_gets_its_number(client, auth, world):
    auth.login("u-desk")
    form = client.get("/tickets/new").get_data(as_text=True)
    assert "reporter_name" in form and "1棟" in form
    response = post(client, auth, "/tickets/new", {
        "estate": world["estate"].id, "channel": "phone", "reporter_name": "陳太", "reporter_phone": "13800000000",
        "building": world["building"].id, "room": "1-101", "public_area": 0, "place_text": "廚房",
        "description": "水龍頭漏水", "expectation": "明早九點前", "route": "engineering", "urgency": "normal"},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    ticket = db.session.scalars(sa.select(RepairTicket)).one()
    assert ticket.unit_id == world["unit"].id and ticket.is_unit_repair and ticket.expectation == "明早九點前"
    assert ticket.number in html and "13800000000" in html


@pytest.mark.parametrize(("change", "message"), [
    ({"reporter_name": ""}, "Write down who reported it."),
    ({"description": ""}, "Describe what needs repairing."),
    ({"room": "9-999"}, "There is no room 9-999"),
    ({"building": 0, "room": "1-101"}, "Choose the building of this room."),
    ({"route": "decoration_violation"}, "Not a valid choice"),
])
def test_intake_refuses_bad_reports_and_stores_nothing(client, auth, world, change, message):
    auth.login("u-desk")
    data = {"estate": world["estate"].id, "channel": "walk_in", "reporter_name": "王先生", "building":
            world["building"].id, "room": "", "public_area": 0, "description": "門壞了", "route": "engineering",
            "urgency": "normal", **change}
    response = post(client, auth, "/tickets/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RepairTicket)) == 0


def test_the_whole_public_repair_through_the_pages(client, auth, world):
    ticket = report(world)
    auth.login("u-desk")
    assert post(client, auth, f"/tickets/{ticket.id}/dispatch", {"to": "工程部 李師傅"}).status_code == 302
    auth.logout()
    auth.login("u-engineering")
    assert ticket.number in client.get("/engineering/").get_data(as_text=True)
    assert post(client, auth, f"/tickets/{ticket.id}/start").status_code == 302
    photo = (io.BytesIO(factories.jpeg_bytes()), "after.jpg")
    response = post(client, auth, f"/tickets/{ticket.id}/repair",
                    {"work_done": "更換燈管", "parts": "LED 燈管 x1", "photo": photo},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    [after] = db.session.get(RepairTicket, ticket.id).after_photos
    with client.get(f"/photos/{after.uuid}/thumb") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert ticket.number not in client.get("/engineering/").get_data(as_text=True)  # off the queue
    auth.logout()
    auth.login("u-desk")
    assert post(client, auth, f"/tickets/{ticket.id}/verify", {"passed": "0"}).status_code == 409  # no note
    assert post(client, auth, f"/tickets/{ticket.id}/verify", {"passed": "1"}).status_code == 302
    db.session.expire_all()
    done = db.session.get(RepairTicket, ticket.id)
    assert done.status is TicketStatus.CLOSED and done.dispatched_to == "工程部 李師傅"
    assert [e.kind for e in done.events] == ["opened", "dispatch", "start", "repair", "verified"]
    assert {e.by.username for e in done.events} == {"u-desk", "u-engineering"}
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "更換燈管" in html and "LED 燈管 x1" in html


def test_a_step_out_of_order_is_refused_with_the_reason(client, auth, world):
    ticket = report(world)
    auth.login("u-engineering")
    response = post(client, auth, f"/tickets/{ticket.id}/start")
    assert response.status_code == 409
    assert "This step is not possible" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(RepairTicket, ticket.id).status is TicketStatus.NEW


def test_a_repair_with_a_broken_photo_changes_nothing(client, auth, world):
    ticket = report(world)
    tickets.dispatch(ticket, world["users"][Role.DESK], to="工程部")
    db.session.commit()
    auth.login("u-engineering")
    response = post(client, auth, f"/tickets/{ticket.id}/repair",
                    {"work_done": "修好", "photo": (io.BytesIO(b"not a picture at all"), "x.jpg")},
                    content_type="multipart/form-data")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(RepairTicket, ticket.id).status is TicketStatus.DISPATCHED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0


def test_engineering_sees_only_its_own_teams_tickets(client, auth, world):
    cleaning = report(world, route=DefectRoute.CLEANING, description="樓梯有垃圾")
    ours = report(world)
    auth.login("u-engineering")
    queue = client.get("/tickets/").get_data(as_text=True)
    assert ours.number in queue and cleaning.number not in queue
    assert client.get(f"/tickets/{cleaning.id}").status_code == 404
    assert post(client, auth, f"/tickets/{cleaning.id}/start").status_code == 404
    assert client.get(f"/tickets/{ours.id}").status_code == 200


def test_another_estates_desk_gets_404_for_everything(client, auth, world):
    ticket = report(world)
    factories.user(Role.DESK, username="stranger", estates=[factories.estate()])
    db.session.commit()
    auth.login("stranger")
    for path in (f"/tickets/{ticket.id}", f"/tickets/{ticket.id}/print"):
        assert client.get(path).status_code == 404
    assert post(client, auth, f"/tickets/{ticket.id}/cancel", {"reason": "x"}).status_code == 404
    assert ticket.number not in client.get("/tickets/?status=all").get_data(as_text=True)


def test_merge_by_number_refuses_a_ticket_the_desk_cannot_see(client, auth, world):
    mine = report(world)
    other_estate = factories.estate()
    factories.building(other_estate)
    theirs = tickets.register_report(db.session, factories.user(Role.DESK, estates=[other_estate]), other_estate,
                                     tickets.Report(channel=TicketChannel.WALK_IN, reporter_name="王",
                                                    reporter_phone="", description="燈", place_text="大堂"))
    db.session.commit()
    auth.login("u-desk")
    response = post(client, auth, f"/tickets/{mine.id}/merge", {"into": theirs.number})
    assert response.status_code == 409 and f"There is no ticket {theirs.number}" in response.get_data(as_text=True)
    second = report(world, description="走廊燈又不亮")
    assert post(client, auth, f"/tickets/{second.id}/merge", {"into": mine.number}).status_code == 302
    db.session.expire_all()
    assert db.session.get(RepairTicket, second.id).merged_into_id == mine.id


def test_return_visit_c_reopens_and_shows_on_the_late_list(client, auth, world):
    ticket = report(world, unit=world["unit"])
    desk = world["users"][Role.DESK]
    tickets.dispatch(ticket, desk, to="工程部")
    tickets.repair(ticket, desk, work_done="換水龍頭")
    db.session.commit()
    auth.login("u-desk")
    assert post(client, auth, f"/tickets/{ticket.id}/verify", {"passed": "1"}).status_code == 409  # a unit repair
    assert post(client, auth, f"/tickets/{ticket.id}/return-visit", {"grade": "D"}).status_code == 409
    assert post(client, auth, f"/tickets/{ticket.id}/return-visit",
                {"grade": "C", "comment": "還在滴水"}).status_code == 302
    auth.logout()
    auth.login("u-supervisor")
    html = client.get("/tickets/overdue").get_data(as_text=True)
    assert ticket.number in html and "還在滴水" in html


def test_late_tickets_are_listed_for_the_supervisor(client, auth, world):
    late = report(world, created_at=datetime.now(timezone.utc) - timedelta(hours=30))
    fresh = report(world, description="新報修")
    auth.login("u-supervisor")
    html = client.get("/tickets/overdue").get_data(as_text=True)
    assert late.number in html and fresh.number not in html


@pytest.mark.parametrize("size", ["a5", "a4"])
def test_a_ticket_prints_on_a5_and_a4(client, auth, world, size):
    ticket = report(world)
    auth.login("u-desk")
    html = client.get(f"/tickets/{ticket.id}/print?size={size}").get_data(as_text=True)
    assert "工程維修單" in html and ticket.number in html and f"print-{size}.css" in html
    with client.get(f"/static/css/print-{size}.css") as css:
        assert f"size: {size.upper()}" in css.get_data(as_text=True)
    assert client.get(f"/tickets/{ticket.id}/print?size=a3").status_code == 400


def test_csv_export_opens_in_excel_with_chinese_text(client, auth, world):
    ticket = report(world, description="=HYPERLINK(\"x\") 走廊燈不亮")
    auth.login("u-desk")
    today = date.today()
    response = client.get(f"/tickets/export.csv?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Number", "Estate", "Place"]
    [row] = rows[1:]
    assert row[0] == ticket.number and row[1] == "翠湖花園"
    assert row[7].startswith("'=HYPERLINK")  # no formula injection into Excel
    assert row[9] == "13800000000"


@pytest.mark.parametrize("query", ["", "?from=2026-01-01", "?from=2025-01-01&to=2026-06-30",
                                   "?from=2026-02-01&to=2026-01-01", "?from=x&to=y"])
def test_csv_export_refuses_an_unbounded_range(client, auth, world, query):
    auth.login("u-desk")
    response = client.get(f"/tickets/export.csv{query}")
    assert response.status_code == (400 if query else 200)
    assert response.headers["Content-Type"].startswith("text/html")
    if query:
        assert "at most 366 days" in response.get_data(as_text=True)


def test_supervisor_sets_the_estates_target_times(client, auth, world):
    auth.login("u-supervisor")
    assert 'value="24"' in client.get("/tickets/clocks").get_data(as_text=True)
    form = {"estate": world["estate"].id, "urgent_on_site": "20", "urgent_done": "12", "normal_on_site": "",
            "normal_done": "8", "planned_on_site": "", "planned_done": "72", "return_visit_hours": "24"}
    assert post(client, auth, "/tickets/clocks", form).status_code == 302
    ticket = report(world, created_at=datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc))
    assert ticket.due_at == datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # normal: 8 hours
    assert db.session.get(type(world["estate"]), world["estate"].id).return_visit_hours == 24


@pytest.mark.parametrize(("change", "message"), [
    ({"normal_done": "0"}, "between 1 minute and 90 days"),
    ({"urgent_on_site": "9999", "urgent_done": "1"}, "cannot come after"),
    ({"planned_done": "seven"}, "whole numbers"),
    ({"return_visit_hours": "0"}, "between 1 hour and 30 days"),
])
def test_bad_target_times_are_refused_and_nothing_is_saved(client, auth, world, change, message):
    auth.login("u-supervisor")
    form = {"estate": world["estate"].id, "urgent_on_site": "20", "urgent_done": "12", "normal_on_site": "",
            "normal_done": "8", "planned_on_site": "", "planned_done": "72", "return_visit_hours": "24", **change}
    response = post(client, auth, "/tickets/clocks", form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketClock)) == 0
    assert db.session.get(type(world["estate"]), world["estate"].id).return_visit_hours == 48


def test_engineering_never_sees_owner_id_numbers(client, auth, world):
    factories.contact(world["unit"], phone="13912345678", id_number="440301199001011234")
    ticket = report(world, unit=world["unit"])
    auth.login("u-engineering")
    for path in (f"/tickets/{ticket.id}", f"/tickets/{ticket.id}/print", "/engineering/", "/tickets/"):
        html = client.get(path).get_data(as_text=True)
        assert "440301199001011234" not in html and "13912345678" not in html
