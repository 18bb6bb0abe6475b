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

from .common import BackupError, BackupResult, RestoreResult
from .create import create_backup, describe_backup
from .restore import describe_restore, restore_backup
from .verify import verify_archive

__all__ = ["BackupError", "BackupResult", "RestoreResult", "create_backup", "describe_backup", "describe_restore",
           "restore_backup", "verify_archive"]
