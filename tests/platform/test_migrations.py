"""The migrations are the schema: they build every table the models declare, and nothing else."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db


def schema_differences(metadata: sa.MetaData | None = None) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata if metadata is not None else db.metadata)


def test_models_and_migrations_agree(empty_database_app):
    upgrade()
    assert schema_differences() == []


def test_a_model_change_without_a_migration_is_caught(empty_database_app):
    upgrade()
    changed = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["estate"].append_column(sa.Column("not_migrated", sa.String(10)))
    diffs = schema_differences(changed)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "estate", "not_migrated")]


def test_migrations_go_down_to_nothing_and_up_again(empty_database_app):
    upgrade()
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert schema_differences() == []


def test_records_of_a_place_in_a_building_get_that_building(empty_database_app):
    """8c4d2e6f1a90 fills in the building of a unit's round and of a ticket at a stairwell that
    had none (made before rounds and tickets carried it), and leaves the estate's own alone."""
    from datetime import date

    from app.models import Role, RoundKind, TicketChannel
    from app.repairs import tickets
    from app.rounds.checklists import sync_checklists

    from tests import factories

    upgrade()
    sync_checklists(db.session)
    estate = factories.estate()
    building = factories.building(estate)
    stairwell = factories.entrance(building)
    unit = factories.unit(building, "101")
    steward = factories.user(Role.STEWARD, estates=[estate])
    desk = factories.user(Role.DESK, estates=[estate])
    unit_round = factories.round_(RoundKind.VACANT_UNIT, steward, estate, date(2026, 11, 2), unit_=unit)

    def report(where: str):  # noqa: ANN202
        return tickets.register_report(db.session, desk, estate, tickets.Report(
            channel=TicketChannel.PHONE, reporter_name="王", reporter_phone="", description="壞了", place_text=where))

    door, road = report("1梯門"), report("南門路燈")
    db.session.commit()
    ids = dict(round=unit_round.id, building=building.id, stairwell=stairwell.id, door=door.id, road=road.id)
    db.session.remove()
    with db.engine.begin() as conn:  # as such rows were stored before
        conn.execute(sa.text("UPDATE round SET building_id = NULL WHERE id = :round"), ids)
        conn.execute(sa.text("UPDATE repair_ticket SET entrance_id = :stairwell WHERE id = :door"), ids)
    downgrade(revision="5e1f0a7c3b21")
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT building_id FROM round WHERE id = :round"), ids).scalar() == ids["building"]
        buildings = dict(conn.execute(sa.text("SELECT id, building_id FROM repair_ticket")).all())
    assert buildings == {ids["door"]: ids["building"], ids["road"]: None}


def test_each_estate_gets_its_teams_and_dispatched_tickets_find_theirs(empty_database_app):
    """6279d7c31457 gives every estate its engineering, cleaning and greening teams, and points the
    tickets already dispatched to one of them (by its name or its route's word) at it."""
    from app.models import Role, TicketChannel
    from app.repairs import tickets

    from tests import factories

    upgrade()
    estate = factories.estate("翠湖花園")
    desk = factories.user(Role.DESK, estates=[estate])

    def report(text: str):  # noqa: ANN202
        ticket = tickets.register_report(db.session, desk, estate, tickets.Report(
            channel=TicketChannel.PHONE, reporter_name="王", reporter_phone="", description="壞了", place_text="大堂"))
        ticket.dispatched_to = text
        return ticket

    made = {text: report(text) for text in ("保潔組 劉阿姨", "工程部 王師傅", "工程", "奧的斯電梯維保")}
    db.session.commit()
    ids = {text: t.id for text, t in made.items()}
    estate_id = estate.id
    db.session.remove()
    downgrade(revision="a15e57a7e002")  # as tickets stood before teams: dispatched by name only
    upgrade()
    with db.engine.connect() as conn:
        teams = dict(conn.execute(sa.text("SELECT name, kind FROM team WHERE estate_id = :e"), {"e": estate_id}).all())
        linked = dict(conn.execute(sa.text(
            "SELECT r.id, t.name FROM repair_ticket r LEFT JOIN team t ON t.id = r.team_id")).all())
    assert teams == {"工程部": "engineering", "保潔部": "cleaning", "綠化部": "greening"}
    assert linked == {ids["保潔組 劉阿姨"]: "保潔部", ids["工程部 王師傅"]: "工程部", ids["工程"]: "工程部",
                      ids["奧的斯電梯維保"]: None}
