"""Summaries (總結分析): every figure checked against a small world counted by hand.

Calendar (Asia/Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before):

       October 2026
    Mo Tu We Th Fr Sa Su
              1  2  3  4
     5  6  7  8  9 10 11
    12 13 14 15 16 17 18
    19 20 21 22 23 24 25
    26 27 28 29 30 31      (1 November is a Sunday; 2 November a Monday)

October's bounds: [2026-09-30 16:00Z, 2026-10-31 16:00Z). Week of 5 October: [10-04 16:00Z, 10-11 16:00Z).

The world: buildings 1棟 (A) and 2棟 (B), one stairwell each; an elevator in B's stairwell; a
playground; a vacant unit V in B. Stewards: amy walks building A only (A's corridor); bob is
estate-wide (both corridors, the facility round, V's vacant-unit check). No meters, no
decorating units. Default rules: corridors due Tuesdays, facility Thursdays, vacant units on the 1st.
"""
from __future__ import annotations

import uuid as uuidlib
from datetime import date, datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import (
    Asset,
    AssetKind,
    DefectRoute,
    Finding,
    FindingAmendment,
    FindingResult,
    PublicArea,
    PublicAreaKind,
    RepairTicket,
    Role,
    RoundKind,
    TicketChannel,
    TicketStatus,
    UnitState,
    Urgency,
)
from app.repairs import tickets
from app.reports import charts, summaries
from app.reports.summaries import Completion, Period, PeriodError

from tests import factories

UTC = timezone.utc
AFTER = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # "now": October and its last occurrences are over
OCTOBER = Period("month", date(2026, 10, 1))
WEEK_OF_5_OCT = Period("week", date(2026, 10, 5))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def finding(rnd, code: str, result: FindingResult = FindingResult.DEFECT, **place) -> Finding:
    item = next(i for i in rnd.checklist_version.items if i.code == code)
    obj = Finding(uuid=str(uuidlib.uuid4()), round=rnd, item=item, result=result,
                  recorded_at=datetime.combine(rnd.local_date, datetime.min.time(), UTC), **place)
    db.session.add(obj)
    db.session.flush()
    return obj


def amend(f: Finding, result: FindingResult, by) -> None:
    db.session.add(FindingAmendment(finding=f, amended_by_id=by.id, result=result, why="corrected"))
    db.session.flush()


def defect_ticket(f: Finding, when: str) -> RepairTicket:
    ticket = tickets.ticket_for_defect(db.session, f, now=at(when))
    db.session.flush()
    return ticket


def repaired(ticket, by, opened_at: str, repaired_at: str) -> None:
    tickets.dispatch(ticket, by, to="工程部", now=at(opened_at))
    tickets.repair(ticket, by, work_done="done", now=at(repaired_at))


def visit(ticket, by, grade: str, when: str) -> None:
    tickets.return_visit(ticket, by, grade=grade, now=at(when))
    ticket.events[-1].at = at(when)  # the event log stamps the real clock


