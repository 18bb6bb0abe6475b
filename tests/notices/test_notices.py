"""Notices (app/notices): each event reaches the people of its place and no one else, is listed with
an unread count (polled cheaply: ETag, 304), read by its person only; overdue work is told once;
quiet hours and push subscriptions are each person's own, and bad input is refused whole."""
from __future__ import annotations

import os
import stat
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.complaints import operations as complaint_ops
from app.extensions import db
from app.models import (
    ComplaintCategory,
    ComplaintChannel,
    Notice,
    NoticeKind,
    NoticeSettings,
    PushOutcome,
    PushSubscription,
)
from app.models.base import new_uuid
from app.notices import operations
from app.repairs import tickets

from tests import factories
from tests.notices.receiver import Browser, b64url, unb64url
from tests.notices.test_push import MORNING, gate_request


def told(kind: NoticeKind) -> list[str]:
    """Who was told of `kind`, by username."""
    return sorted(n.user.username for n in db.session.scalars(sa.select(Notice).where(Notice.kind == kind)))


def test_each_event_reaches_the_people_of_its_place_only(world):
    world.save()
    gate_request(world, MORNING)
    assert told(NoticeKind.GATE_REQUEST) == ["amy"]  # not bob (another building), not zed (another estate)

    finding = factories.finding_with_photo(world["amy"], world["estate"], world["b1"])
    ticket = tickets.ticket_for_defect(db.session, finding)
    tickets.dispatch(ticket, world["desk"], to="工程部 李師傅")
    assert told(NoticeKind.TICKET_DISPATCHED) == ["eng"]  # not far-eng
    tickets.start(ticket, world["eng"])
    tickets.repair(ticket, world["eng"], work_done="更換燈管")
    assert told(NoticeKind.REPAIR_CHECK_DUE) == ["amy"]
    tickets.owner_rating(ticket, grade="C", comment="還是不亮")
    assert told(NoticeKind.ESCALATION) == ["boss"]  # not far-boss

    complaint_ops.register(db.session, world["desk"], world["estate"], complaint_ops.Registration(
        channel=ComplaintChannel.PHONE, category=ComplaintCategory.NOISE, complainant_name="陳大文",
        complainant_phone="13912345678", description="深夜噪音", unit=world["unit"]))
    assert told(NoticeKind.COMPLAINT_ASSIGNED) == ["amy"]
    notice = db.session.scalars(sa.select(Notice).where(Notice.kind == NoticeKind.COMPLAINT_ASSIGNED)).one()
    assert notice.link.startswith("/complaints/") and notice.params["text"] == "深夜噪音"
    # No Web Push keys in this installation: every notice is listed, none pushed.
    assert set(db.session.scalars(sa.select(Notice.push_outcome))) == {PushOutcome.OFF}


def test_a_steward_covering_a_colleagues_leave_hears_of_their_building(world):
    from app.staff import covers

    today = datetime.now(timezone.utc).date()
    covers.add_cover(db.session, None, covers.CoverRequest(world["bob"].id, world["amy"].id, today - timedelta(days=1),
                                                           today + timedelta(days=3)))
    world.save()
    gate_request(world, None)
    assert told(NoticeKind.GATE_REQUEST) == ["amy", "bob"]


def test_overdue_work_is_told_once_to_the_supervisors(world):
    finding = factories.finding_with_photo(world["amy"], world["estate"], world["b1"])
    ticket = tickets.ticket_for_defect(db.session, finding)
    world.save()
    late = ticket.due_at + timedelta(hours=1)
    assert operations.sweep_overdue(db.session, now=ticket.due_at - timedelta(minutes=1)) == 0
    assert operations.sweep_overdue(db.session, now=late) == 1
    assert operations.sweep_overdue(db.session, now=late + timedelta(hours=1)) == 0  # told already
    db.session.commit()
    assert told(NoticeKind.WORK_OVERDUE) == ["boss"]
    notice = db.session.scalars(sa.select(Notice).where(Notice.kind == NoticeKind.WORK_OVERDUE)).one()
    assert notice.link == f"/tickets/{ticket.id}" and notice.params["subject"] == "ticket"
    # Late for days when the sweep first sees it (old data): not announced.
    assert operations.sweep_overdue(db.session, now=ticket.due_at + timedelta(days=5)) == 0


