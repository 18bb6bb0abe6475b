"""Backups: one archive holding a consistent database snapshot, every photo and a manifest.

`create_backup(dest)` takes the snapshot first — SQLite through its online backup API (one
step: a read transaction on the live database, so writers go on beside it in WAL mode),
PostgreSQL through `pg_dump` on a snapshot exported from a REPEATABLE READ transaction, in which
the row counts and the photo keys are read too — and then copies the photos the snapshot's
`photo` rows name (display and thumbnail) from photo storage. Photo files are written before
their row is committed and never deleted while a row names them, so every photo the snapshot
knows is in storage. The archive is a tar file (optionally gzipped):

    database/xuncha.sqlite3 or database/xuncha.pgdump   the snapshot (pg_dump custom format)
    photos/<key>.jpg                                    every photo object
    manifest.json                                       members with size and SHA-256, schema
                                                        revision, database kind, created_at,
                                                        row counts per table
    manifest.sha256                                     the manifest's own SHA-256

It is written to a temp file in the destination folder and renamed into place at the end, so a
full or read-only destination leaves nothing behind.

`restore_backup(archive)` reads the whole archive and checks it before it touches anything:
only plain files with the expected names (no links, no paths outside), no duplicates, nothing
missing and nothing extra, every size and SHA-256 as the manifest says, the manifest as its
checksum says, and the snapshot itself agreeing with the manifest (row counts, schema revision,
the photos its rows name). Then it refuses a target database that holds data unless forced,
writes the photos, then the database, and checks the row counts again.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .photos.storage import KEY_PATTERN, fsync_dir, get_storage

__all__ = ["BackupError", "BackupResult", "RestoreResult", "create_backup", "restore_backup", "verify_archive"]

FORMAT = "xuncha-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
DATABASE_MEMBERS = {"sqlite": "database/xuncha.sqlite3", "postgresql": "database/xuncha.pgdump"}
PHOTO_MEMBER = re.compile(r"photos/([A-Za-z0-9_-]{4,128})\.jpg")
VERSION_TABLE = "alembic_version"
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024

Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Facts:
    """What a database holds: its schema revision, rows per table, the photo keys its rows name."""

    revision: str | None
    row_counts: dict[str, int]
    photo_keys: set[str] = field(default_factory=set)

    @property
    def data_rows(self) -> int:
        return sum(n for table, n in self.row_counts.items() if table != VERSION_TABLE)


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict


@dataclass
class RestoreResult:
    manifest: dict
    photos: int
    replaced_rows: int  # rows the target held before (only with force)
    schema_is_head: bool


# ---------------------------------------------------------------------------------------------
# Small helpers


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _os_reason(exc: OSError) -> str:
    reasons = {
        errno.ENOSPC: "no space left on the device (the disk is full)",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EFBIG: "the file is too large for that file system",
    }
    return reasons.get(exc.errno, exc.strerror or str(exc))


def _kind() -> str:
    return db.engine.dialect.name


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _valid_keys(values) -> set[str]:  # noqa: ANN001 - rows of one or two columns
    return {v for row in values for v in row if v is not None and KEY_PATTERN.fullmatch(v)}


def _engine_url_text() -> str:
    return db.engine.url.render_as_string(hide_password=True)


# ---------------------------------------------------------------------------------------------
# Facts of a database: SQLite file, PostgreSQL connection, pg_dump archive


def _sqlite_facts(conn: sqlite3.Connection) -> Facts:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
    counts = {t: conn.execute(f"SELECT count(*) FROM {_quote_sqlite(t)}").fetchone()[0] for t in tables}
    revision = None
    if VERSION_TABLE in counts:
        revision = ",".join(sorted(r[0] for r in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}"))) or None
    keys = _valid_keys(conn.execute("SELECT display_key, thumb_key FROM photo")) if "photo" in counts else set()
    return Facts(revision, counts, keys)


def _pg_facts(conn: sa.Connection) -> Facts:
    quote = conn.dialect.identifier_preparer.quote
    tables = sorted(sa.inspect(conn).get_table_names())
    counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {quote(t)}")).scalar_one() for t in tables}
    revision = None
    if VERSION_TABLE in counts:
        revision = ",".join(sorted(conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())) or None
    keys = set()
    if "photo" in counts:
        keys = _valid_keys(conn.execute(sa.text("SELECT display_key, thumb_key FROM photo")))
    return Facts(revision, counts, keys)


_COPY = re.compile(r'^COPY (?:[^ ]+\.)?("(?:[^"]|"")+"|[^ ."]+) \((.*)\) FROM stdin;$')


def _unquote_pg(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _pg_dump_facts(dump: Path) -> Facts:
    """Read the data of a pg_dump archive (as `pg_restore --data-only` writes it out as COPY blocks),
    without any database: rows per table, the schema revision, the photo keys."""
    counts: dict[str, int] = {}
    revision_rows: list[str] = []
    keys: set[str] = set()
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(["pg_restore", "--data-only", "--file=-", str(dump)],
                                    stdout=subprocess.PIPE, stderr=errors)
        except FileNotFoundError:
            raise BackupError(_missing_tool("pg_restore")) from None
        table, columns = None, []
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if table is None:
                    m = _COPY.match(line)
                    if m:
                        table = _unquote_pg(m.group(1))
                        columns = [_unquote_pg(c.strip()) for c in m.group(2).split(",")]
                        counts[table] = 0
                    continue
                if line == "\\.":
                    table = None
                    continue
                counts[table] += 1
                values = line.split("\t")
                row = dict(zip(columns, values))
                if table == VERSION_TABLE:
                    revision_rows.append(row.get("version_num", ""))
                elif table == "photo":
                    keys |= _valid_keys([(row.get("display_key"), row.get("thumb_key"))])
        if proc.wait() != 0:
            errors.seek(0)
            raise BackupError(f"the database dump in the archive cannot be read: {_last_line(errors.read())}. "
                              "Nothing was changed.")
    revision = ",".join(sorted(revision_rows)) or None
    return Facts(revision, counts, keys)


# ---------------------------------------------------------------------------------------------
# PostgreSQL client tools


def _missing_tool(tool: str) -> str:
    return (f"{tool} is not installed; it comes with the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client, the same major version as the server or newer)")


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


def _pg_connection() -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password (that goes in PGPASSWORD, not on a command line)."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run_pg_tool(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except FileNotFoundError:
        raise BackupError(_missing_tool(args[0])) from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {args[0]} said: {_last_line(done.stderr)}")


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


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass
class VerifiedArchive:
    manifest: dict
    snapshot: Path  # the database member, copied out into the work folder
    facts: Facts
    members: dict[str, tuple[int, str]]  # name -> (size, sha256), as read


def _refuse(message: str) -> BackupError:
    return BackupError(f"{message}. The archive was refused; nothing was changed.")


def _check_member(info: tarfile.TarInfo, seen: dict) -> None:
    name = info.name
    if not (name in (MANIFEST, MANIFEST_SUM) or name in DATABASE_MEMBERS.values() or PHOTO_MEMBER.fullmatch(name)):
        raise _refuse(f"the archive holds an unexpected member {name!r} (not a Xuncha backup, or altered)")
    if not info.isreg():
        raise _refuse(f"the archive's member {name!r} is not a plain file (a link or a device)")
    if name in seen:
        raise _refuse(f"the archive holds {name!r} twice")


def _copy_hashing(src: IO[bytes], out: IO[bytes] | None) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
    return size, digest.hexdigest()


def _read_members(archive: Path, workdir: Path) -> tuple[dict, bytes | None, bytes | None, Path | None]:
    seen: dict[str, tuple[int, str]] = {}
    manifest = checksum = None
    snapshot = None
    with tarfile.open(archive, mode="r|*") as tar:
        for info in tar:
            _check_member(info, seen)
            src = tar.extractfile(info)
            assert src is not None
            if info.name in (MANIFEST, MANIFEST_SUM):
                if info.size > MAX_MANIFEST_BYTES:
                    raise _refuse(f"the archive's {info.name} is implausibly large")
                data = src.read()
                if info.name == MANIFEST:
                    manifest = data
                else:
                    checksum = data
                seen[info.name] = (len(data), hashlib.sha256(data).hexdigest())
            elif info.name in DATABASE_MEMBERS.values():
                snapshot = workdir / Path(info.name).name
                with open(snapshot, "wb") as out:
                    seen[info.name] = _copy_hashing(src, out)
            else:
                seen[info.name] = _copy_hashing(src, None)
            if seen[info.name][0] != info.size:
                raise _refuse(f"the archive's member {info.name!r} is cut short (truncated)")
    return seen, manifest, checksum, snapshot


def verify_archive(archive: str | Path, workdir: str | Path) -> VerifiedArchive:
    """Read and check the whole archive without touching the database or photo storage.
    The database member is copied into `workdir`. BackupError says what is wrong."""
    archive, workdir = Path(archive), Path(workdir)
    try:
        seen, manifest_bytes, checksum, snapshot = _read_members(archive, workdir)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise _refuse(f"{archive} is damaged or truncated ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise _refuse(f"cannot read {archive}: {_os_reason(exc)}") from None

    if manifest_bytes is None or checksum is None:
        raise _refuse(f"{archive} has no manifest: it is damaged or truncated, or not a Xuncha backup")
    expected_sum = checksum.decode("ascii", "replace").split()[:1]
    if expected_sum != [hashlib.sha256(manifest_bytes).hexdigest()]:
        raise _refuse("the manifest does not match its checksum (manifest.sha256): it was edited or damaged")
    try:
        manifest = json.loads(manifest_bytes)
        members = {m["name"]: (int(m["size"]), str(m["sha256"])) for m in manifest["members"]}
        kind = manifest["database_kind"]
        row_counts = {str(t): int(n) for t, n in manifest["row_counts"].items()}
        missing_photos = set(manifest.get("missing_photos", []))
        if manifest.get("format") != FORMAT or len(members) != len(manifest["members"]):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _refuse("the manifest is not a Xuncha backup manifest") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(f"the archive has format version {manifest.get('format_version')!r}; "
                      f"this Xuncha reads version {FORMAT_VERSION}")
    if kind not in DATABASE_MEMBERS or manifest.get("database_member") != DATABASE_MEMBERS[kind]:
        raise _refuse("the manifest names no database this Xuncha can restore")

    present = set(seen) - {MANIFEST, MANIFEST_SUM}
    lacking = sorted(set(members) - present)
    if lacking:
        raise _refuse(f"{len(lacking)} member(s) the manifest lists are missing from the archive "
                      f"(e.g. {lacking[0]}): it is truncated or damaged")
    extra = sorted(present - set(members))
    if extra:
        raise _refuse(f"the archive holds {len(extra)} member(s) the manifest does not list (e.g. {extra[0]})")
    altered = sorted(n for n in members if seen[n] != members[n])
    if altered:
        raise _refuse(f"{altered[0]} does not match its size and SHA-256 in the manifest: it was altered or damaged"
                      + (f" ({len(altered)} members in all)" if len(altered) > 1 else ""))
    if DATABASE_MEMBERS[kind] not in members or snapshot is None:
        raise _refuse("the archive holds no database snapshot")

    # The snapshot must agree with what the manifest says about it.
    if kind == "sqlite":
        try:
            conn = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
            try:
                if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise _refuse("the database snapshot in the archive is damaged")
                facts = _sqlite_facts(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _refuse(f"the database snapshot in the archive cannot be read ({exc})") from None
    else:
        facts = _pg_dump_facts(snapshot)
    if facts.row_counts != row_counts:
        differ = sorted(set(facts.row_counts) ^ set(row_counts)) or sorted(
            t for t in row_counts if facts.row_counts[t] != row_counts[t])
        table = differ[0]
        raise _refuse(f"the manifest's row counts do not match the database in the archive (table {table}: "
                      f"manifest {row_counts.get(table)}, snapshot {facts.row_counts.get(table)})")
    if facts.revision != manifest.get("schema_revision"):
        raise _refuse(f"the manifest's schema revision {manifest.get('schema_revision')!r} is not the snapshot's "
                      f"({facts.revision!r})")
    photo_members = {PHOTO_MEMBER.fullmatch(n).group(1) for n in members if PHOTO_MEMBER.fullmatch(n)}
    if photo_members | missing_photos != facts.photo_keys or photo_members & missing_photos:
        raise _refuse("the photos in the archive are not the photos the database snapshot names")
    return VerifiedArchive(manifest, snapshot, facts, seen)


# ---------------------------------------------------------------------------------------------
# Restore


def _known_revision(revision: str | None) -> bool | None:
    """True if `revision` is this code's head, False if an older known revision; None if unknown."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    heads = set(script.get_heads())
    if revision is None:
        return False
    wanted = set(revision.split(","))
    try:
        for rev in wanted:
            if script.get_revision(rev) is None:
                return None
    except CommandError:
        return None
    return wanted == heads


