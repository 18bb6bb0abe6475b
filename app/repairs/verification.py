"""The check on site of a finished public repair (檢查是否維修完好), as a task of the steward's round.

A public repair marked repaired comes back to the steward whose place it is: it shows in their
today list and offline pack, and their answer, sent from the phone (maybe hours later, maybe
twice), is stored exactly once by its UUID, like a round. A pass closes the ticket, a fail sends
it back to the team. An answer that arrives after the ticket moved on is kept, not applied.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Finding,
    PhotoStatus,
    RepairTicket,
    Role,
    TicketEvent,
    TicketStatus,
    TicketVerification,
    User,
)
from ..refusals import Conflict, NotFound, Rejected
from ..rounds import schedule
from ..rounds.today import steward_tasks
from ..steps import content_sha256, phone_time, same_step
from . import tickets


@dataclass(frozen=True)
class VerificationTask:
    """One repaired public ticket waiting for this steward's check on site."""

    ticket_id: int
    number: str
    estate_id: int
    building_id: int | None
    place: str
    description: str
    repair: str  # what the team says it did (the 'repair' event's note)
    repaired_at: datetime | None
    repaired_on: date | None  # the estate's local date of the repair
    after_photos: tuple[str, ...]  # photo UUIDs of the finished work
    defect_photos: tuple[str, ...]  # photo UUIDs of the defect as found


def may_check(steward: User, ticket: RepairTicket, when: datetime | None = None) -> bool:
    """A steward checks the public repairs of their own places: a building they cover, or (no
    building: a public area, the estate itself) only when they cover the estate estate-wide; on the
    days of a cover for leave, the covered colleague's too (`when`, default now).
    The same rule as app.repairs.tickets.may_see_ticket gives stewards."""
    return steward.role is Role.STEWARD and tickets.may_see_ticket(steward, ticket, when)


def _repair_note(ticket: RepairTicket) -> str:
    return next((e.note for e in reversed(ticket.events) if e.kind == "repair"), "")


def tasks_for(session: Session, steward: User, at: datetime | None = None) -> list[VerificationTask]:
    """The steward's open checks: repaired public tickets of their places (repaired by `at`), oldest first."""
    at = at or datetime.now(timezone.utc)
    estate_ids = steward.estate_ids_on(at) if steward.role is Role.STEWARD else set()
    if not estate_ids:
        return []
    query = (
        sa.select(RepairTicket)
        .where(RepairTicket.status == TicketStatus.REPAIRED, RepairTicket.is_unit_repair.is_(False),
               RepairTicket.estate_id.in_(estate_ids),
               sa.or_(RepairTicket.repaired_at.is_(None), RepairTicket.repaired_at <= at))
        .order_by(RepairTicket.repaired_at, RepairTicket.id)
        .options(
            selectinload(RepairTicket.estate), selectinload(RepairTicket.building),
            selectinload(RepairTicket.entrance), selectinload(RepairTicket.public_area),
            selectinload(RepairTicket.asset), selectinload(RepairTicket.unit), selectinload(RepairTicket.meter),
            selectinload(RepairTicket.events), selectinload(RepairTicket.after_photos),
            selectinload(RepairTicket.findings).selectinload(Finding.photos),
        )
    )
    tasks = []
    for ticket in session.scalars(query):
        if not may_check(steward, ticket, at):
            continue
        tasks.append(VerificationTask(
            ticket_id=ticket.id, number=ticket.number, estate_id=ticket.estate_id, building_id=ticket.building_id,
            place=ticket.place_label, description=ticket.description, repair=_repair_note(ticket),
            repaired_at=ticket.repaired_at,
            repaired_on=schedule.local_date(ticket.estate, ticket.repaired_at) if ticket.repaired_at else None,
            after_photos=tuple(p.uuid for p in ticket.after_photos if p.status is PhotoStatus.STORED),
            defect_photos=tuple(p.uuid for f in ticket.findings for p in f.photos if p.status is PhotoStatus.STORED),
        ))
    return tasks


def _stored(session: Session, uuid: str) -> TicketVerification | None:
    return session.scalars(sa.select(TicketVerification).where(TicketVerification.uuid == uuid)).first()


def _again(record: TicketVerification, steward: User, fingerprint: str) -> TicketVerification:
    """The answer to a UUID already stored: the same record, a conflict, or not found (not theirs)."""
    return same_step(record, steward, fingerprint, conflict=_l("This check was already stored with another answer."),
                     not_found=_l("This repair does not exist or is not yours to check."))


def record_verification(
    session: Session, steward: User, *, uuid: str, ticket_id: int, passed: bool, note: str = "",
    recorded_at: datetime | None, photo_uuid: str | None = None, now: datetime | None = None,
) -> TicketVerification:
    """Store the steward's check `uuid` of ticket `ticket_id` exactly once, and apply it to the ticket
    if it is still waiting for the check (a pass closes it, a fail sends it back to the team);
    otherwise keep it unapplied, with a 'late_verification' event, so nothing done on site is lost."""
    now = now or datetime.now(timezone.utc)
    note = (note or "").strip()
    fingerprint = content_sha256({
        "ticket_id": ticket_id, "passed": passed, "note": note, "photo_uuid": photo_uuid,
        "recorded_at": recorded_at.astimezone(timezone.utc).isoformat() if recorded_at else None,
    })
    existing = _stored(session, uuid)
    if existing is not None:
        return _again(existing, steward, fingerprint)

    # The ticket's row lock (PostgreSQL) queues concurrent checks of one ticket; SQLite's
    # BEGIN IMMEDIATE already serialises writers.
    ticket = session.scalars(
        sa.select(RepairTicket).where(RepairTicket.id == ticket_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    checked_at = phone_time(recorded_at, now)
    # Theirs now, or on the day it was checked: a cover's check made on the last day of the cover
    # and synced the day after is kept.
    if ticket is None or not (may_check(steward, ticket) or may_check(steward, ticket, checked_at)):
        raise NotFound(_l("This repair does not exist or is not yours to check."))
    if not passed and not note:
        message = _l("Say what is still wrong.")
        raise Rejected(message, {"note": [message]})
    existing = _stored(session, uuid)  # a twin request may have stored it while this one waited
    if existing is not None:
        return _again(existing, steward, fingerprint)

    record = TicketVerification(
        uuid=uuid, ticket_id=ticket.id, by_id=steward.id, passed=passed, note=note[:1000], photo_uuid=photo_uuid,
        recorded_at=checked_at, received_at=now, applied=ticket.status is TicketStatus.REPAIRED,
        content_sha256=fingerprint,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the same UUID arrived twice at once: the other request stored it
        session.rollback()
        existing = _stored(session, uuid)
        if existing is None:
            raise Conflict(_l("This check was stored at the same moment by another request.")) from None
        return _again(existing, steward, fingerprint)
    if record.applied:
        tickets.verify(ticket, steward, passed=passed, note=note, now=checked_at)
    else:
        ticket.events.append(TicketEvent(
            kind="late_verification", by_id=steward.id, from_status=ticket.status, to_status=ticket.status,
            note=note[:1000], data={"uuid": uuid, "passed": passed, "recorded_at": checked_at.isoformat()},
        ))
    session.flush()
    return record


@steward_tasks.connect
def _repair_checks(session: Session, *, steward: User) -> dict:
    """The public repairs waiting for the steward's check on site."""
    return {"checks": tasks_for(session, steward)}
