"""Stored photo files that no row names: removed after a grace period, and reported.

A photo's files are written before its row is committed (the decoding needs no lock), so a worker
killed in between (kill -9, a power cut, an OOM kill) leaves files that no row names; so does a
write cut off half-way (a ".tmp-…" file on local disk). A failed transaction cleans up after itself
(`forget_unless_committed`); only a crash needs the sweep. The grace period keeps the files of
uploads still on their way to the commit: a sweep never races a live request.

`flask --app app sweep-photos` runs it (docs/deploy.md schedules it daily with a systemd timer).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import Photo
from .storage import KEY_PATTERN, PhotoStorage, get_storage

DEFAULT_GRACE = timedelta(hours=24)
_UNCOMMITTED = "photo_keys_not_committed"


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)  # keys (and cut-off writes) without a row, now gone
    young: list[str] = field(default_factory=list)  # without a row but inside the grace period: kept
    named: int = 0  # files some row names


def named_keys(session: Session) -> set[str]:
    keys: set[str] = set()
    for display, thumb in session.execute(sa.select(Photo.display_key, Photo.thumb_key)):
        keys.update(k for k in (display, thumb) if k)
    return keys


def sweep_orphans(session: Session, storage: PhotoStorage, *, grace: timedelta = DEFAULT_GRACE,
                  now: datetime | None = None, dry_run: bool = False) -> SweepReport:
    """Remove the stored files no row names that were written more than `grace` ago."""
    now = now or datetime.now(timezone.utc)
    listed = list(storage.stored())  # first the files, then the rows: a file saved and named meanwhile stays
    named = named_keys(session)
    session.rollback()  # end the read: the deletes below hold no transaction open
    report = SweepReport()
    for key, written in listed:
        if key in named:
            report.named += 1
        elif now - written < grace:
            report.young.append(key)
        else:
            if not dry_run:
                if KEY_PATTERN.fullmatch(key):
                    storage.delete(key)
                else:
                    storage.delete_leftover(key)
            report.removed.append(key)
    return report


# A failed transaction takes its files with it.


def forget_unless_committed(session: Session, *keys: str) -> None:
    """Files just saved for rows of this session's transaction: deleted if it rolls back."""
    session.info.setdefault(_UNCOMMITTED, []).extend(keys)


def _committed(session: Session) -> None:
    session.info.pop(_UNCOMMITTED, None)


def _rolled_back(session: Session) -> None:
    keys = session.info.pop(_UNCOMMITTED, None)
    if not keys or not has_app_context():
        return
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except OSError:
            pass  # the sweep removes it later


def install() -> None:
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)
