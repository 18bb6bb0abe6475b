"""Restoring a verified archive: refuse a database holding data unless forced, photos first, then the
database, then the row counts checked again."""

import hashlib
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..photos.storage import get_storage
from .common import (
    PHOTO_MEMBER,
    BackupError,
    Facts,
    Progress,
    RestoreResult,
    _engine_url_text,
    _kind,
)
from .facts import _pg_connection, _pg_facts, _run_pg_tool, _sqlite_facts
from .snapshot import _sqlite_path
from .verify import VerifiedArchive, _refuse, verify_archive

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