def phone_ticket(estate, number: str, created: str, route: DefectRoute, unit=None, **kw) -> RepairTicket:
    created_at = at(created)
    obj = RepairTicket(number=number, estate_id=estate.id, building_id=unit.building_id if unit else None,
                       unit_id=unit.id if unit else None, channel=TicketChannel.PHONE, route=route,
                       urgency=Urgency.NORMAL, is_unit_repair=unit is not None, description="報修",
                       created_at=created_at, due_at=created_at + timedelta(hours=24), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"a": "1棟", "b": "2棟"}, floors=6, stairwells=True)
    estate, a, b = w["estate"], w["a"], w["b"]
    ea, eb = a.entrances[0], b.entrances[0]
    playground = PublicArea(estate=estate, kind=PublicAreaKind.PLAYGROUND, name="兒童遊樂場")
    db.session.add(playground)
    db.session.flush()
    elevator = Asset(estate=estate, entrance=eb, kind=AssetKind.ELEVATOR, name="2棟1梯電梯")
    db.session.add(elevator)
    vacant = w.add_unit("vacant", "b", "2-101", state=UnitState.VACANT)
    occupied = w.add_unit("occupied", "b", "2-102")
    amy = w.add_person("amy", Role.STEWARD, "a", display_name="Amy")
    bob = w.add_person("bob", Role.STEWARD, "estate", display_name="Bob")
    desk = w.add_person("desk", Role.DESK, "estate")

    def rnd(kind, steward, day, building=None, unit=None, completed=True):
        return factories.round_(kind, steward, estate, date(2026, *day), building_=building, unit_=unit,
                                completed=completed)

    C, F, V = RoundKind.CORRIDOR, RoundKind.FACILITY, RoundKind.VACANT_UNIT
    floor = lambda entrance, n: dict(entrance_id=entrance.id, floor=n)  # noqa: E731

    # Corridor A: occurrences Oct 6, 13, 20, 27 → rounds Oct 6, 14 (Wed), 22 (Thu, late, same occurrence).
    r1 = rnd(C, amy, (10, 6), a)
    f_light_a5 = finding(r1, "COR-LIGHT", **floor(ea, 5))
    f_hygiene_a5 = finding(r1, "COR-HYGIENE", **floor(ea, 5))
    finding(r1, "COR-LIGHT", FindingResult.FINE, **floor(ea, 3))
    r2 = rnd(C, amy, (10, 14), a)
    finding(r2, "COR-LIGHT", **floor(ea, 5))
    r3 = rnd(C, bob, (10, 22), a)
    amend(finding(r3, "COR-LIGHT", **floor(ea, 5)), FindingResult.FINE, desk)  # corrected: not a defect
    amend(finding(r3, "COR-HYGIENE", FindingResult.FINE, **floor(ea, 2)), FindingResult.DEFECT, desk)  # is one
    in_progress = rnd(C, amy, (10, 28), a, completed=False)  # not completed: not counted
    finding(in_progress, "COR-LIGHT", **floor(ea, 4))

    # Corridor B: rounds Sep 29 (September's occurrence), Oct 6, Oct 13, Nov 2 (Mon: Oct 27's occurrence).
    r_sep = rnd(C, bob, (9, 29), b)
    f_light_b1_sep = finding(r_sep, "COR-LIGHT", **floor(eb, 1))
    r_b6 = rnd(C, bob, (10, 6), b)
    finding(r_b6, "COR-LIGHT", **floor(eb, 1))
    r_b13 = rnd(C, bob, (10, 13), b)
    finding(r_b13, "COR-LIGHT", FindingResult.FINE, **floor(eb, 1))
    r_nov = rnd(C, bob, (11, 2), b)
    finding(r_nov, "COR-LIGHT", **floor(eb, 1))

    # Facility: occurrences Oct 1, 8, 15, 22, 29 → rounds Oct 1, 8, 15, 29 (Oct 22 missed).
    f1 = rnd(F, bob, (10, 1))
    f_playground = finding(f1, "FAC-PLAYGROUND", public_area_id=playground.id)
    f_elevator = finding(f1, "FAC-ELEVATOR-RUN", asset_id=elevator.id)
    finding(rnd(F, bob, (10, 8)), "FAC-PLAYGROUND", public_area_id=playground.id)
    rnd(F, bob, (10, 15))
    finding(rnd(F, bob, (10, 29)), "FAC-PLAYGROUND", public_area_id=playground.id)

    # Vacant unit V: occurrence Oct 1 → round Oct 3.
    v = rnd(V, bob, (10, 3), unit=vacant)
    f_leak = finding(v, "VAC-LEAK", unit_id=vacant.id)

    # Tickets (created → repaired: hours; due = created + 24 h for normal and urgent alike).
    t0 = defect_ticket(f_light_b1_sep, "2026-09-30T15:59")  # Sep 30 23:59 local
    repaired(t0, desk, "2026-09-30T20:00", "2026-10-01T03:59")  # 12 h, in time
    tickets.verify(t0, desk, passed=True, now=at("2026-10-31T15:59"))  # Oct 31 23:59 local: closed in October
    t1 = defect_ticket(f_light_a5, "2026-10-06T02:00")
    repaired(t1, desk, "2026-10-06T03:00", "2026-10-06T12:00")  # 10 h, in time
    tickets.verify(t1, desk, passed=True, now=at("2026-10-07T02:00"))
    t2 = defect_ticket(f_hygiene_a5, "2026-10-06T02:00")  # cleaning
    repaired(t2, desk, "2026-10-06T03:00", "2026-10-08T02:00")  # 48 h, late
    tickets.verify(t2, desk, passed=True, now=at("2026-10-08T04:00"))
    t3 = defect_ticket(f_playground, "2026-09-30T16:30")  # Oct 1 00:30 local
    repaired(t3, desk, "2026-09-30T17:00", "2026-10-01T00:30")  # 8 h, in time; not checked yet
    t4 = defect_ticket(f_elevator, "2026-10-01T04:00")  # outside party
    repaired(t4, desk, "2026-10-01T05:00", "2026-10-03T04:00")  # 48 h, late
    tickets.verify(t4, desk, passed=True, now=at("2026-10-31T16:00"))  # Nov 1 00:00 local: not October
    t5 = defect_ticket(f_leak, "2026-10-03T02:00")
    t5.is_unit_repair = True
    repaired(t5, desk, "2026-10-03T03:00", "2026-10-03T06:00")
    visit(t5, desk, "C", "2026-10-04T02:00")  # reopened
    tickets.repair(t5, desk, work_done="again", now=at("2026-10-05T02:00"))  # latest repair: 48 h, late
    visit(t5, desk, "A", "2026-10-06T02:00")  # closed
    t6 = phone_ticket(estate, "WX-T6", "2026-10-20T01:00", DefectRoute.ENGINEERING, unit=occupied)
    repaired(t6, desk, "2026-10-20T02:00", "2026-10-20T07:00")  # 6 h, in time
    visit(t6, desk, "B", "2026-10-31T15:30")  # Oct 31 23:30 local: October
    t7 = phone_ticket(estate, "WX-T7", "2026-10-11T16:30", DefectRoute.CLEANING)  # Mon Oct 12 00:30 local
    tickets.cancel(t7, desk, reason="duplicate call")
    t7.closed_at = at("2026-10-12T00:00")
    phone_ticket(estate, "WX-T8", "2026-10-12T00:00", DefectRoute.CLEANING, status=TicketStatus.CANCELLED,
                 merged_into_id=t1.id, closed_at=at("2026-10-12T00:00"))  # a merged duplicate

    # Another estate's October ticket and return visit: never counted here.
    other = factories.estate("別的小區")
    t9 = phone_ticket(other, "WX-T9", "2026-10-05T02:00", DefectRoute.ENGINEERING,
                      unit=factories.unit(factories.building(other), "9-901"))
    repaired(t9, desk, "2026-10-05T03:00", "2026-10-05T04:00")
    visit(t9, desk, "A", "2026-10-06T02:00")
    db.session.flush()
    return dict(estate=estate, other=other, a=a, b=b, amy=amy, bob=bob, desk=desk)


