"""The audit log: every change recorded with who, when, before and after; supervisors read and
filter their estates' entries; nothing edits it; revealing an owner's ID number is logged."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app import audit, review
from app.audit import reading
from app.decoration import permits
from app.extensions import db
from app.models import (
    AuditEntry,
    FindingResult,
    Language,
    Role,
    Round,
    TicketChannel,
    UnitState,
)
from app.models.base import new_uuid
from app.repairs import tickets

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "440301199001011234"


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"building": "1棟"}, floors=2, stairwells=True,
                              other="別的花園", everyone=True, language=Language.EN)
    w.add_unit("unit", "building", "1-101")
    w.add_unit("vacant", "building", "1-102", state=UnitState.VACANT)
    w["contact"] = factories.contact(w["unit"], id_number=ID_NUMBER)
    w.add_building("other_building", "other", "9棟")
    w.add_unit("other_unit", "other_building", "9-101")
    w["other_contact"] = factories.contact(w["other_unit"], id_number="440301198001019999")
    w.add_person("other_boss", Role.SUPERVISOR, "other")
    w.add_person("other_desk", Role.DESK, "other")
    return w.save()


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    query = sa.select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(query))


def post(client, auth, path, data=None, **kw):
    return client.post(path, data={"csrf_token": auth.csrf(), **(data or {})}, **kw)


# Each kind of change leaves an entry: who, when, before, after.


def test_a_round_completed_through_the_api_is_one_entry_with_its_findings_count(api, world):
    steward = world["users"][Role.STEWARD]
    api.login(steward.username)
    body = {"uuid": new_uuid(), "kind": "corridor", "estate_id": world["estate"].id,
            "building_id": world["building"].id}
    assert api.post("/api/v1/rounds", body).status_code == 201
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    items = {i["code"]: i for i in plan["items"]}
    answers = [{"uuid": new_uuid(), "checkpoint": c["key"], "item_code": code, "result": "fine"}
               for c in plan["checkpoints"] for code in c["items"] if items[code]["type"] == "check"]
    before = datetime.now(timezone.utc)
    done = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": answers})
    assert done.status_code == 201

    [created] = entries(entity="round", action="created")
    assert created.user_id == steward.id and created.role == "steward" and created.entity_key == body["uuid"]
    assert created.estate_id == world["estate"].id and created.after["status"] == "in_progress"
    [completed] = entries(entity="round", action="completed")
    assert completed.user_id == steward.id and completed.estate_id == world["estate"].id
    assert completed.before["status"] == "in_progress" and completed.after["status"] == "completed"
    assert completed.after["findings_stored"] == len(answers) and f"{len(answers)} findings" in completed.summary
    assert completed.method == "POST" and completed.path == f"/api/v1/rounds/{body['uuid']}/completion"
    assert completed.remote_addr == "127.0.0.1"
    assert before - timedelta(seconds=5) <= completed.at <= datetime.now(timezone.utc)
    # The findings went in with one bulk insert: no entry each.
    assert entries(entity="finding") == []
    # The same completion again changes nothing and logs nothing.
    again = api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": answers})
    assert again.status_code in (200, 201)
    assert len(entries(entity="round", action="completed")) == 1


def test_a_ticket_dispatched_on_its_page(client, auth, world):
    desk = world["users"][Role.DESK]
    ticket = tickets.register_report(
        db.session, desk, world["estate"],
        tickets.Report(channel=TicketChannel.PHONE, reporter_name="陳太", reporter_phone="13800000000",
                       description="走廊燈不亮", place_text="1棟大堂", route=tickets.DefectRoute.ENGINEERING))
    db.session.commit()
    [opened] = entries(entity="repair_ticket")
    assert opened.action == "created" and opened.user_id is None  # made outside a request: the system
    assert opened.entity_key == ticket.number and opened.after["description"] == "走廊燈不亮"

    auth.login(desk.username)
    assert post(client, auth, f"/tickets/{ticket.id}/dispatch", {"to": "工程部 李師傅"}).status_code == 302
    [dispatched] = entries(entity="repair_ticket", action="updated")
    assert dispatched.user_id == desk.id and dispatched.role == "desk" and dispatched.entity_id == ticket.id
    assert dispatched.before["status"] == "new" and dispatched.after["status"] == "dispatched"
    assert dispatched.before["dispatched_to"] == "" and dispatched.after["dispatched_to"] == "工程部 李師傅"
    assert dispatched.estate_id == world["estate"].id and "status: new → dispatched" in dispatched.summary
    # The ticket's own event log is a history already: not copied.
    assert entries(entity="ticket_event") == []


def test_a_decoration_registered_on_the_desk_page(client, auth, world):
    desk = world["users"][Role.DESK]
    auth.login(desk.username)
    response = post(client, auth, "/decoration/new", {
        "unit": str(world["vacant"].id), "owner_name": "陳大文", "owner_phone": "13800138000",
        "contractor_name": "好家裝修", "contractor_phone": "13900139000", "workers": "3", "worker_names": "張三",
        "planned_start": "2026-12-01", "planned_end": "2026-12-31", "scope": "廚房翻新",
        "working_hours": "08:00-12:00,14:00-18:00", "quiet_rest_days": "y", "deposit": "2000.00"})
    assert response.status_code == 302
    [permit] = entries(entity="decoration_permit")
    assert permit.action == "created" and permit.user_id == desk.id and permit.estate_id == world["estate"].id
    assert permit.before is None and permit.after["scope"] == "廚房翻新" and permit.after["deposit"] == "2000.00"
    assert permit.entity_key == permit.after["number"]
    [unit] = entries(entity="unit", action="updated")
    assert unit.before["state"] == "vacant" and unit.entity_id == world["vacant"].id
    assert unit.after["state"] == "decorating" and unit.user_id == desk.id


def test_a_users_role_and_estates_changed_from_the_command_line(app, world):
    steward = world["users"][Role.STEWARD]
    steward.role = Role.DESK
    steward.estates.append(world["other"])
    steward.set_password("a new password")
    db.session.commit()
    [changed] = entries(entity="user", action="updated")
    assert changed.user_id is None and changed.role is None and changed.method is None  # no request: the system
    assert changed.entity_id == steward.id and changed.entity_key == steward.username
    assert changed.before["role"] == "steward" and changed.after["role"] == "desk"
    assert changed.before["estates"] == [world["estate"].id]
    assert changed.after["estates"] == sorted([world["estate"].id, world["other"].id])
    assert changed.before["password_hash"] == "(old)" and changed.after["password_hash"] == "(changed)"
    assert "scrypt" not in str(changed.before) + str(changed.after)
    assert "password_hash: (old) → (changed)" in changed.summary and "signed out on every device" in changed.summary


def test_signing_out_reads_as_such_in_the_log(client, auth, world):
    steward = world["users"][Role.STEWARD]
    auth.login(steward.username)
    auth.logout()
    [signed_out] = entries(entity="user", action="updated")
    assert signed_out.user_id == steward.id and signed_out.entity_key == steward.username
    assert signed_out.summary == "signed out on every device"  # not the counter behind it
    assert signed_out.after["session_version"] == signed_out.before["session_version"] + 1


def test_an_owner_contact_edited_keeps_the_id_number_masked(app, world):
    contact = world["contact"]
    contact.phone = "13900000000"
    contact.id_number = "440301199202025678"
    db.session.commit()
    [edited] = entries(entity="owner_contact", action="updated")
    assert edited.before["phone"] == "13800138000" and edited.after["phone"] == "13900000000"
    assert edited.before["id_number"] == "440***********1234" and edited.after["id_number"] == "440***********5678"
    assert ID_NUMBER not in str(edited.before) and edited.estate_id == world["estate"].id
    db.session.delete(contact)
    db.session.commit()
    [deleted] = entries(entity="owner_contact", action="deleted")
    assert deleted.before["name"] == "陳大文" and deleted.after is None and deleted.entity_id == contact.id


def test_findings_marked_reviewed_in_one_statement_are_logged_each(app, world):
    steward, desk = world["users"][Role.STEWARD], world["users"][Role.DESK]
    found = [factories.finding_with_photo(steward, world["estate"], world["building"], FindingResult.DEFECT)
             for _ in range(2)]
    db.session.commit()
    marked = review.mark_reviewed(db.session, desk, [f.uuid for f in found])
    db.session.commit()
    assert marked == 2
    reviewed = entries(entity="finding", action="updated")
    assert {e.entity_id for e in reviewed} >= {f.id for f in found}
    for entry in (e for e in reviewed if e.entity_id in {f.id for f in found}):
        if "reviewed_at" in entry.after:
            assert entry.before["reviewed_at"] is None and entry.after["reviewed_by_id"] == desk.id
            assert entry.estate_id == world["estate"].id
    # Marked again: nothing changes (the first mark stays), nothing is logged.
    count = len(entries())
    review.mark_reviewed(db.session, desk, [f.uuid for f in found])
    db.session.commit()
    assert len(entries()) == count


def test_a_change_rolled_back_leaves_no_entry(app, world):
    count = len(entries())
    world["contact"].phone = "13911112222"
    db.session.flush()
    db.session.rollback()
    assert len(entries()) == count


# Reading: supervisors only, their estates only, filtered, a page at a time.


def test_only_supervisors_read_the_log(client, auth, world):
    for role in (Role.STEWARD, Role.DESK, Role.ENGINEERING, Role.GATE):
        auth.login(world["users"][role].username)
        assert client.get("/audit").status_code == 403
        auth.logout()
    auth.login(world["users"][Role.SUPERVISOR].username)
    assert client.get("/audit").status_code == 200
    auth.logout()
    assert client.get("/audit").status_code == 302  # anonymous: sign in first


def test_supervisors_see_their_estates_entries_only(client, auth, world):
    world["contact"].phone = "13911112222"
    world["other_contact"].phone = "13933334444"
    world["users"][Role.STEWARD].display_name = "改名的管家"
    db.session.commit()
    auth.login(world["users"][Role.SUPERVISOR].username)
    page = client.get("/audit").get_data(as_text=True)
    assert "13911112222" in page and "13933334444" not in page
    assert "改名的管家" in page  # a change to someone who works here
    auth.logout()
    auth.login("other-boss")
    page = client.get("/audit").get_data(as_text=True)
    assert "13933334444" in page and "13911112222" not in page and "改名的管家" not in page
    # Another estate asked for by id: not theirs to know.
    assert client.get(f"/audit?estate_id={world['estate'].id}").status_code == 404


def test_filters_and_keyset_pages(client, auth, world):
    desk, boss = world["users"][Role.DESK], world["users"][Role.SUPERVISOR]
    ticket = tickets.register_report(
        db.session, desk, world["estate"],
        tickets.Report(channel=TicketChannel.PHONE, reporter_name="陳太", reporter_phone="13800000000",
                       description="門壞了", place_text="大堂", route=tickets.DefectRoute.ENGINEERING))
    for n in range(5):
        world["contact"].phone = f"1390000000{n}"
        db.session.commit()
    auth.login(desk.username)
    assert post(client, auth, f"/tickets/{ticket.id}/dispatch", {"to": "李師傅"}).status_code == 302
    auth.logout()
    auth.login(boss.username)

    def shown(query: str) -> list[int]:
        response = client.get("/audit" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [int(i) for i in re.findall(r'id="a-(\d+)"', response.get_data(as_text=True))]

    everything = shown("")
    assert everything == sorted(everything, reverse=True) and len(everything) >= 7  # newest first
    by_user = shown(f"?user_id={desk.id}")
    assert by_user and all(e.user_id == desk.id for e in map(lambda i: db.session.get(AuditEntry, i), by_user))
    contacts = shown("?entity=owner_contact&action=updated")
    assert len(contacts) == 5
    assert shown(f"?q={ticket.number}") == [e.id for e in reversed(entries(entity="repair_ticket"))]
    assert shown(f"?q={world['contact'].id}&entity=owner_contact&action=updated") == contacts
    today = datetime.now(timezone.utc).date()
    assert set(shown(f"?date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}")) == set(everything)
    assert shown(f"?date_from={today + timedelta(days=2)}") == []
    assert client.get("/audit?action=edited").status_code == 400
    assert client.get("/audit?date_from=2026-13-01").status_code == 400
    assert client.get("/audit?before=abc").status_code == 400

    # Keyset pages: no entry twice, none lost, each page newest first.
    seen, before = [], None
    while True:
        page = reading.page(db.session, boss, reading.AuditFilter(), before=before, limit=3)
        seen += [e.id for e in page.entries]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == everything
    html = client.get("/audit").get_data(as_text=True)
    assert "Older entries" not in html  # fewer than a page
    second = shown(f"?before={everything[2]}")
    assert second == everything[3:]


# Nobody edits it.


def test_no_route_writes_the_log():
    from app import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit.") or "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    # Only the event hooks write entries; the page module only reads.
    writers = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py")
                     if "AuditEntry" in p.read_text(encoding="utf-8"))
    assert writers == ["app/audit/__init__.py", "app/audit/reading.py", "app/models/__init__.py", "app/models/audit.py"]
    source = (ROOT / "app/audit/reading.py").read_text(encoding="utf-8") + \
        (ROOT / "app/audit/views.py").read_text(encoding="utf-8")
    assert not re.search(r"\b(insert|update|delete|add|commit|record)\(", source)


def test_the_database_refuses_to_change_an_entry(app, world):
    world["contact"].phone = "13911112222"
    db.session.commit()
    statements = ["UPDATE audit_entry SET summary = 'x'", "DELETE FROM audit_entry"]
    if db.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_entry")
    for statement in statements:
        with pytest.raises(DBAPIError, match="never changed"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert entries(entity="owner_contact")


# Owner ID numbers: masked; shown once on request, and that is logged.


def test_the_unit_page_masks_the_id_number_and_offers_to_show_it(client, auth, world):
    auth.login(world["users"][Role.DESK].username)
    page = client.get(f"/desk/units/{world['unit'].id}").get_data(as_text=True)
    assert ID_NUMBER not in page and "440***********1234" in page
    assert f"/desk/contacts/{world['contact'].id}/reveal" in page and "Show the full ID number" in page


@pytest.mark.parametrize("role", [Role.DESK, Role.SUPERVISOR])
def test_revealing_the_id_number_is_logged(client, auth, world, role):
    user = world["users"][role]
    auth.login(user.username)
    response = post(client, auth, f"/desk/contacts/{world['contact'].id}/reveal")
    assert response.status_code == 200
    assert ID_NUMBER in response.get_data(as_text=True) and response.headers["Cache-Control"] == "no-store"
    [revealed] = entries(action="revealed")
    assert revealed.user_id == user.id and revealed.role == role.value and revealed.entity == "owner_contact"
    assert revealed.entity_id == world["contact"].id and revealed.estate_id == world["estate"].id
    assert revealed.method == "POST" and ID_NUMBER not in str(revealed.summary)
    # Still masked on the unit page afterwards.
    assert ID_NUMBER not in client.get(f"/desk/units/{world['unit'].id}").get_data(as_text=True)


def test_revealing_is_scoped_and_needs_the_right_role_and_token(client, auth, world):
    path = f"/desk/contacts/{world['contact'].id}/reveal"
    auth.login("other-desk")
    assert post(client, auth, path).status_code == 404  # another estate's contact
    assert post(client, auth, "/desk/contacts/999999/reveal").status_code == 404
    auth.logout()
    for role in (Role.STEWARD, Role.ENGINEERING, Role.GATE):
        auth.login(world["users"][role].username)
        response = post(client, auth, path)
        assert response.status_code == 403 and ID_NUMBER not in response.get_data(as_text=True)
        auth.logout()
    auth.login(world["users"][Role.DESK].username)
    assert client.post(path).status_code == 400  # no CSRF token
    assert client.get(path).status_code == 405
    assert entries(action="revealed") == []


def test_a_supervisor_finds_who_revealed_what(client, auth, world):
    auth.login(world["users"][Role.DESK].username)
    post(client, auth, f"/desk/contacts/{world['contact'].id}/reveal")
    auth.logout()
    auth.login(world["users"][Role.SUPERVISOR].username)
    page = client.get("/audit?action=revealed").get_data(as_text=True)
    assert "u-desk" in page and "ID number shown" in page and ID_NUMBER not in page


def test_record_estates_for_decoration_and_rounds_made_by_services(app, world):
    """Objects that carry their estate only through a parent still land in that estate."""
    steward = world["users"][Role.STEWARD]
    factories.finding_with_photo(steward, world["estate"], world["building"])
    db.session.commit()
    photo = entries(entity="photo")
    assert photo and all(e.estate_id == world["estate"].id for e in photo)
    permit = permits.register(db.session, world["users"][Role.DESK], permits.Registration(
        unit_id=world["unit"].id, owner_name="陳大文", owner_phone="13800138000", contractor_name="好家裝修",
        contractor_phone="13900139000", workers=2, planned_start=date(2026, 12, 1), planned_end=date(2026, 12, 31),
        scope="廚房翻新", deposit=Decimal("1000")))
    db.session.commit()
    assert entries(entity="decoration_permit")[0].entity_id == permit.id
    assert entries(entity="decoration_event") == []
    assert all(e.estate_id == world["estate"].id for e in entries(entity="round"))
    assert audit.ENTITIES and "audit_entry" not in audit.ENTITIES
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 1


def test_a_photo_that_came_before_its_round_is_logged_in_its_estate(api, world):
    """The phone may send a finding's photo before the round: the photo's entry still names an estate
    (its finding's once it exists, else its sender's), so the estate's supervisor finds it."""
    api.login("u-steward")
    photo_uuid = new_uuid()
    assert api.upload(photo_uuid, factories.jpeg_bytes(), finding_uuid=new_uuid()).status_code == 201
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "photo",
                                                           AuditEntry.entity_key == photo_uuid)).one()
    assert entry.estate_id == world["estate"].id
