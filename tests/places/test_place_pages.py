"""The administrator's place pages: the workbook through the upload form, and one place at a time
added, edited (never over someone else's change), retired and brought back, contacts revealed only
with an audit entry."""
from __future__ import annotations

import io

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Estate, OwnerContact, Role, Unit, UnitState
from app.places import operations

from .. import factories
from .test_workbook import GOOD, rows_with, xlsx


def admin_login(auth) -> None:  # noqa: ANN001
    admin = factories.user(Role.ADMIN, username="admin")
    db.session.commit()
    assert auth.login(admin.username).status_code == 302


def upload(client, auth, data: bytes, action: str):  # noqa: ANN001, ANN201
    return client.post("/admin/places/import", data={"csrf_token": auth.csrf(), "action": action,
                                                    "workbook": (io.BytesIO(data), "estate.xlsx")},
                       content_type="multipart/form-data")


def test_an_administrator_checks_then_imports_the_workbook(client, auth):
    admin_login(auth)
    assert client.get("/").headers["Location"].endswith("/admin/places/")
    page = client.get("/admin/places/")
    assert "Import the estate workbook" in page.get_data(as_text=True) or "匯入" in page.get_data(as_text=True)
    checked = upload(client, auth, xlsx(), "check")
    assert checked.status_code == 200 and db.session.scalar(sa.select(sa.func.count(Estate.id))) == 0
    stored = upload(client, auth, xlsx(), "import")
    assert stored.status_code == 200 and db.session.scalar(sa.select(sa.func.count(Unit.id))) == 3
    again = upload(client, auth, xlsx(), "import")
    assert again.status_code == 200 and db.session.scalar(sa.select(sa.func.count(Unit.id))) == 3


def test_a_bad_workbook_shows_where_and_stores_nothing(client, auth):
    admin_login(auth)
    answer = upload(client, auth, xlsx(rows_with("單元", ["HILL", "A", "2", "501", 5, None, None, "自住", None])),
                    "import")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "單元" in html and "<td>5</td>" in html
    assert db.session.scalar(sa.select(sa.func.count(Estate.id))) == 0
    assert upload(client, auth, b"not a workbook", "check").status_code == 422
    empty = client.post("/admin/places/import", data={"csrf_token": auth.csrf(), "action": "check"})
    assert empty.status_code == 422


def test_the_template_downloads(client, auth):
    admin_login(auth)
    answer = client.get("/admin/places/template.xlsx")
    assert answer.status_code == 200 and answer.data.startswith(b"PK") and "xlsx" in answer.headers["Content-Disposition"]


def imported() -> None:
    from app.places import workbook

    workbook.import_workbook(db.session, xlsx(), None)
    db.session.commit()


def test_a_unit_is_edited_with_the_workbooks_rules(client, auth):
    admin_login(auth)
    imported()
    unit = db.session.scalar(sa.select(Unit).where(Unit.room_number == "101"))
    page = client.get(f"/admin/places/units/{unit.id}").get_data(as_text=True)
    seen = page.split('name="seen" value="')[1].split('"')[0]
    form = {"csrf_token": auth.csrf(), "seen": seen, "entrance_id": str(unit.entrance_id), "room_number": "101",
            "floor": "1", "area_m2": "90", "layout": "三房", "state": "vacant", "vacancy_reason": ""}
    refused = client.post(f"/admin/places/units/{unit.id}", data=form)
    assert refused.status_code == 422 and "vacancy reason" in refused.get_data(as_text=True)
    saved = client.post(f"/admin/places/units/{unit.id}", data={**form, "vacancy_reason": "unsold"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).state is UnitState.VACANT
    # A second administrator's form, shown before that change, cannot overwrite it.
    stale = client.post(f"/admin/places/units/{unit.id}", data={**form, "state": "rented", "vacancy_reason": ""})
    assert stale.status_code == 409 and "changed this record" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).state is UnitState.VACANT


def test_a_place_is_retired_not_deleted_and_can_come_back(client, auth):
    admin_login(auth)
    imported()
    unit = db.session.scalar(sa.select(Unit).where(Unit.room_number == "201"))
    assert client.post(f"/admin/places/units/{unit.id}/retire", data={"csrf_token": auth.csrf()}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).retired
    assert "201" not in client.get("/admin/places/units/").get_data(as_text=True).split("<ul class=\"list\">")[1]
    assert "201" in client.get("/admin/places/units/?retired=1").get_data(as_text=True)
    client.post(f"/admin/places/units/{unit.id}/retire", data={"csrf_token": auth.csrf(), "back": "1"})
    db.session.expire_all()
    assert not db.session.get(Unit, unit.id).retired


def test_adding_a_unit_outside_its_stairwell_is_refused(client, auth):
    admin_login(auth)
    imported()
    stairwell = db.session.scalar(sa.select(Unit).where(Unit.room_number == "201")).entrance
    answer = client.post("/admin/places/units/new", data={
        "csrf_token": auth.csrf(), "entrance_id": str(stairwell.id), "room_number": "501", "floor": "5",
        "state": "occupied"})
    assert answer.status_code == 422 and "outside stairwell" in answer.get_data(as_text=True)
    added = client.post("/admin/places/units/new", data={
        "csrf_token": auth.csrf(), "entrance_id": str(stairwell.id), "room_number": "301", "floor": "3",
        "state": "occupied"})
    assert added.status_code == 302 and db.session.scalar(sa.select(Unit).where(Unit.room_number == "301")) is not None


def test_contacts_are_masked_and_a_reveal_is_logged(client, auth):
    admin_login(auth)
    imported()
    contact = db.session.scalar(sa.select(OwnerContact).where(OwnerContact.name == "陳大文"))
    page = client.get(f"/admin/places/contacts/{contact.id}").get_data(as_text=True)
    assert contact.id_number not in page and contact.phone not in page
    revealed = client.post(f"/admin/places/contacts/{contact.id}/reveal", data={"csrf_token": auth.csrf()})
    assert contact.id_number in revealed.get_data(as_text=True) and revealed.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "revealed")) is not None
    # Saving the form with the confidential fields left empty keeps them.
    seen = operations.fingerprint(contact, operations.KINDS["contacts"])
    client.post(f"/admin/places/contacts/{contact.id}", data={
        "csrf_token": auth.csrf(), "seen": seen, "unit_id": str(contact.unit_id), "name": "陳大文",
        "relation": "owner", "phone": "", "id_number": ""})
    db.session.expire_all()
    assert db.session.get(OwnerContact, contact.id).id_number == GOOD["業主"][0][5]


def test_other_roles_never_reach_the_place_pages(client, auth):
    estate = factories.estate()
    desk = factories.user(Role.DESK, estates=[estate])
    db.session.commit()
    auth.login(desk.username)
    assert client.get("/admin/places/units/").status_code == 403
    assert client.get("/admin/places/nonsense/").status_code == 404
