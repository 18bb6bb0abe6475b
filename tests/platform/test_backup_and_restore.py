"""Backups (app/backup.py, `flask backup` / `flask restore`).

A backup of a live database while a writer keeps storing rounds, findings and photos restores
into an empty database and an empty photo folder with every table's row count as the manifest
says and every photo byte for byte; SQLite here, PostgreSQL on a server when one is reachable.
A full or read-only destination is a clear error and leaves no file behind (damaged archives:
test_backup_damaged_archives.py; helpers: backup_helpers.py).

These tests build their own databases (SQLite files, or throwaway PostgreSQL databases) whatever
TEST_DATABASE_URL says: the point is each backend's own snapshot mechanism.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import backup
from app.config import _normalise_database_url
from app.extensions import db
from app.models import Finding, Round
from app.rounds.checklists import sync_checklists

from tests.platform.backup_helpers import (
    PG_SERVER,
    backup_during_writes,
    check_restored,
    edit_manifest,
    folder_state,
    make_app,
    members_of,
    photo_hashes,
    seed_estate,
    set_row_count,
    sqlite_app,
    table_counts,
    write_tar,
)


# ---------------------------------------------------------------------------------------------
# SQLite


def test_backup_of_a_live_sqlite_database_restores_every_row_and_photo(source, tmp_path):
    (tmp_path / "out").mkdir()
    result = backup_during_writes(source, source.ids, tmp_path / "out")
    manifest = result.manifest

    assert result.path.parent == tmp_path / "out" and result.path.name.startswith("xuncha-backup-")
    assert result.path.name.endswith(".tar.gz")
    assert os.listdir(tmp_path / "out") == [result.path.name]  # no temp file left
    assert manifest["database_kind"] == "sqlite" and manifest["format"] == "xuncha-backup"
    assert manifest["created_at"]
    with source.app_context():
        revision = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        live = table_counts()
        source_hashes = photo_hashes()
        db.session.remove()
    assert manifest["schema_revision"] == revision
    # The writes after the snapshot are in the live database, not in the archive; the archive holds
    # at least what was there before the backup began.
    for table in ("round", "finding", "photo"):
        assert 3 + 2 <= manifest["row_counts"][table] < live[table]
    with tarfile.open(result.path) as tar:
        names = tar.getnames()
    assert names[0] == "database/xuncha.sqlite3" and names[-2:] == ["manifest.json", "manifest.sha256"]
    assert sorted(names[1:-2]) == sorted(m["name"] for m in manifest["members"][1:])
    assert len(names) - 3 == manifest["photo_count"] == 2 * manifest["row_counts"]["photo"]

    # Into an empty database (no file at all yet) and an empty photo folder.
    target = sqlite_app(tmp_path / "target", None)
    assert not (tmp_path / "target" / "xuncha.db").exists()
    with target.app_context():
        restored = backup.restore_backup(result.path)
        assert restored.photos == manifest["photo_count"] and restored.schema_is_head
        check_restored(manifest, source_hashes)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == manifest["row_counts"]["round"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == manifest["row_counts"]["finding"]
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_database_with_data_unless_forced(source, tmp_path, sqlite_template):
    with source.app_context():
        result = backup.create_backup(tmp_path / "b.tar")
        db.session.remove()
    target = sqlite_app(tmp_path / "target", sqlite_template)
    with target.app_context():
        seed_estate(photos=1)
        db.session.remove()
        db.engine.dispose()
        before = folder_state(tmp_path / "target")
        with pytest.raises(backup.BackupError) as refused:
            backup.restore_backup(result.path)
        assert "not empty" in refused.value.message and "--force" in refused.value.message
        assert "Nothing was changed" in refused.value.message
        assert folder_state(tmp_path / "target") == before

        forced = backup.restore_backup(result.path, force=True)
        assert forced.replaced_rows > 0
        check_restored(result.manifest, source.photo_hashes)
        db.session.remove()
        db.engine.dispose()


def test_backup_and_restore_commands(source, tmp_path):
    (tmp_path / "out").mkdir()
    done = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "out"), "--no-gzip"])
    assert done.exit_code == 0, done.output
    [archive] = (tmp_path / "out").iterdir()
    assert archive.name.endswith(".tar") and "Backup written" in done.output and "photos: 6 files" in done.output

    target = sqlite_app(tmp_path / "target", None)
    done = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert done.exit_code == 0, done.output
    assert "Every table's row count matches the manifest" in done.output
    again = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert again.exit_code != 0 and "not empty" in again.output and "--force" in again.output
    with target.app_context():
        db.engine.dispose()

    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = target.test_cli_runner().invoke(args=["restore", "--force", str(damaged)])
    assert refused.exit_code != 0 and "refused" in refused.output and "Traceback" not in refused.output


def test_a_destination_file_name_decides_compression_and_is_never_overwritten(source, tmp_path):
    with source.app_context():
        plain = backup.create_backup(tmp_path / "nightly.tar")
        zipped = backup.create_backup(tmp_path / "nightly.tgz")
        with tarfile.open(plain.path, "r:") as tar:
            assert "manifest.json" in tar.getnames()
        with tarfile.open(zipped.path, "r:gz") as tar:
            assert "manifest.json" in tar.getnames()
        for dest, message in [(tmp_path / "nightly.tar", "already exists"),
                              (tmp_path / "nowhere" / "x.tar", "does not exist"),
                              (tmp_path / "no-such-folder", "not a folder")]:
            with pytest.raises(backup.BackupError, match=message):
                backup.create_backup(dest)
        db.session.remove()


# ---------------------------------------------------------------------------------------------
# Full and read-only destinations


@contextlib.contextmanager
def small_file_system(folder: Path, options: str):
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@contextlib.contextmanager
def read_only_folder(folder: Path):
    if os.geteuid() != 0:  # permissions stop anyone but root
        folder.mkdir()
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
    else:  # root writes anywhere: a read-only file system stops root too
        with small_file_system(folder, "ro,size=1m") as mounted:
            yield mounted


def test_a_read_only_destination_is_a_clear_error_and_leaves_nothing(source, tmp_path):
    with read_only_folder(tmp_path / "ro") as folder:
        done = source.test_cli_runner().invoke(args=["backup", str(folder)])
        assert done.exit_code != 0
        assert "cannot write the backup to" in done.output
        assert "read-only" in done.output or "permission denied" in done.output
        assert "Traceback" not in done.output
        assert os.listdir(folder) == []


def test_a_full_destination_is_a_clear_error_and_leaves_nothing(source, tmp_path):
    with small_file_system(tmp_path / "full", "size=64k") as folder:
        done = source.test_cli_runner().invoke(args=["backup", "--no-gzip", str(folder)])  # ~1 MB
        assert done.exit_code != 0
        assert "no space left" in done.output and "no archive was left behind" in done.output
        assert "Traceback" not in done.output
        assert os.listdir(folder) == []


# ---------------------------------------------------------------------------------------------
# PostgreSQL


@pytest.fixture
def pg_databases():
    """Two throwaway databases on the PostgreSQL server: a source and an empty target."""
    admin = sa.create_engine(_normalise_database_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL is unreachable at {PG_SERVER}: {reason}")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        admin.dispose()
        pytest.skip("PostgreSQL is reachable but pg_dump/pg_restore are not installed (postgresql-client)")
    suffix = uuid.uuid4().hex[:8]
    names = [f"xuncha_backup_src_{suffix}", f"xuncha_backup_dst_{suffix}"]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield [admin.url.set(database=n).render_as_string(hide_password=False) for n in names]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_postgresql_round_trip_during_writes(pg_databases, tmp_path):
    source_url, target_url = pg_databases
    source = make_app(tmp_path / "source", source_url)
    with source.app_context():
        upgrade()
        sync_checklists(db.session)
        db.session.commit()
        ids = seed_estate()
        db.session.remove()

    (tmp_path / "out").mkdir()
    result = backup_during_writes(source, ids, tmp_path / "out")
    manifest = result.manifest
    assert manifest["database_kind"] == "postgresql" and manifest["database_member"] == "database/xuncha.pgdump"
    with source.app_context():
        live = table_counts()
        source_hashes = photo_hashes()
        db.session.remove()
        db.engine.dispose()
    for table in ("round", "finding", "photo"):
        assert 3 + 2 <= manifest["row_counts"][table] < live[table]

    # An edited manifest (with its checksum made to match) is caught by reading the dump itself.
    members = members_of(result.path)
    edited = write_tar(tmp_path / "edited.tar", edit_manifest(members, set_row_count, fix_checksum=True))
    target = make_app(tmp_path / "target", target_url)
    with target.app_context():
        with pytest.raises(backup.BackupError, match="row counts do not match"):
            backup.restore_backup(edited)
        assert table_counts() == {}  # the target database still has no tables
        assert folder_state(tmp_path / "target" / "photos") == {}

        restored = backup.restore_backup(result.path)
        assert restored.photos == manifest["photo_count"]
        check_restored(manifest, source_hashes)
        # The sequences came along: the restored database takes new rows.
        seed_estate(photos=1)
        db.session.remove()

        with pytest.raises(backup.BackupError, match="not empty"):
            backup.restore_backup(result.path)
        backup.restore_backup(result.path, force=True)
        check_restored(manifest, source_hashes)
        db.session.remove()
        db.engine.dispose()
