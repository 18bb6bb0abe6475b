"""Engine set-up that every connection gets, whatever the backend."""
from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # noqa: ANN001 - DBAPI objects
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):  # noqa: ANN001
        # A request that may write takes the write lock up front: it waits (busy_timeout) for
        # another writer instead of failing later with "database is locked" on lock upgrade.
        # GET and HEAD never write, so they read (WAL: beside any writer) without the lock.
        if has_request_context() and request.method in READ_ONLY_METHODS:
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
