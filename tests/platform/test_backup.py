"""Backups (app/backup.py, `flask backup` / `flask restore`).

A backup of a live database while a writer keeps storing rounds, findings and photos restores
into an empty database and an empty photo folder with every table's row count as the manifest
says and every photo byte for byte; SQLite here, PostgreSQL on a server when one is reachable.
A damaged, truncated, extended or edited archive is refused before anything is touched; a full or
read-only destination is a clear error and leaves no file behind.

These tests build their own databases (SQLite files, or throwaway PostgreSQL databases) whatever
TEST_DATABASE_URL says: the point is each backend's own snapshot mechanism.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import backup, create_app
from app.config import _normalise_database_url
from app.extensions import db
from app.models import Finding, Photo, Round
from app.photos.storage import get_storage
from app.rounds.checklists import sync_checklists

from tests import factories
from tests.conftest import base_config

PG_SERVER = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


# ---------------------------------------------------------------------------------------------
# Helpers


def wait_until(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def table_counts() -> dict[str, int]:
    conn = db.session.connection()  # the session's own (on SQLite a second writer would wait for it)
    tables = sa.inspect(conn).get_table_names()
    quote = conn.dialect.identifier_preparer.quote
    return {t: conn.execute(sa.text(f"SELECT count(*) FROM {quote(t)}")).scalar_one() for t in tables}


def make_app(folder: Path, url: str):
    folder.mkdir(parents=True, exist_ok=True)
    return create_app(base_config(folder, url))


def seed_estate(photos: int = 3) -> tuple[int, int, int]:
    """An estate, a building with a stairwell, a steward, and `photos` findings with a stored photo."""
    estate = factories.estate()
    building = factories.building(estate)
    factories.entrance(building)
    steward = factories.user(estates=[estate])
    for _ in range(photos):
        factories.finding_with_photo(steward, estate, building)
    db.session.commit()
    return estate.id, building.id, steward.id


class Writer(threading.Thread):
    """Stores a finding with a photo through the real pipeline, again and again, until stopped."""

    def __init__(self, app, ids: tuple[int, int, int]) -> None:
        super().__init__(daemon=True)
        self.app, self.ids = app, ids
        self.commits = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from app.models import Building, Estate, User

        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    estate = db.session.get(Estate, self.ids[0])
                    building = db.session.get(Building, self.ids[1])
                    steward = db.session.get(User, self.ids[2])
                    factories.finding_with_photo(steward, estate, building)
                    db.session.commit()
                    self.commits += 1
            except BaseException as exc:  # reported by the test
                self.error = exc
            finally:
                db.session.remove()

    def halt(self) -> None:
        self.stop.set()
        self.join(timeout=60)
        assert not self.is_alive()
        assert self.error is None, repr(self.error)


def backup_during_writes(app, ids, dest: Path, **kw) -> backup.BackupResult:
    """A backup while `Writer` stores findings and photos: some before the snapshot, and (made
    sure of, by waiting inside the progress report) some while the photos are being copied."""
    writer = Writer(app, ids)
    writer.start()
    during: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if done == 1:
            start = writer.commits
            wait_until(lambda: writer.commits >= start + 3 or writer.error is not None, what="writes during the backup")
            during.append(writer.commits - start)

    try:
        wait_until(lambda: writer.commits >= 2 or writer.error is not None, what="writes before the backup")
        with app.app_context():
            result = backup.create_backup(dest, progress=progress, **kw)
    finally:
        writer.halt()
    assert during and during[0] >= 3, "the writer stored findings while the backup ran"
    return result


def photo_hashes() -> dict[str, str]:
    """Every stored photo's key -> SHA-256 of its bytes, read back through photo storage."""
    storage = get_storage()
    out = {}
    for display_key, thumb_key in db.session.execute(sa.select(Photo.display_key, Photo.thumb_key)):
        for key in (display_key, thumb_key):
            if key:
                with storage.open(key) as f:
                    out[key] = sha256(f.read())
    return out


def check_restored(manifest: dict, source_hashes: dict[str, str]) -> None:
    """In the restored app's context: row counts as the manifest says, photos byte for byte."""
    assert table_counts() == manifest["row_counts"]
    members = {m["name"]: m for m in manifest["members"]}
    restored = photo_hashes()
    assert len(restored) == manifest["photo_count"] > 0
    assert manifest["missing_photos"] == []
    for key, digest in restored.items():
        assert digest == members[f"photos/{key}.jpg"]["sha256"] == source_hashes[key]
    # The restored database is a working one: its photos' rows and files agree.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == manifest["row_counts"]["photo"]


def folder_state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.exists() else {}


