"""What a person reads of their notices: the bell's count, the list, the newest unread one."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Notice, NoticeKind, User

PAGE = 50


def unread_state(session: Session, user: User) -> tuple[int, int]:
    """(unread count, newest notice id): one read of the index, what the bell's poll compares."""
    count, newest = session.execute(sa.select(sa.func.count(Notice.id), sa.func.max(Notice.id)).where(
        Notice.user_id == user.id, Notice.read_at.is_(None))).one()
    return int(count or 0), int(newest or 0)


def unread_count(session: Session, user: User) -> int:
    return unread_state(session, user)[0]


def newest_unread(session: Session, user: User) -> Notice | None:
    return session.scalars(sa.select(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
                           .order_by(Notice.id.desc()).limit(1)).first()


def notices_of(session: Session, user: User, *, before: int | None = None, kind: NoticeKind | None = None,
               limit: int = PAGE) -> tuple[list[Notice], int | None]:
    """A page of the person's notices, newest first, and the id to read on from (None: no more)."""
    query = sa.select(Notice).where(Notice.user_id == user.id)
    if before:
        query = query.where(Notice.id < before)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    rows = list(session.scalars(query.order_by(Notice.id.desc()).limit(limit + 1)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None
