"""Office staff assigned to some buildings of an estate (desk, supervisor, engineering) see those
buildings' records, and the estate's own only if assigned to it estate-wide (User.covers_place):
tickets, rounds and findings under review, the overview, meters, the intake form; the summaries and
the audit log, which cover whole estates, only for those assigned to the whole estate."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import refusals, review
from app.decoration import permits
from app.extensions import db
from app.models import (
    Finding,
    FindingResult,
    Role,
    RoundKind,
    TicketChannel,
    TicketEvent,
    TicketStatus,
)
from app.models.base import new_uuid
from app.repairs import tickets
from app.rounds import overview

from tests import factories


@pytest.fixture
def world(app):
    w = factories.build_world(estate="此處", buildings={"b1": "1棟", "b2": "2棟"}, floors=1, stairwells=True, people={
        "amy": (Role.STEWARD, "b1"), "bob": (Role.STEWARD, "b2"), "wide": (Role.STEWARD, "estate"),
        "desk_b1": (Role.DESK, "b1"), "desk_mixed": (Role.DESK, "estate", "b1"), "desk": (Role.DESK, "estate"),
        "boss_b1": (Role.SUPERVISOR, "b1"), "boss_mixed": (Role.SUPERVISOR, "estate", "b1"),
        "boss": (Role.SUPERVISOR, "estate"), "eng_b1": (Role.ENGINEERING, "b1")})
    w.add_unit("unit2", "b2", "2-101")
    w["mine"] = factories.finding_with_photo(w["amy"], w["estate"], w["b1"])
    w["theirs"] = factories.finding_with_photo(w["bob"], w["estate"], w["b2"])
    w["facility"] = factories.round_(RoundKind.FACILITY, w["wide"], w["estate"], date(2026, 11, 26))
    return w.save()


def ticket_of(finding):
    ticket = tickets.ticket_for_defect(db.session, finding)
    db.session.commit()
    return ticket


def test_a_building_desk_sees_only_its_buildings_tickets(client, auth, world):
    mine, theirs = ticket_of(world["mine"]), ticket_of(world["theirs"])
    listed = set(db.session.scalars(tickets.visible_tickets(world["desk_b1"])))
    assert listed == {mine}
    assert set(db.session.scalars(tickets.visible_tickets(world["desk"]))) == {mine, theirs}
    auth.login("desk-b1")
    page = client.get("/tickets/?status=all").get_data(as_text=True)
    assert mine.number in page and theirs.number not in page
    assert client.get(f"/tickets/{theirs.id}").status_code == 404
    assert client.get(f"/photos/{world['theirs'].photos[0].uuid}/thumb").status_code == 404
    assert client.get(f"/photos/{world['mine'].photos[0].uuid}/thumb").status_code == 200


def test_building_scoped_desk_sees_only_its_buildings_rounds(client, auth, world):
    mine = factories.finding_with_photo(world["amy"], world["estate"], world["b1"])
    theirs = factories.finding_with_photo(world["bob"], world["estate"], world["b2"])
    auth.login("desk-b1")
    assert client.get(f"/rounds/{mine.round.uuid}").status_code == 200
    assert client.get(f"/rounds/{theirs.round.uuid}").status_code == 404
    assert client.get(f"/api/v1/rounds/{theirs.round.uuid}").status_code == 404
    assert client.get(f"/photos/{theirs.photos[0].uuid}/thumb").status_code == 404
    listing = client.get("/desk/findings").get_data(as_text=True)
    assert mine.uuid in listing and theirs.uuid not in listing


def test_building_engineering_sees_only_its_buildings_work(world):
    mine, _theirs = ticket_of(world["mine"]), ticket_of(world["theirs"])
    assert tickets.engineering_queue(db.session, world["eng_b1"]) == [mine]


def test_the_intake_form_offers_only_the_users_places_and_refuses_others(client, auth, world):
    auth.login("desk-b1")
    form = client.get("/tickets/new").get_data(as_text=True)
    assert "1棟" in form and "2棟" not in form
    report = tickets.Report(channel=TicketChannel.PHONE, reporter_name="王先生", reporter_phone="",
                            description="水管漏水", unit=world["unit2"])
    with pytest.raises(tickets.TicketError):
        tickets.register_report(db.session, world["desk_b1"], world["estate"], report)
    road = tickets.Report(channel=TicketChannel.PHONE, reporter_name="王先生", reporter_phone="",
                          description="路燈不亮", place_text="南門路燈")
    with pytest.raises(tickets.TicketError):  # the estate's own place: for those assigned estate-wide
        tickets.register_report(db.session, world["desk_b1"], world["estate"], road)
    assert tickets.register_report(db.session, world["desk_mixed"], world["estate"], road).building_id is None


def test_a_mixed_desk_reviews_its_buildings_and_the_estates_own_rounds(client, auth, world):
    page = review.review_page(db.session, world["desk_mixed"], review.ReviewFilter())
    assert {f.uuid for f in page.findings} == {world["mine"].uuid}
    with pytest.raises(review.NotVisible):
        review.review_page(db.session, world["desk_mixed"], review.ReviewFilter(building_id=world["b2"].id))
    auth.login("desk-mixed")
    assert client.get(f"/rounds/{world['theirs'].round.uuid}").status_code == 404
    assert client.get(f"/rounds/{world['mine'].round.uuid}").status_code == 200
    assert client.get(f"/rounds/{world['facility'].uuid}").status_code == 200  # the estate's own round
    auth.logout()
    auth.login("desk-b1")
    assert client.get(f"/rounds/{world['facility'].uuid}").status_code == 404


def test_the_overview_shows_a_building_desk_its_buildings_and_their_stewards(world):
    estate = world["estate"]
    assert [s.building.name for s in overview.building_summaries(db.session, estate, world["desk_b1"])] == ["1棟"]
    assert [s.building.name for s in overview.building_summaries(db.session, estate, world["desk"])] == ["1棟", "2棟"]
    tuesday = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # corridor rounds are due (last week's are done)
    board = overview.rounds_board(db.session, estate, world["desk_b1"], at=tuesday)
    assert {b.steward.username for b in board} == {"amy", "wide"}
    wide = next(b for b in board if b.steward.username == "wide")
    assert wide.due and all(d.target.building == world["b1"] for d in wide.due)  # not 2棟's, not the estate's
    everyone = overview.rounds_board(db.session, estate, world["desk"], at=tuesday)
    assert {b.steward.username for b in everyone} == {"amy", "bob", "wide"}
    assert {d.target.building for d in next(b for b in everyone if b.steward.username == "wide").due} >= {
        world["b1"], world["b2"]}


def test_the_review_filter_offers_a_building_desk_its_buildings_stewards(world):
    choices = review.filter_choices(db.session, world["desk_b1"], world["estate"].id)
    assert [b.name for b in choices.buildings] == ["1棟"]
    assert {s.username for s in choices.stewards} == {"amy", "wide"}  # not bob of 2棟
    everyone = review.filter_choices(db.session, world["desk"], world["estate"].id)
    assert {s.username for s in everyone.stewards} == {"amy", "bob", "wide"}


def test_building_engineering_reads_only_its_buildings_meters(world):
    estate = world["estate"]
    factories.meter(estate, world["b1"])
    factories.meter(estate, world["b2"])
    factories.meter(estate)  # the garage's, the estate's own
    db.session.commit()
    assert {d.target.building.name for d in overview.meter_standing(db.session, estate, world["eng_b1"])} == {"1棟"}
    everyone = overview.meter_standing(db.session, estate, factories.user(Role.ENGINEERING, estates=[estate]))
    assert {d.target.building.name if d.target.building else None for d in everyone} == {"1棟", "2棟", None}


@pytest.mark.parametrize("username, whole", [("boss", True), ("boss-mixed", False), ("boss-b1", False)])
def test_summaries_and_the_audit_log_need_the_whole_estate(client, auth, world, username, whole):
    factories.contact(world["unit2"], name="王秘密", phone="13912345678")
    db.session.commit()
    auth.login(username)
    log = client.get("/audit").get_data(as_text=True)
    assert ("王秘密" in log) is whole
    assert ("13912345678" in log) is whole
    summary = client.get(f"/reports/summary?estate={world['estate'].id}")
    assert (summary.status_code == 200 and "<svg" in summary.get_data(as_text=True)) is whole


def test_unhappy_return_visits_are_found_behind_many_happy_ones(world):
    ticket = ticket_of(world["mine"])
    now = datetime.now(timezone.utc)

    def visit(grade: str, at: datetime) -> None:
        db.session.add(TicketEvent(ticket_id=ticket.id, kind="return_visit", by_id=world["desk"].id,
                                   from_status=TicketStatus.REPAIRED, to_status=TicketStatus.CLOSED, note="",
                                   data={"grade": grade}, at=at))

    visit("C", now - timedelta(days=2))
    for minutes in range(60):  # more satisfied visits since than the list's limit
        visit("A", now - timedelta(hours=1, minutes=minutes))
    db.session.commit()
    found = tickets.escalations(db.session, world["boss"], since=now - timedelta(days=30), limit=50)
    assert [e.data["grade"] for e in found] == ["C"]
    assert tickets.escalations(db.session, world["boss_b1"], since=now - timedelta(days=30)) == found
    assert sa.inspect(found[0]).persistent


def defect(rnd, code: str, reason: str, **place) -> Finding:
    item = next(i for i in rnd.checklist_version.items if i.code == code)
    finding = Finding(uuid=new_uuid(), round=rnd, item=item, result=FindingResult.DEFECT, reason_code=reason,
                      recorded_at=datetime.now(timezone.utc), **place)
    db.session.add(finding)
    db.session.flush()
    return finding


def test_a_facility_round_defect_at_a_stairwell_door_is_that_buildings_ticket(world):
    door = defect(world["facility"], "FAC-ENTRANCE-DOOR", "NOT-CLOSING", entrance_id=world["b1"].entrances[0].id)
    ticket = ticket_of(door)
    assert ticket.building_id == world["b1"].id
    assert tickets.may_see_ticket(world["desk_b1"], ticket) and tickets.engineering_queue(db.session, world["eng_b1"])
    assert not tickets.may_see_ticket(factories.user(Role.DESK, username="desk-b2", buildings=[world["b2"]]), ticket)


def test_the_same_defect_in_two_buildings_without_stairwells_is_two_tickets(world):
    estate = world["estate"]
    plain = [factories.building(estate, name=name, floors=1) for name in ("3棟", "4棟")]
    found = [defect(factories.round_(RoundKind.CORRIDOR, world["wide"], estate, date(2026, 11, 24), building_=b),
                    "COR-LIGHT", "LIGHT-OFF", floor=1) for b in plain]
    first, second = (ticket_of(f) for f in found)
    assert first != second and (first.building_id, second.building_id) == (plain[0].id, plain[1].id)


@pytest.mark.parametrize("path", ["/tickets/clocks", "/decoration/rules"])
@pytest.mark.parametrize("username, whole", [("boss", True), ("boss-mixed", False), ("boss-b1", False)])
def test_an_estates_settings_are_for_a_supervisor_of_the_whole_estate(client, auth, world, path, username, whole):
    auth.login(username)
    assert client.get(f"{path}?estate={world['estate'].id}").status_code == (200 if whole else 404)


def test_the_services_refuse_an_estates_settings_to_a_supervisor_of_some_buildings(world):
    with pytest.raises(tickets.TicketError):
        tickets.set_clocks(db.session, world["estate"], world["boss_mixed"], {}, 48)
    with pytest.raises(refusals.NotFound):
        permits.set_rules(db.session, world["boss_b1"], world["estate"], working_hours="08:00-18:00",
                          quiet_rest_days=True)
