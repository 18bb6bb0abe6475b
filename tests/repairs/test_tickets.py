"""Repair tickets: opened from defects in the same transaction, seen again instead of duplicated,
a lifecycle that refuses steps out of order, and target times per urgency."""
from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.models import (
    DefectRoute,
    FindingResult,
    RepairTicket,
    Role,
    RoundKind,
    TicketChannel,
    TicketClock,
    TicketStatus,
    Urgency,
)
from app.repairs import tickets
from app.rounds import intake
from app.rounds.plan import build_plan

from tests import factories

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Asia/Shanghai


def walk(world, defects: dict[str, dict], now=NOW) -> list:
    """Complete a corridor round through the sync store: `defects` maps item codes to their answer."""
    steward = world["steward"]
    rnd = intake.start_round(db.session, steward, uuid=str(uuidlib.uuid4()), kind=RoundKind.CORRIDOR,
                             estate_id=world["estate"].id, building_id=world["building"].id, started_at=now, now=now)
    plan = build_plan(db.session, rnd)
    floor = next(c for c in plan.checkpoints if c.applies_to == "floor")
    answers = []
    for point in plan.checkpoints:
        for item in plan.items_at[point.key]:
            extra = dict(defects.get(item.code, {})) if point is floor else {}
            if "photo_uuids" in extra:
                extra["photo_uuids"] = (str(uuidlib.uuid4()),)
            answers.append(intake.FindingInput(uuid=str(uuidlib.uuid4()), checkpoint=point.key, item_code=item.code,
                                               result=FindingResult.DEFECT if extra else FindingResult.FINE,
                                               **extra))
    intake.complete_round(db.session, steward, rnd.uuid, answers, fingerprint=str(uuidlib.uuid4()), now=now)
    db.session.flush()
    return [f for f in rnd.findings if f.result is FindingResult.DEFECT]


LIGHT = {"COR-LIGHT": {"reason_code": "LIGHT-OFF", "photo_uuids": ("p",)}}


def all_tickets():
    return db.session.scalars(sa.select(RepairTicket).order_by(RepairTicket.id)).all()


def test_a_defect_opens_a_ticket_in_the_same_transaction(world):
    [defect] = walk(world, LIGHT)
    [ticket] = all_tickets()
    assert defect.ticket is ticket
    assert ticket.number == "WX-20261124-0001"
    assert ticket.route.value == "engineering" and ticket.status is TicketStatus.NEW
    assert ticket.floor == defect.floor and ticket.entrance_id == defect.entrance_id and ticket.item_code == "COR-LIGHT"
    assert "樓道照明" in ticket.description
    assert ticket.due_at == NOW + timedelta(hours=24)
    assert [e.kind for e in ticket.events] == ["opened"]


def test_fine_answers_and_decoration_breaches_open_no_repair_ticket(world):
    walk(world, {})
    assert all_tickets() == []


def test_the_same_defect_seen_again_attaches_to_the_open_ticket(world):
    walk(world, LIGHT)
    [again] = walk(world, LIGHT, now=NOW + timedelta(days=7))
    [ticket] = all_tickets()
    assert again.ticket is ticket and ticket.recurrences == 1
    assert [e.kind for e in ticket.events] == ["opened", "seen_again"]


def test_a_defect_seen_again_does_not_read_the_tickets_history(world):
    for day in range(3):
        walk(world, LIGHT, now=NOW + timedelta(days=day))
    db.session.commit()
    db.session.expire_all()  # as in the next request: nothing of the ticket in memory
    statements = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        walk(world, LIGHT, now=NOW + timedelta(days=3))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    assert not [s for s in statements if s.lstrip().startswith("SELECT") and "FROM ticket_event" in s]
    [ticket] = all_tickets()
    assert ticket.recurrences == 3
    assert [e.kind for e in ticket.events] == ["opened", "seen_again", "seen_again", "seen_again"]


def test_after_closing_the_same_defect_opens_a_new_ticket(world):
    walk(world, LIGHT)
    [ticket] = all_tickets()
    tickets.dispatch(ticket, world["desk"], to="工程部 王師傅")
    tickets.repair(ticket, world["desk"], work_done="換燈泡")
    tickets.verify(ticket, world["steward"], passed=True)
    walk(world, LIGHT, now=NOW + timedelta(days=8))
    assert [t.number for t in all_tickets()] == ["WX-20261124-0001", "WX-20261202-0001"]


