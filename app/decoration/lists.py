"""The lists of the decoration pages (二次裝修) and the gate's page, read without a request.

The steward's lists (their decorating units, re-checks, material decisions) and the supervisor's
escalations live beside the rules (permits.py, violations.py); these are what the office and the gate
read. Each is scoped to the user's units in its query (a user assigned to some buildings of an
estate sees only those buildings' units), so a limited list is full and nothing is read to be
dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..access import DECORATION_READERS
from ..models import (
    OPEN_VIOLATION,
    Building,
    DecorationEvent,
    DecorationPermit,
    MaterialRequest,
    MaterialStatus,
    PermitStatus,
    Unit,
    User,
    Violation,
)
from ..rounds import schedule

# How many accepted registrations the decoration page shows under "finished lately".
RECENTLY_COMPLETED = 20
# Whatever the estate's time zone, a request of its local today was raised less than this long ago:
# the query reads no further back (except for the ones still waiting), the local day decides.
GATE_DAY_HOURS = 36


def _units_of(user: User) -> sa.ColumnElement[bool]:
    """The rows of the user's units (a query joined to Unit and Building), for the roles that read
    decoration records (decoration.in_scope's rule, in the query)."""
    return user.covered_buildings() if user.role in DECORATION_READERS else sa.false()


# The decoration page (desk, supervisors; stewards read)


def _with_units():  # noqa: ANN202
    """What a permit row of the page shows: its unit and building, its violations and flood tests."""
    return (selectinload(DecorationPermit.unit).selectinload(Unit.building),
            selectinload(DecorationPermit.violations), selectinload(DecorationPermit.flood_tests))


def active_permits(session: Session, user: User) -> list[DecorationPermit]:
    """The units decorating now (active registrations) in the user's units, by estate, building and room."""
    return list(session.scalars(
        sa.select(DecorationPermit).join(Unit).join(Building)
        .where(DecorationPermit.status == PermitStatus.ACTIVE, _units_of(user))
        .order_by(Building.estate_id, Building.position, Unit.room_number).options(*_with_units())))


def open_violations(session: Session, user: User) -> list[Violation]:
    """Violations not closed yet (stopped, noticed, escalated) in the user's units: the nearest
    rectification deadline first, those still without a notice (no deadline) last."""
    return list(session.scalars(
        sa.select(Violation).join(Unit, Violation.unit_id == Unit.id).join(Building)
        .where(Violation.status.in_(OPEN_VIOLATION), _units_of(user))
        .order_by(Violation.deadline.is_(None), Violation.deadline, Violation.id)
        .options(selectinload(Violation.unit).selectinload(Unit.building), selectinload(Violation.estate))))


def overdue(violations: list[Violation], now: datetime) -> set[int]:
    """The ids of those whose deadline has passed, by each estate's local day (the deadline day itself is not late)."""
    return {v.id for v in violations if v.deadline is not None and v.deadline < schedule.local_date(v.estate, now)}


def recently_completed(session: Session, user: User) -> list[DecorationPermit]:
    """The last registrations of the user's units to pass final acceptance (完工驗收), newest first."""
    return list(session.scalars(
        sa.select(DecorationPermit).join(Unit).join(Building)
        .where(DecorationPermit.status == PermitStatus.COMPLETED, _units_of(user))
        .order_by(DecorationPermit.accepted_at.desc()).limit(RECENTLY_COMPLETED).options(*_with_units())))


def unit_permits(session: Session, unit: Unit) -> list[DecorationPermit]:
    """A unit's registrations, active, completed or cancelled, newest first (the caller checked the unit)."""
    return list(session.scalars(sa.select(DecorationPermit).where(DecorationPermit.unit_id == unit.id)
                                .order_by(DecorationPermit.id.desc())))


def units_free_to_register(session: Session, user: User) -> list[Unit]:
    """The user's units without an active registration, by estate, building and room: the choices
    of a new registration."""
    busy = sa.select(DecorationPermit.unit_id).where(DecorationPermit.status == PermitStatus.ACTIVE)
    return list(session.scalars(
        sa.select(Unit).join(Building).where(_units_of(user), Unit.id.not_in(busy))
        .order_by(Building.estate_id, Building.position, Unit.room_number)
        .options(selectinload(Unit.building).selectinload(Building.estate))))


def permit_materials(session: Session, permit: DecorationPermit) -> list[MaterialRequest]:
    """The material entry requests under a registration, in the order the gate raised them."""
    return list(session.scalars(sa.select(MaterialRequest).where(MaterialRequest.permit_id == permit.id)
                                .order_by(MaterialRequest.id)))


def violation_events(session: Session, violation: Violation) -> list[DecorationEvent]:
    """A violation's history (found, notice, calls, re-checks, escalation), in the order it happened."""
    return list(session.scalars(sa.select(DecorationEvent).where(DecorationEvent.violation_id == violation.id)
                                .order_by(DecorationEvent.id)))


# The gate's page and the desk's refused requests


def material_destinations(session: Session, user: User) -> list[DecorationPermit]:
    """The active registrations of the user's units, by building and room: where materials may go."""
    return list(session.scalars(
        sa.select(DecorationPermit).join(Unit, DecorationPermit.unit_id == Unit.id).join(Building)
        .where(DecorationPermit.status == PermitStatus.ACTIVE, _units_of(user))
        .order_by(Building.position, Building.name, Unit.room_number, DecorationPermit.id)
        .options(selectinload(DecorationPermit.unit).selectinload(Unit.building))))


def gate_requests(session: Session, user: User, now: datetime) -> list[MaterialRequest]:
    """The gate's answers for the user's units: requests raised today (each estate's local day) and
    any older one still waiting for the steward, newest first."""
    rows = session.scalars(
        sa.select(MaterialRequest).join(Unit, MaterialRequest.unit_id == Unit.id).join(Building)
        .where(_units_of(user),
               sa.or_(MaterialRequest.raised_at >= now - timedelta(hours=GATE_DAY_HOURS),
                      MaterialRequest.status == MaterialStatus.PENDING))
        .order_by(MaterialRequest.raised_at.desc(), MaterialRequest.id.desc())
        .options(selectinload(MaterialRequest.unit).selectinload(Unit.building),
                 selectinload(MaterialRequest.estate), selectinload(MaterialRequest.permit)))
    return [r for r in rows if r.status is MaterialStatus.PENDING
            or schedule.local_date(r.estate, r.raised_at) == schedule.local_date(r.estate, now)]


@dataclass(frozen=True)
class RequestsToSettle:
    refused: list[MaterialRequest]  # the desk contacts the owner
    escalated: list[MaterialRequest]  # the supervisor settles them


def requests_to_settle(session: Session, user: User) -> RequestsToSettle:
    """Refused material requests in the user's units waiting for the owner to be contacted, and those
    escalated to the supervisor, each in the order they were decided."""
    rows = list(session.scalars(
        sa.select(MaterialRequest).join(Unit, MaterialRequest.unit_id == Unit.id).join(Building)
        .where(_units_of(user), MaterialRequest.status.in_([MaterialStatus.REFUSED, MaterialStatus.ESCALATED]))
        .order_by(MaterialRequest.decided_at, MaterialRequest.id)
        .options(selectinload(MaterialRequest.unit).selectinload(Unit.contacts),
                 selectinload(MaterialRequest.unit).selectinload(Unit.building),
                 selectinload(MaterialRequest.permit), selectinload(MaterialRequest.estate),
                 selectinload(MaterialRequest.decided_by))))
    return RequestsToSettle([r for r in rows if r.status is MaterialStatus.REFUSED],
                            [r for r in rows if r.status is MaterialStatus.ESCALATED])