def test_the_sweep_runs_from_the_command_line(world, runner):
    finding = factories.finding_with_photo(world["amy"], world["estate"], world["b1"])
    ticket = tickets.ticket_for_defect(db.session, finding)
    ticket.due_at = ticket.created_at - timedelta(minutes=5)  # late now, whatever the clock says
    world.save()
    first = runner.invoke(args=["notices-tick"])
    again = runner.invoke(args=["notices-tick"])
    assert first.exit_code == 0 and "1 overdue notice(s) made" in first.output
    assert "0 overdue notice(s) made" in again.output


def test_the_bell_is_polled_cheaply_and_counts_only_ones_own(client, auth, world):
    world.save()
    gate_request(world, MORNING)
    auth.login("amy")
    first = client.get("/api/v1/notices/unread")
    assert first.status_code == 200 and first.json["unread"] == 1
    assert first.json["newest"]["kind"] == "gate_request" and "水泥 20 包" in first.json["newest"]["body"]
    etag = first.headers["ETag"]
    again = client.get("/api/v1/notices/unread", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    page = client.get("/rounds/today").get_data(as_text=True)
    assert 'class="bell"' in page and 'data-unread="1"' in page

    notice = db.session.scalars(sa.select(Notice)).one()
    token = auth.csrf()
    opened = client.post(f"/notices/{notice.id}/read", data={"csrf_token": token, "open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"] == "/rounds/today#materials"
    after = client.get("/api/v1/notices/unread", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.json == {"unread": 0, "newest_id": 0, "newest": None}

    auth.logout()
    auth.login("bob")
    assert client.get("/api/v1/notices/unread").json["unread"] == 0
    refused = client.post(f"/notices/{notice.id}/read", data={"csrf_token": auth.csrf()})
    assert refused.status_code == 404  # another's notice: not told it exists


def test_the_notices_page_lists_in_the_readers_language_and_marks_all_read(client, auth, world):
    world.save()
    gate_request(world, MORNING)
    auth.login("amy")
    page = client.get("/notices/").get_data(as_text=True)
    assert "材料在門口等候" in page and "水泥 20 包" in page  # zh_Hant, the default
    client.post("/language", data={"lang": "en", "csrf_token": auth.csrf()})
    page = client.get("/notices/").get_data(as_text=True)
    assert "Materials wait at the gate" in page and "1 unread" in page
    assert client.get("/notices/?kind=escalation").get_data(as_text=True).count("notice-card") == 0
    assert client.post("/notices/read-all", data={"csrf_token": auth.csrf()}).status_code == 302
    assert db.session.scalars(sa.select(Notice.read_at)).one() is not None


def test_quiet_hours_are_set_on_ones_own_settings_page(client, auth, world):
    world.save()
    auth.login("amy")
    page = client.get("/notices/settings").get_data(as_text=True)
    assert "push-switch" in page
    token = auth.csrf()
    half = client.post("/notices/settings", data={"csrf_token": token, "quiet_from": "22:00", "quiet_until": ""})
    assert half.status_code == 422 and db.session.get(NoticeSettings, world["amy"].id) is None
    same = client.post("/notices/settings", data={"csrf_token": token, "quiet_from": "22:00", "quiet_until": "22:00"})
    assert same.status_code == 422
    saved = client.post("/notices/settings", data={"csrf_token": token, "quiet_from": "22:00", "quiet_until": "07:00"})
    assert saved.status_code == 302
    settings = db.session.get(NoticeSettings, world["amy"].id)
    assert (settings.quiet_from, settings.quiet_until) == (time(22), time(7))
    cleared = client.post("/notices/settings", data={"csrf_token": token, "quiet_from": "", "quiet_until": ""})
    assert cleared.status_code == 302 and db.session.get(NoticeSettings, world["amy"].id).quiet_from is None


def test_a_push_subscription_is_checked_whole_and_kept_for_its_person_only(app, api, world):
    app.config["PUSH_SERVICE_HOSTS"] = ("127.0.0.1",)
    world.save()
    api.login("amy")
    browser = Browser("http://127.0.0.1:9/push/amy")
    good = browser.subscription()
    for bad in ("not json", {"endpoint": good["endpoint"]}, {**good, "keys": {"p256dh": "x", "auth": "y"}},
                {**good, "endpoint": "ftp://127.0.0.1/x"}, {**good, "extra": 1}, [good]):
        answer = api.client.post("/api/v1/push-subscriptions", data=bad if isinstance(bad, str) else None,
                                 json=None if isinstance(bad, str) else bad,
                                 headers={"X-CSRFToken": api.token, "Content-Type": "application/json"})
        assert answer.status_code in (400, 422) and answer.is_json and "message" in answer.json, (bad, answer.json)
    # Well formed, but not a point on P-256; or a host that is no browser's push service (no request on a client's word).
    point = bytearray(unb64url(good["keys"]["p256dh"]))
    point[-1] ^= 1  # y no longer on the curve
    not_a_point = {**good, "keys": {**good["keys"], "p256dh": b64url(bytes(point))}}
    elsewhere = {**good, "endpoint": "https://10.0.0.5/push/amy"}
    for bad in (not_a_point, elsewhere):
        answer = api.post("/api/v1/push-subscriptions", bad)
        assert answer.status_code == 422 and answer.json["errors"], answer.json
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0

    assert api.post("/api/v1/push-subscriptions", good).status_code == 201
    assert api.post("/api/v1/push-subscriptions", good).json == {"devices": 1}  # again: the same one
    # Another person cannot remove it; the phone handed to them becomes theirs when they subscribe on it.
    api.login("bob")
    assert api.client.delete("/api/v1/push-subscriptions", json={"endpoint": good["endpoint"]},
                             headers={"X-CSRFToken": api.token}).json == {"devices": 0}
    assert db.session.scalars(sa.select(PushSubscription.user_id)).one() == world["amy"].id
    assert api.post("/api/v1/push-subscriptions", good).status_code == 201
    assert db.session.scalars(sa.select(PushSubscription.user_id)).one() == world["bob"].id


def test_the_vapid_keys_are_made_once_in_the_instance_folder(app, runner):
    path = Path(app.config["VAPID_PRIVATE_KEY_FILE"])
    assert path.parent == Path(app.instance_path) and not path.exists()
    made = runner.invoke(args=["make-vapid-keys"])
    assert made.exit_code == 0 and "Made the Web Push keys" in made.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = path.read_bytes()
    assert "are in" in runner.invoke(args=["make-vapid-keys"]).output and path.read_bytes() == key


@pytest.mark.parametrize("role", ["steward", "desk", "supervisor", "engineering", "gate", "admin"])
def test_every_role_has_the_bell_and_the_notices_page(client, auth, app, role):
    from app.models import Role

    world = factories.build_world(everyone=True).save()
    auth.login(world["users"][Role(role)].username)
    page = client.get("/notices/")
    assert page.status_code == 200 and 'class="bell"' in page.get_data(as_text=True)
    assert client.get("/notices/settings").status_code == 200
    assert client.get("/api/v1/notices/unread").status_code == 200


def test_a_refused_request_unsettled_for_a_day_goes_up_once(world):
    from app.decoration import materials

    world.save()
    request = gate_request(world, MORNING)
    materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=request.id, approved=False,
                              reason="無裝修許可證複印件", now=MORNING)
    assert operations.sweep_overdue(db.session, now=MORNING + timedelta(hours=23)) == 0
    assert operations.sweep_overdue(db.session, now=MORNING + timedelta(hours=25)) == 1
    assert operations.sweep_overdue(db.session, now=MORNING + timedelta(hours=26)) == 0
    assert told(NoticeKind.ESCALATION) == ["boss"]
    notice = db.session.scalars(sa.select(Notice).where(Notice.kind == NoticeKind.ESCALATION)).one()
    assert notice.link == "/decoration/escalations" and notice.params["text"] == "無裝修許可證複印件"
