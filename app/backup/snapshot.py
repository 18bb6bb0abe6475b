"""A consistent snapshot of the live database: SQLite's online backup API, or pg_dump on an exported snapshot."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from .common import BackupError, Facts, _engine_url_text
from .facts import _pg_connection, _pg_facts, _run_pg_tool, _sqlite_facts

# ---------------------------------------------------------------------------------------------
# Snapshots


@dataclass
class _Snapshot:
    kind: str
    path: Path
    facts: Facts


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the database is an in-memory or URI SQLite database; back up a database file")
    return Path(database)


def _snapshot_sqlite(workdir: Path) -> _Snapshot:
    source = _sqlite_path()
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    target = workdir / "xuncha.sqlite3"
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000) / 1000
    try:
        src = sqlite3.connect(source, timeout=timeout)
        try:
            dst = sqlite3.connect(target)
            try:
                # All pages in one step: one read transaction on the source, so the copy is one
                # consistent state; in WAL mode writers carry on meanwhile.
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                facts = _sqlite_facts(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source}: {exc}") from None
    return _Snapshot("sqlite", target, facts)


def _snapshot_postgresql(workdir: Path) -> _Snapshot:
    target = workdir / "xuncha.pgdump"
    conninfo, env = _pg_connection()
    try:
        with db.engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                   postgresql_readonly=True) as conn:
            with conn.begin():
                # pg_dump reads the very snapshot this transaction sees, so the counts and photo
                # keys read here describe exactly the dump.
                snapshot_id = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                _run_pg_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                              f"--snapshot={snapshot_id}", f"--file={target}", f"--dbname={conninfo}"],
                             env, "the database dump")
                facts = _pg_facts(conn)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise BackupError(f"cannot read the database at {_engine_url_text()}: {reason}") from None
    return _Snapshot("postgresql", target, facts)