def test_numbers_count_per_local_day(world):
    walk(world, {**LIGHT, "COR-HYGIENE": {"reason_text": "地面髒"}})
    # 23:59 local on the same day, then just after local midnight.
    walk(world, {"COR-CLUTTER": {"reason_text": "紙箱", "photo_uuids": ("x",)}},
         now=datetime(2026, 11, 24, 15, 59, tzinfo=timezone.utc))
    walk(world, {"COR-PIPE-LEAK": {"reason_text": "滴水", "photo_uuids": ("y",)}},
         now=datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc))
    assert [t.number for t in all_tickets()] == [
        "WX-20261124-0001", "WX-20261124-0002", "WX-20261124-0003", "WX-20261125-0001"]


def test_public_repair_lifecycle_with_a_failed_check(world):
    walk(world, LIGHT)
    [ticket] = all_tickets()
    desk, steward = world["desk"], world["steward"]
    tickets.dispatch(ticket, desk, to="工程部")
    tickets.start(ticket, desk)
    tickets.repair(ticket, desk, work_done="換燈罩", parts="燈罩×1")
    tickets.verify(ticket, steward, passed=False, note="仍不亮")
    assert ticket.status is TicketStatus.DISPATCHED
    tickets.start(ticket, desk)
    tickets.repair(ticket, desk, work_done="換線")
    tickets.verify(ticket, steward, passed=True, now=NOW + timedelta(hours=5))
    assert ticket.status is TicketStatus.CLOSED and ticket.closed_at == NOW + timedelta(hours=5)
    assert [(e.kind, e.to_status.value) for e in ticket.events] == [
        ("opened", "new"), ("dispatch", "dispatched"), ("start", "in_progress"), ("repair", "repaired"),
        ("verification_failed", "dispatched"), ("start", "in_progress"), ("repair", "repaired"),
        ("verified", "closed")]
    assert all(e.by_id for e in ticket.events)


def unit_ticket(world) -> RepairTicket:
    unit = factories.unit(world["building"], "1-101")
    ticket = RepairTicket(number="WX-20261124-0100", estate=world["estate"], unit=unit, channel="phone",
                          route="engineering", urgency=Urgency.NORMAL, is_unit_repair=True, description="漏水",
                          due_at=NOW + timedelta(hours=24))
    db.session.add(ticket)
    db.session.flush()
    return ticket


@pytest.mark.parametrize(("grade", "status", "escalated"), [("A", TicketStatus.CLOSED, False),
                                                            ("B", TicketStatus.CLOSED, False),
                                                            ("C", TicketStatus.DISPATCHED, True)])
def test_unit_repair_return_visit(world, grade, status, escalated):
    ticket = unit_ticket(world)
    tickets.dispatch(ticket, world["desk"], to="工程部")
    tickets.repair(ticket, world["desk"], work_done="換水龍頭", chargeable=True, amount="80.00", now=NOW)
    assert ticket.visit_due_at == NOW + timedelta(hours=48)
    tickets.return_visit(ticket, world["desk"], grade=grade, comment="ok")
    assert ticket.status is status
    assert ticket.events[-1].data["escalated"] is escalated


@pytest.mark.parametrize("step", [
    lambda t, w: tickets.start(t, w["desk"]),  # not dispatched yet
    lambda t, w: tickets.verify(t, w["steward"], passed=True),  # not repaired yet
    lambda t, w: tickets.dispatch(t, w["desk"], to=" "),  # to nobody
    lambda t, w: tickets.cancel(t, w["desk"], reason=""),  # no reason
    lambda t, w: tickets.return_visit(t, w["desk"], grade="A"),  # a public repair
])
def test_steps_out_of_order_are_refused_and_change_nothing(world, step):
    walk(world, LIGHT)
    [ticket] = all_tickets()
    with pytest.raises(tickets.TicketError) as info:
        step(ticket, world)
    assert str(info.value.message)
    assert ticket.status is TicketStatus.NEW and [e.kind for e in ticket.events] == ["opened"]


def test_grades_outside_abc_and_checks_of_unit_repairs_are_refused(world):
    ticket = unit_ticket(world)
    tickets.dispatch(ticket, world["desk"], to="工程部")
    with pytest.raises(tickets.TicketError):
        tickets.repair(ticket, world["desk"], work_done="修好", chargeable=True)  # chargeable without amount
    tickets.repair(ticket, world["desk"], work_done="修好")
    for step in (lambda: tickets.return_visit(ticket, world["desk"], grade="D"),
                 lambda: tickets.verify(ticket, world["desk"], passed=True)):
        with pytest.raises(tickets.TicketError):
            step()
    assert ticket.status is TicketStatus.REPAIRED


def test_closed_tickets_cannot_be_cancelled(world):
    walk(world, LIGHT)
    [ticket] = all_tickets()
    tickets.cancel(ticket, world["desk"], reason="重複報修")
    assert ticket.status is TicketStatus.CANCELLED
    with pytest.raises(tickets.TicketError):
        tickets.cancel(ticket, world["desk"], reason="again")