def _target_facts() -> Facts:
    """What the configured database holds now (an absent SQLite file holds nothing)."""
    if _kind() == "sqlite":
        path = _sqlite_path()
        if not path.exists() or path.stat().st_size == 0:
            return Facts(None, {})
        conn = sqlite3.connect(path, timeout=current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000) / 1000)
        try:
            return _sqlite_facts(conn)
        finally:
            conn.close()
    with db.engine.connect() as conn:
        return _pg_facts(conn)


def _restore_photos(archive: Path, verified: VerifiedArchive, progress: Progress | None) -> int:
    storage = get_storage()
    total = sum(1 for n in verified.members if PHOTO_MEMBER.fullmatch(n))
    done = 0
    with tarfile.open(archive, mode="r|*") as tar:
        for info in tar:
            m = PHOTO_MEMBER.fullmatch(info.name)
            if not m:
                continue
            src = tar.extractfile(info)
            data = src.read() if src is not None else b""
            if verified.members.get(info.name) != (len(data), hashlib.sha256(data).hexdigest()):
                raise BackupError(f"{archive} changed while it was being restored ({info.name}); "
                                  "restore again from an archive nobody writes to")
            try:
                storage.save(m.group(1), data)
            except OSError as exc:
                raise BackupError(f"cannot write photo {m.group(1)} into photo storage: {exc}. "
                                  "The database was not touched; photos written so far are harmless "
                                  "(nothing names them yet)") from None
            done += 1
            if progress:
                progress("photos", done, total)
    return done


