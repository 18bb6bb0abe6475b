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