def test_month_defects(world):
    s = summaries.estate_summary(db.session, world["estate"], OCTOBER, now=AFTER)
    # Completed October rounds: corridor A 3 (Oct 6, 14, 22) + corridor B 2 (Oct 6, 13) + facility 4
    # + vacant 1 = 10 (Sep 29 and Nov 2 are outside; Oct 28 is in progress).
    assert s.rounds_completed == 10
    # Defects: corridor A 2 (Oct 6: light + hygiene 5F) + 1 (Oct 14: light 5F) + 1 (Oct 22: hygiene 2F,
    # amended to a defect; light 5F amended to fine) = 4; corridor B 1 (Oct 6); facility 2 (Oct 1)
    # + 1 (Oct 8) + 1 (Oct 29) = 4; vacant 1 → 10.
    assert s.defects == 10
    assert [(c.kind, c.count) for c in s.by_category] == [
        (RoundKind.CORRIDOR, 5), (RoundKind.FACILITY, 4), (RoundKind.VACANT_UNIT, 1)]
    # A: the 4 of its corridor. B: corridor 1 + elevator in its stairwell 1 + its vacant unit 1 = 3.
    # Estate-wide: the playground 3. Ties: a building before the estate's own places.
    assert [(c.name, c.count) for c in s.by_building] == [("1棟", 4), ("2棟", 3), (None, 3)]
    # COR-LIGHT 3 (A5 twice, B1) and FAC-PLAYGROUND 3 (tie: corridor first), COR-HYGIENE 2, then 1 each.
    assert [(i.code, i.count) for i in s.by_item] == [
        ("COR-LIGHT", 3), ("FAC-PLAYGROUND", 3), ("COR-HYGIENE", 2), ("FAC-ELEVATOR-RUN", 1), ("VAC-LEAK", 1)]
    assert s.by_item[0].label("zh_Hant") == "樓道照明"
    # Playground: on 3 rounds (Oct 1, 8, 29), 3 defects. A 1梯 5F: on 2 rounds (Oct 6: 2 defects, Oct 14: 1).
    # B 1梯 1F is defective on one October round only (Sep 29 and Nov 2 are other months).
    assert [(p.label, p.rounds, p.defects) for p in s.recurring_places] == [
        ("兒童遊樂場", 3, 3), ("1棟 1梯 5F", 2, 3)]


