"""Notices (通知): what the app tells each person, kept and listed, and pushed to their phones.

operations  notify (called by the domains where their events happen), mark read, quiet hours,
            push subscriptions, the overdue sweep (a signal the domains owning clocked work answer)
queries     the bell's unread count, the list
messages    what each kind of notice says, in the reader's language
push        the VAPID keys, the push after the commit (pywebpush), what came of it
views       the notices page, marking read, quiet hours and the push switch (blueprint "notices")

A low domain: it imports the platform and the models only; gate requests (decoration), tickets and
repair checks (repairs), complaints (complaints) call it. The phone's JSON (the bell's poll, the push
subscription) is served by app/api/notices.py.
"""
from __future__ import annotations

from flask import Flask
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError


def _unread_notices() -> int:
    from ..extensions import db
    from .queries import unread_count

    if not current_user.is_authenticated:
        return 0
    try:
        return unread_count(db.session, current_user)
    except SQLAlchemyError:  # an error page while the database fails: the bell shows none
        return 0


def init_app(app: Flask) -> None:
    from . import push

    push.init_app(app)
    push.install()
    app.jinja_env.globals["unread_notices"] = _unread_notices
