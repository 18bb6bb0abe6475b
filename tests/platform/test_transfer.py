"""`flask transfer`: a SQLite installation (the demo with its four weeks of history, photos included)
moves into an empty PostgreSQL database, row for row; the moved installation serves and takes new
rows; a target with data, a photo that cannot be read, and a transfer killed halfway are refused or
resumed with a message, and the SQLite installation is never written to."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app, demo
from app.config import _normalise_database_url
from app.extensions import db
from app.models import Role
from app.photos.storage import get_storage
from app.rounds.checklists import sync_checklists

from tests import factories
from tests.conftest import base_config
from tests.photos.test_storage_s3 import ACCESS, admin_client, bucket, s3_endpoint  # noqa: F401 (fixtures)

from .backup_helpers import PG_SERVER, make_app

# One worker builds the demo installation once for the whole module (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("transfer-demo")
ROOT = Path(__file__).resolve().parents[2]
DEMO_DAY = date(2026, 12, 7)  # the history is the same on any day the test runs: four weeks before this


@pytest.fixture
def pg_target():
    """An empty database on the PostgreSQL server (skipped where none answers)."""
    admin = sa.create_engine(_normalise_database_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is unreachable at {PG_SERVER}: {str(exc.orig).strip().splitlines()[0]}")
    name = f"xuncha_transfer_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module")
def demo_installation(tmp_path_factory):
    """The demo estate with its history on a SQLite file and a local photo folder, built once per
    module by the migrations and the demo loader; tests copy it (the source is never written to)."""
    folder = tmp_path_factory.mktemp("demo-sqlite")
    app = make_app(folder, f"sqlite:///{folder / 'xuncha.sqlite3'}")
    with app.app_context():
        upgrade()
        sync_checklists(db.session)
        demo.load_demo(db.session, history=True, today=DEMO_DAY)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return folder


@pytest.fixture
def source(demo_installation, tmp_path):
    """A fresh copy of the demo installation (database file and photo folder), as an app."""
    import shutil

    folder = tmp_path / "source"
    shutil.copytree(demo_installation, folder)
    app = make_app(folder, f"sqlite:///{folder / 'xuncha.sqlite3'}")  # its photos: folder / "photos"
    yield app
    with app.app_context():
        db.engine.dispose()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                for t in db.metadata.sorted_tables}


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(_normalise_database_url(url))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in names}
    finally:
        engine.dispose()


def test_the_demo_with_its_history_moves_to_postgresql_row_for_row_and_serves_there(source, pg_target, tmp_path):
    database = Path(source.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    before = file_hash(database)

    done = source.test_cli_runner().invoke(args=["transfer", pg_target])

    assert done.exit_code == 0, done.output
    assert "row counts agree" in done.output and "SHA-256 read back" in done.output
    assert file_hash(database) == before  # the SQLite installation is only read
    with source.app_context():
        expected = all_rows(db.engine)
        photos = {k for (d, t) in db.session.execute(sa.text("SELECT display_key, thumb_key FROM photo"))
                  for k in (d, t) if k}
    assert sum(map(len, expected.values())) > 5000 and len(photos) > 20  # the demo's history, not a toy

    # The photos stay where they are: the moved installation is configured with the same folder.
    moved = create_app({**base_config(tmp_path / "moved", pg_target), "PHOTO_DIR": source.config["PHOTO_DIR"]})
    with moved.app_context():
        assert all_rows(db.engine) == expected  # every row of every table, value for value
        # The sequences continue past the copied ids: new rows get new ids, no collision.
        newcomer = factories.user(Role.DESK, username="newcomer", estates=[])
        db.session.commit()
        assert newcomer.id == max(r[0] for r in expected["user"]) + 1
        storage = get_storage()
        assert all(storage.exists(k) for k in photos)
    client = moved.test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = client.post("/login", data={"username": "desk1", "password": demo.DEMO_PASSWORD,
                                            "csrf_token": token})
    assert signed_in.status_code == 302
    landing = client.get(signed_in.headers["Location"])
    assert landing.status_code == 200 and "翠湖花園" in landing.get_data(as_text=True)
    with moved.app_context():
        db.engine.dispose()


def test_a_target_with_data_is_refused_and_nothing_changes(source, pg_target):
    first = source.test_cli_runner().invoke(args=["transfer", pg_target])
    assert first.exit_code == 0, first.output
    held = counts(pg_target)

    again = source.test_cli_runner().invoke(args=["transfer", pg_target])

    assert again.exit_code != 0
    assert "the target database is not empty" in again.output and "Traceback" not in again.output
    assert counts(pg_target) == held


def test_a_sqlite_target_and_an_old_installation_are_refused_with_a_message(source, tmp_path):
    done = source.test_cli_runner().invoke(args=["transfer", f"sqlite:///{tmp_path / 'other.db'}"])
    assert done.exit_code != 0 and "must be a PostgreSQL URL" in done.output


def test_a_photo_that_cannot_be_read_stops_the_move_before_any_row_and_a_second_run_succeeds(source, pg_target):
    with source.app_context():
        key = db.session.execute(sa.text("SELECT display_key FROM photo ORDER BY id LIMIT 1")).scalar_one()
        path = get_storage().path(key)
    kept = path.read_bytes()
    path.unlink()

    done = source.test_cli_runner().invoke(args=["transfer", pg_target])

    assert done.exit_code != 0 and f"photo {key} cannot be read" in done.output
    assert sum(n for t, n in counts(pg_target).items() if t != "alembic_version") == 0
    path.write_bytes(kept)  # restored from a backup, as the message says
    again = source.test_cli_runner().invoke(args=["transfer", pg_target])
    assert again.exit_code == 0, again.output


def test_photos_move_to_s3_and_read_back_the_same(source, pg_target, bucket, s3_endpoint):  # noqa: F811
    source.config.update(ACCESS)
    done = source.test_cli_runner().invoke(args=["transfer", pg_target, "--photos-to-s3", bucket,
                                                 "--s3-endpoint-url", s3_endpoint])
    assert done.exit_code == 0, done.output
    assert "copied to the S3 bucket and verified" in done.output and "PHOTO_STORAGE=s3" in done.output
    s3 = admin_client(s3_endpoint)
    with source.app_context():
        storage = get_storage()
        keys = {k for (d, t) in db.session.execute(sa.text("SELECT display_key, thumb_key FROM photo"))
                for k in (d, t) if k}
        for key in keys:
            stored = s3.get_object(Bucket=bucket, Key=f"{key}.jpg")["Body"].read()
            assert stored == storage.path(key).read_bytes()


def test_a_transfer_killed_halfway_leaves_no_rows_and_runs_again(source, pg_target):
    """A real `flask transfer` process killed with SIGKILL while it copies the findings: PostgreSQL
    drops its open transaction, the target keeps at most the empty schema, and the next run completes."""
    env = {**os.environ, "DATABASE_URL": source.config["SQLALCHEMY_DATABASE_URI"],
           "PHOTO_DIR": source.config["PHOTO_DIR"], "SECRET_KEY": "test-secret-key",
           "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "transfer", pg_target],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in process.stdout:  # waits on the process's own progress lines, not on time
            seen.append(line)
            if line.startswith("copied round:"):
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.wait(timeout=60)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    assert sum(n for t, n in counts(pg_target).items() if t != "alembic_version") == 0

    again = source.test_cli_runner().invoke(args=["transfer", pg_target])

    assert again.exit_code == 0, again.output
    assert "interrupted transfer was reused" in again.output
    with source.app_context():
        expected = {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in db.metadata.sorted_tables}
    got = counts(pg_target)
    assert {t: got[t] for t in expected} == expected
