"""The owner's rating on the status link is the return visit: asked only once the work is done,
recorded once; on a unit repair it is repairs' own return-visit step (A closes, C reopens)."""
from __future__ import annotations

import sqlalchemy as sa

from app.complaints import operations as complaint_ops
from app.extensions import db
from app.models import ComplaintStatus, OwnerCode, OwnerReportKind, ReturnVisit, TicketStatus
from app.owners import codes, reports

from tests.conftest import csrf_from


def unit_code(world) -> OwnerCode:
    codes.ensure_codes(db.session, world["estate"], "unit")
    db.session.flush()
    return db.session.scalars(sa.select(OwnerCode).where(OwnerCode.unit_id == world["home"].id)).one()


def submit(code, **kw):
    fields = dict(kind=OwnerReportKind.REPAIR, item="leak", description="廚房漏水", phone="13700137000")
    fields.update(kw)
    report = reports.submit(db.session, code, reports.Sent(**fields), max_bytes=10_000_000, max_pixels=50_000_000)
    db.session.commit()
    return report


def rate(client, token, grade, words=""):
    page = client.get(f"/o/s/{token}").get_data(as_text=True)
    return client.post(f"/o/s/{token}/rating", data={"csrf_token": csrf_from(page), "grade": grade, "words": words})


def test_no_rating_before_the_work_is_done(client, world):
    report = submit(unit_code(world))
    assert 'name="grade"' not in client.get(f"/o/s/{report.status_token}").get_data(as_text=True)
    assert rate(client, report.status_token, "A").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReturnVisit)) == 0


def test_a_unit_repairs_rating_is_its_return_visit(client, world):
    from app.repairs import tickets

    report = submit(unit_code(world))
    ticket = report.ticket
    assert ticket.is_unit_repair
    tickets.dispatch(ticket, world["desk"], to="工程部")
    tickets.repair(ticket, world["desk"], work_done="換水管")
    db.session.commit()
    assert 'name="grade"' in client.get(f"/o/s/{report.status_token}").get_data(as_text=True)
    assert rate(client, report.status_token, "Z").status_code == 422
    assert rate(client, report.status_token, "A", "好").status_code == 303
    ticket = db.session.get(type(ticket), ticket.id)
    assert ticket.status is TicketStatus.CLOSED
    assert [e.kind for e in ticket.events][-1] == "return_visit" and ticket.events[-1].by_id is None
    assert rate(client, report.status_token, "C").status_code == 422  # once


def test_a_complaints_rating_c_reopens_it(client, world):
    report = submit(unit_code(world), kind=OwnerReportKind.COMPLAINT, item="noise", description="深夜噪音")
    complaint = report.complaint
    complaint_ops.reply(complaint, world["desk"], text="已勸止")
    complaint_ops.close(complaint, world["desk"], cause="鄰居派對")
    db.session.commit()
    assert rate(client, report.status_token, "C").status_code == 303
    complaint = db.session.get(type(complaint), complaint.id)
    assert complaint.status is ComplaintStatus.OPEN
    visit = db.session.scalars(sa.select(ReturnVisit)).one()  # the planned visit, done by the owner
    assert visit.by_owner and visit.grade == "C" and visit.reason == "complaint"


def test_an_owners_c_on_a_public_repair_reaches_the_supervisor(client, auth, world):
    from app.models import Role
    from app.repairs import tickets

    world.add_person("boss", Role.SUPERVISOR, "estate")
    world.save()
    code = db.session.scalars(sa.select(OwnerCode).where(OwnerCode.entrance_id.is_not(None),
                                                         OwnerCode.unit_id.is_(None))).one()
    report = submit(code, item="light", description="燈不亮")
    ticket = report.ticket
    tickets.dispatch(ticket, world["desk"], to="工程部")
    tickets.repair(ticket, world["desk"], work_done="換燈管")
    db.session.commit()
    assert rate(client, report.status_token, "C", "還是不亮").status_code == 303
    ticket = db.session.get(type(ticket), ticket.id)
    assert ticket.status is TicketStatus.REPAIRED  # the steward's check on site still decides
    auth.login("boss")
    assert "還是不亮" in client.get("/tickets/overdue").get_data(as_text=True)
