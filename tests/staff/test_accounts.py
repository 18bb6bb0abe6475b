"""The administrator's staff pages and operations: create, change, reset a password (chosen anew at
the next sign-in), deactivate (every session ends at once), reactivate; the last administrator
stays; a change made meanwhile by another administrator is refused, not overwritten; every change
of assignment goes into its history; `flask create-user --building`."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.models import AssignmentPeriod, Role, User
from app.refusals import Conflict, Rejected
from app.staff import accounts
from app.staff.accounts import Assignments

from .. import factories
from ..conftest import AuthActions, csrf_from

TEMPORARY = re.compile(r'<p class="temporary-password" translate="no">([a-z0-9-]+)</p>')


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages (tests/test_i18n.py checks the other languages): of the
    pages, and of the operations' refusals read here."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


@pytest.fixture
def world(app):
    estate = factories.estate(name="翠湖花園", code="CUIHU")
    b1 = factories.building(estate, "1棟", code="B1")
    b2 = factories.building(estate, "2棟", code="B2")
    admin = factories.user(Role.ADMIN, username="boss", display_name="Boss")
    steward = factories.user(Role.STEWARD, username="ming", display_name="陳小明", buildings=[b1])
    db.session.commit()
    return {"estate": estate, "b1": b1, "b2": b2, "admin": admin, "steward": steward}


def page_token(client, path: str) -> tuple[str, str]:
    """The CSRF token and the user fingerprint ("seen") of a page."""
    html = client.get(path).get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]*)"', html)
    return csrf_from(html), seen.group(1) if seen else ""


def other_client(app, username: str, password: str = factories.PASSWORD):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert AuthActions(client).login(username, password).status_code == 302
    return client


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_administrator_creates_a_steward_who_chooses_a_password_at_the_first_sign_in(app, client, auth, world):
    auth.login("boss")
    token, _ = page_token(client, "/admin/staff/new")
    response = client.post("/admin/staff/new", data={
        "csrf_token": token, "username": "hua", "display_name": "林小華", "role": "steward",
        f"estate-{world['estate'].id}": "some", "building": [str(world["b2"].id)]})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    temporary = TEMPORARY.search(response.get_data(as_text=True)).group(1)
    hua = db.session.scalars(sa.select(User).where(User.username == "hua")).one()
    assert hua.role is Role.STEWARD and hua.buildings == [world["b2"]] and hua.estates == []
    assert hua.must_change_password and hua.check_password(temporary)
    [period] = db.session.scalars(sa.select(AssignmentPeriod).where(AssignmentPeriod.user_id == hua.id)).all()
    assert (period.estate_id, period.building_id, period.ended_at) == (world["estate"].id, world["b2"].id, None)
    assert period.started_at is not None

    phone = app.test_client()
    phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    signed_in = AuthActions(phone).login("hua", temporary)
    assert signed_in.headers["Location"] == "/password"
    # Nowhere else until it is done: pages send back to the form, the API says why.
    assert phone.get("/rounds/today").headers["Location"] == "/password"
    api = phone.get("/api/v1/offline-pack")
    assert api.status_code == 403 and api.get_json()["message"] == "Choose a new password first."
    page = phone.get("/password")
    assert page.status_code == 200 and "Your password was reset" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    for data, problem in [({"current": "wrong-one", "new": "my own pass", "repeat": "my own pass"}, "not your current"),
                          ({"current": temporary, "new": "short", "repeat": "short"}, "at least 8"),
                          ({"current": temporary, "new": "my own pass", "repeat": "my own pas"}, "differ"),
                          ({"current": temporary, "new": temporary, "repeat": temporary}, "other than the current")]:
        refused = phone.post("/password", data={"csrf_token": token, **data})
        assert refused.status_code == 422 and problem in refused.get_data(as_text=True), problem
    db.session.expire_all()
    assert hua.check_password(temporary) and hua.must_change_password
    done = phone.post("/password", data={"csrf_token": token, "current": temporary, "new": "my own pass",
                                         "repeat": "my own pass"})
    assert done.headers["Location"] == "/rounds/today"
    assert phone.get("/rounds/today").status_code == 200  # this session goes on
    db.session.expire_all()
    assert not hua.must_change_password and hua.check_password("my own pass")


def test_a_new_user_with_bad_input_is_refused_with_where_and_nothing_is_stored(client, auth, world):
    auth.login("boss")
    token, _ = page_token(client, "/admin/staff/new")
    users = count(User)
    estate = world["estate"].id
    cases = [
        ({"username": "a b", "display_name": "X", "role": "steward"}, "A username is 2 to 64"),
        ({"username": "MING", "display_name": "X", "role": "steward"}, "The username MING is taken."),
        ({"username": "new1", "display_name": " ", "role": "steward"}, "Enter the name shown in the app."),
        ({"username": "new1", "display_name": "X", "role": "king"}, "Choose a role."),
        ({"username": "new1", "display_name": "X", "role": "steward", f"estate-{estate}": "whole",
          "building": [str(world["b1"].id)]}, "choose the whole estate or some buildings, not both"),
        ({"username": "new1", "display_name": "X", "role": "steward", f"estate-{estate}": "some"},
         "tick at least one building"),
        ({"username": "new1", "display_name": "X", "role": "admin", f"estate-{estate}": "whole"},
         "An administrator works company-wide"),
        ({"username": "new1", "display_name": "X", "role": "steward", "building": ["99999"]},
         "A building chosen is not one of this list."),
    ]
    for data, message in cases:
        response = client.post("/admin/staff/new", data={"csrf_token": token, **data})
        assert response.status_code == 422, (message, response.status_code)
        assert message in response.get_data(as_text=True).replace("&#39;", "'"), message
    assert count(User) == users and count(AssignmentPeriod) == 0


def test_a_change_made_meanwhile_by_another_administrator_is_refused(app, client, auth, world):
    factories.user(Role.ADMIN, username="boss2")
    db.session.commit()
    steward = world["steward"]
    auth.login("boss")
    token, seen = page_token(client, f"/admin/staff/{steward.id}")
    second = other_client(app, "boss2")
    token2, seen2 = page_token(second, f"/admin/staff/{steward.id}")
    assert seen == seen2
    moved = second.post(f"/admin/staff/{steward.id}", data={
        "csrf_token": token2, "seen": seen2, "display_name": "陳小明", "role": "steward",
        f"estate-{world['estate'].id}": "some", "building": [str(world["b2"].id)]})
    assert moved.status_code == 302
    stale = client.post(f"/admin/staff/{steward.id}", data={
        "csrf_token": token, "seen": seen, "display_name": "陳大明", "role": "desk",
        f"estate-{world['estate'].id}": "whole"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "was changed by someone else while this page was open" in html
    db.session.expire_all()
    assert (steward.display_name, steward.role, steward.buildings, steward.estates) == \
        ("陳小明", Role.STEWARD, [world["b2"]], [])
    # The page now shows the user as stored, with a fresh fingerprint: saving from it works.
    fresh = re.search(r'name="seen" value="([^"]*)"', html).group(1)
    assert fresh == accounts.fingerprint(steward)
    # The other actions refuse a stale page too.
    for action in ("password", "deactivate"):
        refused = client.post(f"/admin/staff/{steward.id}/{action}", data={"csrf_token": token, "seen": seen})
        assert refused.status_code == 302
        assert "was changed by someone else" in client.get(refused.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert steward.active and not steward.must_change_password


def test_assignment_history_is_written_on_every_change(app, world):
    steward, b1, b2, estate = world["steward"], world["b1"], world["b2"], world["estate"]
    t1 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    t2 = datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc)
    accounts.update_user(db.session, world["admin"], steward.id, seen=accounts.fingerprint(steward),
                         display_name=steward.display_name, role=Role.STEWARD,
                         assignments=Assignments(frozenset({estate.id}), frozenset({b1.id, b2.id})), now=t1)
    accounts.update_user(db.session, world["admin"], steward.id, seen=accounts.fingerprint(steward),
                         display_name=steward.display_name, role=Role.STEWARD,
                         assignments=Assignments(frozenset(), frozenset({b2.id})), now=t2)
    rows = {(r.estate_id, r.building_id): (r.started_at, r.ended_at) for r in db.session.scalars(
        sa.select(AssignmentPeriod).where(AssignmentPeriod.user_id == steward.id))}
    assert rows == {
        (estate.id, b1.id): (None, t2),  # held before the history: ends with the second change
        (estate.id, None): (t1, t2),
        (estate.id, b2.id): (t1, None),
    }


def test_a_reset_ends_every_session_and_asks_for_a_new_password(app, client, auth, world):
    phone = other_client(app, "ming")
    assert phone.get("/rounds/today").status_code == 200
    auth.login("boss")
    token, seen = page_token(client, f"/admin/staff/{world['steward'].id}")
    response = client.post(f"/admin/staff/{world['steward'].id}/password", data={"csrf_token": token, "seen": seen})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    temporary = TEMPORARY.search(response.get_data(as_text=True)).group(1)
    assert phone.get("/rounds/today").headers["Location"].startswith("/login")
    assert AuthActions(phone).login("ming").status_code == 200  # the old password is gone
    assert AuthActions(phone).login("ming", temporary).headers["Location"] == "/password"


def test_deactivation_ends_every_session_at_once_and_reactivation_lets_them_back(app, client, auth, world):
    phone = other_client(app, "ming")
    assert phone.get("/rounds/today").status_code == 200
    auth.login("boss")
    steward = world["steward"]
    token, seen = page_token(client, f"/admin/staff/{steward.id}")
    assert client.post(f"/admin/staff/{steward.id}/deactivate",
                       data={"csrf_token": token, "seen": seen}).status_code == 302
    response = phone.get("/rounds/today")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert phone.get("/api/v1/offline-pack").status_code == 401
    assert AuthActions(phone).login("ming").status_code == 200  # refused, neutrally
    token, seen = page_token(client, f"/admin/staff/{steward.id}")
    assert "Deactivated: cannot sign in." in client.get(f"/admin/staff/{steward.id}").get_data(as_text=True)
    assert client.post(f"/admin/staff/{steward.id}/reactivate",
                       data={"csrf_token": token, "seen": seen}).status_code == 302
    assert AuthActions(phone).login("ming").status_code == 302


def test_the_last_active_administrator_stays(app, client, auth, world):
    admin = world["admin"]
    with pytest.raises(Conflict, match="last active administrator"):
        accounts.deactivate(db.session, admin, admin.id, seen=accounts.fingerprint(admin))
    db.session.rollback()
    with pytest.raises(Conflict, match="last active administrator"):
        accounts.update_user(db.session, admin, admin.id, seen=accounts.fingerprint(admin), display_name="Boss",
                             role=Role.SUPERVISOR, assignments=Assignments())
    db.session.rollback()
    # A deactivated administrator does not count.
    factories.user(Role.ADMIN, username="retired-boss", active=False)
    db.session.commit()
    auth.login("boss")
    token, seen = page_token(client, f"/admin/staff/{admin.id}")
    response = client.post(f"/admin/staff/{admin.id}/deactivate", data={"csrf_token": token, "seen": seen})
    assert "Boss is the last active administrator" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert admin.active and admin.role is Role.ADMIN
    # With a second one, either may go (but not both).
    second = factories.user(Role.ADMIN, username="boss2")
    db.session.commit()
    accounts.deactivate(db.session, admin, second.id, seen=accounts.fingerprint(second))
    with pytest.raises(Conflict, match="last active administrator"):
        accounts.deactivate(db.session, second, admin.id, seen=accounts.fingerprint(admin))


def test_operations_refuse_before_writing(world):
    steward = world["steward"]
    with pytest.raises(Rejected):
        accounts.update_user(db.session, None, steward.id, seen=accounts.fingerprint(steward), display_name="",
                             role=Role.STEWARD, assignments=Assignments(frozenset(), frozenset({world["b2"].id})))
    db.session.rollback()
    assert steward.buildings == [world["b1"]] and count(AssignmentPeriod) == 0
    world["b2"].retired_at = datetime.now(timezone.utc)
    with pytest.raises(Rejected, match="retired"):
        accounts.update_user(db.session, None, steward.id, seen=accounts.fingerprint(steward), display_name="陳小明",
                             role=Role.STEWARD, assignments=Assignments(frozenset(), frozenset({world["b2"].id})))


def test_create_user_assigns_buildings_from_the_command_line(runner, world):
    result = runner.invoke(args=["create-user", "lin", "--name", "林小華", "--role", "steward",
                                 "--building", "CUIHU:B1", "--building", "CUIHU:B2", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    lin = db.session.scalars(sa.select(User).where(User.username == "lin")).one()
    assert lin.buildings == [world["b1"], world["b2"]] and not lin.must_change_password
    assert count(AssignmentPeriod) == 2
    users = count(User)
    for args, message in [(["--building", "CUIHU"], "write ESTATE:BUILDING"),
                          (["--building", "NOPE:B1"], "no estate with code 'NOPE'"),
                          (["--building", "CUIHU:B9"], "has no building 'B9'"),
                          (["--role", "admin", "--estate", "CUIHU"], "company-wide")]:
        role = [] if "--role" in args else ["--role", "steward"]
        result = runner.invoke(args=["create-user", "other", "--name", "X", *role, *args,
                                     "--password", "long-enough-pw"])
        assert result.exit_code != 0 and message in result.output, result.output
    assert count(User) == users


def test_the_staff_list_searches_and_filters(client, auth, world):
    auth.login("boss")
    html = client.get("/admin/staff/?q=小明").get_data(as_text=True)
    assert ">陳小明</a>" in html and ">Boss</a>" not in html
    html = client.get("/admin/staff/?role=admin").get_data(as_text=True)
    assert ">Boss</a>" in html and ">陳小明</a>" not in html
    assert "Nobody matches." in client.get("/admin/staff/?q=%25").get_data(as_text=True)


def test_two_administrators_deactivating_each_other_at_once_leave_one_active(app, world):
    """Each sees the other active when the page is shown; the rows are locked, so the second request
    finds itself the last active administrator and is refused."""
    second = factories.user(Role.ADMIN, username="boss2")
    db.session.commit()
    pairs = [(world["admin"].id, second.id), (second.id, world["admin"].id)]
    seen = {target: accounts.fingerprint(db.session.get(User, target)) for _actor, target in pairs}
    db.session.commit()
    barrier = threading.Barrier(len(pairs))
    answers: dict[int, str] = {}

    def act(actor_id: int, target_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                actor = db.session.get(User, actor_id)
                accounts.deactivate(db.session, actor, target_id, seen=seen[target_id])
                db.session.commit()
                answers[target_id] = "deactivated"
            except Conflict as exc:
                db.session.rollback()
                with force_locale("en"):
                    answers[target_id] = str(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # One went through and the other was refused, in either order (a refusal may start with a name).
    assert sorted(v == "deactivated" for v in answers.values()) == [False, True], answers
    assert any("the last active administrator" in v for v in answers.values() if v != "deactivated"), answers
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True))) == 1