def test_clocks_per_estate_and_overdue(world):
    db.session.add(TicketClock(estate_id=world["estate"].id, urgency=Urgency.NORMAL, on_site_minutes=None,
                               done_minutes=8 * 60))
    walk(world, LIGHT)
    [ticket] = all_tickets()
    assert ticket.due_at == NOW + timedelta(hours=8)
    assert not tickets.is_overdue(ticket, NOW + timedelta(hours=8))
    assert tickets.is_overdue(ticket, NOW + timedelta(hours=8, seconds=1))
    assert tickets.clock_for(db.session, world["estate"].id, Urgency.URGENT) == tickets.Clock(30, 24 * 60)


# Every action from every status, for a public and a unit repair: which are legal, and where they lead.
ACTIONS = {
    "dispatch": lambda t, u: tickets.dispatch(t, u, to="工程部"),
    "start": lambda t, u: tickets.start(t, u),
    "repair": lambda t, u: tickets.repair(t, u, work_done="換燈管"),
    "verify_pass": lambda t, u: tickets.verify(t, u, passed=True),
    "verify_fail": lambda t, u: tickets.verify(t, u, passed=False, note="仍不亮"),
    "visit_a": lambda t, u: tickets.return_visit(t, u, grade="A"),
    "visit_c": lambda t, u: tickets.return_visit(t, u, grade="C"),
    "cancel": lambda t, u: tickets.cancel(t, u, reason="重複"),
}
S = TicketStatus
LEGAL = {  # (unit repair?, status, action) -> status after; anything missing is refused
    **{(unit, S.NEW, "dispatch"): S.DISPATCHED for unit in (False, True)},
    **{(unit, S.DISPATCHED, "dispatch"): S.DISPATCHED for unit in (False, True)},  # redispatch
    **{(unit, s, "cancel"): S.CANCELLED for unit in (False, True) for s in (S.NEW, S.DISPATCHED, S.IN_PROGRESS)},
    **{(unit, S.DISPATCHED, "start"): S.IN_PROGRESS for unit in (False, True)},
    **{(unit, s, "repair"): S.REPAIRED for unit in (False, True) for s in (S.DISPATCHED, S.IN_PROGRESS)},
    (False, S.REPAIRED, "verify_pass"): S.CLOSED,
    (False, S.REPAIRED, "verify_fail"): S.DISPATCHED,
    (True, S.REPAIRED, "visit_a"): S.CLOSED,
    (True, S.REPAIRED, "visit_c"): S.DISPATCHED,
}


