"""Configuration from the environment, production refusals, and SQLite's concurrency set-up."""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import ConfigError, create_app
from app.config import PROJECT_ROOT, load_config
from app.extensions import db
from app.models import Estate

FLASK = [sys.executable, "-m", "flask", "--app", "app"]


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DATABASE_URL", "PHOTO_DIR", "SECRET_KEY", "XUNCHA_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_live_in_the_instance_folder(tmp_path, clean_env):
    cfg = load_config(tmp_path)
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'xuncha.db'}"
    assert cfg["PHOTO_DIR"] == str(tmp_path / "photos")
    assert cfg["ENV"] == "development"


def test_environment_overrides_defaults(tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5432/xuncha")
    monkeypatch.setenv("PHOTO_DIR", "/srv/photos")
    cfg = load_config(tmp_path)
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/xuncha"
    assert cfg["PHOTO_DIR"] == "/srv/photos"


def test_local_secret_key_is_generated_once_and_private(tmp_path, clean_env):
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 40
    assert load_config(tmp_path)["SECRET_KEY"] == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_production_without_secret_key_refuses_to_start(tmp_path, clean_env):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, {"ENV": "production"})
    assert "SECRET_KEY" in info.value.message
    assert not (tmp_path / "secret_key").exists()


def test_production_cookies_are_secure(tmp_path, clean_env):
    cfg = load_config(tmp_path, {"ENV": "production", "SECRET_KEY": "x" * 48})
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["SESSION_COOKIE_HTTPONLY"]
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("url", ["not a url", "mysql://root@localhost/x", "sqlite:/:broken:"])
def test_bad_database_url_is_a_config_error(tmp_path, clean_env, url):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, {"SQLALCHEMY_DATABASE_URI": url})
    assert "DATABASE_URL" in info.value.message or "sqlite and postgresql" in info.value.message


def _run_cli(args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "XUNCHA_ENV")}
    environment.update(env)
    return subprocess.run(
        [*FLASK, *args], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XUNCHA_ENV": "production"}, "SECRET_KEY is not set"),
        ({"DATABASE_URL": "definitely-not-a-url"}, "is not a database URL"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}, "cannot use the database"),
    ],
)
def test_cli_reports_bad_configuration_in_one_line(tmp_path, env, expected):
    result = _run_cli(["setup"], tmp_path, **env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


# SQLite: WAL, foreign keys, busy timeout, and write locks taken when a transaction begins.


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "t",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_app):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == sqlite_app.config["SQLITE_BUSY_TIMEOUT_MS"]


def test_sqlite_enforces_foreign_keys(sqlite_app):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("INSERT INTO building (estate_id, code, name, floors, position) "
                                   "VALUES (999, 'B', 'b', 1, 0)"))
        db.session.commit()
    db.session.rollback()


def test_a_transaction_takes_the_write_lock_when_it_begins(sqlite_app, tmp_path):
    db.session.execute(sa.select(Estate)).all()  # a read opens the transaction
    other = sqlite3.connect(tmp_path / "x.db", timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.commit()
        other.execute("BEGIN IMMEDIATE")  # free again once committed
        other.rollback()
    finally:
        other.close()


def test_concurrent_writers_wait_instead_of_failing(sqlite_app):
    db.session.add(Estate(code="C", name="counter", address="0"))
    db.session.commit()
    writers, increments, errors = 6, 15, []
    start = threading.Barrier(writers)

    def writer():
        with sqlite_app.app_context():
            start.wait(timeout=30)
            try:
                for _ in range(increments):
                    estate = db.session.scalars(sa.select(Estate).where(Estate.code == "C")).one()
                    estate.address = str(int(estate.address) + 1)  # read, then write: lost updates show
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the test reports every failure
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    assert db.session.scalars(sa.select(Estate.address).where(Estate.code == "C")).one() == str(writers * increments)


def test_instance_path_comes_from_config(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "t",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'y.db'}"})
    assert Path(app.instance_path) == tmp_path / "inst"


def test_writers_queue_on_the_lock_file_and_leave_it_when_done(tmp_path):
    from app.database import WriterQueue

    first, second = WriterQueue(str(tmp_path / "db.writer-lock"), 0.05), WriterQueue(str(tmp_path / "db.writer-lock"), 0.05)
    a, b = {}, {}
    first.acquire(a)
    assert a["writer_locked"]
    second.acquire(b)  # waits its turn, then leaves the decision to SQLite's busy timeout
    assert "writer_locked" not in b
    first.release(a)
    second.acquire(b)
    assert b["writer_locked"]
    second.close(b)
    first.close(a)


def test_a_request_transaction_leaves_the_writer_queue_when_it_ends(sqlite_app, tmp_path):
    from app.database import WriterQueue

    db.session.add(Estate(code="Q", name="queue"))
    db.session.commit()  # the connection went back to the pool: the queue is free again
    probe = {}
    WriterQueue(str(tmp_path / "x.db.writer-lock"), 0.05).acquire(probe)
    assert probe.get("writer_locked")
    WriterQueue(str(tmp_path / "x.db.writer-lock"), 0.05).close(probe)
