"""Tickets as CSV rows for Excel: what the desk exports over a date range of local days."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from ..labels import ROUTE, TICKET_CHANNEL, TICKET_STATUS, URGENCY
from ..models import RepairTicket, User
from . import tickets

HEADER = (_l("Number"), _l("Estate"), _l("Place"), _l("How it was reported"), _l("Goes to"), _l("Urgency"),
          _l("Status"), _l("What needs repairing"), _l("Reporter"), _l("Reporter's phone"), _l("Opened"),
          _l("Due"), _l("Dispatched to"), _l("Repaired"), _l("Closed"), _l("Seen again"), _l("Return visit"))


def header() -> list[str]:
    return [str(x) for x in HEADER]


def rows(session: Session, user: User, first: date, last: date, *, estate_id: int | None = None,
         show_contacts: bool = False) -> Iterator[list]:
    """The tickets `user` may see, opened from `first` to `last` (local days of their estate)."""
    query = tickets.visible_tickets(user)
    if estate_id:
        query = query.where(RepairTicket.estate_id == estate_id)
    # The range is in local days; the widest offsets bound it in UTC, each row checked locally.
    start = datetime.combine(first, time.min, timezone.utc) - timedelta(hours=14)
    end = datetime.combine(last + timedelta(days=1), time.min, timezone.utc) + timedelta(hours=14)
    query = query.where(RepairTicket.created_at >= start, RepairTicket.created_at < end).order_by(RepairTicket.id)
    # The query is built now, while the user is at hand; the rows are made as the file streams.
    return _rows(session, query, first, last, show_contacts)


def _rows(session: Session, query, first: date, last: date, show_contacts: bool) -> Iterator[list]:  # noqa: ANN001
    for ticket in session.scalars(query.options(*tickets.PLACE_LOADS, selectinload(RepairTicket.events))):
        zone = ZoneInfo(ticket.estate.timezone)
        if not first <= ticket.created_at.astimezone(zone).date() <= last:
            continue
        grade = next((e.data.get("grade") for e in reversed(ticket.events) if e.kind == "return_visit"), "")

        def local(moment: datetime | None, zone: ZoneInfo = zone) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

        yield [ticket.number, ticket.estate.name, ticket.place_label, str(TICKET_CHANNEL[ticket.channel]),
               str(ROUTE[ticket.route]), str(URGENCY[ticket.urgency]), str(TICKET_STATUS[ticket.status]),
               ticket.description, ticket.reporter_name, ticket.reporter_phone if show_contacts else "",
               local(ticket.created_at), local(ticket.due_at), ticket.dispatched_to, local(ticket.repaired_at),
               local(ticket.closed_at), ticket.recurrences, grade]
