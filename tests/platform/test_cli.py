"""Command-line tasks: the demo estate, creating users, checklists, setup."""
from __future__ import annotations

import sqlalchemy as sa

from app import demo
from app.extensions import db
from app.models import (
    Building,
    Estate,
    Meter,
    OwnerContact,
    PublicArea,
    Role,
    Unit,
    UnitState,
    User,
)

from tests import factories


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_demo_builds_a_realistic_estate_and_prints_the_logins(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for login in ("steward1", "steward2", "desk1", "super1", "eng1", "gate"):
        assert login in result.output
    assert demo.DEMO_PASSWORD in result.output

    estate = db.session.scalars(sa.select(Estate)).one()
    assert estate.timezone == "Asia/Shanghai"
    assert count(Building) == 3
    assert count(Unit) == 120
    states = dict(db.session.execute(sa.select(Unit.state, sa.func.count()).group_by(Unit.state)).all())
    assert states[UnitState.VACANT] >= 5 and states[UnitState.DECORATING] >= 2 and states[UnitState.OCCUPIED] > 50
    assert db.session.scalar(sa.select(sa.func.count()).where(Unit.state == UnitState.VACANT,
                                                              Unit.vacancy_reason.is_(None))) == 0
    assert {a.kind.value for a in db.session.scalars(sa.select(PublicArea))} == {
        "road", "greenery", "playground", "shopfront", "garage"}
    assert count(Meter) == 120 * 2 + 3 * 2 + 2
    assert count(OwnerContact) > 100

    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert {u: users[u].role for u in users} == {
        "steward1": Role.STEWARD, "steward2": Role.STEWARD, "desk1": Role.DESK,
        "super1": Role.SUPERVISOR, "eng1": Role.ENGINEERING, "gate": Role.GATE}
    assert all(u.check_password("xuncha-demo") for u in users.values())


def test_seed_demo_twice_is_harmless(runner):
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "already loaded" in result.output
    assert count(Unit) == 120 and count(User) == 6


def test_seed_demo_if_empty_leaves_a_real_database_alone(runner, app):
    factories.estate(name="A real estate")
    db.session.commit()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
    assert count(Estate) == 1 and count(User) == 0


def test_demo_logins_work_on_the_login_page(runner, client, auth):
    runner.invoke(args=["seed-demo"])
    for username, landing in [("steward1", "/rounds/today"), ("desk1", "/desk/"), ("super1", "/desk/supervisor"),
                              ("eng1", "/engineering/")]:
        response = auth.login(username, demo.DEMO_PASSWORD)
        assert response.headers["Location"] == landing
        assert client.get(landing).status_code == 200
        auth.logout()


def test_setup_is_idempotent(runner):
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo estate" in first.output
    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert count(Unit) == 120


def test_create_user(runner, app):
    estate = factories.estate(code="NORTH")
    db.session.commit()
    result = runner.invoke(
        args=["create-user", "mei", "--name", "王美", "--role", "desk", "--estate", "NORTH"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(sa.select(User).where(User.username == "mei")).one()
    assert user.role is Role.DESK and user.estates == [estate] and user.check_password("long-enough-pw")


def test_create_user_refuses_bad_input_and_stores_nothing(runner, app):
    factories.user(username="taken")
    db.session.commit()
    cases = [
        (["create-user", "TAKEN", "--name", "x", "--role", "desk", "--password", "long-enough-pw"], "is taken"),
        (["create-user", "new", "--name", "x", "--role", "desk", "--password", "short"], "at least 8"),
        (["create-user", "new", "--name", "x", "--role", "king", "--password", "long-enough-pw"], "king"),
        (["create-user", "new", "--name", "x", "--role", "desk", "--estate", "NOPE", "--password", "long-enough-pw"],
         "no estate"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and message in result.output, result.output
    assert count(User) == 1


def test_sync_checklists_command_reports_up_to_date(runner):
    result = runner.invoke(args=["sync-checklists"])
    assert result.exit_code == 0 and "up to date" in result.output
