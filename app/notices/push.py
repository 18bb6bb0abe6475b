"""Web Push: the installation's VAPID keys, and a notice's push to the phones of its person.

The keys are made once at set-up (`flask setup`, or `flask make-vapid-keys`) into the instance
folder (VAPID_PRIVATE_KEY_FILE, readable by the app's user only) and never enter the repository;
several app hosts share the one file (docs/deploy.md). Without it, notices are listed only.

A notice is pushed after the transaction that made it commits, by a small pool of background
threads: a request never waits for a push service (nor, on SQLite, holds the write lock while it
waits); `drain` waits for the pushes handed over so far. What the push came to is kept on the notice
(push_outcome, pushed_at, push_detail). A subscription the push service calls gone (404, 410) is
removed; a notice left untried by a process that stopped is sent by `flask notices-tick`.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import Estate, Notice, NoticeSettings, PushOutcome, PushSubscription, User

# The push services of the browsers (Chrome, Firefox, Safari, Edge): the server sends to these only,
# never to an address a client names (no request to an internal host on a client's word).
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com")

log = logging.getLogger("xuncha.push")
_PENDING = "notices_to_push"
TTL = {"gate_request": 4 * 3600}  # a gate request hours later is of no use; others a day
DEFAULT_TTL = 24 * 3600
TIMEOUT = 10  # seconds for one push service's answer
GONE = (404, 410)


# The keys.


def make_keys(path: Path) -> bool:
    """Make the installation's VAPID key pair at `path` (PEM, mode 0600) unless it exists: whether made."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return True


def _vapid(app: Flask):  # noqa: ANN202 - a py_vapid.Vapid02 or None
    state = app.extensions["notices"]
    if state.get("vapid") is None:
        path = Path(app.config["VAPID_PRIVATE_KEY_FILE"])
        if path.is_file():
            from py_vapid import Vapid02

            state["vapid"] = Vapid02.from_file(str(path))
    return state.get("vapid")