def test_month_tickets_and_return_visits(world):
    s = summaries.estate_summary(db.session, world["estate"], OCTOBER, now=AFTER)
    routes = {r.route: r for r in s.routes}
    assert list(routes) == [DefectRoute.ENGINEERING, DefectRoute.CLEANING, DefectRoute.OUTSIDE_PARTY]
    # Opened in October: engineering t1, t3 (Oct 1 00:30 local), t5, t6 = 4; cleaning t2, t7 = 2;
    # outside t4 = 1 → 7. Not t0 (Sep 30 23:59 local), not t8 (merged), not t9 (other estate).
    assert (s.tickets_opened, routes[DefectRoute.ENGINEERING].opened, routes[DefectRoute.CLEANING].opened,
            routes[DefectRoute.OUTSIDE_PARTY].opened) == (7, 4, 2, 1)
    # Closed in October: engineering t0 (Oct 31 23:59 local), t1, t5 (visit A), t6 (visit B) = 4;
    # cleaning t2 = 1 → 5. Not t4 (Nov 1 00:00 local), t3 (waiting for its check), t7 (cancelled).
    assert (s.tickets_closed, routes[DefectRoute.ENGINEERING].closed, routes[DefectRoute.CLEANING].closed,
            routes[DefectRoute.OUTSIDE_PARTY].closed) == (5, 4, 1, 0)
    assert s.tickets_cancelled == 1  # t7; t8 was merged, not cancelled
    # Repaired in October, hours created → repaired: engineering t0 12, t1 10, t3 8, t5 48 (its latest
    # repair), t6 6 → sorted 6, 8, 10, 12, 48: median 10; in time 4 of 5 (t5 late).
    eng = routes[DefectRoute.ENGINEERING]
    assert (eng.repaired, eng.median_hours, eng.within_target, eng.share_within_target) == (5, 10.0, 4, 0.8)
    # Cleaning: t2 48 h, late. Outside party: t4 48 h, late.
    clean, outside = routes[DefectRoute.CLEANING], routes[DefectRoute.OUTSIDE_PARTY]
    assert (clean.repaired, clean.median_hours, clean.within_target) == (1, 48.0, 0)
    assert (outside.repaired, outside.median_hours, outside.within_target) == (1, 48.0, 0)
    # All: 6, 8, 10, 12, 48, 48, 48 → median 12; in time 4 of 7.
    assert (s.tickets_repaired, s.median_hours, s.repaired_within_target) == (7, 12.0, 4)
    assert s.share_within_target == pytest.approx(4 / 7)
    # Return visits in October: t5 C (Oct 4), t5 A (Oct 6), t6 B (Oct 31 23:30 local); t9's is elsewhere.
    assert s.grades == {"A": 1, "B": 1, "C": 1}
    assert s.return_visits == 3


