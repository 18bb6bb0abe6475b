"""Moving a running SQLite installation to PostgreSQL (`flask transfer postgresql://…`).

The source is read from a snapshot (SQLite's online backup API, as a backup takes it), so writers
may carry on, though what they write after the snapshot stays behind: stop writes first (the README
shows the steps). The target must be empty: no tables (the migrations then build the schema) or the
tables of this code's schema revision with no rows, which is what an interrupted transfer leaves, so
running it again is safe. Every row is copied in ONE target transaction (PostgreSQL's DDL and data
are transactional): an interruption leaves no partial data. Then the sequences are set past the
largest ids, the photos are copied to S3 when asked, and everything is verified: the row counts of
every table against the snapshot, and the SHA-256 of every photo read back from its new storage
against the bytes it was read from. The SQLite file and its photos are never written to.
"""
from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..photos.storage import PhotoStorage, StorageError, get_storage
from .common import VERSION_TABLE, BackupError, Facts, _kind
from .facts import _pg_facts
from .restore import _known_revision
from .snapshot import _snapshot_sqlite

BATCH_ROWS = 2000
Progress = Callable[[str], None]


@dataclass
class TransferResult:
    target: str  # the URL without its password
    row_counts: dict[str, int]
    photos: int  # photo objects verified in their (new) storage
    photos_moved: bool
    seconds: float
    resumed: bool  # the target held the empty schema an interrupted transfer leaves
    per_table_seconds: dict[str, float] = field(default_factory=dict)


def _say(progress: Progress | None, line: str) -> None:
    if progress is not None:
        progress(line)


def _target_app(url: str):  # noqa: ANN202 - a Flask app
    """The app's code on the target database: its migrations build the schema there."""
    from .. import create_app

    config = current_app.config
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": current_app.instance_path,
        "SECRET_KEY": config["SECRET_KEY"],
        "PHOTO_DIR": config.get("PHOTO_DIR"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "TESTING": config.get("TESTING", False),
    })


def _target_facts(conn: sa.Connection) -> Facts:
    return _pg_facts(conn)


def _check_target(facts: Facts) -> bool:
    """Refuse a target that holds data or another schema; True if it holds the empty schema already."""
    rows = {t: n for t, n in facts.row_counts.items() if t != VERSION_TABLE and n}
    if rows:
        table, n = max(rows.items(), key=lambda kv: kv[1])
        raise BackupError(f"the target database is not empty ({sum(rows.values())} rows, {n} in table {table}): "
                          "transfer only into an empty database; nothing was changed")
    if not facts.row_counts:
        return False
    if facts.revision is None:
        raise BackupError("the target database has tables but no schema revision (it is not Xuncha's): "
                          "use an empty database; nothing was changed")
    if _known_revision(facts.revision) is not True:
        raise BackupError(f"the target database is at schema revision {facts.revision}, not this version's: "
                          "use an empty database; nothing was changed")
    return True


def _copy_rows(source: sa.Connection, target: sa.Connection, progress: Progress | None) -> dict[str, float]:
    """Every table, parents first; a column that names a row of its own table (a ticket merged into
    another) is filled in afterwards, so row order within a table never matters."""
    timings = {}
    for table in db.metadata.sorted_tables:
        started = time.perf_counter()
        own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
        pk = list(table.primary_key.columns)
        later: list[dict] = []
        rows = source.execute(sa.select(table).order_by(*pk)).mappings()
        copied = 0
        while batch := rows.fetchmany(BATCH_ROWS):
            values = [dict(r) for r in batch]
            if own:
                for v in values:
                    if any(v[c] is not None for c in own):
                        later.append({**{f"pk_{c.name}": v[c.name] for c in pk}, **{c: v[c] for c in own}})
                        for c in own:
                            v[c] = None
            target.execute(table.insert(), values)
            copied += len(values)
        if later:
            where = sa.and_(*(c == sa.bindparam(f"pk_{c.name}") for c in pk))
            target.execute(table.update().where(where).values({c: sa.bindparam(c) for c in own}), later)
        timings[table.name] = time.perf_counter() - started
        _say(progress, f"copied {table.name}: {copied} rows")
    return timings


def _set_sequences(target: sa.Connection) -> None:
    """Each integer id's sequence continues past the largest id copied (else the next insert collides)."""
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
            continue
        sequence = target.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                  {"t": table.name, "c": pk[0].name}).scalar()
        if sequence is None:
            continue
        column = target.dialect.identifier_preparer.quote(pk[0].name)
        name = target.dialect.identifier_preparer.quote(table.name)
        target.execute(sa.text(f"SELECT setval(:s, COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"),
                       {"s": sequence})


