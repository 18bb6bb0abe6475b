"""A finished public repair comes back to the steward's round: the check on site is a task of the
places they cover, answered from the phone (maybe offline, maybe twice) and stored exactly once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import refusals
from app.extensions import db
from app.models import (
    DefectRoute,
    Photo,
    PhotoStatus,
    PublicArea,
    PublicAreaKind,
    RepairTicket,
    Role,
    TicketChannel,
    TicketStatus,
    TicketVerification,
    Urgency,
)
from app.models.base import new_uuid
from app.photos import uploads
from app.repairs import tickets, verification

from tests import factories

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Asia/Shanghai
SENDERS = 20
_numbers = iter(range(1, 10_000))


@pytest.fixture
def world(app):
    w = factories.build_world(buildings={"b1": "1棟", "b2": "2棟"}, other=True, people={
        "amy": (Role.STEWARD, "estate"),  # estate-wide
        "ben": (Role.STEWARD, "b1"),  # one building
        "zed": (Role.STEWARD, "other"),  # another estate
        "desk": (Role.DESK, "estate", "other"),
        "eng": (Role.ENGINEERING, "estate", "other")})
    w["garden"] = PublicArea(estate=w["estate"], kind=PublicAreaKind.GREENERY, name="中心花園")
    db.session.add(w["garden"])
    w.add_building("b3", "other", "9棟")
    return w


def ticket(world, *, building=None, public_area=None, estate=None, unit_repair=False, repaired=True,
           work_done="換燈泡") -> RepairTicket:
    """A ticket dispatched and (by default) repaired by engineering."""
    t = RepairTicket(number=f"WX-20261124-{next(_numbers):04d}", estate=estate or world["estate"],
                     building=building, public_area=public_area, channel=TicketChannel.ROUND,
                     route=DefectRoute.ENGINEERING, urgency=Urgency.NORMAL, is_unit_repair=unit_repair,
                     description="樓道照明 · 燈不亮", created_at=NOW, due_at=NOW + timedelta(hours=24))
    db.session.add(t)
    db.session.flush()
    tickets.dispatch(t, world["desk"], to="工程部", now=NOW)
    if repaired:
        tickets.repair(t, world["eng"], work_done=work_done, now=NOW + timedelta(hours=2))
    db.session.flush()
    return t


def task_ids(world, name):
    return [t.ticket_id for t in verification.tasks_for(db.session, world[name], at=NOW + timedelta(hours=3))]


# Tasks


def test_tasks_are_the_repaired_public_tickets_of_the_stewards_places(world):
    in_b1 = ticket(world, building=world["b1"])
    in_b2 = ticket(world, building=world["b2"])
    in_garden = ticket(world, public_area=world["garden"])
    elsewhere = ticket(world, building=world["b3"], estate=world["other"])
    ticket(world, building=world["b1"], repaired=False)  # still being repaired
    ticket(world, building=world["b1"], unit_repair=True)  # a unit repair gets a return visit instead
    closed = ticket(world, building=world["b1"])
    tickets.verify(closed, world["amy"], passed=True)

    assert task_ids(world, "amy") == [in_b1.id, in_b2.id, in_garden.id]
    assert task_ids(world, "ben") == [in_b1.id]  # no building: only for estate-wide stewards
    assert task_ids(world, "zed") == [elsewhere.id]
    assert task_ids(world, "desk") == []


def test_a_task_shows_place_work_done_and_both_kinds_of_photos(world):
    finding = factories.finding_with_photo(world["amy"], world["estate"], world["b1"])
    t = tickets.ticket_for_defect(db.session, finding, NOW)
    db.session.flush()
    tickets.dispatch(t, world["desk"], to="工程部", now=NOW)
    tickets.repair(t, world["eng"], work_done="換燈管一支", now=NOW + timedelta(hours=2))
    after = Photo(uuid=new_uuid(), ticket_id=t.id, status=PhotoStatus.STORED, uploaded_by_id=world["eng"].id)
    pending = Photo(uuid=new_uuid(), ticket_id=t.id, status=PhotoStatus.PENDING)
    db.session.add_all([after, pending])
    db.session.flush()
    db.session.expire(t, ["after_photos"])

    [task] = verification.tasks_for(db.session, world["ben"], at=NOW + timedelta(hours=3))
    assert task.number == t.number and task.place == t.place_label and "1棟" in task.place
    assert task.description == t.description and task.repair == "換燈管一支"
    assert task.repaired_at == NOW + timedelta(hours=2) and str(task.repaired_on) == "2026-11-24"
    assert task.after_photos == (after.uuid,)  # a photo not received yet has no thumbnail
    assert task.defect_photos == (finding.photos[0].uuid,)
    # Ben may check the repair, so he may see the defect's photo from Amy's round too.
    assert uploads.photo_for(db.session, world["ben"], finding.photos[0].uuid) is finding.photos[0]
    with pytest.raises(refusals.NotFound):
        uploads.photo_for(db.session, world["zed"], finding.photos[0].uuid)


# The domain


def check(world, t, who="amy", **kw):
    args = dict(uuid=new_uuid(), ticket_id=t.id, passed=True, note="", recorded_at=NOW + timedelta(hours=3),
                now=NOW + timedelta(hours=4))
    args.update(kw)
    return verification.record_verification(db.session, world[who], **args)


def test_a_pass_closes_the_ticket_at_the_time_of_the_check(world):
    t = ticket(world, building=world["b1"])
    record = check(world, t, who="ben", note="已亮")
    assert record.applied and record.passed and record.by_id == world["ben"].id
    assert t.status is TicketStatus.CLOSED and t.closed_at == NOW + timedelta(hours=3)
    assert (t.events[-1].kind, t.events[-1].by_id, t.events[-1].note) == ("verified", world["ben"].id, "已亮")


def test_a_fail_sends_it_back_and_needs_a_note(world):
    t = ticket(world, building=world["b1"])
    with pytest.raises(refusals.Rejected) as refused:
        check(world, t, passed=False, note="  ")
    assert "note" in refused.value.errors
    assert t.status is TicketStatus.REPAIRED
    check(world, t, passed=False, note="燈仍閃爍")
    assert t.status is TicketStatus.DISPATCHED and t.closed_at is None
    assert (t.events[-1].kind, t.events[-1].note) == ("verification_failed", "燈仍閃爍")


def test_a_check_arriving_after_the_ticket_moved_on_is_kept_not_applied(world):
    t = ticket(world, building=world["b1"])
    check(world, t, who="amy")  # amy closed it first
    late = check(world, t, who="ben", passed=False, note="燈罩未裝好")
    assert not late.applied and t.status is TicketStatus.CLOSED
    assert (t.events[-1].kind, t.events[-1].note, t.events[-1].data["passed"]) == (
        "late_verification", "燈罩未裝好", False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketVerification)) == 2


def test_only_the_stewards_own_public_repairs_can_be_checked(world):
    in_b2 = ticket(world, building=world["b2"])
    in_garden = ticket(world, public_area=world["garden"])
    unit_repair = ticket(world, building=world["b1"], unit_repair=True)
    for who, t in (("ben", in_b2), ("ben", in_garden), ("zed", in_b2), ("amy", unit_repair), ("desk", in_b2)):
        with pytest.raises(refusals.NotFound):
            check(world, t, who=who)
    with pytest.raises(refusals.NotFound):
        check(world, in_b2, ticket_id=999_999)
    assert in_b2.status is TicketStatus.REPAIRED


# The API

VERIFICATIONS = "/api/v1/verifications"


def body(t, **kw):
    return {"uuid": new_uuid(), "ticket_id": t.id, "passed": True, "note": "",
            "recorded_at": "2026-11-24T12:30:00+08:00", **kw}


def test_api_pass_closes_and_echoes_the_uuid(api, world):
    t = ticket(world, building=world["b1"])
    api.login("ben")
    sent = body(t)
    answer = api.post(VERIFICATIONS, sent)
    assert answer.status_code == 201, answer.get_json()
    data = answer.get_json()
    assert data["uuid"] == sent["uuid"]
    assert (data["ticket_number"], data["ticket_status"], data["applied"], data["passed"]) == (
        t.number, "closed", True, True)
    assert t.status is TicketStatus.CLOSED and t.closed_at == datetime(2026, 11, 24, 4, 30, tzinfo=timezone.utc)


def test_api_fail_without_a_note_is_422_and_with_one_reopens(api, world):
    t = ticket(world, building=world["b1"])
    api.login("amy")
    refused = api.post(VERIFICATIONS, body(t, passed=False))
    assert refused.status_code == 422 and "note" in refused.get_json()["errors"]
    assert t.status is TicketStatus.REPAIRED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketVerification)) == 0
    answer = api.post(VERIFICATIONS, body(t, passed=False, note="仍漏水"))
    assert answer.status_code == 201 and answer.get_json()["ticket_status"] == "dispatched"


def test_api_the_same_check_twice_is_one_record_and_the_same_answer(api, world):
    t = ticket(world, building=world["b1"])
    api.login("amy")
    sent = body(t, note="好")
    first, again = api.post(VERIFICATIONS, sent), api.post(VERIFICATIONS, sent)
    # The same instant written another way is the same content.
    third = api.post(VERIFICATIONS, {**sent, "recorded_at": "2026-11-24T04:30:00Z"})
    assert first.status_code == again.status_code == third.status_code == 201
    assert first.get_json() == again.get_json() == third.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketVerification)) == 1
    assert [e.kind for e in t.events].count("verified") == 1


def test_api_other_content_under_a_stored_uuid_is_409_and_changes_nothing(api, world):
    t = ticket(world, building=world["b1"])
    api.login("amy")
    sent = body(t)
    assert api.post(VERIFICATIONS, sent).status_code == 201
    events = len(t.events)
    for changed in ({"passed": False, "note": "不行"}, {"note": "另一句"}, {"recorded_at": "2026-11-24T13:00:00+08:00"}):
        answer = api.post(VERIFICATIONS, {**sent, **changed})
        assert answer.status_code == 409 and answer.get_json()["code"] == 409
    record = db.session.scalars(sa.select(TicketVerification)).one()
    assert record.passed and record.note == "" and t.status is TicketStatus.CLOSED and len(t.events) == events


def test_api_another_estates_steward_gets_404_even_reposting_the_uuid(api, world):
    t = ticket(world, building=world["b1"])
    api.login("amy")
    sent = body(t)
    assert api.post(VERIFICATIONS, sent).status_code == 201
    api.login("zed")
    assert api.post(VERIFICATIONS, sent).status_code == 404
    other = ticket(world, building=world["b1"])
    answer = api.post(VERIFICATIONS, body(other))
    assert answer.status_code == 404 and answer.get_json()["code"] == 404
    assert other.status is TicketStatus.REPAIRED
    api.login("ben")  # same estate, but the uuid is amy's
    assert api.post(VERIFICATIONS, sent).status_code == 404


def test_api_a_late_check_is_stored_with_applied_false(api, world):
    t = ticket(world, building=world["b1"])
    tickets.verify(t, world["amy"], passed=False, note="燈罩裂")  # back to the team meanwhile
    api.login("ben")
    answer = api.post(VERIFICATIONS, body(t, passed=True))
    assert answer.status_code == 201
    assert (answer.get_json()["applied"], answer.get_json()["ticket_status"]) == (False, "dispatched")
    assert t.status is TicketStatus.DISPATCHED and t.events[-1].kind == "late_verification"


def test_api_refuses_malformed_checks_and_other_roles(api, world):
    t = ticket(world, building=world["b1"])
    api.login("amy")
    for broken in ({"uuid": "nope"}, {"ticket_id": "1"}, {"passed": None}, {"photo_uuid": "x"}):
        answer = api.post(VERIFICATIONS, body(t, **broken))
        assert answer.status_code == 422 and answer.get_json()["errors"], broken
    api.login("desk")
    assert api.post(VERIFICATIONS, body(t)).status_code == 403
    assert t.status is TicketStatus.REPAIRED


def test_twenty_concurrent_posts_of_one_check_store_one_row(app, client, auth, world):
    t = ticket(world, building=world["b1"])
    auth.login("amy")
    headers = {"X-CSRFToken": auth.csrf()}
    cookie = client.get_cookie("session")
    senders = []
    for _ in range(SENDERS):
        c = app.test_client()
        c.set_cookie("session", cookie.value)
        senders.append(c)
    sent = body(t, note="修好了")
    db.session.commit()
    start = threading.Barrier(SENDERS)
    answers = [None] * SENDERS

    def run(i, c):
        start.wait(timeout=30)
        answers[i] = c.post("/api/v1/verifications", json=sent, headers=headers)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [a.status_code for a in answers] == [201] * SENDERS, [a.get_json() for a in answers if a.status_code != 201]
    assert len({a.get_data() for a in answers}) == 1
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketVerification)) == 1
    db.session.refresh(t)
    assert t.status is TicketStatus.CLOSED and [e.kind for e in t.events].count("verified") == 1


# The phone: offline pack and today page


def test_the_offline_pack_and_the_today_page_list_the_checks(client, auth, world):
    t = ticket(world, building=world["b1"], work_done="更換感應燈")
    ticket(world, building=world["b2"])
    auth.login("ben")
    pack = client.get("/api/v1/offline-pack").get_json()
    [task] = pack["verifications"]
    assert (task["ticket_id"], task["number"], task["repair"], task["after_photos"]) == (t.id, t.number, "更換感應燈", [])
    html = client.get("/rounds/today").get_data(as_text=True)
    assert 'id="checks"' in html and t.number in html and "更換感應燈" in html
    assert html.count('class="card check-card"') == 1
    assert 'class="check-form' in html and 'name="note"' in html
    auth.logout()
    auth.login("zed")
    assert client.get("/api/v1/offline-pack").get_json()["verifications"] == []
    assert 'id="checks"' not in client.get("/rounds/today").get_data(as_text=True)
