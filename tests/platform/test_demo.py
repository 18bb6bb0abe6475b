"""The demo history: four weeks of rounds, findings, photos and tickets before today."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import create_app, demo
from app.decoration import flood_tests, materials, records, violations
from app.extensions import db
from app.models import (
    ChecklistItem,
    DecorationEvent,
    DecorationPermit,
    Finding,
    FindingAmendment,
    FindingResult,
    FloodTest,
    FloodTestStatus,
    MaterialRequest,
    MaterialStatus,
    PermitStatus,
    Photo,
    PhotoStatus,
    RepairTicket,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    TicketChannel,
    TicketEvent,
    TicketStatus,
    TicketVerification,
    Unit,
    UnitState,
    User,
    Violation,
    ViolationStatus,
)
from app.photos.storage import get_storage
from app.repairs import tickets, verification
from app.rounds import schedule
from app.rounds.plan import build_plan

from tests.conftest import AuthActions, IsolatedClient, base_config

TZ = ZoneInfo("Asia/Shanghai")  # the demo estate's


def local_today() -> date:
    return datetime.now(TZ).date()


@pytest.fixture(scope="module")
def today() -> date:
    return local_today()


def history_app(backend, template: str, tmp, today: date):  # noqa: ANN001, ANN201
    url, handle = backend.new_url(template=template)
    app = create_app(base_config(tmp, url))
    with app.app_context():
        demo.load_demo(db.session, history=True, today=today)
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()
    backend.drop(handle)


@pytest.fixture(scope="module")
def history(backend, migrated_template, tmp_path_factory, today):
    """One demo estate with its history, shared by the tests of this module (read only)."""
    yield from history_app(backend, migrated_template, tmp_path_factory.mktemp("demo-history"), today)


def count(model, *where) -> int:  # noqa: ANN001
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def user(name: str) -> User:
    return db.session.scalars(sa.select(User).where(User.username == name)).one()


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(timezone.utc)


def test_tickets_in_every_state_from_rounds_and_from_the_desk(history):
    states = dict(db.session.execute(sa.select(RepairTicket.status, sa.func.count()).group_by(RepairTicket.status)).all())
    assert set(states) == set(TicketStatus), states
    channels = {c for (c,) in db.session.execute(sa.select(RepairTicket.channel).distinct())}
    assert {TicketChannel.ROUND, TicketChannel.PHONE, TicketChannel.WALK_IN} <= channels
    from_rounds = db.session.scalars(sa.select(RepairTicket).where(RepairTicket.channel == TicketChannel.ROUND)).all()
    assert len(from_rounds) >= 10 and all(t.findings and t.item_code for t in from_rounds)

    intake = db.session.scalars(sa.select(RepairTicket).where(RepairTicket.channel != TicketChannel.ROUND)).all()
    for t in intake:
        assert t.reporter_name and t.reporter_phone and t.place_text and t.expectation
        assert t.is_unit_repair == (t.unit_id is not None)
    unit_repairs = [t for t in intake if t.is_unit_repair]
    assert {t.status for t in unit_repairs} >= {TicketStatus.NEW, TicketStatus.REPAIRED, TicketStatus.CLOSED}
    grades = [e.data["grade"] for e in db.session.scalars(sa.select(TicketEvent).where(TicketEvent.kind == "return_visit"))]
    assert set(grades) == {"A", "B", "C"}


def test_repaired_public_tickets_wait_for_the_stewards_check_and_some_are_overdue(history):
    waiting = [t for s in ("steward1", "steward2") for t in verification.tasks_for(db.session, user(s))]
    assert len(waiting) >= 2
    checks = db.session.scalars(sa.select(TicketVerification)).all()
    assert checks and {c.passed for c in checks} == {True, False} and all(c.applied for c in checks)

    now = datetime.now(timezone.utc)
    overdue = [t for t in db.session.scalars(sa.select(RepairTicket)) if tickets.is_overdue(t, now)]
    assert len(overdue) >= 2
    assert any(t.status is TicketStatus.IN_PROGRESS for t in overdue)


def test_defects_recur_at_the_same_place(history):
    seen_again = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.kind == "seen_again")).all()
    assert seen_again
    for event in seen_again:
        ticket = event.ticket
        assert ticket.recurrences >= 1 and len(ticket.findings) == ticket.recurrences + 1
        assert len({f.place for f in ticket.findings}) == 1


def test_ticket_events_read_in_time_order_before_today(history, today):
    by_ticket = defaultdict(list)
    for event in db.session.scalars(sa.select(TicketEvent).order_by(TicketEvent.id)):
        by_ticket[event.ticket_id].append(event)
    end = midnight(today)
    for ticket in db.session.scalars(sa.select(RepairTicket)):
        events = by_ticket[ticket.id]
        assert events[0].kind == "opened" and events[0].at == ticket.created_at
        times = [e.at for e in events]
        assert times == sorted(times), ticket.number
        assert times[-1] < end
        assert ticket.number.startswith(f"WX-{schedule.local_date(ticket.estate, ticket.created_at):%Y%m%d}-")
        if ticket.closed_at:
            assert ticket.closed_at == times[-1]
        for stamp in (ticket.dispatched_at, ticket.on_site_at, ticket.repaired_at):
            assert stamp is None or ticket.created_at <= stamp < end


def test_rounds_follow_the_schedule_before_today_only(history, today):
    rounds = db.session.scalars(sa.select(Round)).all()
    assert {r.kind for r in rounds} == set(RoundKind)
    assert all(r.status is RoundStatus.COMPLETED for r in rounds)
    assert all(r.local_date < today and r.local_date >= today - timedelta(days=70) for r in rounds)
    assert all(r.started_at < r.completed_at < midnight(today) for r in rounds)
    weekly = [r for r in rounds if r.kind in (RoundKind.CORRIDOR, RoundKind.FACILITY)]
    assert all(r.local_date >= today - timedelta(days=demo.HISTORY_DAYS) for r in weekly)
    assert all(r.local_date.weekday() in (1, 2, 3) for r in rounds if r.kind is RoundKind.CORRIDOR)  # Tue, Wed, late Thu
    assert all(r.local_date.weekday() in (3, 4) for r in rounds if r.kind is RoundKind.FACILITY)  # Thu, late Fri

    # Missed corridor rounds: building 2 in the week before last, building 3 three weeks ago.
    for name, days in (("2棟", 7), ("3棟", 21)):
        missed = schedule.occurrence_on(schedule.DEFAULT_RULES[RoundKind.CORRIDOR], today - timedelta(days=days))
        building = next(b for b in demo_estate().buildings if b.name == name)
        walked = [r.local_date for r in rounds if r.kind is RoundKind.CORRIDOR and r.building_id == building.id]
        assert not [d for d in walked if missed.contains(d)] and len(walked) >= 2

    # Today is still the stewards' to walk: no round counts for today's decoration checks.
    for name in ("steward1", "steward2"):
        due = schedule.due_rounds(db.session, user(name), midnight(today) + timedelta(hours=9))
        assert any(d.kind is RoundKind.DECORATION for d in due)


def demo_estate():  # noqa: ANN201
    from app.models import Estate

    return db.session.scalars(sa.select(Estate).where(Estate.code == demo.DEMO_ESTATE_CODE)).one()


def test_findings_answer_every_required_item_with_a_few_percent_defects(history):
    total = count(Finding)
    defects = count(Finding, Finding.result == FindingResult.DEFECT)
    assert total > 3000 and 0.003 < defects / total < 0.05

    # Every defect has a reason of its item and, where the item asks for one, a photo.
    for finding in db.session.scalars(sa.select(Finding).where(Finding.result == FindingResult.DEFECT)):
        assert finding.reason_code in {r["code"] for r in finding.item.reasons}
        if finding.item.photo_required:
            assert finding.photos
    # Each kind of round, as its plan asks: every required item at every checkpoint.
    for kind in RoundKind:
        rnd = db.session.scalars(sa.select(Round).where(Round.kind == kind).order_by(Round.id.desc())).first()
        plan = build_plan(db.session, rnd)
        answered = {(f.place, f.item.code) for f in rnd.findings}
        required = {(p.place, i.code) for p in plan.checkpoints for i in plan.items_at[p.key] if i.required}
        assert required <= answered, kind
        assert all(rnd.started_at <= f.recorded_at <= rnd.completed_at for f in rnd.findings)


def test_meter_readings_carry_their_flags_and_a_correction(history):
    flags = {flag for (f,) in db.session.execute(sa.select(Finding.flags).where(Finding.meter_id.is_not(None)))
             for flag in f}
    assert {"vacant_consumption", "lower_than_last"} <= flags
    amendment = db.session.scalars(sa.select(FindingAmendment)).one()
    assert amendment.finding.current.reading_value > amendment.finding.reading_value
    assert amendment.amended_at > amendment.finding.received_at


def test_photos_are_stored_through_the_pipeline(history):
    photos = db.session.scalars(sa.select(Photo).where(Photo.record_uuid.is_(None))).all()
    assert len(photos) >= 10
    storage = get_storage()
    for photo in photos:
        assert photo.status is PhotoStatus.STORED and photo.finding is not None
        assert photo.uploaded_by_id == photo.finding.round.steward_id
        assert storage.exists(photo.display_key) and storage.exists(photo.thumb_key)
        assert max(photo.width, photo.height) <= 2048 and photo.captured_at is not None
        assert photo.finding.round.started_at - timedelta(minutes=1) <= photo.captured_at
        assert photo.received_at >= photo.finding.received_at


def test_the_desk_has_reviewed_older_findings_but_not_the_latest(history, today):
    reviewed = count(Finding, Finding.reviewed_at.is_not(None))
    assert 0 < reviewed < count(Finding)
    latest = db.session.scalars(sa.select(Round).order_by(Round.completed_at.desc())).first()
    assert all(f.reviewed_at is None for f in latest.findings)


def test_every_role_sees_the_history_on_its_pages(history):
    history.test_client_class = IsolatedClient
    client = history.test_client()
    auth = AuthActions(client)
    unit = db.session.scalars(sa.select(DecorationPermit.unit_id).order_by(DecorationPermit.id)).first()
    pages = {"steward1": ["/rounds/today"],
             "desk1": ["/desk/", "/desk/findings", "/desk/findings?defects=1", f"/desk/units/{unit}/history"],
             "super1": ["/desk/supervisor"], "eng1": ["/engineering/"], "gate": ["/gate/"]}
    for name, urls in pages.items():
        assert auth.login(name, demo.DEMO_PASSWORD).status_code == 302
        for url in urls:
            assert client.get(url).status_code == 200, url
        auth.logout()


def signature() -> tuple:
    return (
        tuple(db.session.execute(sa.select(Round.uuid, Round.kind, Round.local_date, Round.completed_at)
                                 .order_by(Round.id)).all()),
        tuple(db.session.execute(sa.select(Finding.uuid, Finding.result, Finding.reason_code, Finding.reading_value)
                                 .order_by(Finding.id)).all()),
        tuple(db.session.execute(sa.select(RepairTicket.number, RepairTicket.status, RepairTicket.recurrences,
                                           RepairTicket.due_at).order_by(RepairTicket.id)).all()),
        tuple(db.session.execute(sa.select(TicketEvent.kind, TicketEvent.at).order_by(TicketEvent.id)).all()),
        tuple(db.session.execute(sa.select(Photo.uuid, Photo.sha256).order_by(Photo.id)).all()),
        tuple(db.session.execute(sa.select(DecorationEvent.kind, DecorationEvent.at, DecorationEvent.note)
                                 .order_by(DecorationEvent.id)).all()),
        tuple(db.session.execute(sa.select(DecorationPermit.number, Violation.notice_number, Violation.deadline)
                                 .join(Violation, Violation.permit_id == DecorationPermit.id, isouter=True)
                                 .order_by(DecorationPermit.id)).all()),
    )


def test_the_history_is_the_same_every_time_for_a_given_day(history, backend, migrated_template, tmp_path, today):
    first = signature()
    assert len(first[1]) == count(Finding) and first[2]
    again = history_app(backend, migrated_template, tmp_path, today)
    next(again)
    try:
        assert signature() == first
    finally:
        next(again, None)


def test_seed_demo_loads_no_history_unless_asked(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert count(Round) == 0 and count(RepairTicket) == 0
    assert count(ChecklistItem) > 0
    # The decoration flow out of the box: a registration per decorating unit, and the gate's login.
    decorating = count(Unit, Unit.state == UnitState.DECORATING)
    assert decorating and count(DecorationPermit, DecorationPermit.status == PermitStatus.ACTIVE) == decorating
    assert count(Violation) == 0 and count(FloodTest) == 0 and count(MaterialRequest) == 0
    gate = user("gate")
    assert gate.role is Role.GATE and [e.code for e in gate.estates] == [demo.DEMO_ESTATE_CODE]
    assert "gate" in result.output and "門崗" in result.output


def test_every_decorating_unit_is_registered_before_its_daily_checks(history, today):
    permits = db.session.scalars(sa.select(DecorationPermit).order_by(DecorationPermit.id)).all()
    assert permits and all(p.status is PermitStatus.ACTIVE and p.unit.state is UnitState.DECORATING for p in permits)
    assert {p.unit_id for p in permits} == {u.id for b in demo_estate().buildings for u in b.units
                                          if u.state is UnitState.DECORATING}
    for p in permits:
        assert p.owner_name == next(c.name for c in p.unit.contacts if c.relation.value == "owner")
        assert p.contractor_name and p.scope and p.planned_start <= today <= p.planned_end
        checks = [r for r in db.session.scalars(sa.select(Round).where(Round.unit_id == p.unit_id,
                                                                       Round.kind == RoundKind.DECORATION))]
        assert checks and all(p.registered_at < r.started_at for r in checks)
        assert db.session.scalars(sa.select(DecorationEvent).where(DecorationEvent.permit_id == p.id,
                                                                   DecorationEvent.kind == "registered")).one()


def test_the_stewards_today_shows_a_recheck_a_flood_test_and_materials(history, today):
    steward = user("steward1")
    now = datetime.now(timezone.utc)
    # A breach found on a decoration check two days ago, noticed with today as its deadline.
    planted = [v for v in db.session.scalars(sa.select(Violation))
               if db.session.get(Round, v.round_id).local_date == today - timedelta(days=2)
               and any(f.item.code == demo.BREACH_ITEM for f in v.findings)]
    assert len(planted) == 1
    violation = planted[0]
    assert violation.status is ViolationStatus.NOTICED and violation.deadline == today and violation.notice_number
    assert db.session.get(Round, violation.round_id).kind is RoundKind.DECORATION
    assert violation.findings and all(f.photos and f.photos[0].status is PhotoStatus.STORED for f in violation.findings)
    assert not violation.serious and not violation.permit.work_stopped
    kinds = [e.kind for e in db.session.scalars(sa.select(DecorationEvent).where(
        DecorationEvent.violation_id == violation.id).order_by(DecorationEvent.id))]
    assert kinds == ["violation_found", "notice_issued", "owner_called"]
    tasks = violations.recheck_tasks(db.session, steward, now)
    assert violation.id in [t.violation_id for t in tasks] and all(t.photos for t in tasks)
    # Earlier breaches (debris in the stairwell) were noticed and re-checked at their deadline.
    for v in db.session.scalars(sa.select(Violation).where(Violation.id != violation.id)):
        assert not v.serious
        if v.deadline is not None and v.deadline < today:
            assert v.status is ViolationStatus.RECTIFIED and v.rechecks and v.closed_at < midnight(today)
    # A flood test started three days ago, over 48 hours before today began: it may pass now.
    test = db.session.scalars(sa.select(FloodTest)).one()
    assert test.status is FloodTestStatus.RUNNING and test.started_at.astimezone(TZ).date() == today - timedelta(days=3)
    assert flood_tests.earliest_pass(test) <= midnight(today) <= now
    assert test.neighbour_checked_at and test.neighbour_leak is False  # the unit below and next door: dry
    assert steward.can_see_unit(test.unit)
    start_photo = db.session.scalars(sa.select(Photo).where(Photo.record_uuid == test.uuid)).one()
    assert start_photo.uuid == test.start_photo_uuid and start_photo.status is PhotoStatus.STORED
    # Materials the gate asked to let in, with their photo, waiting for the steward.
    request = db.session.scalars(sa.select(MaterialRequest)).one()
    assert request.status is MaterialStatus.PENDING and request.raised_by.role is Role.GATE
    assert [r.id for r in materials.material_tasks(db.session, steward)] == [request.id]
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == request.photo_uuid)).one()
    assert photo.record_uuid == request.uuid and get_storage().exists(photo.thumb_key)
    assert records.may_see_record_photo(db.session, steward, photo)
    assert records.may_see_record_photo(db.session, user("gate"), photo)