def _move_photos(keys: set[str], source: PhotoStorage, target: PhotoStorage | None,
                 progress: Progress | None) -> int:
    """Copy (when `target` is given) and verify every photo object: the bytes read back from where
    they will be served hash as the bytes read from the source. A missing or unreadable photo stops
    the transfer with its key."""
    done = 0
    for key in sorted(keys):
        try:
            with source.open(key) as f:
                data = f.read()
        except (OSError, StorageError) as exc:
            raise BackupError(f"photo {key} cannot be read from the current storage ({exc}); nothing was "
                              "written to the target database: restore the photo from a backup, then run "
                              "the transfer again") from None
        digest = hashlib.sha256(data).hexdigest()
        where = target or source
        if target is not None:
            target.save(key, data)
        with where.open(key) as f:
            back = hashlib.sha256(f.read()).hexdigest()
        if back != digest:
            raise BackupError(f"photo {key} reads back differently from its new storage "
                              f"(SHA-256 {back[:12]}… instead of {digest[:12]}…)")
        done += 1
        if done % 500 == 0:
            _say(progress, f"photos verified: {done} of {len(keys)}")
    return done


def transfer(target_url: str, *, photos_to: PhotoStorage | None = None,
             progress: Progress | None = None) -> TransferResult:
    """Copy this installation (SQLite) into the empty PostgreSQL database at `target_url`."""
    started = time.perf_counter()
    if _kind() != "sqlite":
        raise BackupError("the transfer moves a SQLite installation; this one already runs on "
                          f"{db.engine.dialect.name} (use backup and restore)")
    url = sa.engine.make_url(target_url)
    if not url.get_backend_name().startswith("postgresql"):
        raise BackupError(f"the target must be a PostgreSQL URL (postgresql://…), not {url.get_backend_name()}")
    shown = url.render_as_string(hide_password=True)

    with tempfile.TemporaryDirectory(prefix="xuncha-transfer-") as work:
        snapshot = _snapshot_sqlite(Path(work))
        if _known_revision(snapshot.facts.revision) is not True:
            raise BackupError(f"this installation is at schema revision {snapshot.facts.revision}, not this "
                              "version's: run `flask db upgrade` first")
        _say(progress, f"snapshot taken: {snapshot.facts.data_rows} rows in {len(snapshot.facts.row_counts)} tables")
        source_engine = sa.create_engine(f"sqlite:///{snapshot.path}")
        app = _target_app(target_url)
        try:
            with app.app_context():
                engine = db.engine
                try:
                    with engine.connect() as conn:
                        resumed = _check_target(_target_facts(conn))
                    # Photos before rows: a photo that cannot be read stops the move while the target
                    # database is still empty, so fixing it and running again just works.
                    _say(progress, f"photos: {len(snapshot.facts.photo_keys)} files to "
                                   + ("copy and verify" if photos_to is not None else "verify"))
                    photos = _move_photos(snapshot.facts.photo_keys, get_storage(), photos_to, progress)
                    if not resumed:
                        from flask_migrate import upgrade

                        _say(progress, "building the schema on the target (migrations)")
                        upgrade()
                    with source_engine.connect() as source, engine.begin() as target:
                        timings = _copy_rows(source, target, progress)
                        _set_sequences(target)
                    with engine.connect() as conn:
                        copied = _target_facts(conn)
                except SQLAlchemyError as exc:
                    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                    raise BackupError(f"the transfer to {shown} stopped: {reason}. No rows were kept there; "
                                      "run it again") from None
                finally:
                    engine.dispose()
        finally:
            source_engine.dispose()

    expected = dict(snapshot.facts.row_counts)
    differ = {t: (n, copied.row_counts.get(t)) for t, n in expected.items() if copied.row_counts.get(t) != n}
    if differ:
        raise BackupError("row counts differ after the transfer: " + ", ".join(
            f"{t} {a} → {b}" for t, (a, b) in sorted(differ.items())))
    _say(progress, f"row counts agree in {len(expected)} tables")
    return TransferResult(shown, expected, photos, photos_to is not None, time.perf_counter() - started, resumed,
                          timings)


def describe_transfer(result: TransferResult) -> str:
    rows = sum(n for t, n in result.row_counts.items() if t != VERSION_TABLE)
    where = "copied to the S3 bucket and verified" if result.photos_moved else "verified where they are"
    lines = [f"Transferred {rows} rows in {len(result.row_counts)} tables to {result.target} "
             f"in {result.seconds:.1f} s{' (the empty schema of an interrupted transfer was reused)' if result.resumed else ''}.",
             f"{result.photos} photo files {where} (SHA-256 read back).",
             "Next: stop this installation, set DATABASE_URL to the target"
             + (" and PHOTO_STORAGE=s3 with the bucket's settings" if result.photos_moved else "")
             + ", and start it again."]
    return "\n".join(lines)