def test_month_round_completion(world):
    s = summaries.estate_summary(db.session, world["estate"], OCTOBER, now=AFTER)
    kinds = {k.kind: k.completion for k in s.completion}
    # Corridor: A Oct 6 ✓, 13 ✓ (Oct 14), 20 ✓ (Oct 22), 27 ✗; B Oct 6 ✓, 13 ✓, 20 ✗, 27 ✓ (Nov 2)
    # → due 8, done 6, missed 2.
    assert kinds[RoundKind.CORRIDOR] == Completion(due=8, done=6, missed=2)
    # Facility: Oct 1, 8, 15 ✓, 22 ✗, 29 ✓ → due 5, done 4, missed 1.
    assert kinds[RoundKind.FACILITY] == Completion(due=5, done=4, missed=1)
    # Vacant unit V: Oct 1 ✓ (Oct 3).
    assert kinds[RoundKind.VACANT_UNIT] == Completion(due=1, done=1, missed=0)
    assert set(kinds) == {RoundKind.CORRIDOR, RoundKind.FACILITY, RoundKind.VACANT_UNIT}
    assert s.completion_total == Completion(due=14, done=11, missed=3)
    # Per steward, most missed first: bob covers all 14 (missed: B Oct 20, A Oct 27, facility Oct 22);
    # amy covers corridor A only: 4 due, 3 done, 1 missed (Oct 27; bob's Oct 22 round counted for her too).
    assert [(st.steward.username, st.completion) for st in s.stewards] == [
        ("bob", Completion(due=14, done=11, missed=3)), ("amy", Completion(due=4, done=3, missed=1))]


def test_an_unfinished_period_counts_what_has_fallen_due(world):
    now = at("2026-10-23T04:00")  # Friday Oct 23, noon local
    s = summaries.estate_summary(db.session, world["estate"], OCTOBER, now=now)
    kinds = {k.kind: k.completion for k in s.completion}
    # Fallen due: corridor Oct 6, 13, 20 × 2 buildings = 6; facility Oct 1, 8, 15, 22 = 4; vacant 1.
    # Corridor B Oct 20 and facility Oct 22 have no round yet but are not over: open, not missed.
    assert kinds[RoundKind.CORRIDOR] == Completion(due=6, done=5, missed=0)
    assert kinds[RoundKind.CORRIDOR].open == 1
    assert kinds[RoundKind.FACILITY] == Completion(due=4, done=3, missed=0)
    assert s.completion_total == Completion(due=11, done=9, missed=0)
    assert s.completion_total.open == 2
    assert s.today == date(2026, 10, 23)


