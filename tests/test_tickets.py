"""Repair tickets: opened from defects in the same transaction, seen again instead of duplicated,
a lifecycle that refuses steps out of order, and target times per urgency."""
from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import sync, tickets
from app.extensions import db
from app.models import (
    FindingResult,
    RepairTicket,
    Role,
    RoundKind,
    TicketClock,
    TicketStatus,
    Urgency,
)
from app.round_plan import build_plan

from . import factories

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Asia/Shanghai


@pytest.fixture
def world(app):
    estate = factories.estate()
    building = factories.building(estate, floors=1)
    factories.entrance(building)
    steward = factories.user(Role.STEWARD, username="amy", estates=[estate])
    desk = factories.user(Role.DESK, username="desk", estates=[estate])
    return dict(estate=estate, building=building, steward=steward, desk=desk)


def walk(world, defects: dict[str, dict], now=NOW) -> list:
    """Complete a corridor round through the sync store: `defects` maps item codes to their answer."""
    steward = world["steward"]
    rnd = sync.start_round(db.session, steward, uuid=str(uuidlib.uuid4()), kind=RoundKind.CORRIDOR,
                           estate_id=world["estate"].id, building_id=world["building"].id, started_at=now, now=now)
    plan = build_plan(db.session, rnd)
    floor = next(c for c in plan.checkpoints if c.applies_to == "floor")
    answers = []
    for point in plan.checkpoints:
        for item in plan.items_at[point.key]:
            extra = dict(defects.get(item.code, {})) if point is floor else {}
            if "photo_uuids" in extra:
                extra["photo_uuids"] = (str(uuidlib.uuid4()),)
            answers.append(sync.FindingInput(uuid=str(uuidlib.uuid4()), checkpoint=point.key, item_code=item.code,
                                             result=FindingResult.DEFECT if extra else FindingResult.FINE,
                                             **extra))
    sync.complete_round(db.session, steward, rnd.uuid, answers, fingerprint=str(uuidlib.uuid4()), now=now)
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
