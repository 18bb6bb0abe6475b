"""A step sent by a phone: made offline, sent (perhaps many times) later, stored exactly once.

Every step carries a UUID made on the phone and a fingerprint of its content. Sending the same
step again gives the same answer; other content under a stored UUID is a conflict that changes
nothing. The phone's clock is trusted for when things happened, within bounds.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from .refusals import Conflict, NotFound

# A phone's clock is trusted for when things happened, within these bounds.
CLOCK_SKEW = timedelta(minutes=10)
OLDEST_OFFLINE_WORK = timedelta(days=30)

Stored = TypeVar("Stored")


def content_sha256(payload: dict) -> str:
    """A fingerprint of what was sent, independent of key order and number formatting."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def phone_time(claimed: datetime | None, now: datetime) -> datetime:
    """When the phone says it happened, unless that is in the future or too long ago: then now."""
    if claimed is None or claimed > now + CLOCK_SKEW or claimed < now - OLDEST_OFFLINE_WORK:
        return now
    return claimed


def same_step(stored: Stored | None, user: Any, fingerprint: str, *, fingerprint_of: str = "content_sha256",
              sent_by: str | None = "by_id", conflict: Any, not_found: Any = None) -> Stored | None:
    """The one rule of a step sent again: `stored` is what its UUID already holds (or None).

    None → not stored yet, go on; another user's → not found (nothing is told); the same content
    (`fingerprint` equal to the stored one, read from the attribute `fingerprint_of`) → `stored`,
    the same answer again; other content → `conflict` (a message), and nothing changes. `sent_by`
    names the attribute holding who sent it, None when the caller has checked that already."""
    if stored is None:
        return None
    if sent_by is not None and getattr(stored, sent_by) != user.id:
        raise NotFound(not_found or _l("This record does not exist or is not yours."))
    if getattr(stored, fingerprint_of) != fingerprint:
        raise Conflict(conflict)
    return stored