def test_week_boundaries_are_local(world):
    s = summaries.estate_summary(db.session, world["estate"], WEEK_OF_5_OCT, now=AFTER)
    # Rounds Oct 5–11: corridor A Oct 6, corridor B Oct 6, facility Oct 8 → defects 2 + 1 + 1.
    assert (s.rounds_completed, s.defects) == (3, 4)
    # [Oct 4 16:00Z, Oct 11 16:00Z): opened t1, t2 (t7 is Mon Oct 12 00:30 local: next week);
    # closed t5 (Oct 6), t1 (Oct 7), t2 (Oct 8); repaired t5 (Oct 5 10:00 local, 48 h), t1 (10 h),
    # t2 (48 h) → median 48, in time 1 of 3.
    assert (s.tickets_opened, s.tickets_closed, s.tickets_cancelled) == (2, 3, 0)
    assert (s.tickets_repaired, s.median_hours, s.repaired_within_target) == (3, 48.0, 1)
    assert s.grades == {"A": 1, "B": 0, "C": 0}  # t5's A on Oct 6
    # Occurrences starting Oct 5–11: corridor Oct 6 (A ✓, B ✓), facility Oct 8 ✓; the vacant check
    # fell due on Oct 1, in the week before.
    assert s.completion_total == Completion(due=3, done=3, missed=0)
    nxt = summaries.estate_summary(db.session, world["estate"], WEEK_OF_5_OCT.next(), now=AFTER)
    assert (nxt.tickets_opened, nxt.tickets_cancelled) == (1, 1)  # t7


def test_another_estate_sees_only_its_own(world):
    s = summaries.estate_summary(db.session, world["other"], OCTOBER, now=AFTER)
    # t9 only: opened Oct 5, repaired in 2 h, visit A; no rounds, no steward.
    assert (s.defects, s.rounds_completed, s.tickets_opened, s.tickets_closed) == (0, 0, 1, 1)
    assert (s.tickets_repaired, s.median_hours, s.grades) == (1, 2.0, {"A": 1, "B": 0, "C": 0})
    assert s.completion == [] and s.stewards == []


def test_periods():
    assert Period.containing("week", date(2026, 10, 7)) == Period("week", date(2026, 10, 5))
    assert Period.containing("month", date(2026, 10, 31)) == OCTOBER
    assert OCTOBER.end == date(2026, 11, 1) and OCTOBER.last == date(2026, 10, 31)
    assert len(OCTOBER.days()) == 31 and len(WEEK_OF_5_OCT.days()) == 7
    assert Period("month", date(2026, 1, 1)).previous() == Period("month", date(2025, 12, 1))
    assert Period("month", date(2026, 12, 1)).next() == Period("month", date(2027, 1, 1))
    assert Period("week", date(2026, 12, 28)).next() == Period("week", date(2027, 1, 4))
    assert WEEK_OF_5_OCT.previous() == Period("week", date(2026, 9, 28))
    # Local midnights as UTC: Shanghai is UTC+8; Berlin leaves summer time (UTC+2 → +1) on Oct 25.
    assert WEEK_OF_5_OCT.bounds("Asia/Shanghai") == (at("2026-10-04T16:00"), at("2026-10-11T16:00"))
    assert OCTOBER.bounds("Europe/Berlin") == (at("2026-09-30T22:00"), at("2026-10-31T23:00"))
    with pytest.raises(PeriodError):
        Period("week", date(2026, 10, 6))  # not a Monday
    with pytest.raises(PeriodError):
        Period("year", date(2026, 1, 1))
    today = date(2026, 11, 26)
    assert summaries.parse_period(None, None, today) == Period("month", date(2026, 11, 1))
    assert summaries.parse_period("week", None, today) == Period("week", date(2026, 11, 23))
    assert summaries.parse_period("week", "2026-10-07", today) == WEEK_OF_5_OCT
    for kind, start in (("year", None), ("month", "2026-13-01"), ("month", "yesterday"), ("month", "1900-01-01")):
        with pytest.raises(PeriodError):
            summaries.parse_period(kind, start, today)


