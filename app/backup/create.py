"""Writing the archive: the snapshot, every photo its rows name, the manifest; renamed into place at the end."""

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ..photos.storage import fsync_dir, get_storage
from .common import (
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MANIFEST_SUM,
    BackupError,
    BackupResult,
    Progress,
    _kind,
    _os_reason,
    _sha256_file,
)
from .snapshot import _snapshot_postgresql, _snapshot_sqlite

# ---------------------------------------------------------------------------------------------
# Backup


def _archive_path(dest: Path, compress: bool | None, now: datetime) -> tuple[Path, bool]:
    if dest.is_dir():
        gz = True if compress is None else compress
        stem = f"xuncha-backup-{now:%Y%m%d-%H%M%S}"
        suffix = ".tar.gz" if gz else ".tar"
        path, n = dest / f"{stem}{suffix}", 2
        while path.exists():
            path, n = dest / f"{stem}-{n}{suffix}", n + 1
        return path, gz
    name = dest.name
    if not name.endswith((".tar", ".tar.gz", ".tgz")):
        raise BackupError(f"{dest} is not a folder; give an existing folder or a file name ending in .tar or .tar.gz")
    gz = not name.endswith(".tar")
    if compress is not None and compress != gz:
        raise BackupError(f"{dest}: the name says {'gzip' if gz else 'no gzip'}; name it .tar or .tar.gz to match")
    if dest.exists():
        raise BackupError(f"{dest} already exists; give a new file name or a folder")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    return dest, gz


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.type = size, int(mtime), 0o644, tarfile.REGTYPE
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> dict:
    tar.addfile(_tarinfo(name, len(data), mtime), io.BytesIO(data))
    return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _add_file(tar: tarfile.TarFile, name: str, path: Path, mtime: float) -> dict:
    digest, size = _sha256_file(path), path.stat().st_size
    with open(path, "rb") as f:
        tar.addfile(_tarinfo(name, size, mtime), f)
    return {"name": name, "size": size, "sha256": digest}


def _read_photo(storage, key: str) -> bytes | None:  # noqa: ANN001 - any storage backend
    """The object's bytes, or None if storage does not have it."""
    try:
        with contextlib.closing(storage.open(key)) as f:
            return f.read()
    except FileNotFoundError:  # every backend says "unknown key" this way (app/photos/storage.py)
        return None
    except OSError as exc:  # the store failed (disk, network): not the destination's fault
        raise BackupError(f"cannot read photo {key} from photo storage: {exc}; "
                          "no archive was left behind") from None


def create_backup(dest: str | Path, *, compress: bool | None = None, now: datetime | None = None,
                  progress: Progress | None = None) -> BackupResult:
    """Write one archive into `dest` (a folder, or a file path ending in .tar or .tar.gz).

    `progress(stage, done, total)` is called after each photo (stage "photos")."""
    now = now or datetime.now(timezone.utc)
    final, gz = _archive_path(Path(dest), compress, now)
    storage = get_storage()
    kind = _kind()
    if kind not in DATABASE_MEMBERS:
        raise BackupError(f"cannot back up a {kind} database")
    with tempfile.TemporaryDirectory(prefix="xuncha-backup-") as work:
        snap = _snapshot_sqlite(Path(work)) if kind == "sqlite" else _snapshot_postgresql(Path(work))
        try:
            fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".xuncha-backup-", suffix=".partial")
        except OSError as exc:
            raise BackupError(f"cannot write the backup to {final.parent}: {_os_reason(exc)}") from None
        tmp = Path(tmp_name)
        try:
            mtime = now.timestamp()
            with os.fdopen(fd, "wb") as raw:
                options = {"compresslevel": 6} if gz else {}
                with tarfile.open(fileobj=raw, mode="w:gz" if gz else "w", **options) as tar:
                    members = [_add_file(tar, DATABASE_MEMBERS[kind], snap.path, mtime)]
                    keys, missing = sorted(snap.facts.photo_keys), []
                    for done, key in enumerate(keys, 1):
                        data = _read_photo(storage, key)
                        if data is None:
                            missing.append(key)
                        else:
                            members.append(_add_bytes(tar, f"photos/{key}.jpg", data, mtime))
                        if progress:
                            progress("photos", done, len(keys))
                    manifest = {
                        "format": FORMAT,
                        "format_version": FORMAT_VERSION,
                        "created_at": now.astimezone(timezone.utc).isoformat(),
                        "database_kind": kind,
                        "database_member": DATABASE_MEMBERS[kind],
                        "schema_revision": snap.facts.revision,
                        "row_counts": snap.facts.row_counts,
                        "photo_count": len(members) - 1,
                        "missing_photos": missing,
                        "members": members,
                    }
                    body = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
                    _add_bytes(tar, MANIFEST, body, mtime)
                    _add_bytes(tar, MANIFEST_SUM, f"{hashlib.sha256(body).hexdigest()}  {MANIFEST}\n".encode(), mtime)
                raw.flush()
                os.fsync(raw.fileno())
            os.chmod(tmp, 0o600)  # the archive holds owners' data: for the backup's owner only
            if final.exists():
                raise BackupError(f"{final} appeared while the backup was written; it was left alone")
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"cannot write the backup to {final.parent}: {_os_reason(exc)}; "
                              "no archive was left behind") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    fsync_dir(final.parent)
    return BackupResult(final, final.stat().st_size, manifest)


def describe_backup(result: BackupResult) -> str:
    m = result.manifest
    rows = sum(m["row_counts"].values())
    lines = [
        f"Backup written: {result.path} ({result.size / 1e6:.1f} MB)",
        f"  database: {m['database_kind']}, schema revision {m['schema_revision']}, "
        f"{rows} rows in {len(m['row_counts'])} tables",
        f"  photos: {m['photo_count']} files",
    ]
    if m["missing_photos"]:
        lines.append(f"  warning: {len(m['missing_photos'])} photo files named by the database were not in "
                     f"photo storage (listed in the manifest as missing_photos), e.g. {m['missing_photos'][0]}")
    return "\n".join(lines)