def _restore_sqlite(snapshot: Path) -> None:
    target = _sqlite_path()
    db.session.remove()
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000) / 1000
    try:
        src = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target, timeout=timeout)
            try:
                src.backup(dst)  # one transaction on the target: all pages or none
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot write the database {target}: {exc}. The photos were written; "
                          "the database was left as it was") from None


def _restore_postgresql(snapshot: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    conninfo, env = _pg_connection()
    _run_pg_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  "--exit-on-error", f"--dbname={conninfo}", str(snapshot)], env,
                 "the database restore (one transaction: the database was left as it was)")


def restore_backup(archive: str | Path, *, force: bool = False, progress: Progress | None = None) -> RestoreResult:
    """Verify `archive`, then restore its photos into photo storage and its database into the
    configured database. Refuses a database that holds data unless `force`."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"there is no archive at {archive}")
    with tempfile.TemporaryDirectory(prefix="xuncha-restore-") as work:
        verified = verify_archive(archive, work)
        manifest = verified.manifest
        kind = _kind()
        if manifest["database_kind"] != kind:
            raise _refuse(f"the archive holds a {manifest['database_kind']} database but DATABASE_URL points to "
                          f"{kind}; restore it into a {manifest['database_kind']} database")
        schema_is_head = _known_revision(manifest["schema_revision"])
        if schema_is_head is None:
            raise _refuse(f"the archive's schema revision {manifest['schema_revision']} is unknown to this version "
                          "of Xuncha (the backup was made by a newer version): install that version first")
        try:
            before = _target_facts()
        except (sqlite3.Error, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise BackupError(f"cannot read the database at {_engine_url_text()}: {reason}") from None
        if before.data_rows and not force:
            raise BackupError(
                f"the database at {_engine_url_text()} is not empty ({before.data_rows} rows); a restore replaces "
                "everything in it. Nothing was changed. Run the restore again with --force to replace it")
        photos = _restore_photos(archive, verified, progress)
        if kind == "sqlite":
            _restore_sqlite(verified.snapshot)
        else:
            _restore_postgresql(verified.snapshot)

    after = _target_facts()
    if after.row_counts != manifest["row_counts"]:
        differ = sorted(t for t in set(after.row_counts) | set(manifest["row_counts"])
                        if after.row_counts.get(t) != manifest["row_counts"].get(t))
        raise BackupError(f"the database was restored but its row counts differ from the manifest "
                          f"({len(differ)} tables, e.g. {differ[0]}: expected {manifest['row_counts'].get(differ[0])}, "
                          f"found {after.row_counts.get(differ[0])})")
    storage = get_storage()
    absent = [k for k in sorted(after.photo_keys - set(manifest.get("missing_photos", []))) if not storage.exists(k)]
    if absent:
        raise BackupError(f"the database was restored but {len(absent)} photos are not in photo storage "
                          f"(e.g. {absent[0]})")
    return RestoreResult(manifest, photos, before.data_rows, bool(schema_is_head))


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


def describe_restore(result: RestoreResult, archive: str | Path) -> str:
    m = result.manifest
    lines = [
        f"Restored {archive} (made {m['created_at']}): {m['database_kind']} database, "
        f"{sum(m['row_counts'].values())} rows in {len(m['row_counts'])} tables, {result.photos} photos.",
        "Every table's row count matches the manifest.",
    ]
    if result.replaced_rows:
        lines.append(f"It replaced {result.replaced_rows} rows that were in the database (--force).")
    if not result.schema_is_head:
        lines.append("The archive's schema is older than this version's: run `flask --app app db upgrade` next.")
    return "\n".join(lines)
