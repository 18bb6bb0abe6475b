"""The summary's complaints, return visits, channels and violations (app/reports/complaints.py),
checked against a small October counted by hand (Asia/Shanghai, UTC+8: October runs from
2026-09-30 16:00Z to 2026-10-31 16:00Z).

Complaints of the estate:
  c1  noise, unit 1-101, registered 09-30 17:00Z (1 October, 01:00 local), closed 18 h later; visit A
  c2  noise, unit 1-101, registered 10-10 00:00Z, closed 48 h later (target 24 h: late); visit B
  c3  hygiene, building 1棟, walk-in, 10-20 00:00Z, still open (late)
  c4  security, by an owner's QR code on the stairwell, 10-08 00:00Z, still open (late)
  --  parking 09-30 15:00Z (30 September, local: not October), and one in the other estate
Unit repairs: r1 closed 10-05 (visit A), r2 closed 10-06 (visit B); r0 closed in September.
Owner reports: two lights on the stairwell (the second seen again on the first's ticket), c4.
Violations: clutter 10-03, façade 10-04; clutter in November (not October).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.complaints import operations, violations, visits
from app.extensions import db
from app.models import (
    ComplaintCategory,
    ComplaintChannel,
    OwnerCode,
    OwnerReportKind,
    ReturnVisit,
    Role,
    TicketChannel,
)
from app.owners import codes, reports
from app.repairs import tickets
from app.reports.complaints import complaints_summary
from app.reports.summaries import Period

from tests import factories

UTC = timezone.utc
OCTOBER = Period("month", date(2026, 10, 1))
AFTER = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def world(app):
    w = factories.build_world(floors=3, stairwells=True, other=True)
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("far_desk", Role.DESK, "other")
    w.add_unit("home", "building", "1-101")
    w.add_unit("next", "building", "1-102")
    w.add_building("far", "other")
    return w


def complaint(w, category, when, *, unit=None, building=None, channel=ComplaintChannel.PHONE, estate=None,
              closed_after=None, grade=None):
    desk = w["far_desk"] if estate is not None else w["desk"]
    c = operations.register(db.session, desk, estate or w["estate"], operations.Registration(
        channel=channel, category=category, complainant_name="陳大文", complainant_phone="13800138000",
        description="投訴", unit=unit, building=building), now=at(when))
    if closed_after is not None:
        closed = at(when) + timedelta(hours=closed_after)
        operations.reply(c, desk, text="已處理", now=closed - timedelta(hours=1))
        operations.close(c, desk, cause="已查明", now=closed)
        db.session.flush()
        if grade:
            visit = db.session.scalars(sa.select(ReturnVisit).where(ReturnVisit.complaint_id == c.id)).one()
            visits.record(db.session, visit, desk, grade=grade, words="", now=closed + timedelta(days=1))
    db.session.flush()
    return c


def unit_repair(w, when, grade):
    desk = w["desk"]
    t = tickets.register_report(db.session, desk, w["estate"], tickets.Report(
        channel=TicketChannel.PHONE, reporter_name="陳大文", reporter_phone="138", description="水龍頭漏水",
        unit=w["home"]), now=at(when) - timedelta(hours=5))
    tickets.dispatch(t, desk, to="工程部", now=at(when) - timedelta(hours=4))
    tickets.repair(t, desk, work_done="換閥芯", now=at(when) - timedelta(hours=2))
    tickets.return_visit(t, desk, grade=grade, comment="", now=at(when))
    db.session.flush()
    return t


@pytest.fixture
def october(world):
    w = world
    complaint(w, ComplaintCategory.NOISE, "2026-09-30T17:00:00", unit=w["home"], closed_after=18, grade="A")
    complaint(w, ComplaintCategory.NOISE, "2026-10-10T00:00:00", unit=w["home"], closed_after=48, grade="B")
    complaint(w, ComplaintCategory.HYGIENE, "2026-10-20T00:00:00", building=w["building"],
              channel=ComplaintChannel.WALK_IN)
    complaint(w, ComplaintCategory.PARKING, "2026-09-30T15:00:00", building=w["building"])  # 30 September
    complaint(w, ComplaintCategory.NOISE, "2026-10-15T00:00:00", estate=w["other"], building=w["far"])
    unit_repair(w, "2026-10-05T03:00:00", "A")
    unit_repair(w, "2026-10-06T03:00:00", "B")
    unit_repair(w, "2026-09-20T03:00:00", "A")  # closed in September
    codes.ensure_codes(db.session, w["estate"], "entrance")
    db.session.flush()
    code = db.session.scalars(sa.select(OwnerCode).where(OwnerCode.entrance_id.is_not(None))).first()
    for when, kind, item in (("2026-10-07T00:00:00", OwnerReportKind.REPAIR, "light"),
                             ("2026-10-07T02:00:00", OwnerReportKind.REPAIR, "light"),
                             ("2026-10-08T00:00:00", OwnerReportKind.COMPLAINT, "security")):
        reports.submit(db.session, code, reports.Sent(kind=kind, item=item, description="三樓", phone="13700137000",
                                                      floor=2), max_bytes=10_000_000, max_pixels=50_000_000,
                       now=at(when))
        db.session.flush()
    for when, unit, kind in (("2026-10-03T02:00:00", "home", "clutter"), ("2026-10-04T02:00:00", "next", "facade"),
                             ("2026-11-02T02:00:00", "home", "clutter")):
        violations.trace_violation(db.session, w["desk"], building=w["building"], room=w[unit].room_number,
                                   kind=kind, summary="違章", now=at(when))
    db.session.commit()
    return w


def test_the_period_s_figures_counted_by_hand(october):
    c = complaints_summary(db.session, october["estate"], OCTOBER, AFTER)
    rows = {r.category: r for r in c.by_category}
    assert set(rows) == {ComplaintCategory.NOISE, ComplaintCategory.HYGIENE, ComplaintCategory.SECURITY}
    noise, hygiene, security = (rows[k] for k in (ComplaintCategory.NOISE, ComplaintCategory.HYGIENE,
                                                  ComplaintCategory.SECURITY))
    assert (noise.count, noise.closed, noise.late) == (2, 2, 1)  # the second closed after its 24 hours
    assert noise.mean_hours == pytest.approx(33.0)  # (18 + 48) / 2
    assert (hygiene.count, hygiene.closed, hygiene.late, hygiene.mean_hours) == (1, 0, 1, None)
    assert (security.count, security.closed, security.late) == (1, 0, 1)
    place, n = c.by_place[0]
    assert "1-101" in place and n == 2
    # Return visits: both complaints closed in October were visited (A, B); so were both unit repairs.
    assert (c.complaint_visits.closed, c.complaint_visits.visited, c.complaint_visits.grades) == (2, 2, {"A": 1, "B": 1})
    assert (c.repair_visits.closed, c.repair_visits.visited, c.repair_visits.grades) == (2, 2, {"A": 1, "B": 1})
    assert c.complaint_visits.share == 1.0
    # How things came in: two repairs by phone and one by an owner's code; complaints by phone,
    # in person, and one by code; three owner reports, one of them seen again on an open ticket.
    assert c.tickets_by_channel == {"phone": 2, "app": 1}
    assert c.complaints_by_channel == {"phone": 2, "walk_in": 1, "app": 1}
    assert (c.owner_reports, c.owner_seen_again) == (3, 1)
    assert c.violations_by_kind == {"clutter": 1, "facade": 1}


def test_the_summary_page_shows_them_to_the_desk_and_nothing_of_another_estate(client, auth, october):
    auth.login("desk")
    page = client.get(f"/reports/summary?estate={october['estate'].id}&period=month&start=2026-10-01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="chart-complaint-category"' in html and 'id="chart-violations"' in html
    assert 'id="chart-channels"' in html and 'id="chart-visit-grades"' in html
    assert '<tr data-category="noise"><th scope="row">噪音</th><td>2</td><td>2</td><td>1</td>' in html
    assert '<tr data-visits="1"><th scope="row">投訴</th><td>2</td><td>2</td>' in html
    assert "<strong>3</strong>" in html  # owner reports by QR code
    auth.logout()
    auth.login("far-desk")
    assert client.get(f"/reports/summary?estate={october['estate'].id}&period=month&start=2026-10-01").status_code == 404
    other = client.get(f"/reports/summary?estate={october['other'].id}&period=month&start=2026-10-01")
    html = other.get_data(as_text=True)
    assert '<tr data-category="noise"><th scope="row">噪音</th><td>1</td>' in html
    assert 'data-category="hygiene"' not in html and 'id="chart-violations"' not in html
