"""Return visits as a plan: every closed complaint within 3 days (configurable), a share of the
closed unit repairs drawn at random with the repair after a C always in, the desk's list, the call
graded A/B/C; a C reopens the complaint or ticket (repairs' own return-visit step) and reaches the
supervisor."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.complaints import operations, visits
from app.extensions import db
from app.models import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    ReturnVisit,
    TicketChannel,
    TicketStatus,
)
from app.repairs import tickets

from tests.complaints.helpers import post


def closed_complaint(world, now=None):
    desk = world["desk"]
    c = operations.register(db.session, desk, world["estate"], operations.Registration(
        channel=ComplaintChannel.PHONE, category=ComplaintCategory.NOISE, complainant_name="陳大文",
        complainant_phone="13800138000", description="深夜噪音", unit=world["home"]), now=now)
    operations.reply(c, desk, text="已勸止")
    operations.close(c, desk, cause="鄰居裝修", now=now)
    return c


def closed_unit_repair(world, grade="A", now=None):
    desk = world["desk"]
    t = tickets.register_report(db.session, desk, world["estate"], tickets.Report(
        channel=TicketChannel.PHONE, reporter_name="陳大文", reporter_phone="138", description="水龍頭漏水",
        unit=world["home"]), now=now)
    tickets.dispatch(t, desk, to="工程部")
    tickets.repair(t, desk, work_done="換閥芯")
    tickets.return_visit(t, desk, grade=grade, comment="" if grade != "C" else "仍漏水", now=now)
    return t


def test_a_c_on_a_complaints_visit_reopens_it_for_the_steward_and_the_supervisor(client, auth, world):
    complaint = closed_complaint(world)
    db.session.commit()
    visit = db.session.scalars(sa.select(ReturnVisit)).one()
    auth.login("desk")
    page = client.get("/complaints/visits").get_data(as_text=True)
    assert f'data-visit="{visit.id}"' in page and complaint.number in page
    assert post(client, auth, f"/complaints/visits/{visit.id}", grade="C", words="").status_code == 303  # words needed
    assert db.session.get(ReturnVisit, visit.id).done_at is None
    assert post(client, auth, f"/complaints/visits/{visit.id}", grade="C", words="噪音依舊").status_code == 302
    complaint = db.session.get(type(complaint), complaint.id)
    assert complaint.status is ComplaintStatus.OPEN and complaint.closed_at is None
    assert f'data-visit="{visit.id}"' not in client.get("/complaints/visits").get_data(as_text=True)
    auth.logout()
    auth.login("boss")
    assert "噪音依舊" in client.get("/complaints/late").get_data(as_text=True)
    auth.logout()
    auth.login("amy")
    assert f'data-complaint="{complaint.id}"' in client.get("/rounds/today").get_data(as_text=True)
    # Closed again: a second visit is planned.
    operations.reply(complaint, world["desk"], text="已再次處理")
    operations.close(complaint, world["desk"], cause="鄰居裝修")
    db.session.commit()
    assert [v.round_no for v in db.session.scalars(sa.select(ReturnVisit).order_by(ReturnVisit.id))] == [1, 2]


def test_the_plan_sets_the_days_and_the_share(client, auth, world):
    auth.login("boss")
    assert post(client, auth, "/complaints/visits/plan", days="0", share="30").status_code == 422
    assert post(client, auth, "/complaints/visits/plan", days="2", share="101").status_code == 422
    assert post(client, auth, "/complaints/visits/plan", days="2", share="50").status_code == 302
    complaint = closed_complaint(world)
    db.session.commit()
    visit = db.session.scalars(sa.select(ReturnVisit)).one()
    assert visit.due_at - complaint.closed_at == timedelta(days=2)


def test_repairs_are_drawn_by_share_once_each_and_always_after_a_c(world):
    estate = world["estate"]
    now = datetime.now(timezone.utc)
    plan = operations.visit_plan(db.session, estate.id)
    plan.repair_share = 0
    db.session.add(plan)
    first = closed_unit_repair(world, now=now - timedelta(days=2))
    assert visits.draw_repairs(db.session, estate, now=now - timedelta(days=1)) == []
    # The unit's last repair got a C (reopened, repaired again, visited B); its next repair is always drawn.
    bad = closed_unit_repair(world, grade="C", now=now - timedelta(hours=20))
    tickets.repair(bad, world["desk"], work_done="再換閥芯")
    tickets.return_visit(bad, world["desk"], grade="B", now=now - timedelta(hours=19))
    after_c = closed_unit_repair(world, now=now - timedelta(hours=10))
    drawn = visits.draw_repairs(db.session, estate, now=now)
    assert [(v.ticket_id, v.reason) for v in drawn] == [(after_c.id, "after_c")]
    assert visits.draw_repairs(db.session, estate, now=now + timedelta(minutes=1)) == []  # drawn from once
    plan.repair_share = 100
    later = closed_unit_repair(world, now=now + timedelta(hours=1))
    drawn = visits.draw_repairs(db.session, estate, now=now + timedelta(hours=2), rng=random.Random(1))
    assert [v.ticket_id for v in drawn] == [later.id] and first.id not in [v.ticket_id for v in drawn]


def test_a_c_on_a_drawn_repair_reopens_the_closed_ticket_by_repairs_own_step(client, auth, world):
    ticket = closed_unit_repair(world)
    plan = operations.visit_plan(db.session, world["estate"].id)
    plan.repair_share = 100
    db.session.add(plan)
    db.session.commit()
    auth.login("desk")
    assert post(client, auth, "/complaints/visits/draw").status_code == 302
    visit = db.session.scalars(sa.select(ReturnVisit)).one()
    assert visit.ticket_id == ticket.id
    assert post(client, auth, f"/complaints/visits/{visit.id}", grade="C", words="又漏了").status_code == 302
    ticket = db.session.get(type(ticket), ticket.id)
    assert ticket.status is TicketStatus.DISPATCHED and ticket.closed_at is None
    events = [e for e in ticket.events if e.kind == "return_visit"]
    assert events[-1].data["grade"] == "C" and events[-1].data["later"] is True
    auth.logout()
    auth.login("boss")
    assert "又漏了" in client.get("/tickets/overdue").get_data(as_text=True)


def test_the_summary_counts_categories_visits_and_owner_reports(client, auth, world):
    closed_complaint(world)
    closed_unit_repair(world, grade="B")
    db.session.commit()
    auth.login("desk")
    page = client.get("/complaints/summary?days=30").get_data(as_text=True)
    assert 'data-category="noise"' in page
    # One complaint closed and its visit not made yet; one unit repair closed, visited B.
    visits_table = page.split('summary-visits')[1].split("</table>")[0]
    assert "<td>1</td><td>0</td><td>0%</td>" in visits_table and "<td>1</td><td>1</td><td>100%</td>" in visits_table
    assert "業主掃碼報事" in page


def test_the_daily_draw_runs_from_the_command_line(runner, world):
    plan = operations.visit_plan(db.session, world["estate"].id)
    plan.repair_share = 100
    db.session.add(plan)
    closed_unit_repair(world)
    db.session.commit()
    result = runner.invoke(args=["complaints", "draw-visits"])
    assert result.exit_code == 0 and "1 repairs drawn" in result.output
    assert runner.invoke(args=["complaints", "draw-visits"]).output.startswith("0 ")
