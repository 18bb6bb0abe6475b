"""What every decoration step shares: who may act on which unit, the lookups that say "not yours"
alike for missing and foreign records, the unit's process log, and the office's numbering.

Every function works in the caller's transaction and raises a refusal (app/refusals.py) before it
changes anything, so a refusal leaves nothing half-done."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access import DECORATION_READERS
from ..models import (
    DecorationCounter,
    DecorationEvent,
    DecorationPermit,
    Estate,
    FloodTest,
    MaterialRequest,
    PermitStatus,
    Role,
    Unit,
    UnitState,
    User,
    Violation,
)
from ..refusals import Conflict, NotFound, Rejected
from ..rounds import schedule

HOURS_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
RETURN_STATES = (UnitState.OCCUPIED, UnitState.RENTED, UnitState.VACANT)
MAX_WORKERS = 999
MAX_DEPOSIT = Decimal("99999999.99")  # Numeric(10, 2)
# A refused material request the desk has not settled within this long goes to the supervisor.
MATERIAL_SETTLE_HOURS = 24


def refuse(message, field: str | None = None) -> Rejected:  # noqa: ANN001
    return Rejected(message, {field: [message]} if field else {})


def now_or_utc(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def log_event(session: Session, unit_id: int, kind: str, by: User | None, *, permit: DecorationPermit | None = None,
              note: str = "", at: datetime | None = None, **links) -> DecorationEvent:
    event = DecorationEvent(unit_id=unit_id, kind=kind, by_id=by.id if by else None, note=(note or "")[:1000],
                            at=now_or_utc(at), permit=permit, **{k: v for k, v in links.items() if k.endswith("_id")},
                            data={k: v for k, v in links.items() if not k.endswith("_id")})
    session.add(event)
    return event


def in_scope(user: User, unit: Unit, when: datetime | None = None) -> bool:
    """Stewards, desk, supervisors and the gate: the units of the buildings they cover at `when`
    (default now; a steward covering a colleague's leave covers their units on its days)."""
    # A user assigned to some buildings of an estate sees those buildings' units, not the estate's.
    return user.role in DECORATION_READERS and user.can_see_unit(unit, when)


def in_scope_now_or_then(user: User, unit: Unit, then: datetime) -> bool:
    """A step from the phone: the unit is the user's now, or was when the step was taken (a cover's
    check made on the last day of the cover and synced the day after is kept)."""
    return in_scope(user, unit) or in_scope(user, unit, then)


def unit_for(session: Session, user: User, unit_id: int | None) -> Unit:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None or not in_scope(user, unit):
        raise NotFound(_l("This unit does not exist or is not yours."))
    return unit


def active_permit(session: Session, unit_id: int) -> DecorationPermit | None:
    return session.scalars(sa.select(DecorationPermit).where(
        DecorationPermit.unit_id == unit_id, DecorationPermit.status == PermitStatus.ACTIVE)).first()


def permit_for(session: Session, user: User, permit_id: int) -> DecorationPermit:
    permit = session.get(DecorationPermit, permit_id)
    if permit is None or not in_scope(user, permit.unit):
        raise NotFound(_l("This decoration registration does not exist or is not yours."))
    return permit


def violation_for(session: Session, user: User, violation_id: int) -> Violation:
    violation = session.get(Violation, violation_id)
    if violation is None or user.role is Role.GATE or not in_scope(user, violation.unit):
        raise NotFound(_l("This violation does not exist or is not yours."))
    return violation


def numbered(session: Session, prefix: str, estate: Estate, now: datetime) -> str:
    """PREFIX-YYYYMMDD-NN, numbered per local day across estates (like repair tickets): the day's
    counter row is locked (PostgreSQL) so two numberings at once queue up; SQLite's BEGIN
    IMMEDIATE already serialises writers."""
    day = schedule.local_date(estate, now)
    query = sa.select(DecorationCounter).where(DecorationCounter.prefix == prefix, DecorationCounter.day == day)
    counter = session.scalars(query.with_for_update()).first()
    if counter is None:
        try:
            with session.begin_nested():
                counter = DecorationCounter(prefix=prefix, day=day, last=0)
                session.add(counter)
        except IntegrityError:  # another request made today's counter first
            counter = session.scalars(query.with_for_update()).one()
    counter.last += 1
    return f"{prefix}-{day:%Y%m%d}-{counter.last:02d}"


def step_uuid_free(session: Session, user: User, own: FloodTest | MaterialRequest, column, uuid: str,  # noqa: ANN001
                   not_found) -> None:  # noqa: ANN001 - a lazy string
    """A step's UUID (a neighbour check, a flood test's result, a material decision) already stored on
    another record: a conflict if that record is one the steward may act on, else not found, so a UUID
    tells nothing of records outside the user's units. Asked right after the record is found, before a
    step sent again is answered (the unique index keeps the two apart) and before anything is written,
    so a reused UUID never reaches the index and the phone, the desk's import and the web page get the
    same answer."""
    model = column.class_
    other = session.scalars(sa.select(model).where(column == uuid, model.id != own.id).limit(1)).first()
    if other is None:
        return
    if user.role is not Role.STEWARD or not in_scope(user, other.unit):
        raise NotFound(not_found)
    raise Conflict(_l("This ID was already used for another record."))
