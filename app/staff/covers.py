"""Covers for leave: "林小華 covers 陳小明's buildings from 12-10 to 12-17".

On those days (each estate's own calendar) the covered steward's rounds, repair checks and decoration
checks appear on the cover's phone, and go back afterwards; the scope rule itself lives in
app/models/people.py (User asks it of the colleagues it covers). A cover is between two active
stewards, for at most a year, not over before it is made; a colleague is covered by one cover at a
time, a cover is not on leave themselves on those days, and someone on leave covers nobody. Ended
early, a cover stops from that day on; covers are kept (the summaries read who was responsible).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from ..models import LeaveCover, Role, User
from ..refusals import Conflict, NotFound, Rejected
from .accounts import today_for

MAX_DAYS = 366


@dataclass(frozen=True)
class CoverRequest:
    cover_id: int | None
    covered_id: int | None
    first_day: date | None
    last_day: date | None


def _last_in_force(cover: LeaveCover, zone: str) -> date:
    """The last day a cover holds: its last day, or the day before it was ended."""
    if cover.ended_at is None:
        return cover.last_day
    return min(cover.last_day, cover.ended_at.astimezone(ZoneInfo(zone)).date() - timedelta(days=1))


def _zone(user: User) -> str:
    estates = sorted({*user.estates, *(b.estate for b in user.buildings)}, key=lambda e: e.id)
    return estates[0].timezone if estates else "UTC"


def _overlapping(session: Session, column, user_id: int, first: date, last: date, zone: str) -> LeaveCover | None:  # noqa: ANN001
    candidates = session.scalars(sa.select(LeaveCover).where(
        column == user_id, LeaveCover.first_day <= last, LeaveCover.last_day >= first).order_by(LeaveCover.first_day))
    return next((c for c in candidates if _last_in_force(c, zone) >= max(first, c.first_day)), None)


def add_cover(session: Session, by: User | None, request: CoverRequest, now: datetime | None = None) -> LeaveCover:
    """Store a cover for leave, or refuse it with what is wrong and where."""
    now = now or datetime.now(timezone.utc)
    errors: dict = {}

    def wrong(field: str, message) -> None:  # noqa: ANN001 - a lazy string
        errors.setdefault(field, []).append(message)

    ids = sorted({i for i in (request.cover_id, request.covered_id) if i is not None})
    # Both users locked (id order), so two covers of one colleague made at once queue up.
    people = {u.id: u for u in session.scalars(
        sa.select(User).where(User.id.in_(ids)).order_by(User.id).with_for_update()
        .execution_options(populate_existing=True))} if ids else {}
    cover, covered = people.get(request.cover_id), people.get(request.covered_id)
    for field, user, missing in (("covered", covered, _l("Choose the steward on leave.")),
                                 ("cover", cover, _l("Choose the steward who covers."))):
        if user is None:
            wrong(field, missing)
        elif user.role is not Role.STEWARD or not user.active:
            wrong(field, _l("%(name)s is not an active building steward: covers are between stewards.",
                            name=user.display_name))
    if cover is not None and cover is covered:
        wrong("cover", _l("A steward cannot cover their own leave."))
    if covered is not None and not covered.estates and not covered.buildings:
        wrong("covered", _l("%(name)s has no estate or building to cover.", name=covered.display_name))
    first, last = request.first_day, request.last_day
    if first is None:
        wrong("first_day", _l("Enter the first day of the leave (YYYY-MM-DD)."))
    if last is None:
        wrong("last_day", _l("Enter the last day of the leave (YYYY-MM-DD)."))
    if first and last:
        if last < first:
            wrong("last_day", _l("The last day is before the first day."))
        elif (last - first).days + 1 > MAX_DAYS:
            wrong("last_day", _l("A cover lasts at most %(days)d days.", days=MAX_DAYS))
        elif covered is not None and last < today_for(covered, now):
            wrong("last_day", _l("This leave is already over: its last day is before today."))
    if errors:
        first_message = next(iter(errors.values()))[0]
        raise Rejected(first_message if len(errors) == 1 else _l("Some fields are missing or wrong."), errors)

    zone = _zone(covered)
    taken = _overlapping(session, LeaveCover.covered_id, covered.id, first, last, zone)
    if taken is not None:
        raise Conflict(_l("%(covered)s is already covered by %(cover)s from %(first)s to %(last)s.",
                          covered=covered.display_name, cover=taken.cover.display_name,
                          first=taken.first_day.isoformat(), last=taken.last_day.isoformat()),
                       {"first_day": [_l("These days overlap another cover of the same colleague.")]})
    away = _overlapping(session, LeaveCover.covered_id, cover.id, first, last, zone)
    if away is not None:
        raise Conflict(_l("%(cover)s is on leave from %(first)s to %(last)s (covered by %(other)s).",
                          cover=cover.display_name, other=away.cover.display_name,
                          first=away.first_day.isoformat(), last=away.last_day.isoformat()),
                       {"cover": [_l("This steward is on leave on some of these days.")]})
    busy = _overlapping(session, LeaveCover.cover_id, covered.id, first, last, zone)
    if busy is not None:
        raise Conflict(_l("%(covered)s covers %(other)s from %(first)s to %(last)s: end that cover first, "
                          "or choose other days.", covered=covered.display_name, other=busy.covered.display_name,
                          first=busy.first_day.isoformat(), last=busy.last_day.isoformat()),
                       {"covered": [_l("This steward covers a colleague on some of these days.")]})
    row = LeaveCover(cover=cover, covered=covered, first_day=first, last_day=last, created_at=now,
                     created_by_id=by.id if by else None)
    session.add(row)
    session.flush()
    return row


def end_cover(session: Session, by: User | None, cover_id: int, now: datetime | None = None) -> LeaveCover:
    """End a cover early: from today on, the covered colleague's places are theirs alone again."""
    now = now or datetime.now(timezone.utc)
    row = session.scalars(sa.select(LeaveCover).where(LeaveCover.id == cover_id).with_for_update()
                          .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound(_l("This cover does not exist."))
    if row.ended_at is not None:
        raise Conflict(_l("This cover was already ended."))
    if row.last_day < today_for(row.covered, now):
        raise Conflict(_l("This cover is already over."))
    row.ended_at, row.ended_by_id = now, by.id if by else None
    session.flush()
    return row


def covers(session: Session, now: datetime | None = None, past_days: int = 60) -> list[LeaveCover]:
    """Running and planned covers first (by first day), then those over within `past_days`."""
    now = now or datetime.now(timezone.utc)
    since = now.date() - timedelta(days=past_days)
    rows = session.scalars(sa.select(LeaveCover).where(LeaveCover.last_day >= since)
                           .options(selectinload(LeaveCover.cover), selectinload(LeaveCover.covered))
                           .order_by(LeaveCover.first_day, LeaveCover.id)).all()
    return sorted(rows, key=lambda c: (c.ended_at is not None or c.last_day < today_for(c.covered, now),
                                       c.first_day, c.id))


def is_open(cover: LeaveCover, now: datetime | None = None) -> bool:
    now = now or datetime.now(timezone.utc)
    return cover.ended_at is None and cover.last_day >= today_for(cover.covered, now)
