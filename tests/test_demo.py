"""The demo history: four weeks of rounds, findings, photos and tickets before today."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import create_app, demo, schedule, tickets, verification
from app.extensions import db
from app.models import (
    ChecklistItem,
    Finding,
    FindingAmendment,
    FindingResult,
    Photo,
    PhotoStatus,
    RepairTicket,
    Round,
    RoundKind,
    RoundStatus,
    TicketChannel,
    TicketEvent,
    TicketStatus,
    TicketVerification,
    User,
)
from app.round_plan import build_plan
from app.storage import get_storage

from .conftest import AuthActions, IsolatedClient, base_config

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
    photos = db.session.scalars(sa.select(Photo)).all()
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
    pages = {"steward1": ["/rounds/today"], "desk1": ["/desk/", "/desk/findings", "/desk/findings?defects=1"],
             "super1": ["/desk/supervisor"], "eng1": ["/engineering/"]}
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