@pytest.mark.parametrize("unit_repair", [False, True], ids=["public", "unit"])
@pytest.mark.parametrize("status", list(TicketStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_transition_is_legal_or_refused(world, unit_repair, status, action):
    ticket = unit_ticket(world)
    ticket.is_unit_repair = unit_repair
    ticket.status = status
    db.session.flush()
    events_before = len(ticket.events)
    expected = LEGAL.get((unit_repair, status, action))
    if expected is None:
        with pytest.raises(tickets.TicketError) as info:
            ACTIONS[action](ticket, world["desk"])
        assert str(info.value.message)
        assert ticket.status is status and len(ticket.events) == events_before
    else:
        ACTIONS[action](ticket, world["desk"])
        assert ticket.status is expected
        assert ticket.events[-1].from_status is status and ticket.events[-1].to_status is expected


def report_intake(world, **kw) -> RepairTicket:
    report = dict(channel=TicketChannel.PHONE, reporter_name="陳太", reporter_phone="13800000000",
                  description="廚房水龍頭漏水", expectation="明早九點前上門")
    report.update(kw)
    return tickets.register_report(db.session, world["desk"], world["estate"], tickets.Report(**report), now=NOW)


def test_desk_intake_gives_a_number_and_a_unit_repair_gets_a_return_visit(world):
    unit = factories.unit(world["building"], "1-102")
    ticket = report_intake(world, unit=unit, urgency=Urgency.URGENT)
    db.session.flush()
    assert ticket.number == "WX-20261124-0001" and ticket.is_unit_repair and ticket.channel is TicketChannel.PHONE
    assert ticket.on_site_due_at == NOW + timedelta(minutes=30) and ticket.due_at == NOW + timedelta(hours=24)
    assert ticket.building_id == world["building"].id and ticket.floor == unit.floor
    assert [e.kind for e in ticket.events] == ["opened"] and ticket.events[0].by_id == world["desk"].id
    # Nobody on site 31 minutes later: late, though the repair itself is not due yet.
    assert tickets.late_on_site(ticket, NOW + timedelta(minutes=31))
    tickets.dispatch(ticket, world["desk"], to="工程部", now=NOW + timedelta(minutes=5))
    tickets.start(ticket, world["desk"], now=NOW + timedelta(minutes=20))
    assert not tickets.is_overdue(ticket, NOW + timedelta(minutes=31))


@pytest.mark.parametrize(("kw", "message"), [
    (dict(reporter_name=" "), "who reported"),
    (dict(description=""), "Describe"),
    (dict(channel=TicketChannel.ROUND), "phone or in person"),
    (dict(route=DefectRoute.DECORATION_VIOLATION), "engineering, cleaning"),
    (dict(), "Say where"),
])
def test_intake_refuses_incomplete_reports(world, kw, message):
    with pytest.raises(tickets.TicketError) as info:
        report_intake(world, **kw)
    with force_locale("en"):
        assert message in str(info.value.message)
    assert all_tickets() == []


def test_intake_refuses_a_place_of_another_estate(world):
    other = factories.unit(factories.building(factories.estate()), "9-901")
    with pytest.raises(tickets.TicketError):
        report_intake(world, unit=other)
    assert all_tickets() == []


def test_merge_moves_the_defects_and_closes_the_source(world):
    [first] = walk(world, LIGHT)
    phoned = report_intake(world, place_text="1梯 1樓燈不亮")
    db.session.flush()
    target = first.ticket
    tickets.merge(db.session, phoned, target, world["desk"])
    assert phoned.status is TicketStatus.CANCELLED and phoned.merged_into is target
    assert target.recurrences == 1
    assert [e.kind for e in target.events][-1] == "merged_from"


def test_merging_tickets_of_different_estates_is_refused(world):
    [first] = walk(world, LIGHT)
    other_estate = factories.estate()
    factories.building(other_estate)
    stranger = tickets.register_report(
        db.session, factories.user(Role.DESK, estates=[other_estate]), other_estate,
        tickets.Report(channel=TicketChannel.PHONE, reporter_name="王", reporter_phone="", description="燈",
                       place_text="大堂"), now=NOW)
    db.session.flush()
    with pytest.raises(tickets.TicketError) as info:
        tickets.merge(db.session, stranger, first.ticket, world["desk"])
    with force_locale("en"):
        assert "different estates" in str(info.value.message)
    assert stranger.status is TicketStatus.NEW and first.ticket.recurrences == 0


def test_split_gives_a_wrongly_attached_defect_its_own_ticket(world):
    [first] = walk(world, LIGHT)
    [again] = walk(world, LIGHT, now=NOW + timedelta(days=1))
    ticket = first.ticket
    assert again.ticket is ticket and ticket.recurrences == 1
    with pytest.raises(tickets.TicketError):
        tickets.split(db.session, first, world["desk"])  # the opening defect stays
    new = tickets.split(db.session, again, world["desk"], now=NOW + timedelta(days=1))
    db.session.flush()
    assert again.ticket is new and new.number == "WX-20261125-0001" and ticket.recurrences == 0
    assert [e.kind for e in ticket.events][-1] == "split_out" and [e.kind for e in new.events] == ["split_from"]
    with pytest.raises(tickets.TicketError):
        tickets.split(db.session, again, world["desk"])  # now alone on its ticket


def test_changing_urgency_moves_the_target_times(world):
    [first] = walk(world, LIGHT)
    ticket = first.ticket
    tickets.change_urgency(db.session, ticket, world["desk"], Urgency.URGENT)
    assert ticket.on_site_due_at == NOW + timedelta(minutes=30) and ticket.due_at == NOW + timedelta(hours=24)
    tickets.change_urgency(db.session, ticket, world["desk"], Urgency.PLANNED)
    assert ticket.on_site_due_at is None and ticket.due_at == NOW + timedelta(days=7)
    assert [e.kind for e in ticket.events][-2:] == ["urgency_changed", "urgency_changed"]


def test_overdue_list_for_the_supervisor(world):
    supervisor = factories.user(Role.SUPERVISOR, estates=[world["estate"]])
    [first] = walk(world, LIGHT)
    visit = report_intake(world, unit=factories.unit(world["building"], "1-103"))
    db.session.flush()
    tickets.dispatch(visit, world["desk"], to="工程部")
    tickets.repair(visit, world["desk"], work_done="修好", now=NOW)
    db.session.flush()
    assert tickets.overdue_tickets(db.session, supervisor, NOW + timedelta(hours=23)) == []
    assert tickets.overdue_tickets(db.session, supervisor, NOW + timedelta(hours=25)) == [first.ticket]
    assert tickets.overdue_tickets(db.session, supervisor, NOW + timedelta(hours=49)) == [first.ticket, visit]
    outsider = factories.user(Role.SUPERVISOR, estates=[factories.estate()])
    assert tickets.overdue_tickets(db.session, outsider, NOW + timedelta(hours=49)) == []
