"""Reading the audit log: a supervisor's estates only, filtered, newest first, keyset pages."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import AuditEntry, Building, Estate, User, user_building, user_estate
from ..refusals import NotVisible, Refusal
from ..guard import record_id
from ..web import QueryArgs
from . import ACTIONS, ENTITIES

PAGE_SIZE = 50
MAX_Q = 64


class FilterError(Refusal):
    """Filter values that cannot be used: every problem, each with its own message."""

    def __init__(self, messages: list) -> None:
        super().__init__(messages[0] if messages else "")
        self.messages = messages


@dataclasses.dataclass
class AuditFilter:
    estate_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    user_id: int | None = None
    entity: str | None = None
    action: str | None = None
    q: str = ""  # an entity's id or key (UUID, number, username)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        read = QueryArgs(args)
        errors, number, day = read.errors, read.number, read.day

        flt = cls(
            estate_id=number("estate_id", _l("Choose an estate from the list.")),
            date_from=day("date_from", _l("The start date is not a date.")),
            date_to=day("date_to", _l("The end date is not a date.")),
            user_id=number("user_id", _l("Choose a person from the list.")),
            entity=(args.get("entity") or "").strip() or None,
            action=(args.get("action") or "").strip() or None,
            q=(args.get("q") or "").strip(),
        )
        if flt.entity is not None and flt.entity not in ENTITIES:
            errors.append(_l("Choose a record type from the list."))
        if flt.action is not None and flt.action not in ACTIONS:
            errors.append(_l("Choose an action from the list."))
        if len(flt.q) > MAX_Q:
            errors.append(_l("The ID or number is too long."))
        if flt.date_from and flt.date_to and flt.date_to < flt.date_from:
            errors.append(_l("The end date is before the start date."))
        if errors:
            raise FilterError(errors)
        return flt

    def to_args(self) -> dict[str, str]:
        out = {
            "estate_id": self.estate_id, "date_from": self.date_from, "date_to": self.date_to,
            "user_id": self.user_id, "entity": self.entity, "action": self.action, "q": self.q,
        }
        return {k: str(v) for k, v in out.items() if v not in (None, "")}


def parse_cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        return record_id(raw)
    except ValueError:
        pass
    raise FilterError([_l("This page link is damaged; start from the first page.")])


def _people_of(estate_ids: set[int]) -> sa.Select:
    """The ids of users assigned to these estates, directly or through a building."""
    return sa.union(
        sa.select(user_estate.c.user_id).where(user_estate.c.estate_id.in_(estate_ids)),
        sa.select(user_building.c.user_id).join(Building, Building.id == user_building.c.building_id)
        .where(Building.estate_id.in_(estate_ids)),
    )


def scope(estate_ids: set[int]) -> sa.ColumnElement:
    """Entries of these estates, and changes to the people who work there."""
    return sa.or_(
        AuditEntry.estate_id.in_(estate_ids),
        sa.and_(AuditEntry.entity == User.__tablename__, AuditEntry.estate_id.is_(None),
                AuditEntry.entity_id.in_(_people_of(estate_ids))),
    )


def estates_for(session: Session, reader: User, flt: AuditFilter) -> list[Estate]:
    """The estates whose log the reader may read: those they cover whole. An entry names its estate,
    not a building, so a supervisor of some buildings would otherwise read the others' changes."""
    mine = sorted(reader.whole_estate_ids)
    if flt.estate_id is not None:
        if flt.estate_id not in mine:
            raise NotVisible
        mine = [flt.estate_id]
    return list(session.scalars(sa.select(Estate).where(Estate.id.in_(mine)).order_by(Estate.id))) if mine else []


def _bounds(flt: AuditFilter, tz: ZoneInfo) -> list[sa.ColumnElement]:
    out = []
    if flt.date_from:
        out.append(AuditEntry.at >= datetime.combine(flt.date_from, time(), tz))
    if flt.date_to:
        out.append(AuditEntry.at < datetime.combine(flt.date_to + timedelta(days=1), time(), tz))
    return out


@dataclasses.dataclass
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None
    people: dict[int, User]
    estates: dict[int, Estate]


def page(session: Session, reader: User, flt: AuditFilter, before: int | None = None,
         limit: int = PAGE_SIZE) -> AuditPage:
    estates = estates_for(session, reader, flt)
    if not estates:
        return AuditPage([], None, {}, {})
    # A date is a day of the estate's clock (the first one's when several are shown).
    tz = ZoneInfo(estates[0].timezone)
    query = sa.select(AuditEntry).where(scope({e.id for e in estates}), *_bounds(flt, tz))
    if flt.user_id is not None:
        query = query.where(AuditEntry.user_id == flt.user_id)
    if flt.entity:
        query = query.where(AuditEntry.entity == flt.entity)
    if flt.action:
        query = query.where(AuditEntry.action == flt.action)
    if flt.q:
        by_key = AuditEntry.entity_key == flt.q
        if flt.q.isascii() and flt.q.isdigit() and len(flt.q) < 10:
            by_key = sa.or_(by_key, AuditEntry.entity_id == int(flt.q))
        query = query.where(by_key)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    next_before = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    ids = {r.user_id for r in rows if r.user_id is not None}
    people = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    return AuditPage(rows, next_before, people, {e.id: e for e in estates})


def people_choices(session: Session, reader: User) -> list[User]:
    """Who may be picked in the filter: the people of the estates whose log the reader may read."""
    ids = reader.whole_estate_ids
    if not ids:
        return []
    return list(session.scalars(sa.select(User).where(User.id.in_(_people_of(ids))).order_by(User.display_name,
                                                                                             User.id)))
