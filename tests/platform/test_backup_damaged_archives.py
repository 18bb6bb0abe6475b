"""A damaged, truncated, extended or edited backup archive is refused before anything is touched;
the good archives restore, and a photo missing from storage is reported while the rest restores."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import backup
from app.extensions import db
from app.models import Photo
from app.photos.storage import get_storage

from tests.platform.backup_helpers import (
    edit_manifest,
    file_member,
    first_photo,
    flip_byte_in,
    folder_state,
    members_of,
    seed_estate,
    set_member_hash,
    set_revision,
    set_row_count,
    sqlite_app,
    symlink_member,
    table_counts,
    write_tar,
)


# ---------------------------------------------------------------------------------------------
# Damaged archives: refused before anything is touched


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
