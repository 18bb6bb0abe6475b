"""Engine set-up that every connection gets, whatever the backend."""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from .extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriterQueue:
    """Writers wait for each other on a lock file next to the database, checking every
    millisecond, before they take SQLite's write lock. SQLite's own busy handler naps up to
    100 ms between tries, which turns a queue of writers into second-long tails."""

    def __init__(self, path: str, timeout_s: float) -> None:
        self.path, self.timeout_s = path, timeout_s

    def acquire(self, info: dict) -> None:
        if "writer_fd" not in info:
            info["writer_fd"] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(info["writer_fd"], fcntl.LOCK_EX | fcntl.LOCK_NB)
                info["writer_locked"] = True
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return  # SQLite's busy timeout decides from here
                time.sleep(0.001)

    def release(self, info: dict) -> None:
        if info.pop("writer_locked", False):
            fcntl.flock(info["writer_fd"], fcntl.LOCK_UN)

    def close(self, info: dict) -> None:
        self.release(info)
        fd = info.pop("writer_fd", None)
        if fd is not None:
            os.close(fd)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    database = engine.url.database
    queue = WriterQueue(f"{database}.writer-lock", busy_timeout_ms / 1000) if database not in (None, "", ":memory:") else None

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
        if has_request_context() and (request.method in READ_ONLY_METHODS or g.get("read_phase")):
            connection.exec_driver_sql("BEGIN")
        else:
            if queue is not None:
                queue.acquire(connection.connection.info)
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    if queue is not None:
        # The queue is left when the connection goes back to the pool: after COMMIT or ROLLBACK.
        @event.listens_for(engine, "reset")
        def on_reset(_dbapi_connection, record, _state=None):  # noqa: ANN001
            queue.release(record.info)

        @event.listens_for(engine, "close")
        def on_close(_dbapi_connection, record):  # noqa: ANN001
            queue.close(record.info)

        @event.listens_for(engine, "invalidate")
        def on_invalidate(_dbapi_connection, record, _exception):  # noqa: ANN001
            queue.close(record.info)


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _begin_read_phase() -> None:
    g.read_phase = True


def _end_read_phase() -> None:
    """End a read phase (the last before_request hook, and the function `reads_first` yields).
    Loading the user and checking the request only read, so they run in a plain read
    transaction, ended here: a writing request then takes SQLite's write lock when its view
    first writes (after its body was parsed), not for the whole request. Writers queue for
    less time, and more of them fit in a second."""
    g.read_phase = False
    session = db.session()
    if session.in_transaction():
        keep = session.expire_on_commit
        session.expire_on_commit = False  # the signed-in user stays loaded
        try:
            session.commit()  # nothing was written: this only ends the read
        finally:
            session.expire_on_commit = keep


@contextmanager
def reads_first() -> Iterator[Callable[[], None]]:
    """For a view that checks before it writes: what it reads runs in a plain read transaction
    (on SQLite, without the write lock); calling the yielded function ends that read, so the
    writes after it take the lock for themselves alone. They must re-check what may have
    changed in between."""
    g.read_phase = True
    try:
        yield _end_read_phase
    finally:
        g.read_phase = False


def read_phase_around_hooks(app: Flask) -> None:
    """On SQLite: the before_request hooks (the user's loading, role and CSRF checks) read
    without the write lock. Called once every app-level hook is in place."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, _begin_read_phase)
    hooks.append(_end_read_phase)


def commit_and_keep() -> None:
    """Commit, keeping the loaded objects as they are: an API answer is serialised from them
    without reading them again, which would open a second (write) transaction on SQLite."""
    session = db.session()
    session.expire_on_commit = False  # the session ends with the request
    session.commit()


# The largest record ID: the database's 32-bit integer (PostgreSQL refuses a larger one in a query).
MAX_ID = 2**31 - 1


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in every URL of the app names a record, whose ID is the database's 32-bit integer:
    a larger number matches no route (404) instead of failing PostgreSQL's query (500)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