def test_charts_escape_labels_and_carry_their_numbers():
    svg = charts.bar_chart("c<1>", "Defects <by> building", [
        charts.Bar("<script>alert(1)</script>", (3,), "3"), charts.Bar("2棟 & co", (1,), "1")])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "2棟 &amp; co" in svg
    assert 'role="img"' in svg and "<title id=\"c-1-title\">Defects &lt;by&gt; building</title>" in svg
    assert ">3</text>" in svg and ">1</text>" in svg
    # Short numbers beside the bars: the longest bar (3) takes 80% of the width, 1 a third of that.
    assert 'width="80.00%"' in svg and 'width="26.67%"' in svg
    long = charts.bar_chart("long", "Places", [charts.Bar("1棟 1梯 5F", (2,), "2 rounds · 3 defects")])
    assert 'width="100.00%"' in long and 'x="0" y="55"' in long  # long numbers go under the bar
    assert charts.bar_chart("empty", "Nothing", []) == ""
    split = charts.bar_chart("grades", "Grades", [charts.Bar("Visits", (1, 1, 2), "A 1 · B 1 · C 2")],
                             series=[charts.Series("A", "#1b6e2f"), charts.Series("B", "#8a5a00"),
                                     charts.Series("C", "#b00020")])
    assert split.count("<rect") == 3 + 3  # three parts and three legend swatches
    assert 'width="25.00%"' in split and 'width="50.00%"' in split
    assert charts.fit("外立面、陽臺及空調位外立面、陽臺及空調位外立面、陽臺及空調位", 10).endswith("…")


# --- The page ---------------------------------------------------------------------------------


def summary_url(estate_id, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"estate": estate_id, **params}.items())
    return f"/reports/summary?{query}"


def test_the_page_shows_charts_and_numbers(client, auth, world):
    auth.login("desk")
    response = client.get(summary_url(world["estate"].id, period="month", start="2026-10-01"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") >= 6 and 'role="img"' in html
    assert "翠湖花園" in html and "兒童遊樂場" in html and "1棟 1梯 5F" in html
    assert "10.0 小時" in html and "12.0 小時" in html  # engineering and overall medians (zh_Hant page)
    assert "57% (4/7)" in html  # repaired within target, all routes
    assert 'value="2026-10-01"' in html
    assert "start=2026-09-01" in html and "start=2026-11-01" in html  # previous and next months


def test_the_page_defaults_and_normalises(client, auth, world):
    auth.login("desk")
    response = client.get("/reports/summary")
    assert response.status_code == 200  # the user's first estate, this month
    html = client.get(summary_url(world["estate"].id, period="week", start="2026-10-07")).get_data(as_text=True)
    assert 'value="2026-10-05"' in html  # the Monday of that week


def test_scope_and_bad_parameters(client, auth, world):
    auth.login("desk")
    assert client.get(summary_url(world["other"].id)).status_code == 404
    assert client.get(summary_url(987654)).status_code == 404
    for params in ({"period": "year"}, {"start": "2026-13-01"}, {"start": "soon"}):
        response = client.get(summary_url(world["estate"].id, **params))
        assert response.status_code == 400
        assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get("/reports/summary?estate=abc").status_code == 400


def test_summaries_are_for_those_assigned_to_the_whole_estate(client, auth, world):
    desk = factories.user(Role.DESK, buildings=[world["a"]])  # building 1棟 only
    auth.login(desk.username)
    assert client.get(summary_url(world["estate"].id)).status_code == 404
    response = client.get("/reports/summary")
    assert response.status_code == 200 and 'class="chart"' not in response.get_data(as_text=True)


def test_a_building_name_is_escaped_on_the_page(client, auth, world):
    world["a"].name = "<b>1棟</b>"
    auth.login("desk")
    html = client.get(summary_url(world["estate"].id, start="2026-10-01")).get_data(as_text=True)
    assert "<b>1棟</b>" not in html and "&lt;b&gt;1棟&lt;/b&gt;" in html


@pytest.mark.parametrize(("role", "status"), [(Role.SUPERVISOR, 200), (Role.STEWARD, 403), (Role.ENGINEERING, 403)])
def test_who_may_read_summaries(client, auth, world, role, status):
    user = factories.user(role, estates=[world["estate"]])
    auth.login(user.username)
    assert client.get(summary_url(world["estate"].id)).status_code == status