def public_key(app: Flask | None = None) -> str | None:
    """The application server key a browser subscribes with (base64url, uncompressed P-256), or None."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid.utils import b64urlencode

    vapid = _vapid(app or current_app)
    if vapid is None:
        return None
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64urlencode(raw)


def enabled() -> bool:
    return has_app_context() and _vapid(current_app) is not None


# Whether to push at all: decided when the notice is made, without the network.


def in_quiet_hours(settings: NoticeSettings | None, local: time) -> bool:
    if settings is None or settings.quiet_from is None or settings.quiet_until is None:
        return False
    start, end = settings.quiet_from, settings.quiet_until
    return start <= local < end if start < end else local >= start or local < end


def _timezone_of(session: Session, user: User, estate_id: int | None) -> str:
    """Quiet hours are read in the time zone of the estate the notice is about (where the person works)."""
    estate = session.get(Estate, estate_id) if estate_id else None
    if estate is None:
        estate = next(iter(user.estates), None) or next((b.estate for b in user.buildings), None)
    return estate.timezone if estate is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


def outcome_before_sending(session: Session, user: User, notice: Notice,
                           now: datetime) -> tuple[PushOutcome, str] | None:
    """The outcome known before any push service is asked, or None: push it."""
    if not user.active:
        return PushOutcome.INACTIVE, "account deactivated"
    if not enabled():
        return PushOutcome.OFF, "no Web Push keys"
    if not session.scalar(sa.select(sa.exists().where(PushSubscription.user_id == user.id))):
        return PushOutcome.NO_DEVICE, ""
    local = now.astimezone(ZoneInfo(_timezone_of(session, user, notice.estate_id))).time()
    if in_quiet_hours(session.get(NoticeSettings, user.id), local):
        return PushOutcome.QUIET, f"quiet hours ({local:%H:%M})"
    return None


# After the commit.


def after_commit(session: Session, notice_id: int) -> None:
    session.info.setdefault(_PENDING, []).append(notice_id)


def _committed(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        state = app.extensions["notices"]
        with state["lock"]:
            state["futures"] = [f for f in state["futures"] if not f.done()]
            state["futures"].append(state["pool"].submit(deliver_ids, app, ids))


def drain(app: Flask, timeout: float = 30) -> None:
    """Wait until the pushes handed to the pool so far are done (the command line before it exits, tests)."""
    state = app.extensions["notices"]
    with state["lock"]:
        futures = list(state["futures"])
    wait(futures, timeout=timeout)


def _rolled_back(session: Session, previous) -> None:  # noqa: ANN001
    if not previous.nested:  # a savepoint's rollback (a notice told already) keeps the others
        session.info.pop(_PENDING, None)


def deliver_ids(app: Flask, ids: list[int]) -> None:
    """Push these notices, in a session of their own (after the commit that made them)."""
    with app.app_context():
        from ..extensions import db

        with Session(db.engine) as session:
            try:
                deliver(session, ids, app)
                session.commit()
            except Exception:  # a push must never break what follows; the tick retries what is left
                session.rollback()
                log.exception("pushing notices %s failed", ids)


def payload(notice: Notice, unread: int) -> str:
    from . import messages

    lang = notice.user.language.value if notice.user.language else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        return json.dumps({"id": notice.id, "title": messages.title(notice), "body": messages.body(notice),
                           "url": notice.link or "/notices/", "tag": f"notice-{notice.id}", "unread": unread},
                          ensure_ascii=False)


def deliver(session: Session, ids: list[int], app: Flask, now: datetime | None = None, *, late: bool = False) -> None:
    """Send each untried notice to every phone of its person; keep what came of it."""
    import requests

    vapid = _vapid(app)
    with requests.Session() as http:
        _deliver(session, ids, app, vapid, http, now, late)


def _deliver(session: Session, ids: list[int], app: Flask, vapid, http, now: datetime | None,  # noqa: ANN001
             late: bool) -> None:
    from pywebpush import WebPushException, webpush

    for notice in list(session.scalars(sa.select(Notice).where(Notice.id.in_(ids), Notice.push_outcome.is_(None))
                                       .order_by(Notice.id))):
        now = now or datetime.now(timezone.utc)
        notice.pushed_at = now
        if vapid is None or not notice.user.active:
            notice.push_outcome = PushOutcome.OFF if vapid is None else PushOutcome.INACTIVE
            continue
        subs = list(session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == notice.user_id)))
        if not subs:
            notice.push_outcome = PushOutcome.NO_DEVICE
            continue
        if late:  # sent late by the tick: the quiet hours as they are now (notify judged them when it was made)
            local = now.astimezone(ZoneInfo(_timezone_of(session, notice.user, notice.estate_id))).time()
            if in_quiet_hours(session.get(NoticeSettings, notice.user_id), local):
                notice.push_outcome, notice.push_detail = PushOutcome.QUIET, f"quiet hours ({local:%H:%M})"
                continue
        unread = session.scalar(sa.select(sa.func.count(Notice.id)).where(
            Notice.user_id == notice.user_id, Notice.read_at.is_(None))) or 0
        data = payload(notice, unread)
        sent, gone, failed = 0, 0, []
        for sub in subs:
            info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
            claims = {"sub": app.config["VAPID_SUBJECT"]}  # a fresh dict: webpush fills in aud and exp
            try:
                webpush(info, data, vapid_private_key=vapid, vapid_claims=claims, timeout=TIMEOUT,
                        ttl=TTL.get(notice.kind.value, DEFAULT_TTL), requests_session=http,
                        headers={"Urgency": "high" if notice.kind.value == "gate_request" else "normal"})
            except WebPushException as exc:
                status = getattr(exc.response, "status_code", None)
                if status in GONE:
                    session.delete(sub)
                    gone += 1
                else:
                    sub.failures += 1
                    failed.append(str(status or "error"))
            except Exception as exc:  # noqa: BLE001 - unreachable, refused keys…: this phone failed, the others go on
                sub.failures += 1
                failed.append(type(exc).__name__)
            else:
                sub.last_sent_at, sub.failures = now, 0
                sent += 1
        if sent:
            notice.push_outcome = PushOutcome.SENT
        elif gone and not failed:
            notice.push_outcome = PushOutcome.EXPIRED
        else:
            notice.push_outcome = PushOutcome.FAILED
        notice.push_detail = (f"{sent} sent" + (f", {gone} gone" if gone else "")
                              + (f", failed: {' '.join(failed)}" if failed else ""))[:200]
        session.flush()


def retry_untried(session: Session, app: Flask, older_than: timedelta = timedelta(minutes=1),
                  now: datetime | None = None) -> int:
    """Push the notices a stopped process left untried: how many."""
    now = now or datetime.now(timezone.utc)
    ids = list(session.scalars(sa.select(Notice.id).where(Notice.push_outcome.is_(None),
                                                          Notice.created_at < now - older_than).limit(500)))
    if ids:
        deliver(session, ids, app, now, late=True)
    return len(ids)


def init_app(app: Flask) -> None:
    app.config.setdefault("VAPID_PRIVATE_KEY_FILE",
                          os.environ.get("VAPID_PRIVATE_KEY_FILE") or str(Path(app.instance_path) / "vapid_private.pem"))
    app.config.setdefault("VAPID_SUBJECT", os.environ.get("VAPID_SUBJECT") or "mailto:admin@localhost")
    app.config.setdefault("PUSH_SERVICE_HOSTS", PUSH_SERVICE_HOSTS)
    app.extensions["notices"] = {"vapid": None, "futures": [], "lock": threading.Lock(),
                                 "pool": ThreadPoolExecutor(max_workers=2, thread_name_prefix="xuncha-push")}


def install() -> None:
    """Once per process: the session events that hand committed notices to the pusher."""
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_soft_rollback", _rolled_back)
