"""Covers for leave: "林小華 covers 陳小明's buildings from 12-10 to 12-17". On those days, in the
estate's own calendar, the covered steward's rounds, repair checks and decoration checks are the
cover's too, and afterwards they are not; work the cover did on the last day and synced the day
after is kept; a cover ended early stops that day; bad covers are refused with where and why."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.decoration import violations
from app.extensions import db
from app.models import (
    DefectRoute,
    LeaveCover,
    RepairTicket,
    Role,
    RoundKind,
    TicketChannel,
    UnitState,
    Urgency,
    Violation,
    ViolationStatus,
)
from app.models.base import new_uuid
from app.refusals import Conflict, NotFound, Rejected
from app.repairs import tickets, verification
from app.rounds import intake, schedule
from app.staff import covers
from app.staff.covers import CoverRequest

from .. import factories
from ..conftest import csrf_from

FIRST, LAST = date(2026, 12, 10), date(2026, 12, 17)


@pytest.fixture(autouse=True)
def english(app):
    """These tests read the English messages of the refusals (tests/test_i18n.py checks the others)."""
    with force_locale("en"):
        yield


def at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock on `day` in Asia/Shanghai (UTC+8), as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc) - timedelta(hours=8)


@pytest.fixture
def world(app):
    estate = factories.estate(name="翠湖花園")
    b1, b2 = factories.building(estate, "1棟"), factories.building(estate, "2棟")
    decorating = factories.unit(b1, "1-601", state=UnitState.DECORATING)
    ming = factories.user(Role.STEWARD, username="ming", display_name="陳小明", buildings=[b1])
    hua = factories.user(Role.STEWARD, username="hua", display_name="林小華", buildings=[b2])
    desk = factories.user(Role.DESK, username="desk", estates=[estate])
    eng = factories.user(Role.ENGINEERING, username="eng", estates=[estate])
    admin = factories.user(Role.ADMIN, username="boss")
    cover = covers.add_cover(db.session, admin, CoverRequest(hua.id, ming.id, FIRST, LAST), now=at(FIRST - timedelta(days=3)))
    db.session.flush()
    return dict(estate=estate, b1=b1, b2=b2, decorating=decorating, ming=ming, hua=hua, desk=desk, eng=eng,
                admin=admin, cover=cover)


def due_places(world, who: str, when: datetime) -> set[tuple[str, str]]:
    return {(d.kind.value, d.target.unit.room_number if d.target.unit else d.target.building.name)
            for d in schedule.due_rounds(db.session, world[who], at=when)}


@pytest.mark.parametrize(("when", "covered"), [
    (at(FIRST - timedelta(days=1), 23), False),  # 23:00 the evening before
    (at(FIRST, 0), True),  # local midnight of the first day (16:00 UTC the day before)
    (at(date(2026, 12, 15)), True),  # Tuesday: the corridors fall due
    (at(LAST, 23), True),
    (at(LAST + timedelta(days=1), 0), False),
])
def test_the_covered_rounds_are_on_the_covers_list_only_on_the_days_of_the_cover(world, when, covered):
    mine = due_places(world, "hua", when)
    assert (("decoration", "1-601") in mine) is covered  # the covered steward's decorating unit: daily
    # The covered steward keeps theirs (back from leave early, nothing is lost).
    assert ("decoration", "1-601") in due_places(world, "ming", when)


def test_on_a_tuesday_of_the_cover_both_buildings_corridors_are_due_for_the_cover(world):
    assert {("corridor", "1棟"), ("corridor", "2棟")} <= due_places(world, "hua", at(date(2026, 12, 15)))
    assert ("corridor", "1棟") not in due_places(world, "hua", at(date(2026, 12, 22)))


def test_round_starts_follow_the_days_of_the_cover_and_keep_what_was_walked_on_the_last_day(world):
    hua, b1 = world["hua"], world["b1"]
    start = dict(kind=RoundKind.CORRIDOR, estate_id=world["estate"].id, building_id=b1.id)
    rnd = intake.start_round(db.session, hua, uuid=new_uuid(), now=at(date(2026, 12, 15)), **start)
    assert rnd.local_date == date(2026, 12, 15) and rnd.steward_id == hua.id
    with pytest.raises(NotFound):
        intake.start_round(db.session, hua, uuid=new_uuid(), now=at(LAST + timedelta(days=1)), **start)
    with pytest.raises(NotFound):
        intake.start_round(db.session, hua, uuid=new_uuid(), now=at(FIRST - timedelta(days=1)), **start)
    # Walked offline on the last evening, reaching the server the next morning: kept.
    late = intake.start_round(db.session, hua, uuid=new_uuid(), started_at=at(LAST, 21),
                              now=at(LAST + timedelta(days=1), 9), **start)
    assert late.local_date == LAST
    # The decoration check of the covered steward's unit too.
    check = intake.start_round(db.session, hua, uuid=new_uuid(), kind=RoundKind.DECORATION,
                               estate_id=world["estate"].id, unit_id=world["decorating"].id, now=at(FIRST))
    assert check.unit_id == world["decorating"].id


def repaired_ticket(world, building) -> RepairTicket:
    t = RepairTicket(number=f"WX-20261209-{new_uuid()[:4]}", estate=world["estate"], building=building,
                     channel=TicketChannel.ROUND, route=DefectRoute.ENGINEERING, urgency=Urgency.NORMAL,
                     is_unit_repair=False, description="樓道照明 · 燈不亮", created_at=at(FIRST - timedelta(days=2)),
                     due_at=at(FIRST - timedelta(days=1)))
    db.session.add(t)
    db.session.flush()
    tickets.dispatch(t, world["desk"], to="工程部", now=at(FIRST - timedelta(days=2)))
    tickets.repair(t, world["eng"], work_done="換燈泡", now=at(FIRST - timedelta(days=1)))
    db.session.flush()
    return t


def test_repair_checks_of_the_covered_buildings_are_the_covers_on_those_days(world):
    t = repaired_ticket(world, world["b1"])
    tasks = lambda when: [x.ticket_id for x in verification.tasks_for(db.session, world["hua"], at=when)]  # noqa: E731
    assert tasks(at(FIRST - timedelta(days=1))) == []
    assert tasks(at(FIRST)) == [t.id] == tasks(at(LAST, 23))
    assert tasks(at(LAST + timedelta(days=1))) == []
    # Checked on site on the last evening, synced the morning after: applied.
    record = verification.record_verification(db.session, world["hua"], uuid=new_uuid(), ticket_id=t.id, passed=True,
                                              recorded_at=at(LAST, 20), now=at(LAST + timedelta(days=1), 8))
    assert record.applied and record.by_id == world["hua"].id
    # A check dated outside the cover, sent outside it: not the cover's.
    other = repaired_ticket(world, world["b1"])
    with pytest.raises(NotFound):
        verification.record_verification(db.session, world["hua"], uuid=new_uuid(), ticket_id=other.id, passed=True,
                                          recorded_at=at(LAST + timedelta(days=2)), now=at(LAST + timedelta(days=2)))


def test_decoration_rechecks_of_the_covered_units_are_the_covers_on_those_days(world):
    violation = Violation(estate=world["estate"], unit=world["decorating"], status=ViolationStatus.NOTICED,
                          summary="垃圾未清", found_by_id=world["ming"].id, found_at=at(FIRST - timedelta(days=5)),
                          notice_number="ZG-20261205-01", deadline=FIRST + timedelta(days=1))
    db.session.add(violation)
    db.session.flush()
    rechecks = lambda when: [r.violation_id for r in violations.recheck_tasks(db.session, world["hua"], when)]  # noqa: E731
    assert rechecks(at(FIRST + timedelta(days=1))) == [violation.id]
    assert rechecks(at(LAST + timedelta(days=1))) == []
    assert [r.violation_id for r in violations.recheck_tasks(db.session, world["ming"], at(LAST + timedelta(days=1)))] \
        == [violation.id]


def test_a_cover_ended_early_stops_that_day(world):
    covers.end_cover(db.session, world["admin"], world["cover"].id, now=at(date(2026, 12, 13), 15))
    assert ("decoration", "1-601") in due_places(world, "hua", at(date(2026, 12, 12), 23))
    assert ("decoration", "1-601") not in due_places(world, "hua", at(date(2026, 12, 13), 9))
    with pytest.raises(Conflict, match="already ended"):
        covers.end_cover(db.session, world["admin"], world["cover"].id, now=at(date(2026, 12, 13), 16))


def test_bad_covers_are_refused_with_where_and_why(world):
    hua, ming, desk = world["hua"], world["ming"], world["desk"]
    extra = factories.user(Role.STEWARD, username="wang", display_name="王美", buildings=[world["b2"]])
    idle = factories.user(Role.STEWARD, username="idle", display_name="閒人")
    gone = factories.user(Role.STEWARD, username="gone", display_name="離職", buildings=[world["b2"]], active=False)
    db.session.commit()
    now = at(FIRST - timedelta(days=3))
    rejected = [
        (CoverRequest(None, ming.id, FIRST, LAST), "cover", "Choose the steward who covers."),
        (CoverRequest(hua.id, None, FIRST, LAST), "covered", "Choose the steward on leave."),
        (CoverRequest(ming.id, ming.id, FIRST, LAST), "cover", "cannot cover their own leave"),
        (CoverRequest(desk.id, ming.id, FIRST, LAST), "cover", "not an active building steward"),
        (CoverRequest(gone.id, ming.id, FIRST, LAST), "cover", "not an active building steward"),
        (CoverRequest(hua.id, idle.id, FIRST, LAST), "covered", "no estate or building to cover"),
        (CoverRequest(extra.id, hua.id, LAST, FIRST), "last_day", "before the first day"),
        (CoverRequest(extra.id, hua.id, None, LAST), "first_day", "first day of the leave"),
        (CoverRequest(extra.id, hua.id, FIRST, FIRST + timedelta(days=400)), "last_day", "at most 366 days"),
        (CoverRequest(extra.id, hua.id, FIRST - timedelta(days=9), FIRST - timedelta(days=4)), "last_day",
         "already over"),
    ]
    for request, field, message in rejected:
        with pytest.raises(Rejected) as refused:
            covers.add_cover(db.session, world["admin"], request, now=now)
        assert message in str(refused.value.errors[field][0]), message
        db.session.rollback()
    conflicts = [
        (CoverRequest(extra.id, ming.id, LAST, LAST + timedelta(days=2)), "陳小明 is already covered by 林小華"),
        (CoverRequest(ming.id, extra.id, FIRST, FIRST), "陳小明 is on leave from 2026-12-10 to 2026-12-17"),
        (CoverRequest(extra.id, hua.id, LAST, LAST), "林小華 covers 陳小明 from 2026-12-10 to 2026-12-17"),
    ]
    for request, message in conflicts:
        with pytest.raises(Conflict, match=message):
            covers.add_cover(db.session, world["admin"], request, now=now)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeaveCover)) == 1
    # After the first one ends, the same colleague can be covered again.
    covers.add_cover(db.session, world["admin"], CoverRequest(extra.id, ming.id, LAST + timedelta(days=1),
                                                              LAST + timedelta(days=3)), now=now)


def test_a_steward_who_covers_cannot_be_deactivated_or_change_role_until_the_cover_ends(world):
    from app.staff import accounts

    hua = world["hua"]
    db.session.commit()
    with pytest.raises(Conflict, match="End that cover first"):
        accounts.deactivate(db.session, world["admin"], hua.id, seen=accounts.fingerprint(hua),
                            now=at(FIRST - timedelta(days=1)))
    db.session.rollback()
    with pytest.raises(Conflict, match="End that cover first"):
        accounts.update_user(db.session, world["admin"], hua.id, seen=accounts.fingerprint(hua), display_name="林小華",
                             role=Role.DESK, assignments=accounts.Assignments.of(hua), now=at(FIRST))


def test_the_covers_page_arranges_and_ends_covers(client, auth, world):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    db.session.commit()
    auth.login("boss")
    html = client.get("/admin/staff/covers").get_data(as_text=True)
    assert "林小華 covers 陳小明" in html or "林小華" in html
    token = csrf_from(html)
    today = date.today()
    bad = client.post("/admin/staff/covers", data={"csrf_token": token, "covered": str(world["hua"].id),
                                                    "cover": str(world["hua"].id), "first_day": today.isoformat(),
                                                    "last_day": "2026-13-01"})
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeaveCover)) == 1
    wang = factories.user(Role.STEWARD, username="wang", display_name="王美")
    db.session.commit()
    # After the world's own cover of Hua's (FIRST to LAST), whatever day the test runs on.
    first = max(today, LAST + timedelta(days=1))
    made = client.post("/admin/staff/covers", data={
        "csrf_token": token, "covered": str(world["hua"].id), "cover": str(wang.id),
        "first_day": first.isoformat(), "last_day": (first + timedelta(days=2)).isoformat()})
    assert made.status_code == 302
    row = db.session.scalars(sa.select(LeaveCover).where(LeaveCover.cover_id == wang.id)).one()
    page = client.get("/admin/staff/covers").get_data(as_text=True)
    assert re.search(rf'action="/admin/staff/covers/{row.id}/end"', page)
    assert client.post(f"/admin/staff/covers/{row.id}/end", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert row.ended_at is not None
    again = client.post(f"/admin/staff/covers/{row.id}/end", data={"csrf_token": token})
    assert "already ended" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_lists_scoped_in_their_query_include_the_covered_buildings_on_the_days_of_the_cover(app):
    from app.models import Building

    estate = factories.estate()
    b1, b2 = factories.building(estate, "1棟"), factories.building(estate, "2棟")
    ming = factories.user(Role.STEWARD, username="ming", buildings=[b1])
    hua = factories.user(Role.STEWARD, username="hua", buildings=[b2])
    db.session.commit()
    now = datetime.now(timezone.utc)
    today = schedule.local_date(estate, now)

    def listed() -> list[str]:
        db.session.expire(hua, ["covering"])
        return sorted(b.name for b in db.session.scalars(sa.select(Building).where(hua.covered_buildings())))

    assert listed() == ["2棟"]
    cover = covers.add_cover(db.session, None, CoverRequest(hua.id, ming.id, today, today + timedelta(days=1)), now=now)
    assert listed() == ["1棟", "2棟"]
    assert hua.covers_place(estate.id, b1) and not hua.covers_place(estate.id, b1, today + timedelta(days=2))
    covers.end_cover(db.session, None, cover.id, now=now)
    assert listed() == ["2棟"]


def test_the_covers_phone_takes_the_covered_places_offline_on_the_days_of_the_cover(world):
    from app.api.offline_pack import offline_pack

    def places(when: datetime) -> set[tuple[str, int | None]]:
        pack = offline_pack(db.session, world["hua"], when)
        return {(t["kind"], t["building_id"]) for t in pack["targets"]}

    inside, outside = places(at(date(2026, 12, 15))), places(at(LAST + timedelta(days=1)))
    assert ("corridor", world["b1"].id) in inside and ("decoration", world["b1"].id) in inside
    assert ("corridor", world["b1"].id) not in outside and ("corridor", world["b2"].id) in outside


def test_covers_are_in_the_audit_log_of_the_covered_stewards_estate(app, world):
    from app.models import AuditEntry

    db.session.commit()
    covers.end_cover(db.session, world["admin"], world["cover"].id, now=at(FIRST))
    db.session.commit()
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "leave_cover")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.estate_id) for e in entries] == [("created", world["estate"].id),
                                                           ("updated", world["estate"].id)]
    assert entries[0].after["cover_id"] == world["hua"].id and "ended_at" in entries[1].after