# ---------------------------------------------------------------------------------------------
# SQLite


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database built by the migrations, with the checklists."""
    folder = tmp_path_factory.mktemp("backup-template")
    path = folder / "template.db"
    app = make_app(folder, f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        sync_checklists(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path


def sqlite_app(folder: Path, template: Path | None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "xuncha.db"
    if template is not None:
        shutil.copyfile(template, path)
    return make_app(folder, f"sqlite:///{path}")


@pytest.fixture
def source(tmp_path, sqlite_template):
    """A SQLite app with three findings with photos."""
    app = sqlite_app(tmp_path / "source", sqlite_template)
    with app.app_context():
        app.ids = seed_estate()
        app.photo_hashes = photo_hashes()
        db.session.remove()
        db.engine.dispose()  # the last connection folds the WAL into the file: the folder stays as it is now
    yield app
    with app.app_context():
        db.engine.dispose()


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
# Damaged archives: refused before anything is touched


def members_of(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path) as tar:
        return [(info, tar.extractfile(info).read() if info.isreg() else b"") for info in tar.getmembers()]


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info = tarfile.TarInfo(info.name) if isinstance(info, str) else info
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def edit_manifest(members, change, *, fix_checksum: bool):
    out = []
    manifest = json.loads(dict((i.name, d) for i, d in members)["manifest.json"])
    change(manifest)
    body = json.dumps(manifest).encode()
    for info, data in members:
        if info.name == "manifest.json":
            data = body
        elif info.name == "manifest.sha256" and fix_checksum:
            data = f"{sha256(body)}  manifest.json\n".encode()
        out.append((info, data))
    return out


def flip_byte_in(path: Path, out: Path, member: str, at: int = 100) -> Path:
    data = bytearray(path.read_bytes())
    with tarfile.open(path) as tar:
        info = tar.getmember(member)
    data[info.offset_data + min(at, info.size - 1)] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def first_photo(members) -> str:
    return next(i.name for i, _ in members if i.name.startswith("photos/"))


def symlink_member(name: str, target: str):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, b""


def set_row_count(manifest):
    manifest["row_counts"]["finding"] += 1


def set_member_hash(manifest):
    manifest["members"][1]["sha256"] = "0" * 64


def set_revision(manifest):
    manifest["schema_revision"] = "ffffffffffff"


def make_bad(kind: str, good: Path, good_gz: Path, out: Path) -> Path:
    members = members_of(good)
    if kind == "truncated-in-last-member":
        with tarfile.open(good) as tar:
            last = tar.getmembers()[-1]
        out.write_bytes(good.read_bytes()[: last.offset_data + 10])
        return out
    if kind.startswith("truncated-"):
        fraction = float(kind.split("-")[-1])
        source = good_gz if "gz" in kind else good
        out.write_bytes(source.read_bytes()[: int(source.stat().st_size * fraction)])
        return out
    if kind == "altered-photo-byte":
        return flip_byte_in(good, out, first_photo(members))
    if kind == "altered-database-byte":
        return flip_byte_in(good, out, "database/xuncha.sqlite3", at=5000)
    if kind == "altered-manifest-byte":
        return flip_byte_in(good, out, "manifest.json", at=40)
    if kind == "altered-gzip-byte":
        data = bytearray(good_gz.read_bytes())
        data[len(data) // 2] ^= 0x10
        out.write_bytes(bytes(data))
        return out
    if kind == "added-photo":
        return write_tar(out, members[:-2] + [file_member("photos/AAAAAAAAAAAAAAAA.jpg", b"\xff\xd8 extra")]
                         + members[-2:])
    if kind == "added-other-file":
        return write_tar(out, members + [file_member("README.txt", b"hello")])
    if kind == "added-path-traversal":
        return write_tar(out, [file_member("../../escaped.jpg", b"x")] + members)
    if kind == "added-absolute-path":
        return write_tar(out, [file_member("/tmp/xuncha-escaped.jpg", b"x")] + members)
    if kind == "added-symlink":
        return write_tar(out, [symlink_member("photos/BBBBBBBBBBBBBBBB.jpg", "/etc/passwd")] + members)
    if kind == "duplicated-member":
        photo = next(m for m in members if m[0].name.startswith("photos/"))
        return write_tar(out, members[:-2] + [photo] + members[-2:])
    if kind == "removed-photo":
        name = first_photo(members)
        return write_tar(out, [m for m in members if m[0].name != name])
    if kind == "removed-manifest":
        return write_tar(out, members[:-2])
    if kind == "manifest-edited":
        return write_tar(out, edit_manifest(members, set_row_count, fix_checksum=False))
    if kind == "manifest-edited-row-count-and-checksum":
        return write_tar(out, edit_manifest(members, set_row_count, fix_checksum=True))
    if kind == "manifest-edited-hash-and-checksum":
        return write_tar(out, edit_manifest(members, set_member_hash, fix_checksum=True))
    if kind == "manifest-edited-revision-and-checksum":
        return write_tar(out, edit_manifest(members, set_revision, fix_checksum=True))
    if kind == "not-a-tar":
        out.write_bytes(b"this is not an archive" * 100)
        return out
    if kind == "empty-file":
        out.write_bytes(b"")
        return out
    raise AssertionError(kind)  # pragma: no cover


# Each kind of damage, and what the refusal says.
BAD = {
    "truncated-0.1": "damaged or truncated",
    "truncated-0.5": "damaged or truncated",
    "truncated-0.9": "damaged or truncated",
    "truncated-in-last-member": "damaged or truncated",
    "truncated-gz-0.5": "damaged or truncated",
    "truncated-gz-0.97": "damaged or truncated",
    "altered-photo-byte": "does not match its size and SHA-256 in the manifest",
    "altered-database-byte": "database/xuncha.sqlite3 does not match its size and SHA-256",
    "altered-manifest-byte": "the manifest does not match its checksum",
    "altered-gzip-byte": "damaged",
    "added-photo": "member(s) the manifest does not list (e.g. photos/AAAAAAAAAAAAAAAA.jpg)",
    "added-other-file": "unexpected member 'README.txt'",
    "added-path-traversal": "unexpected member '../../escaped.jpg'",
    "added-absolute-path": "unexpected member '/tmp/xuncha-escaped.jpg'",
    "added-symlink": "is not a plain file",
    "duplicated-member": "twice",
    "removed-photo": "missing from the archive",
    "removed-manifest": "has no manifest",
    "manifest-edited": "the manifest does not match its checksum",
    "manifest-edited-row-count-and-checksum": "row counts do not match the database in the archive (table finding",
    "manifest-edited-hash-and-checksum": "does not match its size and SHA-256 in the manifest",
    "manifest-edited-revision-and-checksum": "schema revision 'ffffffffffff' is not the snapshot's",
    "not-a-tar": "damaged or truncated",
    "empty-file": "damaged or truncated",
}


@pytest.fixture(scope="module")
def archived(tmp_path_factory, sqlite_template):
    """A database with two findings with photos, and two good archives of it (.tar and .tar.gz)."""
    folder = tmp_path_factory.mktemp("good-archive")
    app = sqlite_app(folder / "source", sqlite_template)
    with app.app_context():
        seed_estate(photos=2)
        plain = backup.create_backup(folder / "good.tar").path
        zipped = backup.create_backup(folder / "good.tar.gz").path
        db.session.remove()
        db.engine.dispose()
    return app, folder / "source", plain, zipped


@pytest.fixture
def good_archives(archived):
    return archived[2:]


@pytest.mark.parametrize("kind", BAD)
def test_a_damaged_or_altered_archive_is_refused_and_nothing_changes(kind, archived, tmp_path):
    full, full_folder, good, good_gz = archived
    bad = make_bad(kind, good, good_gz, tmp_path / f"{kind}.tar")
    empty = sqlite_app(tmp_path / "empty", None)
    targets = [(empty, tmp_path / "empty"), (full, full_folder)]  # an empty one; one with data, forced
    before = [folder_state(folder) for _, folder in targets]
    for (app, _), force in zip(targets, (False, True)):
        with app.app_context():
            with pytest.raises(backup.BackupError) as refused:
                backup.restore_backup(bad, force=force)
            db.session.remove()
            db.engine.dispose()
        assert BAD[kind] in refused.value.message, refused.value.message
        assert "refused; nothing was changed" in refused.value.message, refused.value.message
    assert [folder_state(folder) for _, folder in targets] == before
    assert not (tmp_path / "empty" / "xuncha.db").exists()
    assert not Path("/tmp/xuncha-escaped.jpg").exists() and not (tmp_path.parent / "escaped.jpg").exists()


def test_the_good_archives_themselves_restore(good_archives, tmp_path):
    for n, archive in enumerate(good_archives):
        target = sqlite_app(tmp_path / f"t{n}", None)
        with target.app_context():
            assert backup.restore_backup(archive).photos == 4
            db.session.remove()
            db.engine.dispose()


def test_a_photo_missing_from_storage_is_reported_and_the_rest_restores(source, tmp_path):
    with source.app_context():
        lost = db.session.scalars(sa.select(Photo.thumb_key).order_by(Photo.id)).first()
        get_storage().delete(lost)
        result = backup.create_backup(tmp_path / "b.tar")
        assert result.manifest["missing_photos"] == [lost]
        assert result.manifest["photo_count"] == 5
        assert "1 photo files named by the database were not in photo storage" in backup.describe_backup(result)
        db.session.remove()
        db.engine.dispose()
    target = sqlite_app(tmp_path / "target", None)
    with target.app_context():
        assert backup.restore_backup(result.path).photos == 5
        assert table_counts() == result.manifest["row_counts"]
        assert not get_storage().exists(lost)
        db.session.remove()
        db.engine.dispose()


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
