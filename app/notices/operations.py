"""The writes of notices: tell a person something (kept whether or not a push reaches a phone),
mark notices read, a person's quiet hours and their phones' push subscriptions.

A low domain: the domains above call `notify` where their events happen (a gate request raised, a
ticket dispatched…), in their own transaction; the push goes out after that transaction commits
(app/notices/push.py). Work overdue is found by the domains that own the work: `sweep_overdue`
sends the `overdue_sweep` signal they answer, and each notice of it goes once (its `key`).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterable
from urllib.parse import urlsplit

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import (
    Building,
    Estate,
    LeaveCover,
    Notice,
    NoticeKind,
    NoticeSettings,
    PushSubscription,
    Role,
    User,
)
from ..refusals import NotFound, Rejected
from . import push

_signals = Namespace()
# Sent by sweep_overdue(session, now=…): each domain that owns work with a clock notifies of its
# late work through `notify(..., key=…)`, so a sweep run again tells nobody twice.
overdue_sweep = _signals.signal("notices-overdue-sweep")

# Work late for longer than this when the sweep first sees it is not announced (the overdue lists
# show it): a first sweep on old data tells of today's lateness, not of last year's.
FRESHLY_LATE = timedelta(days=2)
MAX_PARAM = 200  # a name or text in a notice is a reminder, not the record


def link_to(endpoint: str, **values) -> str:  # noqa: ANN003
    """The path of a page, built without a request (the overdue sweep runs from the command line)."""
    return current_app.url_map.bind("").build(endpoint, values)


def staff_covering(session: Session, roles: Iterable[Role], estate_id: int, building: Building | None,
                   when: datetime | None = None) -> list[User]:
    """The staff of these roles whose places include this one at `when` (their own assignment or a
    cover for leave): the people an event of that place concerns. Deactivated accounts are included
    (their notice is kept, not delivered); nobody of another estate is."""
    today = (when or datetime.now(timezone.utc)).date()
    of_estate = sa.or_(
        User.estates.any(Estate.id == estate_id),
        User.buildings.any(Building.estate_id == estate_id),
        sa.exists().where(LeaveCover.cover_id == User.id, LeaveCover.last_day >= today - timedelta(days=1),
                          LeaveCover.first_day <= today + timedelta(days=1)),
    )
    candidates = session.scalars(sa.select(User).where(User.role.in_(list(roles)), of_estate).order_by(User.id))
    return [u for u in candidates if u.covers_place(estate_id, building, when)]


def _clip(params: dict) -> dict:
    return {k: (v[:MAX_PARAM] if isinstance(v, str) else v) for k, v in params.items()}


def notify(session: Session, user: User, kind: NoticeKind, *, estate_id: int | None, link: str, key: str | None = None,
           now: datetime | None = None, **params) -> Notice | None:  # noqa: ANN003
    """Tell `user`: the notice is stored in the caller's transaction and listed at once; its push
    goes after the commit. With a `key`, only once per person (None: told already)."""
    now = now or datetime.now(timezone.utc)
    if key is not None and session.scalar(sa.select(Notice.id).where(Notice.user_id == user.id, Notice.key == key)):
        return None
    notice = Notice(user_id=user.id, kind=kind, estate_id=estate_id, params=_clip(params), link=link[:300],
                    key=key, created_at=now)
    outcome = push.outcome_before_sending(session, user, notice, now)
    if outcome is not None:
        notice.push_outcome, notice.push_detail = outcome
    session.add(notice)
    if key is not None:  # two sweeps at once: the second keeps the first one's notice
        try:
            with session.begin_nested():
                session.flush()
        except sa.exc.IntegrityError:
            return None
    else:
        session.flush()
    if outcome is None:
        push.after_commit(session, notice.id)
    return notice


def notify_all(session: Session, users: Iterable[User], kind: NoticeKind, **kwargs) -> list[Notice]:  # noqa: ANN003
    return [n for u in users if (n := notify(session, u, kind, **kwargs)) is not None]


def sweep_overdue(session: Session, now: datetime | None = None) -> int:
    """Notify of the work that is late now, once each: the number of notices made."""
    now = now or datetime.now(timezone.utc)
    return sum(int(made or 0) for _handler, made in overdue_sweep.send(session, now=now))


def mark_read(session: Session, user: User, notice_id: int, now: datetime | None = None) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound(_l("This notice does not exist or is not yours."))
    notice.read_at = notice.read_at or now or datetime.now(timezone.utc)
    return notice


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> int:
    result = session.execute(sa.update(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
                             .values(read_at=now or datetime.now(timezone.utc)))
    return result.rowcount or 0


# Quiet hours.


@dataclass(frozen=True)
class QuietHours:
    start: time | None
    end: time | None


def settings_of(session: Session, user: User) -> NoticeSettings:
    return session.get(NoticeSettings, user.id) or NoticeSettings(user_id=user.id)


def set_quiet_hours(session: Session, user: User, hours: QuietHours) -> NoticeSettings:
    if (hours.start is None) != (hours.end is None):
        raise Rejected(_l("Give both ends of the quiet hours, or neither."),
                       {"quiet_from" if hours.start is None else "quiet_until": [_l("Give both ends.")]})
    if hours.start is not None and hours.start == hours.end:
        raise Rejected(_l("The quiet hours begin and end at different times."),
                       {"quiet_until": [_l("The quiet hours begin and end at different times.")]})
    settings = session.get(NoticeSettings, user.id)
    if settings is None:
        settings = NoticeSettings(user_id=user.id)
        session.add(settings)
    settings.quiet_from, settings.quiet_until = hours.start, hours.end
    session.flush()
    return settings


# Push subscriptions: one per browser (its endpoint), the person's who last subscribed with it.


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str = ""


PUSH_SERVICE_HOSTS = push.PUSH_SERVICE_HOSTS


def _push_service(endpoint: str, hosts: Iterable[str]) -> bool:
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    local = host in ("127.0.0.1", "localhost") and "127.0.0.1" in hosts  # a test's own receiver
    if parts.scheme != "https" and not local:
        return False
    return any(host == h or host.endswith("." + h) for h in hosts)


def _p256_point(text: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, binascii.Error):
        return False
    return len(raw) == 65


def _auth_secret(text: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == 16
    except (ValueError, binascii.Error):
        return False


def subscribe(session: Session, user: User, sub: Subscription, *, push_hosts: Iterable[str] = PUSH_SERVICE_HOSTS,
              now: datetime | None = None) -> PushSubscription:
    """Keep a browser's subscription for `user`. A phone handed to a colleague subscribes again
    under the same endpoint: it is theirs from then on, never both people's."""
    now = now or datetime.now(timezone.utc)
    errors = {}
    if not _push_service(sub.endpoint, push_hosts):
        errors["endpoint"] = [_l("Not the address of a browser's push service.")]
    if not _p256_point(sub.p256dh):
        errors["keys.p256dh"] = [_l("Not a P-256 public key.")]
    if not _auth_secret(sub.auth):
        errors["keys.auth"] = [_l("Not a 16-byte secret.")]
    if errors:
        raise Rejected(_l("This push subscription cannot be used."), errors)
    row = session.scalars(sa.select(PushSubscription).where(PushSubscription.endpoint == sub.endpoint)
                          .with_for_update()).first()
    if row is None:
        row = PushSubscription(endpoint=sub.endpoint, created_at=now)
        session.add(row)
    row.user_id, row.p256dh, row.auth = user.id, sub.p256dh, sub.auth
    row.user_agent, row.failures = sub.user_agent[:200], 0
    session.flush()
    return row


def device_count(session: Session, user: User) -> int:
    return session.scalar(sa.select(sa.func.count(PushSubscription.id)).where(PushSubscription.user_id == user.id)) or 0


def unsubscribe(session: Session, user: User, endpoint: str) -> bool:
    """Forget this browser's subscription (only the person's own): whether there was one."""
    result = session.execute(sa.delete(PushSubscription).where(PushSubscription.endpoint == endpoint,
                                                               PushSubscription.user_id == user.id))
    return bool(result.rowcount)
