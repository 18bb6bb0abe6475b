"""Helpers of the backup tests (test_backup_*.py): apps on their own SQLite files, a seeded estate, a
writer that keeps storing findings and photos while a backup runs, the checks of a restore, and
archives read, edited and written again."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from app import backup, create_app
from app.extensions import db
from app.models import Photo
from app.photos.storage import get_storage

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
    w = factories.build_world(stairwells=True)
    steward = factories.user(estates=[w["estate"]])  # a username of its own: a database may be seeded twice
    for _ in range(photos):
        factories.finding_with_photo(steward, w["estate"], w["building"])
    w.save()
    return w["estate"].id, w["building"].id, steward.id


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


def sqlite_app(folder: Path, template: Path | None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "xuncha.db"
    if template is not None:
        shutil.copyfile(template, path)
    return make_app(folder, f"sqlite:///{path}")


# Archives: read, edit and write them


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
